package fakerax

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strconv"
	"testing"
	"time"
)

type wireEntry struct {
	ID            string          `json:"id"`
	Timestamp     json.RawMessage `json:"timestamp"`
	EntityID      string          `json:"entity_id"`
	AlarmID       string          `json:"alarm_id"`
	CheckID       string          `json:"check_id"`
	State         string          `json:"state"`
	PreviousState string          `json:"previous_state"`
	Status        string          `json:"status"`
	Zone          *string         `json:"analyzed_by_monitoring_zone_id"`
}

func (e wireEntry) ms(t *testing.T) int64 {
	t.Helper()
	var n int64
	if err := json.Unmarshal(e.Timestamp, &n); err != nil {
		t.Fatalf("timestamp %s is not a number", e.Timestamp)
	}
	return n
}

type changelogPage struct {
	Values   []wireEntry  `json:"values"`
	Metadata listMetadata `json:"metadata"`
}

// changelog walks /changelogs/alarms with the query, following next_marker.
func (ss tenantClient) changelog(t *testing.T, q url.Values) ([]wireEntry, int) {
	t.Helper()
	q = cloneValues(q)
	var all []wireEntry
	pages := 0
	for {
		var p changelogPage
		ss.getJSON(t, "/changelogs/alarms?"+q.Encode(), &p)
		pages++
		if p.Metadata.Count != len(p.Values) {
			t.Fatalf("count %d for %d values", p.Metadata.Count, len(p.Values))
		}
		all = append(all, p.Values...)
		if p.Metadata.NextMarker == nil {
			return all, pages
		}
		if pages > 10000 {
			t.Fatal("endless paging")
		}
		q.Set("marker", *p.Metadata.NextMarker)
	}
}

func cloneValues(q url.Values) url.Values {
	out := url.Values{}
	for k, v := range q {
		out[k] = append([]string(nil), v...)
	}
	return out
}

// overviewStates are the states the overview serves, by entity/alarm.
func overviewStates(t *testing.T, ss tenantClient) map[string]map[string]json.RawMessage {
	t.Helper()
	out := map[string]map[string]json.RawMessage{}
	for _, p := range ss.walk(t, url.Values{"limit": {"1000"}}) {
		for _, v := range p.Values {
			for _, st := range v.LatestAlarmStates {
				var e, a string
				json.Unmarshal(st["entity_id"], &e)
				json.Unmarshal(st["alarm_id"], &a)
				out[e+"/"+a] = st
			}
		}
	}
	return out
}

// checkAgreement wants the last changelog entry of each alarm to have the
// state the overview shows, and each alarm's entries to chain.
func checkAgreement(t *testing.T, ss tenantClient, entries []wireEntry, states map[string]map[string]json.RawMessage) (alarms int) {
	t.Helper()
	last := map[string]wireEntry{}
	for i, e := range entries {
		if i > 0 {
			p := entries[i-1]
			if p.ms(t) > e.ms(t) || p.ms(t) == e.ms(t) && p.ID >= e.ID {
				t.Fatalf("entry %d out of order: %s %s after %s %s", i, e.Timestamp, e.ID, p.Timestamp, p.ID)
			}
		}
		k := e.EntityID + "/" + e.AlarmID
		if prev, ok := last[k]; ok && prev.State != e.PreviousState {
			t.Errorf("%s: %s→%s at %s follows %s", k, e.PreviousState, e.State, e.Timestamp, prev.State)
		}
		if e.State == e.PreviousState || e.Status == "" {
			t.Errorf("entry %+v", e)
		}
		if _, ok := states[k]; !ok {
			t.Errorf("changelog names %s, which has no latest state", k)
		}
		last[k] = e
	}
	for k, e := range last {
		var state, check string
		json.Unmarshal(states[k]["state"], &state)
		json.Unmarshal(states[k]["check_id"], &check)
		if e.State != state || e.CheckID != check {
			t.Errorf("%s: last entry %s (%s, check %s), overview shows %s (check %s)", k, e.State, e.Timestamp, e.CheckID, state, check)
		}
	}
	return len(last)
}

