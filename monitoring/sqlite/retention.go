package sqlite

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"time"
)

// Pruning runs in the background, never on a request's path, and deletes
// in batches: each batch is its own short write, with a pause after it, so
// a poll waiting to store its snapshot waits for one batch at most.
const (
	pruneBatch = 1000
	prunePause = 25 * time.Millisecond
	// PruneEvery is how often RunRetention prunes.
	PruneEvery = time.Hour
)

// PruneEvents deletes the events the retention does not keep (all of them
// when it is Off), the oldest first, and returns how many.
func (s *Store) PruneEvents(ctx context.Context) (int, error) {
	r := s.Retention()
	cutoff := s.now().Add(-r.MaxAge).UnixMilli()
	if r.Off() {
		cutoff = math.MaxInt64 // after everything
	}
	deleted, err := s.pruneBatches(ctx, "prune events", `DELETE FROM events WHERE id IN
		(SELECT id FROM events WHERE recorded_at < ? ORDER BY recorded_at, id LIMIT ?)`, -1, cutoff)
	if err != nil || r.Off() {
		return deleted, err
	}
	var count int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM events`).Scan(&count); err != nil {
		return deleted, fmt.Errorf("prune events: %w", err)
	}
	if over := count - r.MaxRows; over > 0 {
		n, err := s.pruneBatches(ctx, "prune events", `DELETE FROM events WHERE id IN
			(SELECT id FROM events ORDER BY recorded_at, id LIMIT ?)`, over)
		deleted += n
		if err != nil {
			return deleted, err
		}
	}
	return deleted, nil
}

// pruneBatches runs a batched DELETE whose last argument is the batch size
// until it deletes less than a batch or, with total ≥ 0, total rows. what
// prefixes its error.
func (s *Store) pruneBatches(ctx context.Context, what, query string, total int, args ...any) (int, error) {
	deleted := 0
	for total < 0 || deleted < total {
		n := pruneBatch
		if total >= 0 {
			n = min(n, total-deleted)
		}
		res, err := s.db.ExecContext(ctx, query, append(args, n)...)
		if err != nil {
			return deleted, fmt.Errorf("%s: %w", what, err)
		}
		got, _ := res.RowsAffected()
		deleted += int(got)
		if int(got) < n {
			break
		}
		select {
		case <-ctx.Done():
			return deleted, ctx.Err()
		case <-time.After(prunePause):
		}
	}
	return deleted, nil
}

// RunRetention prunes the history and the audit log now and then every
// PruneEvery until ctx is done. A failed round is logged and the next one
// tries again.
func RunRetention(ctx context.Context, s *Store, log *slog.Logger) {
	t := time.NewTicker(PruneEvery)
	defer t.Stop()
	for {
		start := time.Now()
		n, err := s.PruneEvents(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			log.Error("history: pruning", "err", err)
		case n > 0:
			log.Info("history: pruned", "events", n, "took", time.Since(start).Round(time.Millisecond).String())
		}
		// Ended acknowledgements are history too, kept as long and as many.
		if err := s.PruneAcks(ctx, s.Retention()); err != nil && ctx.Err() == nil {
			log.Error("history: pruning acknowledgements", "err", err)
		}
		switch n, err := s.PruneAudit(ctx); {
		case err != nil && ctx.Err() == nil:
			log.Error("audit log: pruning", "err", err)
		case n > 0:
			log.Info("audit log: pruned", "entries", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
