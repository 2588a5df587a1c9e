package sqlite

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"cmdash/migrations"
	"cmdash/monitoring"
)

// An acknowledgement checked against one snapshot is not stored once a poll
// has stored another: that poll's settling could not have seen it.
func TestAnAcknowledgementCheckedAgainstAnOlderSnapshotIsNotStored(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := OpenDB(ctx, filepath.Join(t.TempDir(), "t.db"), migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sealer, _ := NewSealer("a test secret that is long enough")
	s := NewStore(db, sealer)
	acct, err := s.CreateAccount(ctx, "ops", "", "k", nil)
	if err != nil {
		t.Fatal(err)
	}
	checked := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	polled := checked.Add(30 * time.Second)
	srv := monitoring.Server{ID: "web", Label: "web", Alarms: []monitoring.Alarm{{ID: "cpu", State: monitoring.StateWarning, Evaluated: true}}}
	srv.Tally()
	if err := s.SaveSnapshot(ctx, acct.ID, monitoring.Snapshot{FetchedAt: polled, Servers: []monitoring.Server{srv}}, monitoring.PollSuccess{PolledAt: polled}); err != nil {
		t.Fatal(err)
	}
	a := monitoring.Ack{AccountID: acct.ID, ServerID: "web", ServerLabel: "web", Note: "n", CreatedBy: "alice", CreatedAt: polled, StateAtAck: monitoring.StateWarning}
	if err := s.insertAck(ctx, &a, checked); !errors.Is(err, errAckTargetMoved) {
		t.Fatalf("checked against an older snapshot: %v, want errAckTargetMoved", err)
	}
	if err := s.insertAck(ctx, &a, polled); err != nil || a.ID == 0 {
		t.Fatalf("checked against the latest snapshot: id %d, %v", a.ID, err)
	}
}
