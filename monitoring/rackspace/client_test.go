package rackspace_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"cmdash/monitoring"
	"cmdash/monitoring/fakerax"
	"cmdash/monitoring/fakerax/fakeraxtest"
	"cmdash/monitoring/rackspace"
)

// newFake starts the fake with one account and returns a client for it.
func newFake(t *testing.T, cfg fakerax.Config) (*fakerax.Server, *rackspace.Client, monitoring.Credentials) {
	t.Helper()
	if cfg.Accounts == 0 {
		cfg.Accounts = 1
	}
	fake, ts := fakeraxtest.NewServer(t, cfg)
	c := rackspace.NewClient(fake.IdentityURL(ts.URL), ts.Client())
	a := fake.Accounts()[0]
	return fake, c, monitoring.Credentials{Username: a.Username, APIKey: a.APIKey}
}

// pages is a monitoring.PageSink keeping a copy of every server it is
// handed, and counting the pages.
type pages struct {
	n       int
	servers []monitoring.Server
}

func (p *pages) Page(servers []monitoring.Server) {
	p.n++
	p.servers = append(p.servers, servers...)
}

// fetch is c.FetchInto, as the poller calls it, into a sink that keeps the
// servers.
func fetch(ctx context.Context, c *rackspace.Client, cr monitoring.Credentials, cached *monitoring.Token) (monitoring.FetchResult, *pages, error) {
	got := new(pages)
	res, err := c.FetchInto(ctx, cr, cached, got)
	return res, got, err
}

func TestFetchReadsEveryPage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		servers int
		pages   int
	}{
		{"an account with no servers is one empty page", 0, 1},
		{"250 servers fit one page at limit 1000", 250, 1},
		{"2500 servers take three pages, following next_marker even when next_href is null", 2500, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, ts := fakeraxtest.NewServer(t, fakerax.Config{Seed: 7})
			acct := fake.AddAccount(fakerax.AccountSpec{Username: "big", Servers: tt.servers, Alarms: 2})
			c := rackspace.NewClient(fake.IdentityURL(ts.URL), ts.Client())
			res, got, err := fetch(context.Background(), c, monitoring.Credentials{Username: acct.Username, APIKey: acct.APIKey}, nil)
			if err != nil {
				t.Fatalf("FetchInto: %v", err)
			}
			if len(got.servers) != tt.servers {
				t.Errorf("got %d entities, want %d", len(got.servers), tt.servers)
			}
			if res.Pages != tt.pages || got.n != tt.pages {
				t.Errorf("walked %d pages and handed over %d, want %d", res.Pages, got.n, tt.pages)
			}
			seen := map[string]bool{}
			for _, v := range got.servers {
				if seen[v.ID] {
					t.Fatalf("entity %s served twice", v.ID)
				}
				seen[v.ID] = true
			}
			for _, e := range fake.Entities("big") {
				if !seen[e.ID] {
					t.Errorf("entity %s missing from the walk", e.ID)
				}
			}
		})
	}
}

func TestAuthenticatePicksTheCloudMonitoringEndpoint(t *testing.T) {
	t.Parallel()
	// The fake lists another rax:monitor service before cloudMonitoring;
	// taking it would make every overview call 404.
	_, c, cr := newFake(t, fakerax.Config{Servers: 3, Seed: 1})
	tok, err := c.Authenticate(context.Background(), cr)
	if err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
	if !strings.Contains(tok.Endpoint, "/v1.0/") || strings.Contains(tok.Endpoint, "/control/") {
		t.Errorf("endpoint = %q, want the cloudMonitoring one", tok.Endpoint)
	}
	if tok.TenantID == "" || tok.ID == "" {
		t.Errorf("token %+v lacks id or tenant", tok)
	}
	if until := time.Until(tok.Expires); until < 23*time.Hour || until > 25*time.Hour {
		t.Errorf("expires in %s, want about 24h (offset and fraction parsed)", until)
	}
}

