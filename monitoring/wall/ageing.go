package wall

import (
	"context"
	"time"

	"cmdash/monitoring"
)

// DefaultOldAfter is how long a CRITICAL server may go unacknowledged
// before its tile is marked old.
const DefaultOldAfter = 15 * time.Minute

// Ageing marks a CRITICAL server that nobody has acknowledged for longer
// than After (DefaultOldAfter when zero) as Old: a problem that has waited
// too long, told apart on the wall from one that just began. The model is
// valid until the next tile turns old.
type Ageing struct {
	After time.Duration
}

// Load implements Overlay: ageing needs nothing but the tiles.
func (Ageing) Load(context.Context, Source, *Input) error { return nil }

// Apply implements Overlay.
func (g Ageing) Apply(_ *Input, _, m *Model, now time.Time) {
	after := g.After
	if after <= 0 {
		after = DefaultOldAfter
	}
	for i := range m.Sections {
		sec := &m.Sections[i]
		for j := range sec.Tiles {
			t := &sec.Tiles[j]
			if t.Worst != monitoring.StateCritical || t.Quiet() || t.Since.IsZero() {
				continue
			}
			turns := t.Since.Add(after)
			if now.Before(turns) {
				m.until(turns)
			} else {
				t.Old = true
			}
		}
	}
}
