package monitoring

import (
	"strconv"
	"strings"
	"time"
)

// Credentials are what a person types into settings.
type Credentials struct {
	Username string
	APIKey   string
}

// Token is an Identity token with what came with it. It is JSON-encodable
// so the store can seal it and the poller can reuse it after a restart.
type Token struct {
	ID       string `json:"id"`
	TenantID string `json:"tenant_id"`
	// Expires is when the token expires on this machine's clock: Identity's
	// "expires" moved by how far Identity's clock (its Date header) is from
	// ours, so a skewed clock on either side does not shorten or stretch it.
	Expires time.Time `json:"expires"`
	// RenewAt is when to log in again, on this machine's clock; zero for
	// tokens stored before it existed (renewed shortly before Expires).
	RenewAt  time.Time `json:"renew_at,omitzero"`
	Endpoint string    `json:"endpoint"` // the Monitoring base URL from the catalog
	// FallbackEndpoint: the catalog listed no Monitoring endpoint, and
	// Endpoint is the documented address built from the tenant.
	FallbackEndpoint bool `json:"fallback_endpoint,omitzero"`
}

// RateLimit is what the upstream said about the account's request budget
// on the last response.
type RateLimit struct {
	Limit     int    `json:"limit"`
	Used      int    `json:"used"`
	Remaining int    `json:"remaining"`
	Window    string `json:"window,omitempty"`
	Known     bool   `json:"known"`
}

// UsedFraction is the share of the window's budget already spent, 0 when unknown.
func (r RateLimit) UsedFraction() float64 {
	if !r.Known || r.Limit <= 0 {
		return 0
	}
	return float64(r.Used) / float64(r.Limit)
}

// SlowAbove is the share of the budget spent above which polls slow down.
const SlowAbove = 0.8

// WindowLength is how long the budget's window is, from Window ("24
// hours", "1 hour", "30 minutes", "2 days"); a day when not given or not
// understood.
func (r RateLimit) WindowLength() time.Duration {
	f := strings.Fields(strings.ToLower(r.Window))
	if len(f) == 2 {
		n, err := strconv.Atoi(f[0])
		unit := map[string]time.Duration{"second": time.Second, "minute": time.Minute, "hour": time.Hour, "day": 24 * time.Hour}[strings.TrimSuffix(f[1], "s")]
		if err == nil && n > 0 && unit > 0 {
			return time.Duration(n) * unit
		}
	}
	return 24 * time.Hour
}

// PollEvery is how often an account with budget r is polled when its poll
// interval is interval and a poll costs perPoll requests on average:
// interval, or, once more than SlowAbove of the budget is spent, slower,
// so that the requests remaining last a whole window (when it resets is
// not said: a window from now is the time that is safe). slowed says
// whether it is slower than interval. With nothing left it waits a whole
// window.
func (r RateLimit) PollEvery(interval time.Duration, perPoll float64) (every time.Duration, slowed bool) {
	if r.UsedFraction() <= SlowAbove {
		return interval, false
	}
	window := r.WindowLength()
	every = window
	if r.Remaining > 0 {
		every = min(time.Duration(float64(window)*max(perPoll, 1)/float64(r.Remaining)), window)
	}
	if every <= interval {
		return interval, false
	}
	return every, true
}
