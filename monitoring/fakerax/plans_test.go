package fakerax

import (
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
)

type rawList struct {
	Values   []map[string]json.RawMessage `json:"values"`
	Metadata map[string]json.RawMessage   `json:"metadata"`
}

func TestNotificationPlansShape(t *testing.T) {
	s, ts := newTestServer(t, Config{Accounts: 1, Servers: 2, Seed: 5})
	acct := s.Accounts()[0]
	ss := login(t, s, ts, acct.Username)
	var l rawList
	ss.getJSON(t, "/notification_plans", &l)
	if len(l.Values) != 3 {
		t.Fatalf("%d plans", len(l.Values))
	}
	plans := s.NotificationPlans(acct.Username)
	var builtin, quiet, onCall int
	for i, v := range l.Values {
		var id string
		json.Unmarshal(v["id"], &id)
		if id != plans[i].ID || (i > 0 && plans[i-1].ID >= id) {
			t.Errorf("plan %d %s, want %s, sorted by ID", i, id, plans[i].ID)
		}
		for _, k := range []string{"id", "label", "critical_state", "warning_state", "ok_state"} {
			if _, ok := v[k]; !ok {
				t.Errorf("plan %s has no %s", id, k)
			}
		}
		switch {
		case id == BuiltinPlanID:
			builtin++
			if string(v["critical_state"]) != "[]" || string(v["warning_state"]) != "[]" || string(v["ok_state"]) != "[]" || v["created_at"] != nil || v["updated_at"] != nil {
				t.Errorf("built-in plan %v", v)
			}
		case string(v["critical_state"]) == "null":
			quiet++
			if string(v["label"]) != "null" || string(v["warning_state"]) != "null" || !strings.HasPrefix(string(v["ok_state"]), `["nt`) {
				t.Errorf("quiet plan %v", v)
			}
		default:
			onCall++
			var crit []string
			json.Unmarshal(v["critical_state"], &crit)
			if len(crit) == 0 || string(v["warning_state"]) == "null" || string(v["ok_state"]) == "null" || v["created_at"] == nil {
				t.Errorf("on-call plan %v", v)
			}
		}
	}
	if builtin != 1 || quiet != 1 || onCall != 1 {
		t.Errorf("built-in %d, quiet %d, on-call %d", builtin, quiet, onCall)
	}
	// One plan by ID, the same object; an unknown one is 404.
	for _, p := range plans {
		var one map[string]json.RawMessage
		ss.getJSON(t, "/notification_plans/"+p.ID, &one)
		if string(one["id"]) != `"`+p.ID+`"` || (p.Label == nil) != (string(one["label"]) == "null") {
			t.Errorf("GET %s: %v", p.ID, one)
		}
	}
	if resp, body := ss.call(t, http.MethodGet, "/notification_plans/npNope", ""); resp.StatusCode != 404 || decodeMonFault(t, body).Type != "notFoundError" {
		t.Errorf("unknown plan: %d %s", resp.StatusCode, body)
	}
}

func TestNotificationPlansPaging(t *testing.T) {
	s, ts := newTestServer(t, Config{Accounts: 1, Servers: 1})
	ss := login(t, s, ts, s.Accounts()[0].Username)
	plans := s.NotificationPlans(s.Accounts()[0].Username)
	var got []string
	q := url.Values{"limit": {"2"}}
	for page := 1; ; page++ {
		var l rawList
		ss.getJSON(t, "/notification_plans?"+q.Encode(), &l)
		for _, v := range l.Values {
			var id string
			json.Unmarshal(v["id"], &id)
			got = append(got, id)
		}
		if string(l.Metadata["limit"]) != "2" || string(l.Metadata["count"]) != string(rune('0'+len(l.Values))) {
			t.Errorf("page %d metadata %v", page, l.Metadata)
		}
		nm, has := l.Metadata["next_marker"]
		if page == 1 {
			var href string
			json.Unmarshal(l.Metadata["next_href"], &href)
			if !has || string(nm) == "null" || !strings.Contains(href, "limit=2") || !strings.Contains(href, "marker=") {
				t.Fatalf("page 1 metadata %v", l.Metadata)
			}
			var next string
			json.Unmarshal(nm, &next)
			q.Set("marker", next)
			continue
		}
		// The last page leaves next_marker out entirely.
		if has || string(l.Metadata["next_href"]) != "null" {
			t.Errorf("last page metadata %v: want no next_marker key", l.Metadata)
		}
		break
	}
	var want []string
	for _, p := range plans {
		want = append(want, p.ID)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("walked %v, want %v", got, want)
	}
	var l rawList
	ss.getJSON(t, "/notification_plans?id="+want[2]+"&id="+want[0]+"&id=npNope", &l)
	if len(l.Values) != 2 || !strings.Contains(string(l.Values[0]["id"]), want[0]) || !strings.Contains(string(l.Values[1]["id"]), want[2]) {
		t.Errorf("id filter: %v", l.Values)
	}
	if resp, _ := ss.call(t, http.MethodGet, "/notification_plans?limit=1001", ""); resp.StatusCode != 400 {
		t.Errorf("limit 1001: %d", resp.StatusCode)
	}
}

