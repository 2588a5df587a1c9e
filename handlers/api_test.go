package handlers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"cmdash/handlers"
	"cmdash/monitoring"
	"cmdash/monitoring/fakerax"
)

func decode[T any](t *testing.T, resp *http.Response) T {
	t.Helper()
	var v T
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type %q", ct)
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatalf("decode: %v", err)
	}
	return v
}

func TestAPIShapes(t *testing.T) {
	t.Parallel()
	a := newApp(t, handlers.Options{}, fakerax.AccountSpec{Username: "prod", Servers: 6, Alarms: 3, WarningShare: 0.2, CriticalShare: 0.2})
	c := a.signedIn()
	ents := a.fake.Entities("prod")

	t.Run("accounts list usernames, aliases and status, never the key", func(t *testing.T) {
		resp := a.do(c, "GET", "/api/v1/accounts", nil, nil)
		raw := decode[[]map[string]any](t, resp)
		if len(raw) != 1 || raw[0]["username"] != "prod" {
			t.Fatalf("accounts = %v", raw)
		}
		st, _ := raw[0]["status"].(map[string]any)
		if st["enabled"] != true || st["message"] != "Enabled" {
			t.Errorf("status = %v", st)
		}
		for k := range raw[0] {
			if strings.Contains(strings.ToLower(k), "key") {
				t.Errorf("field %q", k)
			}
		}
	})

	t.Run("monitors are keyed by username with values per server", func(t *testing.T) {
		m := decode[map[string]struct {
			Status     string `json:"status"`
			LastUpdate int64  `json:"last_update"`
			Values     []struct {
				Entity struct{ ID, Label string } `json:"entity"`
				Alarms []struct {
					State string `json:"state"`
					Alarm struct{ ID, Label string }
					Check struct{ ID, Label, Type string }
				} `json:"alarms"`
			} `json:"values"`
		}](t, a.do(c, "GET", "/api/v1/monitors", nil, nil))
		p, ok := m["prod"]
		if !ok || p.Status != "success" || p.LastUpdate == 0 || len(p.Values) != len(ents) {
			t.Fatalf("monitors = %+v", m)
		}
		for _, v := range p.Values {
			for _, al := range v.Alarms {
				if al.State == "" || al.Alarm.ID == "" {
					t.Errorf("alarm %+v", al)
				}
			}
		}
	})

	t.Run("small gives good, warning and bad counts", func(t *testing.T) {
		m := decode[map[string]struct {
			Values []struct {
				ServerName string  `json:"server_name"`
				Hostname   *string `json:"hostname"`
				ID         string  `json:"id"`
				Status     struct{ Good, Warning, Bad int }
			} `json:"values"`
		}](t, a.do(c, "GET", "/api/v1/monitors/prod?small", nil, nil))
		want := map[string][3]int{}
		for _, e := range ents {
			var w [3]int
			for _, al := range e.Alarms {
				if al.Disabled {
					continue
				}
				switch al.State {
				case "OK":
					w[0]++
				case "WARNING":
					w[1]++
				case "CRITICAL":
					w[2]++
				}
			}
			want[e.ID] = w
		}
		if len(m["prod"].Values) != len(ents) {
			t.Fatalf("values = %d", len(m["prod"].Values))
		}
		for _, v := range m["prod"].Values {
			if got := [3]int{v.Status.Good, v.Status.Warning, v.Status.Bad}; got != want[v.ID] || v.ServerName == "" {
				t.Errorf("%s: %v, fake says %v", v.ID, got, want[v.ID])
			}
		}
	})

	t.Run("one server in the success envelope", func(t *testing.T) {
		env := decode[struct {
			Response, Message string
			Data              struct {
				Entity struct{ ID string } `json:"entity"`
				Alarms []json.RawMessage   `json:"alarms"`
			}
		}](t, a.do(c, "GET", "/api/v1/monitors/prod/"+ents[0].ID, nil, nil))
		if env.Response != "success" || env.Data.Entity.ID != ents[0].ID || len(env.Data.Alarms) != len(ents[0].Alarms) {
			t.Errorf("server = %+v", env)
		}
	})

	t.Run("filters round trip", func(t *testing.T) {
		resp := a.do(c, "POST", "/api/v1/filters", url.Values{"filter": {"state:critical"}, "name": {"Red"}}, nil)
		env := decode[struct {
			Response string
			Data     []string
			Filters  []struct{ Name, Filter string }
		}](t, resp)
		if env.Response != "success" || len(env.Data) != 1 || env.Data[0] != "state:critical" || env.Filters[0].Name != "Red" {
			t.Fatalf("after POST: %+v", env)
		}
		if resp := a.do(c, "POST", "/api/v1/filters", `{"filter":"x","name":"red"}`, nil); resp.StatusCode != http.StatusConflict {
			t.Errorf("duplicate name: %d", resp.StatusCode)
		}
		resp = a.do(c, "DELETE", "/api/v1/filters", `{"filter":"state:critical"}`, nil)
		env = decode[struct {
			Response string
			Data     []string
			Filters  []struct{ Name, Filter string }
		}](t, resp)
		if resp.StatusCode != http.StatusOK || len(env.Data) != 0 {
			t.Errorf("after DELETE: %d %+v", resp.StatusCode, env)
		}
	})

	t.Run("accounts can be removed by username", func(t *testing.T) {
		resp := a.do(c, "DELETE", "/api/v1/accounts", url.Values{"username": {"prod"}}, nil)
		if resp.StatusCode != http.StatusOK || len(decode[[]any](t, resp)) != 0 {
			t.Errorf("delete: %d", resp.StatusCode)
		}
		if _, err := a.store.AccountByUsername(context.Background(), "prod"); err == nil {
			t.Error("account still there")
		}
	})
}

