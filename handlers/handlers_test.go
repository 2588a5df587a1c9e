package handlers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/PuerkitoBio/goquery"

	"cmdash/migrations"
	"cmdash/monitoring"
	"cmdash/monitoring/fakerax"
	"cmdash/monitoring/fakerax/fakeraxtest"
	"cmdash/monitoring/poller"
	"cmdash/monitoring/rackspace"
	"cmdash/monitoring/sqlite"
	"cmdash/monitoring/wall"
)

// testSecret seals API keys in the test databases.
const testSecret = "handlers-test-secret-0123456789abcdef"

// pollInterval is the poll interval every test handler is configured with.
const pollInterval = 30 * time.Second

// The dashboard needs a signed-in user. bcrypt makes creating one slow (about
// a second under -race), so one template database with a user and an API
// token is made once and copied for every test.
const (
	testUser     = "tester"
	testPassword = "correct horse battery staple"
)

var fixture struct {
	once      sync.Once
	dir, path string
	token     string
	err       error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if fixture.dir != "" {
		os.RemoveAll(fixture.dir)
	}
	os.Exit(code)
}

func templateDB(t *testing.T) (path, token string) {
	t.Helper()
	fixture.once.Do(func() {
		ctx := context.Background()
		fail := func(err error) { fixture.err = err }
		dir, err := os.MkdirTemp("", "handlers-test-")
		if err != nil {
			fail(err)
			return
		}
		fixture.dir, fixture.path = dir, filepath.Join(dir, "template.db")
		db, err := sqlite.OpenDB(ctx, fixture.path, migrations.FS)
		if err != nil {
			fail(err)
			return
		}
		defer db.Close() // checkpoints the WAL into the file
		sealer, err := sqlite.NewSealer(testSecret)
		if err != nil {
			fail(err)
			return
		}
		store := sqlite.NewStore(db, sealer)
		store.SetPasswordCost(bcrypt.MinCost) // cheap in tests; production keeps the default (see package sqlite)
		u, err := store.CreateUser(ctx, testUser, testPassword, monitoring.Admin)
		if err != nil {
			fail(err)
			return
		}
		fixture.token, _, fixture.err = store.CreateAPIToken(ctx, u.ID, "handlers tests", monitoring.NoRole)
	})
	if fixture.err != nil {
		t.Fatalf("template database: %v", fixture.err)
	}
	return fixture.path, fixture.token
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
}

// testEnv is a handler set wired to a real SQLite file, a real poller and a
// fake Rackspace on loopback. Requests carry the test user's API token
// unless made with anonymous.
type testEnv struct {
	t      *testing.T
	ctx    context.Context
	dbPath string
	token  string
	store  *sqlite.Store
	fake   *fakerax.Server
	client *rackspace.Client
	poller *poller.Poller
	log    *slog.Logger
	h      *Handler
}

// removeEveryUser brings the dashboard back to its first run (the store
// never removes the last admin, so this goes round it).
func (e *testEnv) removeEveryUser() {
	e.t.Helper()
	if _, err := e.store.DB().ExecContext(e.ctx, `DELETE FROM users`); err != nil {
		e.t.Fatal(err)
	}
}

