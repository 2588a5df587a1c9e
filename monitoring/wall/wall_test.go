package wall

import (
	"context"
	"maps"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"cmdash/monitoring"
)

var t0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

const interval = 30 * time.Second

func server(id, label string, states ...monitoring.State) monitoring.Server {
	s := monitoring.Server{ID: id, Label: label, Worst: monitoring.StateOK}
	for _, st := range states {
		s.Counts.Total++
		switch st {
		case monitoring.StateOK:
			s.Counts.OK++
		case monitoring.StateWarning:
			s.Counts.Warning++
		case monitoring.StateCritical:
			s.Counts.Critical++
		default:
			s.Counts.Unknown++
		}
		if st.Worse(s.Worst) {
			s.Worst = st
		}
	}
	return s
}

const (
	ok   = monitoring.StateOK
	warn = monitoring.StateWarning
	crit = monitoring.StateCritical
	unkn = monitoring.StateUnknown
)

// fixture: "Production" (alias of acme-prod) with a critical, a warning and
// an OK server, fresh; "staging" with OK servers, fresh; "legacy" whose
// polls fail; "new" never polled.
func fixture() Input {
	return Input{
		Accounts: []monitoring.Account{
			{ID: 1, Username: "acme-prod", Alias: "Production", Enabled: true},
			{ID: 2, Username: "staging", Enabled: true},
			{ID: 3, Username: "legacy", Enabled: true, Status: monitoring.PollStatus{LastError: "Rackspace is unavailable (HTTP 503); retrying.", ErrorCount: 3}},
			{ID: 4, Username: "new", Enabled: true},
		},
		Snapshots: map[int64]*monitoring.Snapshot{
			1: {FetchedAt: t0.Add(-10 * time.Second), Servers: []monitoring.Server{
				server("en1", "api-1", ok, crit, warn),
				server("en2", "db-1", ok, warn),
				server("en3", "web-1", ok, ok),
			}},
			2: {FetchedAt: t0.Add(-20 * time.Second), Servers: []monitoring.Server{
				server("en4", "stage-web", ok),
				server("en5", "stage-db"),
			}},
			3: {FetchedAt: t0.Add(-time.Hour), Servers: []monitoring.Server{
				server("en6", "old-box", unkn, ok),
			}},
		},
		Filters: []monitoring.Filter{{ID: 1, Name: "problems", Query: "is:problem"}},
	}
}

func TestBuild(t *testing.T) {
	t.Parallel()
	m := Build(fixture(), t0, Options{PollInterval: interval})
	if len(m.Sections) != 4 {
		t.Fatalf("%d sections, want 4", len(m.Sections))
	}
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"a section is named by its alias", m.Sections[0].Name, "Production"},
		{"a section's worst state is its worst server's", m.Sections[0].Worst, crit},
		{"servers are counted by worst state", m.Sections[0].Servers, ServerCounts{Critical: 1, Warning: 1, OK: 1, Total: 3}},
		{"alarms are summed over servers", m.Sections[0].Counts, monitoring.Counts{OK: 4, Warning: 2, Critical: 1, Total: 7}},
		{"fresh data is not stale", m.Sections[0].Stale, false},
		{"fresh data carries no time, so the page does not change with every poll", m.Sections[0].DataAt, time.Time{}},
		{"a failing account is stale", m.Sections[2].Stale, true},
		{"a stale account says how old its data is", m.Sections[2].DataAt, t0.Add(-time.Hour)},
		{"a failing account keeps its error and count", [2]any{m.Sections[2].Error != "", m.Sections[2].Failures}, [2]any{true, 3}},
		{"a never-polled account has no data and is not stale without an error", [2]bool{m.Sections[3].Polled, m.Sections[3].Stale}, [2]bool{false, false}},
		{"a server with no counted alarm is OK", m.Sections[1].Tiles[1].Worst, ok},
		{"tiles keep the snapshot's order", tileIDs(m.Sections[0].Tiles), []string{"en1", "en2", "en3"}},
		{"the summary counts servers across accounts", m.Summary.Servers, ServerCounts{Critical: 1, Warning: 1, Unknown: 1, OK: 3, Total: 6}},
		{"the summary counts failing and stale accounts", [2]int{m.Summary.FailingAccounts, m.Summary.StaleAccounts}, [2]int{1, 1}},
		{"the summary's worst state is the worst of all", m.Summary.Worst, crit},
		{"saved filters are part of the model", len(m.Filters), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !equal(tt.got, tt.want) {
				t.Errorf("got %v, want %v", tt.got, tt.want)
			}
		})
	}
}

