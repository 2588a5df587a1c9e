package wall

import (
	"context"
	"slices"
	"testing"
	"time"

	"cmdash/monitoring"
)

// serverAck and alarmAck are acknowledgements in force for account 1.
func serverAck(server string) monitoring.Ack {
	return monitoring.Ack{AccountID: 1, ServerID: server}
}

func alarmAck(server, alarm string) monitoring.Ack {
	return monitoring.Ack{AccountID: 1, ServerID: server, AlarmID: alarm}
}

func TestAcknowledgedTiles(t *testing.T) {
	t.Parallel()
	// In the fixture, api-1 (en1) is CRITICAL with a critical and a warning
	// alarm, db-1 (en2) WARNING with one warning alarm, web-1 (en3) OK.
	expiring := serverAck("en2")
	expiring.ExpiresAt = t0
	ended := serverAck("en2")
	ended.EndedAt = t0.Add(-time.Minute)
	tests := []struct {
		name      string
		acks      []monitoring.Ack
		en1, en2  bool
		en1Alarms int
	}{
		{"no acknowledgements", nil, false, false, 0},
		{"a server acknowledgement mutes the server", []monitoring.Ack{serverAck("en2")}, false, true, 0},
		{"one of two problem alarms acknowledged is not enough", []monitoring.Ack{alarmAck("en1", "a")}, false, false, 1},
		{"every problem alarm acknowledged mutes the server", []monitoring.Ack{alarmAck("en1", "a"), alarmAck("en1", "b")}, true, false, 2},
		{"a server acknowledgement and an alarm one", []monitoring.Ack{alarmAck("en1", "a"), serverAck("en1")}, true, false, 1},
		{"an acknowledgement at its expiry is over", []monitoring.Ack{expiring}, false, false, 0},
		{"an ended acknowledgement is over", []monitoring.Ack{ended}, false, false, 0},
		{"another account's server of the same id is not acknowledged",
			[]monitoring.Ack{{AccountID: 2, ServerID: "en2"}}, false, false, 0},
		{"an acknowledgement of a server not in the data is ignored", []monitoring.Ack{serverAck("gone")}, false, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := fixture()
			in.Acks = tt.acks
			sec := Build(in, t0, Options{PollInterval: interval}).Section(1)
			if got := [2]bool{sec.Tiles[0].Acked, sec.Tiles[1].Acked}; got != [2]bool{tt.en1, tt.en2} {
				t.Errorf("acked api-1, db-1 = %v, want %v", got, [2]bool{tt.en1, tt.en2})
			}
			if sec.Tiles[0].AckedAlarms != tt.en1Alarms {
				t.Errorf("api-1 has %d alarms acknowledged, want %d", sec.Tiles[0].AckedAlarms, tt.en1Alarms)
			}
			if sec.Tiles[2].Acked {
				t.Error("the OK server web-1 is acknowledged")
			}
		})
	}
	t.Run("an OK server is never acknowledged, even with one in force", func(t *testing.T) {
		in := fixture()
		in.Acks = []monitoring.Ack{serverAck("en3")}
		if Build(in, t0, Options{PollInterval: interval}).Section(1).Tiles[2].Acked {
			t.Error("web-1 acknowledged")
		}
	})
}

func TestAcknowledgedServersAreCountedApart(t *testing.T) {
	t.Parallel()
	in := fixture()
	in.Acks = []monitoring.Ack{serverAck("en2"), {AccountID: 3, ServerID: "en6"}}
	m := Build(in, t0, Options{PollInterval: interval})
	if got, want := m.Section(1).Servers, (ServerCounts{Critical: 1, Warning: 1, OK: 1, Total: 3, AckedWarning: 1}); got != want {
		t.Errorf("section\n got %+v\nwant %+v", got, want)
	}
	want := ServerCounts{Critical: 1, Warning: 1, Unknown: 1, OK: 3, Total: 6, AckedWarning: 1, AckedUnknown: 1}
	if m.Summary.Servers != want {
		t.Errorf("summary\n got %+v\nwant %+v", m.Summary.Servers, want)
	}
	if m.Summary.Servers.Acked() != 2 || m.Summary.Servers.Problems() != 3 {
		t.Errorf("acked %d of %d problems, want 2 of 3", m.Summary.Servers.Acked(), m.Summary.Servers.Problems())
	}
	if v := m.View(ParseQuery("state:warning"), 0); v.Summary.Servers != (ServerCounts{Warning: 1, Total: 1, AckedWarning: 1}) {
		t.Errorf("a filtered view counts its own: %+v", v.Summary.Servers)
	}
	if v := m.View(ParseQuery("api"), 0); v.Summary.Servers.Acked() != 0 {
		t.Errorf("a view without the acknowledged server counts %d acknowledged", v.Summary.Servers.Acked())
	}
}

