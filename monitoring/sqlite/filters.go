package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"cmdash/monitoring"
)

// ListFilters returns the saved filters by name.
func (s *Store) ListFilters(ctx context.Context) ([]monitoring.Filter, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, name, query, created_at FROM filters ORDER BY lower(name), id`)
	if err != nil {
		return nil, fmt.Errorf("list filters: %w", err)
	}
	defer rows.Close()
	var out []monitoring.Filter
	for rows.Next() {
		var f monitoring.Filter
		var created int64
		if err := rows.Scan(&f.ID, &f.Name, &f.Query, &created); err != nil {
			return nil, fmt.Errorf("list filters: %w", err)
		}
		f.CreatedAt = fromMS(created)
		out = append(out, f)
	}
	return out, rows.Err()
}

// CreateFilter saves a query under a name.
func (s *Store) CreateFilter(ctx context.Context, name, query string) (monitoring.Filter, error) {
	now := s.now()
	res, err := s.db.ExecContext(ctx, `INSERT INTO filters (name, query, created_at) VALUES (?, ?, ?)`, name, query, ms(now))
	if err != nil {
		if isUniqueViolation(err) {
			return monitoring.Filter{}, monitoring.ErrDuplicate
		}
		return monitoring.Filter{}, fmt.Errorf("create filter: %w", err)
	}
	id, _ := res.LastInsertId()
	s.changed()
	return monitoring.Filter{ID: id, Name: name, Query: query, CreatedAt: fromMS(ms(now))}, nil
}

// DeleteFilter removes a saved filter by id and returns it.
func (s *Store) DeleteFilter(ctx context.Context, id int64) (monitoring.Filter, error) {
	var f monitoring.Filter
	var created int64
	err := s.db.QueryRowContext(ctx, `DELETE FROM filters WHERE id = ? RETURNING id, name, query, created_at`, id).
		Scan(&f.ID, &f.Name, &f.Query, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return f, monitoring.ErrNotFound
	}
	if err != nil {
		return f, fmt.Errorf("delete filter: %w", err)
	}
	f.CreatedAt = fromMS(created)
	s.changed()
	return f, nil
}

func isUniqueViolation(err error) bool {
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}
