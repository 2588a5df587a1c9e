package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	"cmdash/monitoring"
)

// Acknowledgements. A signed-in user acknowledges a problem server, or one
// of its problem alarms, with a note and an end: in 1, 4 or 24 hours, or
// when it recovers. The wall keeps showing an acknowledged problem, muted,
// and counts it apart. An acknowledgement ends by itself:
//
//   - when its time is up ("expired", at its expiry; no write is needed:
//     every read treats an acknowledgement past its expiry as ended then);
//   - at the first stored poll that finds the alarm OK again, or every
//     alarm of the server ("recovered");
//   - at the first stored poll that finds it worse than when acknowledged,
//     by the order CRITICAL > WARNING > UNKNOWN > OK ("worse");
//   - at the first stored poll without the server or the alarm, or with the
//     alarm no longer counted, e.g. disabled ("gone": nobody can tell
//     whether it recovered);
//
// and a user may remove it ("removed"). Ended acknowledgements are kept as
// the history, until PruneAcks drops them.
//
// Because alarm acknowledgements end at the poll that sees their alarm
// recover, worsen or leave the counts, an active one always stands for a
// counted alarm that is not OK: the wall counts them against a server's
// problem alarms without knowing its alarms.

// SetClock replaces the store's clock (tests).
func (s *Store) SetClock(now func() time.Time) { s.now = now }

const ackCols = `id, account_id, server_id, server_label, alarm_id, alarm_label, note, created_by, created_at,
	expires_at, state_at_ack, ended_at, end_reason, ended_by`

// scanAck reads a row; one past its expiry at now reads as ended then.
func scanAck(row interface{ Scan(...any) error }, now time.Time) (monitoring.Ack, error) {
	var a monitoring.Ack
	var created int64
	var expires, ended sql.NullInt64
	var state string
	err := row.Scan(&a.ID, &a.AccountID, &a.ServerID, &a.ServerLabel, &a.AlarmID, &a.AlarmLabel, &a.Note, &a.CreatedBy,
		&created, &expires, &state, &ended, &a.EndReason, &a.EndedBy)
	if err != nil {
		return a, err
	}
	a.CreatedAt, a.StateAtAck = fromMS(created), monitoring.State(state)
	if expires.Valid {
		a.ExpiresAt = fromMS(expires.Int64)
	}
	switch {
	case ended.Valid:
		a.EndedAt = fromMS(ended.Int64)
	case expires.Valid && !now.Before(a.ExpiresAt):
		a.EndedAt, a.EndReason = a.ExpiresAt, monitoring.AckExpired
	}
	return a, nil
}

