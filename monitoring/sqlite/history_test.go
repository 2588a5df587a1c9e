package sqlite_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"cmdash/migrations"
	"cmdash/monitoring"
	"cmdash/monitoring/fakerax"
	"cmdash/monitoring/fakerax/fakeraxtest"
	"cmdash/monitoring/poller"
	"cmdash/monitoring/rackspace"
	"cmdash/monitoring/sqlite"
	"cmdash/monitoring/sqlite/sqlitetest"
)

// describe writes an event as "kind server/alarm from>to".
func describe(e monitoring.Event) string {
	s := string(e.Kind) + " " + e.ServerID
	if e.AlarmID != "" {
		s += "/" + e.AlarmID
	}
	return s + " " + string(e.From) + ">" + string(e.To)
}

// eventsAfter returns every event with an id above after, oldest first.
func eventsAfter(t *testing.T, store *sqlite.Store, after int64) []monitoring.Event {
	t.Helper()
	evs, _, err := store.Events(context.Background(), monitoring.EventQuery{Limit: monitoring.MaxEventLimit})
	if err != nil {
		t.Fatal(err)
	}
	var out []monitoring.Event
	for _, e := range evs {
		if e.ID > after {
			out = append(out, e)
		}
	}
	slices.Reverse(out)
	return out
}

// countedState is what the tile counts for an alarm as the fake serves it.
func countedState(a fakerax.Alarm) monitoring.State {
	if a.Disabled {
		return ""
	}
	return monitoring.ParseState(a.State) // "" (not evaluated) is UNKNOWN
}

// expectedChanges is the changes between two of the fake's models, worked
// out from the fake's own view of its accounts, independently of the
// dashboard's snapshots.
func expectedChanges(before, after []fakerax.Entity) []string {
	worst := func(e fakerax.Entity) monitoring.State {
		var w monitoring.State
		for _, a := range e.Alarms {
			if st := countedState(a); st != "" && (w == "" || st.Worse(w)) {
				w = st
			}
		}
		return w
	}
	old := map[string]fakerax.Entity{}
	for _, e := range before {
		old[e.ID] = e
	}
	var out []string
	seen := map[string]bool{}
	for _, n := range after {
		seen[n.ID] = true
		o, ok := old[n.ID]
		if !ok {
			out = append(out, fmt.Sprintf("server_added %s >%s", n.ID, worst(n)))
			continue
		}
		oa := map[string]fakerax.Alarm{}
		for _, a := range o.Alarms {
			oa[a.ID] = a
		}
		for _, na := range n.Alarms {
			a, ok := oa[na.ID]
			delete(oa, na.ID)
			switch {
			case !ok:
				out = append(out, fmt.Sprintf("alarm_added %s/%s >%s", n.ID, na.ID, countedState(na)))
			case !a.Disabled && na.Disabled:
				out = append(out, fmt.Sprintf("disabled %s/%s %s>", n.ID, na.ID, countedState(a)))
			case a.Disabled && !na.Disabled:
				out = append(out, fmt.Sprintf("enabled %s/%s >%s", n.ID, na.ID, countedState(na)))
			case countedState(a) != countedState(na):
				out = append(out, fmt.Sprintf("state %s/%s %s>%s", n.ID, na.ID, countedState(a), countedState(na)))
			}
		}
		for _, a := range oa {
			out = append(out, fmt.Sprintf("alarm_removed %s/%s %s>", n.ID, a.ID, countedState(a)))
		}
	}
	for _, o := range before {
		if !seen[o.ID] {
			out = append(out, fmt.Sprintf("server_removed %s %s>", o.ID, worst(o)))
		}
	}
	slices.Sort(out)
	return out
}

func describeAll(evs []monitoring.Event) []string {
	out := make([]string, 0, len(evs))
	for _, e := range evs {
		out = append(out, describe(e))
	}
	slices.Sort(out)
	return out
}

