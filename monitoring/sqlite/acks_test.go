package sqlite_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"cmdash/monitoring"
	"cmdash/monitoring/fakerax"
	"cmdash/monitoring/sqlite"
	"cmdash/monitoring/sqlite/sqlitetest"
)

var ackT0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// countedAlarm is a counted, evaluated alarm in state st.
func countedAlarm(id string, st monitoring.State) monitoring.Alarm {
	return monitoring.Alarm{ID: id, Label: id + "-label", State: st, Evaluated: true}
}

func srv(id string, alarms ...monitoring.Alarm) monitoring.Server {
	s := monitoring.Server{ID: id, Label: id + "-label", Alarms: alarms}
	s.Tally()
	return s
}

// ackFixture is a store whose clock the test moves, with one account whose
// latest data is:
//
//	web: cpu WARNING, disk OK                      → WARNING
//	db:  mem CRITICAL, ping OK, off WARNING (disabled) → CRITICAL
//	calm: load OK                                  → OK
type ackFixture struct {
	t     *testing.T
	ctx   context.Context
	store *sqlite.Store
	now   time.Time
	acct  monitoring.Account
}

func newAckFixture(t *testing.T) *ackFixture {
	t.Helper()
	store, _ := sqlitetest.Open(t)
	f := &ackFixture{t: t, ctx: context.Background(), store: store, now: ackT0}
	store.SetClock(func() time.Time { return f.now })
	a, err := store.CreateAccount(f.ctx, "ops", "", "key", nil)
	if err != nil {
		t.Fatal(err)
	}
	f.acct = a
	off := countedAlarm("off", monitoring.StateWarning)
	off.Disabled = true
	f.save(
		srv("web", countedAlarm("cpu", monitoring.StateWarning), countedAlarm("disk", monitoring.StateOK)),
		srv("db", countedAlarm("mem", monitoring.StateCritical), countedAlarm("ping", monitoring.StateOK), off),
		srv("calm", countedAlarm("load", monitoring.StateOK)),
	)
	return f
}

// save stores a poll of servers at the fixture's time.
func (f *ackFixture) save(servers ...monitoring.Server) {
	f.t.Helper()
	snap := monitoring.Snapshot{FetchedAt: f.now, Servers: servers}
	if err := f.store.SaveSnapshot(f.ctx, f.acct.ID, snap, monitoring.PollSuccess{PolledAt: f.now, NextPoll: f.now.Add(time.Minute)}); err != nil {
		f.t.Fatal(err)
	}
}

func (f *ackFixture) ack(server, alarm, expiry string) monitoring.Ack {
	f.t.Helper()
	a, err := f.store.CreateAck(f.ctx, monitoring.AckInput{AccountID: f.acct.ID, ServerID: server, AlarmID: alarm,
		Note: "on it", Expiry: expiry, By: "alice"})
	if err != nil {
		f.t.Fatalf("acknowledge %s/%s: %v", server, alarm, err)
	}
	return a
}

func (f *ackFixture) get(id int64) monitoring.Ack {
	f.t.Helper()
	a, err := f.store.Ack(f.ctx, id)
	if err != nil {
		f.t.Fatal(err)
	}
	return a
}

func (f *ackFixture) active() []int64 {
	f.t.Helper()
	acks, err := f.store.ActiveAcks(f.ctx)
	if err != nil {
		f.t.Fatal(err)
	}
	var ids []int64
	for _, a := range acks {
		ids = append(ids, a.ID)
	}
	return ids
}

