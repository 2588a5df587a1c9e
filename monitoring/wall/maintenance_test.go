package wall

import (
	"context"
	"testing"
	"time"

	"cmdash/monitoring"
)

// withProblems is server with problem alarms of its own: alarm i is
// "al<i>" on check "ch<i>" with notification plan "np<i>".
func withProblems(id string, states ...monitoring.State) monitoring.Server {
	s := server(id, id, states...)
	for i, st := range states {
		if st == ok {
			continue
		}
		n := string(rune('0' + i))
		s.Alarms = append(s.Alarms, monitoring.Alarm{ID: "al" + n, Label: "alarm " + n, CheckID: "ch" + n,
			NotificationPlanID: "np" + n, State: st, Since: t0.Add(-time.Hour)})
	}
	return s
}

func TestTheMaintenanceOverlayAlone(t *testing.T) {
	t.Parallel()
	in := Input{
		Accounts: []monitoring.Account{{ID: 1, Username: "acme", Enabled: true}},
		Snapshots: map[int64]*monitoring.Snapshot{1: {FetchedAt: t0, Servers: []monitoring.Server{
			withProblems("enA", crit, warn), // whole entity in a window
			withProblems("enB", crit, crit), // one check of two
			withProblems("enC", crit),       // by alarm
			withProblems("enD", crit),       // by notification plan
			withProblems("enE", crit),       // a window that starts later
			withProblems("enF", crit),       // one ended already
			withProblems("enG", crit),       // listed by the overview alone
			withProblems("enH", crit),       // listed by an overview older than the window's end
			withProblems("enI", warn, crit), // its CRITICAL alarm in a window, its WARNING one open
		}}},
	}
	in.Snapshots[1].Servers[6].Alarms[0].Suppressions = []string{"spUnknown"}
	in.Snapshots[1].Servers[7].Alarms[0].Suppressions = []string{"spF"}
	in.Snapshots[1].Servers[8].Alarms[1].Since = t0.Add(-5 * time.Hour)
	in.Snapshots[1].Servers[8].Alarms[0].Since = t0.Add(-5 * time.Minute)
	hour := time.Hour
	win := func(id string, from, to time.Duration) monitoring.Suppression {
		return monitoring.Suppression{ID: id, Label: "window " + id, Start: t0.Add(from), End: t0.Add(to)}
	}
	a := win("spA", -hour, 2*hour)
	a.Entities = []string{"enA"}
	b := win("spB", -hour, hour)
	b.Checks = []string{"enB:ch0"}
	c := win("spC", -hour, hour)
	c.Alarms = []string{"enC:al0"}
	d := win("spD", -hour, hour)
	d.NotificationPlans = []string{"np0"} // the first alarm of every server
	e := win("spE", 30*time.Minute, hour)
	e.Entities = []string{"enE"}
	f := win("spF", -2*hour, -hour)
	f.Entities = []string{"enF"}
	i := win("spI", -hour, hour)
	i.Alarms = []string{"enI:al1"}
	src := &fakeSource{in: Input{Windows: map[int64][]monitoring.Suppression{1: {a, b, c, e, f, i}}}}
	if err := (Maintenance{}).Load(context.Background(), src, &in); err != nil || len(in.Windows[1]) != 6 {
		t.Fatalf("loaded %v, %v", in.Windows, err)
	}
	m := bare(&in, t0)
	m.validUntil = time.Time{} // what the overlay alone sets
	Maintenance{}.Apply(&in, nil, m, t0)
	tiles := map[string]Tile{}
	for _, tl := range m.Section(1).Tiles {
		tiles[tl.ID] = tl
	}
	for _, tt := range []struct {
		id         string
		maint      bool
		suppressed int
		window     string
	}{
		{"enA", true, 2, "spA"},
		{"enB", false, 1, "spB"},
		{"enC", true, 1, "spC"},
		{"enD", false, 0, ""}, // spD is not loaded yet
		{"enE", false, 0, ""},
		{"enF", false, 0, ""},
		{"enG", true, 1, "spUnknown"},
		{"enH", false, 0, ""},
		{"enI", false, 1, "spI"},
	} {
		tl := tiles[tt.id]
		got := ""
		if tl.Window != nil {
			got = tl.Window.ID
		}
		if tl.Maint != tt.maint || tl.Suppressed != tt.suppressed || got != tt.window {
			t.Errorf("%s: maint %v, suppressed %d, window %q; want %v, %d, %q", tt.id, tl.Maint, tl.Suppressed, got, tt.maint, tt.suppressed, tt.window)
		}
	}
	if ti := tiles["enI"]; ti.Worst != warn || !ti.Since.Equal(t0.Add(-5*time.Minute)) {
		t.Errorf("enI is %s since %v, want its open problem: WARNING since 5 min", ti.Worst, ti.Since)
	}
	if p := tiles["enB"].Problems; len(p) != 2 || p[0].ID != "al1" {
		t.Errorf("enB lists %v first, want the open problem al1", p[0].ID)
	}
	if want := t0.Add(30 * time.Minute); !m.validUntil.Equal(want) {
		t.Errorf("valid until %v, want %v (spE opens)", m.validUntil, want)
	}

	// By notification plan; and once spE opens, enE is in maintenance.
	in.Windows[1] = append(in.Windows[1], d)
	later := t0.Add(45 * time.Minute)
	m = bare(&in, later)
	Maintenance{}.Apply(&in, nil, m, later)
	for _, tl := range m.Section(1).Tiles {
		if (tl.ID == "enD" || tl.ID == "enE") && !tl.Maint {
			t.Errorf("%s not in maintenance at %v", tl.ID, later)
		}
	}

	// Counted apart, after the open problems, never old.
	m = Build(in, later, Options{PollInterval: interval})
	sec := m.Section(1)
	if sec.Servers.Critical != 9 || sec.Servers.MaintCritical != 8 {
		t.Errorf("critical %d (maint %d), want 9 (8)", sec.Servers.Critical, sec.Servers.MaintCritical)
	}
	if c, _, _ := sec.Servers.Open(); c != 1 {
		t.Errorf("open critical %d, want 1 (enB)", c)
	}
	if problemsFirst(sec.Tiles[1], sec.Tiles[0]) >= 0 {
		t.Errorf("%s (open) is not placed before %s (maint)", sec.Tiles[1].ID, sec.Tiles[0].ID)
	}
	for _, tl := range sec.Tiles {
		if tl.Maint && tl.Old {
			t.Errorf("%s in maintenance is marked old", tl.ID)
		}
	}
}