func newTestEnv(t *testing.T) *testEnv {
	t.Helper()
	ctx := t.Context()
	tmpl, token := templateDB(t)
	path := filepath.Join(t.TempDir(), "dashboard.db")
	copyFile(t, tmpl, path)
	db, err := sqlite.OpenDB(ctx, path, migrations.FS)
	if err != nil {
		t.Fatalf("open database: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	sealer, err := sqlite.NewSealer(testSecret)
	if err != nil {
		t.Fatalf("sealer: %v", err)
	}
	store := sqlite.NewStore(db, sealer)
	store.SetPasswordCost(bcrypt.MinCost) // cheap in tests; production keeps the default (see package sqlite)
	// ChangeEvery 0: alarm states never change, so what the fake serves now
	// is what a poll stored a moment ago.
	fake, ts := fakeraxtest.NewServer(t, fakerax.Config{Seed: 7})
	client := rackspace.NewClient(fake.IdentityURL(ts.URL), ts.Client())
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	poller := poller.New(store, client, poller.Config{Interval: pollInterval, Logger: log})
	h := newHandler(store, poller, client, log, Options{PollInterval: pollInterval})
	return &testEnv{t: t, ctx: ctx, dbPath: path, token: token, store: store, fake: fake, client: client, poller: poller, log: log, h: h}
}

// newHandler is New with a wall read model of its own, whose clock is the
// handler's (tests move h.now to age the data).
func newHandler(store *sqlite.Store, poller Refresher, client CredentialChecker, log *slog.Logger, opts Options) *Handler {
	model := wall.NewService(store, wall.Options{PollInterval: opts.PollInterval})
	h := New(store, model, poller, client, log, opts)
	model.SetClock(func() time.Time { return h.now() })
	return h
}

// upstream adds an account to the fake Rackspace only.
func (e *testEnv) upstream(spec fakerax.AccountSpec) fakerax.Account {
	return e.fake.AddAccount(spec)
}

// addAccount stores an account the way the settings form would, without a
// cached token.
func (e *testEnv) addAccount(up fakerax.Account, alias string) monitoring.Account {
	e.t.Helper()
	a, err := e.store.CreateAccount(e.ctx, up.Username, alias, up.APIKey, nil)
	if err != nil {
		e.t.Fatalf("create account %s: %v", up.Username, err)
	}
	return a
}

func (e *testEnv) poll(id int64) {
	e.t.Helper()
	if err := e.poller.Poll(e.ctx, id); err != nil {
		e.t.Fatalf("poll account %d: %v", id, err)
	}
}

// do serves req as the signed-in test user (by API token).
func (e *testEnv) do(req *http.Request) *httptest.ResponseRecorder {
	req.Header.Set("Authorization", "Bearer "+e.token)
	return e.anonymous(req)
}

// anonymous serves req as is.
func (e *testEnv) anonymous(req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	e.h.Routes().ServeHTTP(rec, req)
	return rec
}

func (e *testEnv) get(path string) *httptest.ResponseRecorder {
	return e.do(httptest.NewRequest(http.MethodGet, path, nil))
}

func (e *testEnv) getHTMX(path string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Header.Set("HX-Request", "true")
	return e.do(req)
}

func (e *testEnv) post(path string, form url.Values) *httptest.ResponseRecorder {
	return e.do(formRequest(path, form))
}

// page GETs path, requires status 200 and parses the HTML.
func (e *testEnv) page(path string) *goquery.Document {
	e.t.Helper()
	rec := e.get(path)
	if rec.Code != http.StatusOK {
		e.t.Fatalf("GET %s: status %d, want 200; body:\n%s", path, rec.Code, rec.Body)
	}
	return parse(e.t, rec)
}

func parse(t *testing.T, rec *httptest.ResponseRecorder) *goquery.Document {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(rec.Body.String()))
	if err != nil {
		t.Fatalf("parse HTML: %v", err)
	}
	return doc
}

func wantStatus(t *testing.T, rec *httptest.ResponseRecorder, want int) {
	t.Helper()
	if rec.Code != want {
		t.Fatalf("status %d, want %d; body:\n%s", rec.Code, want, rec.Body)
	}
}

func wantRedirect(t *testing.T, rec *httptest.ResponseRecorder, location string) {
	t.Helper()
	wantStatus(t, rec, http.StatusSeeOther)
	if got := rec.Header().Get("Location"); got != location {
		t.Fatalf("Location %q, want %q", got, location)
	}
}

func idStr(id int64) string { return strconv.FormatInt(id, 10) }

// expected is what a tile must show for a fake entity, computed from the
// fake's model with the dashboard's counting rule: disabled alarms are left
// out, an alarm with no state yet is UNKNOWN, the worst state wins
// (CRITICAL > WARNING > UNKNOWN > OK) and OK when nothing is counted.
type expected struct {
	OK, Warning, Critical, Unknown, Total int
	State                                 string
}

var severity = map[string]int{"OK": 0, "UNKNOWN": 1, "WARNING": 2, "CRITICAL": 3}

func stateWord(fakeState string) string {
	if fakeState == "" {
		return "UNKNOWN"
	}
	return fakeState
}

func expect(ent fakerax.Entity) expected {
	w := expected{State: "OK"}
	for _, a := range ent.Alarms {
		if a.Disabled {
			continue
		}
		st := stateWord(a.State)
		switch st {
		case "OK":
			w.OK++
		case "WARNING":
			w.Warning++
		case "CRITICAL":
			w.Critical++
		default:
			w.Unknown++
		}
		if severity[st] > severity[w.State] {
			w.State = st
		}
	}
	w.Total = w.OK + w.Warning + w.Critical + w.Unknown
	return w
}

// tileIDs lists the data-server-id of the tiles in sel, sorted.
func tileIDs(sel *goquery.Selection) []string {
	var ids []string
	sel.Find("li.tile").Each(func(_ int, s *goquery.Selection) {
		ids = append(ids, s.AttrOr("data-server-id", ""))
	})
	slices.Sort(ids)
	return ids
}

func entityIDs(ents []fakerax.Entity, keep func(fakerax.Entity) bool) []string {
	var ids []string
	for _, e := range ents {
		if keep == nil || keep(e) {
			ids = append(ids, e.ID)
		}
	}
	slices.Sort(ids)
	return ids
}

func section(doc *goquery.Document, id int64) *goquery.Selection {
	return doc.Find(`section[data-account-id="` + idStr(id) + `"]`)
}

// twoAccounts is a polled dashboard with two accounts big enough to hit the
// fake's quirks (disabled alarms, unevaluated alarms, orphan states,
// entities without alarms).
type twoAccounts struct {
	*testEnv
	alphaUp, bravoUp fakerax.Account
	alpha, bravo     monitoring.Account
}

func newTwoAccounts(t *testing.T) *twoAccounts {
	e := newTestEnv(t)
	alphaUp := e.upstream(fakerax.AccountSpec{Username: "alpha-ops", Servers: 30, Alarms: 6, WarningShare: 0.15, CriticalShare: 0.1})
	bravoUp := e.upstream(fakerax.AccountSpec{Username: "bravo-ops", Servers: 12, Alarms: 4, WarningShare: 0.1, CriticalShare: 0.1})
	alpha := e.addAccount(alphaUp, "Alpha Production")
	bravo := e.addAccount(bravoUp, "")
	e.poll(alpha.ID)
	e.poll(bravo.ID)
	return &twoAccounts{testEnv: e, alphaUp: alphaUp, bravoUp: bravoUp, alpha: alpha, bravo: bravo}
}

func (d *twoAccounts) accounts() []struct {
	acct monitoring.Account
	ents []fakerax.Entity
} {
	return []struct {
		acct monitoring.Account
		ents []fakerax.Entity
	}{
		{d.alpha, d.fake.Entities(d.alphaUp.Username)},
		{d.bravo, d.fake.Entities(d.bravoUp.Username)},
	}
}

func TestDashboardMarkupMatchesWhatTheUpstreamServes(t *testing.T) {
	t.Parallel()
	d := newTwoAccounts(t)
	doc := d.page("/")

	if n := doc.Find("section[data-account-id]").Length(); n != 2 {
		t.Fatalf("%d account sections, want 2", n)
	}
	doc.Find("section[data-account-id]").Each(func(_ int, s *goquery.Selection) {
		if v := s.AttrOr("data-stale", "missing"); v != "true" && v != "false" {
			t.Errorf("section %s: data-stale=%q, want true or false", s.AttrOr("data-account-id", "?"), v)
		}
	})

	// The scenario must exercise every case of the counting rule, or the
	// comparison below proves little.
	var seen expected
	var disabled, zeroTotal int
	for _, a := range d.accounts() {
		for _, ent := range a.ents {
			w := expect(ent)
			seen.Critical += w.Critical
			seen.Warning += w.Warning
			seen.Unknown += w.Unknown
			seen.OK += w.OK
			if w.Total == 0 {
				zeroTotal++
			}
			for _, al := range ent.Alarms {
				if al.Disabled {
					disabled++
				}
			}
		}
	}
	if seen.Critical == 0 || seen.Warning == 0 || seen.Unknown == 0 || seen.OK == 0 || disabled == 0 || zeroTotal == 0 {
		t.Fatalf("scenario too tame: %+v, %d disabled alarms, %d servers without counted alarms", seen, disabled, zeroTotal)
	}

	for _, a := range d.accounts() {
		t.Run(a.acct.Username+" has one tile per entity with the upstream's counts", func(t *testing.T) {
			sec := section(doc, a.acct.ID)
			if sec.Length() != 1 {
				t.Fatalf("%d sections for account %d, want 1", sec.Length(), a.acct.ID)
			}
			if got := sec.AttrOr("data-stale", ""); got != "false" {
				t.Errorf("data-stale=%q after a good poll, want false", got)
			}
			if got, want := tileIDs(sec), entityIDs(a.ents, nil); !slices.Equal(got, want) {
				t.Fatalf("tile ids\n got %v\nwant %v", got, want)
			}
			for _, ent := range a.ents {
				w := expect(ent)
				tile := sec.Find(`li.tile[data-server-id="` + ent.ID + `"]`)
				got := map[string]string{
					"data-ok": tile.AttrOr("data-ok", ""), "data-warning": tile.AttrOr("data-warning", ""),
					"data-critical": tile.AttrOr("data-critical", ""), "data-unknown": tile.AttrOr("data-unknown", ""),
					"data-total": tile.AttrOr("data-total", ""), "data-state": tile.AttrOr("data-state", ""),
				}
				want := map[string]string{
					"data-ok": strconv.Itoa(w.OK), "data-warning": strconv.Itoa(w.Warning),
					"data-critical": strconv.Itoa(w.Critical), "data-unknown": strconv.Itoa(w.Unknown),
					"data-total": strconv.Itoa(w.Total), "data-state": w.State,
				}
				for k := range want {
					if got[k] != want[k] {
						t.Errorf("entity %s (%s): %s=%q, want %q", ent.ID, ent.Label, k, got[k], want[k])
					}
				}
				if got := ringSegments(t, tile, w.Total); !maps.Equal(got, map[string]int{"ok": w.OK, "warning": w.Warning, "critical": w.Critical, "unknown": w.Unknown}) {
					t.Errorf("entity %s: ring segments by state %v, want ok %d, warning %d, critical %d, unknown %d (one per counted alarm)",
						ent.ID, got, w.OK, w.Warning, w.Critical, w.Unknown)
				}
				if got, want := strings.TrimSpace(tile.Find("svg text").First().Text()), fmt.Sprintf("%d/%d", w.OK, w.Total); got != want {
					t.Errorf("entity %s: centre text %q, want %q", ent.ID, got, want)
				}
				// A problem reads without colour: a filled disc and its word.
				words := map[string]string{"CRITICAL": "CRIT", "WARNING": "WARN", "UNKNOWN": "UNKN"}
				if got, want := tile.Find("svg text.word").Text(), words[w.State]; got != want {
					t.Errorf("entity %s (%s): state word %q, want %q", ent.ID, w.State, got, want)
				}
				if got, want := tile.Find("svg use.disc").Length() == 1, w.State != "OK"; got != want {
					t.Errorf("entity %s (%s): filled disc %v, want %v", ent.ID, w.State, got, want)
				}
				href := tile.Find("a").AttrOr("href", "")
				if want := "/accounts/" + idStr(a.acct.ID) + "/servers/" + ent.ID; href != want {
					t.Errorf("entity %s: tile links to %q, want %q", ent.ID, href, want)
				}
			}
		})
	}
}

// varies reports whether the response's Vary names the header.
func varies(h http.Header, name string) bool {
	for _, v := range h.Values("Vary") {
		for _, part := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(part), name) {
				return true
			}
		}
	}
	return false
}

