package wall

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"cmdash/monitoring"
)

// Source is where a model's input comes from: the store. Generation must
// advance with every change of what Load returns (a stored poll, an
// account or filter change).
type Source interface {
	Generation() uint64
	ListAccounts(ctx context.Context) ([]monitoring.Account, error)
	Summaries(ctx context.Context) (map[int64]*monitoring.Snapshot, error)
	ListFilters(ctx context.Context) ([]monitoring.Filter, error)
}

// RecentSource is a Source that also knows the latest recorded changes.
type RecentSource interface {
	RecentEvents(ctx context.Context, n int) ([]monitoring.Event, error)
}

// AckSource is a Source that knows acknowledgements (the store does); a
// Source without them builds models without acknowledgements.
type AckSource interface {
	ActiveAcks(ctx context.Context) ([]monitoring.Ack, error)
}

// Service keeps the current model: it is rebuilt when the source's
// generation advances or a time-dependent fact changes, not per request, and
// its Version advances only when what it shows changed.
type Service struct {
	src  Source
	opts Options
	now  func() time.Time

	cur atomic.Pointer[built]
	mu  sync.Mutex // one rebuild at a time; guards marks
	// marks are the servers whose worst state changed lately (see applyMarks).
	marks map[string]mark
}

type built struct {
	model *Model
	gen   uint64 // the source generation it was built from
}

// NewService returns a service reading from src.
func NewService(src Source, opts Options) *Service {
	return &Service{src: src, opts: opts, now: time.Now}
}

// SetClock replaces the clock (tests).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// Current returns the current model, rebuilding it first when the data
// changed since it was built.
func (s *Service) Current(ctx context.Context) (*Model, error) {
	b := s.cur.Load()
	if b != nil && b.gen == s.src.Generation() && b.model.ValidAt(s.now()) {
		return b.model, nil
	}
	// One caller rebuilds; while it does, the others go on with the model
	// they have rather than queue (a wall refresh that is a few
	// milliseconds behind a poll is not wrong, a stalled one is).
	if b != nil {
		if !s.mu.TryLock() {
			return b.model, nil
		}
	} else {
		s.mu.Lock()
	}
	defer s.mu.Unlock()
	// Read the generation before the data: a change made while loading
	// advances it again, and the next call rebuilds.
	gen := s.src.Generation()
	prev := s.cur.Load()
	now := s.now()
	if prev != nil && prev.gen == gen && prev.model.ValidAt(now) {
		return prev.model, nil // another caller rebuilt it meanwhile
	}
	in, err := s.load(ctx)
	if err != nil {
		return nil, err
	}
	m := Build(in, now, s.opts)
	var before *Model
	if prev != nil {
		before = prev.model
	}
	s.applyMarks(before, m, now)
	switch {
	case prev == nil:
		m.Version = 1
	case m.sameShown(prev.model):
		m.Version = prev.model.Version
	default:
		m.Version = prev.model.Version + 1
	}
	s.cur.Store(&built{model: m, gen: gen})
	return m, nil
}

// rebuilding reports whether a rebuild is under way (tests).
func (s *Service) rebuilding() bool {
	if s.mu.TryLock() {
		s.mu.Unlock()
		return false
	}
	return true
}

func (s *Service) load(ctx context.Context) (Input, error) {
	var in Input
	var err error
	if in.Accounts, err = s.src.ListAccounts(ctx); err != nil {
		return in, fmt.Errorf("wall: %w", err)
	}
	if in.Snapshots, err = s.src.Summaries(ctx); err != nil {
		return in, fmt.Errorf("wall: %w", err)
	}
	if in.Filters, err = s.src.ListFilters(ctx); err != nil {
		return in, fmt.Errorf("wall: %w", err)
	}
	if rs, ok := s.src.(RecentSource); ok {
		if in.Recent, err = rs.RecentEvents(ctx, RecentShown); err != nil {
			return in, fmt.Errorf("wall: %w", err)
		}
	}
	if as, ok := s.src.(AckSource); ok {
		if in.Acks, err = as.ActiveAcks(ctx); err != nil {
			return in, fmt.Errorf("wall: %w", err)
		}
	}
	return in, nil
}
