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

// Marks marks each server whose worst state changed lately: it compares
// a freshly built model with the one before it, remembers each server whose
// worst state changed (and when that was seen), forgets marks older than
// Window, and puts the live ones on the tiles. The first model has nothing
// to compare with and gets no marks; neither does a server that appears.
// Only a section with data on both sides is compared (a failing poll
// changes nothing).
type Marks struct {
	Window time.Duration // DefaultChangeWindow when zero
	marks  map[string]mark
}

// Load implements Overlay: marks need nothing but the models.
func (*Marks) Load(context.Context, Source, *Input) error { return nil }

// Apply implements Overlay.
func (mk *Marks) Apply(_ *Input, prev, m *Model, now time.Time) {
	window := mk.Window
	if window <= 0 {
		window = DefaultChangeWindow
	}
	if mk.marks == nil {
		mk.marks = map[string]mark{}
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
						mk.marks[k] = mark{change: c, at: now}
					} else {
						delete(mk.marks, k) // a NEW that eased is no longer news
					}
				}
			}
		}
	}
	for k, v := range mk.marks {
		if !now.Before(v.at.Add(window)) {
			delete(mk.marks, k)
		}
	}
	if len(mk.marks) == 0 {
		return
	}
	for i := range m.Sections {
		sec := &m.Sections[i]
		for j := range sec.Tiles {
			t := &sec.Tiles[j]
			if v, ok := mk.marks[tileKey(sec.AccountID, t.ID)]; ok {
				t.Change, t.ChangedAt = v.change, v.at
				m.until(v.at.Add(window))
			}
		}
	}
}
