package fakerax

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

type wireSup struct {
	ID                string   `json:"id"`
	Label             *string  `json:"label"`
	Entities          []string `json:"entities"`
	Checks            []string `json:"checks"`
	Alarms            []string `json:"alarms"`
	NotificationPlans []string `json:"notification_plans"`
	StartTime         int64    `json:"start_time"`
	EndTime           int64    `json:"end_time"`
}

var supIDShape = regexp.MustCompile(`^sp[A-Za-z0-9]{8}$`)

// create POSTs a suppression and wants 201 with its ID in Location and
// X-Object-ID.
func (ss tenantClient) createSup(t *testing.T, body string) string {
	t.Helper()
	resp, b := ss.call(t, http.MethodPost, "/suppressions", body)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST %s: %d %s", body, resp.StatusCode, b)
	}
	id := resp.Header.Get("X-Object-ID")
	if !supIDShape.MatchString(id) || resp.Header.Get("Location") != ss.base+"/suppressions/"+id || len(b) != 0 {
		t.Fatalf("POST: id %q, Location %q, body %q", id, resp.Header.Get("Location"), b)
	}
	return id
}

func (ss tenantClient) getSup(t *testing.T, id string) wireSup {
	t.Helper()
	var v wireSup
	ss.getJSON(t, "/suppressions/"+id, &v)
	return v
}

// wantValidation wants a 400 badRequest naming key.
func wantValidation(t *testing.T, resp *http.Response, body []byte, key string) {
	t.Helper()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("status %d, want 400: %s", resp.StatusCode, body)
	}
	f := decodeMonFault(t, body)
	if f.Type != "badRequest" || f.Message != "Validation error for key '"+key+"'" || len(f.Details) < 10 {
		t.Errorf("fault %+v, want a validation error for %s with a reason", f, key)
	}
}

func TestSuppressionCreateRules(t *testing.T) {
	c := newClock()
	s, ts := newTestServer(t, Config{Accounts: 1, Servers: 3, Now: c.Now})
	acct := s.Accounts()[0]
	ss := login(t, s, ts, acct.Username)
	now := c.Now().UnixMilli()
	en := s.Entities(acct.Username)[0]

	id := ss.createSup(t, fmt.Sprintf(`{"label":"Planned reboot","entities":[%q],"start_time":0,"end_time":%d}`, en.ID, now+7200000))
	got := ss.getSup(t, id)
	want := wireSup{ID: id, Label: ptr("Planned reboot"), Entities: []string{en.ID}, Checks: []string{}, Alarms: []string{}, NotificationPlans: []string{},
		StartTime: now, EndTime: now + 7200000}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("created %+v, want %+v (0 is now)", got, want)
	}
	// Up to 60 s in the past counts as now; a missing end_time is 0, now.
	id2 := ss.createSup(t, fmt.Sprintf(`{"checks":["%s:chAbc"],"start_time":%d}`, en.ID, now-30000))
	if g := ss.getSup(t, id2); g.StartTime != now || g.EndTime != now || g.Label != nil {
		t.Errorf("start 30 s ago: %+v", g)
	}
	if id2 == id {
		t.Error("two suppressions share an ID")
	}

	long := strings.Repeat("é", 256)
	many := `"` + strings.Repeat(`enA","`, 512) + `enA"`
	for _, tc := range []struct{ name, body, key string }{
		{"start over a minute ago", fmt.Sprintf(`{"start_time":%d,"end_time":%d}`, now-61000, now+1000), "start_time"},
		{"end in the past", fmt.Sprintf(`{"end_time":%d}`, now-1), "end_time"},
		{"end before start", fmt.Sprintf(`{"start_time":%d,"end_time":%d}`, now+5000, now+4000), "end_time"},
		{"negative time", `{"start_time":-1}`, "start_time"},
		{"fractional time", fmt.Sprintf(`{"end_time":%d.5}`, now+1000), "end_time"},
		{"time as text", `{"end_time":"0"}`, "end_time"},
		{"label too long", `{"label":"` + long + `"}`, "label"},
		{"empty label", `{"label":""}`, "label"},
		{"label not text", `{"label":7}`, "label"},
		{"513 entities", `{"entities":[` + many + `]}`, "entities"},
		{"check without entity", `{"checks":["chAbc"]}`, "checks"},
		{"alarm shaped as a check", `{"alarms":["enA:chB"]}`, "alarms"},
		{"plan not a plan", `{"notification_plans":["ntX"]}`, "notification_plans"},
		{"list not a list", `{"entities":"enA"}`, "entities"},
		{"unknown key", `{"who":"me"}`, "who"},
		{"not an object", `[1]`, "body"},
		{"not JSON", `{`, "body"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := ss.call(t, http.MethodPost, "/suppressions", tc.body)
			wantValidation(t, resp, body, tc.key)
		})
	}
	// 255 characters and 512 items are fine.
	ss.createSup(t, `{"label":"`+strings.Repeat("é", 255)+`","entities":[`+strings.Repeat(`"enA",`, 511)+`"enA"]}`)
	if n := len(s.Suppressions(acct.Username)); n != 3 {
		t.Errorf("%d suppressions stored, want 3 (refused ones are not)", n)
	}
}

