// Package poller keeps every account's snapshot fresh: it polls each
// account when due, through a Fetcher (package rackspace is the real one),
// and records every outcome in a Store, backing off after failures.
package poller

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"cmdash/monitoring"
)

// MinPollInterval is the shortest poll interval allowed: Rackspace states
// change at most once per check period (30 s or more) and each account has a
// daily request budget.
const MinPollInterval = 10 * time.Second

// DefaultConcurrency is how many accounts are polled at once unless
// configured: a poll spends nearly all its time waiting on Rackspace, so
// every account of a large deployment can be in flight together.
const DefaultConcurrency = 256

// maxBackoff caps the wait after repeated failures that ask for a long
// one: a refused key, a spent budget.
const maxBackoff = 10 * time.Minute

// shortBackoffs: a failure of Rackspace itself (a server error, a timeout,
// an answer that would not read) is retried within this many poll
// intervals, so a wall is current again soon after Rackspace recovers.
const shortBackoffs = 2

// How often each read besides the overview is made (see monitoring.Reads).
// A failed read is tried again after at most retryReadsAfter.
const (
	SuppressionsEvery = 5 * time.Minute
	ChangelogsEvery   = 5 * time.Minute
	LimitsEvery       = time.Hour
	PlansEvery        = time.Hour
	retryReadsAfter   = 5 * time.Minute
)

// perPoll is the requests a poll of one overview page costs on average,
// the reads besides it included (624 a day over 2,880 polls); each page
// more costs one more.
const perPoll = 1.25

// PollObserver is told about every poll (metrics hook). It must be fast.
type PollObserver interface {
	ObservePoll(account string, d time.Duration, err error, rl monitoring.RateLimit)
}

// Store is what the poller needs of the store: the accounts due, their
// credentials, and a place to record each poll's outcome.
type Store interface {
	// PollAccount: the account, its credentials and its cached token.
	PollAccount(ctx context.Context, id int64) (monitoring.Account, monitoring.Credentials, *monitoring.Token, error)
	DueAccounts(ctx context.Context, now time.Time) ([]int64, error)
	NextDue(ctx context.Context) (time.Time, error)
	SetNextPoll(ctx context.Context, id int64, at time.Time) error
	// BeginPoll starts a poll's snapshot; the poller saves it on success.
	BeginPoll(ctx context.Context, id int64) (monitoring.PollWriter, error)
	SavePollFailure(ctx context.Context, id int64, f monitoring.PollFailure) error
	// ReadStatuses: how each read besides the overview last went.
	ReadStatuses(ctx context.Context, id int64) (map[monitoring.ReadKind]monitoring.ReadStatus, error)
}

// Fetcher reads one account's complete overview, handing its servers to
// sink a page at a time. It reuses cached when it is still good and logs in
// otherwise.
type Fetcher interface {
	FetchInto(ctx context.Context, cr monitoring.Credentials, cached *monitoring.Token, sink monitoring.PageSink) (monitoring.FetchResult, error)
	// ReadBesides makes the reads besides the overview that reads asks
	// for, with the token of res (a fetch that just succeeded), into
	// res.Extras; a new login and the budget it saw go into res too.
	ReadBesides(ctx context.Context, cr monitoring.Credentials, reads monitoring.Reads, res *monitoring.FetchResult)
}

// Poller keeps every enabled account's snapshot fresh in the background.
type Poller struct {
	store       Store
	fetcher     Fetcher
	interval    time.Duration
	concurrency int
	log         *slog.Logger
	observer    PollObserver
	now         func() time.Time

	wake chan struct{}
	// lastLoop is when the loop last went round (Unix nanoseconds): it
	// wakes at least once a second, so an old value means it is stuck.
	lastLoop atomic.Int64

	mu       sync.Mutex
	inFlight map[int64]bool
	// again: accounts whose "Refresh now" came while they were being
	// polled; they are polled once more when that poll ends.
	again map[int64]bool
	// seen: accounts polled well since the poller started; the first good
	// poll of each reads the changelogs for the time it was away.
	seen map[int64]bool
	// windows: accounts whose maintenance windows are read at their next
	// good poll, whenever they were last read ("Refresh now").
	windows map[int64]bool
}

