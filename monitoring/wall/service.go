package wall

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Service keeps the current model: it is rebuilt when the source's
// generation advances or a time-dependent fact changes, not per request, and
// its Version advances only when what it shows changed.
type Service struct {
	src      Source
	opts     Options
	now      func() time.Time
	overlays []Overlay

	cur atomic.Pointer[built]
	mu  sync.Mutex // one rebuild at a time; guards the overlays

	wake     chan struct{} // asks Watch to look now (see Wake)
	notifyMu sync.Mutex
	notify   chan struct{} // closed when the version next advances (see Changed)
}

type built struct {
	model *Model
	gen   uint64 // the source generation it was built from
}

// NewService returns a service reading from src.
func NewService(src Source, opts Options) *Service {
	return &Service{src: src, opts: opts, now: time.Now, overlays: newOverlays(opts),
		wake: make(chan struct{}, 1), notify: make(chan struct{})}
}

// Changed returns a channel that is closed when the model's Version next
// advances: what the pages show changed. Ask again after it closes.
func (s *Service) Changed() <-chan struct{} {
	s.notifyMu.Lock()
	defer s.notifyMu.Unlock()
	return s.notify
}

// advanced tells those waiting on Changed.
func (s *Service) advanced() {
	s.notifyMu.Lock()
	close(s.notify)
	s.notify = make(chan struct{})
	s.notifyMu.Unlock()
}

// Wake asks Watch to bring the model up to date now rather than at its
// next tick: the store calls it when it has stored a change.
func (s *Service) Wake() {
	select {
	case s.wake <- struct{}{}:
	default: // a look is already asked for
	}
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
	var before *Model
	if prev != nil {
		before = prev.model
	}
	m := build(&in, before, now, s.opts, s.overlays)
	switch {
	case prev == nil:
		m.Version = 1
	case m.sameShown(prev.model):
		m.Version = prev.model.Version
	default:
		m.Version = prev.model.Version + 1
	}
	s.cur.Store(&built{model: m, gen: gen})
	if prev == nil || m.Version != prev.model.Version {
		s.advanced()
	}
	return m, nil
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
	// The snapshots are read before any overlay's input: a poll settles
	// its acknowledgements in the write that stores it, so acknowledgements
	// read after its snapshot are never older than it.
	for _, o := range s.overlays {
		if err := o.Load(ctx, s.src, &in); err != nil {
			return in, fmt.Errorf("wall: %w", err)
		}
	}
	return in, nil
}

// Watch keeps the model current, checking every interval and whenever
// Wake asks, until ctx ends, so that changes are seen (and marked, and
// told to open pages through Changed) when they are stored, not when the
// next page is asked for, and no request waits for a rebuild. A check
// while nothing changed costs two atomic loads.
func (s *Service) Watch(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := s.Current(ctx); err != nil && ctx.Err() == nil && s.opts.OnError != nil {
			s.opts.OnError(err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.wake:
		}
	}
}