// ringSegments reads a tile's ring back into segments per state: each state
// is one arc whose length covers its segments (a full circle when it is the
// only state), and a gap circle cuts the ring into total segments.
func ringSegments(t *testing.T, tile *goquery.Selection, total int) map[string]int {
	t.Helper()
	got := map[string]int{"ok": 0, "warning": 0, "critical": 0, "unknown": 0}
	if total == 0 {
		if tile.Find("svg use.track").Length() != 1 || tile.Find("svg use").Length() != 1 {
			t.Errorf("a tile without counted alarms should show the bare track")
		}
		return got
	}
	circ := 2 * math.Pi * 42
	span := 360 / float64(total)
	gap := math.Min(4, span*0.3)
	tile.Find("svg use").Each(func(_ int, u *goquery.Selection) {
		class := u.AttrOr("class", "")
		if class == "disc" {
			return // the fill of a problem ring, not a segment
		}
		if strings.HasPrefix(class, "gaps") {
			if total > 1 && class != "gaps g"+strconv.Itoa(total) {
				t.Errorf("gap circle %q, want gaps g%d", class, total)
			}
			return
		}
		if _, ok := got[class]; !ok {
			t.Errorf("unexpected ring circle class %q", class)
			return
		}
		dash, ok := u.Attr("stroke-dasharray")
		if !ok {
			got[class] += total
			return
		}
		var on, off float64
		if _, err := fmt.Sscanf(dash, "%g %g", &on, &off); err != nil {
			t.Errorf("dash %q: %v", dash, err)
			return
		}
		got[class] += int(math.Round((on/circ*360 + gap) / span))
	})
	if total > 1 && tile.Find("svg use.gaps").Length() != 1 {
		t.Errorf("a ring of %d alarms has no gap circle", total)
	}
	return got
}

func TestHTMXRequestsGetOnlyTheGrid(t *testing.T) {
	t.Parallel()
	d := newTwoAccounts(t)
	acct := "/accounts/" + idStr(d.alpha.ID)
	tests := []struct {
		name      string
		path      string
		htmx      bool
		wantGet   string
		wantWhole bool
	}{
		{"the dashboard for htmx is the grid alone", "/", true, "/", false},
		{"the dashboard for htmx keeps the filter in the grid's reload URL", "/?q=web+state:ok", true, "/?q=web+state%3Aok", false},
		{"an account page for htmx keeps its path and filter", acct + "?q=web", true, acct + "?q=web", false},
		{"the dashboard for a browser is a whole page with the same grid", "/?q=web", false, "/?q=web", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rec *httptest.ResponseRecorder
			if tt.htmx {
				rec = d.getHTMX(tt.path)
			} else {
				rec = d.get(tt.path)
			}
			wantStatus(t, rec, http.StatusOK)
			if !varies(rec.Header(), "HX-Request") || !varies(rec.Header(), "Cookie") {
				t.Errorf("Vary %q, want HX-Request and Cookie", rec.Header().Values("Vary"))
			}
			body := rec.Body.String()
			if whole := strings.Contains(body, "<html"); whole != tt.wantWhole {
				t.Errorf("response has <html>: %v, want %v", whole, tt.wantWhole)
			}
			if !tt.wantWhole && !strings.HasPrefix(strings.TrimSpace(body), `<div id="grid"`) {
				t.Errorf("fragment does not start with the grid: %.80q", body)
			}
			doc := parse(t, rec)
			grid := doc.Find("#grid")
			if grid.Length() != 1 {
				t.Fatalf("%d #grid elements, want 1", grid.Length())
			}
			if got := grid.AttrOr("hx-get", ""); got != tt.wantGet {
				t.Errorf("hx-get=%q, want %q", got, tt.wantGet)
			}
			if got := grid.AttrOr("hx-trigger", ""); got != "every 20s, live" {
				t.Errorf("hx-trigger=%q, want %q", got, "every 20s, live")
			}
			if got := grid.AttrOr("hx-swap", ""); got != "outerHTML" {
				t.Errorf("hx-swap=%q, want outerHTML", got)
			}
			if tt.htmx && doc.Find("header.topbar, input[type=search]").Length() != 0 {
				t.Error("the fragment carries page chrome (top bar or filter box)")
			}
		})
	}

	t.Run("the refresh interval option sets the grid's trigger", func(t *testing.T) {
		h := newHandler(d.store, d.poller, d.client, d.log, Options{PollInterval: pollInterval, RefreshInterval: 5 * time.Second})
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Header.Set("HX-Request", "true")
		req.Header.Set("Authorization", "Bearer "+d.token)
		rec := httptest.NewRecorder()
		h.Routes().ServeHTTP(rec, req)
		wantStatus(t, rec, http.StatusOK)
		if got := parse(t, rec).Find("#grid").AttrOr("hx-trigger", ""); got != "every 5s, live" {
			t.Errorf("hx-trigger=%q, want %q", got, "every 5s, live")
		}
	})
}

func TestFilterKeepsMatchingTiles(t *testing.T) {
	t.Parallel()
	d := newTwoAccounts(t)
	alphaEnts, bravoEnts := d.fake.Entities(d.alphaUp.Username), d.fake.Entities(d.bravoUp.Username)
	label := alphaEnts[0].Label
	hasLabel := func(e fakerax.Entity) bool { return strings.Contains(strings.ToLower(e.Label), strings.ToLower(label)) }
	worstIs := func(st string) func(fakerax.Entity) bool {
		return func(e fakerax.Entity) bool { return expect(e).State == st }
	}
	problem := func(e fakerax.Entity) bool { return expect(e).State != "OK" }
	if len(entityIDs(alphaEnts, worstIs("CRITICAL"))) == 0 || len(entityIDs(bravoEnts, worstIs("CRITICAL"))) == 0 {
		t.Fatal("scenario has an account without a critical server; the state filter would prove little")
	}

	tests := []struct {
		name              string
		q                 string
		wantAlpha, wantBr []string // nil: the section is hidden
	}{
		{"an account alias in other case keeps that account's tiles only", "ALPHA production", entityIDs(alphaEnts, nil), nil},
		{"a username in other case keeps that account's tiles only", "Bravo-OPS", nil, entityIDs(bravoEnts, nil)},
		{"a server label in upper case keeps the servers with that label", strings.ToUpper(label), entityIDs(alphaEnts, hasLabel), entityIDs(bravoEnts, hasLabel)},
		{"state:critical keeps only the servers whose worst state is critical", "state:critical", entityIDs(alphaEnts, worstIs("CRITICAL")), entityIDs(bravoEnts, worstIs("CRITICAL"))},
		{"state:CRITICAL with an account word narrows to that account", "state:CRITICAL bravo", nil, entityIDs(bravoEnts, worstIs("CRITICAL"))},
		{"is:problem keeps every server that is not OK", "is:problem", entityIDs(alphaEnts, problem), entityIDs(bravoEnts, problem)},
		{"a word nothing has hides every section", "no-such-server-anywhere", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := d.page("/?q=" + url.QueryEscape(tt.q))
			for _, c := range []struct {
				id   int64
				want []string
			}{{d.alpha.ID, tt.wantAlpha}, {d.bravo.ID, tt.wantBr}} {
				sec := section(doc, c.id)
				if len(c.want) == 0 {
					if sec.Length() != 0 {
						t.Errorf("account %d is shown with tiles %v, want it hidden", c.id, tileIDs(sec))
					}
					continue
				}
				if got := tileIDs(sec); !slices.Equal(got, c.want) {
					t.Errorf("account %d tiles\n got %v\nwant %v", c.id, got, c.want)
				}
			}
			matches := len(tt.wantAlpha) + len(tt.wantBr)
			total := len(alphaEnts) + len(bravoEnts)
			status := strings.Join(strings.Fields(doc.Find(".filter-status").Text()), " ")
			if want := fmt.Sprintf("Showing %d of %d servers", matches, total); !strings.Contains(status, want) {
				t.Errorf("filter status %q, want it to say %q", status, want)
			}
			if got := doc.Find("input[type=search][name=q]").AttrOr("value", ""); got != tt.q {
				t.Errorf("filter box value %q, want %q", got, tt.q)
			}
		})
	}
}