// Config configures a Poller.
type Config struct {
	Interval    time.Duration // per account; at least MinPollInterval
	Concurrency int           // accounts polled at once; default DefaultConcurrency
	Logger      *slog.Logger
	Observer    PollObserver
	Now         func() time.Time // the clock; time.Now when nil
}

// New returns a poller; Run starts it.
func New(store Store, fetcher Fetcher, cfg Config) *Poller {
	if cfg.Interval <= 0 {
		cfg.Interval = 30 * time.Second
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	p := &Poller{
		store: store, fetcher: fetcher, interval: cfg.Interval, concurrency: cfg.Concurrency,
		log: cfg.Logger, observer: cfg.Observer, now: cfg.Now,
		wake: make(chan struct{}, 1), inFlight: map[int64]bool{}, again: map[int64]bool{},
		seen: map[int64]bool{}, windows: map[int64]bool{},
	}
	p.ran() // the clock starts now: a loop that never starts is stuck too
	return p
}

// LastLoop is when the poll loop last went round, or when the poller was
// made if Run has not started. The loop goes round at least once a second
// (and whenever it hands a due account to a free slot), so a LastLoop
// minutes old means the poller is stuck or stopped.
func (p *Poller) LastLoop() time.Time { return time.Unix(0, p.lastLoop.Load()) }

func (p *Poller) ran() { p.lastLoop.Store(p.now().UnixNano()) }

// Run polls due accounts until ctx is done, then waits for polls in flight.
func (p *Poller) Run(ctx context.Context) error {
	// A run starts afresh (a node promoted again after a while reads the
	// changelogs for the time it was away) and counts as alive from now.
	p.mu.Lock()
	clear(p.seen)
	p.mu.Unlock()
	p.ran()
	var wg sync.WaitGroup
	defer wg.Wait()
	sem := make(chan struct{}, p.concurrency)
	p.stagger(ctx)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		case <-p.wake:
		}
		p.ran()
		ids, err := p.store.DueAccounts(ctx, p.now())
		if err != nil && ctx.Err() == nil {
			p.log.Error("poller: listing due accounts", "err", err)
		}
		for _, id := range ids {
			if !p.claim(id) {
				continue
			}
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				p.release(id)
				return nil
			}
			p.ran() // a slot came free: waiting for one is progress, not a wedge
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				defer func() {
					if p.release(id) && ctx.Err() == nil {
						// The poll just recorded its next time; the
						// refresh asked for while it ran comes first.
						_ = p.store.SetNextPoll(ctx, id, p.now())
						p.Wake()
					}
				}()
				_ = p.Poll(ctx, id)
			}()
		}
		timer.Reset(p.untilNext(ctx))
	}
}

// untilNext is how long to sleep: until the next account is due, at most a
// second and at least 250 ms, so an account still in flight does not make
// the loop spin (new accounts and "refresh now" wake it at once).
func (p *Poller) untilNext(ctx context.Context) time.Duration {
	next, err := p.store.NextDue(ctx)
	if err != nil || next.IsZero() {
		return time.Second
	}
	d := next.Sub(p.now())
	return min(max(d, 250*time.Millisecond), time.Second)
}

// stagger spreads accounts that are all due at start (a restart after a
// pause) over the interval, so they do not fire at once. The snapshots from
// before the restart are shown meanwhile.
func (p *Poller) stagger(ctx context.Context) {
	now := p.now()
	ids, err := p.store.DueAccounts(ctx, now)
	if err != nil || len(ids) <= p.concurrency {
		return
	}
	step := min(p.interval/time.Duration(len(ids)), 2*time.Second)
	for i, id := range ids {
		_ = p.store.SetNextPoll(ctx, id, now.Add(time.Duration(i)*step))
	}
}