func TestCatalogFallbacks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		catalog  string
		want     string
		fallback bool
	}{
		{"the entry named cloudMonitoring wins over an earlier rax:monitor",
			`[{"name":"other","type":"rax:monitor","endpoints":[{"publicURL":"https://x/other"}]},{"name":"cloudMonitoring","type":"rax:monitor","endpoints":[{"tenantId":"9","publicURL":"https://m/v1.0/9"}]}]`,
			"https://m/v1.0/9", false},
		{"without that name the first rax:monitor is used",
			`[{"name":"cloudServersOpenStack","type":"compute","endpoints":[{"publicURL":"https://s"}]},{"name":"mon","type":"rax:monitor","endpoints":[{"publicURL":"https://mon/v1.0/9/"}]}]`,
			"https://mon/v1.0/9", false},
		{"without any monitoring entry the documented URL with the tenant",
			`[{"name":"cloudServersOpenStack","type":"compute","endpoints":[{"publicURL":"https://s"}]}]`,
			"https://monitoring.api.rackspacecloud.com/v1.0/9", true},
		{"a missing catalog falls back too", `null`, "https://monitoring.api.rackspacecloud.com/v1.0/9", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(`{"access":{"token":{"id":"t","expires":"2030-01-02T03:04:05-06:00","tenant":{"id":"9","name":"9"}},"serviceCatalog":` + tt.catalog + `}}`))
			}))
			defer ts.Close()
			tok, err := rackspace.NewClient(ts.URL, nil).Authenticate(context.Background(), monitoring.Credentials{Username: "u", APIKey: "k"})
			if err != nil {
				t.Fatalf("Authenticate: %v", err)
			}
			if tok.Endpoint != tt.want || tok.FallbackEndpoint != tt.fallback {
				t.Errorf("endpoint = %q (fallback %v), want %q (fallback %v)", tok.Endpoint, tok.FallbackEndpoint, tt.want, tt.fallback)
			}
		})
	}
}

func TestCachedTokenIsReusedAndA401ReauthenticatesExactlyOnce(t *testing.T) {
	t.Parallel()
	fake, c, cr := newFake(t, fakerax.Config{Servers: 5, Seed: 3})
	ctx := context.Background()

	first, _, err := fetch(ctx, c, cr, nil)
	if err != nil {
		t.Fatalf("first fetch: %v", err)
	}
	if first.LoggedIn != 1 {
		t.Fatalf("first fetch logged in %d times, want 1", first.LoggedIn)
	}
	second, _, err := fetch(ctx, c, cr, &first.Token)
	if err != nil {
		t.Fatalf("second fetch: %v", err)
	}
	if second.LoggedIn != 0 || fake.Counters(cr.Username).Identity != 1 {
		t.Fatalf("a fresh cached token was not reused: logins=%d identity calls=%d", second.LoggedIn, fake.Counters(cr.Username).Identity)
	}

	fake.RevokeTokens(cr.Username)
	before := fake.Counters(cr.Username)
	third, got, err := fetch(ctx, c, cr, &second.Token)
	if err != nil {
		t.Fatalf("fetch after revocation: %v", err)
	}
	after := fake.Counters(cr.Username)
	if got := after.Identity - before.Identity; got != 1 {
		t.Errorf("revoked token caused %d logins, want exactly 1", got)
	}
	if got := after.Overview - before.Overview; got != 2 {
		t.Errorf("revoked token caused %d overview calls, want 2 (the 401 and the retry)", got)
	}
	if third.Token.ID == second.Token.ID || len(got.servers) != 5 {
		t.Errorf("retry did not use the new token or lost data: %+v", third.Token)
	}
}

func TestAnExpiringTokenIsRenewedBeforeUse(t *testing.T) {
	t.Parallel()
	fake, c, cr := newFake(t, fakerax.Config{Servers: 1, Seed: 3})
	stale := &monitoring.Token{ID: "old", TenantID: "x", Endpoint: "http://127.0.0.1:1/v1.0/x", Expires: time.Now().Add(2 * time.Minute)}
	res, _, err := fetch(context.Background(), c, cr, stale)
	if err != nil {
		t.Fatalf("fetch: %v", err)
	}
	if res.LoggedIn != 1 || fake.Counters(cr.Username).Identity != 1 {
		t.Errorf("a token two minutes from expiry was used instead of logging in")
	}
}

