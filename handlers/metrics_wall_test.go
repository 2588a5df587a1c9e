package handlers

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"cmdash/monitoring"
	"cmdash/monitoring/wall"
)

// /metrics says what the wall says: servers by state and handling, alarms
// by state, stale accounts; an acknowledgement moves a server from open to
// acked, and nothing is ever per server.
func TestMetricsCountWhatTheWallShows(t *testing.T) {
	t.Parallel()
	a := newAckEnv(t)
	e := a.testEnv
	e.h.opts.Metrics = NewMetrics(e.store)
	e.h.opts.Metrics.WatchWall(e.h.wall)
	e.h.opts.Metrics.WatchWall(e.h.wall) // twice is once

	scrape := func() string {
		t.Helper()
		rec := e.get("/metrics")
		wantStatus(t, rec, http.StatusOK)
		return rec.Body.String()
	}
	section := func() *wall.Section {
		t.Helper()
		m, err := e.h.wall.Current(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		return m.Section(a.acct.ID)
	}
	line := func(name, labels string, v int) string {
		return fmt.Sprintf("%s{%s} %d\n", name, labels, v)
	}
	acct := `account="` + a.acct.Username + `"`
	before, s := scrape(), section()
	for _, want := range []string{
		line("dashboard_servers", acct+`,handling="open",state="critical"`, s.Servers.Critical),
		line("dashboard_servers", acct+`,handling="acked",state="critical"`, 0),
		line("dashboard_servers", acct+`,handling="maintenance",state="warning"`, 0),
		line("dashboard_servers", acct+`,handling="open",state="ok"`, s.Servers.OK),
		line("dashboard_alarms", acct+`,state="critical"`, s.Counts.Critical),
		line("dashboard_alarms", acct+`,state="ok"`, s.Counts.OK),
		line("dashboard_account_stale", acct, 0),
	} {
		if !strings.Contains(before, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if s.Servers.Critical+s.Servers.Warning == 0 {
		t.Fatal("the fixture has no problem server")
	}

	// Acknowledge the problem server as a whole: it counts as acked now.
	if _, err := e.store.CreateAck(e.ctx, monitoring.AckInput{AccountID: a.acct.ID, ServerID: a.problem, Note: "on it", Expiry: "1h", By: testUser}); err != nil {
		t.Fatal(err)
	}
	state := strings.ToLower(string(a.worst))
	s = section()
	after := scrape()
	acked := map[monitoring.State]int{monitoring.StateCritical: s.Servers.AckedCritical, monitoring.StateWarning: s.Servers.AckedWarning}[a.worst]
	if acked != 1 {
		t.Fatalf("the wall counts %d acked %s servers, want 1", acked, state)
	}
	if want := line("dashboard_servers", acct+`,handling="acked",state="`+state+`"`, 1); !strings.Contains(after, want) {
		t.Errorf("after the acknowledgement /metrics lacks %q", want)
	}
	if strings.Contains(after, a.problem) {
		t.Error("a server's ID is in /metrics: series must be per account, not per server")
	}

	// Stale: the upstream stops answering; the counts stay, the account is stale.
	e.h.now = func() time.Time { return time.Now().Add(time.Hour) }
	if !strings.Contains(scrape(), line("dashboard_account_stale", acct, 1)) {
		t.Error("an account whose data is an hour old is not stale")
	}
}
