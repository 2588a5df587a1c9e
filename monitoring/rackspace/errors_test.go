package rackspace_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"cmdash/monitoring"
	"cmdash/monitoring/rackspace"
)

// The poller and the pages see Rackspace errors only through
// monitoring.ErrorKind, monitoring.Describe and monitoring.RetryAfter.
func TestErrorsClassifyAndDescribeThemselves(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		err   error
		kind  string
		words string
		retry time.Duration
	}{
		{"rejected credentials", &rackspace.AuthError{Status: 401, Message: "Unable to authenticate"},
			monitoring.KindAuth, "Rackspace rejected the username or API key. Check them in Settings.", 0},
		{"refused access with a message", &rackspace.ForbiddenError{Status: 403, Type: "userDisabled", Message: "User disabled"},
			monitoring.KindForbidden, "Rackspace refused access: the account may be disabled, need multi-factor setup, or lack the Monitoring role. (User disabled)", 0},
		{"refused access without one", &rackspace.ForbiddenError{Status: 403},
			monitoring.KindForbidden, "Rackspace refused access: the account may be disabled, need multi-factor setup, or lack the Monitoring role.", 0},
		{"throttled for a while", &rackspace.ThrottledError{Status: 429, Type: "rateLimitReached", Wait: 90 * time.Second},
			monitoring.KindThrottled, "Rackspace is rate limiting this account; retrying in 1m30s.", 90 * time.Second},
		{"throttled without saying how long", &rackspace.ThrottledError{Status: 413},
			monitoring.KindThrottled, "Rackspace is rate limiting this account; retrying later.", 0},
		{"a 5xx", &rackspace.UnavailableError{Status: 503, Err: errors.New("down")},
			monitoring.KindUnavailable, "Rackspace is unavailable (HTTP 503); retrying.", 0},
		{"no answer at all", &rackspace.UnavailableError{Err: errors.New("connection refused")},
			monitoring.KindUnavailable, "Rackspace could not be reached (the connection was refused or failed); retrying.", 0},
		{"no answer in time", &rackspace.UnavailableError{TimedOut: 30 * time.Second, Err: context.DeadlineExceeded},
			monitoring.KindUnavailable, "Rackspace did not answer within 30s (timed out); retrying.", 0},
		{"an answer not whole in time", &rackspace.UnavailableError{Status: 200, TimedOut: 1500 * time.Millisecond, Err: context.DeadlineExceeded},
			monitoring.KindUnavailable, "Rackspace did not finish answering within 1.5s (timed out); retrying.", 0},
		{"an answer broken off", &rackspace.UnavailableError{Status: 200, Err: errors.New("unexpected EOF")},
			monitoring.KindUnavailable, "Rackspace's answer broke off (the connection failed); retrying.", 0},
		{"an unreadable body", &rackspace.BadResponseError{Reason: "body truncated"},
			monitoring.KindBadResponse, "Rackspace sent a response the dashboard could not read (body truncated); retrying.", 0},
		{"any other fault", &rackspace.APIError{Status: 404, Type: "notFoundError", Message: "Object does not exist"},
			monitoring.KindOther, "Rackspace answered with an error (HTTP 404 notFoundError): Object does not exist", 0},
		{"a wrapped error keeps its words", fmt.Errorf("polling: %w", &rackspace.AuthError{Status: 401}),
			monitoring.KindAuth, "Rackspace rejected the username or API key. Check them in Settings.", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := monitoring.ErrorKind(tt.err); got != tt.kind {
				t.Errorf("kind = %q, want %q", got, tt.kind)
			}
			if got := monitoring.Describe(tt.err); got != tt.words {
				t.Errorf("described as %q, want %q", got, tt.words)
			}
			if got := monitoring.RetryAfter(tt.err); got != tt.retry {
				t.Errorf("retry after %s, want %s", got, tt.retry)
			}
		})
	}
}