func TestAPIErrorsUseTheEnvelope(t *testing.T) {
	t.Parallel()
	a := newApp(t, handlers.Options{}, fakerax.AccountSpec{Username: "prod", Servers: 2, Alarms: 1})
	c := a.signedIn()
	tests := []struct {
		name   string
		method string
		path   string
		body   any
		status int
		words  string
	}{
		{"malformed JSON", "POST", "/api/v1/accounts", `{"username":`, 400, "malformed JSON"},
		{"a JSON body that is not an object", "POST", "/api/v1/accounts", `["a"]`, 400, "malformed JSON"},
		{"a missing username", "POST", "/api/v1/accounts", `{"apikey":"k"}`, 400, "username"},
		{"a duplicate account", "POST", "/api/v1/accounts", url.Values{"username": {"prod"}, "apikey": {"k"}}, 409, "already"},
		{"an unknown account", "GET", "/api/v1/monitors/nobody", nil, 404, "no account"},
		{"an unknown server", "GET", "/api/v1/monitors/prod/enNope", nil, 404, "not found"},
		{"deleting an unknown account", "DELETE", "/api/v1/accounts", url.Values{"username": {"nobody"}}, 404, "no account"},
		{"deleting without a username", "DELETE", "/api/v1/accounts", url.Values{}, 400, "username"},
		{"a filter without text", "POST", "/api/v1/filters", url.Values{"name": {"x"}}, 400, "filter"},
		{"deleting an unknown filter", "DELETE", "/api/v1/filters", url.Values{"filter": {"nope"}}, 404, "not found"},
		{"a wrong method", "PUT", "/api/v1/accounts", url.Values{}, 405, "not allowed"},
		{"an unknown route", "GET", "/api/v1/nothing", nil, 404, "No such"},
		{"a body over 64 KiB", "POST", "/api/v1/filters", `{"filter":"` + strings.Repeat("a", 70<<10) + `"}`, 400, "too large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := a.do(c, tt.method, tt.path, tt.body, nil)
			if resp.StatusCode != tt.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.status)
			}
			env := decode[map[string]string](t, resp)
			if env["response"] != "error" || !strings.Contains(strings.ToLower(env["message"]), strings.ToLower(tt.words)) {
				t.Errorf("body %v, want an error mentioning %q", env, tt.words)
			}
		})
	}
}

func TestAWrongTypedFieldIsTheOneNamed(t *testing.T) {
	t.Parallel()
	a := newApp(t, handlers.Options{}, fakerax.AccountSpec{Username: "prod", Servers: 1, Alarms: 1})
	c := a.signedIn()
	srvID := a.fake.Entities("prod")[0].ID
	tests := []struct {
		name, method, path, body, field string
	}{
		{"a field the route does not read is not the one named", "POST", "/api/v1/acks",
			`{"username":"prod","server_id":"` + srvID + `","filter":{"q":"web"},"alarm_id":["a","b"],"note":"n","expiry":"1h"}`, "alarm_id"},
		{"of two wrong fields, the first in the body is named", "POST", "/api/v1/acks",
			`{"username":"prod","server_id":"` + srvID + `","note":{"text":"n"},"alarm_id":["a"],"expiry":"1h"}`, "note"},
		{"the other way round, the other", "POST", "/api/v1/acks",
			`{"username":"prod","server_id":"` + srvID + `","alarm_id":["a"],"note":{"text":"n"},"expiry":"1h"}`, "alarm_id"},
		{"removing an acknowledgement", "DELETE", "/api/v1/acks", `{"extra":[1],"id":[1]}`, "id"},
		{"adding an account", "POST", "/api/v1/accounts", `{"meta":{},"username":"new","apikey":["k"],"alias":"A"}`, "apikey"},
		{"removing an account", "DELETE", "/api/v1/accounts", `{"tags":[],"username":{"name":"prod"}}`, "username"},
		{"saving a filter", "POST", "/api/v1/filters", `{"filters":["x"],"name":"Web","filter":{"q":"web"}}`, "filter"},
		{"removing a filter", "DELETE", "/api/v1/filters", `{"name":["x"],"filter":["web"]}`, "filter"},
		{"a number too large to read", "POST", "/api/v1/filters", `{"meta":{"n":1e999},"name":"Web","filter":1e400}`, "filter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := fmt.Sprintf("field %q must be a string", tt.field)
			for range 20 { // a map's order changes from run to run
				resp := a.do(c, tt.method, tt.path, tt.body, nil)
				env := decode[map[string]string](t, resp)
				if resp.StatusCode != http.StatusBadRequest || env["response"] != "error" || env["message"] != want || env["field"] != tt.field {
					t.Fatalf("status %d, %v; want 400 saying %q and naming field %q", resp.StatusCode, env, want, tt.field)
				}
			}
		})
	}
	if accts, _ := a.store.ListAccounts(context.Background()); len(accts) != 1 {
		t.Errorf("accounts: %+v", accts)
	}
}