func TestStaleness(t *testing.T) {
	t.Parallel()
	in := fixture()
	tests := []struct {
		name      string
		now       time.Time
		wantStale bool
	}{
		{"data younger than three intervals is fresh", t0, false},
		{"data exactly three intervals old is still fresh", t0.Add(-10*time.Second + 3*interval), false},
		{"data older than three intervals is stale", t0.Add(-10*time.Second + 3*interval + time.Millisecond), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := Build(in, tt.now, Options{PollInterval: interval})
			if got := m.Section(1).Stale; got != tt.wantStale {
				t.Errorf("stale %v, want %v", got, tt.wantStale)
			}
		})
	}
	t.Run("a model is valid until the first account turns stale by age", func(t *testing.T) {
		m := Build(in, t0, Options{PollInterval: interval})
		// Production was fetched 10 s before t0, staging 20 s: staging turns first.
		turns := t0.Add(-20*time.Second + 3*interval)
		if !m.ValidAt(turns) {
			t.Error("not valid at the last fresh instant")
		}
		if m.ValidAt(turns.Add(time.Millisecond)) {
			t.Error("still valid after staging turned stale")
		}
		if !Build(in, turns.Add(time.Millisecond), Options{PollInterval: interval}).Section(2).Stale {
			t.Error("staging is not stale in a model built after its deadline")
		}
	})
}

func TestQuery(t *testing.T) {
	t.Parallel()
	m := Build(fixture(), t0, Options{PollInterval: interval})
	tests := []struct {
		name     string
		query    string
		account  int64
		want     []string // tile ids in order
		sections int
	}{
		{"no filter shows everything, troubled accounts first", "", 0, []string{"en1", "en2", "en3", "en6", "en4", "en5"}, 4},
		{"sort:name keeps accounts in name order", "sort:name", 0, []string{"en1", "en2", "en3", "en4", "en5", "en6"}, 4},
		{"a word matches server labels", "web", 0, []string{"en3", "en4"}, 2},
		{"a word matching the account shows all its servers", "production", 0, []string{"en1", "en2", "en3"}, 1},
		{"a word matches the username behind an alias", "acme", 0, []string{"en1", "en2", "en3"}, 1},
		{"every word must match", "stage db", 0, []string{"en5"}, 1},
		{"words are case-insensitive", "API", 0, []string{"en1"}, 1},
		{"a server id matches", "en6", 0, []string{"en6"}, 1},
		{"state: matches the worst state", "state:warning", 0, []string{"en2"}, 1},
		{"several states are alternatives", "state:critical state:unknown", 0, []string{"en1", "en6"}, 2},
		{"an unknown state word matches nothing", "state:purple", 0, nil, 0},
		{"is:problem hides OK servers", "is:problem", 0, []string{"en1", "en2", "en6"}, 2},
		{"sort:worst puts problems first without hiding", "sort:worst production", 0, []string{"en1", "en2", "en3"}, 1},
		{"problems first keeps label order within a state", "", 2, []string{"en4", "en5"}, 1},
		{"an account view shows that account only", "", 2, []string{"en4", "en5"}, 1},
		{"an account view keeps an account without matches out", "web", 3, nil, 0},
		{"sorting alone keeps sections without tiles", "sort:worst", 4, nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := m.View(ParseQuery(tt.query), tt.account)
			var got []string
			for _, s := range v.Sections {
				got = append(got, tileIDs(s.Tiles)...)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("tiles %v, want %v", got, tt.want)
			}
			if len(v.Sections) != tt.sections {
				t.Errorf("%d sections, want %d", len(v.Sections), tt.sections)
			}
			if v.Matches != len(tt.want) {
				t.Errorf("Matches %d, want %d", v.Matches, len(tt.want))
			}
		})
	}
	t.Run("a view never changes the model", func(t *testing.T) {
		_ = m.View(ParseQuery("sort:worst is:problem"), 0)
		_ = m.View(ParseQuery(""), 0)
		if got := tileIDs(m.Sections[0].Tiles); !slices.Equal(got, []string{"en1", "en2", "en3"}) {
			t.Errorf("model tiles now %v", got)
		}
	})
	t.Run("totals count before filtering, within the scope", func(t *testing.T) {
		v := m.View(ParseQuery("web"), 0)
		if v.Total != 6 || v.Accounts != 4 {
			t.Errorf("total %d over %d accounts, want 6 over 4", v.Total, v.Accounts)
		}
	})
}