func TestAcknowledgingAServerOrAnAlarm(t *testing.T) {
	t.Parallel()
	f := newAckFixture(t)
	gen := f.store.Generation()
	server := f.ack("web", "", "1h")
	if f.store.Generation() == gen {
		t.Error("acknowledging did not advance the generation: the wall would not show it")
	}
	want := monitoring.Ack{ID: server.ID, AccountID: f.acct.ID, ServerID: "web", ServerLabel: "web-label", Note: "on it",
		CreatedBy: "alice", CreatedAt: ackT0, ExpiresAt: ackT0.Add(time.Hour), StateAtAck: monitoring.StateWarning}
	if server != want {
		t.Errorf("server acknowledgement\n got %+v\nwant %+v", server, want)
	}
	if got := f.get(server.ID); got != want {
		t.Errorf("read back\n got %+v\nwant %+v", got, want)
	}
	alarm := f.ack("db", "mem", monitoring.AckUntilRecovered)
	if alarm.AlarmLabel != "mem-label" || !alarm.ExpiresAt.IsZero() || alarm.StateAtAck != monitoring.StateCritical || !alarm.Active() {
		t.Errorf("alarm acknowledgement until it recovers: %+v", alarm)
	}
	if got := f.active(); len(got) != 2 || got[0] != server.ID || got[1] != alarm.ID {
		t.Errorf("active %v, want [%d %d]", got, server.ID, alarm.ID)
	}
	t.Run("the note is trimmed", func(t *testing.T) {
		a, err := f.store.CreateAck(f.ctx, monitoring.AckInput{AccountID: f.acct.ID, ServerID: "web", AlarmID: "cpu",
			Note: "  rebooting  ", Expiry: "24h", By: "bob"})
		if err != nil || a.Note != "rebooting" || a.ExpiresAt != ackT0.Add(24*time.Hour) {
			t.Errorf("%+v, %v", a, err)
		}
	})
	t.Run("removing the account removes its acknowledgements", func(t *testing.T) {
		if err := f.store.DeleteAccount(f.ctx, f.acct.ID); err != nil {
			t.Fatal(err)
		}
		if got := f.active(); len(got) != 0 {
			t.Errorf("active after the account went: %v", got)
		}
	})
}

func TestBadAcknowledgementsAreRefusedWithTheFieldAtFault(t *testing.T) {
	t.Parallel()
	f := newAckFixture(t)
	f.ack("db", "mem", "4h") // so that acknowledging it again is refused
	in := func(change func(*monitoring.AckInput)) monitoring.AckInput {
		in := monitoring.AckInput{AccountID: f.acct.ID, ServerID: "web", Note: "looking", Expiry: "4h", By: "alice"}
		change(&in)
		return in
	}
	tests := []struct {
		name  string
		in    monitoring.AckInput
		field string
		kind  monitoring.AckErrorKind
		says  string
	}{
		{"an empty note", in(func(i *monitoring.AckInput) { i.Note = "" }), "note", monitoring.AckInvalid, "Write a note"},
		{"a note of spaces", in(func(i *monitoring.AckInput) { i.Note = "   " }), "note", monitoring.AckInvalid, "Write a note"},
		{"a note too long", in(func(i *monitoring.AckInput) { i.Note = strings.Repeat("é", 501) }), "note", monitoring.AckInvalid, "longer than 500"},
		{"a note with a control character", in(func(i *monitoring.AckInput) { i.Note = "a\x1b[31mb" }), "note", monitoring.AckInvalid, "U+001B"},
		{"a note that is not UTF-8", in(func(i *monitoring.AckInput) { i.Note = "a\xffb" }), "note", monitoring.AckInvalid, "UTF-8"},
		{"no expiry", in(func(i *monitoring.AckInput) { i.Expiry = "" }), "expiry", monitoring.AckInvalid, "Choose when"},
		{"an expiry out of range", in(func(i *monitoring.AckInput) { i.Expiry = "48h" }), "expiry", monitoring.AckInvalid, "Choose when"},
		{"an unknown account", in(func(i *monitoring.AckInput) { i.AccountID = 999 }), "account", monitoring.AckUnknown, "no such account"},
		{"an unknown server", in(func(i *monitoring.AckInput) { i.ServerID = "nope" }), "server", monitoring.AckUnknown, "no server"},
		{"an unknown alarm", in(func(i *monitoring.AckInput) { i.AlarmID = "nope" }), "alarm", monitoring.AckUnknown, "no alarm"},
		{"an alarm of another server", in(func(i *monitoring.AckInput) { i.AlarmID = "mem" }), "alarm", monitoring.AckUnknown, "no alarm"},
		{"an OK alarm", in(func(i *monitoring.AckInput) { i.AlarmID = "disk" }), "alarm", monitoring.AckConflict, "is OK"},
		{"a disabled alarm", in(func(i *monitoring.AckInput) { i.ServerID, i.AlarmID = "db", "off" }), "alarm", monitoring.AckConflict, "not counted"},
		{"an OK server", in(func(i *monitoring.AckInput) { i.ServerID = "calm" }), "server", monitoring.AckConflict, "is OK"},
		{"an alarm acknowledged already", in(func(i *monitoring.AckInput) { i.ServerID, i.AlarmID = "db", "mem" }), "alarm", monitoring.AckConflict, "acknowledged already (by alice)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gen := f.store.Generation()
			_, err := f.store.CreateAck(f.ctx, tt.in)
			var ae *monitoring.AckError
			if !errors.As(err, &ae) {
				t.Fatalf("err = %v, want an *AckError", err)
			}
			if ae.Field != tt.field || ae.Kind != tt.kind || !strings.Contains(ae.Message, tt.says) {
				t.Errorf("%+v, want field %q kind %d saying %q", ae, tt.field, tt.kind, tt.says)
			}
			if f.store.Generation() != gen {
				t.Error("a refused acknowledgement advanced the generation")
			}
		})
	}
	if got := f.active(); len(got) != 1 {
		t.Errorf("%d active acknowledgements after the refusals, want 1", len(got))
	}
	t.Run("a never polled account has no server to acknowledge", func(t *testing.T) {
		other, _ := f.store.CreateAccount(f.ctx, "fresh", "", "k", nil)
		_, err := f.store.CreateAck(f.ctx, monitoring.AckInput{AccountID: other.ID, ServerID: "web", Note: "n", Expiry: "1h", By: "alice"})
		var ae *monitoring.AckError
		if !errors.As(err, &ae) || ae.Field != "server" || ae.Kind != monitoring.AckUnknown {
			t.Errorf("err = %v", err)
		}
	})
}