func TestChangelogAgreesWithTheOverviewOverTime(t *testing.T) {
	c := newClock()
	s, ts := newTestServer(t, Config{Accounts: 1, Servers: 100, Alarms: 10, Now: c.Now, ChangeEvery: time.Minute})
	acct := s.Accounts()[0]
	added := c.Now()
	total := 0
	for step := range 6 {
		if step > 0 {
			c.Advance(37*time.Minute + 13*time.Second)
		}
		ss := login(t, s, ts, acct.Username)
		start := time.Now()
		entries, pages := ss.changelog(t, url.Values{"limit": {"1000"}})
		took := time.Since(start)
		alarms := checkAgreement(t, ss, entries, overviewStates(t, ss))
		t.Logf("after %v: %d entries on %d pages for %d alarms in %v", c.Now().Sub(added), len(entries), pages, alarms, took)
		if alarms < 800 {
			t.Errorf("only %d alarms in the changelog", alarms)
		}
		if step > 0 && len(entries) <= total {
			t.Errorf("%d entries after %d before: states stopped changing", len(entries), total)
		}
		total = len(entries)
		// The Go API says the same.
		if got := s.AlarmChanges(acct.Username, time.Time{}, c.Now()); len(got) != len(entries) || got[len(got)-1].ID != entries[len(entries)-1].ID {
			t.Errorf("AlarmChanges has %d entries, the API %d", len(got), len(entries))
		}
	}
}

func TestChangelogRecordsForcedStates(t *testing.T) {
	c := newClock()
	s, ts := newTestServer(t, Config{Accounts: 1, Servers: 4, Alarms: 3, Now: c.Now, ChangeEvery: time.Minute, WarningShare: 0.2, CriticalShare: 0.2})
	acct := s.Accounts()[0]
	ent := s.Entities(acct.Username)[0]
	al := ent.Alarms[0]
	q := url.Values{"entityId": {ent.ID}}
	ofAlarm := func(entries []wireEntry) []wireEntry {
		var out []wireEntry
		for _, e := range entries {
			if e.AlarmID == al.ID {
				out = append(out, e)
			}
		}
		return out
	}

	c.Advance(5 * time.Minute)
	want := "CRITICAL"
	if cur := s.Entities(acct.Username)[0].Alarms[0].State; cur == "CRITICAL" {
		want = "OK"
	}
	forcedAt := c.Now().UnixMilli()
	if resp, body := post(t, ts.URL+"/_fake/state?username="+acct.Username+"&entity="+ent.ID+"&alarm="+al.ID+"&state="+want, ""); resp.StatusCode != 204 {
		t.Fatalf("force: %d %s", resp.StatusCode, body)
	}
	c.Advance(20 * time.Minute) // many periods: generated changes must not show
	ss := login(t, s, ts, acct.Username)
	entries, _ := ss.changelog(t, q)
	checkAgreement(t, ss, entries, overviewStates(t, ss))
	mine := ofAlarm(entries)
	lastE := mine[len(mine)-1]
	if lastE.State != want || lastE.ms(t) != forcedAt {
		t.Fatalf("last entry %+v, want %s forced at %d", lastE, want, forcedAt)
	}

	// Released: the change back (if any) is at the clock's time, then the
	// generated changes resume.
	releasedAt := c.Now().UnixMilli()
	if err := s.SetState(acct.Username, ent.ID, al.ID, ""); err != nil {
		t.Fatal(err)
	}
	back := s.Entities(acct.Username)[0].Alarms[0].State
	c.Advance(30 * time.Minute)
	ss = login(t, s, ts, acct.Username)
	entries, _ = ss.changelog(t, q)
	checkAgreement(t, ss, entries, overviewStates(t, ss))
	mine = ofAlarm(entries)
	var sawRelease, afterRelease bool
	for _, e := range mine {
		switch ms := e.ms(t); {
		case ms > forcedAt && ms < releasedAt:
			t.Errorf("a generated change while forced: %+v", e)
		case ms == releasedAt:
			sawRelease = true
			if e.State != back || e.PreviousState != want {
				t.Errorf("release entry %+v, want %s→%s", e, want, back)
			}
		case ms > releasedAt:
			afterRelease = true
		}
	}
	if sawRelease != (back != want) {
		t.Errorf("release entry present %v, state went %s→%s", sawRelease, want, back)
	}
	if !afterRelease {
		t.Error("no generated change in the 30 periods after release")
	}
}

func TestChangelogOfAFrozenAlarmIsWhatWasForced(t *testing.T) {
	c := newClock()
	s := New(Config{Accounts: 1, Servers: 40, Alarms: 3, Now: c.Now, ChangeEvery: time.Minute})
	acct := s.Accounts()[0]
	var ent Entity
	var frozen Alarm
	for _, e := range s.Entities(acct.Username) {
		for _, a := range e.Alarms {
			if a.Disabled && a.State != "" {
				ent, frozen = e, a
			}
		}
	}
	if frozen.ID == "" {
		t.Fatal("no disabled alarm with a state")
	}
	c.Advance(time.Hour)
	count := func() (n int, last AlarmChange) {
		for _, ch := range s.AlarmChanges(acct.Username, time.Time{}, c.Now()) {
			if ch.AlarmID == frozen.ID {
				n, last = n+1, ch
			}
		}
		return n, last
	}
	if n, _ := count(); n != 0 {
		t.Fatalf("a frozen alarm (state since %v) has %d entries", frozen.Since, n)
	}
	next := "WARNING"
	if frozen.State == next {
		next = "OK"
	}
	if err := s.SetState(acct.Username, ent.ID, frozen.ID, next); err != nil {
		t.Fatal(err)
	}
	if err := s.SetState(acct.Username, ent.ID, frozen.ID, next); err != nil { // the same again: no change
		t.Fatal(err)
	}
	c.Advance(time.Minute)
	if n, last := count(); n != 1 || last.State != next || last.PreviousState != frozen.State || !last.Time.Equal(c.Now().Add(-time.Minute)) {
		t.Errorf("after forcing: %d entries, last %+v", n, last)
	}
	if err := s.SetState(acct.Username, ent.ID, frozen.ID, ""); err != nil {
		t.Fatal(err)
	}
	if n, last := count(); n != 2 || last.State != frozen.State || last.PreviousState != next || !last.Time.Equal(c.Now()) {
		t.Errorf("after release: %d entries, last %+v", n, last)
	}
}