// TestAlarmsNamePlansAndSomeChecksAreDisabled: alarms carry a plan of their
// account, a few the quiet one; a few checks are disabled, which freezes
// their alarms; the suppression lists are [] or, for a few, null.
func TestAlarmsNamePlansAndSomeChecksAreDisabled(t *testing.T) {
	c := newClock()
	s, ts := newTestServer(t, Config{Accounts: 1, Servers: 200, Alarms: 6, Now: c.Now, ChangeEvery: time.Minute})
	acct := s.Accounts()[0]
	ss := login(t, s, ts, acct.Username)
	plans := map[string]NotificationPlan{}
	var quiet string
	for _, p := range s.NotificationPlans(acct.Username) {
		plans[p.ID] = p
		if p.CriticalState == nil {
			quiet = p.ID
		}
	}
	byPlan := map[string]int{}
	var checksOff, nullLists, emptyLists int
	model := map[string]Alarm{}
	for _, e := range s.Entities(acct.Username) {
		for _, a := range e.Alarms {
			model[a.ID] = a
		}
	}
	for _, p := range ss.walk(t, url.Values{"limit": {"1000"}}) {
		raw := []map[string]json.RawMessage{}
		for _, v := range p.Values {
			raw = append(raw, v.Alarms...)
		}
		for _, al := range raw {
			var id, np string
			json.Unmarshal(al["id"], &id)
			json.Unmarshal(al["notification_plan_id"], &np)
			if _, ok := plans[np]; !ok || model[id].NotificationPlanID != np {
				t.Fatalf("alarm %s plan %q (model %q) is not one of the account's", id, np, model[id].NotificationPlanID)
			}
			byPlan[np]++
			for _, k := range []string{"active_suppressions", "scheduled_suppressions"} {
				switch string(al[k]) {
				case "[]":
					emptyLists++
				case "null":
					nullLists++
				default:
					t.Errorf("alarm %s %s = %s", id, k, al[k])
				}
			}
		}
	}
	total := 200 * 6
	if n := byPlan[quiet]; n < total/100 || n > total/10 {
		t.Errorf("%d of %d alarms on the quiet plan, want a few %%", n, total)
	}
	if byPlan[BuiltinPlanID] < total/4 || len(byPlan) != 3 {
		t.Errorf("alarms by plan %v", byPlan)
	}
	if nullLists == 0 || emptyLists < 10*nullLists {
		t.Errorf("suppression lists: %d null, %d empty", nullLists, emptyLists)
	}

	before := s.Entities(acct.Username)
	c.Advance(30 * time.Minute)
	after := s.Entities(acct.Username)
	for i := range before {
		for j, a := range before[i].Alarms {
			if !a.CheckDisabled {
				continue
			}
			checksOff++
			if !a.Disabled || after[i].Alarms[j].State != a.State || !after[i].Alarms[j].Since.Equal(a.Since) {
				t.Errorf("alarm %s on a disabled check changed or is not Disabled: %+v then %+v", a.ID, a, after[i].Alarms[j])
			}
		}
	}
	if checksOff < total/100 || checksOff > total/20 {
		t.Errorf("%d of %d checks disabled", checksOff, total)
	}
	// The wire says so on the check, not on the alarm.
	_, body := ss.get(t, "limit=1000")
	served := 0
	var full struct {
		Values []struct {
			Entity map[string]json.RawMessage   `json:"entity"`
			Checks []map[string]json.RawMessage `json:"checks"`
		} `json:"values"`
	}
	json.Unmarshal(body, &full)
	for _, v := range full.Values {
		if v.Entity["active_suppressions"] == nil || v.Entity["scheduled_suppressions"] == nil {
			t.Fatalf("entity without suppression lists: %v", v.Entity)
		}
		for _, ch := range v.Checks {
			if string(ch["disabled"]) == "true" {
				served++
			}
			if ch["active_suppressions"] == nil {
				t.Fatalf("check without suppression lists: %v", ch)
			}
		}
	}
	if served != checksOff {
		t.Errorf("%d checks served disabled, the model has %d", served, checksOff)
	}
}
