package monitoring

import (
	"errors"
	"time"
)

// User is a person who may sign in to the dashboard.
type User struct {
	ID        int64
	Username  string
	CreatedAt time.Time
	// SessionEpoch changes with the password: a session remembers the
	// epoch it was signed in under and ends when it differs.
	SessionEpoch int64
}

// APIToken is a bearer token for scripts; only its hash is stored.
type APIToken struct {
	ID         int64
	UserID     int64
	Username   string
	Name       string
	Prefix     string
	CreatedAt  time.Time
	LastUsedAt time.Time
}

// ErrBadPassword is a failed sign-in (unknown user or wrong password; the
// two are not told apart).
var ErrBadPassword = errors.New("wrong username or password")