func TestSuppressionUpdateAndDelete(t *testing.T) {
	c := newClock()
	s, ts := newTestServer(t, Config{Accounts: 1, Servers: 3, Now: c.Now})
	acct := s.Accounts()[0]
	ss := login(t, s, ts, acct.Username)
	now := c.Now().UnixMilli()
	id := ss.createSup(t, fmt.Sprintf(`{"label":"Failover test","start_time":%d,"end_time":%d}`, now+3600000, now+7200000))
	put := func(body string) (*http.Response, []byte) {
		return ss.call(t, http.MethodPut, "/suppressions/"+id, body)
	}

	// Before it starts anything may change, under the create rules.
	if resp, body := put(fmt.Sprintf(`{"label":"DB failover test","checks":["enA:chB"],"start_time":%d}`, now+1800000)); resp.StatusCode != 204 || resp.Header.Get("X-Object-ID") != id {
		t.Fatalf("PUT before start: %d %s", resp.StatusCode, body)
	}
	if g := ss.getSup(t, id); *g.Label != "DB failover test" || g.StartTime != now+1800000 || g.EndTime != now+7200000 || len(g.Checks) != 1 {
		t.Errorf("after PUT: %+v", g)
	}
	resp, body := put(fmt.Sprintf(`{"start_time":%d}`, now-120000))
	wantValidation(t, resp, body, "start_time")

	// Once started only end_time may change.
	c.Advance(time.Hour)
	now = c.Now().UnixMilli()
	for _, tc := range []struct{ body, key string }{
		{`{"label":"Other"}`, "label"},
		{`{"checks":[]}`, "checks"},
		{`{"entities":["enA"]}`, "entities"},
		{fmt.Sprintf(`{"start_time":%d}`, now+1000), "start_time"},
		{`{"start_time":0}`, "start_time"},
		{fmt.Sprintf(`{"end_time":%d}`, now-1000), "end_time"},
	} {
		resp, body := put(tc.body)
		wantValidation(t, resp, body, tc.key)
	}
	// The same values may be sent back with a new end.
	g := ss.getSup(t, id)
	if resp, body := put(fmt.Sprintf(`{"label":%q,"checks":["enA:chB"],"start_time":%d,"end_time":%d}`, *g.Label, g.StartTime, now+60000)); resp.StatusCode != 204 {
		t.Fatalf("PUT end after start: %d %s", resp.StatusCode, body)
	}
	if g := ss.getSup(t, id); g.EndTime != now+60000 || *g.Label != "DB failover test" {
		t.Errorf("after moving the end: %+v", g)
	}
	// end_time 0 ends it now.
	if resp, body := put(`{"end_time":0}`); resp.StatusCode != 204 {
		t.Fatalf("PUT end 0: %d %s", resp.StatusCode, body)
	}
	if g := ss.getSup(t, id); g.EndTime != now {
		t.Errorf("end 0 gave %d, want now %d", g.EndTime, now)
	}

	// DELETE removes it (an active one ends).
	active := ss.createSup(t, fmt.Sprintf(`{"entities":["enA"],"end_time":%d}`, now+60000))
	if resp, body := ss.call(t, http.MethodDelete, "/suppressions/"+active, ""); resp.StatusCode != 204 {
		t.Fatalf("DELETE: %d %s", resp.StatusCode, body)
	}
	for _, method := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
		resp, body := ss.call(t, method, "/suppressions/"+active, `{}`)
		if resp.StatusCode != 404 || decodeMonFault(t, body).Type != "notFoundError" {
			t.Errorf("%s after DELETE: %d %s", method, resp.StatusCode, body)
		}
	}
	if got := s.Suppressions(acct.Username); len(got) != 1 || got[0].ID != id {
		t.Errorf("left %+v, want only %s", got, id)
	}
	if resp, _ := ss.call(t, http.MethodPatch, "/suppressions/"+id, `{}`); resp.StatusCode != 405 {
		t.Errorf("PATCH: %d", resp.StatusCode)
	}
}

