package rackspace_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"cmdash/monitoring"
	"cmdash/monitoring/fakerax"
)

// Plot reads what the fake serves: an agent check's one series, and a
// remote check's series per zone (after reading its metric names).
func TestPlotReadsEachZonesSeries(t *testing.T) {
	t.Parallel()
	fake, c, cr := newFake(t, fakerax.Config{Accounts: 1, Servers: 8, Alarms: 5, Seed: 11})
	now := time.Now()
	var agent, remote *fakerax.Alarm
	var agentEnt, remoteEnt string
	for _, e := range fake.Entities(cr.Username) {
		for i, a := range e.Alarms {
			if a.State == "" || a.CheckDisabled {
				continue
			}
			switch {
			case a.CheckType == "agent.cpu" && agent == nil:
				agent, agentEnt = &e.Alarms[i], e.ID
			case a.CheckType == "remote.ping" && remote == nil:
				remote, remoteEnt = &e.Alarms[i], e.ID
			}
		}
	}
	if agent == nil || remote == nil {
		t.Fatal("fixture lacks an agent CPU or a remote ping alarm")
	}
	q := monitoring.PlotQuery{EntityID: agentEnt, CheckID: agent.CheckID, Metric: "usage_average",
		From: now.Add(-6 * time.Hour), To: now, Resolution: "FULL"}
	res, err := c.Plot(context.Background(), cr, nil, q)
	series := res.Series
	if err != nil {
		t.Fatal(err)
	}
	if len(series) != 1 || series[0].Zone != "" || len(series[0].Points) < 300 || res.Requests != 1 || !res.LoggedIn || !res.RateLimit.Known {
		t.Fatalf("agent: %d series, %d requests, logged in %v, budget %+v", len(series), res.Requests, res.LoggedIn, res.RateLimit)
	}
	for _, p := range series[0].Points {
		if p.Value < 0 || p.Value > 100 || p.At.Before(q.From) || !p.At.Before(q.To) {
			t.Fatalf("point %+v out of the range or of its band", p)
		}
	}

	q = monitoring.PlotQuery{EntityID: remoteEnt, CheckID: remote.CheckID, Metric: "available", Remote: true,
		From: now.Add(-24 * time.Hour), To: now, Resolution: "MIN5"}
	tok := res.Token
	res, err = c.Plot(context.Background(), cr, &tok, q)
	series = res.Series
	if err != nil {
		t.Fatal(err)
	}
	if len(series) != 3 || res.Requests != 4 || res.LoggedIn {
		t.Fatalf("remote: %d series in %d requests (logged in %v), want 3 zones in 4", len(series), res.Requests, res.LoggedIn)
	}
	for _, s := range series {
		if !strings.HasPrefix(s.Zone, "mz") || len(s.Points) < 280 {
			t.Errorf("zone %q: %d points", s.Zone, len(s.Points))
		}
	}
	if got := fake.Counters(cr.Username); got.Plot != 4 || got.Metrics != 1 {
		t.Errorf("the fake counted %d plots and %d metric lists", got.Plot, got.Metrics)
	}

	// A bad request is an error, not an empty chart.
	q.Resolution = "MIN2"
	if _, err := c.Plot(context.Background(), cr, &tok, q); err == nil {
		t.Error("a resolution Rackspace refuses gave no error")
	}
}
