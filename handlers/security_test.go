package handlers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"cmdash/handlers"
	"cmdash/migrations"
	"cmdash/monitoring/fakerax"
	"cmdash/monitoring/fakerax/fakeraxtest"
	"cmdash/monitoring/poller"
	"cmdash/monitoring/rackspace"
	"cmdash/monitoring/sqlite"
	"cmdash/monitoring/wall"
)

// app is the whole dashboard on loopback: a real SQLite file, the fake
// Rackspace, a poller, and the handler stack with every middleware.
type app struct {
	t      *testing.T
	srv    *httptest.Server
	store  *sqlite.Store
	fake   *fakerax.Server
	poller *poller.Poller
	dbPath string
	logs   *syncBuffer
}

// syncBuffer collects log output from concurrent goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

const (
	adminUser = "admin"
	adminPass = "correct horse battery"
)

func newApp(t *testing.T, opts handlers.Options, specs ...fakerax.AccountSpec) *app {
	t.Helper()
	ctx := context.Background()
	dbPath := filepath.Join(t.TempDir(), "dash.db")
	db, err := sqlite.OpenDB(ctx, dbPath, migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	sealer, _ := sqlite.NewSealer("a test secret that is long enough")
	store := sqlite.NewStore(db, sealer)
	fake, fts := fakeraxtest.NewServer(t, fakerax.Config{Seed: 42})
	client := rackspace.NewClient(fake.IdentityURL(fts.URL), fts.Client())
	logs := &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if opts.Metrics == nil {
		opts.Metrics = handlers.NewMetrics(store)
	}
	poller := poller.New(store, client, poller.Config{Interval: 30 * time.Second, Logger: log, Observer: opts.Metrics})
	h := handlers.New(store, wall.NewService(store, wall.Options{PollInterval: opts.PollInterval}), poller, client, log, opts)
	srv := httptest.NewServer(h.Routes())
	t.Cleanup(srv.Close)
	if _, err := store.CreateUser(ctx, adminUser, adminPass); err != nil {
		t.Fatal(err)
	}
	a := &app{t: t, srv: srv, store: store, fake: fake, poller: poller, dbPath: dbPath, logs: logs}
	for _, spec := range specs {
		acct := fake.AddAccount(spec)
		added, err := store.CreateAccount(ctx, acct.Username, "", acct.APIKey, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := poller.Poll(ctx, added.ID); err != nil {
			t.Fatalf("poll %s: %v", acct.Username, err)
		}
	}
	return a
}

// client returns an HTTP client with its own cookie jar that does not
// follow redirects.
func (a *app) client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// signedIn returns a client with a session.
func (a *app) signedIn() *http.Client {
	a.t.Helper()
	c := a.client()
	resp := a.do(c, "POST", "/login", url.Values{"username": {adminUser}, "password": {adminPass}}, nil)
	if resp.StatusCode != http.StatusSeeOther {
		a.t.Fatalf("login: %d", resp.StatusCode)
	}
	return c
}

// do sends a request; a url.Values body is a form, a string body is JSON.
func (a *app) do(c *http.Client, method, path string, body any, hdr http.Header) *http.Response {
	a.t.Helper()
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case url.Values:
		rd, ct = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
	case string:
		rd, ct = strings.NewReader(b), "application/json"
	}
	req, err := http.NewRequest(method, a.srv.URL+path, rd)
	if err != nil {
		a.t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := c.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	a.t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestEveryRouteNeedsASignIn(t *testing.T) {
	a := newApp(t, handlers.Options{}, fakerax.AccountSpec{Username: "acct", Servers: 3, Alarms: 2})
	acct, _ := a.store.AccountByUsername(context.Background(), "acct")
	srvID := a.fake.Entities("acct")[0].ID
	id := "/accounts/" + itoa(acct.ID)
	routes := []struct{ method, path string }{
		{"GET", "/"}, {"GET", id}, {"GET", id + "/servers/" + srvID}, {"POST", id + "/refresh"},
		{"GET", "/settings"}, {"POST", "/settings/accounts"}, {"POST", "/settings/accounts/" + itoa(acct.ID)},
		{"GET", "/settings/accounts/" + itoa(acct.ID) + "/delete"}, {"POST", "/settings/accounts/" + itoa(acct.ID) + "/delete"},
		{"POST", "/filters"}, {"POST", "/filters/1/delete"}, {"GET", "/settings/access"}, {"POST", "/settings/users"},
		{"POST", "/settings/tokens"}, {"POST", "/settings/password"},
		{"GET", "/api/v1/"}, {"GET", "/api/v1/accounts"}, {"POST", "/api/v1/accounts"}, {"DELETE", "/api/v1/accounts"},
		{"GET", "/api/v1/monitors"}, {"GET", "/api/v1/monitors/acct"}, {"GET", "/api/v1/monitors/acct/" + srvID},
		{"GET", "/api/v1/filters"}, {"POST", "/api/v1/filters"}, {"DELETE", "/api/v1/filters"}, {"GET", "/api/v1/events"}, {"GET", "/metrics"},
		{"POST", id + "/servers/" + srvID + "/acks"}, {"POST", "/acks/1/delete"},
		{"GET", "/api/v1/acks"}, {"POST", "/api/v1/acks"}, {"DELETE", "/api/v1/acks"},
		{"GET", "/no/such/page"},
	}
	for _, public := range []bool{false, true} {
		a := a
		if public {
			a = newApp(t, handlers.Options{PublicDashboard: true}, fakerax.AccountSpec{Username: "acct", Servers: 3, Alarms: 2})
		}
		for _, rt := range routes {
			name := rt.method + " " + rt.path
			if public {
				name = "public dashboard: " + name
			}
			t.Run(name, func(t *testing.T) {
				resp := a.do(a.client(), rt.method, rt.path, url.Values{}, nil)
				readOnlyView := rt.method == "GET" && (rt.path == "/" || strings.HasPrefix(rt.path, "/accounts/") || rt.path == "/no/such/page")
				if public && readOnlyView {
					if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNotFound {
						t.Errorf("read-only view with PUBLIC_DASHBOARD: %d", resp.StatusCode)
					}
					return
				}
				switch {
				case strings.HasPrefix(rt.path, "/api/") || rt.path == "/metrics":
					if resp.StatusCode != http.StatusUnauthorized {
						t.Errorf("status %d, want 401", resp.StatusCode)
					}
					var env map[string]string
					if err := json.NewDecoder(resp.Body).Decode(&env); err != nil || env["response"] != "error" {
						t.Errorf("API 401 body is not the error envelope: %v %v", env, err)
					}
				case rt.method == "GET":
					if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
						t.Errorf("status %d location %q, want a redirect to /login", resp.StatusCode, resp.Header.Get("Location"))
					}
				default:
					if resp.StatusCode != http.StatusUnauthorized {
						t.Errorf("status %d, want 401", resp.StatusCode)
					}
				}
			})
		}
	}
}

func TestAnExpiredSessionSendsHtmxToTheLoginPage(t *testing.T) {
	a := newApp(t, handlers.Options{})
	resp := a.do(a.client(), "GET", "/?q=web", nil, http.Header{"Hx-Request": {"true"}, "Hx-Current-Url": {a.srv.URL + "/?q=web"}})
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("status %d", resp.StatusCode)
	}
	if got := resp.Header.Get("HX-Redirect"); got != "/login?next=%2F%3Fq%3Dweb" {
		t.Errorf("HX-Redirect = %q", got)
	}
	if body := readBody(t, resp); strings.Contains(body, "<form") {
		t.Error("a login form was sent to be pasted into the grid")
	}
}

func TestSignInSignOutAndSessionCookie(t *testing.T) {
	a := newApp(t, handlers.Options{})
	c := a.client()
	resp := a.do(c, "GET", "/settings", nil, nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("before login: %d", resp.StatusCode)
	}
	// A session cookie set before login must not survive it (fixation).
	pre := a.do(c, "POST", "/login", url.Values{"username": {adminUser}, "password": {"wrong password"}}, nil)
	if pre.StatusCode != http.StatusUnauthorized || !strings.Contains(readBody(t, pre), "Wrong username or password") {
		t.Fatalf("wrong password: %d", pre.StatusCode)
	}
	resp = a.do(c, "POST", "/login", url.Values{"username": {adminUser}, "password": {adminPass}, "next": {"/settings"}}, nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/settings" {
		t.Fatalf("login: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	var session *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "dashboard_session" {
			session = ck
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteLaxMode {
		t.Fatalf("session cookie = %+v, want HttpOnly and SameSite=Lax", session)
	}
	if session.Secure {
		t.Error("cookie Secure over plain HTTP without SECURE_COOKIES")
	}
	if a.do(c, "GET", "/settings", nil, nil).StatusCode != http.StatusOK {
		t.Fatal("signed in, settings not shown")
	}
	if a.do(c, "POST", "/logout", url.Values{}, nil).StatusCode != http.StatusSeeOther {
		t.Fatal("logout failed")
	}
	if a.do(c, "GET", "/settings", nil, nil).StatusCode != http.StatusSeeOther {
		t.Error("still signed in after logout")
	}
	// Reusing the old token after logout must not work either.
	old := a.client()
	u, _ := url.Parse(a.srv.URL)
	old.Jar.SetCookies(u, []*http.Cookie{{Name: "dashboard_session", Value: session.Value}})
	if a.do(old, "GET", "/settings", nil, nil).StatusCode != http.StatusSeeOther {
		t.Error("the destroyed session token still works")
	}

	t.Run("signing in issues a new session token (no fixation)", func(t *testing.T) {
		c := a.client()
		token := func(resp *http.Response) string {
			for _, ck := range resp.Cookies() {
				if ck.Name == "dashboard_session" {
					return ck.Value
				}
			}
			return ""
		}
		first := token(a.do(c, "POST", "/login", url.Values{"username": {adminUser}, "password": {adminPass}}, nil))
		second := token(a.do(c, "POST", "/login", url.Values{"username": {adminUser}, "password": {adminPass}}, nil))
		if first == "" || second == "" || first == second {
			t.Fatalf("session token kept across sign-ins: %q then %q", first, second)
		}
		old := a.client()
		old.Jar.SetCookies(u, []*http.Cookie{{Name: "dashboard_session", Value: first}})
		if a.do(old, "GET", "/settings", nil, nil).StatusCode != http.StatusSeeOther {
			t.Error("the token from before the second sign-in still works")
		}
	})
	t.Run("an open redirect through next is refused", func(t *testing.T) {
		resp := a.do(a.client(), "POST", "/login", url.Values{"username": {adminUser}, "password": {adminPass}, "next": {"//evil.example/"}}, nil)
		if loc := resp.Header.Get("Location"); loc != "/" {
			t.Errorf("Location = %q", loc)
		}
	})
	t.Run("Secure cookies and HSTS when told so", func(t *testing.T) {
		s := newApp(t, handlers.Options{SecureCookies: true})
		resp := s.do(s.client(), "POST", "/login", url.Values{"username": {adminUser}, "password": {adminPass}}, nil)
		for _, ck := range resp.Cookies() {
			if ck.Name == "dashboard_session" && !ck.Secure {
				t.Error("cookie not Secure")
			}
		}
		if resp.Header.Get("Strict-Transport-Security") == "" {
			t.Error("no HSTS")
		}
	})
}

func TestRepeatedFailedSignInsAreSlowedDown(t *testing.T) {
	a := newApp(t, handlers.Options{})
	c := a.client()
	var last *http.Response
	for range 6 {
		last = a.do(c, "POST", "/login", url.Values{"username": {adminUser}, "password": {"guess"}}, nil)
	}
	if last.StatusCode != http.StatusTooManyRequests || last.Header.Get("Retry-After") == "" {
		t.Fatalf("sixth failure: %d", last.StatusCode)
	}
	if !strings.Contains(readBody(t, last), "Too many failed sign-ins") {
		t.Error("no clear message")
	}
	// Even the right password waits out the lock.
	if resp := a.do(c, "POST", "/login", url.Values{"username": {adminUser}, "password": {adminPass}}, nil); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("right password during the lock: %d", resp.StatusCode)
	}
}

func TestSetupOnlyWhileNoUserExists(t *testing.T) {
	ctx := context.Background()
	dbPath := filepath.Join(t.TempDir(), "d.db")
	db, err := sqlite.OpenDB(ctx, dbPath, migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sealer, _ := sqlite.NewSealer("a test secret that is long enough")
	store := sqlite.NewStore(db, sealer)
	h := handlers.New(store, wall.NewService(store, wall.Options{}), nil, nil, slog.New(slog.DiscardHandler), handlers.Options{})
	srv := httptest.NewServer(h.Routes())
	defer srv.Close()
	a := &app{t: t, srv: srv, store: store}

	if resp := a.do(a.client(), "GET", "/", nil, nil); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/setup" {
		t.Fatalf("no users: %d %q, want /setup", resp.StatusCode, resp.Header.Get("Location"))
	}
	c := a.client()
	bad := a.do(c, "POST", "/setup", url.Values{"username": {"ops"}, "password": {"short"}, "confirm": {"short"}}, nil)
	body := readBody(t, bad)
	if bad.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "at least 10") || !strings.Contains(body, `value="ops"`) {
		t.Errorf("short password: %d", bad.StatusCode)
	}
	ok := a.do(c, "POST", "/setup", url.Values{"username": {"ops"}, "password": {"long enough pw"}, "confirm": {"long enough pw"}}, nil)
	if ok.StatusCode != http.StatusSeeOther {
		t.Fatalf("setup: %d", ok.StatusCode)
	}
	if a.do(c, "GET", "/settings", nil, nil).StatusCode != http.StatusOK {
		t.Error("not signed in after setup")
	}
	if resp := a.do(a.client(), "GET", "/setup", nil, nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("setup after a user exists: %d", resp.StatusCode)
	}
	if resp := a.do(a.client(), "POST", "/setup", url.Values{"username": {"evil"}, "password": {"long enough pw"}, "confirm": {"long enough pw"}}, nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("second setup: %d", resp.StatusCode)
	}
	if n, _ := store.CountUsers(ctx); n != 1 {
		t.Errorf("users = %d", n)
	}
}

func TestCrossSiteStateChangesAreRefused(t *testing.T) {
	a := newApp(t, handlers.Options{})
	c := a.signedIn()
	for _, path := range []string{"/settings/accounts", "/filters", "/logout", "/api/v1/filters"} {
		resp := a.do(c, "POST", path, url.Values{"name": {"x"}, "query": {"y"}, "filter": {"y"}},
			http.Header{"Origin": {"https://evil.example"}, "Sec-Fetch-Site": {"cross-site"}})
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("cross-site POST %s: %d, want 403", path, resp.StatusCode)
		}
	}
	if fs, _ := a.store.ListFilters(context.Background()); len(fs) != 0 {
		t.Error("a cross-site POST changed state")
	}
	// The same POST from our own origin works.
	resp := a.do(c, "POST", "/filters", url.Values{"name": {"x"}, "query": {"y"}}, http.Header{"Origin": {a.srv.URL}, "Sec-Fetch-Site": {"same-origin"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("same-origin POST: %d", resp.StatusCode)
	}
}

func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	a := newApp(t, handlers.Options{}, fakerax.AccountSpec{Username: "acct", Servers: 2, Alarms: 1})
	c := a.signedIn()
	for _, path := range []string{"/", "/login", "/settings", "/api/v1/accounts", "/static/app.css", "/healthz", "/nope"} {
		resp := a.do(c, "GET", path, nil, nil)
		h := resp.Header
		csp := h.Get("Content-Security-Policy")
		if !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "unsafe-inline") {
			t.Errorf("%s: CSP %q", path, csp)
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "same-origin" {
			t.Errorf("%s: headers %v", path, h)
		}
	}
	// No inline script, no inline handler, no style attribute in the pages.
	for _, path := range []string{"/", "/settings", "/settings/access"} {
		doc, err := goquery.NewDocumentFromReader(a.do(c, "GET", path, nil, nil).Body)
		if err != nil {
			t.Fatal(err)
		}
		doc.Find("script").Each(func(_ int, s *goquery.Selection) {
			if src, _ := s.Attr("src"); src == "" || strings.TrimSpace(s.Text()) != "" {
				t.Errorf("%s: inline script", path)
			}
		})
		doc.Find("*").Each(func(_ int, s *goquery.Selection) {
			for _, attr := range s.Nodes[0].Attr {
				if strings.HasPrefix(attr.Key, "on") || attr.Key == "style" {
					t.Errorf("%s: inline %s attribute on <%s>", path, attr.Key, s.Nodes[0].Data)
				}
			}
		})
	}
}

func TestUpstreamStringsAreEscaped(t *testing.T) {
	payloads := []string{`<script>alert(1)</script>`, `"><img src=x onerror=alert(1)>`}
	a := newApp(t, handlers.Options{}, fakerax.AccountSpec{Username: "xss", Servers: 3, Alarms: 2, Labels: payloads})
	c := a.signedIn()
	acct, _ := a.store.AccountByUsername(context.Background(), "xss")
	ents := a.fake.Entities("xss")
	pages := []string{"/", "/accounts/" + itoa(acct.ID), "/accounts/" + itoa(acct.ID) + "/servers/" + url.PathEscape(ents[0].ID),
		"/accounts/" + itoa(acct.ID) + "/servers/" + url.PathEscape(ents[1].ID)}
	for _, p := range pages {
		resp := a.do(c, "GET", p, nil, nil)
		body := readBody(t, resp)
		if strings.Contains(body, "<script>alert") || strings.Contains(body, "<img src=x") {
			t.Errorf("%s: payload rendered as markup", p)
		}
		doc, _ := goquery.NewDocumentFromReader(strings.NewReader(body))
		if n := doc.Find("img").Length(); n != 0 {
			t.Errorf("%s: %d <img> elements injected", p, n)
		}
		doc.Find("script").Each(func(_ int, s *goquery.Selection) {
			if src, _ := s.Attr("src"); !strings.HasPrefix(src, "/static/") {
				t.Errorf("%s: foreign script %q", p, s.Text())
			}
		})
		if !strings.Contains(doc.Text(), payloads[0]) && !strings.Contains(doc.Text(), payloads[1]) {
			t.Errorf("%s: the label is not shown as text", p)
		}
	}
	// The API escapes too (as JSON text).
	body := readBody(t, a.do(c, "GET", "/api/v1/monitors/xss", nil, nil))
	if strings.Contains(body, "<script>") {
		t.Error("API body contains raw <script>")
	}
}

func TestAPIKeysNeverComeBack(t *testing.T) {
	a := newApp(t, handlers.Options{})
	c := a.signedIn()
	ctx := context.Background()
	formAcct := a.fake.AddAccount(fakerax.AccountSpec{Username: "viaform", Servers: 2, Alarms: 1})
	apiAcct := a.fake.AddAccount(fakerax.AccountSpec{Username: "viaapi", Servers: 2, Alarms: 1})

	if resp := a.do(c, "POST", "/settings/accounts", url.Values{"username": {formAcct.Username}, "apikey": {formAcct.APIKey}}, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("form add: %d %s", resp.StatusCode, readBody(t, resp))
	}
	resp := a.do(c, "POST", "/api/v1/accounts", `{"username":"viaapi","apikey":"`+apiAcct.APIKey+`","alias":"API"}`, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("api add: %d %s", resp.StatusCode, readBody(t, resp))
	}
	// A wrong key through the API is refused with Identity's words.
	resp = a.do(c, "POST", "/api/v1/accounts", url.Values{"username": {"viaapi2"}, "apikey": {"wrong-key-123"}}, nil)
	if body := readBody(t, resp); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "rejected") || strings.Contains(body, "wrong-key-123") {
		t.Errorf("wrong key via API: %d %s", resp.StatusCode, body)
	}
	for _, acct := range []string{"viaform", "viaapi"} {
		got, _ := a.store.AccountByUsername(ctx, acct)
		if err := a.poller.Poll(ctx, got.ID); err != nil {
			t.Fatalf("poll %s: %v", acct, err)
		}
	}

	keys := []string{formAcct.APIKey, apiAcct.APIKey}
	check := func(where, text string) {
		t.Helper()
		for _, k := range keys {
			if strings.Contains(text, k) {
				t.Errorf("%s contains an API key", where)
			}
		}
	}
	formID, _ := a.store.AccountByUsername(ctx, "viaform")
	for _, p := range []string{"/", "/settings", "/settings/access", "/accounts/" + itoa(formID.ID), "/settings/accounts/" + itoa(formID.ID) + "/delete",
		"/api/v1/accounts", "/api/v1/monitors", "/api/v1/monitors/viaform", "/api/v1/filters", "/metrics"} {
		check(p, readBody(t, a.do(c, "GET", p, nil, nil)))
	}
	check("the log", a.logs.String())
	if _, err := a.store.DB().ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)"); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{a.dbPath, a.dbPath + "-wal"} {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		check(filepath.Base(f), string(data))
	}
}

