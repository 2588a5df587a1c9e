package sqlite

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"cmdash/monitoring"
)

// poll is one poll of an account on its way to the store (see
// monitoring.PollWriter). It knows the stored pages, so that only changed
// pages are encoded and compared with their stored versions to find the
// poll's changes (unless the history is off, or nothing is stored yet),
// and keeps, of the servers the account's acknowledgements name, what
// settling them needs.
type poll struct {
	s     *Store
	id    int64
	build *snapshotBuilder
	// acked are the servers named by the acknowledgements in force when
	// the poll began, as this poll found them (nil: absent so far).
	acked map[string]*monitoring.Server
}

// BeginPoll starts a poll of account id.
func (s *Store) BeginPoll(ctx context.Context, id int64) (monitoring.PollWriter, error) {
	stored, err := s.pageHashes(ctx, id)
	if err != nil {
		return nil, err
	}
	p := &poll{s: s, id: id, build: &snapshotBuilder{stored: stored}}
	if !s.Retention().Off() {
		if p.build.hist, err = s.newDiffer(ctx, id, stored); err != nil {
			return nil, err
		}
	}
	if p.acked, err = s.ackedServers(ctx, s.db, id); err != nil {
		return nil, err
	}
	return p, nil
}

// Page implements monitoring.PageSink.
func (p *poll) Page(servers []monitoring.Server) {
	p.build.Page(servers)
	if len(p.acked) == 0 {
		return
	}
	for i := range servers {
		if _, ok := p.acked[servers[i].ID]; ok {
			srv := servers[i]
			srv.Alarms = slices.Clone(srv.Alarms)
			p.acked[srv.ID] = &srv
		}
	}
}

// Save implements monitoring.PollWriter: the snapshot is taken at
// ps.PolledAt.
func (p *poll) Save(ctx context.Context, ps monitoring.PollSuccess) (monitoring.PollSaved, error) {
	return p.save(ctx, p.build.Finish(ps.PolledAt), ps)
}

// SaveSnapshot stores snap as a poll that read it in one page, the same
// way as every poll, with snap's own FetchedAt: for tests, which make
// snapshots by hand.
func (s *Store) SaveSnapshot(ctx context.Context, id int64, snap monitoring.Snapshot, ps monitoring.PollSuccess) error {
	w, err := s.BeginPoll(ctx, id)
	if err != nil {
		return fmt.Errorf("save poll: %w", err)
	}
	p := w.(*poll)
	p.Page(snap.Servers)
	_, err = p.save(ctx, p.build.Finish(snap.FetchedAt), ps)
	return err
}

// pageHashes returns the hashes of an account's stored pages, remembered
// after the first read.
func (s *Store) pageHashes(ctx context.Context, id int64) ([]int64, error) {
	s.mu.Lock()
	h, ok := s.pages[id]
	s.mu.Unlock()
	if ok {
		return h, nil
	}
	rows, err := s.db.QueryContext(ctx, `SELECT hash FROM snapshot_pages WHERE account_id = ? ORDER BY page`, id)
	if err != nil {
		return nil, fmt.Errorf("snapshot pages %d: %w", id, err)
	}
	defer rows.Close()
	h = []int64{}
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("snapshot pages %d: %w", id, err)
		}
		h = append(h, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("snapshot pages %d: %w", id, err)
	}
	s.mu.Lock()
	if _, ok := s.pages[id]; !ok {
		s.pages[id] = h
	}
	s.mu.Unlock()
	return h, nil
}