func TestEveryAPIRouteAnswersAnUnknownUsernameWithA404(t *testing.T) {
	t.Parallel()
	a := newApp(t, handlers.Options{}, fakerax.AccountSpec{Username: "prod", Servers: 1, Alarms: 1})
	c := a.signedIn()
	srvID := a.fake.Entities("prod")[0].ID
	ack := `{"username":"nobody","server_id":"` + srvID + `","note":"n","expiry":"1h"}`
	tests := []struct {
		name, method, path string
		body               any
		says, field        string
	}{
		{"monitors of one account", "GET", "/api/v1/monitors/nobody", nil, "No account with this username.", ""},
		{"one server", "GET", "/api/v1/monitors/nobody/" + srvID, nil, "No account with this username.", ""},
		{"the auth check of one account", "GET", "/api/v1/auth/nobody", nil, "No account with this username.", ""},
		{"events of one account", "GET", "/api/v1/events?account=nobody", nil, "No account with this username.", ""},
		{"acknowledgements of one account", "GET", "/api/v1/acks?username=nobody", nil, "No account with this username.", "username"},
		{"an acknowledgement", "POST", "/api/v1/acks", ack, "No such account.", "username"},
		{"removing an account", "DELETE", "/api/v1/accounts", url.Values{"username": {"nobody"}}, "No account with this username.", ""},
		{"removing an account by username and key", "DELETE", "/api/v1/accounts", url.Values{"username": {"nobody"}, "apikey": {"k"}},
			"No account with this username and API key.", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := a.do(c, tt.method, tt.path, tt.body, nil)
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("status %d, want 404", resp.StatusCode)
			}
			env := decode[map[string]string](t, resp)
			if env["response"] != "error" || env["message"] != tt.says || env["field"] != tt.field {
				t.Errorf("body %v, want the error %q naming field %q", env, tt.says, tt.field)
			}
		})
	}
}

func TestSectionSummaryCountsServersByWorstState(t *testing.T) {
	t.Parallel()
	a := newApp(t, handlers.Options{}, fakerax.AccountSpec{Username: "prod", Servers: 40, Alarms: 6, WarningShare: 0.1, CriticalShare: 0.1})
	doc, err := goquery.NewDocumentFromReader(a.do(a.signedIn(), "GET", "/", nil, nil).Body)
	if err != nil {
		t.Fatal(err)
	}
	crit := doc.Find(`li.tile[data-state="CRITICAL"]`).Length()
	warn := doc.Find(`li.tile[data-state="WARNING"]`).Length()
	if crit == 0 || warn == 0 {
		t.Fatalf("the scenario has %d critical and %d warning servers; it needs both", crit, warn)
	}
	unkn := doc.Find(`li.tile[data-state="UNKNOWN"]`).Length()
	summary := strings.Join(strings.Fields(doc.Find(".summary").Text()), " ")
	want := fmt.Sprintf("40 servers · %d critical · %d warning", crit, warn)
	if unkn > 0 {
		want += fmt.Sprintf(" · %d unknown", unkn)
	}
	if summary != want {
		t.Errorf("summary %q, want %q", summary, want)
	}
}

