package rackspace

import (
	"fmt"
	"time"

	"cmdash/monitoring"
)

// The upstream errors a person can act on. Each is its own type so callers
// can tell them apart with errors.As; each also names its monitoring kind
// (Kind) and words itself for the page (Describe), which is all the poller,
// the store and the metrics look at.

// AuthError: Identity refused the username or API key (401), or Monitoring
// still refused the token after one fresh login.
type AuthError struct {
	Status  int
	Message string
}

func (e *AuthError) Error() string {
	return fmt.Sprintf("rackspace rejected the credentials (%d): %s", e.Status, e.Message)
}

// Kind is monitoring.KindAuth.
func (e *AuthError) Kind() string { return monitoring.KindAuth }

// Describe words the error for the page.
func (e *AuthError) Describe() string {
	return "Rackspace rejected the username or API key. Check them in Settings."
}

// ForbiddenError: the account is disabled, needs MFA set up, or the user lacks
// the monitoring role (403).
type ForbiddenError struct {
	Status  int
	Type    string
	Message string
}

func (e *ForbiddenError) Error() string {
	return fmt.Sprintf("rackspace refused access (%d %s): %s", e.Status, e.Type, e.Message)
}

// Kind is monitoring.KindForbidden.
func (e *ForbiddenError) Kind() string { return monitoring.KindForbidden }

// Describe words the error for the page.
func (e *ForbiddenError) Describe() string {
	msg := "Rackspace refused access: the account may be disabled, need multi-factor setup, or lack the Monitoring role."
	if e.Message != "" {
		msg += " (" + e.Message + ")"
	}
	return msg
}

// ThrottledError: rate limited (413, 429, or 400 limitReached/rateLimitReached).
type ThrottledError struct {
	Status  int
	Type    string
	Message string
	// Wait is what Retry-After (or Reply-After) asked for; zero when the
	// upstream did not say how long to wait.
	Wait time.Duration
}

func (e *ThrottledError) Error() string {
	s := fmt.Sprintf("rackspace is rate limiting this account (%d %s)", e.Status, e.Type)
	if e.Wait > 0 {
		s += fmt.Sprintf(", retry after %s", e.Wait)
	}
	return s
}

// Kind is monitoring.KindThrottled.
func (e *ThrottledError) Kind() string { return monitoring.KindThrottled }

// RetryAfter is how long the upstream asked to wait (zero: it did not say).
func (e *ThrottledError) RetryAfter() time.Duration { return e.Wait }

// Describe words the error for the page.
func (e *ThrottledError) Describe() string {
	if e.Wait > 0 {
		return fmt.Sprintf("Rackspace is rate limiting this account; retrying in %s.", e.Wait.Round(time.Second))
	}
	return "Rackspace is rate limiting this account; retrying later."
}

// UnavailableError: 5xx, a timeout, a refused or reset connection, an
// answer broken off.
type UnavailableError struct {
	// Status is 0 when no HTTP answer arrived; the answer's status when it
	// was a 5xx, or when its body broke off (a 200 cut short).
	Status int
	// TimedOut, when not zero, is how long the request was given before a
	// deadline cut it off (Client.Timeout, the http.Client's own, or the
	// caller's): Rackspace did not answer, or not whole, in that time.
	TimedOut time.Duration
	Err      error
}

func (e *UnavailableError) Error() string {
	switch {
	case e.TimedOut > 0 && e.Status != 0:
		return fmt.Sprintf("rackspace's answer (%d) was cut off: timed out after %s reading the body", e.Status, roundWait(e.TimedOut))
	case e.TimedOut > 0:
		return fmt.Sprintf("rackspace did not answer: timed out after %s", roundWait(e.TimedOut))
	case e.Status != 0 && e.Status < 500:
		return fmt.Sprintf("rackspace's answer (%d) broke off: %v", e.Status, e.Err)
	case e.Status != 0:
		return fmt.Sprintf("rackspace is unavailable (%d): %v", e.Status, e.Err)
	}
	return fmt.Sprintf("rackspace is unreachable: %v", e.Err)
}

func (e *UnavailableError) Unwrap() error { return e.Err }

// Kind is monitoring.KindUnavailable.
func (e *UnavailableError) Kind() string { return monitoring.KindUnavailable }

// Describe words the error for the page.
func (e *UnavailableError) Describe() string {
	switch {
	case e.TimedOut > 0 && e.Status != 0:
		return fmt.Sprintf("Rackspace did not finish answering within %s (timed out); retrying.", roundWait(e.TimedOut))
	case e.TimedOut > 0:
		return fmt.Sprintf("Rackspace did not answer within %s (timed out); retrying.", roundWait(e.TimedOut))
	case e.Status != 0 && e.Status < 500:
		return "Rackspace's answer broke off (the connection failed); retrying."
	case e.Status != 0:
		return fmt.Sprintf("Rackspace is unavailable (HTTP %d); retrying.", e.Status)
	}
	return "Rackspace could not be reached (the connection was refused or failed); retrying."
}

// NoMonitoringEndpointError: Identity's catalog lists no Cloud Monitoring
// endpoint for the account, and the documented address tried instead could
// not be reached. It is not an outage to wait out but the account's
// catalog; each retry logs in afresh, so a corrected catalog is used.
type NoMonitoringEndpointError struct {
	URL string // the documented address that was tried
	Err error  // why it could not be reached
}

func (e *NoMonitoringEndpointError) Error() string {
	return fmt.Sprintf("identity's catalog lists no monitoring endpoint and %s is unreachable: %v", e.URL, e.Err)
}

func (e *NoMonitoringEndpointError) Unwrap() error { return e.Err }

// Kind is monitoring.KindUnavailable: nothing answered.
func (e *NoMonitoringEndpointError) Kind() string { return monitoring.KindUnavailable }

// Describe words the error for the page.
func (e *NoMonitoringEndpointError) Describe() string {
	return "Identity's service catalog lists no Cloud Monitoring endpoint for this account; tried the documented address " +
		e.URL + ", which could not be reached. Check that the account has Cloud Monitoring; retrying."
}

// BadResponseError: the upstream answered, but not with what the API
// documents (not JSON, truncated, wrong shape, too large, endless paging).
type BadResponseError struct {
	Reason string
	Err    error
}

func (e *BadResponseError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("rackspace sent a bad response: %s: %v", e.Reason, e.Err)
	}
	return "rackspace sent a bad response: " + e.Reason
}

func (e *BadResponseError) Unwrap() error { return e.Err }

// Kind is monitoring.KindBadResponse.
func (e *BadResponseError) Kind() string { return monitoring.KindBadResponse }

// Describe words the error for the page.
func (e *BadResponseError) Describe() string {
	return "Rackspace sent a response the dashboard could not read (" + e.Reason + "); retrying."
}

// APIError is any other fault the upstream reported (e.g. 400 badRequest, 404).
type APIError struct {
	Status  int
	Type    string
	Message string
	Details string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("rackspace error %d %s: %s", e.Status, e.Type, e.Message)
}

// Kind is monitoring.KindOther.
func (e *APIError) Kind() string { return monitoring.KindOther }

// Describe words the error for the page.
func (e *APIError) Describe() string {
	return fmt.Sprintf("Rackspace answered with an error (HTTP %d %s): %s", e.Status, e.Type, e.Message)
}