func (p *Poller) claim(id int64) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.inFlight[id] {
		return false
	}
	p.inFlight[id] = true
	return true
}

// release ends an account's poll and reports whether a refresh was asked
// for while it ran.
func (p *Poller) release(id int64) (again bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.inFlight, id)
	again = p.again[id]
	delete(p.again, id)
	return again
}

// RefreshNow makes an account due at once and wakes the loop. When the
// account is being polled right now, that poll may have started before
// whatever prompted the refresh and would schedule its successor an
// interval (or a back-off) away: the account is then polled again as soon
// as that poll ends.
func (p *Poller) RefreshNow(ctx context.Context, id int64) error {
	p.mu.Lock()
	if p.inFlight[id] {
		p.again[id] = true
	}
	p.windows[id] = true
	p.mu.Unlock()
	if err := p.store.SetNextPoll(ctx, id, p.now()); err != nil {
		return err
	}
	p.Wake()
	return nil
}

// Wake makes the loop look for due accounts now.
func (p *Poller) Wake() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// Poll fetches one account's overview and records the outcome. On failure
// the last good snapshot stays, the error is recorded in words, and the next
// attempt backs off exponentially (at least as long as Retry-After asks).
func (p *Poller) Poll(ctx context.Context, id int64) error {
	acct, cr, tok, err := p.store.PollAccount(ctx, id)
	if err != nil {
		if acct.ID != 0 { // the account is there, but its key would not open
			p.record(ctx, acct, err, nil, false, 0)
		}
		return err
	}
	w, err := p.store.BeginPoll(ctx, id)
	if err != nil {
		p.record(ctx, acct, err, nil, false, 0)
		return err
	}
	start := p.now()
	res, err := p.fetcher.FetchInto(ctx, cr, tok, w)
	took := p.now().Sub(start)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err() // shutting down: not the account's fault
		}
		// A new token is kept only when Monitoring answered it: a token
		// whose endpoint never answered would pin that endpoint until the
		// token expires, since only a 401 makes a new login. One whose
		// endpoint gave no answer at all is dropped, so the next poll logs
		// in and reads the catalog again.
		var newTok *monitoring.Token
		if res.LoggedIn > 0 && res.Answered && !res.Unreached {
			newTok = &res.Token
		}
		p.record(ctx, acct, err, newTok, res.Unreached, took)
		return err
	}
	if reads := p.readsDue(ctx, acct); reads.Any() {
		p.fetcher.ReadBesides(ctx, cr, reads, &res)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		p.logExtras(acct, &res.Extras)
	}
	now := p.now()
	every, _ := res.Budget().PollEvery(p.interval, float64(max(res.Pages, 1))+perPoll-1)
	saved, err := w.Save(ctx, monitoring.PollSuccess{
		KeyVersion: acct.KeyVersion, Fetched: res, PolledAt: now, NextPoll: now.Add(p.jitter(every)),
	})
	switch {
	case err == nil:
	case errors.Is(err, monitoring.ErrNotFound), errors.Is(err, monitoring.ErrStalePoll), ctx.Err() != nil:
		return err // removed, re-keyed or shutting down: nothing to record
	default:
		// The data came but could not be stored (disk full, database busy):
		// record it like any failure, so the account backs off instead of
		// being due again at once, and keep the token for the retry.
		p.log.Error("poller: saving snapshot", "account", acct.Username, "err", err)
		if res.Extras.Suppressions.Done { // read again with the retry
			p.mu.Lock()
			p.windows[id] = true
			p.mu.Unlock()
		}
		p.record(ctx, acct, fmt.Errorf("saving the snapshot: %w", err), &res.Token, false, took)
		return err
	}
	p.mu.Lock()
	p.seen[id] = true
	p.mu.Unlock()
	if p.observer != nil {
		p.observer.ObservePoll(acct.Username, took, nil, res.Budget())
	}
	if saved.AckErr != nil {
		p.log.Error("poller: the snapshot is stored but its acknowledgements are not settled", "account", acct.Username, "err", saved.AckErr)
	}
	if saved.HistoryErr != nil {
		p.log.Warn("poller: the snapshot is stored but its changes are not recorded", "account", acct.Username, "err", saved.HistoryErr)
	}
	p.log.Debug("polled", "account", acct.Username, "servers", saved.Servers, "pages", res.Pages,
		"changes", saved.Changes, "from_changelog", saved.FromChangelog, "logins", res.LoggedIn,
		"took", took.Round(time.Millisecond).String())
	if was := acct.Status.ErrorCount; was > 0 {
		p.log.Info(recoveredMessage(acct, now), "account", acct.Username, "failures", was,
			"failing_for", failingFor(acct, now).Round(time.Second).String())
	}
	return nil
}

