package fakerax

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 14, 15, 9, 26, 535e6, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type tenantClient struct {
	token, base string
}

func authBody(user, key string) string {
	return fmt.Sprintf(`{"auth":{"RAX-KSKEY:apiKeyCredentials":{"username":%q,"apiKey":%q}}}`, user, key)
}

func post(t *testing.T, u, body string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	return do(t, req)
}

func do(t *testing.T, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// login authenticates and picks the catalog entry named cloudMonitoring.
func login(t *testing.T, s *Server, ts *httptest.Server, user string) tenantClient {
	t.Helper()
	var key string
	for _, a := range s.Accounts() {
		if a.Username == user {
			key = a.APIKey
		}
	}
	resp, body := post(t, s.IdentityURL(ts.URL)+"/tokens", authBody(user, key))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login %s: %d %s", user, resp.StatusCode, body)
	}
	var v struct {
		Access struct {
			Token struct {
				ID string `json:"id"`
			} `json:"token"`
			ServiceCatalog []struct {
				Name      string `json:"name"`
				Endpoints []struct {
					PublicURL string `json:"publicURL"`
				} `json:"endpoints"`
			} `json:"serviceCatalog"`
		} `json:"access"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatal(err)
	}
	for _, c := range v.Access.ServiceCatalog {
		if c.Name == "cloudMonitoring" {
			return tenantClient{token: v.Access.Token.ID, base: c.Endpoints[0].PublicURL}
		}
	}
	t.Fatal("no cloudMonitoring in catalog")
	return tenantClient{}
}

func (ss tenantClient) get(t *testing.T, query string) (*http.Response, []byte) {
	t.Helper()
	u := ss.base + "/views/overview"
	if query != "" {
		u += "?" + query
	}
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ss.token != "" {
		req.Header.Set("X-Auth-Token", ss.token)
	}
	req.Header.Set("Accept", "application/json")
	return do(t, req)
}

type page struct {
	Values []struct {
		Entity struct {
			ID      string          `json:"id"`
			Label   string          `json:"label"`
			URI     json.RawMessage `json:"uri"`
			AgentID *string         `json:"agent_id"`
			Created int64           `json:"created_at"`
		} `json:"entity"`
		Checks []struct {
			ID   string  `json:"id"`
			Type string  `json:"type"`
			Poll *[]any  `json:"monitoring_zones_poll"`
			Lbl  *string `json:"label"`
		} `json:"checks"`
		Alarms            []map[string]json.RawMessage `json:"alarms"`
		LatestAlarmStates []map[string]json.RawMessage `json:"latest_alarm_states"`
	} `json:"values"`
	Metadata struct {
		Count      int     `json:"count"`
		Limit      int     `json:"limit"`
		Marker     *string `json:"marker"`
		NextMarker *string `json:"next_marker"`
		NextHref   *string `json:"next_href"`
	} `json:"metadata"`
}

func decodePage(t *testing.T, body []byte) page {
	t.Helper()
	var p page
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("decode page: %v\n%s", err, body)
	}
	return p
}

// walk follows next_marker from the first page.
func (ss tenantClient) walk(t *testing.T, query url.Values) []page {
	t.Helper()
	var pages []page
	q := url.Values{}
	for k, v := range query {
		q[k] = v
	}
	for {
		resp, body := ss.get(t, q.Encode())
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("page %d: %d %s", len(pages)+1, resp.StatusCode, body)
		}
		p := decodePage(t, body)
		pages = append(pages, p)
		if p.Metadata.NextMarker == nil {
			return pages
		}
		if len(pages) > 1000 {
			t.Fatal("endless paging")
		}
		q.Set("marker", *p.Metadata.NextMarker)
	}
}

type monFault struct {
	Type    string          `json:"type"`
	Code    json.RawMessage `json:"code"`
	Message string          `json:"message"`
	Details json.RawMessage `json:"details"`
	TxnID   string          `json:"txnId"`
}

func decodeMonFault(t *testing.T, body []byte) monFault {
	t.Helper()
	var f monFault
	if err := json.Unmarshal(body, &f); err != nil {
		t.Fatalf("decode fault: %v\n%s", err, body)
	}
	if f.Type == "" || len(f.Code) == 0 || f.Message == "" || f.TxnID == "" || len(f.Details) == 0 {
		t.Fatalf("incomplete fault: %s", body)
	}
	return f
}

// decodeIdentityFault returns the single key and its code.
func decodeIdentityFault(t *testing.T, body []byte) (string, int, string) {
	t.Helper()
	var m map[string]struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal(body, &m); err != nil || len(m) != 1 {
		t.Fatalf("identity fault %s: %v", body, err)
	}
	for k, v := range m {
		return k, v.Code, v.Message
	}
	return "", 0, ""
}

func TestLoginShape(t *testing.T) {
	c := newClock()
	s, ts := newTestServer(t, Config{Accounts: 2, Now: c.Now})
	acct := s.Accounts()[1]
	resp, body := post(t, ts.URL+"/v2.0/tokens", authBody(acct.Username, acct.APIKey))
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	var v struct {
		Access struct {
			Token struct {
				ID      string `json:"id"`
				Expires string `json:"expires"`
				Tenant  struct {
					ID   string `json:"id"`
					Name string `json:"name"`
				} `json:"tenant"`
				AuthenticatedBy []string `json:"RAX-AUTH:authenticatedBy"`
				DefaultRegion   *string  `json:"RAX-AUTH:defaultRegion"`
			} `json:"token"`
			ServiceCatalog []struct {
				Name      string              `json:"name"`
				Type      string              `json:"type"`
				Endpoints []map[string]string `json:"endpoints"`
			} `json:"serviceCatalog"`
			User struct {
				Name          string `json:"name"`
				DefaultRegion string `json:"RAX-AUTH:defaultRegion"`
			} `json:"user"`
		} `json:"access"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatal(err)
	}
	tok := v.Access.Token
	exp, err := time.Parse(time.RFC3339, tok.Expires)
	if err != nil {
		t.Fatalf("expires %q: %v", tok.Expires, err)
	}
	if _, off := exp.Zone(); off == 0 || strings.HasSuffix(tok.Expires, "Z") {
		t.Errorf("expires %q has a UTC offset", tok.Expires)
	}
	if !strings.Contains(tok.Expires, ".") {
		t.Errorf("expires %q has no fractional seconds", tok.Expires)
	}
	if want := c.Now().Add(24 * time.Hour).Truncate(time.Millisecond); !exp.Equal(want) {
		t.Errorf("expires %v, want %v", exp, want)
	}
	if tok.ID == "" || tok.Tenant.ID != acct.TenantID || tok.Tenant.Name != acct.TenantID {
		t.Errorf("token %+v, account %+v", tok, acct)
	}
	if !reflect.DeepEqual(tok.AuthenticatedBy, []string{"APIKEY"}) {
		t.Errorf("authenticatedBy %v", tok.AuthenticatedBy)
	}
	if tok.DefaultRegion != nil || v.Access.User.DefaultRegion == "" || v.Access.User.Name != acct.Username {
		t.Errorf("defaultRegion belongs on access.user: %+v", v.Access)
	}
	var monitors []string
	var compute bool
	for _, e := range v.Access.ServiceCatalog {
		switch e.Type {
		case "rax:monitor":
			monitors = append(monitors, e.Name)
			if len(e.Endpoints) != 1 {
				t.Fatalf("%s endpoints %v", e.Name, e.Endpoints)
			}
			ep := e.Endpoints[0]
			if _, ok := ep["region"]; ok || len(ep) != 2 || ep["tenantId"] != acct.TenantID {
				t.Errorf("%s endpoint %v: want tenantId and publicURL only", e.Name, ep)
			}
			if e.Name == "cloudMonitoring" && ep["publicURL"] != ts.URL+"/v1.0/"+acct.TenantID {
				t.Errorf("publicURL %s", ep["publicURL"])
			}
		case "compute":
			compute = true
			for _, ep := range e.Endpoints {
				if ep["region"] == "" {
					t.Errorf("compute endpoint without region: %v", ep)
				}
			}
		}
	}
	if len(monitors) != 2 || monitors[1] != "cloudMonitoring" {
		t.Errorf("rax:monitor entries %v, want another one before cloudMonitoring", monitors)
	}
	if !compute {
		t.Error("no compute entry")
	}

	// Each login issues a new token and the older ones stay valid.
	a := login(t, s, ts, acct.Username)
	b := login(t, s, ts, acct.Username)
	if a.token == b.token || a.token == tok.ID {
		t.Error("tokens are not unique per login")
	}
	for _, ss := range []tenantClient{a, b, {token: tok.ID, base: a.base}} {
		if resp, body := ss.get(t, ""); resp.StatusCode != 200 {
			t.Errorf("token %s: %d %s", ss.token, resp.StatusCode, body)
		}
	}
	// The second rax:monitor service answers 404 to everything.
	req, _ := http.NewRequest(http.MethodGet, ts.URL+"/control/v1.0/"+acct.TenantID+"/views/overview", nil)
	req.Header.Set("X-Auth-Token", a.token)
	if resp, body := do(t, req); resp.StatusCode != 404 || decodeMonFault(t, body).Type != "notFoundError" {
		t.Errorf("control: %d %s", resp.StatusCode, body)
	}
	if got := s.Counters(acct.Username).Identity; got != 3 {
		t.Errorf("identity counter %d, want 3", got)
	}
}