func TestAPITokensAuthenticateAndRevoke(t *testing.T) {
	a := newApp(t, handlers.Options{}, fakerax.AccountSpec{Username: "acct", Servers: 2, Alarms: 1})
	c := a.signedIn()
	body := readBody(t, a.do(c, "POST", "/settings/tokens", url.Values{"name": {"bot"}}, nil))
	doc, _ := goquery.NewDocumentFromReader(strings.NewReader(body))
	token := strings.TrimSpace(doc.Find("#new-token").Text())
	if !strings.HasPrefix(token, "cmd_") {
		t.Fatalf("no token shown: %q", token)
	}
	bearer := http.Header{"Authorization": {"Bearer " + token}}
	if resp := a.do(a.client(), "GET", "/api/v1/accounts", nil, bearer); resp.StatusCode != http.StatusOK {
		t.Fatalf("bearer token refused: %d", resp.StatusCode)
	}
	// The token is shown once: the settings page lists only its prefix.
	if strings.Contains(readBody(t, a.do(c, "GET", "/settings/access", nil, nil)), token) {
		t.Error("the token is shown again")
	}
	var stored int
	_ = a.store.DB().QueryRow(`SELECT count(*) FROM api_tokens WHERE token_hash = ?`, token).Scan(&stored)
	if stored != 0 {
		t.Error("the token is stored in plain text")
	}
	toks, _ := a.store.ListAPITokens(context.Background())
	if resp := a.do(c, "POST", "/settings/tokens/"+itoa(toks[0].ID)+"/delete", url.Values{}, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
	if resp := a.do(a.client(), "GET", "/api/v1/accounts", nil, bearer); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("revoked token still works: %d", resp.StatusCode)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestRedirectTargetsStayOnThisSite(t *testing.T) {
	a := newApp(t, handlers.Options{})
	for _, next := range []string{"//evil.example/", "/\\evil.example", "/\t/evil.example", "/\n/evil.example", "https://evil.example/",
		"javascript:alert(1)", "evil.example", "/%2F%2Fevil.example"} {
		resp := a.do(a.client(), "POST", "/login", url.Values{"username": {adminUser}, "password": {adminPass}, "next": {next}}, nil)
		loc := resp.Header.Get("Location")
		if loc != "/" && loc != next {
			t.Errorf("next %q: Location %q", next, loc)
		}
		if strings.HasPrefix(loc, "//") || strings.Contains(loc, "evil.example") && !strings.HasPrefix(loc, "/%2F") {
			t.Errorf("next %q leads off site: Location %q", next, loc)
		}
	}
	resp := a.do(a.client(), "POST", "/login", url.Values{"username": {adminUser}, "password": {adminPass}, "next": {"/accounts/1?q=web"}}, nil)
	if loc := resp.Header.Get("Location"); loc != "/accounts/1?q=web" {
		t.Errorf("a local next was not kept: %q", loc)
	}
}

func TestParallelGuessesAreThrottledToo(t *testing.T) {
	a := newApp(t, handlers.Options{})
	var wg sync.WaitGroup
	codes := make(chan int, 20)
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("POST", a.srv.URL+"/login", strings.NewReader(url.Values{"username": {adminUser}, "password": {"guess"}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := a.client().Do(req)
			if err != nil {
				return
			}
			resp.Body.Close()
			codes <- resp.StatusCode
		}()
	}
	wg.Wait()
	close(codes)
	checked := 0
	for c := range codes {
		if c == http.StatusUnauthorized {
			checked++
		}
	}
	if checked > 5 {
		t.Errorf("%d of 20 parallel guesses reached the password check, want at most 5", checked)
	}
}

func TestRemovedUsersAndChangedPasswordsEndSessions(t *testing.T) {
	a := newApp(t, handlers.Options{})
	ctx := context.Background()
	if _, err := a.store.CreateUser(ctx, "mallory", "mallory's password"); err != nil {
		t.Fatal(err)
	}
	mallory := a.client()
	if resp := a.do(mallory, "POST", "/login", url.Values{"username": {"mallory"}, "password": {"mallory's password"}}, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatal("mallory cannot sign in")
	}
	admin := a.signedIn()
	other := a.signedIn() // the admin on a second screen

	u, _ := a.store.UserByName(ctx, "mallory")
	if resp := a.do(admin, "POST", "/settings/users/"+itoa(u.ID)+"/delete", url.Values{}, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("remove mallory: %d", resp.StatusCode)
	}
	if resp := a.do(mallory, "GET", "/settings", nil, nil); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("a removed user's session still opens settings: %d", resp.StatusCode)
	}

	resp := a.do(admin, "POST", "/settings/password", url.Values{"current": {adminPass}, "password": {"a brand new password"}, "confirm": {"a brand new password"}}, nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("change password: %d %s", resp.StatusCode, readBody(t, resp))
	}
	if resp := a.do(admin, "GET", "/settings", nil, nil); resp.StatusCode != http.StatusOK {
		t.Errorf("the session that changed the password was signed out: %d", resp.StatusCode)
	}
	if resp := a.do(other, "GET", "/settings", nil, nil); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("another session survived the password change: %d", resp.StatusCode)
	}
}

func TestAPIKeysAreNotTakenFromTheURL(t *testing.T) {
	a := newApp(t, handlers.Options{})
	acct := a.fake.AddAccount(fakerax.AccountSpec{Username: "inurl", Servers: 1, Alarms: 1})
	resp := a.do(a.signedIn(), "POST", "/api/v1/accounts?username=inurl&apikey="+acct.APIKey, url.Values{}, nil)
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("an add with the key in the query string: %d, want 400", resp.StatusCode)
	}
}