// recoveredMessage says in words that acct, which had failed, was polled
// well at now: the line an operator reads when an outage ends.
func recoveredMessage(acct monitoring.Account, now time.Time) string {
	again, failures := "again", "failures"
	if acct.Status.LastSuccessAt.IsZero() {
		again = "for the first time"
	}
	if acct.Status.ErrorCount == 1 {
		failures = "failure"
	}
	return fmt.Sprintf("polled %s after %d %s, %s", again, acct.Status.ErrorCount, failures, humanDuration(failingFor(acct, now)))
}

// failingFor is how long acct went without a good poll: since its last
// one, or since it was added when it never had one.
func failingFor(acct monitoring.Account, now time.Time) time.Duration {
	since := acct.Status.LastSuccessAt
	if since.IsZero() {
		since = acct.CreatedAt
	}
	return max(now.Sub(since), 0)
}

// humanDuration is d as a person says it, to the unit that matters:
// "45 s", "12 min", "2 h 5 min", "3 d 4 h".
func humanDuration(d time.Duration) string {
	const day = 24 * time.Hour
	s, m, h := d.Round(time.Second), d.Round(time.Minute), d.Round(time.Hour)
	switch {
	case s < time.Minute:
		return fmt.Sprintf("%d s", s/time.Second)
	case m < time.Hour:
		return fmt.Sprintf("%d min", m/time.Minute)
	case m < day && m%time.Hour == 0:
		return fmt.Sprintf("%d h", m/time.Hour)
	case m < day:
		return fmt.Sprintf("%d h %d min", m/time.Hour, m%time.Hour/time.Minute)
	case h%day == 0:
		return fmt.Sprintf("%d d", h/day)
	default:
		return fmt.Sprintf("%d d %d h", h/day, h%day/time.Hour)
	}
}

// readsDue is what a good poll of acct reads besides the overview: each
// read when its time has come (a failed one sooner), the maintenance
// windows at once after "Refresh now", and the changelogs at the first
// good poll since the poller started and after failed polls, from where
// the last read ended (up to 30 days back: the client clamps).
func (p *Poller) readsDue(ctx context.Context, acct monitoring.Account) monitoring.Reads {
	st, err := p.store.ReadStatuses(ctx, acct.ID)
	if err != nil {
		p.log.Warn("poller: reading when the reads besides the overview were made", "account", acct.Username, "err", err)
		return monitoring.Reads{}
	}
	now := p.now()
	due := func(k monitoring.ReadKind, every time.Duration) bool {
		s, ok := st[k]
		if !ok || s.TriedAt.IsZero() {
			return true
		}
		if s.Err != "" {
			every = min(every, retryReadsAfter)
		}
		return now.Sub(s.TriedAt) >= every
	}
	p.mu.Lock()
	windows, seen := p.windows[acct.ID], p.seen[acct.ID]
	delete(p.windows, acct.ID)
	p.mu.Unlock()
	r := monitoring.Reads{
		Suppressions: windows || due(monitoring.ReadSuppressions, SuppressionsEvery),
		Limits:       due(monitoring.ReadLimits, LimitsEvery),
		Plans:        due(monitoring.ReadPlans, PlansEvery),
		Changelogs:   !seen || acct.Status.ErrorCount > 0 || due(monitoring.ReadChangelogs, ChangelogsEvery),
	}
	if r.Changelogs {
		// From where the last read ended; the first read of an account
		// starts at its last good poll (its first: now).
		r.ChangelogsFrom = st[monitoring.ReadChangelogs].Through
		if r.ChangelogsFrom.IsZero() {
			r.ChangelogsFrom = acct.Status.LastSuccessAt
		}
		if r.ChangelogsFrom.IsZero() {
			r.ChangelogsFrom = now
		}
	}
	return r
}

