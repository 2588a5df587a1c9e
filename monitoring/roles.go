package monitoring

import (
	"fmt"
	"strings"
)

// Role is what a user, or a token acting for one, may do. Roles are
// ordered: each may do everything the one before it may.
type Role int8

const (
	// NoRole may do nothing: an unknown name, or a sign-in that is refused.
	NoRole Role = iota
	// Viewer sees what a signed-in user sees, wall links excepted, and
	// changes nothing but their own password.
	Viewer
	// Operator is a viewer who also acknowledges, saves filters, makes
	// wall links and asks for a poll now.
	Operator
	// Admin is an operator who also manages accounts (and so their API
	// keys), users and their roles, and API tokens.
	Admin
)

// Roles lists every role a user can have, the least first.
var Roles = []Role{Viewer, Operator, Admin}

// String is the role's name as forms, the database and the API spell it.
func (r Role) String() string {
	switch r {
	case Viewer:
		return "viewer"
	case Operator:
		return "operator"
	case Admin:
		return "admin"
	}
	return "none"
}

// Allows reports whether r may do what needs the role need.
func (r Role) Allows(need Role) bool { return r >= need && r > NoRole }

// Can says in words what a role adds to the one before it, for forms and
// for the page that refuses a request.
func (r Role) Can() string {
	switch r {
	case Viewer:
		return "see the wall, accounts, servers and history"
	case Operator:
		return "acknowledge, save filters, make wall links and poll now"
	case Admin:
		return "manage accounts, users, roles and API tokens"
	}
	return "nothing"
}

// ParseRole reads a role's name, in any case; "none" and "" are NoRole
// without error.
func ParseRole(s string) (Role, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "viewer":
		return Viewer, nil
	case "operator":
		return Operator, nil
	case "admin":
		return Admin, nil
	case "none", "":
		return NoRole, nil
	}
	return NoRole, fmt.Errorf("%q is not a role (viewer, operator, admin or none)", s)
}

// Narrower is the lesser of two roles: a token never does more than its
// owner, whatever it was made with.
func Narrower(a, b Role) Role { return min(a, b) }