func TestChangelogWindowPagingAndOrder(t *testing.T) {
	c := newClock()
	s, ts := newTestServer(t, Config{Accounts: 1, Servers: 10, Alarms: 4, Now: c.Now, ChangeEvery: time.Minute, WarningShare: 0.15, CriticalShare: 0.1})
	acct := s.Accounts()[0]
	c.Advance(2 * time.Hour)
	ss := login(t, s, ts, acct.Username)
	all, _ := ss.changelog(t, url.Values{"limit": {"1000"}})
	if len(all) < 100 {
		t.Fatalf("only %d entries", len(all))
	}

	// Small pages walk the same list; the marker is the next page's first entry.
	paged, pages := ss.changelog(t, url.Values{"limit": {"7"}})
	if !reflect.DeepEqual(paged, all) || pages != (len(all)+6)/7 {
		t.Errorf("limit=7: %d entries on %d pages, want %d", len(paged), pages, len(all))
	}
	var p changelogPage
	ss.getJSON(t, "/changelogs/alarms?limit=7", &p)
	if p.Metadata.NextMarker == nil || *p.Metadata.NextMarker != all[7].ID || p.Metadata.Marker != nil || p.Metadata.NextHref == nil {
		t.Errorf("page 1 metadata %+v", p.Metadata)
	}
	// reverse=True gives newest first, and pages too.
	rev, _ := ss.changelog(t, url.Values{"reverse": {"True"}, "limit": {"9"}})
	if len(rev) != len(all) {
		t.Fatalf("reverse: %d entries, want %d", len(rev), len(all))
	}
	for i := range rev {
		if rev[i].ID != all[len(all)-1-i].ID {
			t.Fatalf("reverse entry %d is %s, want %s", i, rev[i].ID, all[len(all)-1-i].ID)
		}
	}
	// from and to bound the timestamps, both included.
	from, to := all[20].ms(t), all[60].ms(t)
	win, _ := ss.changelog(t, url.Values{"from": {strconv.FormatInt(from, 10)}, "to": {strconv.FormatInt(to, 10)}})
	var want []wireEntry
	for _, e := range all {
		if e.ms(t) >= from && e.ms(t) <= to {
			want = append(want, e)
		}
	}
	if !reflect.DeepEqual(win, want) {
		t.Errorf("from/to: %d entries, want %d", len(win), len(want))
	}
	// The default window is the last 7 days and data is kept 30 days.
	c.Advance(6 * 24 * time.Hour)
	ss = login(t, s, ts, acct.Username)
	if got := s.AlarmChanges(acct.Username, time.Time{}, c.Now()); len(got) == 0 || got[0].ID != all[0].ID {
		t.Fatal("the first entries are gone after 6 days")
	}
	var first changelogPage
	ss.getJSON(t, "/changelogs/alarms?limit=1", &first)
	if first.Values[0].ms(t) < c.Now().Add(-7*24*time.Hour).UnixMilli() {
		t.Errorf("default window starts at %s, before now-7d", first.Values[0].Timestamp)
	}
	ss.getJSON(t, "/changelogs/alarms?limit=1&from=0", &first)
	if first.Values[0].ID != all[0].ID {
		t.Errorf("from=0 after 6 days starts with %s, want %s", first.Values[0].ID, all[0].ID)
	}
	c.Advance(25 * 24 * time.Hour)
	ss = login(t, s, ts, acct.Username)
	ss.getJSON(t, "/changelogs/alarms?limit=1&from=0", &first)
	if len(first.Values) == 0 || first.Values[0].ms(t) < c.Now().Add(-30*24*time.Hour).UnixMilli() {
		t.Errorf("after 31 days from=0 starts at %v: want nothing older than 30 days", first.Values)
	}

	for _, tc := range []struct {
		query  string
		status int
		typ    string
	}{
		{"marker=nope", 400, "badRequest"},
		{"from=yesterday", 400, "badRequest"},
		{"from=10&to=5", 400, "badRequest"},
		{"reverse=maybe", 400, "badRequest"},
		{"limit=1001", 400, "invalidLimit"},
		{"entityId=enNope", 404, "notFoundError"},
	} {
		resp, body := ss.call(t, http.MethodGet, "/changelogs/alarms?"+tc.query, "")
		if resp.StatusCode != tc.status || decodeMonFault(t, body).Type != tc.typ {
			t.Errorf("%s: %d %s", tc.query, resp.StatusCode, body)
		}
	}
}

