package wall

import (
	"context"
	"fmt"
	"time"

	"cmdash/monitoring"
)

// Acks shows acknowledgements: a problem server acknowledged as a whole,
// or each of whose problem alarms is, is Acked (shown muted, counted
// apart, ordered after the others of its state); its alarms acknowledged
// one by one are counted on its tile. The model is valid until the first
// acknowledgement in force expires.
type Acks struct{}

// Load implements Overlay.
func (Acks) Load(ctx context.Context, src Source, in *Input) error {
	acks, err := src.ActiveAcks(ctx)
	if err != nil {
		return fmt.Errorf("acknowledgements: %w", err)
	}
	in.Acks = acks
	return nil
}

// Apply implements Overlay.
func (Acks) Apply(in *Input, _, m *Model, now time.Time) {
	acks, expiry := indexAcks(in.Acks, now)
	m.until(expiry)
	if len(acks) == 0 {
		return
	}
	for i := range m.Sections {
		sec := &m.Sections[i]
		for j := range sec.Tiles {
			t := &sec.Tiles[j]
			if sa, ok := acks[ackKey{sec.AccountID, t.ID}]; ok {
				t.Acked, t.AckedAlarms, t.Ack = sa.acked(t.Counts, t.Worst), sa.alarms, sa.shown
			}
		}
	}
}

// ackKey names a server of an account.
type ackKey struct {
	account int64
	server  string
}

// serverAcks are the acknowledgements in force for one server.
type serverAcks struct {
	whole  bool             // the server itself is acknowledged
	upTo   monitoring.State // ... while it is no worse than this (its state when acknowledged)
	alarms int              // alarms acknowledged one by one
	shown  *monitoring.Ack  // the one the tile tells of: the server's, else the latest alarm's
}

// indexAcks groups the acknowledgements in force at now by server, and
// returns the first expiry to come (zero when none).
func indexAcks(acks []monitoring.Ack, now time.Time) (map[ackKey]serverAcks, time.Time) {
	if len(acks) == 0 {
		return nil, time.Time{}
	}
	out := make(map[ackKey]serverAcks, len(acks))
	var next time.Time
	for _, a := range acks {
		if !a.Active() || !a.ExpiresAt.IsZero() && !now.Before(a.ExpiresAt) {
			continue
		}
		if !a.ExpiresAt.IsZero() && (next.IsZero() || a.ExpiresAt.Before(next)) {
			next = a.ExpiresAt
		}
		k := ackKey{a.AccountID, a.ServerID}
		sa := out[k]
		if a.WholeServer() || sa.shown == nil || !sa.shown.WholeServer() && a.CreatedAt.After(sa.shown.CreatedAt) {
			sa.shown = &a
		}
		if a.WholeServer() {
			upTo := a.StateAtAck
			if upTo == "" {
				upTo = monitoring.StateCritical // not known: no limit
			}
			if !sa.whole || upTo.Worse(sa.upTo) {
				sa.upTo = upTo
			}
			sa.whole = true
		} else {
			sa.alarms++
		}
		out[k] = sa
	}
	return out, next
}

// acked reports whether a server with counts c and worst state worst is
// acknowledged: it has problems, and the server is acknowledged (and no
// worse than then) or each of its problem alarms is. An alarm
// acknowledgement in force stands for a counted alarm that is not OK (it
// ends in the very write of the poll that finds the alarm otherwise), so
// counting them is enough. A server gone worse than when acknowledged
// ends its acknowledgement in that write too; the state check stays as a
// rule of its own.
func (sa serverAcks) acked(c monitoring.Counts, worst monitoring.State) bool {
	problems := c.Problems()
	return problems > 0 && (sa.whole && !worst.Worse(sa.upTo) || sa.alarms >= problems)
}
