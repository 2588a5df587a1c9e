package sqlite_test

import (
	"context"
	"testing"
	"time"

	"cmdash/monitoring"
	"cmdash/monitoring/sqlite"
	"cmdash/monitoring/sqlite/sqlitetest"
)

func TestHistoryOffRecordsNothingAndPruningEmptiesIt(t *testing.T) {
	t.Parallel()
	store, _ := sqlitetest.Open(t)
	ctx := context.Background()
	a, _ := store.CreateAccount(ctx, "u1", "", "k", nil)
	save := func(st monitoring.State) {
		t.Helper()
		now := time.Now()
		snap := monitoring.Snapshot{FetchedAt: now, Servers: []monitoring.Server{server("A", alarm("a1", st))}}
		if err := store.SaveSnapshot(ctx, a.ID, snap, monitoring.PollSuccess{PolledAt: now, NextPoll: now}); err != nil {
			t.Fatal(err)
		}
	}
	save(monitoring.StateOK)
	save(monitoring.StateCritical)
	if n := len(eventsAfter(t, store, 0)); n != 1 {
		t.Fatalf("%d events with the history on, want 1", n)
	}
	store.SetRetention(monitoring.Retention{MaxAge: 24 * time.Hour, MaxRows: 0})
	save(monitoring.StateOK)
	if n := len(eventsAfter(t, store, 0)); n != 1 {
		t.Errorf("%d events after a change with the history off, want the 1 from before", n)
	}
	if n, err := store.PruneEvents(ctx); err != nil || n != 1 {
		t.Errorf("pruning with the history off deleted %d (%v), want everything", n, err)
	}
}

// addEvents records n state changes of account id by saving snapshots that
// flip one alarm, and returns the events, oldest first.
func addEvents(t *testing.T, store *sqlite.Store, id int64, n int) []monitoring.Event {
	t.Helper()
	ctx := context.Background()
	before := len(eventsAfter(t, store, 0))
	for i := 0; i <= n; i++ {
		st := monitoring.StateOK
		if i%2 == 1 {
			st = monitoring.StateCritical
		}
		now := time.Now()
		snap := monitoring.Snapshot{FetchedAt: now, Servers: []monitoring.Server{server("A", alarm("a1", st))}}
		if err := store.SaveSnapshot(ctx, id, snap, monitoring.PollSuccess{PolledAt: now, NextPoll: now}); err != nil {
			t.Fatal(err)
		}
	}
	evs := eventsAfter(t, store, 0)
	if len(evs)-before < n {
		t.Fatalf("%d events recorded, want at least %d", len(evs)-before, n)
	}
	return evs
}

func TestRetentionPrunesByAgeAndByCount(t *testing.T) {
	t.Parallel()
	store, _ := sqlitetest.Open(t)
	ctx := context.Background()
	a, _ := store.CreateAccount(ctx, "u1", "", "k", nil)
	evs := addEvents(t, store, a.ID, 12)
	// The oldest five are 40 days old.
	old := time.Now().Add(-40 * 24 * time.Hour).UnixMilli()
	if _, err := store.DB().ExecContext(ctx, `UPDATE events SET recorded_at = ? WHERE id <= ?`, old, evs[4].ID); err != nil {
		t.Fatal(err)
	}
	store.SetRetention(monitoring.Retention{MaxAge: 30 * 24 * time.Hour, MaxRows: 5})
	n, err := store.PruneEvents(ctx)
	if err != nil {
		t.Fatal(err)
	}
	left := eventsAfter(t, store, 0)
	if n != 7 || len(left) != 5 || left[0].ID != evs[len(evs)-5].ID {
		t.Errorf("pruned %d, kept %d from id %d; want 7 pruned (5 by age, 2 by count) and the newest 5 kept", n, len(left), left[0].ID)
	}
	if n, _ := store.PruneEvents(ctx); n != 0 {
		t.Errorf("a second round pruned %d", n)
	}
}

func TestRetentionPrunesInBatches(t *testing.T) {
	t.Parallel()
	store, _ := sqlitetest.Open(t)
	ctx := context.Background()
	a, _ := store.CreateAccount(ctx, "u1", "", "k", nil)
	addEvents(t, store, a.ID, 2)
	// 2,500 more rows, copied: more than two batches.
	if _, err := store.DB().ExecContext(ctx, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2500)
		INSERT INTO events (account_id, recorded_at, at, kind, server_id, server_label)
		SELECT ?, 1000 + i, 1000 + i, 'server_added', 'en' || i, 'host' FROM n`, a.ID); err != nil {
		t.Fatal(err)
	}
	store.SetRetention(monitoring.Retention{MaxAge: 24 * time.Hour, MaxRows: 100})
	n, err := store.PruneEvents(ctx)
	if err != nil || n != 2500 {
		t.Errorf("pruned %d (%v), want the 2,500 old rows", n, err)
	}
	var left int
	_ = store.DB().QueryRowContext(ctx, `SELECT count(*) FROM events`).Scan(&left)
	if left != 2 {
		t.Errorf("%d rows left, want 2", left)
	}
}