func TestLoginVariants(t *testing.T) {
	s, ts := newTestServer(t, Config{Accounts: 1, Servers: 1})
	acct := s.Accounts()[0]
	u := ts.URL + "/v2.0/tokens"
	cases := []struct {
		name, url, body string
		status          int
		key             string
	}{
		{"api key", u, authBody(acct.Username, acct.APIKey), 200, ""},
		{"password", u, fmt.Sprintf(`{"auth":{"passwordCredentials":{"username":%q,"password":%q}}}`, acct.Username, acct.APIKey), 200, ""},
		{"tenant id", u, fmt.Sprintf(`{"auth":{"RAX-KSKEY:apiKeyCredentials":{"username":%q,"apiKey":%q},"tenantId":%q}}`, acct.Username, acct.APIKey, acct.TenantID), 200, ""},
		{"no catalog", u + "?include_endpoints=false", authBody(acct.Username, acct.APIKey), 200, ""},
		{"wrong key", u, authBody(acct.Username, "nope"), 401, "unauthorized"},
		{"unknown user", u, authBody("nobody", acct.APIKey), 401, "unauthorized"},
		{"wrong tenant", u, fmt.Sprintf(`{"auth":{"RAX-KSKEY:apiKeyCredentials":{"username":%q,"apiKey":%q},"tenantName":"1"}}`, acct.Username, acct.APIKey), 401, "unauthorized"},
		{"both tenant fields", u, fmt.Sprintf(`{"auth":{"RAX-KSKEY:apiKeyCredentials":{"username":%q,"apiKey":%q},"tenantId":"1","tenantName":"1"}}`, acct.Username, acct.APIKey), 400, "badRequest"},
		{"malformed", u, `{"auth":`, 400, "badRequest"},
		{"empty object", u, `{}`, 400, "badRequest"},
		{"no credentials", u, `{"auth":{}}`, 400, "badRequest"},
		{"no key", u, fmt.Sprintf(`{"auth":{"RAX-KSKEY:apiKeyCredentials":{"username":%q}}}`, acct.Username), 400, "badRequest"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := post(t, tc.url, tc.body)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			if tc.status == 200 {
				var v struct {
					Access struct {
						ServiceCatalog []any `json:"serviceCatalog"`
					} `json:"access"`
				}
				json.Unmarshal(body, &v)
				if noCatalog := strings.Contains(tc.url, "include_endpoints=false"); noCatalog != (v.Access.ServiceCatalog == nil) {
					t.Errorf("catalog present=%v", v.Access.ServiceCatalog != nil)
				}
				return
			}
			key, code, msg := decodeIdentityFault(t, body)
			if key != tc.key || code != tc.status || msg == "" {
				t.Errorf("fault %s %d %q, want %s %d", key, code, msg, tc.key, tc.status)
			}
			if tc.key == "unauthorized" && tc.name != "wrong tenant" && msg != "Unable to authenticate user with credentials provided." {
				t.Errorf("message %q", msg)
			}
		})
	}
}

