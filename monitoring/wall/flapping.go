package wall

import (
	"context"
	"fmt"
	"time"

	"cmdash/monitoring"
)

// Flapping marks the alarms that changed state FlapChanges times or more
// within FlapWithin (the history, Rackspace's changelogs included, tells
// how often), so a tile's tooltip can say that its problem comes and goes.
// The model is valid a minute at most while any alarm flaps: the hour
// slides on.
type Flapping struct{}

// Load implements Overlay.
func (Flapping) Load(ctx context.Context, src Source, in *Input) error {
	f, err := src.Flapping(ctx, FlapWithin, FlapChanges)
	if err != nil {
		return fmt.Errorf("flapping alarms: %w", err)
	}
	in.Flapping = f
	return nil
}

// Apply implements Overlay.
func (Flapping) Apply(in *Input, _, m *Model, now time.Time) {
	if len(in.Flapping) == 0 {
		return
	}
	m.until(now.Add(time.Minute))
	byServer := make(map[ackKey][]monitoring.Flap, len(in.Flapping))
	for _, f := range in.Flapping {
		k := ackKey{f.AccountID, f.ServerID}
		byServer[k] = append(byServer[k], f)
	}
	for i := range m.Sections {
		sec := &m.Sections[i]
		for j := range sec.Tiles {
			t := &sec.Tiles[j]
			t.Flapping = byServer[ackKey{sec.AccountID, t.ID}]
		}
	}
}
