package handlers

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"time"

	"cmdash/monitoring"
)

// Cluster is the dashboard's place among the nodes of a LiteFS cluster
// (see Options.Cluster): a replica serves what the primary wrote and hands
// every request that writes to the primary.
type Cluster interface {
	// Replica reports whether this node is a read-only replica, and then
	// the primary's host name as LiteFS knows it.
	Replica() (primary string, ok bool)
	// Position is the ID of the last transaction in the local database.
	Position() (uint64, error)
	// CatchUp returns once the local database has reached txid and what the
	// store remembers of it is current, or with ctx's error.
	CatchUp(ctx context.Context, txid uint64) error
	// Lag is how far the local database is behind the primary, as far as
	// this node can tell; 0 on the primary.
	Lag() time.Duration
}

const (
	// forwardedHeader marks a request a replica handed to the primary: the
	// primary answers it (never hands it on) and says in positionHeader how
	// far its database has come, so that the replica can wait until it has
	// the write before answering.
	forwardedHeader = "X-Dashboard-Forwarded"
	positionHeader  = "X-Dashboard-Position"
	// catchUpWait is how long a replica waits for a write it forwarded to
	// arrive before answering anyway.
	catchUpWait = 5 * time.Second
	// txidCookie carries the primary's position after a user's write to
	// their next requests, for a short while: a replica that serves one of
	// them first waits (up to readWait) until it has that write, however
	// the write reached the primary (fly-replay included).
	txidCookie = "dashboard_txid"
	readWait   = 2 * time.Second
)

// writes reports whether a request may write to the database: every method
// but GET, HEAD and OPTIONS, and the single sign-on round trip, whose GETs
// keep state in the session.
func writes(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return r.URL.Path == "/auth/oidc" || strings.HasPrefix(r.URL.Path, "/auth/oidc/")
	}
	return true
}

// firstProxySignIn reports whether a request comes with a sign-in proxy's
// user this dashboard has not met yet: the user is created at the first
// request, so that one must be served by the primary.
func (h *Handler) firstProxySignIn(r *http.Request) bool {
	name, ok := h.proxyUser(r)
	if !ok {
		return false
	}
	_, err := h.store.UserByName(r.Context(), name)
	return errors.Is(err, monitoring.ErrNotFound)
}

// replicaWrites sends what writes to the primary when this node is a
// replica: with Fly.io's fly-replay header, through a reverse proxy to the
// primary's address, or, when neither is set up, with a clear 503. On the
// primary it marks the answers to writes with its position.
func (h *Handler) replicaWrites(next http.Handler) http.Handler {
	c := h.opts.Cluster
	if c == nil {
		return next
	}
	proxy := &httputil.ReverseProxy{
		ErrorLog: slog.NewLogLogger(h.log.Handler(), slog.LevelWarn),
		Transport: &http.Transport{
			Proxy:                 nil, // the primary is a neighbour: never through an outbound proxy
			DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			ResponseHeaderTimeout: 20 * time.Second,
			IdleConnTimeout:       90 * time.Second,
			MaxIdleConnsPerHost:   16,
		},
		Rewrite: func(pr *httputil.ProxyRequest) {
			target, _ := pr.In.Context().Value(primaryTargetKey{}).(*url.URL)
			pr.SetURL(target)
			pr.Out.Host = pr.In.Host // cross-origin checks and redirects see the address the user used
			pr.SetXForwarded()
			// The client's address as this replica sees it (TrustProxy
			// included), never a header the client made up.
			pr.Out.Header.Del("Fly-Client-IP")
			pr.Out.Header.Set("X-Forwarded-For", h.clientIP(pr.In))
			if h.opts.ProxyHeader != "" && !h.trustedPeer(pr.In) {
				pr.Out.Header.Del(h.opts.ProxyHeader)
			}
			pr.Out.Header.Set(forwardedHeader, "1")
		},
		ModifyResponse: func(resp *http.Response) error {
			pos := resp.Header.Get(positionHeader)
			resp.Header.Del(positionHeader)
			txid, err := strconv.ParseUint(pos, 16, 64)
			if err != nil || txid == 0 {
				return nil
			}
			// Read your writes: the page the user is sent to next is served
			// here, so it must show what they just did.
			ctx, cancel := context.WithTimeout(resp.Request.Context(), catchUpWait)
			defer cancel()
			if err := c.CatchUp(ctx, txid); err != nil {
				h.log.Warn("replica: a forwarded write has not arrived", "txid", pos, "err", err)
			}
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			primary, _ := c.Replica()
			h.log.Error("replica: the primary cannot be reached", "primary", primary, "method", r.Method, "path", logPath(r.URL.Path), "err", err)
			h.unavailable(w, r, "This change must be made on the primary ("+primary+"), which cannot be reached just now. Nothing was changed; try again in a moment.")
		},
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		primary, replica := c.Replica()
		if !replica {
			if writes(r) {
				w = &positionWriter{ResponseWriter: w, c: c, header: r.Header.Get(forwardedHeader) != "", secure: h.opts.SecureCookies}
			}
			next.ServeHTTP(w, r)
			return
		}
		if !writes(r) && !h.firstProxySignIn(r) {
			h.awaitOwnWrite(r, c)
			next.ServeHTTP(w, r)
			return
		}
		switch {
		case r.Header.Get(forwardedHeader) != "":
			// Handed on by a node that took this one for the primary: a
			// role change is under way. Never hand it on again.
			h.unavailable(w, r, "The primary is changing; nothing was changed. Try again in a moment.")
		case primary == "":
			h.unavailable(w, r, "This change must be made on the primary, and no primary can be reached just now. Nothing was changed; try again in a moment.")
		case h.opts.FlyReplay:
			// Fly's proxy replays the whole request on the primary machine.
			w.Header().Set("Fly-Replay", "instance="+primary)
			w.WriteHeader(http.StatusConflict)
		case h.opts.PrimaryURL != "":
			target, err := primaryTarget(h.opts.PrimaryURL, primary)
			if err != nil {
				h.log.Error("replica: no address for the primary", "primary_url", h.opts.PrimaryURL, "primary", primary, "err", err)
				h.unavailable(w, r, "This change must be made on the primary ("+primary+"); this dashboard cannot make out its address.")
				return
			}
			proxy.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), primaryTargetKey{}, target)))
		default:
			h.unavailable(w, r, "This dashboard is a read-only replica: make changes on the primary ("+primary+").")
		}
	})
}

