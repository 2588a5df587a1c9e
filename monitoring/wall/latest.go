package wall

import (
	"context"
	"fmt"
	"slices"
	"time"

	"cmdash/monitoring"
)

// RecentShown is how many of the latest changes the model keeps.
const RecentShown = 8

// Latest shows the latest recorded changes across accounts (Model.Recent),
// newest first by when they happened.
type Latest struct{}

// Load implements Overlay.
func (Latest) Load(ctx context.Context, src Source, in *Input) error {
	evs, err := src.RecentEvents(ctx, RecentShown)
	if err != nil {
		return fmt.Errorf("latest changes: %w", err)
	}
	in.Recent = evs
	return nil
}

// Apply implements Overlay.
func (Latest) Apply(in *Input, _, m *Model, _ time.Time) {
	m.Recent = byTime(in.Recent)
}

// byTime orders changes by when they happened, newest first. They are
// recorded in the order polls see them, and a change carries the
// upstream's (earlier) time, so the two orders differ within a few polls.
func byTime(evs []monitoring.Event) []monitoring.Event {
	out := slices.Clone(evs)
	slices.SortStableFunc(out, func(a, b monitoring.Event) int { return b.At.Compare(a.At) })
	return out
}