func TestMetricsReportPollsAndForgetRemovedAccounts(t *testing.T) {
	t.Parallel()
	a := newApp(t, handlers.Options{}, fakerax.AccountSpec{Username: "gone", Servers: 2, Alarms: 1}, fakerax.AccountSpec{Username: "kept", Servers: 2, Alarms: 1})
	c := a.signedIn()
	body := readBody(t, a.do(c, "GET", "/metrics", nil, nil))
	for _, want := range []string{`dashboard_poll_duration_seconds_count{account="gone"} 1`, `dashboard_snapshot_age_seconds{account="kept"}`,
		`dashboard_upstream_ratelimit_used_ratio{account="gone"}`, `dashboard_http_requests_total{code="303",method="POST",route="POST /login"} 1`} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if resp := a.do(c, "DELETE", "/api/v1/accounts", url.Values{"username": {"gone"}}, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
	body = readBody(t, a.do(c, "GET", "/metrics", nil, nil))
	if strings.Contains(body, `account="gone"`) {
		t.Error("a removed account is still reported")
	}
	if !strings.Contains(body, `account="kept"`) {
		t.Error("the other account's series went too")
	}
}

func TestProblemsComeFirstUnlessPlainOrderIsAsked(t *testing.T) {
	t.Parallel()
	spec := fakerax.AccountSpec{Username: "prod", Servers: 40, Alarms: 6, WarningShare: 0.1, CriticalShare: 0.1}
	rank := map[string]int{"CRITICAL": 0, "WARNING": 1, "UNKNOWN": 2, "OK": 3}
	order := func(a *app, c *http.Client, u string) []string {
		t.Helper()
		doc, err := goquery.NewDocumentFromReader(a.do(c, "GET", u, nil, nil).Body)
		if err != nil {
			t.Fatal(err)
		}
		var states []string
		doc.Find("li.tile").Each(func(_ int, s *goquery.Selection) { states = append(states, s.AttrOr("data-state", "")) })
		if len(states) != 40 {
			t.Fatalf("%s: %d tiles, want 40 (ordering must not filter)", u, len(states))
		}
		return states
	}
	worstFirst := func(states []string) bool {
		for i := 1; i < len(states); i++ {
			if rank[states[i-1]] > rank[states[i]] {
				return false
			}
		}
		return true
	}
	a := newApp(t, handlers.Options{}, spec)
	c := a.signedIn()
	for _, u := range []string{"/", "/?q=sort:worst", "/?order=severity", "/wall"} {
		if got := order(a, c, u); !worstFirst(got) {
			t.Errorf("%s: not worst first: %v", u, got)
		}
	}
	plain := order(a, c, "/?order=name")
	if worstFirst(plain) {
		t.Error("the scenario is in worst-first order by label too; the test proves nothing")
	}
	if got := order(a, c, "/?q=sort:name"); !slices.Equal(got, plain) {
		t.Errorf("sort:name %v, want the plain order %v", got, plain)
	}
	b := newApp(t, handlers.Options{PlainOrder: true}, spec)
	cb := b.signedIn()
	if got := order(b, cb, "/"); !slices.Equal(got, plain) {
		t.Errorf("with the plain-order setting: %v, want %v", got, plain)
	}
	if got := order(b, cb, "/?order=severity"); !worstFirst(got) {
		t.Errorf("?order=severity over the plain-order setting: %v", got)
	}
}

func TestAFilterThatMatchesNothingSaysSo(t *testing.T) {
	t.Parallel()
	a := newApp(t, handlers.Options{}, fakerax.AccountSpec{Username: "prod", Servers: 5, Alarms: 2})
	c := a.signedIn()
	for _, q := range []string{"nomatchxyz", "state:bogus"} {
		body := readBody(t, a.do(c, "GET", "/?q="+url.QueryEscape(q), nil, nil))
		doc, _ := goquery.NewDocumentFromReader(strings.NewReader(body))
		if n := doc.Find("li.tile").Length(); n != 0 {
			t.Errorf("%q: %d tiles", q, n)
		}
		if strings.Contains(body, "No accounts yet") || !strings.Contains(body, "No server matches") {
			t.Errorf("%q: the empty result is worded as if there were no accounts", q)
		}
	}
}

// filtersBody is the answer of every /api/v1/filters call.
type filtersBody struct {
	Response, Message string
	Data              []string
	Filters           []struct{ Name, Filter string }
}

func TestAPISavingAFilterTwiceChangesNothing(t *testing.T) {
	t.Parallel()
	a := newApp(t, handlers.Options{})
	c := a.signedIn()
	post := func(form url.Values) (*http.Response, filtersBody) {
		t.Helper()
		resp := a.do(c, "POST", "/api/v1/filters", form, nil)
		return resp, decode[filtersBody](t, resp)
	}
	// The original's page posted the search box's text, with no name, on
	// every save.
	if resp, env := post(url.Values{"filter": {"state:critical"}}); resp.StatusCode != http.StatusOK || len(env.Data) != 1 {
		t.Fatalf("first save: %d %+v", resp.StatusCode, env)
	}
	if _, env := post(url.Values{"filter": {"state:warning"}, "name": {"Yellow"}}); len(env.Data) != 2 {
		t.Fatalf("second filter: %+v", env)
	}
	gen := a.store.Generation()
	for _, tt := range []struct {
		name string
		form url.Values
	}{
		{"the same text again, without a name", url.Values{"filter": {"state:critical"}}},
		{"the same name and text", url.Values{"filter": {"state:warning"}, "name": {"Yellow"}}},
		{"the same name in other letter case, same text", url.Values{"filter": {"state:warning"}, "name": {"yELLOW"}}},
		{"a text saved under another name, without a name", url.Values{"filter": {"state:warning"}}},
	} {
		t.Run(tt.name+" answers 200 with the list unchanged", func(t *testing.T) {
			resp, env := post(tt.form)
			if resp.StatusCode != http.StatusOK || env.Response != "success" || !strings.Contains(env.Message, "already") {
				t.Errorf("%d %+v", resp.StatusCode, env)
			}
			if !slices.Equal(env.Data, []string{"state:critical", "state:warning"}) || len(env.Filters) != 2 {
				t.Errorf("list changed: %+v", env)
			}
		})
	}
	if got := a.store.Generation(); got != gen {
		t.Errorf("an unchanged save advanced the generation from %d to %d: every wall would redraw", gen, got)
	}

	t.Run("the same name with another text is still a conflict", func(t *testing.T) {
		resp := a.do(c, "POST", "/api/v1/filters", url.Values{"filter": {"is:problem"}, "name": {"yellow"}}, nil)
		env := decode[map[string]string](t, resp)
		if resp.StatusCode != http.StatusConflict || env["response"] != "error" {
			t.Errorf("%d %v", resp.StatusCode, env)
		}
	})
	t.Run("a text named by another filter's text, without a name, is a conflict", func(t *testing.T) {
		// The name defaults to the text, "state:critical", already taken
		// by a filter with another text.
		if resp := a.do(c, "DELETE", "/api/v1/filters", url.Values{"filter": {"state:critical"}}, nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("delete: %d", resp.StatusCode)
		}
		post(url.Values{"filter": {"is:problem"}, "name": {"state:critical"}})
		resp := a.do(c, "POST", "/api/v1/filters", url.Values{"filter": {"state:critical"}}, nil)
		if resp.StatusCode != http.StatusConflict {
			t.Errorf("%d %s", resp.StatusCode, readBody(t, resp))
		}
	})
}

func TestAPIDeletesAccountsByUsernameAPIKeyOrBoth(t *testing.T) {
	t.Parallel()
	a := newApp(t, handlers.Options{},
		fakerax.AccountSpec{Username: "alpha", Servers: 1, Alarms: 1},
		fakerax.AccountSpec{Username: "beta", Servers: 1, Alarms: 1},
		fakerax.AccountSpec{Username: "gamma", Servers: 1, Alarms: 1},
		fakerax.AccountSpec{Username: "delta", Servers: 1, Alarms: 1})
	c := a.signedIn()
	keys := map[string]string{}
	for _, acct := range a.fake.Accounts() {
		keys[acct.Username] = acct.APIKey
	}
	var bodies strings.Builder
	remaining := func() []string {
		t.Helper()
		var names []string
		for _, acct := range decode[[]struct{ Username string }](t, a.do(c, "GET", "/api/v1/accounts", nil, nil)) {
			names = append(names, acct.Username)
		}
		slices.Sort(names)
		return names
	}
	tests := []struct {
		name   string
		path   string
		body   any
		status int
		left   []string
	}{
		{"a key that is no account's is not found", "/api/v1/accounts", url.Values{"apikey": {"not-a-key-of-anyone"}}, 404,
			[]string{"alpha", "beta", "delta", "gamma"}},
		{"a username with another account's key is not found", "/api/v1/accounts", url.Values{"username": {"alpha"}, "apikey": {keys["gamma"]}}, 404,
			[]string{"alpha", "beta", "delta", "gamma"}},
		{"a key in the URL is refused, not used", "/api/v1/accounts?apikey=" + url.QueryEscape(keys["beta"]), url.Values{}, 400,
			[]string{"alpha", "beta", "delta", "gamma"}},
		{"neither field is a bad request", "/api/v1/accounts", url.Values{"alias": {"x"}}, 400,
			[]string{"alpha", "beta", "delta", "gamma"}},
		{"a key alone removes its account", "/api/v1/accounts", url.Values{"apikey": {keys["beta"]}}, 200,
			[]string{"alpha", "delta", "gamma"}},
		{"a username and its key remove the account", "/api/v1/accounts", url.Values{"username": {"alpha"}, "apikey": {keys["alpha"]}}, 200,
			[]string{"delta", "gamma"}},
		{"a key in a JSON body works too", "/api/v1/accounts", `{"apikey":"` + keys["gamma"] + `"}`, 200,
			[]string{"delta"}},
		{"a username in the query, as before", "/api/v1/accounts?username=delta", nil, 200,
			nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := a.do(c, "DELETE", tt.path, tt.body, nil)
			body := readBody(t, resp)
			bodies.WriteString(body)
			if resp.StatusCode != tt.status {
				t.Errorf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			if resp.StatusCode == http.StatusOK {
				var list []struct{ Username string }
				if err := json.Unmarshal([]byte(body), &list); err != nil || len(list) != len(tt.left) {
					t.Errorf("the answer is not the remaining accounts: %s", body)
				}
			} else if !strings.Contains(body, `"response":"error"`) {
				t.Errorf("error without the envelope: %s", body)
			}
			if got := remaining(); !slices.Equal(got, tt.left) {
				t.Errorf("accounts left: %v, want %v", got, tt.left)
			}
		})
	}
	for user, key := range keys {
		if strings.Contains(bodies.String(), key) {
			t.Errorf("an answer contains %s's API key", user)
		}
		if strings.Contains(a.logs.String(), key) {
			t.Errorf("the log contains %s's API key", user)
		}
	}
}

// authBody is the answer of /api/v1/auth and /api/v1/auth/{username}.
type authBody struct {
	Response, Message string
	Data              []struct {
		Username string
		Status   struct {
			Enabled bool
			Message string
		}
		Login        string
		TokenExpires *time.Time `json:"token_expires"`
	}
}

// storedToken is the account's cached token, nil when none.
func (a *app) storedToken(username string) *monitoring.Token {
	a.t.Helper()
	ctx := context.Background()
	acct, err := a.store.AccountByUsername(ctx, username)
	if err != nil {
		a.t.Fatalf("account %s: %v", username, err)
	}
	_, tok, err := a.store.Credentials(ctx, acct.ID)
	if err != nil {
		a.t.Fatalf("credentials %s: %v", username, err)
	}
	return tok
}

// addUnpolled stores an account of the fake (with key, when not empty, in
// place of its own) and an optional cached token, without polling it.
func (a *app) addUnpolled(username, key string, tok *monitoring.Token) fakerax.Account {
	a.t.Helper()
	up := a.fake.AddAccount(fakerax.AccountSpec{Username: username, Servers: 1, Alarms: 1})
	if key == "" {
		key = up.APIKey
	}
	if _, err := a.store.CreateAccount(context.Background(), username, "", key, tok); err != nil {
		a.t.Fatal(err)
	}
	return up
}

func TestAPIAuthLogsInWhereTheCachedTokenWillNotDo(t *testing.T) {
	t.Parallel()
	a := newApp(t, handlers.Options{}, fakerax.AccountSpec{Username: "cached", Servers: 1, Alarms: 1},
		fakerax.AccountSpec{Username: "refused", Servers: 1, Alarms: 1})
	ctx := context.Background()
	c := a.signedIn()
	// refused: its last poll found the key rejected, though its token has
	// hours left.
	a.fake.RevokeTokens("refused")
	a.fake.SetFault("refused", fakerax.Fault{IdentityStatus: http.StatusUnauthorized})
	refused, _ := a.store.AccountByUsername(ctx, "refused")
	if err := a.poller.Poll(ctx, refused.ID); err == nil {
		t.Fatal("the poll with a rejected key succeeded")
	}
	a.fake.ClearFault("refused") // fixed upstream since
	nearly := &monitoring.Token{ID: "nearly-expired-token-0123456789", TenantID: "1", Endpoint: "http://127.0.0.1:1/v1.0/1",
		Expires: time.Now().Add(5 * time.Minute)}
	a.addUnpolled("nearly", "", nearly)
	a.addUnpolled("notoken", "", nil)
	a.addUnpolled("rejected", "wrong-key-for-rejected-0123456789", nil)
	a.addUnpolled("throttled", "", nil)
	a.fake.SetFault("throttled", fakerax.Fault{IdentityStatus: http.StatusRequestEntityTooLarge})
	a.addUnpolled("off", "", nil)
	off, _ := a.store.AccountByUsername(ctx, "off")
	if err := a.store.UpdateAccount(ctx, off.ID, monitoring.AccountUpdate{Enabled: false}); err != nil {
		t.Fatal(err)
	}

	users := []string{"cached", "nearly", "notoken", "off", "refused", "rejected", "throttled"}
	before := map[string]fakerax.Counters{}
	polls := map[string]monitoring.PollStatus{}
	for _, u := range users {
		before[u] = a.fake.Counters(u)
		acct, _ := a.store.AccountByUsername(ctx, u)
		polls[u] = acct.Status
	}
	cachedTok := a.storedToken("cached")
	gen := a.store.Generation()

	resp := a.do(c, "GET", "/api/v1/auth", nil, nil)
	raw := readBody(t, resp)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("GET /api/v1/auth: %d %s", resp.StatusCode, raw)
	}
	var env authBody
	if err := json.Unmarshal([]byte(raw), &env); err != nil {
		t.Fatal(err)
	}
	if env.Response != "success" || env.Message != "Auth information updated from identity." {
		t.Errorf("envelope %q %q, want the original's", env.Response, env.Message)
	}
	got := map[string]int{}
	for i, d := range env.Data {
		got[d.Username] = i
	}
	if len(env.Data) != len(users) || len(got) != len(users) {
		t.Fatalf("data lists %d accounts, want %d: %s", len(env.Data), len(users), raw)
	}
	tests := []struct {
		user, login string
		enabled     bool
		message     string
		logins      int
	}{
		{"cached", "cached", true, "Enabled", 0},
		{"nearly", "fresh", true, "Enabled", 1},
		{"notoken", "fresh", true, "Enabled", 1},
		{"refused", "fresh", true, "Enabled", 1},
		{"off", "disabled", false, "Disabled", 0},
		{"rejected", "failed", false, "Error authenticating: Rackspace rejected the username or API key", 1},
		{"throttled", "failed", false, "Error authenticating: Rackspace is rate limiting", 1},
	}
	for _, tt := range tests {
		t.Run(tt.user+": "+tt.login, func(t *testing.T) {
			d := env.Data[got[tt.user]]
			if d.Login != tt.login || d.Status.Enabled != tt.enabled || !strings.HasPrefix(d.Status.Message, tt.message) {
				t.Errorf("login %q, status %+v; want %q, enabled %v, %q…", d.Login, d.Status, tt.login, tt.enabled, tt.message)
			}
			if n := a.fake.Counters(tt.user).Identity - before[tt.user].Identity; n != tt.logins {
				t.Errorf("%d Identity logins, want %d", n, tt.logins)
			}
			if tt.login == "fresh" {
				tok := a.storedToken(tt.user)
				if tok == nil || tok.ID == nearly.ID || time.Until(tok.Expires) < time.Hour || d.TokenExpires == nil || !d.TokenExpires.Equal(tok.Expires) {
					t.Errorf("the new token was not kept for the poller: %v", tok != nil)
				}
			}
			acct, _ := a.store.AccountByUsername(ctx, tt.user)
			if acct.Status.ErrorCount != polls[tt.user].ErrorCount || acct.Status.LastError != polls[tt.user].LastError {
				t.Errorf("the poll status changed: %+v, was %+v", acct.Status, polls[tt.user])
			}
		})
	}
	if tok := a.storedToken("cached"); tok == nil || tok.ID != cachedTok.ID {
		t.Error("a good cached token was replaced")
	}
	if g := a.store.Generation(); g != gen {
		t.Errorf("the auth check advanced the generation from %d to %d; nothing the wall shows changed", gen, g)
	}

	t.Run("one account by username checks only that one", func(t *testing.T) {
		a.addUnpolled("single", "", nil)
		others := a.fake.Counters("notoken").Identity + a.fake.Counters("rejected").Identity
		resp := a.do(c, "GET", "/api/v1/auth/single", nil, nil)
		env := decode[authBody](t, resp)
		if resp.StatusCode != http.StatusOK || env.Response != "success" || len(env.Data) != 1 ||
			env.Data[0].Username != "single" || env.Data[0].Login != "fresh" || !env.Data[0].Status.Enabled {
			t.Errorf("%d %+v", resp.StatusCode, env)
		}
		if a.fake.Counters("notoken").Identity+a.fake.Counters("rejected").Identity != others {
			t.Error("other accounts were checked too")
		}
	})
	t.Run("the username is matched without regard to case, as everywhere", func(t *testing.T) {
		env := decode[authBody](t, a.do(c, "GET", "/api/v1/auth/REJECTED", nil, nil))
		if len(env.Data) != 1 || env.Data[0].Username != "rejected" || env.Data[0].Login != "failed" {
			t.Errorf("%+v", env)
		}
	})
}

