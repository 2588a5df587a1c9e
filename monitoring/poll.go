package monitoring

import (
	"context"
	"time"
)

// A poll reaches the store in two steps: the fetch hands the servers to a
// PollWriter a page at a time (the store encodes, hashes and compares each
// page as it comes, so an account is never held whole), then Save records
// the poll's outcome, the snapshot, its changes and the acknowledgements
// they end, in one transaction.

// PollWriter is one poll of one account on its way to the store. Make one
// per poll; Save it once, or drop it.
type PollWriter interface {
	PageSink
	// Save stores the snapshot made of the pages, taken at p.PolledAt,
	// with the poll's outcome. ErrNotFound: the account was removed
	// meanwhile; ErrStalePoll: it got another API key.
	Save(ctx context.Context, p PollSuccess) (PollSaved, error)
}

// PollSaved tells what a stored poll found.
type PollSaved struct {
	Servers int // servers in the snapshot
	Changes int // changes recorded in the history (see Event)
	// HistoryErr says why the poll's changes could not be found, when
	// they could not (a stored page that would not read): the snapshot is
	// stored all the same, and the poll records no changes.
	HistoryErr error
	// FromChangelog: of Changes, those only Rackspace's changelog told of.
	FromChangelog int
	// AckErr says why the account's acknowledgements could not be settled
	// by this poll, when they could not: the poll is stored all the same,
	// and the next one settles them.
	AckErr error
}

// PollSuccess is what a good poll records.
type PollSuccess struct {
	KeyVersion int64 // the key the poll used; 0 skips the check
	// Fetched is what the fetch brought besides the pages: the token it
	// used and the rate budget, and whatever else the store keeps of a
	// poll (the poller hands it on as it is).
	Fetched  FetchResult
	PolledAt time.Time
	NextPoll time.Time
}

// PollFailure is what a failed poll records. The snapshot is left alone.
type PollFailure struct {
	KeyVersion int64  // the key the poll used; 0 skips the check
	Message    string // in words a person can act on
	Kind       string
	PolledAt   time.Time
	NextPoll   time.Time
	// Token, when not nil, is a token obtained before the failure, kept so
	// the next poll need not log in again.
	Token *Token
	// ForgetToken drops the stored token (when Token is nil), so the next
	// poll logs in afresh.
	ForgetToken bool
}

// FetchResult is one complete read of an account.
type FetchResult struct {
	// Token is the token used. It is new when the fetch logged in
	// (LoggedIn > 0).
	Token    Token
	LoggedIn int // logins the fetch made
	// Answered: Monitoring answered a request made with Token, with a page
	// or a fault other than 401. The token and its endpoint work, so a new
	// token is worth keeping even when the fetch failed.
	Answered bool
	// Unreached: the last Monitoring request got no answer at all (refused,
	// timed out, no such host). The endpoint itself may be wrong, and
	// Identity's catalog may list another one by now: the cached token is
	// dropped, so the next poll logs in afresh.
	Unreached bool
	Pages     int // upstream pages read
	RateLimit RateLimit
	// Extras: what was read besides the overview, as Reads asked.
	Extras Extras
}

// PageSink takes a fetch's servers a page at a time, each page once it has
// been read whole. It must not keep the slice it is given.
type PageSink interface {
	Page(servers []Server)
}

// Budget is the request budget as the fetch last saw it: the headers of
// its last answer, else what GET /limits said, else unknown.
func (r FetchResult) Budget() RateLimit {
	if r.RateLimit.Known {
		return r.RateLimit
	}
	if l := r.Extras.Limits; l.Done && l.Err == nil && l.Value.Rate.Known {
		return l.Value.Rate
	}
	return RateLimit{}
}
