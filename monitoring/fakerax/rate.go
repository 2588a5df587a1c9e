package fakerax

import (
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// The account's daily request budget ("/*: 50,000 requests per 24 hours").
// Every authenticated Monitoring request counts, whatever its route or
// answer. The window is fixed, not rolling: it opens with the first counted
// request and lasts 24 hours; the next request after it opens a fresh one.
// A request once the budget is spent is not counted and answers 429
// rateLimitReached with Retry-After, the seconds until the window closes
// (with Fault.ReplyAfter: 400 limitReached with Reply-After, as the limits
// page of the docs says).
//
// GET /limits reports it, with the resource limits and the test-check and
// test-alarm budgets (never spent here).

const (
	defaultRateLimit = 50000
	rateWindow       = 24 * time.Hour
	rateWindowText   = "24 hours"
	testRateLimit    = 500   // test_check and test_alarm, per 24 hours
	checkLimit       = 1000  // resources per account, as documented
	alarmLimit       = 10000 //
)

// budget is where an account's budget stands.
type budget struct {
	limit, used int
	resets      time.Time // when the open window closes; zero when none is open
	spent       bool      // this request was refused: the budget is spent
}

// rollBudget closes the account's window once 24 hours have passed.
// s.mu is held.
func (a *account) rollBudget(now time.Time) {
	if !a.rateStart.IsZero() && !now.Before(a.rateStart.Add(rateWindow)) {
		a.rateStart, a.rateUsed = time.Time{}, 0
	}
}

func (a *account) budget() budget {
	b := budget{limit: a.rateLimit, used: a.rateUsed}
	if !a.rateStart.IsZero() {
		b.resets = a.rateStart.Add(rateWindow)
	}
	return b
}

// spend charges one request to the account, or refuses it when the budget
// is spent.
func (s *Server) spend(a *account, now time.Time) budget {
	s.mu.Lock()
	defer s.mu.Unlock()
	a.rollBudget(now)
	if a.rateUsed >= a.rateLimit {
		b := a.budget()
		b.spent = true
		return b
	}
	if a.rateStart.IsZero() {
		a.rateStart = now
	}
	a.rateUsed++
	return a.budget()
}

// peekBudget is where the budget stands, without spending any.
func (s *Server) peekBudget(a *account, now time.Time) budget {
	s.mu.Lock()
	defer s.mu.Unlock()
	a.rollBudget(now)
	return a.budget()
}

// SetRateUsed spends n requests of the account's budget at once, in the
// open window (opening one now if none is), so a test can reach the limit
// without making 50,000 requests. It fails for an unknown account.
func (s *Server) SetRateUsed(username string, n int) error {
	now := s.cfg.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.byUser[username]
	if a == nil {
		return fmt.Errorf("fakerax: no account %q", username)
	}
	a.rollBudget(now)
	if a.rateStart.IsZero() {
		a.rateStart = now
	}
	a.rateUsed = max(n, 0)
	return nil
}

// RateUsed reports the account's budget: requests spent in the open window
// and the limit (0, 0 for an unknown account).
func (s *Server) RateUsed(username string) (used, limit int) {
	now := s.cfg.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.byUser[username]
	if a == nil {
		return 0, 0
	}
	a.rollBudget(now)
	return a.rateUsed, a.rateLimit
}

// setRateHeaders writes the rate-limit headers. Their spelling follows the
// source of each reading: the docs' table says X-RateLimit-Used, real
// answers show X-Ratelimit-Remaining, each in its own letter case. Keys are
// set as written (not canonicalised) so the case reaches the wire; clients
// must read them case-insensitively.
func setRateHeaders(h http.Header, remaining bool, limit, used int) {
	prefix := "X-RateLimit-"
	if remaining {
		prefix = "X-Ratelimit-"
	}
	h[prefix+"Limit"] = []string{strconv.Itoa(limit)}
	if remaining {
		h[prefix+"Remaining"] = []string{strconv.Itoa(max(limit-used, 0))}
	} else {
		h[prefix+"Used"] = []string{strconv.Itoa(used)}
	}
	h[prefix+"Window"] = []string{rateWindowText}
	h[prefix+"Type"] = []string{"global"}
}

// writeBudgetSpent refuses a request once the budget is spent.
func (s *Server) writeBudgetSpent(w http.ResponseWriter, f Fault, b budget, now time.Time) {
	wait := b.resets.Sub(now)
	secs := max(int64((wait+time.Second-1)/time.Second), 1)
	if f.ReplyAfter {
		w.Header().Set("Reply-After", strconv.FormatInt(secs, 10))
		s.writeMonitoringFault(w, http.StatusBadRequest, "limitReached", 400, "Limit has been reached",
			fmt.Sprintf("Limit of %d requests per 24 hours has been reached", b.limit))
		return
	}
	w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
	s.writeMonitoringFault(w, http.StatusTooManyRequests, "rateLimitReached", "429", "Rate limit reached",
		map[string]any{"limit": b.limit, "used": b.used, "window": rateWindowText, "type": "global"})
}

type wireRate struct {
	Limit  int    `json:"limit"`
	Used   int    `json:"used"`
	Window string `json:"window"`
}

type wireLimits struct {
	Resource struct {
		Checks int `json:"checks"`
		Alarms int `json:"alarms"`
	} `json:"resource"`
	Rate struct {
		Global    wireRate `json:"global"`
		TestCheck wireRate `json:"test_check"`
		TestAlarm wireRate `json:"test_alarm"`
	} `json:"rate"`
}

// serveLimits answers GET /limits; "used" counts this request too.
func (s *Server) serveLimits(w http.ResponseWriter, r *http.Request, m *monReq) {
	if s.injectFault(w, m) {
		return
	}
	var v wireLimits
	v.Resource.Checks, v.Resource.Alarms = checkLimit, alarmLimit
	v.Rate.Global = wireRate{Limit: m.a.rateLimit, Used: m.used, Window: rateWindowText}
	v.Rate.TestCheck = wireRate{Limit: testRateLimit, Window: rateWindowText}
	v.Rate.TestAlarm = wireRate{Limit: testRateLimit, Window: rateWindowText}
	writeJSONBody(w, m.f, mustJSON(v))
}
