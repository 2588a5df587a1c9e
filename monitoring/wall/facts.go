package wall

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"cmdash/monitoring"
)

// AccountFacts is what Rackspace says of one account besides the overview:
// its maintenance windows, its request budget, what nobody watches, and
// how each of those reads last went. The account page shows it.
type AccountFacts struct {
	AccountID   int64
	AccountName string
	// Windows are those open now and those opening within UpcomingWithin,
	// by when they open.
	Windows []monitoring.Suppression
	// Budget is the request budget as last seen; Every is how often the
	// account is polled with it, Slowed whether that is slower than the
	// poll interval (more than monitoring.SlowAbove spent).
	Budget monitoring.RateLimit
	Every  time.Duration
	Slowed bool
	// Blind are the alarms and servers nobody watches; PlansKnown says
	// whether the notification plans have been read (without them quiet
	// plans are not judged).
	Blind      []monitoring.BlindSpot
	PlansKnown bool
	Polled     bool // a snapshot exists
	Reads      map[monitoring.ReadKind]monitoring.ReadStatus
	Now        time.Time
}

// PerPoll is the requests one poll costs on average, reads besides the
// overview included: what budgets are paced by.
const PerPoll = 1.25

// Facts is the AccountFacts of account id. A *NotFoundError says it is not
// there.
func (s *Service) Facts(ctx context.Context, id int64) (*AccountFacts, error) {
	acct, err := s.src.Account(ctx, id)
	if errors.Is(err, monitoring.ErrNotFound) {
		return nil, &NotFoundError{"There is no such account."}
	}
	if err != nil {
		return nil, fmt.Errorf("account facts: %w", err)
	}
	now := s.now()
	f := &AccountFacts{AccountID: id, AccountName: acct.Name(), Budget: acct.Status.RateLimit, Now: now}
	f.Every, f.Slowed = f.Budget.PollEvery(s.opts.PollInterval, PerPoll)
	sups, err := s.src.AccountSuppressions(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("account facts: %w", err)
	}
	for _, w := range sups {
		if w.ActiveAt(now) {
			f.Windows = append(f.Windows, w)
		}
	}
	f.Windows = append(f.Windows, upcoming(sups, now, func(*monitoring.Suppression) bool { return true })...)
	slices.SortStableFunc(f.Windows, func(a, b monitoring.Suppression) int { return a.Start.Compare(b.Start) })
	if f.Reads, err = s.src.ReadStatuses(ctx, id); err != nil {
		return nil, fmt.Errorf("account facts: %w", err)
	}
	_, f.PlansKnown = f.Reads[monitoring.ReadPlans]
	f.PlansKnown = f.PlansKnown && !f.Reads[monitoring.ReadPlans].GoodAt.IsZero()
	plans, err := s.src.Plans(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("account facts: %w", err)
	}
	snap, err := s.src.Snapshot(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("account facts: %w", err)
	}
	if snap != nil {
		f.Polled = true
		f.Blind = monitoring.BlindSpots(snap.Servers, plans)
	}
	return f, nil
}

// The kinds of a Row of a maintenance window opening and closing.
const (
	KindMaintStart monitoring.EventKind = "maint_start"
	KindMaintEnd   monitoring.EventKind = "maint_end"
)

// windowRows are the timeline's rows for maintenance windows opened or
// closed since a time (zero: all known) and by now, of the accounts q
// matches.
func (s *Service) windowRows(ctx context.Context, m *Model, q Query, since time.Time) ([]Row, error) {
	all, err := s.src.Suppressions(ctx)
	if err != nil {
		return nil, fmt.Errorf("timeline: %w", err)
	}
	now := s.now()
	var out []Row
	for id, sups := range all {
		sec := m.Section(id)
		if sec == nil {
			continue
		}
		for i := range sups {
			w := &sups[i]
			if !q.MatchesChange(sec.Name, sec.Username, w.Title(), w.ID, "", "", "") {
				continue
			}
			for _, at := range []struct {
				kind monitoring.EventKind
				t    time.Time
			}{{KindMaintStart, w.Start}, {KindMaintEnd, w.End}} {
				if at.t.IsZero() || at.t.After(now) || at.t.Before(since) {
					continue
				}
				e := monitoring.Event{AccountID: id, At: at.t, RecordedAt: at.t, Kind: at.kind, ServerLabel: w.Title()}
				out = append(out, Row{Recent: Recent{Event: e, Account: sec.Name}, Window: w})
			}
		}
	}
	return out, nil
}