func TestEveryChangeTheFakeMakesIsRecordedOnce(t *testing.T) {
	t.Parallel()
	clock := sqlitetest.NewClock(time.Now().Add(-2 * time.Hour).Truncate(time.Minute))
	f := sqlitetest.NewPolled(t, fakerax.Config{Accounts: 1, Servers: 40, Alarms: 4, Seed: 8, Now: clock.Now,
		ChangeEvery: time.Minute, WarningShare: 0.2, CriticalShare: 0.1}, 30*time.Second)
	ctx := context.Background()
	id := f.IDs["account1"]

	if err := f.Poller.Poll(ctx, id); err != nil {
		t.Fatal(err)
	}
	if evs := eventsAfter(t, f.Store, 0); len(evs) != 0 {
		t.Fatalf("the first poll recorded %d changes: %v", len(evs), describeAll(evs))
	}
	prev := f.Fake.Entities("account1")
	var last int64
	total := 0
	for step := range 40 {
		clock.Advance(30 * time.Second)
		if err := f.Poller.Poll(ctx, id); err != nil {
			t.Fatal(err)
		}
		cur := f.Fake.Entities("account1")
		evs := eventsAfter(t, f.Store, last)
		if got, want := describeAll(evs), expectedChanges(prev, cur); !slices.Equal(got, want) {
			t.Fatalf("poll %d recorded\n  %v\nwant\n  %v", step+1, got, want)
		}
		now := map[string]fakerax.Alarm{}
		for _, e := range cur {
			for _, a := range e.Alarms {
				now[e.ID+"/"+a.ID] = a
			}
		}
		for _, e := range evs {
			if e.Kind != monitoring.EventState {
				continue
			}
			a := now[e.ServerID+"/"+e.AlarmID]
			if !e.At.Equal(a.Since) {
				t.Errorf("%s at %v, want the upstream's timestamp %v", describe(e), e.At, a.Since)
			}
			if e.Status != a.Status || e.ServerLabel == "" || e.AlarmLabel == "" {
				t.Errorf("%s: status %q, want %q, labels %q / %q", describe(e), e.Status, a.Status, e.ServerLabel, e.AlarmLabel)
			}
		}
		if len(evs) > 0 {
			last = evs[len(evs)-1].ID
		}
		total += len(evs)
		prev = cur
	}
	if total < 10 {
		t.Fatalf("only %d changes in 20 minutes of churn: the test proves little", total)
	}
}