func TestPagination(t *testing.T) {
	s, ts := newTestServer(t, Config{Accounts: 1, Servers: 250, Alarms: 2, Now: newClock().Now})
	acct := s.Accounts()[0]
	ss := login(t, s, ts, acct.Username)
	want := s.Entities(acct.Username)

	pages := ss.walk(t, nil)
	var counts []int
	var got []string
	for i, p := range pages {
		counts = append(counts, p.Metadata.Count)
		if p.Metadata.Count != len(p.Values) || p.Metadata.Limit != 100 {
			t.Errorf("page %d metadata %+v", i+1, p.Metadata)
		}
		if (i == 0) != (p.Metadata.Marker == nil) {
			t.Errorf("page %d marker %v", i+1, p.Metadata.Marker)
		}
		if p.Metadata.Marker != nil && *p.Metadata.Marker != p.Values[0].Entity.ID {
			t.Errorf("page %d marker %s is not its first entity %s", i+1, *p.Metadata.Marker, p.Values[0].Entity.ID)
		}
		for _, v := range p.Values {
			got = append(got, v.Entity.ID)
		}
	}
	if !reflect.DeepEqual(counts, []int{100, 100, 50}) {
		t.Fatalf("page sizes %v", counts)
	}
	// next_href is an absolute URL on page 1 but null on page 2 although
	// next_marker is set.
	if h := pages[0].Metadata.NextHref; h == nil || !strings.HasPrefix(*h, ts.URL+"/v1.0/") || !strings.Contains(*h, "marker="+*pages[0].Metadata.NextMarker) {
		t.Errorf("page 1 next_href %v", h)
	}
	if pages[1].Metadata.NextMarker == nil || pages[1].Metadata.NextHref != nil {
		t.Errorf("page 2 metadata %+v", pages[1].Metadata)
	}
	if pages[2].Metadata.NextMarker != nil || pages[2].Metadata.NextHref != nil {
		t.Errorf("last page metadata %+v", pages[2].Metadata)
	}
	if len(got) != len(want) {
		t.Fatalf("%d entities, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i].ID || (i > 0 && got[i-1] >= got[i]) {
			t.Fatalf("entity %d: %s, want %s (sorted by ID)", i, got[i], want[i].ID)
		}
	}
	// Following next_href works too.
	req, _ := http.NewRequest(http.MethodGet, *pages[0].Metadata.NextHref, nil)
	req.Header.Set("X-Auth-Token", ss.token)
	if resp, body := do(t, req); resp.StatusCode != 200 || decodePage(t, body).Values[0].Entity.ID != *pages[0].Metadata.NextMarker {
		t.Errorf("next_href: %d", resp.StatusCode)
	}

	if p := ss.walk(t, url.Values{"limit": {"1000"}}); len(p) != 1 || p[0].Metadata.Count != 250 || p[0].Metadata.Limit != 1000 {
		t.Errorf("limit=1000: %d pages", len(p))
	}
	if p := ss.walk(t, url.Values{"limit": {"7"}}); len(p) != 36 {
		t.Errorf("limit=7: %d pages, want 36", len(p))
	}
}

func TestQueryValidation(t *testing.T) {
	s, ts := newTestServer(t, Config{Accounts: 1, Servers: 20})
	acct := s.Accounts()[0]
	ss := login(t, s, ts, acct.Username)
	ents := s.Entities(acct.Username)
	cases := []struct {
		name, query string
		status      int
		typ         string
		ids         []string
	}{
		{"limit 1001", "limit=1001", 400, "invalidLimit", nil},
		{"limit 0", "limit=0", 400, "invalidLimit", nil},
		{"limit negative", "limit=-5", 400, "invalidLimit", nil},
		{"limit text", "limit=ten", 400, "invalidLimit", nil},
		{"limit 1000", "limit=1000", 200, "", nil},
		{"limit 1", "limit=1", 200, "", []string{ents[0].ID}},
		{"entityId", "entityId=" + ents[7].ID + "&entityId=" + ents[2].ID + "&entityId=" + ents[7].ID, 200, "", []string{ents[2].ID, ents[7].ID}},
		{"entityId paged", "limit=1&entityId=" + ents[7].ID + "&entityId=" + ents[2].ID, 200, "", []string{ents[2].ID}},
		{"unknown entityId", "entityId=" + ents[1].ID + "&entityId=enX", 404, "notFoundError", nil},
		{"uri", "uri=" + url.QueryEscape(*ents[0].URI) + "&uri=nope", 200, "", []string{ents[0].ID}},
		{"unknown uri", "uri=nope", 404, "notFoundError", nil},
		{"entityId and uri", "entityId=" + ents[0].ID + "&uri=x", 400, "badRequest", nil},
		{"agentId", "agentId=" + *ents[0].AgentID, 200, "", []string{ents[0].ID}},
		{"marker", "marker=" + ents[18].ID, 200, "", []string{ents[18].ID, ents[19].ID}},
		{"marker between ids", "marker=" + ents[18].ID + "0", 200, "", []string{ents[19].ID}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := ss.get(t, tc.query)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			if tc.status != 200 {
				f := decodeMonFault(t, body)
				if f.Type != tc.typ {
					t.Errorf("type %s, want %s", f.Type, tc.typ)
				}
				if tc.name == "unknown entityId" && string(f.Details) != `"Object \"Entity\" with key \"enX\" does not exist"` {
					t.Errorf("details %s", f.Details)
				}
				return
			}
			if tc.ids == nil {
				return
			}
			var got []string
			for _, v := range decodePage(t, body).Values {
				got = append(got, v.Entity.ID)
			}
			if !reflect.DeepEqual(got, tc.ids) {
				t.Errorf("ids %v, want %v", got, tc.ids)
			}
		})
	}
}