// save stores the snapshot, the token in use and a clean status,
// in one transaction. Many polls finish at once and SQLite has one writer,
// so everything that can happen outside the transaction does: the snapshot
// is encoded and the token sealed first, and the transaction writes, reading
// only what must follow the commit order (the stored pages' hashes, the
// acknowledgements to settle).
//
// Only the pages whose content changed are written. A poll that brought
// exactly the data of the one before (the usual case: states change far
// less often than accounts are polled) only moves the snapshot's time.
//
// The changes the builder found between the stored snapshot and this one
// are recorded in the same transaction (see Event), once it has checked
// that the stored pages are still those the builder compared with.
//
// The account's acknowledgements are settled in the same transaction too
// (see settleAcks): a problem that recovered, got worse or went ends its
// acknowledgement in the very write that stores it, so no reader ever sees
// the new data with the old acknowledgement.
func (pl *poll) save(ctx context.Context, built *builtSnapshot, p monitoring.PollSuccess) (monitoring.PollSaved, error) {
	s, id := pl.s, pl.id
	saved := monitoring.PollSaved{Servers: len(built.summary.Servers), Changes: len(built.events), HistoryErr: built.historyErr}
	if built.err != nil {
		return saved, built.err
	}
	stored, err := s.pageHashes(ctx, id)
	if err != nil {
		return saved, fmt.Errorf("save poll: %w", err)
	}
	same := built.unchanged(stored)
	username, err := s.username(ctx, id)
	if errors.Is(err, monitoring.ErrNotFound) {
		return saved, monitoring.ErrNotFound // removed while polling
	}
	if err != nil {
		return saved, fmt.Errorf("save poll: %w", err)
	}
	tokSealed, err := s.sealToken(username, &p.Fetched.Token)
	if err != nil {
		return saved, fmt.Errorf("save poll: %w", err)
	}

	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return saved, fmt.Errorf("save poll: %w", err)
	}
	defer tx.Rollback()
	committed := false
	defer func() {
		if !committed { // what is stored is not known for sure: read it again next time
			s.mu.Lock()
			delete(s.pages, id)
			s.mu.Unlock()
		}
	}()
	rl := p.Fetched.Budget()
	// The username is in the condition because the token was sealed for it.
	res, err := tx.ExecContext(ctx, `UPDATE accounts SET token_sealed = ?, last_polled_at = ?, last_success_at = ?,
		last_error = '', error_kind = '', error_count = 0, next_poll_at = ?, ratelimit_limit = ?, ratelimit_used = ?, ratelimit_window = ?
		WHERE id = ? AND username = ? AND (? = 0 OR key_version = ?)`, tokSealed, ms(p.PolledAt), ms(p.PolledAt), ms(p.NextPoll),
		rl.Limit, rl.Used, rl.Window, id, username, p.KeyVersion, p.KeyVersion)
	if err != nil {
		return saved, fmt.Errorf("save poll: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		_ = tx.Rollback()
		return saved, s.whyNotSaved(ctx, id)
	}
	if built.compared && !same {
		now, err := storedHashes(ctx, tx, id)
		if err != nil {
			return saved, fmt.Errorf("save poll: %w", err)
		}
		if !slices.Equal(now, built.base) {
			return saved, fmt.Errorf("save poll: %w", errSnapshotMoved)
		}
		// Read inside the transaction: it follows the commit order.
		if err := insertEvents(ctx, tx, id, s.now(), built.events, sourcePolls); err != nil {
			return saved, err
		}
	}
	for i, pg := range built.pages {
		if pg.data == nil {
			continue
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO snapshot_pages (account_id, page, hash, data) VALUES (?, ?, ?, ?)
			ON CONFLICT (account_id, page) DO UPDATE SET hash = excluded.hash, data = excluded.data`, id, i, pg.hash, pg.data); err != nil {
			return saved, fmt.Errorf("save snapshot: %w", err)
		}
	}
	if len(built.pages) < len(stored) {
		if _, err := tx.ExecContext(ctx, `DELETE FROM snapshot_pages WHERE account_id = ? AND page >= ?`, id, len(built.pages)); err != nil {
			return saved, fmt.Errorf("save snapshot: %w", err)
		}
	}
	// An empty data column says the snapshot is in snapshot_pages.
	if _, err := tx.ExecContext(ctx, `INSERT INTO snapshots (account_id, fetched_at, data) VALUES (?, ?, x'')
		ON CONFLICT (account_id) DO UPDATE SET fetched_at = excluded.fetched_at, data = x''`,
		id, ms(built.FetchedAt)); err != nil {
		return saved, fmt.Errorf("save snapshot: %w", err)
	}
	// The changelog is merged in a savepoint of its own: entries that
	// cannot be merged (a stored page that will not read) must not cost
	// the account its snapshot. The read is then recorded as failed, so
	// the next one starts from the same place.
	if cl := p.Fetched.Extras.Changelogs; cl.Done && cl.Err == nil && !s.Retention().Off() {
		if _, err := tx.ExecContext(ctx, `SAVEPOINT changelog`); err != nil {
			return saved, fmt.Errorf("save poll: %w", err)
		}
		n, err := s.mergeChangelog(ctx, tx, id, s.now(), cl.Value.Entries)
		if err != nil {
			if _, rerr := tx.ExecContext(ctx, `ROLLBACK TO changelog`); rerr != nil {
				return saved, fmt.Errorf("save poll: %w", rerr)
			}
			saved.HistoryErr = cmp.Or(saved.HistoryErr, err)
			p.Fetched.Extras.Changelogs.Err = err
		} else {
			saved.Changes += n
			saved.FromChangelog = n
		}
	}
	if err := saveReads(ctx, tx, id, p); err != nil {
		return saved, err
	}
	// Settling is a savepoint of its own: acknowledgements that cannot be
	// settled (a row that will not read) must not cost the account its
	// snapshot. The next poll settles them again.
	if _, err := tx.ExecContext(ctx, `SAVEPOINT settle`); err != nil {
		return saved, fmt.Errorf("save poll: %w", err)
	}
	if err := s.settleAcks(ctx, tx, id, pl.acked, p.PolledAt); err != nil {
		if _, rerr := tx.ExecContext(ctx, `ROLLBACK TO settle`); rerr != nil {
			return saved, fmt.Errorf("save poll: %w", rerr)
		}
		saved.AckErr = err
	}
	if err := tx.Commit(); err != nil {
		return saved, fmt.Errorf("save poll: %w", err)
	}
	committed = true
	s.mu.Lock()
	s.pages[id] = built.hashes()
	if cur := s.cache[id]; same && cur != nil {
		moved := *cur // shared with readers: a copy with the new time
		moved.FetchedAt = built.FetchedAt
		s.cache[id] = &moved
	} else {
		s.cache[id] = built.summary
	}
	s.mu.Unlock()
	s.changed()
	return saved, nil
}

// SavePollFailure records a failed poll in one statement; the snapshot is
// left alone. The status and the token are one UPDATE under the key-version
// check: a poll made with a replaced key stores neither, and a key replaced
// at any moment never ends up with the old key's token.
func (s *Store) SavePollFailure(ctx context.Context, id int64, f monitoring.PollFailure) error {
	var username string
	var tokSealed []byte
	if f.Token != nil {
		var err error
		if username, err = s.username(ctx, id); err != nil {
			if errors.Is(err, monitoring.ErrNotFound) {
				return err
			}
			return fmt.Errorf("save poll failure: %w", err)
		}
		if tokSealed, err = s.sealToken(username, f.Token); err != nil {
			return fmt.Errorf("save poll failure: %w", err)
		}
	}
	// A NULL token keeps the one stored unless it is to be forgotten; the
	// username condition only applies with a token, which was sealed for it.
	res, err := s.db.ExecContext(ctx, `UPDATE accounts SET last_polled_at = ?, last_error = ?, error_kind = ?,
		error_count = error_count + 1, next_poll_at = ?,
		token_sealed = CASE WHEN ? IS NULL AND ? THEN NULL ELSE COALESCE(?, token_sealed) END
		WHERE id = ? AND (? = 0 OR key_version = ?) AND (? IS NULL OR username = ?)`,
		ms(f.PolledAt), f.Message, f.Kind, ms(f.NextPoll), nullBytes(tokSealed), f.ForgetToken, nullBytes(tokSealed),
		id, f.KeyVersion, f.KeyVersion, nullString(username), username)
	if err != nil {
		return fmt.Errorf("save poll failure: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return s.whyNotSaved(ctx, id)
	}
	s.changed()
	return nil
}

// Snapshot returns the latest good snapshot of an account with every
// alarm, read from the database (the server page, the API), or nil when it
// has never been polled successfully.
func (s *Store) Snapshot(ctx context.Context, id int64) (*monitoring.Snapshot, error) {
	return s.snapshot(ctx, s.db, id, func(*monitoring.Server) bool { return true })
}

// SnapshotServer is Snapshot with one server at most: the one with
// serverID, when the latest snapshot has it.
func (s *Store) SnapshotServer(ctx context.Context, id int64, serverID string) (*monitoring.Snapshot, error) {
	return s.snapshot(ctx, s.db, id, func(srv *monitoring.Server) bool { return srv.ID == serverID })
}

// snapshot reads an account's stored snapshot, keeping the servers keep
// accepts (and as keep leaves them), in the wall's order.
func (s *Store) snapshot(ctx context.Context, q querier, id int64, keep func(*monitoring.Server) bool) (*monitoring.Snapshot, error) {
	// One statement, so the time and the pages are of the same poll.
	rows, err := q.QueryContext(ctx, `SELECT s.fetched_at, s.data, p.data FROM snapshots s
		LEFT JOIN snapshot_pages p ON p.account_id = s.account_id WHERE s.account_id = ? ORDER BY p.page`, id)
	if err != nil {
		return nil, fmt.Errorf("snapshot %d: %w", id, err)
	}
	defer rows.Close()
	var snap *monitoring.Snapshot
	for rows.Next() {
		var fetched int64
		var whole, page []byte
		if err := rows.Scan(&fetched, &whole, &page); err != nil {
			return nil, fmt.Errorf("snapshot %d: %w", id, err)
		}
		if snap == nil {
			snap = &monitoring.Snapshot{Servers: []monitoring.Server{}}
		}
		snap.FetchedAt = fromMS(fetched)
		switch {
		case len(whole) > 0: // written before pages
			old, err := decodeWhole(whole, keep)
			if err != nil {
				return nil, fmt.Errorf("snapshot %d: %w", id, err)
			}
			snap.Servers = append(snap.Servers, old.Servers...)
		case page != nil:
			if snap.Servers, err = decodePage(page, keep, snap.Servers); err != nil {
				return nil, fmt.Errorf("snapshot %d: %w", id, err)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("snapshot %d: %w", id, err)
	}
	if snap != nil {
		monitoring.SortServers(snap.Servers)
	}
	return snap, nil
}

// Summary returns the wall's part of an account's latest snapshot (see
// SummaryOf), kept in memory, or nil when there is none. Summaries are
// shared: callers must not modify them.
func (s *Store) Summary(ctx context.Context, id int64) (*monitoring.Snapshot, error) {
	s.mu.Lock()
	sum, ok := s.cache[id]
	outside := s.outsideGen
	s.mu.Unlock()
	if ok {
		return sum, nil
	}
	sum, err := s.snapshot(ctx, s.db, id, func(srv *monitoring.Server) bool {
		*srv = monitoring.SummaryOf(srv)
		return true
	})
	if err != nil || sum == nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur, ok := s.cache[id]; ok && !cur.FetchedAt.Before(sum.FetchedAt) {
		return cur, nil // a poll saved a newer one meanwhile
	}
	if s.outsideGen != outside {
		return sum, nil // the database changed under the read: do not keep it
	}
	s.cache[id] = sum
	return sum, nil
}

// Summaries returns the summary of every account that has a snapshot,
// keyed by account id (see Summary).
func (s *Store) Summaries(ctx context.Context) (map[int64]*monitoring.Snapshot, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT account_id FROM snapshots`)
	if err != nil {
		return nil, fmt.Errorf("snapshots: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("snapshots: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("snapshots: %w", err)
	}
	out := make(map[int64]*monitoring.Snapshot, len(ids))
	for _, id := range ids {
		sum, err := s.Summary(ctx, id)
		if err != nil {
			return nil, err
		}
		if sum != nil {
			out[id] = sum
		}
	}
	return out, nil
}
