package handlers_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"cmdash/handlers"
	"cmdash/migrations"
	"cmdash/monitoring/sqlite"
	"cmdash/monitoring/wall"
)

func TestSignInSignOutAndSessionCookie(t *testing.T) {
	t.Parallel()
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

func TestSetupOnlyWhileNoUserExists(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dbPath := filepath.Join(t.TempDir(), "d.db")
	db, err := sqlite.OpenDB(ctx, dbPath, migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sealer, _ := sqlite.NewSealer("a test secret that is long enough")
	store := sqlite.NewStore(db, sealer)
	store.SetPasswordCost(bcrypt.MinCost) // cheap in tests; production keeps the default (see package sqlite)
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

func TestRedirectTargetsStayOnThisSite(t *testing.T) {
	t.Parallel()
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