func TestAForcedStateChangeIsRecordedOnceWithTheUpstreamTime(t *testing.T) {
	t.Parallel()
	clock := sqlitetest.NewClock(time.Now().Add(-time.Hour).Truncate(time.Millisecond))
	f := sqlitetest.NewPolled(t, fakerax.Config{Accounts: 1, Servers: 5, Alarms: 3, Seed: 3, Now: clock.Now}, 30*time.Second)
	ctx := context.Background()
	id := f.IDs["account1"]
	if err := f.Poller.Poll(ctx, id); err != nil {
		t.Fatal(err)
	}
	ent := f.Fake.Entities("account1")[0]
	al := ent.Alarms[0]
	to := "CRITICAL"
	if al.State == "CRITICAL" {
		to = "OK"
	}
	clock.Advance(time.Minute)
	if err := f.Fake.SetState("account1", ent.ID, al.ID, to); err != nil {
		t.Fatal(err)
	}
	before := time.Now()
	for range 3 { // the change, then twice the same data
		if err := f.Poller.Poll(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	evs := eventsAfter(t, f.Store, 0)
	if len(evs) != 1 {
		t.Fatalf("recorded %v, want the one change", describeAll(evs))
	}
	e := evs[0]
	if e.Kind != monitoring.EventState || e.ServerID != ent.ID || e.AlarmID != al.ID ||
		e.From != monitoring.ParseState(al.State) || e.To != monitoring.State(to) {
		t.Errorf("event %s, want state %s/%s %s>%s", describe(e), ent.ID, al.ID, al.State, to)
	}
	if !e.At.Equal(clock.Now()) {
		t.Errorf("at %v, want the fake's time of the change %v", e.At, clock.Now())
	}
	if e.RecordedAt.Before(before.Truncate(time.Millisecond)) || e.RecordedAt.After(time.Now()) {
		t.Errorf("recorded at %v, want the time of the poll", e.RecordedAt)
	}
	if e.ServerLabel != ent.Label || e.Status == "" || e.AccountID != id {
		t.Errorf("event %+v", e)
	}
}

func TestServersAppearingAndGoingAreRecorded(t *testing.T) {
	t.Parallel()
	// Without alarms, a fake account with one more server keeps the others'
	// ids and adds one; one fewer drops one.
	f := sqlitetest.NewPolled(t, fakerax.Config{Seed: 5}, 30*time.Second)
	ctx := context.Background()
	spec := fakerax.AccountSpec{Username: "grow", APIKey: "grow-key", Servers: 6}
	f.Fake.AddAccount(spec)
	acct, err := f.Store.CreateAccount(ctx, "grow", "", "grow-key", nil)
	if err != nil {
		t.Fatal(err)
	}
	var last int64
	prev := f.Fake.Entities("grow")
	for _, n := range []int{6, 8, 5} {
		spec.Servers = n
		f.Fake.AddAccount(spec)
		if err := f.Poller.Poll(ctx, acct.ID); err != nil {
			t.Fatal(err)
		}
		cur := f.Fake.Entities("grow")
		evs := eventsAfter(t, f.Store, last)
		want := expectedChanges(prev, cur)
		if last == 0 && n == 6 {
			want = nil // the first poll
		}
		if got := describeAll(evs); !slices.Equal(got, want) {
			t.Errorf("%d servers: recorded %v, want %v", n, got, want)
		}
		if len(evs) > 0 {
			last = evs[len(evs)-1].ID
		}
		prev = cur
	}
	var added, removed int
	for _, e := range eventsAfter(t, f.Store, 0) {
		switch e.Kind {
		case monitoring.EventServerAdded:
			added++
		case monitoring.EventServerRemoved:
			removed++
		}
		if e.ServerLabel == "" {
			t.Errorf("%s without its label", describe(e))
		}
	}
	if added != 2 || removed != 3 {
		t.Errorf("%d added and %d removed, want 2 and 3", added, removed)
	}
}

func TestAReplacedModelRecordsEveryAlarmAddedAndRemoved(t *testing.T) {
	t.Parallel()
	f := sqlitetest.NewPolled(t, fakerax.Config{Accounts: 1, Servers: 10, Alarms: 3, Seed: 6}, 30*time.Second)
	ctx := context.Background()
	id := f.IDs["account1"]
	if err := f.Poller.Poll(ctx, id); err != nil {
		t.Fatal(err)
	}
	prev := f.Fake.Entities("account1")
	acct := f.Fake.Accounts()[0]
	// The same account with more alarms per server: new alarm ids, some
	// servers kept.
	f.Fake.AddAccount(fakerax.AccountSpec{Username: acct.Username, APIKey: acct.APIKey, TenantID: acct.TenantID,
		Servers: 11, Alarms: 4, WarningShare: 0.05, CriticalShare: 0.02})
	if err := f.Poller.Poll(ctx, id); err != nil {
		t.Fatal(err)
	}
	got, want := describeAll(eventsAfter(t, f.Store, 0)), expectedChanges(prev, f.Fake.Entities("account1"))
	if !slices.Equal(got, want) {
		t.Fatalf("recorded\n  %v\nwant\n  %v", got, want)
	}
	kinds := map[string]bool{}
	for _, g := range got {
		kinds[strings.Fields(g)[0]] = true
	}
	if !kinds["alarm_added"] || !kinds["alarm_removed"] {
		t.Errorf("kinds %v: the test wants alarms added and removed", kinds)
	}
}

func TestARestartOrAReaddedAccountRecordsNothingSpurious(t *testing.T) {
	t.Parallel()
	store, path := sqlitetest.Open(t)
	ctx := context.Background()
	fake, ts := fakeraxtest.NewServer(t, fakerax.Config{Accounts: 1, Servers: 30, Alarms: 4, Seed: 10})
	client := rackspace.NewClient(fake.IdentityURL(ts.URL), &http.Client{Timeout: 10 * time.Second})
	acct := fake.Accounts()[0]
	a, err := store.CreateAccount(ctx, acct.Username, "", acct.APIKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	poll := func(s *sqlite.Store, id int64) {
		t.Helper()
		p := poller.New(s, client, poller.Config{Interval: 30 * time.Second})
		if err := p.Poll(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	poll(store, a.ID)
	poll(store, a.ID)

	reopen := func() *sqlite.Store {
		t.Helper()
		db, err := sqlite.OpenDB(ctx, path, migrations.FS)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		sealer, _ := sqlite.NewSealer(sqlitetest.Secret)
		return sqlite.NewStore(db, sealer)
	}
	t.Run("a restart polling the same data records nothing", func(t *testing.T) {
		fresh := reopen()
		poll(fresh, a.ID)
		if evs := eventsAfter(t, fresh, 0); len(evs) != 0 {
			t.Errorf("recorded %v", describeAll(evs))
		}
	})
	t.Run("a restart finds exactly the change made while it was down", func(t *testing.T) {
		ent := fake.Entities(acct.Username)[7]
		var al fakerax.Alarm
		for _, x := range ent.Alarms {
			if x.State != "" && !x.Disabled {
				al = x
				break
			}
		}
		to := "WARNING"
		if al.State == to {
			to = "OK"
		}
		if err := fake.SetState(acct.Username, ent.ID, al.ID, to); err != nil {
			t.Fatal(err)
		}
		fresh := reopen()
		poll(fresh, a.ID)
		want := []string{fmt.Sprintf("state %s/%s %s>%s", ent.ID, al.ID, al.State, to)}
		if got := describeAll(eventsAfter(t, fresh, 0)); !slices.Equal(got, want) {
			t.Errorf("recorded %v, want %v", got, want)
		}
	})
	t.Run("a snapshot stored whole, as before pages, compares without spurious changes", func(t *testing.T) {
		snap, err := store.Snapshot(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		whole, _ := json.Marshal(snap)
		if _, err := store.DB().ExecContext(ctx, `DELETE FROM snapshot_pages WHERE account_id = ?`, a.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := store.DB().ExecContext(ctx, `UPDATE snapshots SET data = ? WHERE account_id = ?`, whole, a.ID); err != nil {
			t.Fatal(err)
		}
		fresh := reopen()
		n := len(eventsAfter(t, fresh, 0))
		poll(fresh, a.ID)
		if evs := eventsAfter(t, fresh, 0); len(evs) != n {
			t.Errorf("recorded %v", describeAll(evs[n:]))
		}
	})
	t.Run("an account removed and added again starts afresh", func(t *testing.T) {
		if err := store.DeleteAccount(ctx, a.ID); err != nil {
			t.Fatal(err)
		}
		if evs := eventsAfter(t, store, 0); len(evs) != 0 {
			t.Errorf("a removed account's history stayed: %v", describeAll(evs))
		}
		again, err := store.CreateAccount(ctx, acct.Username, "", acct.APIKey, nil)
		if err != nil {
			t.Fatal(err)
		}
		_ = fake.SetState(acct.Username, fake.Entities(acct.Username)[3].ID, "", "CRITICAL")
		poll(store, again.ID)
		if evs := eventsAfter(t, store, 0); len(evs) != 0 {
			t.Errorf("the first poll of the account added again recorded %v", describeAll(evs))
		}
	})
}

// Hand-made snapshots, for what the fake cannot do (disable an alarm).

func alarm(id string, st monitoring.State) monitoring.Alarm {
	return monitoring.Alarm{ID: id, Label: "alarm " + id, State: st, Status: "status of " + string(st), Evaluated: true}
}

func server(id string, alarms ...monitoring.Alarm) monitoring.Server {
	s := monitoring.Server{ID: id, Label: "host " + id, Alarms: alarms}
	s.Tally()
	return s
}

func disabled(a monitoring.Alarm) monitoring.Alarm { a.Disabled = true; return a }
func orphan(a monitoring.Alarm) monitoring.Alarm   { a.Orphan = true; return a }
func since(a monitoring.Alarm, t time.Time) monitoring.Alarm {
	a.Since = t
	return a
}

func TestEachKindOfChangeIsRecordedWithItsStatesAndTime(t *testing.T) {
	t.Parallel()
	store, _ := sqlitetest.Open(t)
	ctx := context.Background()
	a, _ := store.CreateAccount(ctx, "u1", "", "k", nil)
	t0 := time.Now().Add(-time.Hour).Truncate(time.Millisecond).UTC()
	const (
		ok, warn, crit, unknown = monitoring.StateOK, monitoring.StateWarning, monitoring.StateCritical, monitoring.StateUnknown
	)
	unevaluated := monitoring.Alarm{ID: "a4", Label: "alarm a4", State: unknown}
	steps := []struct {
		name    string
		servers []monitoring.Server
		want    []string
		at      map[string]time.Time // by "server/alarm": the event's At; the poll's time otherwise
	}{
		{"the first poll records nothing",
			[]monitoring.Server{server("A", alarm("a1", ok), alarm("a2", ok), disabled(alarm("a3", ok))), server("B", alarm("b1", warn))},
			nil, nil},
		{"a counted state change, not a disabled alarm's, nor a status",
			[]monitoring.Server{
				server("A", since(alarm("a1", crit), t0.Add(time.Minute)), alarm("a2", ok), disabled(alarm("a3", crit))),
				server("B", monitoring.Alarm{ID: "b1", Label: "alarm b1", State: warn, Status: "other words", Evaluated: true}),
			},
			[]string{"state A/a1 OK>CRITICAL"}, map[string]time.Time{"A/a1": t0.Add(time.Minute)}},
		{"disabled, enabled, and a server gone",
			[]monitoring.Server{server("A", since(alarm("a1", crit), t0.Add(time.Minute)), disabled(alarm("a2", ok)), alarm("a3", crit))},
			[]string{"disabled A/a2 OK>", "enabled A/a3 >CRITICAL", "server_removed B WARNING>"}, nil},
		{"an alarm gone, one not evaluated yet, and a server new",
			[]monitoring.Server{server("A", since(alarm("a1", crit), t0.Add(time.Minute)), alarm("a3", crit), unevaluated),
				server("C", alarm("c1", ok), disabled(alarm("c2", crit)))},
			[]string{"alarm_removed A/a2 >", "alarm_added A/a4 >UNKNOWN", "server_added C >OK"}, nil},
		{"evaluated at last, without a timestamp; an alarm whose state outlives it",
			[]monitoring.Server{server("A", orphan(alarm("a1", crit)), alarm("a3", crit), alarm("a4", ok)),
				server("C", alarm("c1", ok), disabled(alarm("c2", crit)))},
			[]string{"alarm_removed A/a1 CRITICAL>", "state A/a4 UNKNOWN>OK"}, nil},
		{"an alarm back; a timestamp after the poll is taken as the poll's",
			[]monitoring.Server{server("A", alarm("a1", crit), since(alarm("a3", warn), time.Now().Add(time.Hour)), alarm("a4", ok)),
				server("C", alarm("c1", ok), disabled(alarm("c2", crit)))},
			[]string{"alarm_added A/a1 >CRITICAL", "state A/a3 CRITICAL>WARNING"}, nil},
	}
	var last int64
	for i, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			polled := t0.Add(time.Duration(i+2) * time.Minute)
			snap := monitoring.Snapshot{FetchedAt: polled, Servers: st.servers}
			if err := store.SaveSnapshot(ctx, a.ID, snap, monitoring.PollSuccess{PolledAt: polled, NextPoll: polled}); err != nil {
				t.Fatal(err)
			}
			evs := eventsAfter(t, store, last)
			got := make([]string, 0, len(evs))
			for _, e := range evs {
				got = append(got, describe(e))
			}
			if !slices.Equal(got, st.want) { // in their stable order: server, its own event, alarm
				t.Fatalf("recorded %v, want %v", got, st.want)
			}
			for _, e := range evs {
				key := e.ServerID
				if e.AlarmID != "" {
					key += "/" + e.AlarmID
				}
				want, ok := st.at[key]
				if !ok {
					want = polled
				}
				if !e.At.Equal(want) {
					t.Errorf("%s at %v, want %v", describe(e), e.At, want)
				}
				if e.ServerLabel != "host "+e.ServerID || (e.AlarmID != "" && e.AlarmLabel != "alarm "+e.AlarmID) {
					t.Errorf("%s labelled %q / %q", describe(e), e.ServerLabel, e.AlarmLabel)
				}
				if e.To != "" && e.To != monitoring.StateUnknown && e.AlarmID != "" && e.Status != "status of "+string(e.To) {
					t.Errorf("%s with the status %q", describe(e), e.Status)
				}
			}
			if len(evs) > 0 {
				last = evs[len(evs)-1].ID
			}
		})
	}
}

func TestAServerMovingBetweenPagesIsNoChange(t *testing.T) {
	t.Parallel()
	store, _ := sqlitetest.Open(t)
	ctx := context.Background()
	a, _ := store.CreateAccount(ctx, "u1", "", "k", nil)
	srv := func(i int, st monitoring.State) monitoring.Server {
		return server(fmt.Sprintf("en%02d", i), alarm("al", st), alarm("disk", monitoring.StateOK))
	}
	page := func(from, to int, crit ...int) []monitoring.Server {
		var out []monitoring.Server
		for i := from; i < to; i++ {
			st := monitoring.StateOK
			if slices.Contains(crit, i) {
				st = monitoring.StateCritical
			}
			out = append(out, srv(i, st))
		}
		return out
	}
	poll := func(pages ...[]monitoring.Server) []string {
		t.Helper()
		evs := eventsAfter(t, store, 0)
		w, err := store.BeginPoll(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range pages {
			w.Page(p)
		}
		now := time.Now()
		saved, err := w.Save(ctx, monitoring.PollSuccess{PolledAt: now, NextPoll: now})
		if err != nil {
			t.Fatal(err)
		}
		if saved.HistoryErr != nil {
			t.Fatal(saved.HistoryErr)
		}
		return describeAll(eventsAfter(t, store, 0)[len(evs):])
	}
	poll(page(0, 4), page(4, 8), page(8, 10))
	if got := poll(page(0, 3), page(3, 8, 6), page(8, 10)); !slices.Equal(got, []string{"state en06/al OK>CRITICAL"}) {
		t.Errorf("a server moved to the next page, another changed: recorded %v", got)
	}
	if got := poll(page(0, 4), page(4, 8, 6), page(8, 10)); len(got) != 0 {
		t.Errorf("the server moved back: recorded %v", got)
	}
	want := []string{"server_removed en08 OK>", "server_removed en09 OK>"}
	if got := poll(page(0, 4), page(4, 8, 6)); !slices.Equal(got, want) {
		t.Errorf("the last page gone: recorded %v, want %v", got, want)
	}
	if got := poll(page(1, 5, 1), page(5, 8, 6), page(0, 1)); !slices.Equal(got, []string{"state en01/al OK>CRITICAL"}) {
		t.Errorf("the first server moved to a new last page: recorded %v", got)
	}
}

func TestEventsSelectAndPageWithoutSkippingOrRepeating(t *testing.T) {
	t.Parallel()
	store, _ := sqlitetest.Open(t)
	ctx := context.Background()
	a, _ := store.CreateAccount(ctx, "u1", "", "k", nil)
	b, _ := store.CreateAccount(ctx, "u2", "", "k", nil)
	// Rows with known times: three per millisecond, two accounts.
	if _, err := store.DB().ExecContext(ctx, `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 29)
		INSERT INTO events (account_id, recorded_at, at, kind, server_id, server_label, alarm_id)
		SELECT CASE WHEN i % 2 = 0 THEN ? ELSE ? END, 5000 + i / 3, 4000 + i, 'state', 'en' || (i % 4), 'host', 'al' || (i % 3) FROM n`,
		a.ID, b.ID); err != nil {
		t.Fatal(err)
	}
	all, more, err := store.Events(ctx, monitoring.EventQuery{Oldest: true, Limit: 1000})
	if err != nil || more || len(all) != 30 {
		t.Fatalf("every event: %d, more %v, %v", len(all), more, err)
	}
	for i := 1; i < len(all); i++ {
		if all[i].ID <= all[i-1].ID {
			t.Fatal("not oldest first")
		}
	}
	newest, _, _ := store.Events(ctx, monitoring.EventQuery{Limit: 2})
	if len(newest) != 3 || newest[0].ID != all[29].ID {
		t.Errorf("newest first, limit 2: %d events from id %d; want the last millisecond's 3 from id %d", len(newest), newest[0].ID, all[29].ID)
	}

	for _, limit := range []int{1, 2, 3, 4, 7, 1000} {
		t.Run(fmt.Sprintf("forward by %d", limit), func(t *testing.T) {
			var got []int64
			since := time.UnixMilli(0)
			for range 40 {
				page, more, err := store.Events(ctx, monitoring.EventQuery{Oldest: true, Since: since, Limit: limit})
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range page {
					got = append(got, e.ID)
				}
				if len(page) > 0 {
					since = page[len(page)-1].RecordedAt
				}
				if !more {
					break
				}
			}
			if len(got) != 30 || !slices.IsSorted(got) || got[0] != all[0].ID {
				t.Errorf("paged through %v", got)
			}
		})
	}
	t.Run("back by 4", func(t *testing.T) {
		var got []int64
		var before time.Time
		for range 40 {
			page, more, err := store.Events(ctx, monitoring.EventQuery{Before: before, Limit: 4})
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range page {
				got = append(got, e.ID)
			}
			if len(page) > 0 {
				before = page[len(page)-1].RecordedAt
			}
			if !more {
				break
			}
		}
		if len(got) != 30 {
			t.Errorf("paged back through %d events", len(got))
		}
	})
	t.Run("filters", func(t *testing.T) {
		tests := []struct {
			q    monitoring.EventQuery
			want int
		}{
			{monitoring.EventQuery{AccountID: a.ID}, 15},
			{monitoring.EventQuery{AccountID: a.ID, ServerID: "en2"}, 7},
			{monitoring.EventQuery{AccountID: b.ID, ServerID: "en2"}, 0},
			{monitoring.EventQuery{ServerID: "en1", AlarmID: "al1"}, 3},
			{monitoring.EventQuery{Since: time.UnixMilli(5007)}, 6},
			{monitoring.EventQuery{Since: time.UnixMilli(5002), Before: time.UnixMilli(5005)}, 6},
		}
		for _, tt := range tests {
			tt.q.Limit = 1000
			evs, _, err := store.Events(ctx, tt.q)
			if err != nil || len(evs) != tt.want {
				t.Errorf("%+v: %d events (%v), want %d", tt.q, len(evs), err, tt.want)
			}
		}
	})
	t.Run("more in one millisecond than the limit: all of it", func(t *testing.T) {
		evs, more, _ := store.Events(ctx, monitoring.EventQuery{Oldest: true, Since: time.UnixMilli(5003), Limit: 2})
		if len(evs) != 3 || !more || !evs[0].RecordedAt.Equal(time.UnixMilli(5004)) {
			t.Errorf("%d events, more %v", len(evs), more)
		}
		evs, more, _ = store.Events(ctx, monitoring.EventQuery{Oldest: true, Since: time.UnixMilli(5008), Limit: 1})
		if len(evs) != 3 || more {
			t.Errorf("the last millisecond: %d events, more %v", len(evs), more)
		}
	})
}

func TestAStoredPageThatWillNotReadOrHasMovedIsHandled(t *testing.T) {
	t.Parallel()
	store, _ := sqlitetest.Open(t)
	ctx := context.Background()
	a, _ := store.CreateAccount(ctx, "u1", "", "k", nil)
	build := func(st monitoring.State) monitoring.PollWriter {
		t.Helper()
		w, err := store.BeginPoll(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		w.Page([]monitoring.Server{server("A", alarm("a1", st))})
		return w
	}
	saveReport := func(w monitoring.PollWriter) (monitoring.PollSaved, error) {
		now := time.Now()
		return w.Save(ctx, monitoring.PollSuccess{PolledAt: now, NextPoll: now})
	}
	save := func(w monitoring.PollWriter) error {
		_, err := saveReport(w)
		return err
	}
	if err := save(build(monitoring.StateOK)); err != nil {
		t.Fatal(err)
	}

	t.Run("a page that will not read: the snapshot is stored, no change recorded, and the next poll compares again", func(t *testing.T) {
		if _, err := store.DB().ExecContext(ctx, `UPDATE snapshot_pages SET data = x'1f8b00' WHERE account_id = ?`, a.ID); err != nil {
			t.Fatal(err)
		}
		saved, err := saveReport(build(monitoring.StateCritical))
		if err != nil {
			t.Fatal(err)
		}
		if saved.HistoryErr == nil {
			t.Error("no history error")
		}
		if snap, _ := store.Snapshot(ctx, a.ID); snap == nil || snap.Servers[0].Alarms[0].State != monitoring.StateCritical {
			t.Fatal("the snapshot was not stored")
		}
		if err := save(build(monitoring.StateWarning)); err != nil {
			t.Fatal(err)
		}
		if got := describeAll(eventsAfter(t, store, 0)); !slices.Equal(got, []string{"state A/a1 CRITICAL>WARNING"}) {
			t.Errorf("recorded %v", got)
		}
	})
	t.Run("pages written by someone else meanwhile: the poll is not stored", func(t *testing.T) {
		n := len(eventsAfter(t, store, 0))
		stale := build(monitoring.StateOK)
		if err := save(build(monitoring.StateCritical)); err != nil {
			t.Fatal(err)
		}
		if err := save(stale); err == nil {
			t.Error("a poll compared with pages since replaced was stored")
		}
		if got := eventsAfter(t, store, 0); len(got) != n+1 {
			t.Errorf("recorded %v", describeAll(got[n:]))
		}
		if err := save(build(monitoring.StateOK)); err != nil {
			t.Fatalf("the next poll: %v", err)
		}
	})
}

// Two polls stored in the same millisecond: a reader that saw the first
// and asks for what was recorded since must get the second.
func TestPollsInOneMillisecondAreRecordedApart(t *testing.T) {
	t.Parallel()
	store, _ := sqlitetest.Open(t)
	ctx := context.Background()
	frozen := time.Now().Add(-time.Minute).Truncate(time.Millisecond).UTC()
	store.SetClock(func() time.Time { return frozen })
	a, _ := store.CreateAccount(ctx, "u1", "", "k", nil)
	b, _ := store.CreateAccount(ctx, "u2", "", "k2", nil)
	save := func(id int64, st monitoring.State) {
		t.Helper()
		snap := monitoring.Snapshot{FetchedAt: frozen, Servers: []monitoring.Server{server("A", alarm("a1", st))}}
		if err := store.SaveSnapshot(ctx, id, snap, monitoring.PollSuccess{PolledAt: frozen, NextPoll: frozen}); err != nil {
			t.Fatal(err)
		}
	}
	save(a.ID, monitoring.StateOK)
	save(b.ID, monitoring.StateOK)
	save(a.ID, monitoring.StateCritical)
	first, _, err := store.Events(ctx, monitoring.EventQuery{Oldest: true})
	if err != nil || len(first) != 1 {
		t.Fatalf("%d events, %v; want the first change", len(first), err)
	}
	save(b.ID, monitoring.StateWarning) // the same millisecond
	next, _, err := store.Events(ctx, monitoring.EventQuery{Since: first[0].RecordedAt, Oldest: true})
	if err != nil || len(next) != 1 || next[0].AccountID != b.ID {
		t.Fatalf("since the first: %+v, %v; want the second poll's change", next, err)
	}
}

// How long a problem lasted counts from its own start, not from an
// earlier one the alarm recovered from.
func TestAProblemStartsAfterTheLastRecovery(t *testing.T) {
	t.Parallel()
	store, _ := sqlitetest.Open(t)
	ctx := context.Background()
	a, _ := store.CreateAccount(ctx, "u1", "", "k", nil)
	t0 := time.Now().Add(-10 * time.Hour).Truncate(time.Millisecond).UTC()
	ok, warn, crit := monitoring.StateOK, monitoring.StateWarning, monitoring.StateCritical
	steps := []struct {
		after time.Duration
		a1    monitoring.Alarm
	}{
		{0, alarm("a1", ok)},
		{time.Hour, since(alarm("a1", crit), t0.Add(time.Hour))},                                     // a problem begins
		{2 * time.Hour, since(alarm("a1", ok), t0.Add(2*time.Hour))},                                 // and ends after 1 h
		{3 * time.Hour, disabled(alarm("a1", ok))},                                                   // not counted
		{5 * time.Hour, since(alarm("a1", warn), t0.Add(5*time.Hour))},                               // enabled in trouble
		{5*time.Hour + 30*time.Minute, since(alarm("a1", crit), t0.Add(5*time.Hour+30*time.Minute))}, // worse
		{6 * time.Hour, since(alarm("a1", ok), t0.Add(6*time.Hour))},                                 // ends after 1 h
	}
	for _, st := range steps {
		polled := t0.Add(st.after)
		snap := monitoring.Snapshot{FetchedAt: polled, Servers: []monitoring.Server{server("A", st.a1)}}
		if err := store.SaveSnapshot(ctx, a.ID, snap, monitoring.PollSuccess{PolledAt: polled, NextPoll: polled}); err != nil {
			t.Fatal(err)
		}
	}
	evs, _, err := store.Events(ctx, monitoring.EventQuery{})
	if err != nil {
		t.Fatal(err)
	}
	starts, err := store.ProblemStarts(ctx, evs)
	if err != nil {
		t.Fatal(err)
	}
	var lasted []time.Duration
	for _, e := range evs {
		if e.Resolves() {
			lasted = append(lasted, e.At.Sub(starts[e.ID]))
		}
	}
	if !slices.Equal(lasted, []time.Duration{time.Hour, time.Hour}) {
		t.Errorf("problems lasted %v (newest first), want 1h and 1h", lasted)
	}
}