func TestAPIAuthNeverAnswersOrLogsAKeyOrAToken(t *testing.T) {
	t.Parallel()
	a := newApp(t, handlers.Options{}, fakerax.AccountSpec{Username: "polled", Servers: 1, Alarms: 1})
	c := a.signedIn()
	a.addUnpolled("fresh", "", nil)
	a.addUnpolled("wrongkey", "wrong-key-never-to-be-shown-0123456789", nil)
	a.addUnpolled("nearly", "", &monitoring.Token{ID: "near-expiry-token-never-to-be-shown", TenantID: "1",
		Endpoint: "http://127.0.0.1:1/v1.0/1", Expires: time.Now().Add(time.Minute)})
	var bodies strings.Builder
	for _, p := range []string{"/api/v1/auth", "/api/v1/auth/fresh", "/api/v1/auth/wrongkey", "/api/v1/auth/nearly", "/api/v1/auth/polled",
		"/api/v1/auth/nobody", "/api/v1/accounts", "/api/v1/"} {
		bodies.WriteString(readBody(t, a.do(c, "GET", p, nil, nil)))
	}
	secrets := []string{"wrong-key-never-to-be-shown-0123456789", "near-expiry-token-never-to-be-shown"}
	for _, acct := range a.fake.Accounts() {
		secrets = append(secrets, acct.APIKey)
	}
	for _, u := range []string{"polled", "fresh", "nearly"} {
		tok := a.storedToken(u)
		if tok == nil {
			t.Fatalf("%s has no token after the checks", u)
		}
		secrets = append(secrets, tok.ID)
	}
	for _, s := range secrets {
		if strings.Contains(bodies.String(), s) {
			t.Errorf("an answer contains the secret %.12s…", s)
		}
		if strings.Contains(a.logs.String(), s) {
			t.Errorf("the log contains the secret %.12s…", s)
		}
	}
	if !strings.Contains(a.logs.String(), "auth check: login failed") {
		t.Error("the failed login was not logged at all; the test proves nothing about the log")
	}
}