func TestFailedSignInsAreCountedPerAddress(t *testing.T) {
	a := newApp(t, handlers.Options{})
	c := a.client()
	// An address may fail 20 times (people behind one office address mistype
	// too); one spraying usernames is slowed down after that, and signing in
	// to an account of its own on the way does not clear its count.
	for i := range 19 {
		a.do(c, "POST", "/login", url.Values{"username": {"nobody" + strconv.Itoa(i)}, "password": {"guess"}}, nil)
	}
	if resp := a.do(c, "POST", "/login", url.Values{"username": {adminUser}, "password": {adminPass}}, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the right password after 19 failures from the address: %d, want 303", resp.StatusCode)
	}
	a.do(c, "POST", "/login", url.Values{"username": {"nobody19"}, "password": {"guess"}}, nil)
	resp := a.do(c, "POST", "/login", url.Values{"username": {adminUser}, "password": {adminPass}}, nil)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("after 20 failures from one address with 20 usernames: %d, want 429", resp.StatusCode)
	}
	if body := readBody(t, resp); !strings.Contains(body, "Too many failed sign-ins from your address") {
		t.Errorf("the message does not say the address is what is throttled:\n%s", body)
	}
}

// from is a request header naming the client's address, as Fly's proxy does.
func from(ip string) http.Header { return http.Header{"Fly-Client-Ip": {ip}} }