func TestTileRing(t *testing.T) {
	t.Parallel()
	tile := Tile{Counts: monitoring.Counts{OK: 3, Critical: 1, Unknown: 2, Total: 6}}
	want := []Run{{crit, 1}, {unkn, 2}, {ok, 3}}
	if got := tile.Ring(); !slices.Equal(got, want) {
		t.Errorf("ring %v, want %v", got, want)
	}
	if got := (Tile{}).Ring(); len(got) != 0 {
		t.Errorf("a tile without alarms has ring %v", got)
	}
}

// fakeSource is an in-memory Source.
type fakeSource struct {
	gen   atomic.Uint64
	in    Input
	loads int
	block chan struct{} // when set, loading waits for it
	// blocked, when set, is closed once a load waits for block.
	blocked chan struct{}
}

func (f *fakeSource) Generation() uint64 { return f.gen.Load() }
func (f *fakeSource) ListAccounts(context.Context) ([]monitoring.Account, error) {
	f.loads++
	if f.block != nil {
		if f.blocked != nil {
			close(f.blocked)
		}
		<-f.block
	}
	return f.in.Accounts, nil
}
func (f *fakeSource) Summaries(context.Context) (map[int64]*monitoring.Snapshot, error) {
	return f.in.Snapshots, nil
}
func (f *fakeSource) ListFilters(context.Context) ([]monitoring.Filter, error) {
	return f.in.Filters, nil
}
func (f *fakeSource) ActiveAcks(context.Context) ([]monitoring.Ack, error) { return f.in.Acks, nil }
func (f *fakeSource) Suppressions(context.Context) (map[int64][]monitoring.Suppression, error) {
	return f.in.Windows, nil
}

// The detail pages' reads: the model's tests need none of them (the pages
// are tested against a real store in the handlers' tests).
func (f *fakeSource) Account(context.Context, int64) (monitoring.Account, error) {
	return monitoring.Account{}, monitoring.ErrNotFound
}
func (f *fakeSource) SnapshotServer(context.Context, int64, string) (*monitoring.Snapshot, error) {
	return nil, nil
}
func (f *fakeSource) Acks(context.Context, monitoring.AckQuery) ([]monitoring.Ack, error) {
	return nil, nil
}
func (f *fakeSource) Events(context.Context, monitoring.EventQuery) ([]monitoring.Event, bool, error) {
	return nil, false, nil
}
func (f *fakeSource) ProblemStarts(context.Context, []monitoring.Event) (map[int64]time.Time, error) {
	return nil, nil
}
func (f *fakeSource) Retention() monitoring.Retention { return monitoring.DefaultRetention }
func (f *fakeSource) AccountSuppressions(_ context.Context, id int64) ([]monitoring.Suppression, error) {
	return f.in.Windows[id], nil
}
func (f *fakeSource) Plans(context.Context, int64) ([]monitoring.NotificationPlan, error) {
	return nil, nil
}
func (f *fakeSource) Limits(context.Context, int64) (monitoring.Limits, error) {
	return monitoring.Limits{}, nil
}
func (f *fakeSource) ReadStatuses(context.Context, int64) (map[monitoring.ReadKind]monitoring.ReadStatus, error) {
	return nil, nil
}
func (f *fakeSource) Snapshot(context.Context, int64) (*monitoring.Snapshot, error) { return nil, nil }
func (f *fakeSource) Flapping(context.Context, time.Duration, int) ([]monitoring.Flap, error) {
	return f.in.Flapping, nil
}
func (f *fakeSource) RecentEvents(_ context.Context, n int) ([]monitoring.Event, error) {
	return f.in.Recent[:min(n, len(f.in.Recent))], nil
}

