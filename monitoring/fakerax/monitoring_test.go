package fakerax

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// call sends method to the tenant's path (e.g. "/limits?x=1") with an
// optional JSON body.
func (ss tenantClient) call(t *testing.T, method, path, body string) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, ss.base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if ss.token != "" {
		req.Header.Set("X-Auth-Token", ss.token)
	}
	req.Header.Set("Accept", "application/json")
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return do(t, req)
}

// getJSON GETs path, wants 200 and decodes the body into v.
func (ss tenantClient) getJSON(t *testing.T, path string, v any) *http.Response {
	t.Helper()
	resp, body := ss.call(t, http.MethodGet, path, "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: %v\n%s", path, err, body)
	}
	return resp
}

func TestBudgetCountsEveryMonitoringRequest(t *testing.T) {
	c := newClock()
	s, ts := newTestServer(t, Config{Accounts: 1, Servers: 3, Now: c.Now, RateLimit: 10})
	acct := s.Accounts()[0]
	ss := login(t, s, ts, acct.Username)
	s.SetFault(acct.Username, Fault{RemainingHeader: true})

	paths := []string{"/views/overview", "/limits", "/nothing/here", "/views/overview?limit=5000", "/limits"}
	for i, p := range paths {
		resp, body := ss.call(t, http.MethodGet, p, "")
		h := resp.Header
		if got, want := h.Get("X-Ratelimit-Remaining"), strconv.Itoa(10-i-1); got != want {
			t.Errorf("request %d (%s, %d): remaining %q, want %s", i+1, p, resp.StatusCode, got, want)
		}
		if h.Get("X-Ratelimit-Limit") != "10" || h.Get("X-Ratelimit-Window") != "24 hours" || h.Get("X-Ratelimit-Type") != "global" || h.Get("X-Ratelimit-Used") != "" {
			t.Errorf("request %d headers %v: %s", i+1, h, body)
		}
	}
	// An unauthenticated request tells where the budget stands but spends none.
	resp, _ := tenantClient{base: ss.base}.call(t, http.MethodGet, "/limits", "")
	if resp.StatusCode != 401 || resp.Header.Get("X-Ratelimit-Remaining") != "5" {
		t.Errorf("no token: %d, remaining %q", resp.StatusCode, resp.Header.Get("X-Ratelimit-Remaining"))
	}
	var lim struct {
		Rate map[string]struct {
			Limit  int    `json:"limit"`
			Used   int    `json:"used"`
			Window string `json:"window"`
		} `json:"rate"`
	}
	ss.getJSON(t, "/limits", &lim)
	if g := lim.Rate["global"]; g.Limit != 10 || g.Used != 6 || g.Window != "24 hours" {
		t.Errorf("limits global %+v, want 6 of 10 used", g)
	}
	if used, limit := s.RateUsed(acct.Username); used != 6 || limit != 10 {
		t.Errorf("RateUsed %d of %d", used, limit)
	}
}

