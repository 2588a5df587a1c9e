package handlers

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// loginLimiter slows down guessing. Failed sign-ins are counted per
// (username, address) pair and per address; once a pair or an address has
// used its free failures within 15 minutes, its next attempt must wait 30
// seconds, then twice as long after each further failure, up to 5 minutes.
// Nothing is counted per username alone: a count any address can drive up
// would let anyone lock a user out, the right password included.
type loginLimiter struct {
	mu    sync.Mutex
	fails map[string]*failures
	now   func() time.Time
}

// failures counts a throttle's failed sign-ins and says when the last was.
type failures struct {
	count int
	last  time.Time
}

// throttle is one count an attempt is checked against.
type throttle struct {
	key  string
	free int // failures allowed before the waits start
}

const (
	// pairFreeFailures: one address guessing one user's password.
	pairFreeFailures = 5
	// addrFreeFailures: one address guessing across usernames. Higher than
	// the pair's, so that people sharing an office's address who mistype
	// their own passwords do not lock each other out.
	addrFreeFailures = 20
	failWindow       = 15 * time.Minute
	firstLockout     = 30 * time.Second
	maxLockout       = 5 * time.Minute
)

// newLoginLimiter is a limiter that has counted nothing yet.
func newLoginLimiter() *loginLimiter {
	return &loginLimiter{fails: map[string]*failures{}, now: time.Now}
}

// pairThrottle counts the sign-ins of username from addr. A sign-in is
// checked against its pair's count and its address's (addrThrottle).
func pairThrottle(username, addr string) throttle {
	return throttle{key: "pair:" + addr + "\x00" + strings.ToLower(username), free: pairFreeFailures}
}

// addrThrottle counts the sign-ins from addr, whatever the username.
func addrThrottle(addr string) throttle {
	return throttle{key: "addr:" + addr, free: addrFreeFailures}
}

// attempt either refuses a sign-in attempt, saying how long to wait and
// which throttle refused it (the one with the longest wait), or counts it
// (as a failure until succeed takes it back) and lets it through. Checking
// and counting under one lock means parallel guesses cannot all pass the
// check before the first of them fails.
func (l *loginLimiter) attempt(ts ...throttle) (time.Duration, throttle) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	var longest time.Duration
	var by throttle
	for _, t := range ts {
		f := l.fails[t.key]
		if f == nil || now.Sub(f.last) > failWindow || f.count < t.free {
			continue
		}
		lock := min(firstLockout<<min(f.count-t.free, 4), maxLockout)
		if wait := f.last.Add(lock).Sub(now); wait > longest {
			longest, by = wait, t
		}
	}
	if longest > 0 {
		return longest, by
	}
	for _, t := range ts {
		f := l.fails[t.key]
		if f == nil || now.Sub(f.last) > failWindow {
			f = &failures{}
			l.fails[t.key] = f
		}
		f.count++
		f.last = now
	}
	if len(l.fails) > 100_000 { // bound memory under a spray of usernames
		for k, f := range l.fails {
			if now.Sub(f.last) > failWindow {
				delete(l.fails, k)
			}
		}
	}
	return 0, throttle{}
}

// succeed records a correct password: the pair's failures are forgiven,
// and this attempt is taken off the address's count. Failures for other
// usernames from that address stay counted, so an address cannot clear its
// count by signing in to an account of its own between guesses.
func (l *loginLimiter) succeed(pair, addr throttle) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.fails, pair.key)
	if f := l.fails[addr.key]; f != nil {
		if f.count--; f.count <= 0 {
			delete(l.fails, addr.key)
		}
	}
}

// clientIP is the address failed sign-ins are counted against. Behind a
// reverse proxy (TrustProxy) every request comes from the proxy, so the
// address the proxy saw is used: Fly-Client-IP, else the last
// X-Forwarded-For entry (the one our proxy appended).
func (h *Handler) clientIP(r *http.Request) string {
	if h.opts.TrustProxy {
		if ip := strings.TrimSpace(r.Header.Get("Fly-Client-IP")); ip != "" {
			return ip
		}
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			parts := strings.Split(xff[len(xff)-1], ",")
			if ip := strings.TrimSpace(parts[len(parts)-1]); ip != "" {
				return ip
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// throttleAddr is what failed sign-ins are counted against for a client
// address: an IPv4 address as it is, an IPv6 address by its /64. One host
// is commonly given a whole /64, so counting single IPv6 addresses would
// give it a fresh count for every guess.
func throttleAddr(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	if a = a.Unmap(); a.Is4() {
		return a.String()
	}
	p, err := a.WithZone("").Prefix(64)
	if err != nil {
		return ip
	}
	return p.String()
}
