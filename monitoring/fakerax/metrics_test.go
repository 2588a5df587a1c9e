package fakerax

import (
	"fmt"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"
)

type plotAnswer struct {
	Values []struct {
		NumPoints int     `json:"numPoints"`
		Average   float64 `json:"average"`
		Timestamp int64   `json:"timestamp"`
	} `json:"values"`
}

// A threshold alarm's metric lies above its threshold while the alarm is
// CRITICAL and below it in the state before, so the series crosses it
// when the state began; its latest value is the one the status words.
func TestAMetricSeriesCrossesItsThresholdWhenTheStateBegan(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	s, ts := newTestServer(t, Config{Accounts: 1, Servers: 40, Alarms: 8, CriticalShare: 0.3, WarningShare: 0.1,
		ChangeEvery: 47 * time.Minute, Seed: 3, Now: func() time.Time { return now }})
	acct := s.Accounts()[0]
	ss := login(t, s, ts, acct.Username)

	// A CRITICAL disk alarm whose state began within the last six hours.
	var ent Entity
	var al Alarm
	for _, e := range s.Entities(acct.Username) {
		for _, a := range e.Alarms {
			if a.CheckType == "agent.filesystem" && a.State == "CRITICAL" && !a.Disabled && now.Sub(a.Since) < 5*time.Hour && now.Sub(a.Since) > 10*time.Minute {
				ent, al = e, a
			}
		}
	}
	if al.ID == "" {
		t.Fatal("no CRITICAL disk alarm that began lately in the fixture")
	}
	var plot plotAnswer
	from, to := now.Add(-6*time.Hour).UnixMilli(), now.UnixMilli()
	ss.getJSON(t, fmt.Sprintf("/entities/%s/checks/%s/metrics/used_pct/plot?from=%d&to=%d&resolution=FULL", ent.ID, al.CheckID, from, to), &plot)
	if len(plot.Values) < 300 {
		t.Fatalf("%d points over 6 h at full resolution", len(plot.Values))
	}
	since := al.Since.UnixMilli()
	observed := false
	for _, p := range plot.Values {
		observed = observed || p.Timestamp == since
		if p.NumPoints != 1 {
			t.Fatalf("a full-resolution point of %d observations", p.NumPoints)
		}
		// Within the state, above; in the state before (at least one
		// period of 47 minutes), not.
		after, before := p.Timestamp >= since, p.Timestamp < since && p.Timestamp >= since-(40*time.Minute).Milliseconds()
		if (after && p.Average <= 90) || (before && p.Average > 90) {
			t.Errorf("at %s (state began %s): %.1f %%, threshold 90 %%", time.UnixMilli(p.Timestamp).UTC().Format(time.TimeOnly), al.Since.Format(time.TimeOnly), p.Average)
		}
	}
	if !observed {
		t.Error("no observation at the moment the state began")
	}
	last := plot.Values[len(plot.Values)-1].Average
	var worded float64
	if _, err := fmt.Sscanf(al.Status, "Disk usage on / is %f%%", &worded); err != nil || math.Abs(last-worded) > 0.5 {
		t.Errorf("latest value %.1f, status %q", last, al.Status)
	}
	if c := s.Counters(acct.Username); c.Plot != 1 {
		t.Errorf("%d plot requests counted", c.Plot)
	}

	// Rollups: a week in hours; points= picks a resolution.
	ss.getJSON(t, fmt.Sprintf("/entities/%s/checks/%s/metrics/used_pct/plot?from=%d&to=%d&resolution=MIN60", ent.ID, al.CheckID, now.Add(-7*24*time.Hour).UnixMilli(), to), &plot)
	if n := len(plot.Values); n < 160 || n > 169 || plot.Values[0].NumPoints != 60 {
		t.Errorf("a week at MIN60: %d points of %d", n, plot.Values[0].NumPoints)
	}
	ss.getJSON(t, fmt.Sprintf("/entities/%s/checks/%s/metrics/used_pct/plot?from=%d&to=%d&points=300", ent.ID, al.CheckID, now.Add(-24*time.Hour).UnixMilli(), to), &plot)
	if n := len(plot.Values); n != 72 {
		t.Errorf("a day with points=300: %d points, want MIN20's 72", n)
	}
}

func TestMetricListsAndPlotErrors(t *testing.T) {
	t.Parallel()
	now := time.Now()
	s, ts := newTestServer(t, Config{Accounts: 1, Servers: 6, Alarms: 5, Seed: 9})
	acct := s.Accounts()[0]
	ss := login(t, s, ts, acct.Username)
	var remote, agent Entity
	for _, e := range s.Entities(acct.Username) {
		if len(e.Alarms) == 0 {
			continue
		}
		if strings.HasPrefix(e.Alarms[0].CheckType, "remote.") && remote.ID == "" {
			remote = e
		}
		if e.Alarms[0].CheckType == "agent.cpu" && agent.ID == "" {
			agent = e
		}
	}
	var list struct {
		Values []struct{ Name, Unit, Type string } `json:"values"`
	}
	ss.getJSON(t, "/entities/"+remote.ID+"/checks/"+remote.Alarms[0].CheckID+"/metrics", &list)
	if len(list.Values) < 3 || !strings.HasPrefix(list.Values[0].Name, "mz") || !strings.Contains(list.Values[0].Name, ".") {
		t.Errorf("a remote check's metrics: %+v", list.Values)
	}
	ss.getJSON(t, "/entities/"+agent.ID+"/checks/"+agent.Alarms[0].CheckID+"/metrics", &list)
	if len(list.Values) != 1 || list.Values[0].Name != "usage_average" || list.Values[0].Unit != "percent" {
		t.Errorf("an agent CPU check's metrics: %+v", list.Values)
	}

	base := "/entities/" + agent.ID + "/checks/" + agent.Alarms[0].CheckID + "/metrics/usage_average/plot?"
	span := fmt.Sprintf("from=%d&to=%d", now.Add(-time.Hour).UnixMilli(), now.UnixMilli())
	for _, tt := range []struct{ query, says string }{
		{"to=1&resolution=FULL", "'from' is required"},
		{span, "Exactly one of 'points' or 'resolution'"},
		{span + "&points=10&resolution=FULL", "Exactly one"},
		{span + "&resolution=MIN2", "'resolution' must be one of"},
		{span + "&points=5000", "at most 1440"},
		{fmt.Sprintf("from=%d&to=%d&resolution=FULL", now.Add(-7*24*time.Hour).UnixMilli(), now.UnixMilli()), "more than 1440 points"},
	} {
		resp, body := ss.call(t, http.MethodGet, base+tt.query, "")
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), tt.says) {
			t.Errorf("%s: %d %s", tt.query, resp.StatusCode, body)
		}
	}
	for _, path := range []string{
		"/entities/enNothing/checks/chNothing/metrics",
		"/entities/" + agent.ID + "/checks/" + agent.Alarms[0].CheckID + "/metrics/no_such/plot?" + span + "&points=10",
	} {
		if resp, body := ss.call(t, http.MethodGet, path, ""); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d %s", path, resp.StatusCode, body)
		}
	}
}
