package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"cmdash/monitoring"
)

// Rackspace's alarm changelogs complete the history. The comparison of
// successive polls sees only the state at each poll: a flap between two
// polls, and every change while the dashboard was down or an account's
// polls failed, is not in it. A changelog read brings every change
// Rackspace recorded, at Rackspace's own times; each one not recorded yet
// is added, marked as coming from the changelog.
//
// A change is recorded once. The comparison dates a state change by the
// upstream's timestamp of the new state, the changelog by the same
// timestamp, so a change both saw is one with the same alarm, the same new
// state and a time within sameChange of the other's; whichever comes
// second is left out.

// sameChange is how far apart two records of one change may be dated.
const sameChange = time.Second

// knownChange reports whether a change of alarm to state at at is already
// in the history (from source, or from any source when source is "").
func knownChange(ctx context.Context, tx *sql.Tx, account int64, alarm string, to monitoring.State, at time.Time, source string) (bool, error) {
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM events WHERE account_id = ? AND alarm_id = ? AND at BETWEEN ? AND ?
		AND kind = 'state' AND to_state = ? AND (? = '' OR source = ?) LIMIT 1`,
		account, alarm, ms(at.Add(-sameChange)), ms(at.Add(sameChange)), string(to), source, source).Scan(&one)
	if err == sql.ErrNoRows {
		return false, nil
	}
	return err == nil, err
}

// mergeChangelog records, in tx, the changelog entries the history does
// not have yet. Labels come from the snapshot just written in tx (an
// entity or alarm gone from it is named by its ID).
func (s *Store) mergeChangelog(ctx context.Context, tx *sql.Tx, id int64, recordedAt time.Time, entries []monitoring.ChangelogEntry) (int, error) {
	if len(entries) == 0 {
		return 0, nil
	}
	oldest := recordedAt.Add(-s.Retention().MaxAge)
	var missing []monitoring.ChangelogEntry
	for _, e := range entries {
		if e.At.Before(oldest) || e.At.After(recordedAt) {
			continue
		}
		known, err := knownChange(ctx, tx, id, e.AlarmID, e.State.Norm(), e.At, "")
		if err != nil {
			return 0, fmt.Errorf("changelog: %w", err)
		}
		if !known {
			missing = append(missing, e)
		}
	}
	if len(missing) == 0 {
		return 0, nil
	}
	named := map[string]bool{}
	for _, e := range missing {
		named[e.EntityID] = true
	}
	servers := map[string]*monitoring.Server{}
	snap, err := s.snapshot(ctx, tx, id, func(srv *monitoring.Server) bool { return named[srv.ID] })
	if err != nil {
		return 0, fmt.Errorf("changelog: %w", err)
	}
	if snap != nil {
		for i := range snap.Servers {
			servers[snap.Servers[i].ID] = &snap.Servers[i]
		}
	}
	events := make([]monitoring.Event, 0, len(missing))
	for _, e := range missing {
		ev := monitoring.Event{At: e.At, Kind: monitoring.EventState, ServerID: e.EntityID, ServerLabel: e.EntityID,
			AlarmID: e.AlarmID, AlarmLabel: "alarm " + e.AlarmID, To: e.State.Norm(), Status: e.Status}
		if e.PreviousState != "" {
			ev.From = e.PreviousState.Norm()
		}
		if srv := servers[e.EntityID]; srv != nil {
			ev.ServerLabel = srv.Label
			for i := range srv.Alarms {
				if srv.Alarms[i].ID == e.AlarmID {
					ev.AlarmLabel = srv.Alarms[i].Label
				}
			}
		}
		events = append(events, ev)
	}
	if err := insertEvents(ctx, tx, id, recordedAt, events, sourceChangelog); err != nil {
		return 0, err
	}
	return len(events), nil
}

// The sources of the history's rows (events.source).
const (
	sourcePolls     = ""
	sourceChangelog = "changelog"
)

// Flapping returns the alarms whose state changed at least changes times
// within the last within, by the history (the changelog's entries
// included), with a label each was recorded under.
func (s *Store) Flapping(ctx context.Context, within time.Duration, changes int) ([]monitoring.Flap, error) {
	since := ms(s.now().Add(-within))
	// recorded_at ≥ at, so the index on recorded_at bounds the scan.
	rows, err := s.db.QueryContext(ctx, `SELECT account_id, server_id, alarm_id, max(alarm_label), count(*) FROM events
		WHERE recorded_at >= ? AND at >= ? AND kind = 'state' AND alarm_id != ''
		GROUP BY account_id, server_id, alarm_id HAVING count(*) >= ? ORDER BY account_id, server_id, alarm_id`, since, since, changes)
	if err != nil {
		return nil, fmt.Errorf("flapping: %w", err)
	}
	defer rows.Close()
	var out []monitoring.Flap
	for rows.Next() {
		var f monitoring.Flap
		if err := rows.Scan(&f.AccountID, &f.ServerID, &f.AlarmID, &f.AlarmLabel, &f.Changes); err != nil {
			return nil, fmt.Errorf("flapping: %w", err)
		}
		out = append(out, f)
	}
	return out, rows.Err()
}