func TestService(t *testing.T) {
	t.Parallel()
	src := &fakeSource{in: fixture()}
	src.gen.Store(1)
	now := t0
	s := NewService(src, Options{PollInterval: interval})
	s.SetClock(func() time.Time { return now })
	ctx := context.Background()
	current := func() *Model {
		t.Helper()
		m, err := s.Current(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}

	first := current()
	t.Run("the model is built once per generation, not per request", func(t *testing.T) {
		for range 10 {
			if current() != first {
				t.Fatal("a new model without a change")
			}
		}
		if src.loads != 1 {
			t.Errorf("%d loads, want 1", src.loads)
		}
	})
	t.Run("a poll that changes nothing shown keeps the version", func(t *testing.T) {
		snap := *src.in.Snapshots[1]
		snap.FetchedAt = now // a newer poll, same states
		src.in.Snapshots = map[int64]*monitoring.Snapshot{1: &snap, 2: src.in.Snapshots[2], 3: src.in.Snapshots[3]}
		src.gen.Add(1)
		m := current()
		if m == first {
			t.Fatal("not rebuilt after the generation advanced")
		}
		if m.Version != first.Version {
			t.Errorf("version %d, want %d: nothing shown changed", m.Version, first.Version)
		}
	})
	t.Run("a changed state advances the version", func(t *testing.T) {
		snap := *src.in.Snapshots[2]
		snap.Servers = []monitoring.Server{server("en4", "stage-web", crit), snap.Servers[1]}
		src.in.Snapshots = map[int64]*monitoring.Snapshot{1: src.in.Snapshots[1], 2: &snap, 3: src.in.Snapshots[3]}
		src.gen.Add(1)
		if m := current(); m.Version != first.Version+1 {
			t.Errorf("version %d, want %d", m.Version, first.Version+1)
		}
	})
	t.Run("time passing a stale deadline rebuilds without a new generation", func(t *testing.T) {
		before := current()
		now = now.Add(10 * interval)
		m := current()
		if m == before || m.Version != before.Version+1 {
			t.Errorf("version %d after accounts turned stale, want %d", m.Version, before.Version+1)
		}
		if !m.Section(1).Stale || !m.Section(2).Stale {
			t.Error("accounts not stale after ten intervals without a poll")
		}
	})
}

func TestServiceDoesNotQueueBehindARebuild(t *testing.T) {
	t.Parallel()
	src := &fakeSource{in: fixture()}
	s := NewService(src, Options{PollInterval: interval})
	s.SetClock(func() time.Time { return t0 })
	ctx := context.Background()
	first, err := s.Current(ctx)
	if err != nil {
		t.Fatal(err)
	}
	src.block, src.blocked = make(chan struct{}), make(chan struct{})
	src.gen.Add(1)
	rebuilt := make(chan *Model)
	go func() {
		m, _ := s.Current(ctx) // rebuilds, blocked in the source
		rebuilt <- m
	}()
	<-src.blocked
	if m, _ := s.Current(ctx); m != first {
		t.Error("a caller during the rebuild did not get the current model at once")
	}
	close(src.block)
	if m := <-rebuilt; m == first {
		t.Error("the rebuilding caller got the old model")
	}
}

func tileIDs(ts []Tile) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.ID)
	}
	return out
}

func equal(a, b any) bool {
	switch av := a.(type) {
	case []string:
		return slices.Equal(av, b.([]string))
	}
	return a == b
}