func TestAnAcknowledgementEndsWhenItExpiresWithoutAWrite(t *testing.T) {
	t.Parallel()
	f := newAckFixture(t)
	a := f.ack("web", "", "1h")
	f.now = ackT0.Add(time.Hour - time.Millisecond)
	if got := f.active(); len(got) != 1 {
		t.Fatalf("active a moment before the expiry: %v", got)
	}
	f.now = ackT0.Add(2 * time.Hour)
	if got := f.active(); len(got) != 0 {
		t.Errorf("active after the expiry: %v", got)
	}
	got := f.get(a.ID)
	if got.Active() || got.EndedAt != ackT0.Add(time.Hour) || got.EndReason != monitoring.AckExpired {
		t.Errorf("read after the expiry: ended %v (%q), want at the expiry, expired", got.EndedAt, got.EndReason)
	}
	var ended *int64
	if err := f.store.DB().QueryRowContext(f.ctx, `SELECT ended_at FROM acks WHERE id = ?`, a.ID).Scan(&ended); err != nil || ended != nil {
		t.Fatalf("the row was written (ended_at %v, %v); expiry should need no write", ended, err)
	}
	if err := f.store.EndAck(f.ctx, a.ID, "bob"); !errors.Is(err, monitoring.ErrNotFound) {
		t.Errorf("removing an expired acknowledgement: %v, want ErrNotFound", err)
	}
	if _, err := f.store.CreateAck(f.ctx, monitoring.AckInput{AccountID: f.acct.ID, ServerID: "web", Note: "again", Expiry: "1h", By: "bob"}); err != nil {
		t.Errorf("acknowledging again after the expiry: %v", err)
	}
	t.Run("settling writes it as expired at its expiry, even when the problem recovered since", func(t *testing.T) {
		f.save(srv("web", countedAlarm("cpu", monitoring.StateOK)))
		if err := f.store.DB().QueryRowContext(f.ctx, `SELECT ended_at FROM acks WHERE id = ?`, a.ID).Scan(&ended); err != nil || ended == nil {
			t.Fatalf("ended_at %v, %v", ended, err)
		}
		if got := f.get(a.ID); got.EndedAt != ackT0.Add(time.Hour) || got.EndReason != monitoring.AckExpired {
			t.Errorf("ended %v (%q)", got.EndedAt, got.EndReason)
		}
	})
}