// logExtras logs the reads besides the overview that failed: the last
// good answer of each stays in use.
func (p *Poller) logExtras(acct monitoring.Account, x *monitoring.Extras) {
	for _, r := range []struct {
		kind monitoring.ReadKind
		err  error
	}{{monitoring.ReadSuppressions, x.Suppressions.Err}, {monitoring.ReadChangelogs, x.Changelogs.Err},
		{monitoring.ReadLimits, x.Limits.Err}, {monitoring.ReadPlans, x.Plans.Err}} {
		if r.err != nil {
			p.log.Warn("poller: a read besides the overview failed; the last good answer stays", "account", acct.Username,
				"read", string(r.kind), "err", r.err)
		}
	}
}

// jitter spreads polls by ±10 % so accounts drift apart instead of firing together.
func (p *Poller) jitter(d time.Duration) time.Duration {
	spread := int64(d / 10)
	if spread <= 0 {
		return d
	}
	return d - time.Duration(spread) + time.Duration(rand.Int64N(2*spread+1))
}

// maxRetryAfter bounds what an upstream Retry-After can impose.
const maxRetryAfter = time.Hour

// Backoff is the wait after the n-th consecutive failure (n ≥ 1) of kind
// (a monitoring Kind constant): the interval doubled per failure up to
// maxBackoff, or, for a failure of Rackspace itself (unavailable, a bad
// answer), up to shortBackoffs intervals; never below the interval
// itself, and at least retryAfter, which is capped at an hour.
func Backoff(interval time.Duration, n int, retryAfter time.Duration, kind string) time.Duration {
	limit := maxBackoff
	if kind == monitoring.KindUnavailable || kind == monitoring.KindBadResponse {
		limit = shortBackoffs * interval
	}
	d := interval
	for i := 1; i < n && d < limit; i++ {
		d *= 2
	}
	d = max(min(d, limit), interval)
	return max(d, min(retryAfter, maxRetryAfter))
}

// record saves a failed poll: tok, when not nil, replaces the stored token;
// forget drops it.
func (p *Poller) record(ctx context.Context, acct monitoring.Account, err error, tok *monitoring.Token, forget bool, took time.Duration) {
	now := p.now()
	kind := monitoring.ErrorKind(err)
	next := now.Add(Backoff(p.interval, acct.Status.ErrorCount+1, monitoring.RetryAfter(err), kind))
	serr := p.store.SavePollFailure(ctx, acct.ID, monitoring.PollFailure{
		KeyVersion: acct.KeyVersion, Message: monitoring.Describe(err), Kind: kind, PolledAt: now, NextPoll: next,
		Token: tok, ForgetToken: forget,
	})
	if errors.Is(serr, monitoring.ErrNotFound) || errors.Is(serr, monitoring.ErrStalePoll) {
		return // removed or re-keyed meanwhile: this failure is old news
	}
	if serr != nil && ctx.Err() == nil {
		p.log.Error("poller: recording failure", "account", acct.Username, "err", serr)
	}
	if p.observer != nil {
		p.observer.ObservePoll(acct.Username, took, err, monitoring.RateLimit{})
	}
	p.log.Warn("poll failed", "account", acct.Username, "kind", kind, "err", err,
		"failures", acct.Status.ErrorCount+1, "next_in", next.Sub(now).Round(time.Second).String())
}
