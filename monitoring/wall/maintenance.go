package wall

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"cmdash/monitoring"
)

// Maintenance shows Rackspace's maintenance windows (suppressions). They
// mute notifications only: the alarms still go CRITICAL, so planned work
// would look like an emergency. A problem alarm named by a window open now
// is in maintenance; a problem server each of whose problem alarms is, is
// Maint: shown muted and marked MAINT, counted apart, placed after the
// open problems, never sounding. The model is valid until the next window
// opens or closes.
type Maintenance struct{}

// Load implements Overlay.
func (Maintenance) Load(ctx context.Context, src Source, in *Input) error {
	sups, err := src.Suppressions(ctx)
	if err != nil {
		return fmt.Errorf("maintenance windows: %w", err)
	}
	in.Windows = sups
	return nil
}

// Apply implements Overlay.
func (Maintenance) Apply(in *Input, _, m *Model, now time.Time) {
	for i := range m.Sections {
		sec := &m.Sections[i]
		sups := in.Windows[sec.AccountID]
		for _, s := range sups {
			if now.Before(s.Start) {
				m.until(s.Start)
			} else if now.Before(s.End) {
				m.until(s.End)
			}
		}
		for j := range sec.Tiles {
			t := &sec.Tiles[j]
			if len(t.Problems) == 0 || len(sups) == 0 && !listed(t.Problems) {
				continue
			}
			var windows map[string]*monitoring.Suppression
			for k := range t.Problems {
				a := &t.Problems[k]
				if w := monitoring.WindowFor(sups, t.ID, a, now); w != nil {
					if windows == nil {
						windows = map[string]*monitoring.Suppression{}
					}
					windows[a.ID] = w
					if t.Window == nil || w.End.After(t.Window.End) {
						t.Window = w
					}
				}
			}
			if windows == nil {
				continue
			}
			t.Suppressed, t.Windows = len(windows), windows
			t.Maint = len(windows) >= t.Counts.Problems()
			if !t.Maint {
				// Partly in maintenance: what needs someone is the open
				// problems, so the tile's state and since are theirs.
				openWorst(t, windows)
			}
			// The open problems first: they are what the tile must say.
			t.Problems = slices.Clone(t.Problems)
			slices.SortStableFunc(t.Problems, func(a, b monitoring.Alarm) int {
				_, am := windows[a.ID]
				_, bm := windows[b.ID]
				return cmp.Compare(b2i(am), b2i(bm))
			})
		}
	}
}

// openWorst sets t's worst state and since from its problems outside
// windows: the worst of them, and the oldest in that state.
func openWorst(t *Tile, windows map[string]*monitoring.Suppression) {
	worst, since := monitoring.StateOK, time.Time{}
	for _, a := range t.Problems {
		if windows[a.ID] != nil {
			continue
		}
		st := a.State.Norm()
		switch {
		case st.Worse(worst):
			worst, since = st, a.Since
		case st == worst && !a.Since.IsZero() && (since.IsZero() || a.Since.Before(since)):
			since = a.Since
		}
	}
	t.Worst, t.Since = worst, since
}

// listed reports whether the overview lists a window on any of alarms.
func listed(alarms []monitoring.Alarm) bool {
	for i := range alarms {
		if len(alarms[i].Suppressions) > 0 {
			return true
		}
	}
	return false
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
