package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"cmdash/monitoring"
)

// What a poll reads besides the overview (monitoring.Extras) is kept one
// row per account and kind in upstream_reads: when it was last tried, why
// that failed, and the last good answer as JSON. A failed read leaves the
// last good answer in place. Changelog entries are not kept there: they
// complete the history (see mergeChangelog), and the row keeps how far
// they have been read.

// saveReads records the extras a poll read, in its transaction.
func saveReads(ctx context.Context, tx *sql.Tx, id int64, p monitoring.PollSuccess) error {
	x := &p.Fetched.Extras
	if err := saveRead(ctx, tx, id, monitoring.ReadSuppressions, p, x.Suppressions.Done, x.Suppressions.Err, x.Suppressions.Value); err != nil {
		return err
	}
	if err := saveRead(ctx, tx, id, monitoring.ReadLimits, p, x.Limits.Done, x.Limits.Err, x.Limits.Value); err != nil {
		return err
	}
	if err := saveRead(ctx, tx, id, monitoring.ReadPlans, p, x.Plans.Done, x.Plans.Err, x.Plans.Value); err != nil {
		return err
	}
	return saveRead(ctx, tx, id, monitoring.ReadChangelogs, p, x.Changelogs.Done, x.Changelogs.Err, nil)
}

// saveRead records one read: value (as JSON; nil keeps no data) when err
// is nil, else the failure in words.
func saveRead(ctx context.Context, tx *sql.Tx, id int64, kind monitoring.ReadKind, p monitoring.PollSuccess, done bool, rerr error, value any) error {
	if !done {
		return nil
	}
	at := ms(p.PolledAt)
	if rerr != nil {
		_, err := tx.ExecContext(ctx, `INSERT INTO upstream_reads (account_id, kind, tried_at, error) VALUES (?, ?, ?, ?)
			ON CONFLICT (account_id, kind) DO UPDATE SET tried_at = excluded.tried_at, error = excluded.error`,
			id, string(kind), at, monitoring.Describe(rerr))
		if err != nil {
			return fmt.Errorf("save %s: %w", kind, err)
		}
		return nil
	}
	var data []byte
	if value != nil {
		var err error
		if data, err = json.Marshal(value); err != nil {
			return fmt.Errorf("save %s: %w", kind, err)
		}
	}
	var through any
	if kind == monitoring.ReadChangelogs {
		through = ms(p.Fetched.Extras.Changelogs.Value.Through)
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO upstream_reads (account_id, kind, tried_at, good_at, error, data, read_through)
		VALUES (?, ?, ?, ?, '', ?, ?)
		ON CONFLICT (account_id, kind) DO UPDATE SET tried_at = excluded.tried_at, good_at = excluded.good_at,
		error = '', data = excluded.data, read_through = coalesce(excluded.read_through, read_through)`,
		id, string(kind), at, at, data, through)
	if err != nil {
		return fmt.Errorf("save %s: %w", kind, err)
	}
	return nil
}

// ReadStatuses tells, of each kind of read of account id, when it was last
// tried and how it went (kinds never tried are absent).
func (s *Store) ReadStatuses(ctx context.Context, id int64) (map[monitoring.ReadKind]monitoring.ReadStatus, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT kind, tried_at, good_at, error, read_through FROM upstream_reads WHERE account_id = ?`, id)
	if err != nil {
		return nil, fmt.Errorf("reads of %d: %w", id, err)
	}
	defer rows.Close()
	out := map[monitoring.ReadKind]monitoring.ReadStatus{}
	for rows.Next() {
		var kind string
		var tried int64
		var good, through sql.NullInt64
		var st monitoring.ReadStatus
		if err := rows.Scan(&kind, &tried, &good, &st.Err, &through); err != nil {
			return nil, fmt.Errorf("reads of %d: %w", id, err)
		}
		st.TriedAt, st.GoodAt, st.Through = fromMS(tried), fromMS(good.Int64), fromMS(through.Int64)
		out[monitoring.ReadKind(kind)] = st
	}
	return out, rows.Err()
}

// readData decodes the last good answer of kind for every account that
// has one, by account.
func readData[T any](ctx context.Context, s *Store, kind monitoring.ReadKind) (map[int64]T, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT account_id, data FROM upstream_reads WHERE kind = ? AND data IS NOT NULL`, string(kind))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", kind, err)
	}
	defer rows.Close()
	out := map[int64]T{}
	for rows.Next() {
		var id int64
		var data []byte
		if err := rows.Scan(&id, &data); err != nil {
			return nil, fmt.Errorf("%s: %w", kind, err)
		}
		var v T
		if err := json.Unmarshal(data, &v); err != nil {
			return nil, fmt.Errorf("%s of account %d: %w", kind, id, err)
		}
		out[id] = v
	}
	return out, rows.Err()
}

// Suppressions returns every account's maintenance windows as last read,
// by account.
func (s *Store) Suppressions(ctx context.Context) (map[int64][]monitoring.Suppression, error) {
	return readData[[]monitoring.Suppression](ctx, s, monitoring.ReadSuppressions)
}

// AccountSuppressions returns account id's maintenance windows as last read.
func (s *Store) AccountSuppressions(ctx context.Context, id int64) ([]monitoring.Suppression, error) {
	return readOne[[]monitoring.Suppression](ctx, s, id, monitoring.ReadSuppressions)
}

// Plans returns account id's notification plans as last read.
func (s *Store) Plans(ctx context.Context, id int64) ([]monitoring.NotificationPlan, error) {
	return readOne[[]monitoring.NotificationPlan](ctx, s, id, monitoring.ReadPlans)
}

// Limits returns account id's limits as last read (zero when never).
func (s *Store) Limits(ctx context.Context, id int64) (monitoring.Limits, error) {
	return readOne[monitoring.Limits](ctx, s, id, monitoring.ReadLimits)
}

func readOne[T any](ctx context.Context, s *Store, id int64, kind monitoring.ReadKind) (T, error) {
	var v T
	var data []byte
	err := s.db.QueryRowContext(ctx, `SELECT data FROM upstream_reads WHERE account_id = ? AND kind = ? AND data IS NOT NULL`,
		id, string(kind)).Scan(&data)
	if err == sql.ErrNoRows {
		return v, nil
	}
	if err != nil {
		return v, fmt.Errorf("%s of account %d: %w", kind, id, err)
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return v, fmt.Errorf("%s of account %d: %w", kind, id, err)
	}
	return v, nil
}