func TestAuthorization(t *testing.T) {
	c := newClock()
	s, ts := newTestServer(t, Config{Accounts: 2, Servers: 3, Now: c.Now, TokenTTL: time.Hour})
	a1, a2 := s.Accounts()[0], s.Accounts()[1]
	s1 := login(t, s, ts, a1.Username)
	s2 := login(t, s, ts, a2.Username)

	check := func(name string, ss tenantClient, status int, typ string) {
		t.Helper()
		resp, body := ss.get(t, "")
		if resp.StatusCode != status {
			t.Fatalf("%s: status %d, want %d: %s", name, resp.StatusCode, status, body)
		}
		if typ != "" {
			if f := decodeMonFault(t, body); f.Type != typ {
				t.Errorf("%s: type %s, want %s", name, f.Type, typ)
			}
		}
	}
	check("ok", s1, 200, "")
	check("no token", tenantClient{base: s1.base}, 401, "unauthorizedError")
	check("bogus token", tenantClient{token: "bogus", base: s1.base}, 401, "unauthorizedError")
	check("other tenant", tenantClient{token: s2.token, base: s1.base}, 403, "forbiddenError")

	s.RevokeTokens(a1.Username)
	check("revoked", s1, 401, "unauthorizedError")
	check("other account unaffected", s2, 200, "")
	s1 = login(t, s, ts, a1.Username)
	check("relogin", s1, 200, "")

	c.Advance(time.Hour)
	check("expired", s1, 401, "unauthorizedError")
	s1 = login(t, s, ts, a1.Username)
	check("relogin after expiry", s1, 200, "")

	// Identity revocation of the caller's own token.
	req, _ := http.NewRequest(http.MethodDelete, ts.URL+"/v2.0/tokens", nil)
	req.Header.Set("X-Auth-Token", s1.token)
	if resp, _ := do(t, req); resp.StatusCode != http.StatusNoContent {
		t.Errorf("DELETE /v2.0/tokens: %d", resp.StatusCode)
	}
	check("deleted", s1, 401, "unauthorizedError")
}