func TestAccountPage(t *testing.T) {
	t.Parallel()
	d := newTwoAccounts(t)

	t.Run("shows the one account's section", func(t *testing.T) {
		doc := d.page("/accounts/" + idStr(d.bravo.ID))
		secs := doc.Find("section[data-account-id]")
		if secs.Length() != 1 || secs.AttrOr("data-account-id", "") != idStr(d.bravo.ID) {
			t.Fatalf("sections %d (first id %q), want only account %d", secs.Length(), secs.AttrOr("data-account-id", ""), d.bravo.ID)
		}
		if got, want := tileIDs(secs), entityIDs(d.fake.Entities(d.bravoUp.Username), nil); !slices.Equal(got, want) {
			t.Errorf("tiles\n got %v\nwant %v", got, want)
		}
	})

	for _, path := range []string{"/accounts/9999", "/accounts/abc", "/accounts/0", "/accounts/-1"} {
		t.Run(path+" is a not-found page, not a server error", func(t *testing.T) {
			rec := d.get(path)
			wantStatus(t, rec, http.StatusNotFound)
			doc := parse(t, rec)
			if !strings.Contains(doc.Find("main").Text(), "There is no such account.") {
				t.Errorf("404 page does not say what is missing:\n%s", rec.Body)
			}
			if doc.Find("header.topbar a[href='/']").Length() == 0 {
				t.Error("404 page lacks the navigation back to the dashboard")
			}
		})
	}
}

func TestServerPageListsEveryAlarm(t *testing.T) {
	t.Parallel()
	d := newTwoAccounts(t)
	base := "/accounts/" + idStr(d.alpha.ID) + "/servers/"
	var withTable, withoutAlarms int
	for _, ent := range d.fake.Entities(d.alphaUp.Username) {
		doc := d.page(base + url.PathEscape(ent.ID))
		if got := strings.TrimSpace(doc.Find("h1").First().Text()); got != ent.Label {
			t.Errorf("server %s: heading %q, want %q", ent.ID, got, ent.Label)
		}
		rows := doc.Find("table.alarms tbody tr")
		if len(ent.Alarms) == 0 {
			withoutAlarms++
			if rows.Length() != 0 || !strings.Contains(doc.Find("p.empty").Text(), "no alarms") {
				t.Errorf("server %s has no alarms upstream; page shows %d rows and %q", ent.ID, rows.Length(), doc.Find("p.empty").Text())
			}
			continue
		}
		withTable++
		known := map[string]bool{}
		for _, al := range ent.Alarms {
			known[al.ID] = true
			row := rows.Filter(`[data-alarm-id="` + al.ID + `"]`)
			if row.Length() != 1 {
				t.Errorf("server %s: %d rows for alarm %s, want 1", ent.ID, row.Length(), al.ID)
				continue
			}
			cells := row.Find("td")
			if got, want := strings.TrimSpace(cells.Eq(0).Text()), stateWord(al.State); got != want {
				t.Errorf("alarm %s: state %q, want %q", al.ID, got, want)
			}
			label := al.CheckLabel + " alarm" // the fallback for a missing label
			if al.Label != nil {
				label = *al.Label
			}
			if got := cells.Eq(1).Text(); !strings.Contains(got, label) {
				t.Errorf("alarm %s: label cell %q, want it to contain %q", al.ID, got, label)
			}
			if got := cells.Eq(1).Text(); strings.Contains(got, "disabled, not counted") != al.Disabled {
				t.Errorf("alarm %s (disabled %v): label cell %q", al.ID, al.Disabled, got)
			}
			if got := cells.Eq(3).Text(); !strings.Contains(got, al.CheckLabel) || !strings.Contains(got, al.CheckType) {
				t.Errorf("alarm %s: check cell %q, want %q and %q", al.ID, got, al.CheckLabel, al.CheckType)
			}
			if al.State == "" && !strings.Contains(cells.Eq(2).Text(), "not evaluated yet") {
				t.Errorf("alarm %s has no state yet; status cell %q", al.ID, cells.Eq(2).Text())
			}
		}
		// Rows beyond the fake's alarms are states without an alarm.
		rows.Each(func(_ int, r *goquery.Selection) {
			if id := r.AttrOr("data-alarm-id", ""); !known[id] && !strings.Contains(r.Text(), "no such alarm") {
				t.Errorf("server %s: row for unknown alarm %q is not marked as such", ent.ID, id)
			}
		})
	}
	if withTable == 0 || withoutAlarms == 0 {
		t.Fatalf("scenario covers %d servers with alarms and %d without; want both", withTable, withoutAlarms)
	}

	bravoEnt := d.fake.Entities(d.bravoUp.Username)[0]
	for _, tt := range []struct{ name, path, says string }{
		{"an unknown server id is not found", base + "enNOSUCHX", "There is no server with that id"},
		{"another account's server is not found here", base + bravoEnt.ID, "There is no server with that id"},
		{"a server of an unknown account is not found", "/accounts/9999/servers/" + bravoEnt.ID, "There is no such account."},
		{"a server of a non-numeric account is not found", "/accounts/x/servers/" + bravoEnt.ID, "There is no such server."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := d.get(tt.path)
			wantStatus(t, rec, http.StatusNotFound)
			if !strings.Contains(rec.Body.String(), tt.says) {
				t.Errorf("404 page does not say %q:\n%s", tt.says, rec.Body)
			}
		})
	}
}

func TestEmptyStatesSayWhatIsGoingOn(t *testing.T) {
	t.Parallel()
	t.Run("no accounts at all points to settings", func(t *testing.T) {
		e := newTestEnv(t)
		doc := e.page("/")
		notice := doc.Find("#grid section.notice")
		if !strings.Contains(notice.Text(), "No accounts yet") {
			t.Errorf("grid notice %q, want it to say there are no accounts yet", notice.Text())
		}
		if notice.Find(`a[href="/settings"]`).Length() != 1 {
			t.Error("the notice does not link to /settings")
		}
		if doc.Find("section[data-account-id]").Length() != 0 {
			t.Error("an account section is shown without accounts")
		}
	})

	tests := []struct {
		name    string
		servers int
		polled  bool
		enabled bool
		says    string
	}{
		{"an account not polled yet is waiting for its first poll", 5, false, true, "Waiting for first poll"},
		{"a disabled account never polled says so", 5, false, false, "disabled and has not been polled"},
		{"an account without entities says it has no servers", 0, true, true, "This account has no monitored servers."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t)
			up := e.upstream(fakerax.AccountSpec{Username: "solo", Servers: tt.servers, Alarms: 3})
			a := e.addAccount(up, "")
			if !tt.enabled {
				if err := e.store.UpdateAccount(e.ctx, a.ID, monitoring.AccountUpdate{Enabled: false}); err != nil {
					t.Fatal(err)
				}
			}
			if tt.polled {
				e.poll(a.ID)
			}
			sec := section(e.page("/"), a.ID)
			if sec.Length() != 1 {
				t.Fatalf("%d sections for the account, want 1", sec.Length())
			}
			if got := sec.Find("p.empty").Text(); !strings.Contains(got, tt.says) {
				t.Errorf("section says %q, want %q", got, tt.says)
			}
			if n := sec.Find("li.tile").Length(); n != 0 {
				t.Errorf("%d tiles, want none", n)
			}
			if got := sec.AttrOr("data-stale", ""); got != "false" {
				t.Errorf("data-stale=%q, want false (nothing failed)", got)
			}
		})
	}
}

