package monitoring

import (
	"errors"
	"fmt"
	"time"
)

// The upstream errors a person can act on. Each is its own type so the UI,
// the poller and the metrics can tell them apart with errors.As.

// AuthError: Identity refused the username or API key (401), or Monitoring
// still refused the token after one fresh login.
type AuthError struct {
	Status  int
	Message string
}

func (e *AuthError) Error() string {
	return fmt.Sprintf("rackspace rejected the credentials (%d): %s", e.Status, e.Message)
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

// ThrottledError: rate limited (413, 429, or 400 limitReached/rateLimitReached).
// RetryAfter is zero when the upstream did not say how long to wait.
type ThrottledError struct {
	Status     int
	Type       string
	Message    string
	RetryAfter time.Duration
}

func (e *ThrottledError) Error() string {
	s := fmt.Sprintf("rackspace is rate limiting this account (%d %s)", e.Status, e.Type)
	if e.RetryAfter > 0 {
		s += fmt.Sprintf(", retry after %s", e.RetryAfter)
	}
	return s
}

// UnavailableError: 5xx, a timeout, a refused or reset connection.
type UnavailableError struct {
	Status int // 0 when no HTTP response arrived
	Err    error
}

func (e *UnavailableError) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("rackspace is unavailable (%d): %v", e.Status, e.Err)
	}
	return fmt.Sprintf("rackspace is unreachable: %v", e.Err)
}

func (e *UnavailableError) Unwrap() error { return e.Err }

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

// Error kinds, stable words for metrics labels and the API.
const (
	KindAuth        = "auth"
	KindForbidden   = "forbidden"
	KindThrottled   = "throttled"
	KindUnavailable = "unavailable"
	KindBadResponse = "bad_response"
	KindOther       = "other"
)

// ErrorKind classifies err into one of the Kind constants.
func ErrorKind(err error) string {
	var (
		auth  *AuthError
		forb  *ForbiddenError
		thr   *ThrottledError
		unav  *UnavailableError
		badr  *BadResponseError
		apiEr *APIError
	)
	switch {
	case errors.As(err, &auth):
		return KindAuth
	case errors.As(err, &forb):
		return KindForbidden
	case errors.As(err, &thr):
		return KindThrottled
	case errors.As(err, &unav):
		return KindUnavailable
	case errors.As(err, &badr):
		return KindBadResponse
	case errors.As(err, &apiEr):
		return KindOther
	}
	return KindOther
}

// Describe words err for a person looking at the dashboard: what happened
// and what to do about it. It never includes credentials.
func Describe(err error) string {
	if err == nil {
		return ""
	}
	var (
		auth  *AuthError
		forb  *ForbiddenError
		thr   *ThrottledError
		unav  *UnavailableError
		badr  *BadResponseError
		apiEr *APIError
	)
	switch {
	case errors.As(err, &auth):
		return "Rackspace rejected the username or API key. Check them in Settings."
	case errors.As(err, &forb):
		msg := "Rackspace refused access: the account may be disabled, need multi-factor setup, or lack the Monitoring role."
		if forb.Message != "" {
			msg += " (" + forb.Message + ")"
		}
		return msg
	case errors.As(err, &thr):
		if thr.RetryAfter > 0 {
			return fmt.Sprintf("Rackspace is rate limiting this account; retrying in %s.", thr.RetryAfter.Round(time.Second))
		}
		return "Rackspace is rate limiting this account; retrying later."
	case errors.As(err, &unav):
		if unav.Status != 0 {
			return fmt.Sprintf("Rackspace is unavailable (HTTP %d); retrying.", unav.Status)
		}
		return "Rackspace could not be reached (timeout or connection refused); retrying."
	case errors.As(err, &badr):
		return "Rackspace sent a response the dashboard could not read (" + badr.Reason + "); retrying."
	case errors.As(err, &apiEr):
		return fmt.Sprintf("Rackspace answered with an error (HTTP %d %s): %s", apiEr.Status, apiEr.Type, apiEr.Message)
	}
	return "Polling failed: " + err.Error()
}