func TestIdentityClockSkewShowsInExpiresAndDateOnly(t *testing.T) {
	c := newClock()
	const skew = -25 * time.Hour // Identity's clock a day and an hour behind
	s, ts := newTestServer(t, Config{Accounts: 1, Servers: 1, Now: c.Now, IdentityClock: skew})
	acct := s.Accounts()[0]
	resp, body := post(t, s.IdentityURL(ts.URL)+"/tokens", authBody(acct.Username, acct.APIKey))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login: %d %s", resp.StatusCode, body)
	}
	date, err := http.ParseTime(resp.Header.Get("Date"))
	if want := c.Now().Add(skew).Truncate(time.Second); err != nil || !date.Equal(want) {
		t.Errorf("Date %q (%v), want %v", resp.Header.Get("Date"), err, want)
	}
	var v struct {
		Access struct {
			Token struct {
				Expires string `json:"expires"`
			} `json:"token"`
		} `json:"access"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatal(err)
	}
	exp, err := time.Parse(time.RFC3339, v.Access.Token.Expires)
	if want := c.Now().Add(skew + 24*time.Hour).Truncate(time.Millisecond); err != nil || !exp.Equal(want) {
		t.Errorf("expires %q (%v), want %v: in the past on this clock", v.Access.Token.Expires, err, want)
	}
	if resp, _ := post(t, s.IdentityURL(ts.URL)+"/tokens", `{}`); resp.Header.Get("Date") == "" {
		t.Error("a fault from Identity has no Date header")
	}

	// The token lives a day of real time, whatever Identity's clock says.
	ss := login(t, s, ts, acct.Username)
	c.Advance(23 * time.Hour)
	if resp, body := ss.get(t, ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("a token 23 h old: %d %s", resp.StatusCode, body)
	}
	c.Advance(time.Hour)
	if resp, _ := ss.get(t, ""); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a token a day old: %d, want 401", resp.StatusCode)
	}
}

func TestRateLimitHeaders(t *testing.T) {
	s, ts := newTestServer(t, Config{Accounts: 1, Servers: 1})
	acct := s.Accounts()[0]
	ss := login(t, s, ts, acct.Username)
	for i := 1; i <= 3; i++ {
		resp, _ := ss.get(t, "")
		h := resp.Header
		if h.Get("X-RateLimit-Limit") != "50000" || h.Get("X-RateLimit-Used") != fmt.Sprint(i) ||
			h.Get("X-RateLimit-Window") != "24 hours" || h.Get("X-RateLimit-Type") != "global" {
			t.Errorf("request %d headers %v", i, h)
		}
	}
	resp, _ := ss.get(t, "limit=5000")
	if resp.Header.Get("X-RateLimit-Used") != "4" {
		t.Errorf("error responses carry the headers too: %v", resp.Header)
	}
	if got := s.Counters(acct.Username); got != (Counters{Identity: 1, Overview: 4}) {
		t.Errorf("counters %+v", got)
	}
}

func TestFaults(t *testing.T) {
	s, ts := newTestServer(t, Config{Accounts: 2, Servers: 250, Alarms: 1})
	acct, other := s.Accounts()[0], s.Accounts()[1]
	ss := login(t, s, ts, acct.Username)
	otherClient := login(t, s, ts, other.Username)

	identity := []struct {
		status int
		key    string
	}{
		{400, "badRequest"}, {401, "unauthorized"}, {403, "userDisabled"}, {413, "overLimit"}, {500, "serviceFault"}, {503, "serviceUnavailable"},
	}
	for _, tc := range identity {
		t.Run(fmt.Sprintf("identity %d", tc.status), func(t *testing.T) {
			s.SetFault(acct.Username, Fault{IdentityStatus: tc.status, RetryAfter: 2 * time.Second})
			defer s.ClearFault(acct.Username)
			resp, body := post(t, ts.URL+"/v2.0/tokens", authBody(acct.Username, acct.APIKey))
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			key, code, _ := decodeIdentityFault(t, body)
			if key != tc.key || code != tc.status {
				t.Errorf("fault %s %d", key, code)
			}
			if ra := resp.Header.Get("Retry-After"); (tc.status == 413) != (ra == "2") {
				t.Errorf("Retry-After %q", ra)
			}
			// Other accounts log in normally.
			login(t, s, ts, other.Username)
		})
	}

	monitoring := []struct {
		status int
		typ    string
		retry  bool
	}{
		{400, "limitReached", true}, {401, "unauthorizedError", false}, {403, "forbiddenError", false},
		{404, "notFoundError", false}, {413, "requestTooLargeError", true}, {429, "rateLimitReached", true},
		{500, "internalError", false}, {503, "systemFailureError", false},
	}
	for _, tc := range monitoring {
		for _, reply := range []bool{false, true} {
			t.Run(fmt.Sprintf("monitoring %d reply=%v", tc.status, reply), func(t *testing.T) {
				s.SetFault(acct.Username, Fault{MonitoringStatus: tc.status, RetryAfter: 2500 * time.Millisecond, ReplyAfter: reply})
				defer s.ClearFault(acct.Username)
				resp, body := ss.get(t, "")
				if resp.StatusCode != tc.status {
					t.Fatalf("status %d: %s", resp.StatusCode, body)
				}
				f := decodeMonFault(t, body)
				if f.Type != tc.typ || strings.Trim(string(f.Code), `"`) != fmt.Sprint(tc.status) {
					t.Errorf("fault %s code %s", f.Type, f.Code)
				}
				header, other := "Retry-After", "Reply-After"
				if reply {
					header, other = other, header
				}
				if got := resp.Header.Get(header); tc.retry != (got == "3") || resp.Header.Get(other) != "" {
					t.Errorf("%s %q, %s %q", header, got, other, resp.Header.Get(other))
				}
				if resp, _ := otherClient.get(t, ""); resp.StatusCode != 200 {
					t.Errorf("other account: %d", resp.StatusCode)
				}
			})
		}
	}

	t.Run("non-json", func(t *testing.T) {
		s.SetFault(acct.Username, Fault{NonJSON: true})
		defer s.ClearFault(acct.Username)
		resp, body := ss.get(t, "")
		if resp.StatusCode != 200 || !bytes.HasPrefix(body, []byte("<")) || json.Valid(body) {
			t.Errorf("%d %s", resp.StatusCode, body)
		}
	})
	t.Run("truncated", func(t *testing.T) {
		s.ClearFault(acct.Username)
		_, full := ss.get(t, "")
		s.SetFault(acct.Username, Fault{Truncated: true})
		defer s.ClearFault(acct.Username)
		resp, body := ss.get(t, "")
		if resp.StatusCode != 200 || json.Valid(body) || len(body) == 0 || !bytes.HasPrefix(full, body) || len(body) > len(full)/2+1 {
			t.Errorf("%d: %d of %d bytes", resp.StatusCode, len(body), len(full))
		}
		var p page
		if err := json.Unmarshal(body, &p); err == nil {
			t.Error("truncated body decoded")
		}
	})
	t.Run("fail page", func(t *testing.T) {
		s.SetFault(acct.Username, Fault{FailPage: 2})
		defer s.ClearFault(acct.Username)
		resp, body := ss.get(t, "")
		if resp.StatusCode != 200 {
			t.Fatalf("page 1: %d", resp.StatusCode)
		}
		next := *decodePage(t, body).Metadata.NextMarker
		resp, body = ss.get(t, "marker="+next)
		if resp.StatusCode != 500 || decodeMonFault(t, body).Type != "internalError" {
			t.Errorf("page 2: %d %s", resp.StatusCode, body)
		}
		s.SetFault(acct.Username, Fault{FailPage: 3})
		resp, _ = ss.get(t, "marker="+next)
		if resp.StatusCode != 200 {
			t.Errorf("page 2 with FailPage 3: %d", resp.StatusCode)
		}
	})
	t.Run("no monitoring endpoint in the catalog", func(t *testing.T) {
		s.SetFault(acct.Username, Fault{NoMonitoringEndpoint: true})
		resp, body := post(t, s.IdentityURL(ts.URL)+"/tokens", authBody(acct.Username, acct.APIKey))
		var v struct {
			Access struct {
				Token struct {
					ID string `json:"id"`
				} `json:"token"`
				ServiceCatalog []struct {
					Name string `json:"name"`
					Type string `json:"type"`
				} `json:"serviceCatalog"`
			} `json:"access"`
		}
		if err := json.Unmarshal(body, &v); err != nil || resp.StatusCode != 200 {
			t.Fatalf("login: %d %s", resp.StatusCode, body)
		}
		if len(v.Access.ServiceCatalog) == 0 {
			t.Error("the whole catalog is gone, not just Monitoring")
		}
		for _, e := range v.Access.ServiceCatalog {
			if e.Type == "rax:monitor" || e.Name == "cloudMonitoring" {
				t.Errorf("catalog lists %s (%s)", e.Name, e.Type)
			}
		}
		// The documented address still serves the account.
		fallback := tenantClient{token: v.Access.Token.ID, base: ts.URL + "/v1.0/" + acct.TenantID}
		if resp, _ := fallback.get(t, "limit=1"); resp.StatusCode != 200 {
			t.Errorf("overview at the documented address: %d", resp.StatusCode)
		}
		s.ClearFault(acct.Username)
		if got := login(t, s, ts, acct.Username); got.base != fallback.base {
			t.Errorf("after the fault the catalog lists %q", got.base)
		}
	})
	t.Run("remaining header", func(t *testing.T) {
		s.SetFault(acct.Username, Fault{RemainingHeader: true})
		defer s.ClearFault(acct.Username)
		resp, _ := ss.get(t, "")
		used := s.Counters(acct.Username).Overview
		if resp.Header.Get("X-RateLimit-Used") != "" || resp.Header.Get("X-RateLimit-Remaining") != fmt.Sprint(50000-used) {
			t.Errorf("headers %v", resp.Header)
		}
	})
	t.Run("slow", func(t *testing.T) {
		s.SetFault(acct.Username, Fault{Slow: 300 * time.Millisecond})
		defer s.ClearFault(acct.Username)
		start := time.Now()
		if resp, _ := ss.get(t, "limit=1"); resp.StatusCode != 200 || time.Since(start) < 300*time.Millisecond {
			t.Errorf("slow overview: %d after %v", resp.StatusCode, time.Since(start))
		}
		start = time.Now()
		login(t, s, ts, acct.Username)
		if time.Since(start) < 300*time.Millisecond {
			t.Errorf("slow login after %v", time.Since(start))
		}
		start = time.Now()
		otherClient.get(t, "limit=1")
		if time.Since(start) > 250*time.Millisecond {
			t.Errorf("other account slowed down: %v", time.Since(start))
		}
		// A client timeout ends the wait.
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, ss.base+"/views/overview", nil)
		req.Header.Set("X-Auth-Token", ss.token)
		if _, err := http.DefaultClient.Do(req); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err %v", err)
		}
	})
	t.Run("cleared", func(t *testing.T) {
		if resp, body := ss.get(t, ""); resp.StatusCode != 200 || !json.Valid(body) {
			t.Errorf("%d", resp.StatusCode)
		}
	})
}