func TestFailingUpstreamKeepsTheLastGoodDataAndMarksItStale(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	up := e.upstream(fakerax.AccountSpec{Username: "flaky", Servers: 8, Alarms: 3})
	a := e.addAccount(up, "Flaky")
	e.poll(a.ID)
	want := entityIDs(e.fake.Entities(up.Username), nil)
	serverPath := "/accounts/" + idStr(a.ID) + "/servers/" + want[0]

	e.fake.SetFault(up.Username, fakerax.Fault{MonitoringStatus: http.StatusServiceUnavailable})
	for range 2 {
		if err := e.poller.Poll(e.ctx, a.ID); err == nil {
			t.Fatal("poll succeeded against a 503 upstream")
		}
	}

	t.Run("the dashboard keeps the tiles, marks the section stale and shows the error", func(t *testing.T) {
		sec := section(e.page("/"), a.ID)
		if got := tileIDs(sec); !slices.Equal(got, want) {
			t.Errorf("tiles after the failure\n got %v\nwant %v", got, want)
		}
		if got := sec.AttrOr("data-stale", ""); got != "true" {
			t.Errorf("data-stale=%q, want true", got)
		}
		msg := sec.Find(".poll-error").Text()
		for _, s := range []string{"Rackspace is unavailable (HTTP 503)", "2 times in a row", "Showing the last good data"} {
			if !strings.Contains(msg, s) {
				t.Errorf("error text %q lacks %q", msg, s)
			}
		}
	})
	t.Run("the server page shows the error and a stale badge", func(t *testing.T) {
		doc := e.page(serverPath)
		if !strings.Contains(doc.Find(".poll-error").Text(), "HTTP 503") {
			t.Errorf("server page error %q", doc.Find(".poll-error").Text())
		}
		if !strings.Contains(doc.Find("dl.facts .badge").Text(), "stale") {
			t.Error("server page lacks the stale badge")
		}
	})

	e.fake.ClearFault(up.Username)
	e.poll(a.ID)

	t.Run("a good poll after recovery clears the stale mark and the error", func(t *testing.T) {
		sec := section(e.page("/"), a.ID)
		if got := sec.AttrOr("data-stale", ""); got != "false" {
			t.Errorf("data-stale=%q after recovery, want false", got)
		}
		if n := sec.Find(".poll-error").Length(); n != 0 {
			t.Errorf("error still shown after recovery: %q", sec.Find(".poll-error").Text())
		}
		if got := tileIDs(sec); !slices.Equal(got, want) {
			t.Errorf("tiles after recovery\n got %v\nwant %v", got, want)
		}
	})
}

func TestOldDataIsStaleEvenWithoutAnError(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	up := e.upstream(fakerax.AccountSpec{Username: "quiet", Servers: 2, Alarms: 2})
	a := e.addAccount(up, "")
	e.poll(a.ID)
	tests := []struct {
		name  string
		later time.Duration
		want  string
	}{
		{"data one interval old is fresh", pollInterval, "false"},
		{"data more than three intervals old is stale", 3*pollInterval + time.Minute, "true"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.h.now = func() time.Time { return time.Now().Add(tt.later) }
			t.Cleanup(func() { e.h.now = time.Now })
			if got := section(e.page("/"), a.ID).AttrOr("data-stale", ""); got != tt.want {
				t.Errorf("data-stale=%q, want %q", got, tt.want)
			}
		})
	}
}

// addForm finds the add-account form's field message and value for name.
func addField(doc *goquery.Document, name string) (msg, value string) {
	in := doc.Find(`#add-account input[name="` + name + `"]`)
	return strings.TrimSpace(in.Parent().Find(".field-error").Text()), in.AttrOr("value", "")
}

func TestAddAccountForm(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	existingUp := e.upstream(fakerax.AccountSpec{Username: "already-here", Servers: 1, Alarms: 1})
	e.addAccount(existingUp, "")
	newUp := e.upstream(fakerax.AccountSpec{Username: "newcomer", Servers: 3, Alarms: 2})

	t.Run("a wrong key re-renders the form with Identity's answer, keeping what was typed but the key", func(t *testing.T) {
		const typedKey = "not-the-right-key-5f2e9c"
		rec := e.post("/settings/accounts", url.Values{"username": {newUp.Username}, "apikey": {typedKey}, "alias": {"New team"}})
		wantStatus(t, rec, http.StatusUnprocessableEntity)
		if strings.Contains(rec.Body.String(), typedKey) {
			t.Fatal("the typed API key is echoed in the response")
		}
		doc := parse(t, rec)
		if got := doc.Find("#add-account .form-error").Text(); !strings.Contains(got, "Rackspace Identity rejected this username and API key") {
			t.Errorf("form message %q, want Identity's rejection in words", got)
		}
		if _, v := addField(doc, "username"); v != newUp.Username {
			t.Errorf("username value %q, want %q kept", v, newUp.Username)
		}
		if _, v := addField(doc, "alias"); v != "New team" {
			t.Errorf("alias value %q, want kept", v)
		}
		if _, err := e.store.AccountByUsername(e.ctx, newUp.Username); !errors.Is(err, monitoring.ErrNotFound) {
			t.Errorf("account stored despite the wrong key (err %v)", err)
		}
	})

	tests := []struct {
		name, username, apikey, alias string
		field, says                   string
	}{
		{"an empty username asks for one", "  ", "typed-key-3c1d7e", "", "username", "Enter the Rackspace username."},
		{"a username over 255 characters is refused", strings.Repeat("u", 256), "typed-key-3c1d7e", "", "username", "longer than 255 characters"},
		{"a username with a space is refused", "two words", "typed-key-3c1d7e", "", "username", "no spaces"},
		{"a username already on the dashboard is refused", existingUp.Username, existingUp.APIKey, "", "username", "already on the dashboard"},
		{"the same username in other case is refused too", strings.ToUpper(existingUp.Username), existingUp.APIKey, "", "username", "already on the dashboard"},
		{"an empty API key asks for one", newUp.Username, "", "", "apikey", "Enter the account's API key."},
		{"an alias over 255 characters is refused", newUp.Username, newUp.APIKey, strings.Repeat("a", 256), "alias", "longer than 255 characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logins := e.fake.Counters(newUp.Username).Identity + e.fake.Counters(existingUp.Username).Identity
			rec := e.post("/settings/accounts", url.Values{"username": {tt.username}, "apikey": {tt.apikey}, "alias": {tt.alias}})
			wantStatus(t, rec, http.StatusUnprocessableEntity)
			if tt.apikey != "" && strings.Contains(rec.Body.String(), tt.apikey) {
				t.Fatal("the typed API key is echoed in the response")
			}
			doc := parse(t, rec)
			msg, _ := addField(doc, tt.field)
			if !strings.Contains(msg, tt.says) {
				t.Errorf("%s message %q, want %q", tt.field, msg, tt.says)
			}
			if got := doc.Find(`#add-account input[name="`+tt.field+`"]`).AttrOr("aria-invalid", ""); got != "true" {
				t.Errorf("%s aria-invalid=%q, want true", tt.field, got)
			}
			if after := e.fake.Counters(newUp.Username).Identity + e.fake.Counters(existingUp.Username).Identity; after != logins {
				t.Errorf("a form refused before checking still called Identity (%d logins)", after-logins)
			}
		})
	}
	if _, err := e.store.AccountByUsername(e.ctx, newUp.Username); !errors.Is(err, monitoring.ErrNotFound) {
		t.Fatalf("a refused form stored the account (err %v)", err)
	}

	t.Run("a good add redirects and the account appears", func(t *testing.T) {
		logins := e.fake.Counters(newUp.Username).Identity
		rec := e.post("/settings/accounts", url.Values{"username": {" " + newUp.Username + " "}, "apikey": {newUp.APIKey}, "alias": {"Newcomers"}})
		wantRedirect(t, rec, "/settings?done=added")
		a, err := e.store.AccountByUsername(e.ctx, newUp.Username)
		if err != nil {
			t.Fatalf("account not stored: %v", err)
		}
		if a.Alias != "Newcomers" || !a.Enabled {
			t.Errorf("stored %+v, want alias Newcomers and enabled", a)
		}
		settings := e.page("/settings?done=added")
		if !strings.Contains(settings.Find(".flash").Text(), "Account added") {
			t.Errorf("flash %q", settings.Find(".flash").Text())
		}
		if settings.Find("details#account-"+idStr(a.ID)).Length() != 1 {
			t.Error("the new account has no row in settings")
		}
		if !strings.Contains(section(e.page("/"), a.ID).Text(), "Newcomers") {
			t.Error("the new account has no section on the dashboard")
		}
		if got := e.fake.Counters(newUp.Username).Identity - logins; got != 1 {
			t.Errorf("%d Identity logins for the add, want 1 (the credential check)", got)
		}
		// The token from the check is kept: the first poll needs no login.
		e.poll(a.ID)
		if got := e.fake.Counters(newUp.Username).Identity - logins; got != 1 {
			t.Errorf("%d Identity logins after the first poll, want still 1", got)
		}

		ent := e.fake.Entities(newUp.Username)[0]
		for _, path := range []string{
			"/", "/settings", "/accounts/" + idStr(a.ID), "/accounts/" + idStr(a.ID) + "/servers/" + ent.ID,
			"/settings/accounts/" + idStr(a.ID) + "/delete", "/?q=newcomer", "/settings/access",
		} {
			if body := e.get(path).Body.String(); strings.Contains(body, newUp.APIKey) {
				t.Errorf("GET %s shows the API key", path)
			}
		}
	})
}