func TestUpstreamFaultsBecomeTypedErrors(t *testing.T) {
	t.Parallel()
	type check func(t *testing.T, err error, c fakerax.Counters)
	is := func(target any) check {
		return func(t *testing.T, err error, _ fakerax.Counters) {
			t.Helper()
			if !errors.As(err, target) {
				t.Fatalf("error %T %v is not %T", err, err, target)
			}
		}
	}
	retry := func(want time.Duration) check {
		return func(t *testing.T, err error, _ fakerax.Counters) {
			t.Helper()
			var thr *rackspace.ThrottledError
			if !errors.As(err, &thr) {
				t.Fatalf("error %T %v is not throttling", err, err)
			}
			if thr.RetryAfter() != want {
				t.Errorf("RetryAfter = %s, want %s", thr.RetryAfter(), want)
			}
		}
	}
	calls := func(identity, overview int) check {
		return func(t *testing.T, _ error, c fakerax.Counters) {
			t.Helper()
			if c.Identity != identity || c.Overview != overview {
				t.Errorf("calls identity=%d overview=%d, want %d and %d", c.Identity, c.Overview, identity, overview)
			}
		}
	}
	tests := []struct {
		name    string
		fault   fakerax.Fault
		wrong   bool // use a wrong API key
		timeout time.Duration
		checks  []check
	}{
		{name: "a wrong API key is bad credentials and no overview call", wrong: true,
			checks: []check{is(new(*rackspace.AuthError)), calls(1, 0)}},
		{name: "a disabled user is forbidden", fault: fakerax.Fault{IdentityStatus: 403},
			checks: []check{is(new(*rackspace.ForbiddenError))}},
		{name: "identity 413 overLimit is throttling", fault: fakerax.Fault{IdentityStatus: 413, RetryAfter: 5 * time.Second},
			checks: []check{retry(5 * time.Second)}},
		{name: "identity 503 is unavailable", fault: fakerax.Fault{IdentityStatus: 503},
			checks: []check{is(new(*rackspace.UnavailableError))}},
		{name: "a monitoring 401 that persists re-authenticates once, then gives up", fault: fakerax.Fault{MonitoringStatus: 401},
			checks: []check{is(new(*rackspace.AuthError)), calls(2, 2)}},
		{name: "monitoring 403 is forbidden", fault: fakerax.Fault{MonitoringStatus: 403},
			checks: []check{is(new(*rackspace.ForbiddenError))}},
		{name: "429 with Retry-After is throttling for that long", fault: fakerax.Fault{MonitoringStatus: 429, RetryAfter: 7 * time.Second},
			checks: []check{retry(7 * time.Second)}},
		{name: "the documented Reply-After spelling is honoured", fault: fakerax.Fault{MonitoringStatus: 429, RetryAfter: 9 * time.Second, ReplyAfter: true},
			checks: []check{retry(9 * time.Second)}},
		{name: "400 limitReached is throttling", fault: fakerax.Fault{MonitoringStatus: 400},
			checks: []check{retry(0)}},
		{name: "413 is throttling", fault: fakerax.Fault{MonitoringStatus: 413, RetryAfter: 3 * time.Second},
			checks: []check{retry(3 * time.Second)}},
		{name: "500 is unavailable", fault: fakerax.Fault{MonitoringStatus: 500},
			checks: []check{is(new(*rackspace.UnavailableError))}},
		{name: "503 is unavailable", fault: fakerax.Fault{MonitoringStatus: 503},
			checks: []check{is(new(*rackspace.UnavailableError))}},
		{name: "404 is a plain API error", fault: fakerax.Fault{MonitoringStatus: 404},
			checks: []check{is(new(*rackspace.APIError))}},
		{name: "an HTML body is a bad response", fault: fakerax.Fault{NonJSON: true},
			checks: []check{is(new(*rackspace.BadResponseError))}},
		{name: "a truncated body is a bad response", fault: fakerax.Fault{Truncated: true},
			checks: []check{is(new(*rackspace.BadResponseError))}},
		{name: "a slow upstream times out as unavailable", fault: fakerax.Fault{Slow: 3 * time.Second}, timeout: 200 * time.Millisecond,
			checks: []check{is(new(*rackspace.UnavailableError))}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, c, cr := newFake(t, fakerax.Config{Servers: 3, Seed: 11})
			fake.SetFault(cr.Username, tt.fault)
			if tt.wrong {
				cr.APIKey = "not-the-key"
			}
			if tt.timeout > 0 {
				c.Timeout = tt.timeout
			}
			_, got, err := fetch(context.Background(), c, cr, nil)
			if err == nil {
				t.Fatalf("no error; got %d servers", len(got.servers))
			}
			if strings.Contains(err.Error(), cr.APIKey) {
				t.Errorf("error text contains the API key: %v", err)
			}
			for _, ch := range tt.checks {
				ch(t, err, fake.Counters(cr.Username))
			}
		})
	}
}