func (s *Store) queryAcks(ctx context.Context, q querier, now time.Time, query string, args ...any) ([]monitoring.Ack, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []monitoring.Ack
	for rows.Next() {
		a, err := scanAck(rows, now)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// unexpired is the SQL condition of an acknowledgement that has not ended,
// given the time as its one parameter.
const unexpired = `ended_at IS NULL AND (expires_at IS NULL OR expires_at > ?)`

// CreateAck records an acknowledgement after checking it against the
// account's latest data: the server must be in it and not OK; an alarm must
// be one of the server's counted alarms and not OK; the note is required
// (at most MaxAckNote characters, no control characters) and the expiry one
// of AckExpiries. A target acknowledged already is refused. Refusals are
// *AckError.
func (s *Store) CreateAck(ctx context.Context, in monitoring.AckInput) (monitoring.Ack, error) {
	note := strings.TrimSpace(in.Note)
	if p := monitoring.NoteProblem(note); p != "" {
		return monitoring.Ack{}, &monitoring.AckError{Field: "note", Kind: monitoring.AckInvalid, Message: p}
	}
	lasts, ok := monitoring.AckLasts(in.Expiry)
	if !ok {
		return monitoring.Ack{}, &monitoring.AckError{Field: "expiry", Kind: monitoring.AckInvalid,
			Message: "Choose when the acknowledgement ends: in 1 hour, 4 hours or 24 hours, or when it recovers."}
	}
	if in.By == "" {
		return monitoring.Ack{}, errors.New("create acknowledgement: no user")
	}
	if _, err := s.Account(ctx, in.AccountID); errors.Is(err, monitoring.ErrNotFound) {
		return monitoring.Ack{}, &monitoring.AckError{Field: "account", Kind: monitoring.AckUnknown, Message: "There is no such account."}
	} else if err != nil {
		return monitoring.Ack{}, fmt.Errorf("create acknowledgement: %w", err)
	}
	// The target is checked against the latest snapshot outside the write
	// transaction (decoding it may take a while, and polls wait for the
	// writer), and the transaction makes sure that snapshot is still the
	// latest: a poll stored in between may have ended the problem, and its
	// settling would not have seen this acknowledgement. Then it checks again.
	for attempt := 0; ; attempt++ {
		snap, err := s.SnapshotServer(ctx, in.AccountID, in.ServerID)
		if err != nil {
			return monitoring.Ack{}, fmt.Errorf("create acknowledgement: %w", err)
		}
		a, err := monitoring.AckTarget(snap, in)
		if err != nil {
			return monitoring.Ack{}, err
		}
		a.Note, a.CreatedBy = note, in.By
		a.CreatedAt = fromMS(ms(s.now()))
		if lasts > 0 {
			a.ExpiresAt = a.CreatedAt.Add(lasts)
		}
		err = s.insertAck(ctx, &a, snap.FetchedAt)
		if errors.Is(err, errAckTargetMoved) {
			if attempt < 2 {
				continue
			}
			return monitoring.Ack{}, &monitoring.AckError{Field: "server", Kind: monitoring.AckConflict,
				Message: "The server's data kept changing while it was being acknowledged; try again."}
		}
		if err != nil {
			return monitoring.Ack{}, err
		}
		s.changed()
		return a, nil
	}
}

// errAckTargetMoved: a poll stored another snapshot since the target was
// checked.
var errAckTargetMoved = errors.New("create acknowledgement: the account's data changed")

// insertAck stores a, unless the account's snapshot is no longer the one
// fetched at fetchedAt or the target has an active acknowledgement.
func (s *Store) insertAck(ctx context.Context, a *monitoring.Ack, fetchedAt time.Time) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("create acknowledgement: %w", err)
	}
	defer tx.Rollback()
	var fetched int64
	err = tx.QueryRowContext(ctx, `SELECT fetched_at FROM snapshots WHERE account_id = ?`, a.AccountID).Scan(&fetched)
	if errors.Is(err, sql.ErrNoRows) || err == nil && fetched != ms(fetchedAt) {
		return errAckTargetMoved
	}
	if err != nil {
		return fmt.Errorf("create acknowledgement: %w", err)
	}
	var by string
	err = tx.QueryRowContext(ctx, `SELECT created_by FROM acks WHERE account_id = ? AND server_id = ? AND alarm_id = ? AND `+unexpired+` LIMIT 1`,
		a.AccountID, a.ServerID, a.AlarmID, ms(a.CreatedAt)).Scan(&by)
	switch {
	case err == nil:
		field, what := "server", "This server"
		if a.AlarmID != "" {
			field, what = "alarm", "This alarm"
		}
		return &monitoring.AckError{Field: field, Kind: monitoring.AckConflict,
			Message: what + " is acknowledged already (by " + by + "); remove that acknowledgement first to change it."}
	case !errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("create acknowledgement: %w", err)
	}
	var expires any
	if !a.ExpiresAt.IsZero() {
		expires = ms(a.ExpiresAt)
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO acks (account_id, server_id, server_label, alarm_id, alarm_label, note,
		created_by, created_at, expires_at, state_at_ack) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.AccountID, a.ServerID, a.ServerLabel, a.AlarmID, a.AlarmLabel, a.Note, a.CreatedBy, ms(a.CreatedAt), expires, string(a.StateAtAck))
	if err != nil {
		return fmt.Errorf("create acknowledgement: %w", err)
	}
	if a.ID, err = res.LastInsertId(); err != nil {
		return fmt.Errorf("create acknowledgement: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("create acknowledgement: %w", err)
	}
	return nil
}

// ActiveAcks returns every acknowledgement in force now, oldest first. The
// wall reads it on every rebuild: it is one query on an index of the
// active rows.
func (s *Store) ActiveAcks(ctx context.Context) ([]monitoring.Ack, error) {
	now := s.now()
	out, err := s.queryAcks(ctx, s.db, now, `SELECT `+ackCols+` FROM acks WHERE `+unexpired+` ORDER BY id`, ms(now))
	if err != nil {
		return nil, fmt.Errorf("active acknowledgements: %w", err)
	}
	return out, nil
}

// Acks returns the acknowledgements q selects, newest first.
func (s *Store) Acks(ctx context.Context, q monitoring.AckQuery) ([]monitoring.Ack, error) {
	now := s.now()
	var where []string
	var args []any
	if q.AccountID > 0 {
		where, args = append(where, "account_id = ?"), append(args, q.AccountID)
	}
	if q.ServerID != "" {
		where, args = append(where, "server_id = ?"), append(args, q.ServerID)
	}
	if !q.IncludeEnded {
		where, args = append(where, unexpired), append(args, ms(now))
	}
	if !q.Since.IsZero() {
		where = append(where, "(ended_at >= ? OR ended_at IS NULL AND (expires_at IS NULL OR expires_at >= ?))")
		args = append(args, ms(q.Since), ms(q.Since))
	}
	query := `SELECT ` + ackCols + ` FROM acks`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	query += ` ORDER BY created_at DESC, id DESC`
	if q.Limit > 0 {
		query += fmt.Sprintf(" LIMIT %d", q.Limit)
	}
	out, err := s.queryAcks(ctx, s.db, now, query, args...)
	if err != nil {
		return nil, fmt.Errorf("acknowledgements: %w", err)
	}
	return out, nil
}

// Ack returns one acknowledgement, active or ended.
func (s *Store) Ack(ctx context.Context, id int64) (monitoring.Ack, error) {
	a, err := scanAck(s.db.QueryRowContext(ctx, `SELECT `+ackCols+` FROM acks WHERE id = ?`, id), s.now())
	if errors.Is(err, sql.ErrNoRows) {
		return a, monitoring.ErrNotFound
	}
	if err != nil {
		return a, fmt.Errorf("acknowledgement %d: %w", id, err)
	}
	return a, nil
}

// EndAck removes an acknowledgement by hand: it ends now, "removed" by by.
// ErrNotFound when there is no such acknowledgement in force.
func (s *Store) EndAck(ctx context.Context, id int64, by string) error {
	now := ms(s.now())
	res, err := s.db.ExecContext(ctx, `UPDATE acks SET ended_at = ?, end_reason = ?, ended_by = ? WHERE id = ? AND `+unexpired,
		now, monitoring.AckRemoved, by, id, now)
	if err != nil {
		return fmt.Errorf("end acknowledgement %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return monitoring.ErrNotFound
	}
	s.changed()
	return nil
}

// querier is what reads need of a *sql.DB or a *sql.Tx.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// ackedServers returns the ids of the servers the account's
// acknowledgements that have not ended name, each with no server yet.
func (s *Store) ackedServers(ctx context.Context, q querier, accountID int64) (map[string]*monitoring.Server, error) {
	rows, err := q.QueryContext(ctx, `SELECT DISTINCT server_id FROM acks WHERE ended_at IS NULL AND account_id = ?`, accountID)
	if err != nil {
		return nil, fmt.Errorf("acknowledged servers: %w", err)
	}
	defer rows.Close()
	servers := map[string]*monitoring.Server{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("acknowledged servers: %w", err)
		}
		servers[id] = nil
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("acknowledged servers: %w", err)
	}
	return servers, nil
}

// settleAcks settles the account's acknowledgements in tx, the poll's
// transaction, against what the poll found: found holds the servers the
// acknowledgements in force when the poll began name (nil when the poll
// did not have them). One made while the poll ran may name a server the
// poll did not keep: those servers are read back, in one pass, from the
// pages tx has just written.
func (s *Store) settleAcks(ctx context.Context, tx *sql.Tx, accountID int64, found map[string]*monitoring.Server, now time.Time) error {
	acked, err := s.ackedServers(ctx, tx, accountID)
	if err != nil {
		return err
	}
	missing := map[string]bool{}
	for id := range acked {
		if _, ok := found[id]; !ok {
			missing[id] = true
		}
	}
	if len(missing) > 0 {
		snap, err := s.snapshot(ctx, tx, accountID, func(srv *monitoring.Server) bool { return missing[srv.ID] })
		if err != nil {
			return fmt.Errorf("settle acknowledgements: %w", err)
		}
		all := make(map[string]*monitoring.Server, len(found)+len(missing))
		maps.Copy(all, found)
		if snap != nil {
			for i := range snap.Servers {
				all[snap.Servers[i].ID] = &snap.Servers[i]
			}
		}
		found = all
	}
	return s.endAcks(ctx, tx, accountID, now, found)
}

// endAcks ends, in tx, the account's acknowledgements that are over at now:
// past their expiry (written as ended then), or over by their server as
// servers has it (absent: gone; see monitoring.AckOutcome).
func (s *Store) endAcks(ctx context.Context, tx *sql.Tx, accountID int64, now time.Time, servers map[string]*monitoring.Server) error {
	acks, err := s.queryAcks(ctx, tx, now, `SELECT `+ackCols+` FROM acks WHERE account_id = ? AND ended_at IS NULL`, accountID)
	if err != nil {
		return fmt.Errorf("settle acknowledgements: %w", err)
	}
	for _, a := range acks {
		at, reason := a.EndedAt, a.EndReason // expired, when it has
		if a.Active() {
			if reason = monitoring.AckOutcome(servers[a.ServerID], a); reason == "" {
				continue
			}
			at = now
		}
		if _, err := tx.ExecContext(ctx, `UPDATE acks SET ended_at = ?, end_reason = ? WHERE id = ? AND ended_at IS NULL`,
			ms(at), reason, a.ID); err != nil {
			return fmt.Errorf("settle acknowledgements: %w", err)
		}
	}
	return nil
}

// PruneAcks drops the ended acknowledgements the history's retention r
// does not keep: those that ended before its age limit, and the oldest
// beyond its newest MaxRows; every ended one when r is Off. Those in force
// are kept however old. An expiry never written counts as its end.
func (s *Store) PruneAcks(ctx context.Context, r monitoring.Retention) error {
	now := s.now()
	keep := 0 // with the history off, no ended one is kept
	if !r.Off() {
		keep = r.MaxRows
		before := ms(now.Add(-r.MaxAge))
		if _, err := s.db.ExecContext(ctx, `DELETE FROM acks WHERE ended_at < ? OR ended_at IS NULL AND expires_at < ?`, before, before); err != nil {
			return fmt.Errorf("prune acknowledgements: %w", err)
		}
	}
	if _, err := s.db.ExecContext(ctx, `DELETE FROM acks WHERE id IN (SELECT id FROM acks WHERE NOT (`+unexpired+`)
		ORDER BY coalesce(ended_at, expires_at) DESC, id DESC LIMIT -1 OFFSET ?)`, ms(now), keep); err != nil {
		return fmt.Errorf("prune acknowledgements: %w", err)
	}
	return nil
}