func TestEditAccountForm(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	up := e.upstream(fakerax.AccountSpec{Username: "editme", Servers: 3, Alarms: 2})
	a := e.addAccount(up, "Before")
	e.poll(a.ID)
	path := "/settings/accounts/" + idStr(a.ID)

	t.Run("a blank key keeps the old key and the account still polls", func(t *testing.T) {
		rec := e.post(path, url.Values{"alias": {"After"}, "apikey": {""}, "enabled": {"on"}})
		wantRedirect(t, rec, "/settings?done=saved")
		got, err := e.store.Account(e.ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Alias != "After" || !got.Enabled {
			t.Errorf("after edit %+v, want alias After, enabled", got)
		}
		cr, _, err := e.store.Credentials(e.ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if cr.APIKey != up.APIKey {
			t.Errorf("stored key changed to %q", cr.APIKey)
		}
		// Revoked tokens force the poll to log in with the stored key.
		e.fake.RevokeTokens(up.Username)
		before := e.fake.Counters(up.Username).Identity
		e.poll(a.ID)
		if e.fake.Counters(up.Username).Identity == before {
			t.Error("the poll did not log in again, so the kept key was not exercised")
		}
	})

	t.Run("a wrong new key is refused with Identity's answer and not echoed", func(t *testing.T) {
		const typedKey = "rotated-but-wrong-91ab"
		rec := e.post(path, url.Values{"alias": {"After"}, "apikey": {typedKey}, "enabled": {"on"}})
		wantStatus(t, rec, http.StatusUnprocessableEntity)
		if strings.Contains(rec.Body.String(), typedKey) {
			t.Fatal("the typed API key is echoed in the response")
		}
		doc := parse(t, rec)
		row := doc.Find("details#account-" + idStr(a.ID))
		if _, open := row.Attr("open"); !open {
			t.Error("the edited account's row is not open")
		}
		if got := row.Find(".form-error").Text(); !strings.Contains(got, "rejected") {
			t.Errorf("edit message %q, want Identity's rejection", got)
		}
		if cr, _, _ := e.store.Credentials(e.ctx, a.ID); cr.APIKey != up.APIKey {
			t.Error("a refused key replaced the stored one")
		}
	})

	t.Run("a rotated key that Identity accepts replaces the old one", func(t *testing.T) {
		const rotated = "rotated-key-0000000000000001"
		e.fake.AddAccount(fakerax.AccountSpec{Username: up.Username, APIKey: rotated, TenantID: up.TenantID, Servers: 3, Alarms: 2})
		rec := e.post(path, url.Values{"alias": {"After"}, "apikey": {rotated}, "enabled": {"on"}})
		wantRedirect(t, rec, "/settings?done=saved")
		if cr, _, _ := e.store.Credentials(e.ctx, a.ID); cr.APIKey != rotated {
			t.Errorf("stored key %q, want the rotated one", cr.APIKey)
		}
		e.poll(a.ID)
		if strings.Contains(e.get("/settings").Body.String(), rotated) {
			t.Error("settings shows the rotated key")
		}
	})

	t.Run("unticking enabled disables polling and ticking it makes the account due", func(t *testing.T) {
		wantRedirect(t, e.post(path, url.Values{"alias": {"After"}}), "/settings?done=saved")
		got, _ := e.store.Account(e.ctx, a.ID)
		if got.Enabled {
			t.Fatal("account still enabled")
		}
		sec := section(e.page("/"), a.ID)
		if !sec.HasClass("disabled") || !strings.Contains(sec.Find(".badge").Text(), "disabled") {
			t.Error("the dashboard does not mark the account disabled")
		}
		wantRedirect(t, e.post("/accounts/"+idStr(a.ID)+"/refresh", nil), "/")
		if due := e.due(); slices.Contains(due, a.ID) {
			t.Error("a disabled account is due for polling")
		}
		wantRedirect(t, e.post(path, url.Values{"alias": {"After"}, "enabled": {"on"}}), "/settings?done=saved")
		if due := e.due(); !slices.Contains(due, a.ID) {
			t.Errorf("a re-enabled account is not due (due %v)", due)
		}
	})

	t.Run("an alias over 255 characters is refused", func(t *testing.T) {
		rec := e.post(path, url.Values{"alias": {strings.Repeat("x", 256)}, "enabled": {"on"}})
		wantStatus(t, rec, http.StatusUnprocessableEntity)
		if !strings.Contains(parse(t, rec).Find("details#account-"+idStr(a.ID)+" .field-error").Text(), "longer than 255") {
			t.Error("no alias message")
		}
	})

	t.Run("editing an unknown account is not found", func(t *testing.T) {
		wantStatus(t, e.post("/settings/accounts/9999", url.Values{"alias": {"x"}}), http.StatusNotFound)
	})
}

func (e *testEnv) due() []int64 {
	e.t.Helper()
	ids, err := e.store.DueAccounts(e.ctx, time.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	return ids
}

func TestRemoveAccountAsksFirst(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	up := e.upstream(fakerax.AccountSpec{Username: "leaving", Servers: 2, Alarms: 2})
	a := e.addAccount(up, "Leaving soon")
	e.poll(a.ID)
	path := "/settings/accounts/" + idStr(a.ID) + "/delete"

	doc := e.page(path)
	if !strings.Contains(doc.Find("main h1").Text(), "Remove Leaving soon?") {
		t.Errorf("confirm heading %q", doc.Find("main h1").Text())
	}
	if doc.Find(`form[method="post"][action="`+path+`"] button`).Length() != 1 {
		t.Fatal("the confirm page has no POST form to remove the account")
	}
	if _, err := e.store.Account(e.ctx, a.ID); err != nil {
		t.Fatalf("the confirm page removed the account already: %v", err)
	}

	wantRedirect(t, e.post(path, nil), "/settings?done=removed")
	if _, err := e.store.Account(e.ctx, a.ID); !errors.Is(err, monitoring.ErrNotFound) {
		t.Fatalf("account still stored (err %v)", err)
	}
	if section(e.page("/"), a.ID).Length() != 0 {
		t.Error("the removed account is still on the dashboard")
	}
	if got := e.page("/settings?done=removed").Find(".flash").Text(); got != "Account removed, with its history and acknowledgements." {
		t.Errorf("removal flash %q", got)
	}
	wantStatus(t, e.get("/accounts/"+idStr(a.ID)), http.StatusNotFound)
	wantStatus(t, e.get(path), http.StatusNotFound)
	wantStatus(t, e.post(path, nil), http.StatusNotFound)
}

func TestRemovingAnAccountSaysItsHistoryAndAcknowledgementsGoToo(t *testing.T) {
	t.Parallel()
	a := newAckEnv(t)
	e := a.testEnv
	if _, err := e.store.CreateAck(e.ctx, monitoring.AckInput{AccountID: a.acct.ID, ServerID: a.problem, AlarmID: a.problemAlarm,
		Note: "on it", Expiry: "1h", By: testUser}); err != nil {
		t.Fatal(err)
	}
	if err := e.fake.SetState(a.acct.Username, a.problem, a.problemAlarm, "OK"); err != nil {
		t.Fatal(err)
	}
	e.poll(a.acct.ID) // a recovery: a change on the timeline, and the acknowledgement ends
	history := func() int {
		t.Helper()
		evs, _, err := e.store.Events(e.ctx, monitoring.EventQuery{AccountID: a.acct.ID})
		if err != nil {
			t.Fatal(err)
		}
		return len(evs)
	}
	acks := func() int {
		t.Helper()
		acks, err := e.store.Acks(e.ctx, monitoring.AckQuery{AccountID: a.acct.ID, IncludeEnded: true})
		if err != nil {
			t.Fatal(err)
		}
		return len(acks)
	}
	if history() == 0 || acks() == 0 {
		t.Fatalf("the account has %d changes and %d acknowledgements before it is removed, want some of each", history(), acks())
	}

	path := "/settings/accounts/" + idStr(a.acct.ID) + "/delete"
	says := strings.Join(strings.Fields(e.page(path).Find("main section").Text()), " ")
	for _, what := range []string{"its history of changes", "its acknowledgements", "cannot be undone"} {
		if !strings.Contains(says, what) {
			t.Errorf("the confirmation does not say %q:\n%s", what, says)
		}
	}
	wantRedirect(t, e.post(path, nil), "/settings?done=removed")
	if n, m := history(), acks(); n != 0 || m != 0 {
		t.Errorf("after the removal %d changes and %d acknowledgements are left: the confirmation said they go", n, m)
	}
}

func TestSavedFilters(t *testing.T) {
	t.Parallel()
	d := newTwoAccounts(t)
	navLink := func(doc *goquery.Document, name string) *goquery.Selection {
		return doc.Find("nav.nav a.saved").FilterFunction(func(_ int, s *goquery.Selection) bool {
			return strings.TrimSpace(s.Text()) == name
		})
	}

	rec := d.post("/filters", url.Values{"name": {"Critical only"}, "query": {" state:critical "}})
	wantRedirect(t, rec, "/?q=state%3Acritical")

	t.Run("a saved filter is a link in the navigation", func(t *testing.T) {
		link := navLink(d.page("/"), "Critical only")
		if link.Length() != 1 {
			t.Fatalf("%d nav links named Critical only, want 1", link.Length())
		}
		if got := link.AttrOr("href", ""); got != "/?q=state%3Acritical" {
			t.Errorf("href %q", got)
		}
		if link.HasClass("active") {
			t.Error("the filter link is active without the filter applied")
		}
		if !navLink(d.page("/?q=state%3Acritical"), "Critical only").HasClass("active") {
			t.Error("the filter link is not active while the filter is applied")
		}
	})

	tests := []struct {
		name, fname, query, says string
	}{
		{"a duplicate name is refused", "Critical only", "is:problem", "already called"},
		{"a duplicate name in other case is refused", "CRITICAL ONLY", "is:problem", "already called"},
		{"an empty name is refused", " ", "is:problem", "Give the filter a name."},
		{"an empty query is refused", "Everything", "", "Type a filter first"},
		{"a name over 64 characters is refused", strings.Repeat("n", 65), "web", "longer than 64 characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := d.post("/filters", url.Values{"name": {tt.fname}, "query": {tt.query}})
			wantStatus(t, rec, http.StatusUnprocessableEntity)
			doc := parse(t, rec)
			if got := doc.Find("main .form-error").Text(); !strings.Contains(got, tt.says) {
				t.Errorf("message %q, want %q", got, tt.says)
			}
			if doc.Find("#grid").Length() != 1 {
				t.Error("the refused form does not show the dashboard again")
			}
		})
	}
	if fs, _ := d.store.ListFilters(d.ctx); len(fs) != 1 {
		t.Fatalf("%d filters stored, want only the first", len(fs))
	}

	t.Run("deleting a filter removes it from the navigation", func(t *testing.T) {
		fs, err := d.store.ListFilters(d.ctx)
		if err != nil || len(fs) != 1 {
			t.Fatalf("filters %v, err %v", fs, err)
		}
		del := "/filters/" + idStr(fs[0].ID) + "/delete"
		if d.page("/settings").Find(`form[action="`+del+`"]`).Length() != 1 {
			t.Error("settings has no delete form for the filter")
		}
		wantRedirect(t, d.post(del, nil), "/settings?done=filter-removed")
		if navLink(d.page("/"), "Critical only").Length() != 0 {
			t.Error("the deleted filter is still in the navigation")
		}
		wantStatus(t, d.post(del, nil), http.StatusNotFound)
	})
}

func TestRefreshNowMakesTheAccountDue(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	up := e.upstream(fakerax.AccountSpec{Username: "refresh", Servers: 2, Alarms: 2})
	a := e.addAccount(up, "")
	path := "/accounts/" + idStr(a.ID) + "/refresh"
	tests := []struct {
		name, referer, back string
	}{
		{"without a referer it goes back to the dashboard", "", "/"},
		{"it goes back to the page it came from", "http://example.com/accounts/" + idStr(a.ID) + "?q=web", "/accounts/" + idStr(a.ID) + "?q=web"},
		{"it never goes back to another site", "http://evil.example.net/phish", "/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.poll(a.ID) // schedules the next poll an interval away
			if slices.Contains(e.due(), a.ID) {
				t.Fatal("the account is due right after a poll")
			}
			req := httptest.NewRequest(http.MethodPost, path, nil)
			if tt.referer != "" {
				req.Header.Set("Referer", tt.referer)
			}
			wantRedirect(t, e.do(req), tt.back)
			if !slices.Contains(e.due(), a.ID) {
				t.Error("the account is not due after refresh")
			}
		})
	}
	t.Run("a same-host referer whose path starts with two slashes does not redirect off site", func(t *testing.T) {
		req := httptest.NewRequest(http.MethodPost, path, nil)
		req.Header.Set("Referer", "http://example.com//evil.example.net/x")
		rec := e.do(req)
		wantStatus(t, rec, http.StatusSeeOther)
		if loc := rec.Header().Get("Location"); strings.HasPrefix(loc, "//") {
			t.Errorf("Location %q leaves the site", loc)
		}
	})
	t.Run("an unknown account is not found", func(t *testing.T) {
		wantStatus(t, e.post("/accounts/9999/refresh", nil), http.StatusNotFound)
		wantStatus(t, e.post("/accounts/abc/refresh", nil), http.StatusNotFound)
	})
}

func TestAnUnreachableFallbackEndpointIsNotPinnedAndSaysWhatIsWrong(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close() // nothing listens there any more: connections are refused
	e.client.MonitoringFallback = gone.URL + "/v1.0/"
	up := e.upstream(fakerax.AccountSpec{Username: "uncatalogued", Servers: 2, Alarms: 1})
	e.fake.SetFault(up.Username, fakerax.Fault{NoMonitoringEndpoint: true})
	a := e.addAccount(up, "")
	accountPage := "/accounts/" + idStr(a.ID)

	ctx, stop := context.WithCancel(e.ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = e.poller.Run(ctx) }()
	defer func() { stop(); <-done }()

	waitUntil(t, "the first poll to fail", func() bool {
		acct, err := e.store.Account(e.ctx, a.ID)
		return err == nil && acct.Status.ErrorCount > 0
	})
	t.Run("the page says the catalog has no Monitoring endpoint and the documented address failed", func(t *testing.T) {
		msg := e.page(accountPage).Find(".poll-error").Text()
		tried := gone.URL + "/v1.0/" + up.TenantID
		if !strings.Contains(msg, "lists no Cloud Monitoring endpoint") || !strings.Contains(msg, tried) {
			t.Errorf("poll error %q, want the catalog named and %s", msg, tried)
		}
		if strings.Contains(msg, "timeout or connection refused") {
			t.Errorf("poll error %q reads as an outage", msg)
		}
	})

	// Support fixes the catalog; "Refresh now" must log in again and find it.
	e.fake.ClearFault(up.Username)
	before := e.fake.Counters(up.Username)
	wantRedirect(t, e.post(accountPage+"/refresh", nil), "/")
	waitUntil(t, "a poll after Refresh now to succeed", func() bool {
		acct, err := e.store.Account(e.ctx, a.ID)
		return err == nil && acct.Status.ErrorCount == 0 && !acct.Status.LastSuccessAt.IsZero()
	})
	if after := e.fake.Counters(up.Username); after.Identity == before.Identity || after.Overview == before.Overview {
		t.Errorf("Refresh now made %d logins and %d overview requests, want a fresh login and a read",
			after.Identity-before.Identity, after.Overview-before.Overview)
	}
	// The store tells the wall after the poll's commit: the page follows
	// within moments, not necessarily at once.
	waitUntil(t, "the page to drop the poll error", func() bool {
		return e.page(accountPage).Find(".poll-error").Length() == 0
	})
}

func TestHealthAndStaticRoutes(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	t.Run("healthz answers ok while the database answers", func(t *testing.T) {
		rec := e.get("/healthz")
		wantStatus(t, rec, http.StatusOK)
		if got := strings.TrimSpace(rec.Body.String()); got != "ok" {
			t.Errorf("body %q, want ok", got)
		}
	})
	t.Run("the stylesheet and htmx are served", func(t *testing.T) {
		for _, p := range []string{"/static/app.css", "/static/htmx-2.0.11.min.js"} {
			rec := e.get(p)
			wantStatus(t, rec, http.StatusOK)
			if rec.Body.Len() == 0 {
				t.Errorf("%s is empty", p)
			}
		}
	})
	t.Run("an unknown page is a 404 page", func(t *testing.T) {
		rec := e.get("/no/such/page")
		wantStatus(t, rec, http.StatusNotFound)
		if !strings.Contains(rec.Body.String(), "There is no page at this address.") {
			t.Errorf("body:\n%s", rec.Body)
		}
	})
}

func TestHealthzFailsWhenThePollerStopsRunning(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	e.h.opts.PollerHealth = e.poller
	ctx, stop := context.WithCancel(e.ctx)
	done := make(chan struct{})
	made := e.poller.LastLoop()
	go func() { defer close(done); _ = e.poller.Run(ctx) }()
	waitUntil(t, "the poll loop to go round", func() bool { return e.poller.LastLoop().After(made) })

	t.Run("a running poller is healthy", func(t *testing.T) {
		rec := e.anonymous(httptest.NewRequest(http.MethodGet, "/healthz", nil))
		wantStatus(t, rec, http.StatusOK)
		if got := strings.TrimSpace(rec.Body.String()); got != "ok" {
			t.Errorf("body %q, want ok", got)
		}
	})

	stop()
	<-done
	last := e.poller.LastLoop()
	tests := []struct {
		name   string
		after  time.Duration
		status int
		body   string
	}{
		{"a poller stopped for less than three poll intervals is not reported yet", 3*pollInterval - 5*time.Second, http.StatusOK, "ok"},
		{"a poller stopped for longer answers 503 with how long", 2*time.Minute + 10*time.Second, http.StatusServiceUnavailable, "poller has not run for 2m10s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.h.now = func() time.Time { return last.Add(tt.after) }
			rec := e.anonymous(httptest.NewRequest(http.MethodGet, "/healthz", nil))
			wantStatus(t, rec, tt.status)
			if got := strings.TrimSpace(rec.Body.String()); got != tt.body {
				t.Errorf("body %q, want %q", got, tt.body)
			}
		})
	}
	t.Run("without a poller to watch only the database counts", func(t *testing.T) {
		e.h.opts.PollerHealth = nil
		wantStatus(t, e.anonymous(httptest.NewRequest(http.MethodGet, "/healthz", nil)), http.StatusOK)
	})
}

