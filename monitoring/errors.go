package monitoring

import (
	"errors"
	"time"
)

// Error kinds, stable words for metrics labels, the API and the store.
const (
	KindAuth        = "auth"
	KindForbidden   = "forbidden"
	KindThrottled   = "throttled"
	KindUnavailable = "unavailable"
	KindBadResponse = "bad_response"
	KindOther       = "other"
)

// The upstream client's errors classify themselves through these small
// interfaces, so the poller, the store and the pages need not know its types.
type (
	// kinded errors name their Kind constant.
	kinded interface{ Kind() string }
	// described errors word themselves for the page: what happened and
	// what to do, never credentials or internal detail.
	described interface{ Describe() string }
	// throttled errors say how long the upstream asked to wait.
	throttled interface{ RetryAfter() time.Duration }
)

// internalFailure is what the page says about an error that does not
// describe itself (a database or decryption failure): its text may name
// files, SQL or keys and the page may be public, so it goes to the log only.
const internalFailure = "Polling failed because of an internal error; the details are in the server log."

// ErrorKind classifies err into one of the Kind constants; an error that
// does not name its kind is KindOther.
func ErrorKind(err error) string {
	var k kinded
	if errors.As(err, &k) {
		return k.Kind()
	}
	return KindOther
}

// Describe words err for a person looking at the dashboard: what happened
// and what to do about it. An error that does not describe itself gets a
// fixed sentence; its own text is never shown.
func Describe(err error) string {
	if err == nil {
		return ""
	}
	var d described
	if errors.As(err, &d) {
		return d.Describe()
	}
	return internalFailure
}

// RetryAfter is how long err asks the poller to wait before the next
// attempt; zero when it does not say.
func RetryAfter(err error) time.Duration {
	var t throttled
	if errors.As(err, &t) {
		return t.RetryAfter()
	}
	return 0
}

// Store errors.
var (
	ErrNotFound  = errors.New("not found")
	ErrDuplicate = errors.New("already exists")
	// ErrStalePoll: the account got a new API key while the poll ran with
	// the old one; its outcome is not recorded.
	ErrStalePoll = errors.New("poll used a replaced API key")
)