func TestAPIAuthChecksAFewAccountsAtATime(t *testing.T) {
	t.Parallel()
	a := newApp(t, handlers.Options{})
	c := a.signedIn()
	// Nine accounts whose logins each take 400 ms: checked one by one that
	// is 3.6 s; all at once 0.4 s; eight at a time, two rounds.
	const slow = 400 * time.Millisecond
	for i := range 9 {
		u := fmt.Sprintf("slow%d", i)
		a.addUnpolled(u, "", nil)
		a.fake.SetFault(u, fakerax.Fault{Slow: slow})
	}
	start := time.Now()
	env := decode[authBody](t, a.do(c, "GET", "/api/v1/auth", nil, nil))
	took := time.Since(start)
	for _, d := range env.Data {
		if d.Login != "fresh" {
			t.Errorf("%s: %s %+v", d.Username, d.Login, d.Status)
		}
	}
	if took < 2*slow {
		t.Errorf("nine slow logins took %s: more than eight ran at once", took)
	}
	if took > 6*slow {
		t.Errorf("nine slow logins took %s: they were not checked concurrently", took)
	}
}

func TestAPIAuthRoutes(t *testing.T) {
	t.Parallel()
	a := newApp(t, handlers.Options{}, fakerax.AccountSpec{Username: "acct", Servers: 1, Alarms: 1})
	c := a.signedIn()
	tests := []struct {
		name         string
		client       *http.Client
		method, path string
		status       int
		words        string
	}{
		{"an unknown username is not found", c, "GET", "/api/v1/auth/nobody", 404, "no account"},
		{"POST is not allowed", c, "POST", "/api/v1/auth", 405, "not allowed"},
		{"DELETE on one account is not allowed", c, "DELETE", "/api/v1/auth/acct", 405, "not allowed"},
		{"a deeper path is no route", c, "GET", "/api/v1/auth/acct/more", 404, "no such"},
		{"without a sign-in, the check is refused", a.client(), "GET", "/api/v1/auth", 401, ""},
		{"without a sign-in, one account's check is refused", a.client(), "GET", "/api/v1/auth/acct", 401, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := a.fake.Counters("acct").Identity
			resp := a.do(tt.client, tt.method, tt.path, nil, nil)
			body := readBody(t, resp)
			if resp.StatusCode != tt.status {
				t.Errorf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			if tt.words != "" && (!strings.Contains(body, `"response":"error"`) || !strings.Contains(strings.ToLower(body), tt.words)) {
				t.Errorf("body %s, want an error mentioning %q", body, tt.words)
			}
			if a.fake.Counters("acct").Identity != before {
				t.Error("a refused request logged in to Identity")
			}
		})
	}
}

