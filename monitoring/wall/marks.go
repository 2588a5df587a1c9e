package wall

import (
	"context"
	"strconv"
	"time"

	"cmdash/monitoring"
)

// Change says how a server's worst state changed lately, for the mark its
// tile carries (in words, not colour alone) and its place in the order.
type Change string

const (
	ChangeNone     Change = ""
	ChangeWorse    Change = "new"      // its worst state got worse (a new problem)
	ChangeResolved Change = "resolved" // back to OK
)

// DefaultChangeWindow is how long a tile stays marked after its worst state
// changed.
const DefaultChangeWindow = 10 * time.Minute

// mark is one server's latest change.
type mark struct {
	change Change
	at     time.Time
}

func tileKey(accountID int64, serverID string) string {
	return strconv.FormatInt(accountID, 10) + "/" + serverID
}

// changeOf is the mark for a change of worst state: a problem that eased
// but remains (CRITICAL → WARNING) is not news, and gets none.
func changeOf(from, to monitoring.State) Change {
	switch {
	case to.Worse(from):
		return ChangeWorse
	case to == monitoring.StateOK:
		return ChangeResolved
	}
	return ChangeNone
}

// marks compares a freshly built model with the one before it, remembers
// each server whose worst state changed (when the change was seen), forgets
// marks older than the window, and puts the live ones on m's tiles. The
// first model has nothing to compare with and gets no marks; neither does
// a server that appears. Only a section with data on both sides is
// compared (a failing poll changes nothing).
func (s *Service) applyMarks(prev, m *Model, now time.Time) {
	window := s.opts.ChangeWindow
	if window <= 0 {
		window = DefaultChangeWindow
	}
	if s.marks == nil {
		s.marks = map[string]mark{}
	}
	if prev != nil {
		for i := range m.Sections {
			sec := &m.Sections[i]
			old := prev.Section(sec.AccountID)
			if old == nil || !old.Polled || !sec.Polled {
				continue
			}
			was := make(map[string]monitoring.State, len(old.Tiles))
			for _, t := range old.Tiles {
				was[t.ID] = t.Worst
			}
			for _, t := range sec.Tiles {
				if from, ok := was[t.ID]; ok && from != t.Worst {
					k := tileKey(sec.AccountID, t.ID)
					if c := changeOf(from, t.Worst); c != ChangeNone {
						s.marks[k] = mark{change: c, at: now}
					} else {
						delete(s.marks, k) // a NEW that eased is no longer news
					}
				}
			}
		}
	}
	for k, mk := range s.marks {
		if !now.Before(mk.at.Add(window)) {
			delete(s.marks, k)
		}
	}
	if len(s.marks) == 0 {
		return
	}
	for i := range m.Sections {
		sec := &m.Sections[i]
		for j := range sec.Tiles {
			t := &sec.Tiles[j]
			if mk, ok := s.marks[tileKey(sec.AccountID, t.ID)]; ok {
				t.Change, t.ChangedAt = mk.change, mk.at
				m.until(mk.at.Add(window))
			}
		}
	}
}

// Watch keeps the model current, checking every interval until ctx ends, so
// that changes are seen (and marked) when they are stored, not when the
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
		}
	}
}
