package sqlite

import (
	"context"
	"fmt"
	"strings"

	"cmdash/monitoring"
)

// maxAuditText bounds each text of a stored audit entry, whatever a
// caller passes: a row stays a line.
const maxAuditText = 500

// RecordAudit adds an entry to the audit log; a zero At is now.
func (s *Store) RecordAudit(ctx context.Context, e monitoring.AuditEntry) error {
	if e.At.IsZero() {
		e.At = s.now()
	}
	clip := func(v string) string { return monitoring.ClipAudit(v, maxAuditText) }
	_, err := s.db.ExecContext(ctx, `INSERT INTO audit_log (at, actor, actor_kind, address, action, target, detail)
		VALUES (?, ?, ?, ?, ?, ?, ?)`,
		ms(e.At), clip(e.Actor), e.ActorKind, clip(e.Address), e.Action, clip(e.Target), clip(e.Detail))
	if err != nil {
		return fmt.Errorf("record audit: %w", err)
	}
	return nil
}

// AuditLog returns the entries q selects, the newest first. An Action
// that is neither an action nor a kind of them selects nothing.
func (s *Store) AuditLog(ctx context.Context, q monitoring.AuditQuery) ([]monitoring.AuditEntry, error) {
	var where []string
	var args []any
	if q.Actor != "" {
		// The user, or one of their tokens: "token NAME (user)".
		where = append(where, `(actor = ? OR (actor_kind = ? AND substr(actor, -(length(?) + 3)) = ' (' || ? || ')'))`)
		args = append(args, q.Actor, monitoring.ActorToken, q.Actor, q.Actor)
	}
	if q.Action != "" {
		actions, _ := monitoring.AuditActions(q.Action)
		if len(actions) == 0 {
			return nil, nil
		}
		where = append(where, `action IN (?`+strings.Repeat(", ?", len(actions)-1)+`)`)
		for _, a := range actions {
			args = append(args, a)
		}
	}
	if !q.Since.IsZero() {
		where = append(where, `at >= ?`)
		args = append(args, q.Since.UnixMilli())
	}
	if !q.Until.IsZero() {
		where = append(where, `at <= ?`)
		args = append(args, q.Until.UnixMilli())
	}
	limit := q.Limit
	if limit <= 0 {
		limit = monitoring.DefaultAuditLimit
	}
	query := `SELECT id, at, actor, actor_kind, address, action, target, detail FROM audit_log`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, ` AND `)
	}
	query += ` ORDER BY at DESC, id DESC LIMIT ?`
	rows, err := s.db.QueryContext(ctx, query, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	defer rows.Close()
	var out []monitoring.AuditEntry
	for rows.Next() {
		var e monitoring.AuditEntry
		var at int64
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.ActorKind, &e.Address, &e.Action, &e.Target, &e.Detail); err != nil {
			return nil, fmt.Errorf("audit log: %w", err)
		}
		e.At = fromMS(at)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	return out, nil
}

// AuditRetention bounds the audit log: the history's bounds, or
// DefaultRetention while the history is off. Turning the alarm history
// off says nothing about who may change what, so it does not empty the
// record of who did.
func (s *Store) AuditRetention() monitoring.Retention {
	if r := s.Retention(); !r.Off() {
		return r
	}
	return monitoring.DefaultRetention
}

// PruneAudit deletes the audit entries AuditRetention does not keep, the
// oldest first, in batches, and returns how many.
func (s *Store) PruneAudit(ctx context.Context) (int, error) {
	r := s.AuditRetention()
	deleted, err := s.pruneBatches(ctx, "prune audit log", `DELETE FROM audit_log WHERE id IN
		(SELECT id FROM audit_log WHERE at < ? ORDER BY at, id LIMIT ?)`, -1, ms(s.now().Add(-r.MaxAge)))
	if err != nil {
		return deleted, err
	}
	var count int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM audit_log`).Scan(&count); err != nil {
		return deleted, fmt.Errorf("prune audit log: %w", err)
	}
	if over := count - r.MaxRows; over > 0 {
		n, err := s.pruneBatches(ctx, "prune audit log", `DELETE FROM audit_log WHERE id IN
			(SELECT id FROM audit_log ORDER BY at, id LIMIT ?)`, over)
		deleted += n
		if err != nil {
			return deleted, err
		}
	}
	return deleted, nil
}
