package monitoring

import (
	"strings"
	"time"
)

// Account is a Rackspace account as the dashboard knows it. It never holds
// the API key.
type Account struct {
	ID       int64
	Username string
	Alias    string
	Enabled  bool
	// KeyVersion changes with every new API key; a poll records its outcome
	// only if the key it used is still the account's key.
	KeyVersion int64
	CreatedAt  time.Time
	Status     PollStatus
}

// Name is what the dashboard calls the account: its alias, else its username.
func (a Account) Name() string {
	if strings.TrimSpace(a.Alias) != "" {
		return a.Alias
	}
	return a.Username
}

// PollStatus is the poller's bookkeeping for one account.
type PollStatus struct {
	LastPolledAt  time.Time
	LastSuccessAt time.Time
	LastError     string
	ErrorKind     string
	ErrorCount    int
	NextPollAt    time.Time
	RateLimit     RateLimit
}

// Filter is a saved search.
type Filter struct {
	ID        int64
	Name      string
	Query     string
	CreatedAt time.Time
}

// AccountUpdate changes an account; a nil APIKey keeps the old key.
type AccountUpdate struct {
	Alias   string
	APIKey  *string
	Enabled bool
	// Token replaces the cached token (set with a new key).
	Token *Token
}

// SameFilterName reports whether two saved filters' names are the same
// name: letter case aside, ASCII letters only, as the filters table's
// unique index (SQLite's NOCASE) compares them. "Été" and "été" are two
// names, to save and to delete.
func SameFilterName(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
