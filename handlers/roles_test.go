package handlers

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"cmdash/monitoring"
	"cmdash/monitoring/fakerax"

	"github.com/PuerkitoBio/goquery"
)

// caller makes requests as one user, by session or by token.
type caller struct {
	name  string
	role  monitoring.Role // what the caller acts as; NoRole: nobody signed in
	token string          // bearer token; "" signs in with a session
	user  string
	pass  string
}

// TestEveryRouteAnswersByRole walks the route table: every route, as every
// role, by session and by token. A caller with the role gets past the
// guard (whatever the handler then says of the empty request); one
// without gets a 403 that names the role, a page or the API's envelope;
// nobody signed in is asked to sign in.
func TestEveryRouteAnswersByRole(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	e.h.opts.Metrics = NewMetrics(e.store)
	acct := e.addAccount(e.upstream(fakerax.AccountSpec{Servers: 2, Alarms: 2}), "")
	e.poll(acct.ID)

	callers := []caller{{name: "nobody"}}
	for _, role := range monitoring.Roles {
		user, pass := "a-"+role.String(), "the "+role.String()+"'s password"
		u, err := e.store.CreateUser(e.ctx, user, pass, role)
		if err != nil {
			t.Fatal(err)
		}
		token, _, err := e.store.CreateAPIToken(e.ctx, u.ID, "script", monitoring.NoRole)
		if err != nil {
			t.Fatal(err)
		}
		callers = append(callers,
			caller{name: role.String() + " session", role: role, user: user, pass: pass},
			caller{name: role.String() + " token", role: role, token: token})
	}
	// An admin's token made to act as a viewer does no more than a viewer.
	admin, _ := e.store.UserByName(e.ctx, "a-admin")
	narrow, _, err := e.store.CreateAPIToken(e.ctx, admin.ID, "read only", monitoring.Viewer)
	if err != nil {
		t.Fatal(err)
	}
	callers = append(callers, caller{name: "admin's viewer token", role: monitoring.Viewer, token: narrow})

	// Values that pass a route's pattern; removals name nothing that
	// exists, so that no caller takes away what the next one needs.
	fill := strings.NewReplacer(
		"{$}", "", "{token...}", "nothing",
		"{username}", acct.Username, "{server}", "srv-0",
	)
	routes := e.h.routes()
	if len(routes) < 45 {
		t.Fatalf("only %d routes in the table", len(routes))
	}
	for _, rt := range routes {
		if rt.need == wallLink {
			continue // its token is its access: see the wall-link tests
		}
		method, pattern, _ := strings.Cut(rt.pattern, " ")
		path := fill.Replace(pattern)
		if method == http.MethodGet {
			path = strings.ReplaceAll(path, "{id}", strconv.FormatInt(acct.ID, 10))
		} else {
			path = strings.ReplaceAll(path, "{id}", "999999")
		}
		for _, c := range callers {
			t.Run(rt.pattern+" as "+c.name, func(t *testing.T) {
				req := httptest.NewRequest(method, path, strings.NewReader(""))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				switch {
				case c.token != "":
					req.Header.Set("Authorization", "Bearer "+c.token)
				case c.user != "":
					for _, ck := range e.signIn(c.user, c.pass) {
						req.AddCookie(ck)
					}
				}
				rec := e.anonymous(req)
				api := strings.HasPrefix(path, "/api/") || path == "/metrics"
				switch {
				case rt.need == open:
					// Sign-in and sign-out answer for themselves (a 401 for an
					// empty form, a redirect to /login); only never a 403.
					if rec.Code == http.StatusForbidden {
						t.Fatalf("%s: 403 on an open route", c.name)
					}
				case (c.role != monitoring.NoRole && c.role.Allows(rt.need.role())):
					if rec.Code == http.StatusUnauthorized || rec.Code == http.StatusForbidden ||
						strings.HasPrefix(rec.Header().Get("Location"), "/login") {
						t.Fatalf("%s: %d %s, want past the guard", c.name, rec.Code, rec.Header().Get("Location"))
					}
				case c.role == monitoring.NoRole:
					if rec.Code != http.StatusUnauthorized && !strings.HasPrefix(rec.Header().Get("Location"), "/login") {
						t.Fatalf("nobody signed in: %d, want to be asked to sign in", rec.Code)
					}
				default:
					wantStatus(t, rec, http.StatusForbidden)
					need := "needs the " + rt.need.role().String() + " role"
					if api {
						var env struct{ Response, Message string }
						if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil || env.Response != "error" || !strings.Contains(env.Message, need) {
							t.Fatalf("not the API's envelope naming the role: %s", rec.Body)
						}
						return
					}
					if msg := parse(t, rec).Find("main").Text(); !strings.Contains(msg, need) {
						t.Fatalf("the page does not say what it needs: %q", msg)
					}
				}
			})
		}
	}

	t.Run("every route of the mux is in the table", func(t *testing.T) {
		// A route added to Routes by hand would escape this test.
		for _, rt := range routes {
			if rt.need != open && rt.need != wallLink && rt.need.role() == monitoring.NoRole {
				t.Errorf("%s has no role", rt.pattern)
			}
		}
	})
}