func TestSeverityOrder(t *testing.T) {
	t.Parallel()
	in := Input{
		Accounts: []monitoring.Account{
			{ID: 1, Username: "a-calm", Enabled: true},
			{ID: 2, Username: "b-warning", Enabled: true},
			{ID: 3, Username: "c-critical", Enabled: true},
			{ID: 4, Username: "d-failing", Enabled: true, Status: monitoring.PollStatus{LastError: "down", ErrorCount: 1}},
			{ID: 5, Username: "e-two-critical", Enabled: true},
		},
		Snapshots: map[int64]*monitoring.Snapshot{
			1: {FetchedAt: t0, Servers: []monitoring.Server{server("a1", "a1", ok)}},
			2: {FetchedAt: t0, Servers: []monitoring.Server{server("b1", "b1", ok), server("b2", "b2", warn)}},
			3: {FetchedAt: t0, Servers: []monitoring.Server{
				server("c1", "alpha", ok, ok),
				server("c2", "bravo", warn, warn, ok),
				server("c3", "charlie", crit, ok),
				server("c4", "delta", unkn),
				server("c5", "echo", warn),
				server("c6", "foxtrot", crit, crit, ok),
				server("c7", "golf", crit, warn),
			}},
			4: {FetchedAt: t0.Add(-time.Hour), Servers: []monitoring.Server{server("d1", "d1", ok)}},
			5: {FetchedAt: t0, Servers: []monitoring.Server{server("e1", "e1", crit), server("e2", "e2", crit)}},
		},
	}
	m := Build(in, t0, Options{PollInterval: interval})
	sections := func(v View) (ids []int64) {
		for _, s := range v.Sections {
			ids = append(ids, s.AccountID)
		}
		return ids
	}
	v := m.View(ParseQuery(""), 0)
	// Critical accounts (more critical servers first), then warning, then
	// the failing one whose data says OK, then the calm one.
	if got, want := sections(v), []int64{3, 5, 2, 4, 1}; !slices.Equal(got, want) {
		t.Errorf("accounts %v, want %v", got, want)
	}
	// Worst state, then most critical, warning, unknown alarms, then label.
	if got, want := tileIDs(v.Sections[0].Tiles), []string{"c6", "c7", "c3", "c2", "c5", "c4", "c1"}; !slices.Equal(got, want) {
		t.Errorf("tiles %v, want %v", got, want)
	}
	plain := ParseQuery("")
	plain.Plain = true
	if got, want := sections(m.View(plain, 0)), []int64{1, 2, 3, 4, 5}; !slices.Equal(got, want) {
		t.Errorf("plain order: accounts %v, want %v", got, want)
	}
	if got := tileIDs(m.View(plain, 3).Sections[0].Tiles); !slices.Equal(got, []string{"c1", "c2", "c3", "c4", "c5", "c6", "c7"}) {
		t.Errorf("plain order: tiles %v", got)
	}
	want := Summary{Accounts: 5, FailingAccounts: 1, StaleAccounts: 1, Worst: crit, OldestData: t0.Add(-time.Hour),
		Servers: ServerCounts{Critical: 5, Warning: 3, Unknown: 1, OK: 4, Total: 13}, Stale: ServerCounts{OK: 1, Total: 1}}
	if v.Summary != want || m.Summary != want {
		t.Errorf("summary\n view %+v\nmodel %+v\n want %+v", v.Summary, m.Summary, want)
	}
	// A filter's summary counts the shown servers only, and orders by them.
	f := m.View(ParseQuery("state:warning"), 0)
	if got, want := sections(f), []int64{3, 2}; !slices.Equal(got, want) {
		t.Errorf("state:warning: accounts %v, want %v", got, want)
	}
	if f.Summary.Servers != (ServerCounts{Warning: 3, Total: 3}) || f.Summary.Worst != warn {
		t.Errorf("state:warning: summary %+v", f.Summary)
	}
}

