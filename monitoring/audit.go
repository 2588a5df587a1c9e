package monitoring

import (
	"slices"
	"strings"
	"time"
)

// AuditEntry is one change someone made to the dashboard, or one sign-in,
// as the audit log keeps it. It never holds a secret: no API key, password,
// API token or wall link token, only what names them.
type AuditEntry struct {
	ID int64
	At time.Time
	// Actor is who did it: a user's name, "token NAME (user)" for an API
	// token, "" for nobody signed in. ActorKind says which (one of the
	// Actor… constants).
	Actor     string
	ActorKind string
	// Address is the client's address (the proxy's view of it when the
	// dashboard trusts one).
	Address string
	Action  string // one of the Audit… actions
	Target  string // what was changed: an account, a user, a token…
	Detail  string // how, in words
}

// Who does something, as an AuditEntry's ActorKind says.
const (
	ActorUser      = "user"
	ActorToken     = "token"
	ActorWallLink  = "wall link"
	ActorAnonymous = "anonymous"
)

// What was done, as an AuditEntry's Action says. The part before the dot
// is the action's kind (AuditKinds).
const (
	AuditAccountAdded    = "account.added"
	AuditAccountEdited   = "account.edited"
	AuditAccountDisabled = "account.disabled"
	AuditAccountEnabled  = "account.enabled"
	AuditAccountRemoved  = "account.removed"

	AuditUserAdded           = "user.added"
	AuditUserRoleChanged     = "user.role_changed"
	AuditUserRemoved         = "user.removed"
	AuditUserPasswordChanged = "user.password_changed"

	AuditTokenCreated = "token.created"
	AuditTokenRevoked = "token.revoked"

	AuditWallLinkCreated = "wall_link.created"
	AuditWallLinkRevoked = "wall_link.revoked"

	AuditAckCreated = "ack.created"
	AuditAckRemoved = "ack.removed"

	AuditFilterSaved   = "filter.saved"
	AuditFilterDeleted = "filter.deleted"

	AuditSignInSucceeded = "signin.succeeded"
	AuditSignInFailed    = "signin.failed"
	AuditSignOut         = "signout"
)

// AuditKind is a kind of action, to filter the audit log by: its name (in
// URLs and the API), its label (for people) and its actions.
type AuditKind struct {
	Name    string
	Label   string
	Actions []string
}

// AuditKinds are the kinds of action, in the order a form offers them.
var AuditKinds = []AuditKind{
	{"account", "account", []string{AuditAccountAdded, AuditAccountEdited, AuditAccountDisabled, AuditAccountEnabled, AuditAccountRemoved}},
	{"user", "user", []string{AuditUserAdded, AuditUserRoleChanged, AuditUserRemoved, AuditUserPasswordChanged}},
	{"token", "API token", []string{AuditTokenCreated, AuditTokenRevoked}},
	{"wall_link", "wall link", []string{AuditWallLinkCreated, AuditWallLinkRevoked}},
	{"ack", "acknowledgement", []string{AuditAckCreated, AuditAckRemoved}},
	{"filter", "filter", []string{AuditFilterSaved, AuditFilterDeleted}},
	{"signin", "sign-in", []string{AuditSignInSucceeded, AuditSignInFailed, AuditSignOut}},
}

// AuditActions is what an AuditQuery's Action selects: the actions of the
// kind so named, or the one action so named; ok is false when s is
// neither.
func AuditActions(s string) (actions []string, ok bool) {
	for _, k := range AuditKinds {
		if k.Name == s {
			return k.Actions, true
		}
		if slices.Contains(k.Actions, s) {
			return []string{s}, true
		}
	}
	return nil, false
}

// Limits of one AuditLog answer.
const (
	DefaultAuditLimit = 100
	MaxAuditLimit     = 1000
)

// AuditQuery selects audit entries; zero fields select everything.
type AuditQuery struct {
	// Actor is a user's name: what they did, themselves or with their API
	// tokens.
	Actor string
	// Action is an action ("account.added") or a kind of them ("account");
	// see AuditActions.
	Action string
	Since  time.Time // at or after this
	// Until is the latest time selected, itself included: a client paging
	// back passes the oldest time it has, gets the entries of that
	// millisecond again and skips those it has by ID, so that none is
	// lost between pages.
	Until time.Time
	// Limit is how many at most, the newest first: DefaultAuditLimit when
	// zero. The store puts no upper bound on it: callers do.
	Limit int
}

// ClipAudit trims s and cuts it after n characters, marking the cut with
// "…": an audit entry quotes what was typed (a note, a filter, a username
// tried at sign-in), and one long text should not make a long log.
func ClipAudit(s string, n int) string {
	s = strings.TrimSpace(s)
	if n <= 0 {
		return ""
	}
	i := 0
	for pos := range s {
		if i == n {
			return strings.TrimSpace(s[:pos]) + "…"
		}
		i++
	}
	return s
}
