package sqlite_test

import (
	"context"
	"testing"
	"time"

	"cmdash/monitoring"
	"cmdash/monitoring/sqlite"
	"cmdash/monitoring/sqlite/sqlitetest"
)

// TestAFollowerSeesWhatAnotherProcessWrote opens one file twice, as a
// writer and as a replica's reader: a poll the writer stores reaches the
// reader's summaries (which it keeps in memory) and wakes its wall, and the
// reader's own side writes are skipped.
func TestAFollowerSeesWhatAnotherProcessWrote(t *testing.T) {
	t.Parallel()
	writer, path := sqlitetest.Open(t)
	ctx := context.Background()
	a, err := writer.CreateAccount(ctx, "u1", "", "k", nil)
	if err != nil {
		t.Fatal(err)
	}
	save := func(label string, state monitoring.State) {
		t.Helper()
		now := time.Now()
		snap := monitoring.Snapshot{FetchedAt: now, Servers: []monitoring.Server{{ID: "enA", Label: label, Worst: state,
			Alarms: []monitoring.Alarm{{ID: "al1", Label: "cpu", State: state, Evaluated: true}}}}}
		if err := writer.SaveSnapshot(ctx, a.ID, snap, monitoring.PollSuccess{PolledAt: now, NextPoll: now.Add(time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	save("web-1", monitoring.StateOK)

	db, err := sqlite.OpenReplica(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	sealer, _ := sqlite.NewSealer(sqlitetest.Secret)
	reader := sqlite.NewStore(db, sealer)
	reader.SetReadOnly(true)
	woke := make(chan struct{}, 16)
	reader.OnChange(func() {
		select {
		case woke <- struct{}{}:
		default:
		}
	})
	if sum, err := reader.Summary(ctx, a.ID); err != nil || sum == nil || sum.Servers[0].Worst != monitoring.StateOK {
		t.Fatalf("reader's first summary = %+v, %v", sum, err)
	}

	fctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		reader.Follow(fctx, 10*time.Millisecond, func(err error) { t.Errorf("Follow: %v", err) })
	}()
	time.Sleep(50 * time.Millisecond) // Follow has read the first data_version
	gen := reader.Generation()
	save("web-1", monitoring.StateCritical)
	select {
	case <-woke:
	case <-time.After(5 * time.Second):
		t.Fatal("the reader was not woken by the writer's commit")
	}
	if reader.Generation() == gen {
		t.Error("the reader's generation did not advance")
	}
	sum, err := reader.Summary(ctx, a.ID)
	if err != nil || sum == nil || sum.Servers[0].Worst != monitoring.StateCritical {
		t.Errorf("reader's summary after the writer's poll = %+v, %v; want the CRITICAL one", sum, err)
	}
	stop()
	<-done
}