func TestLatency(t *testing.T) {
	s, ts := newTestServer(t, Config{Accounts: 1, Servers: 1, Latency: 100 * time.Millisecond})
	start := time.Now()
	ss := login(t, s, ts, s.Accounts()[0].Username)
	ss.get(t, "")
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Errorf("two requests took %v", d)
	}
}

func TestDeterminism(t *testing.T) {
	c := newClock()
	cfg := Config{Accounts: 3, Servers: 60, Alarms: 4, Seed: 42, Now: c.Now, ChangeEvery: time.Minute}
	a, b := New(cfg), New(cfg)
	if !reflect.DeepEqual(a.Accounts(), b.Accounts()) {
		t.Fatalf("accounts differ: %v %v", a.Accounts(), b.Accounts())
	}
	for _, acct := range a.Accounts() {
		if !reflect.DeepEqual(a.Entities(acct.Username), b.Entities(acct.Username)) {
			t.Errorf("%s: entities differ", acct.Username)
		}
	}
	seen := map[string]bool{}
	for _, acct := range a.Accounts() {
		if len(acct.APIKey) != 32 || acct.TenantID == "" || seen[acct.TenantID] {
			t.Errorf("account %+v", acct)
		}
		seen[acct.TenantID] = true
	}
	cfg.Seed = 43
	d := New(cfg)
	if reflect.DeepEqual(a.Accounts(), d.Accounts()) || reflect.DeepEqual(a.Entities("account1"), d.Entities("account1")) {
		t.Error("another seed gives the same model")
	}
	// The served JSON is identical too.
	serve := func(s *Server) []byte {
		ts := httptest.NewServer(s)
		defer ts.Close()
		ss := login(t, s, ts, "account2")
		_, body := ss.get(t, "limit=1000")
		return body
	}
	if x, y := serve(a), serve(b); !bytes.Equal(x, y) {
		t.Error("served overview differs between servers with the same seed")
	}
}

func TestStatesChangeOverTime(t *testing.T) {
	for _, every := range []time.Duration{0, time.Minute} {
		t.Run(fmt.Sprint(every), func(t *testing.T) {
			c := newClock()
			s := New(Config{Accounts: 1, Servers: 100, Alarms: 5, Now: c.Now, ChangeEvery: every, WarningShare: 0.1, CriticalShare: 0.05})
			before := s.Entities("account1")
			c.Advance(3 * time.Minute)
			after := s.Entities("account1")
			changed, frozenChanged := 0, 0
			for i := range before {
				for j := range before[i].Alarms {
					x, y := before[i].Alarms[j], after[i].Alarms[j]
					if x.State != y.State || !x.Since.Equal(y.Since) {
						changed++
						if x.Disabled {
							frozenChanged++
						}
					}
					if y.State != "" && y.Since.After(c.Now()) {
						t.Fatalf("state from the future: %+v", y)
					}
					if y.PreviousState != "" && y.PreviousState == y.State {
						t.Errorf("previous_state equals state: %+v", y)
					}
				}
			}
			if every == 0 && changed != 0 {
				t.Errorf("%d states changed without ChangeEvery", changed)
			}
			if every > 0 && (changed < 10 || changed > 400) {
				t.Errorf("%d of 500 states changed in 3 periods", changed)
			}
			if frozenChanged != 0 {
				t.Errorf("%d disabled alarms changed", frozenChanged)
			}
		})
	}
}