func TestSuppressionsPaging(t *testing.T) {
	c := newClock()
	s, ts := newTestServer(t, Config{Accounts: 1, Servers: 1, Now: c.Now})
	acct := s.Accounts()[0]
	ss := login(t, s, ts, acct.Username)
	var ids []string
	for i := range 5 {
		id, err := s.AddSuppression(acct.Username, Suppression{Label: fmt.Sprint("s", i), End: c.Now().Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	var walked []string
	q := url.Values{"limit": {"2"}}
	for page := 1; page < 10; page++ {
		var v struct {
			Values   []wireSup    `json:"values"`
			Metadata listMetadata `json:"metadata"`
		}
		ss.getJSON(t, "/suppressions?"+q.Encode(), &v)
		for _, sp := range v.Values {
			walked = append(walked, sp.ID)
		}
		if v.Metadata.Count != len(v.Values) || v.Metadata.Limit != 2 {
			t.Errorf("page %d metadata %+v", page, v.Metadata)
		}
		if v.Metadata.NextMarker == nil {
			if page != 3 || v.Metadata.NextHref != nil {
				t.Errorf("last page %d metadata %+v", page, v.Metadata)
			}
			break
		}
		if v.Metadata.NextHref == nil || !strings.Contains(*v.Metadata.NextHref, "marker="+*v.Metadata.NextMarker) {
			t.Errorf("page %d next_href %v", page, v.Metadata.NextHref)
		}
		q.Set("marker", *v.Metadata.NextMarker)
	}
	sorted := slices.Sorted(slices.Values(ids))
	if !reflect.DeepEqual(walked, sorted) {
		t.Errorf("walked %v, want %v sorted by ID", walked, sorted)
	}
	var v struct {
		Values []wireSup `json:"values"`
	}
	ss.getJSON(t, "/suppressions?id="+ids[3]+"&id="+ids[1]+"&id=spNope", &v)
	if len(v.Values) != 2 {
		t.Errorf("id filter: %+v", v.Values)
	}
	if resp, _ := ss.call(t, http.MethodGet, "/suppressions?limit=1001", ""); resp.StatusCode != 400 {
		t.Errorf("limit 1001: %d", resp.StatusCode)
	}
	// The Go API refuses what the API refuses.
	if _, err := s.AddSuppression(acct.Username, Suppression{Start: c.Now().Add(-time.Hour), End: c.Now().Add(time.Hour)}); err == nil {
		t.Error("AddSuppression accepted a start an hour ago")
	}
	if err := s.DeleteSuppression(acct.Username, ids[0]); err != nil || s.DeleteSuppression(acct.Username, ids[0]) == nil {
		t.Errorf("DeleteSuppression: %v", err)
	}
}

type suppLists struct {
	Active    *[]string `json:"active_suppressions"`
	Scheduled *[]string `json:"scheduled_suppressions"`
}

type overviewLists struct {
	Values []struct {
		Entity struct {
			ID string `json:"id"`
			suppLists
		} `json:"entity"`
		Checks []struct {
			ID string `json:"id"`
			suppLists
		} `json:"checks"`
		Alarms []struct {
			ID   string `json:"id"`
			Plan string `json:"notification_plan_id"`
			suppLists
		} `json:"alarms"`
	} `json:"values"`
}

func lst(p *[]string) string {
	if p == nil {
		return "null"
	}
	return fmt.Sprint(*p)
}

func TestSuppressionIDsOnTheOverview(t *testing.T) {
	c := newClock()
	s, ts := newTestServer(t, Config{Accounts: 1, Servers: 40, Alarms: 4, Now: c.Now, ChangeEvery: time.Minute})
	acct := s.Accounts()[0]
	ss := login(t, s, ts, acct.Username)
	ents := s.Entities(acct.Username)
	e0, e1 := ents[0], ents[1]
	var quiet string
	for _, p := range s.NotificationPlans(acct.Username) {
		if p.CriticalState == nil {
			quiet = p.ID
		}
	}
	before := s.Entities(acct.Username)
	now := c.Now()
	entSup, _ := s.AddSuppression(acct.Username, Suppression{Label: "Planned reboot", Entities: []string{e0.ID}, End: now.Add(2 * time.Hour)})
	chkSup, _ := s.AddSuppression(acct.Username, Suppression{Checks: []string{e1.ID + ":" + e1.Alarms[1].CheckID}, Start: now.Add(3 * time.Hour), End: now.Add(4 * time.Hour)})
	alSup, _ := s.AddSuppression(acct.Username, Suppression{Alarms: []string{e1.ID + ":" + e1.Alarms[2].ID}, NotificationPlans: []string{quiet}, End: now.Add(time.Hour)})
	ended, _ := s.AddSuppression(acct.Username, Suppression{Entities: []string{e1.ID}}) // ends at once
	if entSup == "" || chkSup == "" || alSup == "" || ended == "" {
		t.Fatal("AddSuppression failed")
	}
	// Suppressions mute notifications only: states do not change.
	if after := s.Entities(acct.Username); !reflect.DeepEqual(after, before) {
		t.Error("adding suppressions changed the model")
	}

	check := func(flag bool) {
		t.Helper()
		var ov overviewLists
		ss.getJSON(t, "/views/overview?limit=1000", &ov)
		quietAlarms := 0
		for _, v := range ov.Values {
			wantE := "[]"
			if flag && v.Entity.ID == e0.ID {
				wantE = "[" + entSup + "]"
			}
			if g := lst(v.Entity.Active); g != wantE && !(g == "null" && wantE == "[]") || lst(v.Entity.Scheduled) != "[]" && lst(v.Entity.Scheduled) != "null" {
				t.Errorf("flag %v: entity %s lists %s %s, want active %s", flag, v.Entity.ID, lst(v.Entity.Active), lst(v.Entity.Scheduled), wantE)
			}
			for _, ch := range v.Checks {
				wantS := "[]"
				if flag && v.Entity.ID == e1.ID && ch.ID == e1.Alarms[1].CheckID {
					wantS = "[" + chkSup + "]"
				}
				if g := lst(ch.Scheduled); g != wantS && !(g == "null" && wantS == "[]") || lst(ch.Active) != "[]" && lst(ch.Active) != "null" {
					t.Errorf("flag %v: check %s lists %s %s, want scheduled %s", flag, ch.ID, lst(ch.Active), lst(ch.Scheduled), wantS)
				}
			}
			for _, al := range v.Alarms {
				wantA := "[]"
				if flag && (al.Plan == quiet || v.Entity.ID == e1.ID && al.ID == e1.Alarms[2].ID) {
					wantA = "[" + alSup + "]"
					quietAlarms++
				}
				if g := lst(al.Active); g != wantA && !(g == "null" && wantA == "[]") {
					t.Errorf("flag %v: alarm %s (plan %s) active %s, want %s", flag, al.ID, al.Plan, g, wantA)
				}
			}
		}
		if flag && quietAlarms < 2 {
			t.Errorf("only %d alarms named by the plan or by ID", quietAlarms)
		}
	}
	check(false)
	s.SetFault(acct.Username, Fault{SuppressionIDs: true})
	check(true)

	// Once the entity's suppression is deleted it is no longer listed.
	if resp, _ := ss.call(t, http.MethodDelete, "/suppressions/"+entSup, ""); resp.StatusCode != 204 {
		t.Fatal("DELETE failed")
	}
	var ov overviewLists
	ss.getJSON(t, "/views/overview?entityId="+e0.ID, &ov)
	if g := lst(ov.Values[0].Entity.Active); g != "[]" && g != "null" {
		t.Errorf("after DELETE entity active %s", g)
	}
	// And when the scheduled one starts it moves to active.
	c.Advance(3 * time.Hour)
	ss = login(t, s, ts, acct.Username)
	ss.getJSON(t, "/views/overview?entityId="+e1.ID, &ov)
	for _, ch := range ov.Values[0].Checks {
		if ch.ID == e1.Alarms[1].CheckID && lst(ch.Active) != "["+chkSup+"]" {
			t.Errorf("started suppression: check lists %s %s", lst(ch.Active), lst(ch.Scheduled))
		}
	}
	// The admin route sets the flag too.
	s.ClearFault(acct.Username)
	if resp, body := post(t, ts.URL+"/_fake/fault?username="+acct.Username+"&suppression_ids=1", ""); resp.StatusCode != 200 || !strings.Contains(string(body), `"SuppressionIDs":true`) {
		t.Errorf("fault route: %d %s", resp.StatusCode, body)
	}
}

func TestFaultOnSuppressionsOnly(t *testing.T) {
	s, ts := newTestServer(t, Config{Accounts: 1, Servers: 2})
	acct := s.Accounts()[0]
	ss := login(t, s, ts, acct.Username)
	s.SetFault(acct.Username, Fault{MonitoringStatus: 500, Only: RouteSuppressions})
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		if resp, body := ss.call(t, m, "/suppressions", `{}`); resp.StatusCode != 500 {
			t.Errorf("%s /suppressions: %d %s", m, resp.StatusCode, body)
		}
	}
	if len(s.Suppressions(acct.Username)) != 0 {
		t.Error("a broken POST stored a suppression")
	}
	for _, p := range []string{"/views/overview", "/notification_plans", "/limits"} {
		if resp, body := ss.call(t, http.MethodGet, p, ""); resp.StatusCode != 200 {
			t.Errorf("%s: %d %s", p, resp.StatusCode, body)
		}
	}
	var out any
	s.SetFault(acct.Username, Fault{NonJSON: true, Only: RouteSuppressions})
	if _, body := ss.call(t, http.MethodGet, "/suppressions", ""); json.Unmarshal(body, &out) == nil {
		t.Error("NonJSON suppressions decoded")
	}
}
