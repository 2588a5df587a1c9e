package monitoring

import "time"

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