func TestSpentBudgetAnswers429UntilTheWindowCloses(t *testing.T) {
	c := newClock()
	s, ts := newTestServer(t, Config{Accounts: 1, Servers: 2, Now: c.Now})
	acct := s.Accounts()[0]
	ss := login(t, s, ts, acct.Username)
	if resp, _ := ss.get(t, ""); resp.StatusCode != 200 { // opens the window
		t.Fatalf("first request: %d", resp.StatusCode)
	}
	c.Advance(90 * time.Minute)
	if err := s.SetRateUsed(acct.Username, 49999); err != nil {
		t.Fatal(err)
	}
	if resp, _ := ss.get(t, ""); resp.StatusCode != 200 || resp.Header.Get("X-RateLimit-Used") != "50000" {
		t.Fatalf("last request of the budget: %d %v", resp.StatusCode, resp.Header)
	}
	for _, path := range []string{"/views/overview", "/limits"} {
		resp, body := ss.call(t, http.MethodGet, path, "")
		if resp.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("%s over budget: %d %s", path, resp.StatusCode, body)
		}
		f := decodeMonFault(t, body)
		want := strconv.Itoa(int((24*time.Hour - 90*time.Minute) / time.Second))
		if f.Type != "rateLimitReached" || resp.Header.Get("Retry-After") != want || resp.Header.Get("X-RateLimit-Used") != "50000" {
			t.Errorf("%s: %s, Retry-After %q (want %s), used %q", path, body, resp.Header.Get("Retry-After"), want, resp.Header.Get("X-RateLimit-Used"))
		}
	}
	// The docs' other reading: 400 limitReached with Reply-After.
	s.SetFault(acct.Username, Fault{ReplyAfter: true})
	resp, body := ss.get(t, "")
	if resp.StatusCode != 400 || decodeMonFault(t, body).Type != "limitReached" || resp.Header.Get("Reply-After") == "" || resp.Header.Get("Retry-After") != "" {
		t.Errorf("ReplyAfter over budget: %d %v %s", resp.StatusCode, resp.Header, body)
	}
	s.ClearFault(acct.Username)

	// A fixed window: it closes 24 hours after it opened.
	c.Advance(24*time.Hour - 90*time.Minute - time.Second)
	if resp, _ := ss.get(t, ""); resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "1" {
		t.Fatalf("a second before the window closes: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	c.Advance(time.Second)
	ss = login(t, s, ts, acct.Username) // the first token has expired by now
	if resp, _ := ss.get(t, ""); resp.StatusCode != 200 || resp.Header.Get("X-RateLimit-Used") != "1" {
		t.Fatalf("after the window: %d, used %q", resp.StatusCode, resp.Header.Get("X-RateLimit-Used"))
	}
}

func TestPerAccountRateLimit(t *testing.T) {
	s, ts := newTestServer(t, Config{RateLimit: 7})
	s.AddAccount(AccountSpec{Username: "small", Servers: 1, Alarms: 1, RateLimit: 2})
	s.AddAccount(AccountSpec{Username: "default", Servers: 1, Alarms: 1})
	resp, body := post(t, ts.URL+"/_fake/accounts?username=admin&servers=1&rate_limit=3", "")
	if resp.StatusCode != 200 {
		t.Fatalf("add account: %d %s", resp.StatusCode, body)
	}
	for user, want := range map[string]string{"small": "2", "default": "7", "admin": "3"} {
		resp, _ := login(t, s, ts, user).get(t, "")
		if got := resp.Header.Get("X-RateLimit-Limit"); got != want {
			t.Errorf("%s: limit %s, want %s", user, got, want)
		}
	}
	ss := login(t, s, ts, "small")
	ss.get(t, "")
	if resp, _ := ss.get(t, ""); resp.StatusCode != 429 {
		t.Errorf("third request of a budget of 2: %d", resp.StatusCode)
	}
	// rate_used on the fault route spends budget too.
	if resp, body := post(t, ts.URL+"/_fake/fault?username=admin&rate_used=3", ""); resp.StatusCode != 200 {
		t.Fatalf("rate_used: %d %s", resp.StatusCode, body)
	}
	if resp, _ := login(t, s, ts, "admin").get(t, ""); resp.StatusCode != 429 {
		t.Errorf("after rate_used=3 of 3: %d", resp.StatusCode)
	}
}

// TestRateHeaderCaseOnTheWire reads the raw answer: the docs' spelling
// X-RateLimit-Used by default, the captured X-Ratelimit-Remaining with the
// flag.
func TestRateHeaderCaseOnTheWire(t *testing.T) {
	s, ts := newTestServer(t, Config{Accounts: 1, Servers: 1})
	acct := s.Accounts()[0]
	ss := login(t, s, ts, acct.Username)
	raw := func() string {
		u, _ := url.Parse(ss.base + "/limits")
		conn, err := net.Dial("tcp", u.Host)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nX-Auth-Token: %s\r\nConnection: close\r\n\r\n", u.Path, u.Host, ss.token)
		var head strings.Builder
		sc := bufio.NewScanner(conn)
		for sc.Scan() && sc.Text() != "" {
			head.WriteString(sc.Text() + "\n")
		}
		return head.String()
	}
	if h := raw(); !strings.Contains(h, "\nX-RateLimit-Used: 1\n") || !strings.Contains(h, "\nX-RateLimit-Limit: 50000\n") {
		t.Errorf("default headers:\n%s", h)
	}
	s.SetFault(acct.Username, Fault{RemainingHeader: true})
	if h := raw(); !strings.Contains(h, "\nX-Ratelimit-Remaining: 49998\n") || !strings.Contains(h, "\nX-Ratelimit-Window: 24 hours\n") || strings.Contains(h, "Used") {
		t.Errorf("remaining headers:\n%s", h)
	}
}

func TestLimitsShape(t *testing.T) {
	s, ts := newTestServer(t, Config{Accounts: 1, Servers: 1})
	ss := login(t, s, ts, s.Accounts()[0].Username)
	_, body := ss.call(t, http.MethodGet, "/limits", "")
	var v map[string]map[string]json.RawMessage
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	if len(v) != 2 || string(v["resource"]["checks"]) != "1000" || string(v["resource"]["alarms"]) != "10000" {
		t.Errorf("resource %s", body)
	}
	for _, name := range []string{"global", "test_check", "test_alarm"} {
		var r map[string]json.RawMessage
		if err := json.Unmarshal(v["rate"][name], &r); err != nil || len(r) != 3 || string(r["window"]) != `"24 hours"` || r["limit"] == nil || r["used"] == nil {
			t.Errorf("rate %s: %s", name, v["rate"][name])
		}
	}
	if string(v["rate"]["global"]) != `{"limit":50000,"used":1,"window":"24 hours"}` {
		t.Errorf("global %s", v["rate"]["global"])
	}
	if resp, body := ss.call(t, http.MethodPost, "/limits", "{}"); resp.StatusCode != 405 || decodeMonFault(t, body).Type != "methodNotAllowedError" {
		t.Errorf("POST /limits: %d %s", resp.StatusCode, body)
	}
}

func TestCountersByKind(t *testing.T) {
	s, ts := newTestServer(t, Config{Accounts: 1, Servers: 2})
	acct := s.Accounts()[0]
	ss := login(t, s, ts, acct.Username)
	for _, p := range []string{"/views/overview", "/views/overview", "/limits", "/suppressions", "/suppressions/spX", "/changelogs/alarms", "/notification_plans", "/notification_plans/npX", "/entities", "/views/latest_alarm_states"} {
		ss.call(t, http.MethodGet, p, "")
	}
	tenantClient{base: ss.base}.call(t, http.MethodGet, "/limits", "") // unauthenticated still counts
	want := Counters{Identity: 1, Overview: 2, Limits: 2, Suppressions: 2, Changelogs: 1, NotificationPlans: 2, Other: 2}
	if got := s.Counters(acct.Username); got != want {
		t.Errorf("Counters %+v, want %+v", got, want)
	}
	resp, body := do(t, must(http.NewRequest(http.MethodGet, ts.URL+"/_fake/counters?username="+acct.Username, nil)))
	var m map[string]int
	if err := json.Unmarshal(body, &m); err != nil || resp.StatusCode != 200 {
		t.Fatalf("counters: %d %s", resp.StatusCode, body)
	}
	wantJSON := map[string]int{"identity": 1, "overview": 2, "limits": 2, "suppressions": 2, "changelogs": 1, "notification_plans": 2, "metrics": 0, "plot": 0, "other": 2}
	if fmt.Sprint(m) != fmt.Sprint(wantJSON) {
		t.Errorf("/_fake/counters %v, want %v", m, wantJSON)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestFaultOnlyOneRoute(t *testing.T) {
	s, ts := newTestServer(t, Config{Accounts: 1, Servers: 2})
	acct := s.Accounts()[0]
	ss := login(t, s, ts, acct.Username)
	s.SetFault(acct.Username, Fault{MonitoringStatus: 503, Only: RouteLimits})
	if resp, body := ss.call(t, http.MethodGet, "/limits", ""); resp.StatusCode != 503 || decodeMonFault(t, body).Type != "systemFailureError" {
		t.Errorf("limits: %d %s", resp.StatusCode, body)
	}
	if resp, body := ss.get(t, ""); resp.StatusCode != 200 {
		t.Errorf("overview broken too: %d %s", resp.StatusCode, body)
	}
	s.SetFault(acct.Username, Fault{Slow: 300 * time.Millisecond, Only: RouteLimits})
	start := time.Now()
	login(t, s, ts, acct.Username)
	ss.get(t, "")
	if d := time.Since(start); d > 250*time.Millisecond {
		t.Errorf("login and overview slowed by a fault on limits: %v", d)
	}
	// Over HTTP, and a kind the fake does not know is refused.
	if resp, body := post(t, ts.URL+"/_fake/fault?username="+acct.Username+"&only=overview&truncated=1", ""); resp.StatusCode != 200 {
		t.Fatalf("fault: %d %s", resp.StatusCode, body)
	}
	if _, body := ss.get(t, ""); json.Valid(body) {
		t.Error("overview not truncated")
	}
	if resp, body := ss.call(t, http.MethodGet, "/limits", ""); resp.StatusCode != 200 || !json.Valid(body) {
		t.Errorf("limits: %d %s", resp.StatusCode, body)
	}
	if resp, _ := post(t, ts.URL+"/_fake/fault?username="+acct.Username+"&only=entities", ""); resp.StatusCode != 400 {
		t.Errorf("only=entities: %d", resp.StatusCode)
	}
}

// TestConcurrentNewRoutes runs the new calls side by side with forced
// states (run with -race).
func TestConcurrentNewRoutes(t *testing.T) {
	s, ts := newTestServer(t, Config{Accounts: 1, Servers: 20, Alarms: 3, ChangeEvery: 50 * time.Millisecond})
	acct := s.Accounts()[0]
	ss := login(t, s, ts, acct.Username)
	s.SetFault(acct.Username, Fault{SuppressionIDs: true})
	ents := s.Entities(acct.Username)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for n := range 5 {
				switch i % 4 {
				case 0:
					ss.call(t, http.MethodPost, "/suppressions", fmt.Sprintf(`{"entities":[%q],"end_time":%d}`, ents[n].ID, time.Now().Add(time.Hour).UnixMilli()))
				case 1:
					ss.call(t, http.MethodGet, "/views/overview", "")
				case 2:
					ss.call(t, http.MethodGet, "/changelogs/alarms?reverse=true", "")
				default:
					s.SetState(acct.Username, ents[n].ID, "", []string{"CRITICAL", "", "OK"}[n%3])
					s.Suppressions(acct.Username)
					s.AlarmChanges(acct.Username, time.Time{}, time.Now())
				}
			}
		})
	}
	wg.Wait()
	if len(s.Suppressions(acct.Username)) != 10 {
		t.Errorf("%d suppressions, want 10", len(s.Suppressions(acct.Username)))
	}
}