// waitUntil polls cond for up to ten seconds.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestSignInGuardsTheDashboard(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	up := e.upstream(fakerax.AccountSpec{Username: "guarded", Servers: 2, Alarms: 2})
	a := e.addAccount(up, "")
	e.poll(a.ID)
	serverPath := "/accounts/" + idStr(a.ID) + "/servers/" + e.fake.Entities(up.Username)[0].ID
	public := newHandler(e.store, e.poller, e.client, e.log, Options{PollInterval: pollInterval, PublicDashboard: true}).Routes()
	serve := func(h http.Handler, req *http.Request) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}

	tests := []struct {
		name     string
		handler  http.Handler
		method   string
		path     string
		htmx     bool
		status   int
		location string
	}{
		{"a visitor who is not signed in is sent to sign in", e.h.Routes(), "GET", "/", false, http.StatusSeeOther, "/login"},
		{"the sign-in page brings the visitor back afterwards", e.h.Routes(), "GET", "/settings", false, http.StatusSeeOther, "/login?next=%2Fsettings"},
		{"an htmx refresh without a session redirects the whole page", e.h.Routes(), "GET", "/", true, http.StatusUnauthorized, ""},
		{"a form post without a session is refused", e.h.Routes(), "POST", "/settings/accounts", false, http.StatusUnauthorized, ""},
		{"a public dashboard shows the wall without sign-in", public, "GET", "/", false, http.StatusOK, ""},
		{"a public dashboard shows server pages without sign-in", public, "GET", serverPath, false, http.StatusOK, ""},
		{"a public dashboard still guards settings", public, "GET", "/settings", false, http.StatusSeeOther, "/login?next=%2Fsettings"},
		{"a public dashboard still guards refresh", public, "POST", "/accounts/" + idStr(a.ID) + "/refresh", false, http.StatusUnauthorized, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader
			if tt.method == http.MethodPost {
				body = strings.NewReader(url.Values{"username": {up.Username}, "apikey": {up.APIKey}}.Encode())
			}
			req := httptest.NewRequest(tt.method, tt.path, body)
			if body != nil {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			if tt.htmx {
				req.Header.Set("HX-Request", "true")
			}
			rec := serve(tt.handler, req)
			wantStatus(t, rec, tt.status)
			if tt.location != "" && rec.Header().Get("Location") != tt.location {
				t.Errorf("Location %q, want %q", rec.Header().Get("Location"), tt.location)
			}
			if tt.htmx && rec.Header().Get("HX-Redirect") != "/login" {
				t.Errorf("HX-Redirect %q, want /login", rec.Header().Get("HX-Redirect"))
			}
		})
	}

	t.Run("signing in with the form gives a session cookie that opens settings", func(t *testing.T) {
		rec := e.anonymous(formRequest("/login", url.Values{"username": {testUser}, "password": {testPassword}, "next": {"/settings"}}))
		wantRedirect(t, rec, "/settings")
		cookies := rec.Result().Cookies()
		if len(cookies) == 0 {
			t.Fatal("no session cookie after signing in")
		}
		req := httptest.NewRequest(http.MethodGet, "/settings", nil)
		for _, c := range cookies {
			req.AddCookie(c)
		}
		rec = e.anonymous(req)
		wantStatus(t, rec, http.StatusOK)
		if !strings.Contains(rec.Body.String(), "Signed in as "+testUser) {
			t.Error("settings does not show who is signed in")
		}

		// The same session cannot be used by another site's form.
		req = formRequest("/accounts/"+idStr(a.ID)+"/refresh", nil)
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		req.Header.Set("Origin", "https://evil.example.net")
		for _, c := range cookies {
			req.AddCookie(c)
		}
		if rec := e.anonymous(req); rec.Code != http.StatusForbidden {
			t.Errorf("cross-site POST: status %d, want 403", rec.Code)
		}
	})

	t.Run("a wrong password does not sign in", func(t *testing.T) {
		rec := e.anonymous(formRequest("/login", url.Values{"username": {testUser}, "password": {"wrong password!"}}))
		wantStatus(t, rec, http.StatusUnauthorized)
		if !strings.Contains(parse(t, rec).Find(".form-error").Text(), "Wrong username or password.") {
			t.Errorf("body:\n%s", rec.Body)
		}
		if strings.Contains(rec.Body.String(), "wrong password!") {
			t.Error("the typed password is echoed")
		}
	})
}

func formRequest(path string, form url.Values) *http.Request {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}
