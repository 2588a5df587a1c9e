package handlers

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"cmdash/monitoring"
	"cmdash/monitoring/fakerax"
	"cmdash/monitoring/poller"
)

// What Rackspace knows besides the overview, through the real poller, the
// fake's own API and the pages: maintenance windows by entity, check,
// alarm and plan; one to come; one ended early; a server with one alarm
// in a window and another open; the tile contract and the API's fields;
// "Refresh now" reading a new window at once.
func TestMaintenanceWindowsOnThePages(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	up := e.upstream(fakerax.AccountSpec{Username: "ops", Servers: 9, Alarms: 2})
	acct := e.addAccount(up, "Ops")
	ents := e.fake.Entities("ops")
	// Every enabled alarm CRITICAL, so each server is a problem whose
	// problems a window can cover whole or in part.
	var servers []fakerax.Entity
	for _, en := range ents {
		if len(en.Alarms) == 2 && !en.Alarms[0].Disabled && !en.Alarms[1].Disabled {
			servers = append(servers, en)
		}
	}
	if len(servers) < 6 {
		t.Fatalf("only %d servers with two enabled alarms", len(servers))
	}
	for _, en := range servers {
		for _, al := range en.Alarms {
			if err := e.fake.SetState("ops", en.ID, al.ID, "CRITICAL"); err != nil {
				t.Fatal(err)
			}
		}
	}
	now := time.Now()
	add := func(s fakerax.Suppression) string {
		t.Helper()
		id, err := e.fake.AddSuppression("ops", s)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	byEntity, byCheck, byAlarm, later, ended := servers[0], servers[1], servers[2], servers[3], servers[4]
	add(fakerax.Suppression{Label: "Planned reboot", Entities: []string{byEntity.ID}, End: now.Add(2 * time.Hour)})
	add(fakerax.Suppression{Label: "Disk swap", Checks: []string{byCheck.ID + ":" + byCheck.Alarms[0].CheckID}, End: now.Add(time.Hour)})
	add(fakerax.Suppression{Alarms: []string{byAlarm.ID + ":" + byAlarm.Alarms[0].ID, byAlarm.ID + ":" + byAlarm.Alarms[1].ID}, End: now.Add(time.Hour)})
	add(fakerax.Suppression{Label: "Tonight", Entities: []string{later.ID}, Start: now.Add(3 * time.Hour), End: now.Add(4 * time.Hour)})
	endedID := add(fakerax.Suppression{Label: "Cut short", Entities: []string{ended.ID}, End: now.Add(time.Hour)})
	e.poll(acct.ID)

	tiles := func() map[string]map[string]string {
		t.Helper()
		out := map[string]map[string]string{}
		doc := e.page("/accounts/" + strconv.FormatInt(acct.ID, 10))
		for _, n := range doc.Find("li.tile").Nodes {
			attrs := map[string]string{}
			for _, a := range n.Attr {
				attrs[a.Key] = a.Val
			}
			out[attrs["data-server-id"]] = attrs
		}
		return out
	}
	got := tiles()
	for _, tt := range []struct {
		en         fakerax.Entity
		maint      bool
		suppressed string
	}{
		{byEntity, true, "2"},
		{byCheck, false, "1"}, // its other alarm is an open problem
		{byAlarm, true, "2"},
		{later, false, ""},
		{ended, true, "2"},
	} {
		a := got[tt.en.ID]
		if (a["data-maintenance"] == "true") != tt.maint || a["data-suppressed"] != tt.suppressed {
			t.Errorf("%s: data-maintenance %q, data-suppressed %q; want maint %v, %q", tt.en.Label, a["data-maintenance"], a["data-suppressed"], tt.maint, tt.suppressed)
		}
	}
	title := e.page("/accounts/"+strconv.FormatInt(acct.ID, 10)).Find("#grid").AttrOr("data-title", "")
	if !strings.Contains(title, "(3 maint)") {
		t.Errorf("title counts %q, want the 3 servers in maintenance apart", title)
	}

	// The API names each alarm's window, or null.
	var mon map[string]struct {
		Values []apiServer `json:"values"`
	}
	rec := e.get("/api/v1/monitors/ops")
	if err := json.Unmarshal(rec.Body.Bytes(), &mon); err != nil {
		t.Fatalf("monitors: %v: %s", err, rec.Body)
	}
	windows := map[string]*apiSuppression{}
	for _, s := range mon["ops"].Values {
		for _, a := range s.Alarms {
			windows[s.Entity.ID+"/"+a.Alarm.ID] = a.Suppressed
		}
	}
	if w := windows[byEntity.ID+"/"+byEntity.Alarms[1].ID]; w == nil || w.Label != "Planned reboot" || w.End == nil || w.ID == "" {
		t.Errorf("API: %s's alarm is in window %+v, want Planned reboot with its id and end", byEntity.Label, w)
	}
	if w := windows[byCheck.ID+"/"+byCheck.Alarms[1].ID]; w != nil {
		t.Errorf("API: %s's open alarm is in window %+v, want null", byCheck.Label, w)
	}
	rec = e.get("/api/v1/monitors/ops/" + byCheck.ID)
	if !strings.Contains(rec.Body.String(), `"suppressed":{"id":"sp`) || !strings.Contains(rec.Body.String(), `"suppressed":null`) {
		t.Errorf("server answer does not give each alarm suppressed: %s", rec.Body)
	}

	// The account's facts list the window to come; the server page names
	// the window per alarm.
	facts := e.page("/accounts/" + strconv.FormatInt(acct.ID, 10) + "/rackspace")
	if facts.Find(`.window-list li[data-open="false"]`).Length() != 1 || !strings.Contains(facts.Find(".window-list").Text(), "Tonight") {
		t.Errorf("facts do not list the window to come: %s", facts.Find(".window-list").Text())
	}
	srv := e.page("/accounts/" + strconv.FormatInt(acct.ID, 10) + "/servers/" + byCheck.ID)
	if n := srv.Find(".window-note").Length(); n != 1 || !strings.Contains(srv.Find(".window-note").Text(), "Disk swap") {
		t.Errorf("server page names %d windows (%q), want Disk swap once", n, srv.Find(".window-note").Text())
	}

	// Ended early, then a new window by notification plan: "Refresh now"
	// reads the windows at once, though five minutes have not passed.
	refresh := func() {
		t.Helper()
		if err := e.poller.RefreshNow(e.ctx, acct.ID); err != nil {
			t.Fatal(err)
		}
		e.poll(acct.ID)
	}
	before := e.fake.Counters("ops").Suppressions
	if err := e.fake.DeleteSuppression("ops", endedID); err != nil {
		t.Fatal(err)
	}
	refresh()
	if tiles()[ended.ID]["data-maintenance"] == "true" {
		t.Error("a window ended by DELETE still holds its server in maintenance")
	}
	byPlan := servers[5]
	add(fakerax.Suppression{NotificationPlans: []string{byPlan.Alarms[0].NotificationPlanID, byPlan.Alarms[1].NotificationPlanID}, End: now.Add(time.Hour)})
	refresh()
	if tiles()[byPlan.ID]["data-maintenance"] != "true" {
		t.Errorf("%s not in maintenance by its notification plans", byPlan.Label)
	}
	if n := e.fake.Counters("ops").Suppressions - before; n != 2 {
		t.Errorf("two refreshes read the windows %d times, want 2", n)
	}
	before = e.fake.Counters("ops").Suppressions
	// The next poll does not read them again.
	e.poll(acct.ID)
	if n := e.fake.Counters("ops").Suppressions - before; n != 0 {
		t.Errorf("windows read %d times by a poll without a refresh, want 0 (every 5 minutes)", n)
	}
}

// A read besides the overview that fails leaves the last good answer in
// place, and the page says so.
func TestAFailingReadKeepsTheLastGoodAnswer(t *testing.T) {
	t.Parallel()
	for _, fault := range []fakerax.Fault{
		{MonitoringStatus: http.StatusInternalServerError, Only: fakerax.RouteSuppressions},
		{MonitoringStatus: http.StatusTooManyRequests, Only: fakerax.RouteSuppressions},
		{NonJSON: true, Only: fakerax.RouteSuppressions},
	} {
		e := newTestEnv(t)
		up := e.upstream(fakerax.AccountSpec{Username: "ops", Servers: 3, Alarms: 1})
		acct := e.addAccount(up, "")
		en := e.fake.Entities("ops")[0]
		if err := e.fake.SetState("ops", en.ID, en.Alarms[0].ID, "CRITICAL"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.fake.AddSuppression("ops", fakerax.Suppression{Label: "Patch", Entities: []string{en.ID}, End: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		e.poll(acct.ID)
		e.fake.SetFault("ops", fault)
		if err := e.poller.RefreshNow(e.ctx, acct.ID); err != nil {
			t.Fatal(err)
		}
		_ = e.poller.Poll(e.ctx, acct.ID) // a 429 on the windows alone does not fail the poll
		sups, err := e.store.AccountSuppressions(e.ctx, acct.ID)
		if err != nil || len(sups) != 1 || sups[0].Label != "Patch" {
			t.Errorf("%+v: windows after a failed read %+v, %v; want the last good one", fault, sups, err)
		}
		facts := e.page("/accounts/" + strconv.FormatInt(acct.ID, 10) + "/rackspace")
		if msg := facts.Find(`.read-error[data-read="suppressions"]`).Text(); !strings.Contains(msg, "Showing what was read at") {
			t.Errorf("%+v: the facts do not say the read failed: %q", fault, msg)
		}
		if e.page("/accounts/"+strconv.FormatInt(acct.ID, 10)).Find(`li.tile[data-maintenance="true"]`).Length() != 1 {
			t.Errorf("%+v: the server left maintenance when the windows could not be read", fault)
		}
	}
}

// Above 80 % of the budget, polls slow down and the account page says so;
// the API gives the budget.
func TestABudgetNearlySpentSlowsPollingAndSaysSo(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	up := e.upstream(fakerax.AccountSpec{Username: "ops", Servers: 2, Alarms: 1, RateLimit: 1000})
	acct := e.addAccount(up, "")
	if err := e.fake.SetRateUsed("ops", 950); err != nil {
		t.Fatal(err)
	}
	e.poll(acct.ID)
	a, err := e.store.Account(e.ctx, acct.ID)
	if err != nil {
		t.Fatal(err)
	}
	if wait := a.Status.NextPollAt.Sub(a.Status.LastPolledAt); wait < 10*time.Minute {
		t.Errorf("with 95 %% of the budget spent the next poll is in %s, want the rest to last the day", wait)
	}
	facts := e.page("/accounts/" + strconv.FormatInt(acct.ID, 10) + "/rackspace")
	if facts.Find(`[data-slowed="true"]`).Length() != 1 {
		t.Errorf("the account page does not say polling slowed: %s", facts.Find(".upstream").Text())
	}
	var list []struct {
		Username string   `json:"username"`
		Rate     *apiRate `json:"rate"`
	}
	rec := e.get("/api/v1/accounts")
	if err := json.Unmarshal(rec.Body.Bytes(), &list); err != nil {
		t.Fatalf("%v: %s", err, rec.Body)
	}
	if len(list) != 1 || list[0].Rate == nil || list[0].Rate.Limit != 1000 || list[0].Rate.Used < 950 || list[0].Rate.Window == "" {
		t.Fatalf("API accounts %s, want a rate of 1000 limit, at least 950 used, a window", rec.Body)
	}
}

// The not-watched list: alarms whose plan tells nobody of CRITICAL,
// disabled alarms and checks, servers without alarms.
func TestTheNotWatchedList(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	up := e.upstream(fakerax.AccountSpec{Username: "ops", Servers: 60, Alarms: 4})
	acct := e.addAccount(up, "")
	e.poll(acct.ID)
	plans := map[string]fakerax.NotificationPlan{}
	for _, p := range e.fake.NotificationPlans("ops") {
		plans[p.ID] = p
	}
	want := map[monitoring.BlindReason]int{}
	for _, en := range e.fake.Entities("ops") {
		if len(en.Alarms) == 0 {
			want[monitoring.BlindNoAlarms]++
		}
		for _, al := range en.Alarms {
			switch p, ok := plans[al.NotificationPlanID]; {
			case al.CheckDisabled:
				want[monitoring.BlindCheckDisabled]++
			case al.Disabled:
				want[monitoring.BlindAlarmDisabled]++
			case ok && len(p.CriticalState) == 0 && p.ID != fakerax.BuiltinPlanID:
				want[monitoring.BlindQuietPlan]++
			}
		}
	}
	if want[monitoring.BlindQuietPlan] == 0 || want[monitoring.BlindAlarmDisabled]+want[monitoring.BlindCheckDisabled] == 0 {
		t.Fatalf("the fake's account has no blind spots to find: %v", want)
	}
	doc := e.page("/accounts/" + strconv.FormatInt(acct.ID, 10) + "/rackspace")
	for reason, n := range want {
		if got := doc.Find(`.blind-group[data-blind="`+string(reason)+`"]`).AttrOr("data-count", "0"); got != strconv.FormatInt(int64(n), 10) {
			t.Errorf("%s: %s listed, want %d", reason, got, n)
		}
	}
}

// Rackspace's changelogs complete the history: changes made while the
// dashboard was stopped, a flap between two polls, each recorded once at
// the fake's times, however often the changelog is read again.
func TestChangelogsCompleteTheHistory(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	up := e.upstream(fakerax.AccountSpec{Username: "ops", Servers: 3, Alarms: 2})
	acct := e.addAccount(up, "")
	var en fakerax.Entity
	for _, x := range e.fake.Entities("ops") {
		if len(x.Alarms) == 2 && !x.Alarms[0].Disabled && !x.Alarms[1].Disabled {
			en = x
		}
	}
	if en.ID == "" {
		t.Fatal("no server with two enabled alarms")
	}
	flap, steady := en.Alarms[0], en.Alarms[1]
	set := func(al fakerax.Alarm, state string) {
		t.Helper()
		time.Sleep(5 * time.Millisecond) // changes a few milliseconds apart, as Rackspace times them
		if err := e.fake.SetState("ops", en.ID, al.ID, state); err != nil {
			t.Fatal(err)
		}
	}
	set(flap, "OK")
	set(steady, "OK")
	e.poll(acct.ID) // the dashboard's last poll before it stops

	// Stopped: the alarm flaps (four changes: flapping) and the other
	// goes WARNING.
	set(flap, "CRITICAL")
	set(flap, "OK")
	set(flap, "CRITICAL")
	set(flap, "OK")
	set(steady, "WARNING")
	changes := e.fake.AlarmChanges("ops", time.Now().Add(-time.Minute), time.Now())

	// Started again: a poller of its own, as after a restart.
	restarted := poller.New(e.store, e.client, poller.Config{Interval: pollInterval, Logger: e.log})
	for range 3 {
		if err := restarted.Poll(e.ctx, acct.ID); err != nil {
			t.Fatal(err)
		}
		if err := restarted.RefreshNow(e.ctx, acct.ID); err != nil { // read again at once
			t.Fatal(err)
		}
	}
	evs, _, err := e.store.Events(e.ctx, monitoring.EventQuery{AccountID: acct.ID, ServerID: en.ID, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	type change struct {
		alarm, to string
		at        int64
	}
	got := map[change]int{}
	for _, ev := range evs {
		if ev.Kind == monitoring.EventState && !ev.At.Before(changes[0].Time.Add(-time.Second)) {
			got[change{ev.AlarmID, string(ev.To), ev.At.UnixMilli()}]++
		}
	}
	var want []change
	for _, c := range changes {
		if c.EntityID == en.ID {
			want = append(want, change{c.AlarmID, c.State, c.Time.UnixMilli()})
		}
	}
	if len(want) < 3 {
		t.Fatalf("the fake's changelog has %d changes, want the 3 made: %+v", len(want), changes)
	}
	for _, w := range want {
		if got[w] != 1 {
			t.Errorf("change %+v recorded %d times, want once at the fake's time; history: %+v", w, got[w], got)
		}
	}
	if len(got) != len(want) {
		t.Errorf("history holds %d changes since the stop, want %d: %+v", len(got), len(want), got)
	}
	fromLog := 0
	for _, ev := range evs {
		if ev.FromChangelog {
			fromLog++
		}
	}
	if fromLog < 4 {
		t.Errorf("%d changes marked as from the changelog, want the flap's four at least", fromLog)
	}
	// Four changes within the hour: flapping, on the server page and in
	// the tile's tooltip.
	srv := e.page("/accounts/" + strconv.FormatInt(acct.ID, 10) + "/servers/" + en.ID)
	if got := srv.Find(`tr[data-alarm-id="`+flap.ID+`"] .flap-badge`).AttrOr("data-flapping", ""); got != "4" {
		t.Errorf("server page: flapping %q, want 4 changes", got)
	}
	title := e.page("/accounts/"+strconv.FormatInt(acct.ID, 10)).Find(`li.tile[data-server-id="`+en.ID+`"] .t`).AttrOr("title", "")
	if !strings.Contains(title, "Flapping: ") || !strings.Contains(title, "changed state 4 times") {
		t.Errorf("tile tooltip %q does not say the alarm flaps", title)
	}
}