func TestAnAcknowledgementEndsWhenItsProblemRecoversWorsensOrGoes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		server string
		alarm  string
		next   []monitoring.Server
		want   string // "" when it holds
	}{
		{"an alarm back to OK has recovered", "db", "mem",
			[]monitoring.Server{srv("db", countedAlarm("mem", monitoring.StateOK))}, monitoring.AckRecovered},
		{"an alarm from WARNING to CRITICAL is worse", "web", "cpu",
			[]monitoring.Server{srv("web", countedAlarm("cpu", monitoring.StateCritical))}, monitoring.AckWorse},
		{"an alarm from CRITICAL to WARNING holds", "db", "mem",
			[]monitoring.Server{srv("db", countedAlarm("mem", monitoring.StateWarning))}, ""},
		{"an alarm still WARNING holds, whatever its server's other alarms do", "web", "cpu",
			[]monitoring.Server{srv("web", countedAlarm("cpu", monitoring.StateWarning), countedAlarm("disk", monitoring.StateCritical))}, ""},
		{"a disabled alarm is gone", "web", "cpu",
			[]monitoring.Server{srv("web", func() monitoring.Alarm {
				a := countedAlarm("cpu", monitoring.StateWarning)
				a.Disabled = true
				return a
			}())}, monitoring.AckGone},
		{"an alarm no longer there is gone", "web", "cpu",
			[]monitoring.Server{srv("web", countedAlarm("disk", monitoring.StateOK))}, monitoring.AckGone},
		{"a server all OK has recovered", "web", "",
			[]monitoring.Server{srv("web", countedAlarm("cpu", monitoring.StateOK), countedAlarm("disk", monitoring.StateOK))}, monitoring.AckRecovered},
		{"a WARNING server turned CRITICAL is worse", "web", "",
			[]monitoring.Server{srv("web", countedAlarm("cpu", monitoring.StateWarning), countedAlarm("disk", monitoring.StateCritical))}, monitoring.AckWorse},
		{"a WARNING server still WARNING holds", "web", "",
			[]monitoring.Server{srv("web", countedAlarm("cpu", monitoring.StateOK), countedAlarm("disk", monitoring.StateWarning))}, ""},
		{"a server no longer there is gone", "web", "",
			[]monitoring.Server{srv("db", countedAlarm("mem", monitoring.StateCritical))}, monitoring.AckGone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newAckFixture(t)
			a := f.ack(tt.server, tt.alarm, monitoring.AckUntilRecovered)
			f.now = ackT0.Add(time.Minute)
			gen := f.store.Generation()
			f.save(tt.next...)
			got := f.get(a.ID)
			if got.EndReason != tt.want {
				t.Fatalf("end reason %q, want %q", got.EndReason, tt.want)
			}
			if tt.want == "" {
				if !got.Active() || len(f.active()) != 1 {
					t.Error("not active any more")
				}
				return
			}
			if got.Active() || got.EndedAt != f.now || got.EndedBy != "" {
				t.Errorf("ended at %v by %q, want at the poll, by nobody", got.EndedAt, got.EndedBy)
			}
			if len(f.active()) != 0 {
				t.Error("still among the active")
			}
			if got := f.store.Generation(); got != gen+1 {
				t.Errorf("the poll advanced the generation by %d, want one step, its settling included", got-gen)
			}
		})
	}
}

func TestRemovingAnAcknowledgementByHand(t *testing.T) {
	t.Parallel()
	f := newAckFixture(t)
	a := f.ack("db", "", "24h")
	f.now = ackT0.Add(10 * time.Minute)
	gen := f.store.Generation()
	if err := f.store.EndAck(f.ctx, a.ID, "bob"); err != nil {
		t.Fatal(err)
	}
	if f.store.Generation() == gen {
		t.Error("removing did not advance the generation")
	}
	got := f.get(a.ID)
	if got.Active() || got.EndedAt != f.now || got.EndReason != monitoring.AckRemoved || got.EndedBy != "bob" {
		t.Errorf("removed: %+v", got)
	}
	if err := f.store.EndAck(f.ctx, a.ID, "bob"); !errors.Is(err, monitoring.ErrNotFound) {
		t.Errorf("removing twice: %v, want ErrNotFound", err)
	}
	if err := f.store.EndAck(f.ctx, 999, "bob"); !errors.Is(err, monitoring.ErrNotFound) {
		t.Errorf("removing an unknown one: %v, want ErrNotFound", err)
	}
	if _, err := f.store.Ack(f.ctx, 999); !errors.Is(err, monitoring.ErrNotFound) {
		t.Errorf("reading an unknown one: %v, want ErrNotFound", err)
	}
}