// primaryTarget is the primary's address: tmpl with {primary} standing for
// its host name, which must be a plain host name or address.
func primaryTarget(tmpl, primary string) (*url.URL, error) {
	if strings.ContainsAny(primary, "/@?#\\%[] \t\r\n") {
		return nil, errors.New("the primary's name is not a host name")
	}
	u, err := url.Parse(strings.ReplaceAll(tmpl, "{primary}", primary))
	if err != nil {
		return nil, err
	}
	if u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, errors.New("not an http(s) address")
	}
	return u, nil
}

// awaitOwnWrite holds a request whose user has just written on the primary
// (txidCookie) until this replica has that write, for at most readWait.
func (h *Handler) awaitOwnWrite(r *http.Request, c Cluster) {
	ck, err := r.Cookie(txidCookie)
	if err != nil {
		return
	}
	txid, err := strconv.ParseUint(ck.Value, 16, 64)
	if err != nil || txid == 0 {
		return
	}
	if pos, err := c.Position(); err == nil && pos >= txid {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), readWait)
	defer cancel()
	_ = c.CatchUp(ctx, txid) // late: the page shows what the replica has
}

type primaryTargetKey struct{}

// unavailable answers 503 with msg: in the API's envelope for the API, as
// text otherwise.
func (h *Handler) unavailable(w http.ResponseWriter, r *http.Request, msg string) {
	w.Header().Set("Retry-After", "5")
	if strings.HasPrefix(r.URL.Path, "/api/") {
		apiError(w, r, http.StatusServiceUnavailable, msg)
		return
	}
	http.Error(w, msg, http.StatusServiceUnavailable)
}

// positionWriter adds the primary's position to the answer to a write,
// read when the status is written (after the handler and the session have
// committed): as a header for the replica that forwarded it, and as a
// short-lived cookie for the user's next requests (see txidCookie).
type positionWriter struct {
	http.ResponseWriter
	c      Cluster
	header bool // forwarded by a replica
	secure bool
	wrote  bool
}

func (w *positionWriter) WriteHeader(code int) {
	if !w.wrote {
		w.wrote = true
		if txid, err := w.c.Position(); err == nil && txid > 0 {
			v := strconv.FormatUint(txid, 16)
			if w.header {
				w.Header().Set(positionHeader, v)
			}
			http.SetCookie(w, &http.Cookie{Name: txidCookie, Value: v, Path: "/", MaxAge: 10,
				HttpOnly: true, Secure: w.secure, SameSite: http.SameSiteLaxMode})
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *positionWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *positionWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
