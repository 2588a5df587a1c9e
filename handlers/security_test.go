package handlers_test

import (
	"bytes"
	"context"
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

	"golang.org/x/crypto/bcrypt"

	"github.com/PuerkitoBio/goquery"

	"cmdash/handlers"
	"cmdash/migrations"
	"cmdash/monitoring"
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
	store.SetPasswordCost(bcrypt.MinCost) // cheap in tests; production keeps the default (see package sqlite)
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
	if _, err := store.CreateUser(ctx, adminUser, adminPass, monitoring.Admin); err != nil {
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

func TestCrossSiteStateChangesAreRefused(t *testing.T) {
	t.Parallel()
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
	t.Parallel()
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
	t.Parallel()
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
	t.Parallel()
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
	t.Parallel()
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

func TestAPIKeysAreNotTakenFromTheURL(t *testing.T) {
	t.Parallel()
	a := newApp(t, handlers.Options{})
	acct := a.fake.AddAccount(fakerax.AccountSpec{Username: "inurl", Servers: 1, Alarms: 1})
	resp := a.do(a.signedIn(), "POST", "/api/v1/accounts?username=inurl&apikey="+acct.APIKey, url.Values{}, nil)
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("an add with the key in the query string: %d, want 400", resp.StatusCode)
	}
}
