package sqlite

import (
	"context"
	"fmt"
	"time"
)

// SetReadOnly marks the store as a reader of a database another process
// writes (a LiteFS replica): the little writes reads make on the side —
// when a wall link or an API token was last used — are skipped, as the
// file cannot take them. Everything else that writes is the caller's to
// keep away (the poller, sign-in, settings).
func (s *Store) SetReadOnly(ro bool) { s.readOnly.Store(ro) }

// ReadOnly reports what SetReadOnly set.
func (s *Store) ReadOnly() bool { return s.readOnly.Load() }

// Refresh forgets everything the store remembers of the database — the
// wall's summaries, users, wall links, page hashes — and advances the
// generation, so that what another process wrote is read afresh and the
// wall rebuilt.
func (s *Store) Refresh() {
	s.mu.Lock()
	s.outsideGen++
	clear(s.cache)
	clear(s.pages)
	s.usersGen++
	clear(s.users)
	s.wallLinksGen++
	clear(s.wallLinks)
	hooks := s.onRefresh
	s.mu.Unlock()
	for _, f := range hooks {
		f()
	}
	s.changed()
}

// OnRefresh has f called by every Refresh, before the generation advances:
// for what others remember of the database (the sessions in memory).
func (s *Store) OnRefresh(f func()) {
	s.mu.Lock()
	s.onRefresh = append(s.onRefresh, f)
	s.mu.Unlock()
}

// Follow watches the database for commits made by other processes (a
// LiteFS replica applying what the primary wrote), looking every interval,
// and calls Refresh after each. SQLite's data_version changes, on one
// connection, exactly when another connection or process has committed.
// It runs until ctx ends: when the database cannot be read it tells
// onError, takes a fresh connection and goes on.
func (s *Store) Follow(ctx context.Context, every time.Duration, onError func(error)) {
	for {
		err := s.follow(ctx, every)
		if ctx.Err() != nil {
			return
		}
		if onError != nil {
			onError(err)
		}
		s.Refresh() // whatever was missed meanwhile
		select {
		case <-ctx.Done():
			return
		case <-time.After(4 * every):
		}
	}
}

// follow is one connection's watch: it returns on the first error.
func (s *Store) follow(ctx context.Context, every time.Duration) error {
	c, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("follow: %w", err)
	}
	defer c.Close()
	var last int64
	if err := c.QueryRowContext(ctx, `PRAGMA data_version`).Scan(&last); err != nil {
		return fmt.Errorf("follow: %w", err)
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		var v int64
		if err := c.QueryRowContext(ctx, `PRAGMA data_version`).Scan(&v); err != nil {
			return fmt.Errorf("follow: %w", err)
		}
		if v != last {
			last = v
			s.Refresh()
		}
	}
}
