package handlers

import (
	"context"
	"strings"
	"time"

	"cmdash/handlers/promtext"
	"cmdash/monitoring"
	"cmdash/monitoring/wall"
)

// WatchWall adds what the wall shows to /metrics, read from its model at
// scrape time: servers by account, worst state and handling (open,
// acknowledged, in maintenance), alarms by account and state, and stale
// accounts. So Prometheus keeps the long history and can alert on the
// wall's own view. Series are bounded by accounts × states: never one per
// server. Calling it again does nothing.
func (m *Metrics) WatchWall(model *wall.Service) {
	m.wallOnce.Do(func() {
		c := &wallStates{
			model: model,
			servers: promtext.NewDesc("dashboard_servers",
				"Servers by account, worst state and handling: open, acked (acknowledged) or maintenance (in a Rackspace suppression); an OK server is open.",
				promtext.GaugeType, "account", "state", "handling"),
			alarms: promtext.NewDesc("dashboard_alarms",
				"Alarms counted on the wall (enabled, not orphaned) by account and state.",
				promtext.GaugeType, "account", "state"),
			stale: promtext.NewDesc("dashboard_account_stale",
				"1 when the account's data cannot be trusted: the last poll failed, or the data is older than three poll intervals, or it was never polled.",
				promtext.GaugeType, "account"),
		}
		m.reg.Collect(c.collect, c.servers, c.alarms, c.stale)
	})
}

type wallStates struct {
	model                  *wall.Service
	servers, alarms, stale *promtext.Desc
}

func (c *wallStates) collect(b *promtext.Batch) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	m, err := c.model.Current(ctx)
	if err != nil {
		return
	}
	gauge := func(d *promtext.Desc, v int, labels ...string) {
		b.Add(d, float64(v), labels...)
	}
	for _, s := range m.Sections {
		acct, n := s.Username, s.Servers
		stale := 0
		if s.Stale || !s.Polled {
			stale = 1
		}
		gauge(c.stale, stale, acct)
		if !s.Polled {
			continue // nothing known: no zeros that would read as "all clear"
		}
		for _, st := range []struct {
			state             monitoring.State
			all, acked, maint int
		}{
			{monitoring.StateCritical, n.Critical, n.AckedCritical, n.MaintCritical},
			{monitoring.StateWarning, n.Warning, n.AckedWarning, n.MaintWarning},
			{monitoring.StateUnknown, n.Unknown, n.AckedUnknown, n.MaintUnknown},
		} {
			name := stateLabel(st.state)
			gauge(c.servers, st.all-st.acked-st.maint, acct, name, "open")
			gauge(c.servers, st.acked, acct, name, "acked")
			gauge(c.servers, st.maint, acct, name, "maintenance")
		}
		gauge(c.servers, n.OK, acct, "ok", "open")
		gauge(c.alarms, s.Counts.Critical, acct, "critical")
		gauge(c.alarms, s.Counts.Warning, acct, "warning")
		gauge(c.alarms, s.Counts.Unknown, acct, "unknown")
		gauge(c.alarms, s.Counts.OK, acct, "ok")
	}
}

// stateLabel is a state as a metric label: lower case, one word.
func stateLabel(s monitoring.State) string { return strings.ToLower(string(s)) }