func TestChangeMarks(t *testing.T) {
	t.Parallel()
	src := &fakeSource{in: fixture()}
	src.gen.Store(1)
	now := t0
	s := NewService(src, Options{ChangeWindow: 10 * time.Minute}) // no poll interval: nothing turns stale
	s.SetClock(func() time.Time { return now })
	ctx := context.Background()
	current := func() *Model {
		t.Helper()
		m, err := s.Current(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	setProduction := func(servers ...monitoring.Server) {
		snap := *src.in.Snapshots[1]
		snap.Servers = servers
		snaps := maps.Clone(src.in.Snapshots)
		snaps[1] = &snap
		src.in.Snapshots = snaps
		src.gen.Add(1)
	}
	changes := func(m *Model) map[string]Change {
		out := map[string]Change{}
		for _, sec := range m.Sections {
			for _, tl := range sec.Tiles {
				if tl.Change != ChangeNone {
					out[tl.ID] = tl.Change
				}
			}
		}
		return out
	}

	if got := changes(current()); len(got) != 0 {
		t.Fatalf("the first model carries marks %v", got)
	}
	// api-1 CRITICAL → OK, db-1 WARNING → CRITICAL, web-1 OK → WARNING, and
	// a server that appears CRITICAL.
	now = now.Add(time.Minute)
	seen := now
	setProduction(server("en1", "api-1", ok, ok, ok), server("en2", "db-1", crit, warn), server("en3", "web-1", ok, warn),
		server("en9", "zz-new", crit))
	m := current()
	want := map[string]Change{"en1": ChangeResolved, "en2": ChangeWorse, "en3": ChangeWorse}
	if got := changes(m); !maps.Equal(got, want) {
		t.Errorf("marks %v, want %v", got, want)
	}
	if at := m.Section(1).Tiles[1].ChangedAt; !at.Equal(seen) {
		t.Errorf("changed at %v, want %v (when the change was seen)", at, seen)
	}
	// Within its severity a changed server comes first: db-1 (new
	// CRITICAL) before zz-new (CRITICAL all along, as far as we know).
	if got := tileIDs(m.View(ParseQuery(""), 1).Sections[0].Tiles); !slices.Equal(got, []string{"en2", "en9", "en3", "en1"}) {
		t.Errorf("order %v, want en2 en9 en3 en1", got)
	}
	// A poll that changes nothing keeps the marks; time ends them.
	now = now.Add(5 * time.Minute)
	src.gen.Add(1)
	if got := changes(current()); !maps.Equal(got, want) {
		t.Errorf("after an unchanged poll: marks %v, want %v", got, want)
	}
	if !m.ValidAt(seen.Add(10*time.Minute-time.Nanosecond)) || m.ValidAt(seen.Add(10*time.Minute)) {
		t.Error("the model does not expire when its marks do")
	}
	now = seen.Add(10 * time.Minute)
	later := current()
	if got := changes(later); len(got) != 0 {
		t.Errorf("marks %v outlived the window", got)
	}
	if later.Version == m.Version {
		t.Error("the version did not advance when the marks went")
	}
}

func TestAProblemThatEasesIsNotNews(t *testing.T) {
	t.Parallel()
	src := &fakeSource{in: fixture()}
	src.gen.Store(1)
	s := NewService(src, Options{})
	s.SetClock(func() time.Time { return t0 })
	set := func(servers ...monitoring.Server) *Model {
		t.Helper()
		snap := *src.in.Snapshots[1]
		snap.Servers = servers
		snaps := maps.Clone(src.in.Snapshots)
		snaps[1] = &snap
		src.in.Snapshots = snaps
		src.gen.Add(1)
		m, err := s.Current(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	set(server("en1", "api-1", ok, warn))
	if c := set(server("en1", "api-1", ok, crit)).Section(1).Tiles[0].Change; c != ChangeWorse {
		t.Fatalf("WARNING → CRITICAL: mark %q, want new", c)
	}
	if c := set(server("en1", "api-1", ok, warn)).Section(1).Tiles[0].Change; c != ChangeNone {
		t.Errorf("CRITICAL → WARNING: mark %q, want none (and the NEW gone)", c)
	}
}

func TestMatchesChange(t *testing.T) {
	t.Parallel()
	tests := []struct {
		query    string
		from, to monitoring.State
		want     bool
	}{
		{"", ok, crit, true},
		{"production", ok, crit, true},
		{"acme-prod db", ok, crit, true},
		{"staging", ok, crit, false},
		{"disk", ok, crit, true}, // the alarm's label
		{"state:critical", crit, ok, true},
		{"state:critical", ok, warn, false},
		{"is:problem", crit, ok, true},
		{"is:problem", "", ok, false}, // an OK alarm added
		{"state:purple", ok, crit, false},
	}
	for _, tt := range tests {
		got := ParseQuery(tt.query).MatchesChange("Production", "acme-prod", "db-1", "en2", "Disk usage", tt.from, tt.to)
		if got != tt.want {
			t.Errorf("%q on %s → %s: %v, want %v", tt.query, tt.from, tt.to, got, tt.want)
		}
	}
}

func TestAcknowledgedProblemsRankAfterOpenOnes(t *testing.T) {
	t.Parallel()
	in := Input{
		Accounts: []monitoring.Account{
			{ID: 1, Username: "a-acked-critical", Enabled: true},
			{ID: 2, Username: "b-open-warning", Enabled: true},
		},
		Snapshots: map[int64]*monitoring.Snapshot{
			1: {FetchedAt: t0, Servers: []monitoring.Server{server("a1", "a1", crit)}},
			2: {FetchedAt: t0, Servers: []monitoring.Server{server("b1", "b1", warn)}},
		},
		Acks: []monitoring.Ack{{ID: 1, AccountID: 1, ServerID: "a1", CreatedAt: t0.Add(-time.Minute), StateAtAck: crit}},
	}
	m := Build(in, t0, Options{})
	if !m.Section(1).Tiles[0].Acked {
		t.Fatal("the acknowledgement did not take")
	}
	v := m.View(ParseQuery(""), 0)
	if got := []int64{v.Sections[0].AccountID, v.Sections[1].AccountID}; got[0] != 2 {
		t.Errorf("accounts %v: the open WARNING should come before the acknowledged CRITICAL", got)
	}
}

// Between a poll's commit and the settling of its acknowledgements, a
// server acknowledged as WARNING that turned CRITICAL is not shown muted.
func TestAServerGoneWorseIsNotMutedByItsAcknowledgement(t *testing.T) {
	t.Parallel()
	in := fixture()
	in.Acks = []monitoring.Ack{{ID: 1, AccountID: 1, ServerID: "en1", CreatedAt: t0.Add(-time.Minute), StateAtAck: warn}}
	if Build(in, t0, Options{}).Section(1).Tiles[0].Acked {
		t.Error("api-1 (CRITICAL) is muted by an acknowledgement made while it was WARNING")
	}
	in.Acks[0].StateAtAck = crit
	if !Build(in, t0, Options{}).Section(1).Tiles[0].Acked {
		t.Error("api-1 is not muted by an acknowledgement made while it was CRITICAL")
	}
}

// A failing account's servers keep their last known states on the wall,
// greyed; the summary counts them apart, so that what it calls CRITICAL
// is what is CRITICAL now.
func TestStaleAccountsAreCountedApart(t *testing.T) {
	t.Parallel()
	in := Input{
		Accounts: []monitoring.Account{
			{ID: 1, Username: "fresh", Enabled: true},
			{ID: 2, Username: "failing", Enabled: true, Status: monitoring.PollStatus{LastError: "down", ErrorCount: 2}},
			{ID: 3, Username: "old", Enabled: true},
		},
		Snapshots: map[int64]*monitoring.Snapshot{
			1: {FetchedAt: t0, Servers: []monitoring.Server{server("f1", "f1", crit), server("f2", "f2", crit), server("f3", "f3", ok)}},
			2: {FetchedAt: t0, Servers: []monitoring.Server{
				server("x1", "x1", crit), server("x2", "x2", crit), server("x3", "x3", warn), server("x4", "x4", ok)}},
			3: {FetchedAt: t0.Add(-time.Hour), Servers: []monitoring.Server{server("o1", "o1", crit), server("o2", "o2", unkn)}},
		},
		Acks: []monitoring.Ack{{ID: 1, AccountID: 2, ServerID: "x1", CreatedAt: t0.Add(-time.Minute), StateAtAck: crit}},
	}
	m := Build(in, t0, Options{PollInterval: interval})
	tests := []struct {
		name      string
		got, want any
	}{
		{"every server is counted", m.Summary.Servers,
			ServerCounts{Critical: 5, Warning: 1, Unknown: 1, OK: 2, Total: 9, AckedCritical: 1}},
		{"the servers of failing and old accounts are counted apart", m.Summary.Stale,
			ServerCounts{Critical: 3, Warning: 1, Unknown: 1, OK: 1, Total: 6, AckedCritical: 1}},
		{"fresh counts are those of the accounts with current data", m.Summary.Fresh(),
			ServerCounts{Critical: 2, OK: 1, Total: 3}},
		{"stale accounts are counted", m.Summary.StaleAccounts, 2},
		{"a filtered view counts its own stale servers", m.View(ParseQuery("state:critical"), 0).Summary.Stale,
			ServerCounts{Critical: 3, Total: 3, AckedCritical: 1}},
		{"an account view of a fresh account has none", m.View(ParseQuery(""), 1).Summary.Stale, ServerCounts{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %+v, want %+v", tt.got, tt.want)
			}
		})
	}
}
