package sqlite

import (
	"context"
	"fmt"
	"time"

	"cmdash/monitoring"
)

// ProblemStarts finds, for each event in evs that ended a problem, when
// that problem began: walking back through the alarm's earlier changes,
// the change away from OK (or the alarm appearing or being enabled in a
// problem state) with nothing in between that ended a problem (a change to
// OK, the alarm disabled or gone). It is keyed by event ID; an event is
// missing when its problem began before the oldest history kept (or before
// the account was first polled).
func (s *Store) ProblemStarts(ctx context.Context, evs []monitoring.Event) (map[int64]time.Time, error) {
	out := map[int64]time.Time{}
	for i := range evs {
		e := &evs[i]
		if !e.Resolves() {
			continue
		}
		at, ok, err := s.problemStart(ctx, e)
		if err != nil {
			return nil, err
		}
		if ok {
			out[e.ID] = at
		}
	}
	return out, nil
}

// problemStartLookback bounds how many earlier changes of one alarm are
// read to find where its problem began.
const problemStartLookback = 50

func (s *Store) problemStart(ctx context.Context, e *monitoring.Event) (time.Time, bool, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT at, kind, from_state, to_state FROM events
		WHERE account_id = ? AND server_id = ? AND alarm_id = ? AND id < ?
		ORDER BY recorded_at DESC, id DESC LIMIT ?`, e.AccountID, e.ServerID, e.AlarmID, e.ID, problemStartLookback)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("problem starts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var at int64
		var kind, from, to string
		if err := rows.Scan(&at, &kind, &from, &to); err != nil {
			return time.Time{}, false, fmt.Errorf("problem starts: %w", err)
		}
		problem := to != "" && to != string(monitoring.StateOK)
		switch monitoring.EventKind(kind) {
		case monitoring.EventState:
			if !problem {
				return time.Time{}, false, rows.Close() // an earlier problem ended here
			}
			if from == string(monitoring.StateOK) || from == "" {
				return time.UnixMilli(at).UTC(), true, rows.Close()
			}
			// From one problem state to another: it began earlier.
		case monitoring.EventAlarmAdded, monitoring.EventEnabled:
			if problem {
				return time.UnixMilli(at).UTC(), true, rows.Close()
			}
			return time.Time{}, false, rows.Close()
		default: // disabled, removed: not counted in between
			return time.Time{}, false, rows.Close()
		}
	}
	return time.Time{}, false, rows.Err()
}

// RecentEvents is the newest n events across every account, newest first:
// what the wall's "latest changes" shows.
func (s *Store) RecentEvents(ctx context.Context, n int) ([]monitoring.Event, error) {
	evs, _, err := s.Events(ctx, monitoring.EventQuery{Limit: n})
	if len(evs) > n {
		evs = evs[:n] // one poll's many changes in one millisecond come whole
	}
	return evs, err
}
