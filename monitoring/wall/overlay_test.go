package wall

import (
	"context"
	"slices"
	"testing"
	"time"

	"cmdash/monitoring"
)

// bare builds the fixture's model without any overlay.
func bare(in *Input, now time.Time) *Model {
	return build(in, nil, now, Options{PollInterval: interval}, nil)
}

// Each overlay on its own: what it reads, and what it puts on a model
// built without it.

func TestTheAcksOverlayAlone(t *testing.T) {
	t.Parallel()
	in := fixture()
	src := &fakeSource{in: Input{Acks: []monitoring.Ack{serverAck("en2")}}}
	if err := (Acks{}).Load(context.Background(), src, &in); err != nil || len(in.Acks) != 1 {
		t.Fatalf("loaded %v, %v", in.Acks, err)
	}
	m := bare(&in, t0)
	if m.Section(1).Tiles[1].Acked {
		t.Fatal("acknowledged without the overlay")
	}
	Acks{}.Apply(&in, nil, m, t0)
	if t2 := m.Section(1).Tiles[1]; t2.Ack == nil || t2.Ack.ServerID != "en2" {
		t.Errorf("en2 tells of acknowledgement %+v, want its own", t2.Ack)
	}
	if !m.Section(1).Tiles[1].Acked || m.Section(1).Tiles[0].Acked {
		t.Errorf("acked: en1 %v, en2 %v; want en2 only", m.Section(1).Tiles[0].Acked, m.Section(1).Tiles[1].Acked)
	}
}

func TestTheMarksOverlayAlone(t *testing.T) {
	t.Parallel()
	in := fixture()
	mk := &Marks{Window: time.Minute}
	prev := bare(&in, t0)
	mk.Apply(&in, nil, prev, t0)
	if prev.Section(1).Tiles[2].Change != ChangeNone {
		t.Fatal("the first model has a mark")
	}
	in.Snapshots[1].Servers[2] = server("en3", "web-1", ok, crit) // web-1 turns CRITICAL
	m := bare(&in, t0.Add(time.Second))
	mk.Apply(&in, prev, m, t0.Add(time.Second))
	if got := m.Section(1).Tiles[2]; got.Change != ChangeWorse || !got.ChangedAt.Equal(t0.Add(time.Second)) {
		t.Errorf("web-1 marked %q at %v, want %q at the build", got.Change, got.ChangedAt, ChangeWorse)
	}
	later := bare(&in, t0.Add(2*time.Minute))
	mk.Apply(&in, m, later, t0.Add(2*time.Minute))
	if later.Section(1).Tiles[2].Change != ChangeNone {
		t.Error("a mark outlived its window")
	}
}

func TestTheLatestOverlayAlone(t *testing.T) {
	t.Parallel()
	in := fixture()
	older := monitoring.Event{ID: 1, At: t0.Add(-time.Minute), RecordedAt: t0}
	newer := monitoring.Event{ID: 2, At: t0.Add(-time.Second), RecordedAt: t0.Add(-time.Second)}
	src := &fakeSource{in: Input{Recent: []monitoring.Event{older, newer}}}
	if err := (Latest{}).Load(context.Background(), src, &in); err != nil {
		t.Fatal(err)
	}
	m := bare(&in, t0)
	if len(m.Recent) != 0 {
		t.Fatal("latest changes without the overlay")
	}
	Latest{}.Apply(&in, nil, m, t0)
	if ids := []int64{m.Recent[0].ID, m.Recent[1].ID}; !slices.Equal(ids, []int64{2, 1}) {
		t.Errorf("order %v, want the newest change first by when it happened", ids)
	}
}

func TestTheAgeingOverlayAlone(t *testing.T) {
	in := fixture()
	api := &in.Snapshots[1].Servers[0] // api-1, CRITICAL
	api.Alarms = []monitoring.Alarm{{ID: "c", Label: "disk", State: crit, Since: t0.Add(-20 * time.Minute)}}
	db := &in.Snapshots[1].Servers[1] // db-1, WARNING
	db.Alarms = []monitoring.Alarm{{ID: "w", Label: "load", State: warn, Since: t0.Add(-time.Hour)}}
	m := bare(&in, t0)
	if got := m.Section(1).Tiles[0].Since; !got.Equal(t0.Add(-20 * time.Minute)) {
		t.Fatalf("api-1 CRITICAL since %v, want its alarm's time", got)
	}
	Ageing{After: 15 * time.Minute}.Apply(&in, nil, m, t0)
	if !m.Section(1).Tiles[0].Old || m.Section(1).Tiles[1].Old {
		t.Errorf("old: api-1 %v, db-1 %v; want the CRITICAL one only", m.Section(1).Tiles[0].Old, m.Section(1).Tiles[1].Old)
	}
	young := bare(&in, t0.Add(-10*time.Minute))
	Ageing{After: 15 * time.Minute}.Apply(&in, nil, young, t0.Add(-10*time.Minute))
	if young.Section(1).Tiles[0].Old || young.ValidAt(t0.Add(-5*time.Minute)) {
		t.Errorf("ten minutes in: old %v, and the model outlives the moment the tile turns old", young.Section(1).Tiles[0].Old)
	}
	acked := bare(&in, t0)
	acked.Section(1).Tiles[0].Acked = true
	Ageing{After: 15 * time.Minute}.Apply(&in, nil, acked, t0)
	if acked.Section(1).Tiles[0].Old {
		t.Error("an acknowledged CRITICAL is marked old")
	}
}