func TestEndedAcknowledgementsAreKeptAsHistory(t *testing.T) {
	t.Parallel()
	f := newAckFixture(t)
	removed := f.ack("db", "", "24h") // ends at t0+10m
	expired := f.ack("web", "", "1h") // ends at t0+1h
	f.now = ackT0.Add(10 * time.Minute)
	if err := f.store.EndAck(f.ctx, removed.ID, "bob"); err != nil {
		t.Fatal(err)
	}
	f.now = ackT0.Add(3 * time.Hour)
	current := f.ack("db", "mem", monitoring.AckUntilRecovered)
	ids := func(q monitoring.AckQuery) []int64 {
		t.Helper()
		acks, err := f.store.Acks(f.ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		var out []int64
		for _, a := range acks {
			out = append(out, a.ID)
		}
		return out
	}
	tests := []struct {
		name string
		q    monitoring.AckQuery
		want []int64
	}{
		{"by default only those in force", monitoring.AckQuery{}, []int64{current.ID}},
		{"with the ended ones, newest first", monitoring.AckQuery{IncludeEnded: true}, []int64{current.ID, expired.ID, removed.ID}},
		{"of one server", monitoring.AckQuery{AccountID: f.acct.ID, ServerID: "db", IncludeEnded: true}, []int64{current.ID, removed.ID}},
		{"of another account", monitoring.AckQuery{AccountID: f.acct.ID + 1, IncludeEnded: true}, nil},
		{"in force since a time", monitoring.AckQuery{IncludeEnded: true, Since: ackT0.Add(30 * time.Minute)}, []int64{current.ID, expired.ID}},
		{"limited", monitoring.AckQuery{IncludeEnded: true, Limit: 1}, []int64{current.ID}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ids(tt.q); !equalIDs(got, tt.want) {
				t.Errorf("%v, want %v", got, tt.want)
			}
		})
	}
	prune := func(maxAge time.Duration, maxRows int) {
		t.Helper()
		if err := f.store.PruneAcks(f.ctx, monitoring.Retention{MaxAge: maxAge, MaxRows: maxRows}); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("pruning keeps at most the newest ended rows the history keeps", func(t *testing.T) {
		prune(24*time.Hour, 1) // both ended within the age limit
		if got := ids(monitoring.AckQuery{IncludeEnded: true}); !equalIDs(got, []int64{current.ID, expired.ID}) {
			t.Errorf("one ended row kept: %v", got)
		}
	})
	t.Run("pruning drops what ended before the age limit and keeps what is in force", func(t *testing.T) {
		prune(time.Hour, 1000) // expired ended at t0+1h, two hours ago
		if got := ids(monitoring.AckQuery{IncludeEnded: true}); !equalIDs(got, []int64{current.ID}) {
			t.Errorf("after pruning to an hour ago: %v (an expiry never written counts as its end)", got)
		}
	})
	t.Run("with the history off, every ended acknowledgement goes", func(t *testing.T) {
		f.now = ackT0.Add(3*time.Hour + time.Minute)
		if err := f.store.EndAck(f.ctx, current.ID, "bob"); err != nil {
			t.Fatal(err)
		}
		f.now = f.now.Add(time.Second)
		again := f.ack("db", "mem", monitoring.AckUntilRecovered)
		timed := f.ack("web", "", "24h")
		f.now = f.now.Add(time.Minute)
		prune(0, 0)
		if got := ids(monitoring.AckQuery{IncludeEnded: true}); !equalIDs(got, []int64{timed.ID, again.ID}) {
			t.Errorf("after pruning with the history off: %v, want only the two in force", got)
		}
	})
}

func equalIDs(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestThePollerEndsAcknowledgementsWhoseAlarmRecovered(t *testing.T) {
	t.Parallel()
	f := sqlitetest.NewPolled(t, fakerax.Config{Accounts: 1, Servers: 8, Alarms: 3, Seed: 3, WarningShare: 0.5}, 30*time.Second)
	ctx := context.Background()
	id := f.IDs["account1"]
	if err := f.Poller.Poll(ctx, id); err != nil {
		t.Fatal(err)
	}
	snap, _ := f.Store.Snapshot(ctx, id)
	var server, alarmID string
	for _, s := range snap.Servers {
		for _, a := range s.Alarms {
			if a.Counted() && a.State != monitoring.StateOK && a.Evaluated && server == "" {
				server, alarmID = s.ID, a.ID
			}
		}
	}
	if server == "" {
		t.Fatal("no problem alarm in the scenario")
	}
	a, err := f.Store.CreateAck(ctx, monitoring.AckInput{AccountID: id, ServerID: server, AlarmID: alarmID, Note: "n", Expiry: "recovered", By: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Poller.Poll(ctx, id); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.Store.Ack(ctx, a.ID); !got.Active() {
		t.Fatalf("a poll with the alarm unchanged ended it: %+v", got)
	}
	if err := f.Fake.SetState("account1", server, alarmID, "OK"); err != nil {
		t.Fatal(err)
	}
	if err := f.Poller.Poll(ctx, id); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.Store.Ack(ctx, a.ID); got.Active() || got.EndReason != monitoring.AckRecovered {
		t.Errorf("after the alarm recovered: %+v", got)
	}
}

// An acknowledgement made while a poll runs was checked against the data
// before that poll; the poll's write still settles it, with the rest.
func TestAPollSettlesAnAcknowledgementMadeWhileItRan(t *testing.T) {
	t.Parallel()
	f := newAckFixture(t)
	early := f.ack("web", "", "24h") // known when the poll begins
	w, err := f.store.BeginPoll(f.ctx, f.acct.ID)
	if err != nil {
		t.Fatal(err)
	}
	late := f.ack("db", "mem", "24h") // made while the poll runs
	f.now = ackT0.Add(time.Minute)
	w.Page([]monitoring.Server{
		srv("web", countedAlarm("cpu", monitoring.StateOK), countedAlarm("disk", monitoring.StateOK)),
		srv("db", countedAlarm("mem", monitoring.StateOK), countedAlarm("ping", monitoring.StateOK)),
		srv("calm", countedAlarm("load", monitoring.StateOK)),
	})
	gen := f.store.Generation()
	if _, err := w.Save(f.ctx, monitoring.PollSuccess{PolledAt: f.now, NextPoll: f.now.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	for _, a := range []monitoring.Ack{early, late} {
		if got := f.get(a.ID); got.EndReason != monitoring.AckRecovered || got.EndedAt != f.now {
			t.Errorf("acknowledgement of %s/%s: ended %v (%q), want recovered at the poll", a.ServerID, a.AlarmID, got.EndedAt, got.EndReason)
		}
	}
	if got := f.store.Generation(); got != gen+1 {
		t.Errorf("the poll advanced the generation by %d, want one step", got-gen)
	}
}

// Acknowledgements that cannot be settled do not cost the account its
// snapshot: the poll is stored, and says why they were not settled.
func TestAPollIsStoredWhenItsAcknowledgementsCannotBeSettled(t *testing.T) {
	t.Parallel()
	f := newAckFixture(t)
	a := f.ack("web", "", "24h")
	if _, err := f.store.DB().ExecContext(f.ctx, `UPDATE acks SET created_at = 'not a time' WHERE id = ?`, a.ID); err != nil {
		t.Fatal(err)
	}
	w, err := f.store.BeginPoll(f.ctx, f.acct.ID)
	if err != nil {
		t.Fatal(err)
	}
	f.now = ackT0.Add(time.Minute)
	w.Page([]monitoring.Server{srv("web", countedAlarm("cpu", monitoring.StateOK))})
	saved, err := w.Save(f.ctx, monitoring.PollSuccess{PolledAt: f.now, NextPoll: f.now.Add(time.Minute)})
	if err != nil {
		t.Fatalf("the poll was not stored: %v", err)
	}
	if saved.AckErr == nil {
		t.Error("no word of the acknowledgements left unsettled")
	}
	if snap, _ := f.store.Snapshot(f.ctx, f.acct.ID); snap == nil || !snap.FetchedAt.Equal(f.now) || len(snap.Servers) != 1 {
		t.Errorf("stored snapshot %+v, want this poll's", snap)
	}
}