// TestServedModel checks that the overview serves exactly what Entities
// reports, with the documented quirks present.
func TestServedModel(t *testing.T) {
	c := newClock()
	s, ts := newTestServer(t, Config{Accounts: 1, Servers: 250, Alarms: 6, Now: c.Now, ChangeEvery: time.Minute})
	acct := s.Accounts()[0]
	ss := login(t, s, ts, acct.Username)
	want := s.Entities(acct.Username)
	var quirks struct {
		empty, uriNull, uriAbsent, uriOther, noAgent, orphanAlarm, orphanCheck, unevaluated,
		bare, labelNull, labelAbsent, disabledAbsent, disabledTrue, warning, critical int
	}
	i := 0
	for _, p := range ss.walk(t, url.Values{"limit": {"1000"}}) {
		for _, v := range p.Values {
			w := want[i]
			e := v.Entity
			if e.ID != w.ID || e.Label != w.Label || e.Created < 1e12 {
				t.Fatalf("entity %d: %+v, want %+v", i, e, w)
			}
			switch {
			case e.URI == nil:
				quirks.uriAbsent++
				if w.URI != nil {
					t.Errorf("uri absent but model has %s", *w.URI)
				}
			case string(e.URI) == "null":
				quirks.uriNull++
				if w.URI != nil {
					t.Errorf("uri null but model has %s", *w.URI)
				}
			default:
				var u string
				json.Unmarshal(e.URI, &u)
				if w.URI == nil || *w.URI != u {
					t.Errorf("uri %s", u)
				}
				if !strings.Contains(u, ".servers.api.rackspacecloud.com/"+acct.TenantID+"/servers/") {
					quirks.uriOther++
				} else if e.AgentID == nil {
					quirks.noAgent++
				} else if !strings.HasSuffix(u, "/"+*e.AgentID) {
					t.Errorf("agent_id %s not the server of %s", *e.AgentID, u)
				}
			}
			if (e.AgentID == nil) != (w.AgentID == nil) {
				t.Errorf("agent_id %v vs %v", e.AgentID, w.AgentID)
			}
			if len(v.Checks) == 0 {
				quirks.empty++
				if v.Alarms == nil || v.LatestAlarmStates == nil || len(w.Alarms) != 0 {
					t.Errorf("empty entity %s must have empty arrays", e.ID)
				}
			}
			checks := map[string]string{}
			for _, ch := range v.Checks {
				checks[ch.ID] = ch.Type
				if strings.HasPrefix(ch.Type, "agent.") != (ch.Poll == nil) {
					t.Errorf("check %s monitoring_zones_poll %v", ch.Type, ch.Poll)
				}
			}
			states := map[string]map[string]json.RawMessage{}
			for _, st := range v.LatestAlarmStates {
				var id, chk string
				var ts int64
				json.Unmarshal(st["alarm_id"], &id)
				json.Unmarshal(st["check_id"], &chk)
				json.Unmarshal(st["timestamp"], &ts)
				if ts < 1e12 {
					t.Errorf("timestamp %d is not in ms", ts)
				}
				if _, ok := checks[chk]; !ok {
					quirks.orphanCheck++
				}
				states[id] = st
			}
			if len(v.Alarms) != len(w.Alarms) {
				t.Fatalf("entity %s: %d alarms, want %d", e.ID, len(v.Alarms), len(w.Alarms))
			}
			for j, al := range v.Alarms {
				wa := w.Alarms[j]
				var id string
				json.Unmarshal(al["id"], &id)
				if id != wa.ID {
					t.Fatalf("alarm %s, want %s", id, wa.ID)
				}
				switch lbl, ok := al["label"]; {
				case !ok:
					quirks.labelAbsent++
				case string(lbl) == "null":
					quirks.labelNull++
				}
				if (wa.Label == nil) != (string(al["label"]) == "null" || al["label"] == nil) {
					t.Errorf("label %s vs %v", al["label"], wa.Label)
				}
				switch d, ok := al["disabled"]; {
				case !ok:
					quirks.disabledAbsent++
				case string(d) == "true":
					quirks.disabledTrue++
					if !wa.Disabled {
						t.Error("disabled mismatch")
					}
				}
				st, ok := states[id]
				delete(states, id)
				if !ok {
					quirks.unevaluated++
					if wa.State != "" {
						t.Errorf("alarm %s not served with a state but model says %s", id, wa.State)
					}
					continue
				}
				var state, status, prev string
				var ts int64
				json.Unmarshal(st["state"], &state)
				json.Unmarshal(st["status"], &status)
				json.Unmarshal(st["previous_state"], &prev)
				json.Unmarshal(st["timestamp"], &ts)
				if _, ok := st["status"]; !ok {
					quirks.bare++
				}
				if state != wa.State || status != wa.Status || prev != wa.PreviousState || ts != wa.Since.UnixMilli() {
					t.Errorf("alarm %s state %s/%q/%s/%d, model %+v", id, state, status, prev, ts, wa)
				}
				switch state {
				case "WARNING":
					quirks.warning++
				case "CRITICAL":
					quirks.critical++
				}
			}
			quirks.orphanAlarm += len(states)
			i++
		}
	}
	if i != len(want) {
		t.Fatalf("%d entities served, want %d", i, len(want))
	}
	t.Logf("quirks: %+v", quirks)
	for name, n := range map[string]int{
		"empty": quirks.empty, "uri null": quirks.uriNull, "uri absent": quirks.uriAbsent, "uri other": quirks.uriOther,
		"no agent": quirks.noAgent, "orphan alarm": quirks.orphanAlarm, "orphan check": quirks.orphanCheck,
		"unevaluated": quirks.unevaluated, "bare state": quirks.bare, "label null": quirks.labelNull,
		"label absent": quirks.labelAbsent, "disabled absent": quirks.disabledAbsent, "disabled true": quirks.disabledTrue,
		"warning": quirks.warning, "critical": quirks.critical,
	} {
		if n == 0 {
			t.Errorf("no %s", name)
		}
	}
	total := 250 * 6
	if quirks.unevaluated < total/50 || quirks.unevaluated > total/20 {
		t.Errorf("%d unevaluated of %d", quirks.unevaluated, total)
	}
}

func TestAddAccount(t *testing.T) {
	s, ts := newTestServer(t, Config{})
	if len(s.Accounts()) != 0 {
		t.Fatal("Accounts: 0 must give no accounts")
	}
	a := s.AddAccount(AccountSpec{Username: "alice", APIKey: "secret", TenantID: "777777", Servers: 3, Alarms: 2, CriticalShare: 1})
	b := s.AddAccount(AccountSpec{Servers: 1, Alarms: 1})
	if a != (Account{"alice", "secret", "777777"}) || b.Username != "account2" || len(b.APIKey) != 32 {
		t.Errorf("accounts %+v %+v", a, b)
	}
	if got := s.Accounts(); len(got) != 2 || got[0] != a || got[1] != b {
		t.Errorf("Accounts %v", got)
	}
	ents := s.Entities("alice")
	if len(ents) != 3 || len(ents[0].Alarms) != 2 {
		t.Fatalf("entities %+v", ents)
	}
	for _, al := range ents[0].Alarms {
		if al.State != "CRITICAL" && al.State != "" {
			t.Errorf("CriticalShare 1 gave %s", al.State)
		}
	}
	ss := login(t, s, ts, "alice")
	if ss.base != ts.URL+"/v1.0/777777" {
		t.Errorf("base %s", ss.base)
	}
	if s.Entities("nobody") != nil {
		t.Error("unknown account has entities")
	}
}

