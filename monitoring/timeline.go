package monitoring

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Resolves reports whether the event ended a problem: an alarm's counted
// state went back to OK from another state.
func (e *Event) Resolves() bool {
	return e.Kind == EventState && e.To == StateOK && e.From != "" && e.From != StateOK
}

// ProblemStarts finds, for each event in evs that ended a problem, when
// that problem began: the time of the latest earlier change of the same
// alarm away from OK. It is keyed by event ID; an event is missing when
// its problem began before the oldest history kept (or before the account
// was first polled).
func (s *Store) ProblemStarts(ctx context.Context, evs []Event) (map[int64]time.Time, error) {
	out := map[int64]time.Time{}
	for i := range evs {
		e := &evs[i]
		if !e.Resolves() {
			continue
		}
		var at int64
		err := s.db.QueryRowContext(ctx, `SELECT at FROM events
			WHERE account_id = ? AND server_id = ? AND alarm_id = ? AND id < ? AND kind = 'state' AND from_state = 'OK'
			ORDER BY recorded_at DESC, id DESC LIMIT 1`, e.AccountID, e.ServerID, e.AlarmID, e.ID).Scan(&at)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("problem starts: %w", err)
		}
		out[e.ID] = time.UnixMilli(at).UTC()
	}
	return out, nil
}

// RecentEvents is the newest n events across every account, newest first:
// what the wall's "latest changes" shows.
func (s *Store) RecentEvents(ctx context.Context, n int) ([]Event, error) {
	evs, _, err := s.Events(ctx, EventQuery{Limit: n})
	if len(evs) > n {
		evs = evs[:n] // one poll's many changes in one millisecond come whole
	}
	return evs, err
}