func TestAFailingSecondPageFailsTheWholeWalk(t *testing.T) {
	t.Parallel()
	fake, ts := fakeraxtest.NewServer(t, fakerax.Config{Seed: 2})
	acct := fake.AddAccount(fakerax.AccountSpec{Username: "paged", Servers: 1500, Alarms: 1})
	fake.SetFault("paged", fakerax.Fault{FailPage: 2})
	c := rackspace.NewClient(fake.IdentityURL(ts.URL), ts.Client())
	res, got, err := fetch(context.Background(), c, monitoring.Credentials{Username: "paged", APIKey: acct.APIKey}, nil)
	var un *rackspace.UnavailableError
	if !errors.As(err, &un) || un.Status != 500 {
		t.Fatalf("err = %v, want 500 unavailable", err)
	}
	if res.Pages != 1 || got.n != 1 {
		t.Errorf("pages = %d, %d handed over, want the walk to stop after page 1", res.Pages, got.n)
	}
}

func TestAnUnreachableUpstreamIsUnavailable(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	_, err = rackspace.NewClient("http://"+addr+"/v2.0", nil).Authenticate(context.Background(), monitoring.Credentials{Username: "u", APIKey: "k"})
	var un *rackspace.UnavailableError
	if !errors.As(err, &un) || un.Status != 0 {
		t.Fatalf("err = %v, want unreachable", err)
	}
}

func TestRateLimitHeadersAreReadInBothSpellings(t *testing.T) {
	t.Parallel()
	for _, remaining := range []bool{false, true} {
		fake, c, cr := newFake(t, fakerax.Config{Servers: 2, Seed: 5})
		fake.SetFault(cr.Username, fakerax.Fault{RemainingHeader: remaining})
		res, _, err := fetch(context.Background(), c, cr, nil)
		if err != nil {
			t.Fatal(err)
		}
		rl := res.RateLimit
		if !rl.Known || rl.Limit != 50000 || rl.Used+rl.Remaining != 50000 || rl.Used < 1 {
			t.Errorf("remaining header=%v: rate limit %+v", remaining, rl)
		}
	}
}

func TestOversizedBodiesAndEndlessPagingAreRefused(t *testing.T) {
	t.Parallel()
	t.Run("a body over the cap is a bad response", func(t *testing.T) {
		_, c, cr := newFake(t, fakerax.Config{Servers: 50, Seed: 5})
		c.MaxBody = 1024
		_, _, err := fetch(context.Background(), c, cr, nil)
		var bad *rackspace.BadResponseError
		if !errors.As(err, &bad) {
			t.Fatalf("err = %v, want bad response", err)
		}
	})
	t.Run("a repeated marker stops the walk", func(t *testing.T) {
		ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost {
				_, _ = w.Write([]byte(`{"access":{"token":{"id":"t","expires":"2099-01-01T00:00:00.000-06:00","tenant":{"id":"1"}},"serviceCatalog":[{"name":"cloudMonitoring","type":"rax:monitor","endpoints":[{"publicURL":"http://` + r.Host + `/v1.0/1"}]}]}}`))
				return
			}
			_, _ = w.Write([]byte(`{"values":[{"entity":{"id":"enA"},"checks":[],"alarms":[],"latest_alarm_states":[]}],"metadata":{"count":1,"limit":1000,"marker":null,"next_marker":"enA","next_href":null}}`))
		}))
		defer ts.Close()
		_, _, err := fetch(context.Background(), rackspace.NewClient(ts.URL, nil), monitoring.Credentials{Username: "u", APIKey: "k"}, nil)
		var bad *rackspace.BadResponseError
		if !errors.As(err, &bad) || !strings.Contains(err.Error(), "repeats marker") {
			t.Fatalf("err = %v, want a repeated-marker bad response", err)
		}
	})
}

func TestABodyCutOffByTheConnectionIsUnavailable(t *testing.T) {
	t.Parallel()
	// The body is read as it is decoded; a connection that breaks halfway
	// is the network's fault (retry), not a bad response.
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			_, _ = w.Write([]byte(`{"access":{"token":{"id":"t","expires":"2099-01-01T00:00:00.000-06:00","tenant":{"id":"1"}},"serviceCatalog":[{"name":"cloudMonitoring","type":"rax:monitor","endpoints":[{"publicURL":"http://` + r.Host + `/v1.0/1"}]}]}}`))
			return
		}
		w.Header().Set("Content-Length", "100000")
		_, _ = w.Write([]byte(`{"values":[{"entity":{"id":"enA"},"checks":[],"alarms":[],"latest_alarm_states":[]},`))
	}))
	defer ts.Close()
	_, _, err := fetch(context.Background(), rackspace.NewClient(ts.URL, nil), monitoring.Credentials{Username: "u", APIKey: "k"}, nil)
	var un *rackspace.UnavailableError
	if !errors.As(err, &un) || un.Status != http.StatusOK {
		t.Fatalf("err = %v, want unavailable after a 200", err)
	}
}