func TestAcknowledgedTilesComeAfterTheOthersOfTheirState(t *testing.T) {
	t.Parallel()
	in := Input{
		Accounts: []monitoring.Account{{ID: 1, Username: "a", Enabled: true}},
		Snapshots: map[int64]*monitoring.Snapshot{1: {FetchedAt: t0, Servers: []monitoring.Server{
			server("c1", "alpha", ok),
			server("c2", "bravo", warn, warn),
			server("c3", "charlie", crit, ok),
			server("c5", "echo", warn),
			server("c6", "foxtrot", crit, crit, ok),
			server("c7", "golf", crit, warn),
		}}},
		Acks: []monitoring.Ack{serverAck("c6"), serverAck("c2")},
	}
	v := Build(in, t0, Options{PollInterval: interval}).View(ParseQuery(""), 0)
	// Without acknowledgements: c6 c7 c3 c2 c5 c1.
	if got, want := tileIDs(v.Sections[0].Tiles), []string{"c7", "c3", "c6", "c5", "c2", "c1"}; !slices.Equal(got, want) {
		t.Errorf("tiles %v, want %v", got, want)
	}
}

func TestAModelIsValidUntilTheFirstAcknowledgementExpires(t *testing.T) {
	t.Parallel()
	in := fixture()
	first, later := serverAck("en2"), alarmAck("en1", "a")
	first.ExpiresAt, later.ExpiresAt = t0.Add(5*time.Minute), t0.Add(time.Hour)
	in.Acks = []monitoring.Ack{later, first, serverAck("en1")}
	// Without a poll interval, nothing turns stale: only the expiry counts.
	m := Build(in, t0, Options{})
	if !m.ValidAt(first.ExpiresAt.Add(-time.Millisecond)) {
		t.Error("not valid before the first expiry")
	}
	if m.ValidAt(first.ExpiresAt) {
		t.Error("still valid at the first expiry")
	}
	if !m.Section(1).Tiles[1].Acked {
		t.Fatal("db-1 not acknowledged before its expiry")
	}
	if Build(in, first.ExpiresAt, Options{}).Section(1).Tiles[1].Acked {
		t.Error("db-1 still acknowledged in a model built at the expiry")
	}
	t.Run("an acknowledgement until recovery sets no deadline", func(t *testing.T) {
		in.Acks = []monitoring.Ack{serverAck("en2")}
		if m := Build(in, t0, Options{}); !m.ValidAt(t0.Add(1000 * time.Hour)) {
			t.Error("the model expires")
		}
	})
}

func TestServiceReadsAcknowledgements(t *testing.T) {
	t.Parallel()
	src := &fakeSource{in: fixture()}
	now := t0
	s := NewService(src, Options{PollInterval: interval})
	s.SetClock(func() time.Time { return now })
	ctx := context.Background()
	m, err := s.Current(ctx)
	if err != nil || m.Section(1).Tiles[1].Acked {
		t.Fatalf("before: %v, acked %v", err, m.Section(1).Tiles[1].Acked)
	}
	ack := serverAck("en2")
	ack.ExpiresAt = t0.Add(time.Minute)
	src.in.Acks = []monitoring.Ack{ack}
	src.gen.Add(1)
	m2, _ := s.Current(ctx)
	if !m2.Section(1).Tiles[1].Acked || m2.Version != m.Version+1 {
		t.Errorf("after acknowledging: acked %v, version %d (was %d)", m2.Section(1).Tiles[1].Acked, m2.Version, m.Version)
	}
	now = ack.ExpiresAt // no new generation: the expiry alone rebuilds
	m3, _ := s.Current(ctx)
	if m3.Section(1).Tiles[1].Acked || m3.Version != m2.Version+1 {
		t.Errorf("at the expiry: acked %v, version %d (was %d)", m3.Section(1).Tiles[1].Acked, m3.Version, m2.Version)
	}
}