func TestGuessingAPasswordDoesNotLockOutItsUser(t *testing.T) {
	a := newApp(t, handlers.Options{TrustProxy: true})
	login := func(ip, password string) *http.Response {
		t.Helper()
		return a.do(a.client(), "POST", "/login", url.Values{"username": {adminUser}, "password": {password}}, from(ip))
	}
	// One address guesses the admin's password until it is held back, and
	// three more make five guesses each.
	var last *http.Response
	for range 6 {
		last = login("203.0.113.7", "guess")
	}
	if last.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("the sixth guess from one address: %d, want 429", last.StatusCode)
	}
	if body := readBody(t, last); !strings.Contains(body, "Too many failed sign-ins for this user from your address") {
		t.Errorf("the message does not say what is throttled:\n%s", body)
	}
	for _, ip := range []string{"203.0.113.8", "203.0.113.9", "203.0.113.10"} {
		for range 5 {
			login(ip, "guess")
		}
	}

	t.Run("the right password from an address that is not guessing signs in", func(t *testing.T) {
		if resp := login("198.51.100.2", adminPass); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("the admin from a clean address: %d, want 303", resp.StatusCode)
		}
	})
	t.Run("a typo from that address is an ordinary failure", func(t *testing.T) {
		if resp := login("198.51.100.3", "typo"); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("one wrong password from a clean address: %d, want 401", resp.StatusCode)
		}
	})
	t.Run("the guessing address still waits, the right password included", func(t *testing.T) {
		if resp := login("203.0.113.7", adminPass); resp.StatusCode != http.StatusTooManyRequests {
			t.Errorf("the right password from the guessing address: %d, want 429", resp.StatusCode)
		}
	})
}

func TestAnIPv6HostIsCountedByItsSlash64(t *testing.T) {
	a := newApp(t, handlers.Options{TrustProxy: true})
	login := func(ip, password string) *http.Response {
		t.Helper()
		return a.do(a.client(), "POST", "/login", url.Values{"username": {adminUser}, "password": {password}}, from(ip))
	}
	// A host holding 2001:db8:1:2::/64 guesses from a new address each time.
	for i := range 5 {
		login("2001:db8:1:2::"+strconv.Itoa(i+1), "guess")
	}
	if resp := login("2001:db8:1:2:ffff::6", "guess"); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("the sixth guess from one /64: %d, want 429", resp.StatusCode)
	}
	if resp := login("2001:db8:1:3::1", adminPass); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("the right password from the next /64: %d, want 303", resp.StatusCode)
	}
}
