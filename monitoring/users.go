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
	// Role is what the user may do.
	Role Role
	// Origin is how the user signs in: OriginPassword, OriginProxy or
	// OriginOIDC (the latter two have no password).
	Origin string
}

// How a user signs in.
const (
	OriginPassword = "password"
	OriginProxy    = "proxy"
	OriginOIDC     = "oidc"
)

// APIToken is a bearer token for scripts; only its hash is stored.
type APIToken struct {
	ID         int64
	UserID     int64
	Username   string
	Name       string
	Prefix     string
	CreatedAt  time.Time
	LastUsedAt time.Time
	// Role, when set, narrows what the token may do below its owner's
	// role; NoRole means the owner's role.
	Role Role
}

// ErrLastAdmin refuses to remove, or take the role from, the last admin:
// someone must always be able to manage users.
var ErrLastAdmin = errors.New("the last admin keeps the admin role")

// ErrBadPassword is a failed sign-in (unknown user or wrong password; the
// two are not told apart).
var ErrBadPassword = errors.New("wrong username or password")