// signIn signs in with a password and returns the session cookies.
func (e *testEnv) signIn(user, pass string) []*http.Cookie {
	e.t.Helper()
	rec := e.anonymous(formRequest("/login", url.Values{"username": {user}, "password": {pass}}))
	if rec.Code != http.StatusSeeOther {
		e.t.Fatalf("sign in as %s: %d", user, rec.Code)
	}
	return rec.Result().Cookies()
}

func TestTheLastAdminKeepsTheRole(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	me, _ := e.store.UserByName(e.ctx, testUser)
	rec := e.post("/settings/users/"+strconv.FormatInt(me.ID, 10)+"/role", url.Values{"role": {"viewer"}})
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	if msg := parse(t, rec).Find(".form-error").Text(); !strings.Contains(msg, "last admin") {
		t.Errorf("message %q", msg)
	}
	if u, _ := e.store.UserByName(e.ctx, testUser); u.Role != monitoring.Admin {
		t.Fatalf("role %v", u.Role)
	}
	// With a second admin the first may step down.
	other, err := e.store.CreateUser(e.ctx, "second", "a second admin's password", monitoring.Operator)
	if err != nil {
		t.Fatal(err)
	}
	wantRedirect(t, e.post("/settings/users/"+strconv.FormatInt(other.ID, 10)+"/role", url.Values{"role": {"admin"}}), "/settings/access?done=role")
	wantRedirect(t, e.post("/settings/users/"+strconv.FormatInt(me.ID, 10)+"/role", url.Values{"role": {"operator"}}), "/settings/access?done=role")
	// The test user's token now acts as an operator: no more user admin.
	wantStatus(t, e.post("/settings/users/"+strconv.FormatInt(other.ID, 10)+"/role", url.Values{"role": {"viewer"}}), http.StatusForbidden)
	if rec := e.post("/settings/users/"+strconv.FormatInt(other.ID, 10)+"/role", url.Values{"role": {"root"}}); rec.Code != http.StatusForbidden {
		t.Errorf("a bad role from an operator: %d, want 403 before the form is read", rec.Code)
	}
}

func TestRoleFormsKeepWhatWasTyped(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	rec := e.post("/settings/users", url.Values{"username": {"carol"}, "password": {"short"}, "confirm": {"short"}, "role": {"operator"}})
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	doc := parse(t, rec)
	if v, _ := doc.Find(`form[action="/settings/users"] input[name=username]`).Attr("value"); v != "carol" {
		t.Errorf("username kept as %q", v)
	}
	if v, _ := doc.Find(`form[action="/settings/users"] select[name=role] option[selected]`).Attr("value"); v != "operator" {
		t.Errorf("role kept as %q", v)
	}
	rec = e.post("/settings/users", url.Values{"username": {"carol"}, "password": {"a long enough password"}, "confirm": {"a long enough password"}, "role": {"root"}})
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	if msg := parse(t, rec).Find(`form[action="/settings/users"] .field-error`).Text(); !strings.Contains(msg, "Choose a role") {
		t.Errorf("message %q", msg)
	}
	rec = e.post("/settings/tokens", url.Values{"name": {"bot"}, "role": {"superuser"}})
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	if v, _ := parse(t, rec).Find(`form[action="/settings/tokens"] input[name=name]`).Attr("value"); v != "bot" {
		t.Errorf("token name kept as %q", v)
	}
	wantRedirect(t, e.post("/settings/users", url.Values{"username": {"carol"}, "password": {"a long enough password"}, "confirm": {"a long enough password"}, "role": {"operator"}}), "/settings/access?done=user-added")
	if u, _ := e.store.UserByName(e.ctx, "carol"); u.Role != monitoring.Operator {
		t.Errorf("carol is a %v", u.Role)
	}
}

func TestAViewerSeesNoControlsThatChangeState(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	acct := e.addAccount(e.upstream(fakerax.AccountSpec{Servers: 2, Alarms: 2, CriticalShare: 0.5}), "")
	e.poll(acct.ID)
	if _, err := e.store.CreateUser(e.ctx, "vic", "the viewer's password", monitoring.Viewer); err != nil {
		t.Fatal(err)
	}
	cookies := e.signIn("vic", "the viewer's password")
	get := func(path string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		for _, ck := range cookies {
			req.AddCookie(ck)
		}
		return e.anonymous(req)
	}
	server, ok := parse(t, get("/")).Find(".tile a[href*='/servers/']").First().Attr("href")
	if !ok {
		t.Fatal("no server on the wall")
	}
	for _, path := range []string{"/", "/accounts/" + strconv.FormatInt(acct.ID, 10), server, "/settings", "/settings/access"} {
		rec := get(path)
		wantStatus(t, rec, http.StatusOK)
		doc := parse(t, rec)
		doc.Find("form[method=post]").Each(func(_ int, f *goquery.Selection) {
			if a, _ := f.Attr("action"); a != "/logout" && a != "/settings/password" {
				t.Errorf("%s: a viewer is offered %q", path, a)
			}
		})
		if path == "/settings" && doc.Find("#wall-links, .wall-links").Length() > 0 {
			t.Errorf("a viewer sees the wall links")
		}
		if !strings.Contains(doc.Find("button[title^='Signed in as'], .signout, form[action='/logout']").Text()+doc.Text(), "Sign out") {
			t.Errorf("%s: no way to sign out", path)
		}
	}
	if msg := parse(t, get("/settings/access")).Find("main").Text(); !strings.Contains(msg, "a viewer") {
		t.Errorf("the access page does not say the role: %q", msg)
	}
}