// TestTheOriginalAPITableAnswers walks the original product's API table as
// its page and scripts called it (form bodies, ?fast) and checks each
// answer has the shape they read.
func TestTheOriginalAPITableAnswers(t *testing.T) {
	t.Parallel()
	a := newApp(t, handlers.Options{}, fakerax.AccountSpec{Username: "prod", Servers: 3, Alarms: 2})
	c := a.signedIn()
	added := a.fake.AddAccount(fakerax.AccountSpec{Username: "staging", Servers: 2, Alarms: 1})
	byKey := a.fake.AddAccount(fakerax.AccountSpec{Username: "bykey", Servers: 1, Alarms: 1})
	server := a.fake.Entities("prod")[0].ID

	isAccountList := func(t *testing.T, v any, want ...string) {
		t.Helper()
		list, ok := v.([]any)
		if !ok {
			t.Fatalf("not a list: %v", v)
		}
		var names []string
		for _, e := range list {
			acct, _ := e.(map[string]any)
			st, _ := acct["status"].(map[string]any)
			_, enabled := st["enabled"].(bool)
			_, msg := st["message"].(string)
			name, _ := acct["username"].(string)
			if name == "" || !enabled || !msg {
				t.Errorf("account without username or status {enabled, message}: %v", acct)
			}
			names = append(names, name)
		}
		slices.Sort(names)
		if !slices.Equal(names, want) {
			t.Errorf("accounts %v, want %v", names, want)
		}
	}
	isEnvelope := func(t *testing.T, v any, message string) map[string]any {
		t.Helper()
		env, _ := v.(map[string]any)
		if env["response"] != "success" || (message != "" && env["message"] != message) {
			t.Errorf("envelope %v, want success with %q", env, message)
		}
		return env
	}
	isMonitors := func(t *testing.T, v any, want ...string) {
		t.Helper()
		m, _ := v.(map[string]any)
		if len(m) != len(want) {
			t.Errorf("monitors for %d accounts, want %v", len(m), want)
		}
		for _, u := range want {
			acct, _ := m[u].(map[string]any)
			_, last := acct["last_update"].(float64)
			vals, ok := acct["values"].([]any)
			if acct["status"] != "success" || !last || !ok || len(vals) == 0 {
				t.Errorf("%s: %v", u, acct)
				continue
			}
			for _, sv := range vals {
				srv, _ := sv.(map[string]any)
				ent, _ := srv["entity"].(map[string]any)
				if _, ok := srv["alarms"].([]any); !ok || ent["id"] == nil || ent["label"] == nil {
					t.Errorf("%s: server %v", u, srv)
				}
			}
		}
	}
	isFilters := func(t *testing.T, v any, want ...string) {
		t.Helper()
		env := isEnvelope(t, v, "")
		var got []string
		data, ok := env["data"].([]any)
		for _, f := range data {
			s, _ := f.(string)
			got = append(got, s)
		}
		if !ok || !slices.Equal(got, want) {
			t.Errorf("filters %v, want %v", env["data"], want)
		}
	}

	rows := []struct {
		call   string
		method string
		path   string
		body   url.Values
		check  func(*testing.T, any)
	}{
		{"list accounts", "GET", "/api/v1/accounts", nil, func(t *testing.T, v any) { isAccountList(t, v, "prod") }},
		{"add an account", "POST", "/api/v1/accounts", url.Values{"username": {"staging"}, "apikey": {added.APIKey}, "alias": {"Staging"}},
			func(t *testing.T, v any) {
				isAccountList(t, v, "prod", "staging")
				acct, _ := a.store.AccountByUsername(context.Background(), "staging")
				if err := a.poller.Poll(context.Background(), acct.ID); err != nil { // as the running poller would at once
					t.Fatal(err)
				}
			}},
		{"refresh every account's auth", "GET", "/api/v1/auth", nil,
			func(t *testing.T, v any) { isEnvelope(t, v, "Auth information updated from identity.") }},
		{"refresh one account's auth", "GET", "/api/v1/auth/staging", nil,
			func(t *testing.T, v any) { isEnvelope(t, v, "Auth information updated from identity.") }},
		{"every account's monitors", "GET", "/api/v1/monitors?fast", nil, func(t *testing.T, v any) { isMonitors(t, v, "prod", "staging") }},
		{"one account's monitors", "GET", "/api/v1/monitors/prod", nil, func(t *testing.T, v any) { isMonitors(t, v, "prod") }},
		{"one server", "GET", "/api/v1/monitors/prod/" + server, nil, func(t *testing.T, v any) {
			env := isEnvelope(t, v, "Server information retrieved successfully.")
			data, _ := env["data"].(map[string]any)
			ent, _ := data["entity"].(map[string]any)
			if _, ok := data["alarms"].([]any); !ok || ent["id"] != server {
				t.Errorf("data %v", data)
			}
		}},
		{"list filters", "GET", "/api/v1/filters", nil, func(t *testing.T, v any) { isFilters(t, v) }},
		{"add a filter", "POST", "/api/v1/filters", url.Values{"filter": {"web"}}, func(t *testing.T, v any) { isFilters(t, v, "web") }},
		{"add it again", "POST", "/api/v1/filters", url.Values{"filter": {"web"}}, func(t *testing.T, v any) { isFilters(t, v, "web") }},
		{"remove a filter", "DELETE", "/api/v1/filters", url.Values{"filter": {"web"}}, func(t *testing.T, v any) { isFilters(t, v) }},
		{"remove an account by username", "DELETE", "/api/v1/accounts", url.Values{"username": {"staging"}},
			func(t *testing.T, v any) { isAccountList(t, v, "prod") }},
		{"add an account to remove by key", "POST", "/api/v1/accounts", url.Values{"username": {"bykey"}, "apikey": {byKey.APIKey}},
			func(t *testing.T, v any) { isAccountList(t, v, "bykey", "prod") }},
		{"remove an account by API key", "DELETE", "/api/v1/accounts", url.Values{"apikey": {byKey.APIKey}},
			func(t *testing.T, v any) { isAccountList(t, v, "prod") }},
	}
	for _, row := range rows {
		t.Run(row.call+": "+row.method+" "+row.path, func(t *testing.T) {
			var body any
			if row.body != nil {
				body = row.body
			}
			resp := a.do(c, row.method, row.path, body, nil)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", resp.StatusCode, readBody(t, resp))
			}
			row.check(t, decode[any](t, resp))
		})
	}
}