func TestAdminRoutes(t *testing.T) {
	s, ts := newTestServer(t, Config{Accounts: 1, Servers: 2})
	acct := s.Accounts()[0]
	ss := login(t, s, ts, acct.Username)
	admin := func(method, path string) int {
		req, _ := http.NewRequest(method, ts.URL+path, nil)
		resp, _ := do(t, req)
		return resp.StatusCode
	}
	if code := admin("POST", "/_fake/fault?username="+acct.Username+"&monitoring_status=503"); code != 200 {
		t.Fatalf("fault: %d", code)
	}
	if resp, _ := ss.get(t, ""); resp.StatusCode != 503 {
		t.Errorf("after fault: %d", resp.StatusCode)
	}
	admin("POST", "/_fake/clear?username="+acct.Username)
	if resp, _ := ss.get(t, ""); resp.StatusCode != 200 {
		t.Errorf("after clear: %d", resp.StatusCode)
	}
	admin("POST", "/_fake/revoke?username="+acct.Username)
	if resp, _ := ss.get(t, ""); resp.StatusCode != 401 {
		t.Errorf("after revoke: %d", resp.StatusCode)
	}
	if code := admin("GET", "/_fake/accounts"); code != 200 {
		t.Errorf("accounts: %d", code)
	}
	if code := admin("POST", "/_fake/fault?username=x&slow=bogus"); code != 400 {
		t.Errorf("bad duration: %d", code)
	}
}

func TestConcurrentUse(t *testing.T) {
	s, ts := newTestServer(t, Config{Accounts: 3, Servers: 30, ChangeEvery: time.Second})
	accounts := s.Accounts()
	clients := make([]tenantClient, len(accounts))
	for i, a := range accounts {
		clients[i] = login(t, s, ts, a.Username)
	}
	var wg sync.WaitGroup
	for i := range 12 {
		wg.Go(func() {
			a := accounts[i%len(accounts)]
			resp, err := http.Post(ts.URL+"/v2.0/tokens", "application/json", strings.NewReader(authBody(a.Username, a.APIKey)))
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			for range 5 {
				req, _ := http.NewRequest(http.MethodGet, clients[i%len(accounts)].base+"/views/overview?limit=10", nil)
				req.Header.Set("X-Auth-Token", clients[i%len(accounts)].token)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Errorf("status %d", resp.StatusCode)
				}
				s.SetFault(a.Username, Fault{RemainingHeader: i%2 == 0})
				s.Counters(a.Username)
				s.Entities(a.Username)
				s.ClearFault(a.Username)
			}
			if i == 0 {
				s.AddAccount(AccountSpec{Servers: 2, Alarms: 1})
			}
		})
	}
	wg.Wait()
}

func BenchmarkOverview1000(b *testing.B) {
	s := New(Config{Accounts: 1, Servers: 1000, Alarms: 6, ChangeEvery: time.Minute})
	a := s.Accounts()[0]
	token := benchToken(b, s, a)
	for b.Loop() {
		req := httptest.NewRequest(http.MethodGet, "/v1.0/"+a.TenantID+"/views/overview?limit=1000", nil)
		req.Header.Set("X-Auth-Token", token)
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatal(rec.Code)
		}
	}
}

func TestSetStateForcesAnAlarmUntilCleared(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	clock := func() time.Time { return now }
	s := New(Config{Seed: 7, Now: clock})
	a := s.AddAccount(AccountSpec{Username: "acme", Servers: 2, Alarms: 2})
	ent := s.Entities(a.Username)[1]
	al := ent.Alarms[1]
	want := "CRITICAL"
	if al.State == "CRITICAL" {
		want = "WARNING"
	}
	if err := s.SetState("acme", ent.ID, al.ID, want); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Minute)
	got := s.Entities("acme")[1].Alarms[1]
	if got.State != want || got.PreviousState != al.State || !got.Since.Equal(now.Add(-time.Minute)) || got.Status == "" {
		t.Fatalf("forced alarm = %+v, want %s since %v after %s", got, want, now.Add(-time.Minute), al.State)
	}
	if other := s.Entities("acme")[1].Alarms[0]; !reflect.DeepEqual(other, ent.Alarms[0]) {
		t.Fatalf("the other alarm changed: %+v, was %+v", other, ent.Alarms[0])
	}
	// The overview serves it too, and the admin route clears it.
	ts := httptest.NewServer(s)
	defer ts.Close()
	_, body := login(t, s, ts, a.Username).get(t, "")
	served := ""
	for _, v := range decodePage(t, body).Values {
		for _, st := range v.LatestAlarmStates {
			if string(st["alarm_id"]) == `"`+al.ID+`"` && string(st["entity_id"]) == `"`+ent.ID+`"` {
				served = string(st["state"])
			}
		}
	}
	if served != `"`+want+`"` {
		t.Fatalf("overview serves state %s for the forced alarm, want %s", served, want)
	}
	resp, msg := post(t, ts.URL+"/_fake/state?username=acme&entity="+ent.ID+"&alarm="+al.ID+"&state=", "")
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("POST /_fake/state: %d %s", resp.StatusCode, msg)
	}
	if back := s.Entities("acme")[1].Alarms[1]; !reflect.DeepEqual(back, al) {
		t.Fatalf("cleared alarm = %+v, want the generated %+v", back, al)
	}
	for _, bad := range [][4]string{
		{"nobody", ent.ID, al.ID, "OK"},
		{"acme", "enNope", al.ID, "OK"},
		{"acme", ent.ID, "alNope", "OK"},
		{"acme", ent.ID, al.ID, "PURPLE"},
	} {
		if err := s.SetState(bad[0], bad[1], bad[2], bad[3]); err == nil {
			t.Errorf("SetState%v succeeded", bad)
		}
	}
}

// benchToken logs in to s as a and returns the token.
func benchToken(b *testing.B, s *Server, a Account) string {
	b.Helper()
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v2.0/tokens", strings.NewReader(authBody(a.Username, a.APIKey))))
	var v struct {
		Access struct {
			Token struct {
				ID string `json:"id"`
			} `json:"token"`
		} `json:"access"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		b.Fatal(err)
	}
	return v.Access.Token.ID
}