func TestChangelogEntityFilterAndShape(t *testing.T) {
	c := newClock()
	s, ts := newTestServer(t, Config{Accounts: 1, Servers: 12, Alarms: 4, Now: c.Now, ChangeEvery: time.Minute})
	acct := s.Accounts()[0]
	c.Advance(40 * time.Minute)
	ss := login(t, s, ts, acct.Username)
	ents := s.Entities(acct.Username)
	all, _ := ss.changelog(t, nil)
	one, _ := ss.changelog(t, url.Values{"entityId": {ents[2].ID}})
	var want []wireEntry
	for _, e := range all {
		if e.EntityID == ents[2].ID {
			want = append(want, e)
		}
	}
	if len(one) == 0 || !reflect.DeepEqual(one, want) {
		t.Errorf("entityId: %d entries, want %d", len(one), len(want))
	}
	// Raw shape: every key, the id a version-1 UUID whose time is the entry's.
	_, body := ss.call(t, http.MethodGet, "/changelogs/alarms?limit=50", "")
	var raw struct {
		Values   []map[string]json.RawMessage `json:"values"`
		Metadata map[string]json.RawMessage   `json:"metadata"`
	}
	json.Unmarshal(body, &raw)
	zones := map[string]int{}
	for _, v := range raw.Values {
		if len(v) != 9 {
			t.Errorf("entry keys %v", v)
		}
		var id string
		var ms int64
		json.Unmarshal(v["id"], &id)
		json.Unmarshal(v["timestamp"], &ms)
		if got, ok := changeIDTime(id); !ok || got != ms || len(id) != 36 || id[14] != '1' {
			t.Errorf("id %s (time %d, ok %v) for timestamp %d", id, got, ok, ms)
		}
		zones[string(v["analyzed_by_monitoring_zone_id"])]++
	}
	if zones["null"] == 0 || len(zones) < 2 {
		t.Errorf("zones %v: want null for agent checks and mz… for remote ones", zones)
	}
	for _, k := range []string{"count", "limit", "marker", "next_marker", "next_href"} {
		if _, ok := raw.Metadata[k]; !ok {
			t.Errorf("metadata has no %s", k)
		}
	}
	// StringTimestamps quotes them.
	s.SetFault(acct.Username, Fault{StringTimestamps: true})
	_, body = ss.call(t, http.MethodGet, "/changelogs/alarms?limit=5", "")
	var quoted changelogPage
	json.Unmarshal(body, &quoted)
	for i, e := range quoted.Values {
		var str string
		if err := json.Unmarshal(e.Timestamp, &str); err != nil || str != fmt.Sprint(all[i].ms(t)) {
			t.Errorf("string timestamp %s, want %q", e.Timestamp, fmt.Sprint(all[i].ms(t)))
		}
	}
	if resp, _ := post(t, ts.URL+"/_fake/fault?username="+acct.Username+"&string_timestamps=1", ""); resp.StatusCode != 200 {
		t.Errorf("fault route: %d", resp.StatusCode)
	}
	if _, body := ss.call(t, http.MethodGet, "/changelogs/alarms?limit=1", ""); !json.Valid(body) || !containsQuotedTimestamp(body) {
		t.Errorf("after string_timestamps=1: %s", body)
	}
}

func containsQuotedTimestamp(b []byte) bool {
	var p struct {
		Values []map[string]json.RawMessage `json:"values"`
	}
	return json.Unmarshal(b, &p) == nil && len(p.Values) == 1 && p.Values[0]["timestamp"][0] == '"'
}

func BenchmarkChangelogFirstPage(b *testing.B) {
	c := newClock()
	s := New(Config{Accounts: 1, Servers: 100, Alarms: 10, Now: c.Now, ChangeEvery: time.Minute})
	c.Advance(4 * time.Hour)
	a := s.Accounts()[0]
	token := benchToken(b, s, a)
	for b.Loop() {
		req := httptest.NewRequest(http.MethodGet, "/v1.0/"+a.TenantID+"/changelogs/alarms?limit=1000&reverse=true", nil)
		req.Header.Set("X-Auth-Token", token)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatal(w.Code)
		}
	}
}