// Names differ and match on delete as they do on save: letter case aside
// for ASCII letters only.
func TestAPIDeletingAFilterByNameFoldsAsSavingDoes(t *testing.T) {
	t.Parallel()
	a := newApp(t, handlers.Options{})
	c := a.signedIn()
	for _, f := range []url.Values{{"filter": {"state:critical"}, "name": {"Été"}}, {"filter": {"state:warning"}, "name": {"été"}}} {
		if resp := a.do(c, "POST", "/api/v1/filters", f, nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("saving %v: %d", f, resp.StatusCode)
		}
	}
	resp := a.do(c, "DELETE", "/api/v1/filters", url.Values{"filter": {"ÉTÉ"}}, nil)
	if env := decode[filtersBody](t, resp); resp.StatusCode != http.StatusNotFound {
		t.Errorf("deleting ÉTÉ: %d %+v, want 404: no filter has that name", resp.StatusCode, env)
	}
	resp = a.do(c, "DELETE", "/api/v1/filters", url.Values{"filter": {"éTé"}}, nil)
	if env := decode[filtersBody](t, resp); resp.StatusCode != http.StatusOK || !slices.Equal(env.Data, []string{"state:critical"}) {
		t.Errorf("deleting éTé: %d %+v, want été alone gone", resp.StatusCode, env)
	}
}
