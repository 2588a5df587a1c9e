package handlers_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"cmdash/handlers"
	"cmdash/monitoring/fakerax"
	"cmdash/views"
)

// newLinkApp is a dashboard with two accounts: "prod" (web-1, db-1, every
// alarm CRITICAL, so wall mode shows its tiles) and "stage" (web-2,
// cache-1).
func newLinkApp(t *testing.T) *app {
	return newApp(t, handlers.Options{},
		fakerax.AccountSpec{Username: "prod", Servers: 2, Alarms: 2, CriticalShare: 1, Labels: []string{"web-1", "db-1"}},
		fakerax.AccountSpec{Username: "stage", Servers: 2, Alarms: 2, Labels: []string{"web-2", "cache-1"}})
}

// createWallLink posts the settings form as c and returns the token from
// the address shown once.
func (a *app) createWallLink(c *http.Client, form url.Values) string {
	a.t.Helper()
	resp := a.do(c, "POST", "/settings/wall-links", form, nil)
	if resp.StatusCode != http.StatusOK {
		a.t.Fatalf("create wall link: status %d: %s", resp.StatusCode, readBody(a.t, resp))
	}
	doc := docOf(a.t, readBody(a.t, resp))
	shown := strings.TrimSpace(doc.Find("#new-wall-link .link-url").Text())
	token, ok := strings.CutPrefix(shown, a.srv.URL+"/w/")
	if !ok || !strings.HasPrefix(token, "wl_") {
		a.t.Fatalf("the new link's address is %q, want %s/w/wl_…", shown, a.srv.URL)
	}
	return token
}

func docOf(t *testing.T, body string) *goquery.Document {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// pageBuild is the build a page sends back with its htmx requests.
func pageBuild(t *testing.T, doc *goquery.Document) string {
	t.Helper()
	var hdr map[string]string
	if err := json.Unmarshal([]byte(doc.Find("body").AttrOr("hx-headers", "")), &hdr); err != nil {
		t.Fatalf("body hx-headers: %v", err)
	}
	return hdr[views.BuildHeader]
}

// refresh is the grid's own htmx refresh of a page at path.
func (a *app) refresh(c *http.Client, path, build string) *http.Response {
	a.t.Helper()
	return a.do(c, "GET", path, nil, http.Header{
		"Hx-Request": {"true"}, "Hx-Current-Url": {a.srv.URL + path}, http.CanonicalHeaderKey(views.BuildHeader): {build}})
}

// leadsNowhere fails when a page opened with a wall link has a link or a
// form: it must lead nowhere the link does not open.
func leadsNowhere(t *testing.T, doc *goquery.Document) {
	t.Helper()
	doc.Find("a[href], form").Each(func(_ int, s *goquery.Selection) {
		h, _ := goquery.OuterHtml(s)
		t.Errorf("a wall link's page leads elsewhere: %.120s", h)
	})
}

func tileLabels(doc *goquery.Document) []string {
	var out []string
	doc.Find("#grid li.tile .label").Each(func(_ int, s *goquery.Selection) { out = append(out, s.Text()) })
	return out
}

func TestAWallLinkOpensTheWallAndNothingElse(t *testing.T) {
	t.Parallel()
	a := newLinkApp(t)
	ctx := context.Background()
	admin := a.signedIn()
	token := a.createWallLink(admin, url.Values{"name": {"Hall TV"}, "query": {"db"}, "wall_mode": {"on"}})
	path := "/w/" + token
	tv := a.client() // the screen: no cookies, no password

	t.Run("the token is stored hashed and shown once", func(t *testing.T) {
		var hash []byte
		var rest string
		err := a.store.DB().QueryRow(`SELECT token_hash, name || prefix || query || created_by FROM wall_links`).Scan(&hash, &rest)
		if err != nil {
			t.Fatal(err)
		}
		if sum := sha256.Sum256([]byte(token)); string(hash) != string(sum[:]) || strings.Contains(rest, token) {
			t.Error("the table holds more than the token's hash")
		}
		body := readBody(t, a.do(admin, "GET", "/settings", nil, nil))
		if strings.Contains(body, token) {
			t.Error("the settings page shows the token again")
		}
		item := docOf(t, body).Find("#wall-links li")
		if item.Length() != 1 || !strings.Contains(item.Text(), "Hall TV") || !strings.Contains(item.Text(), token[:9]+"…") ||
			!strings.Contains(item.Text(), "made by "+adminUser) || !strings.Contains(item.Text(), "wall mode") {
			t.Errorf("settings lists %q, want the link by name, prefix, creator and mode", item.Text())
		}
	})

	var build string
	t.Run("it opens the wall without a sign-in, and the wall only", func(t *testing.T) {
		resp := a.do(tv, "GET", path, nil, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d, want 200", resp.StatusCode)
		}
		if c := resp.Header.Values("Set-Cookie"); len(c) != 0 {
			t.Errorf("the wall link set cookies %q: it must not make a session", c)
		}
		if cc := resp.Header.Get("Cache-Control"); cc != "private, no-cache" {
			t.Errorf("Cache-Control %q, want private, no-cache", cc)
		}
		body := readBody(t, resp)
		doc := docOf(t, body)
		if !doc.Find("html").HasClass("wall") || doc.Find("#grid.wall-grid").Length() != 1 {
			t.Error("not the wall-mode page")
		}
		if strings.Contains(body, `href="/settings"`) || strings.Contains(body, "Refresh now") {
			t.Error("the page offers settings or Refresh now")
		}
		leadsNowhere(t, doc)
		if got := strings.Join(tileLabels(doc), ","); got != "db-1" {
			t.Errorf("tiles %q, want only db-1 (the link's filter)", got)
		}
		if got := doc.Find("#grid").AttrOr("hx-get", ""); got != path {
			t.Errorf("the grid reloads from %q, want %q", got, path)
		}
		build = pageBuild(t, doc)
	})

	t.Run("its refresh gets the grid", func(t *testing.T) {
		resp := a.refresh(tv, path, build)
		body := readBody(t, resp)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("HX-Refresh") != "" || !strings.HasPrefix(body, `<div id="grid"`) {
			t.Fatalf("status %d, HX-Refresh %q, body %.60q: want the grid", resp.StatusCode, resp.Header.Get("HX-Refresh"), body)
		}
		if len(resp.Header.Values("Set-Cookie")) != 0 {
			t.Error("the refresh set a cookie")
		}
		leadsNowhere(t, docOf(t, body))
	})

	t.Run("the URL cannot change its filter", func(t *testing.T) {
		for _, q := range []string{"?q=web", "?q=", "?q=stage"} {
			doc := docOf(t, readBody(t, a.do(tv, "GET", path+q, nil, nil)))
			if got := strings.Join(tileLabels(doc), ","); got != "db-1" {
				t.Errorf("%s: tiles %q, want only db-1", q, got)
			}
		}
	})

	t.Run("a signed-in browser sees the link's page too", func(t *testing.T) {
		leadsNowhere(t, docOf(t, readBody(t, a.do(admin, "GET", path, nil, nil))))
	})

	t.Run("the token opens nothing else", func(t *testing.T) {
		acct, _ := a.store.AccountByUsername(ctx, "prod")
		links, _ := a.store.ListWallLinks(ctx)
		id, linkID := "/accounts/"+itoa(acct.ID), itoa(links[0].ID)
		holds := map[string]http.Header{
			"as a bearer token": {"Authorization": {"Bearer " + token}},
			"as a cookie":       {"Cookie": {"dashboard_session=" + token}},
			"as the referrer":   {"Referer": {a.srv.URL + path}},
		}
		for how, hdr := range holds {
			for _, p := range []string{"/settings", "/settings/access", "/", id, "/wall", "/?token=" + token, "/settings?token=" + token} {
				resp := a.do(a.client(), "GET", p, nil, hdr)
				if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
					t.Errorf("GET %s with the token %s: status %d, want the sign-in page", p, how, resp.StatusCode)
				}
			}
			for _, p := range []string{"/api/v1/accounts", "/api/v1/monitors", "/api/v1/filters", "/metrics", "/api/v1/accounts?token=" + token} {
				if resp := a.do(a.client(), "GET", p, nil, hdr); resp.StatusCode != http.StatusUnauthorized {
					t.Errorf("GET %s with the token %s: status %d, want 401", p, how, resp.StatusCode)
				}
			}
		}
		posts := []string{
			path, path + "/refresh", id + "/refresh", "/settings/accounts", "/settings/accounts/" + itoa(acct.ID),
			"/settings/accounts/" + itoa(acct.ID) + "/delete", "/filters", "/filters/1/delete",
			"/settings/users", "/settings/users/1/delete", "/settings/password", "/settings/tokens", "/settings/tokens/1/delete",
			"/settings/wall-links", "/settings/wall-links/" + linkID + "/delete", "/api/v1/accounts", "/api/v1/filters",
		}
		form := url.Values{"name": {"x"}, "query": {"web"}, "username": {"intruder"}, "password": {"intruder password"},
			"confirm": {"intruder password"}, "token": {token}}
		for _, p := range posts {
			for _, method := range []string{"POST", "DELETE"} {
				if method == "DELETE" && !strings.HasPrefix(p, "/api/") && p != path {
					continue
				}
				for how, hdr := range holds {
					resp := a.do(a.client(), method, p+"?token="+token, form, hdr)
					want := http.StatusUnauthorized
					if strings.HasPrefix(p, "/w/") {
						want = http.StatusMethodNotAllowed
					}
					if resp.StatusCode != want {
						t.Errorf("%s %s with the token %s: status %d, want %d", method, p, how, resp.StatusCode, want)
					}
				}
			}
		}
		if links, _ := a.store.ListWallLinks(ctx); len(links) != 1 {
			t.Errorf("%d wall links after the attempts, want the one", len(links))
		}
		if accts, _ := a.store.ListAccounts(ctx); len(accts) != 2 {
			t.Errorf("%d accounts after the attempts, want 2", len(accts))
		}
		if n, _ := a.store.CountUsers(ctx); n != 1 {
			t.Errorf("%d users after the attempts, want 1", n)
		}
	})

	t.Run("a revoked link opens nothing, and its screen is told", func(t *testing.T) {
		settings := docOf(t, readBody(t, a.do(admin, "GET", "/settings", nil, nil)))
		revoke := settings.Find(`#wall-links form[action$="/delete"]`).AttrOr("action", "")
		if revoke == "" {
			t.Fatal("no revoke form for the link")
		}
		resp := a.do(admin, "POST", revoke, url.Values{}, nil)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/settings?done=link-revoked" {
			t.Fatalf("revoke: status %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		if resp := a.do(admin, "POST", revoke, url.Values{}, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("revoking twice: status %d, want 404", resp.StatusCode)
		}

		page := a.do(tv, "GET", path, nil, nil)
		revoked := readBody(t, page)
		if page.StatusCode != http.StatusNotFound || page.Header.Get("Location") != "" {
			t.Errorf("page: status %d, Location %q; want a 404 and no sign-in", page.StatusCode, page.Header.Get("Location"))
		}
		if strings.Contains(revoked, "prod") || strings.Contains(revoked, `href="/login"`) || strings.Contains(revoked, `href="/settings"`) {
			t.Error("the 404 names accounts or offers a sign-in")
		}
		ref := a.refresh(tv, path, build)
		if ref.StatusCode != http.StatusNotFound || ref.Header.Get("HX-Redirect") != "" || ref.Header.Get("HX-Refresh") != "true" {
			t.Errorf("refresh: status %d, HX-Redirect %q, HX-Refresh %q; want a 404 that reloads the page (which then says so)",
				ref.StatusCode, ref.Header.Get("HX-Redirect"), ref.Header.Get("HX-Refresh"))
		}
		if strings.Contains(readBody(t, ref), `id="grid"`) {
			t.Error("the refresh of a revoked link still gets the grid")
		}

		never := "wl_" + strings.Repeat("A", len(token)-3)
		for _, p := range []string{"/w/" + never, "/w/nonsense", "/w/", "/w/" + token + "/more"} {
			resp := a.do(tv, "GET", p, nil, nil)
			if body := readBody(t, resp); resp.StatusCode != http.StatusNotFound || body != revoked {
				t.Errorf("GET %s: status %d; want the same 404 as a revoked link's", p, resp.StatusCode)
			}
		}
	})

	if strings.Contains(a.logs.String(), token) {
		t.Error("the logs hold the token")
	}
}

func TestAWallLinkWithoutWallModeShowsTheDashboardPageAlone(t *testing.T) {
	t.Parallel()
	a := newLinkApp(t)
	admin := a.signedIn()
	f, err := a.store.CreateFilter(context.Background(), "Web servers", "web")
	if err != nil {
		t.Fatal(err)
	}
	token := a.createWallLink(admin, url.Values{"name": {"Desk"}, "filter": {itoa(f.ID)}})
	resp := a.do(a.client(), "GET", "/w/"+token, nil, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	doc := docOf(t, readBody(t, resp))
	if doc.Find("html").HasClass("wall") || doc.Find("#grid.wall-grid").Length() != 0 {
		t.Error("the page is in wall mode")
	}
	if doc.Find("main h1").Length() != 1 || doc.Find("nav, input").Length() != 0 {
		t.Error("want the dashboard's heading, without navigation or search")
	}
	leadsNowhere(t, doc)
	// Not in wall mode, calm accounts keep their tiles.
	if got := strings.Join(tileLabels(doc), ","); got != "web-1,web-2" {
		t.Errorf("tiles %q, want web-1 and web-2 (the saved filter's)", got)
	}

	// Deleting the saved filter later does not change what the link shows.
	if _, err := a.store.DeleteFilter(context.Background(), f.ID); err != nil {
		t.Fatal(err)
	}
	doc = docOf(t, readBody(t, a.do(a.client(), "GET", "/w/"+token, nil, nil)))
	if got := strings.Join(tileLabels(doc), ","); got != "web-1,web-2" {
		t.Errorf("after the saved filter went: tiles %q, want web-1 and web-2", got)
	}
}

func TestTheWallLinkFormKeepsWhatWasTyped(t *testing.T) {
	t.Parallel()
	a := newLinkApp(t)
	admin := a.signedIn()
	f, err := a.store.CreateFilter(context.Background(), "Problems", "is:problem")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, field, says string
		form              url.Values
	}{
		{"a name is needed", "name", "Name the link",
			url.Values{"name": {"  "}, "query": {"web"}}},
		{"a long name is refused", "name", "up to 64 characters",
			url.Values{"name": {strings.Repeat("n", 65)}, "query": {"web"}, "wall_mode": {"on"}}},
		{"a control character in the name is refused", "name", "The name contains a control character (U+001B).",
			url.Values{"name": {"TV\x1b[2J"}, "query": {"web"}}},
		{"a control character in the filter is refused", "query", "The filter contains a control character (U+0000).",
			url.Values{"name": {"TV"}, "query": {"web\x00"}}},
		{"a long filter is refused", "query", "longer than 255 characters",
			url.Values{"name": {"TV"}, "query": {strings.Repeat("q", 256)}}},
		{"a saved filter that is gone is refused", "filter", "no longer exists",
			url.Values{"name": {"TV"}, "filter": {"999"}, "wall_mode": {"on"}}},
		{"a saved filter and another typed one are refused", "query", "not both",
			url.Values{"name": {"TV"}, "filter": {itoa(f.ID)}, "query": {"web"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := a.do(admin, "POST", "/settings/wall-links", tt.form, nil)
			if resp.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422", resp.StatusCode)
			}
			form := docOf(t, readBody(t, resp)).Find("#new-wall-link-form")
			field := form.Find(`[name="` + tt.field + `"]`)
			if got := strings.TrimSpace(field.Parent().Find(".field-error").Text()); !strings.Contains(got, tt.says) {
				t.Errorf("%s message %q, want %q", tt.field, got, tt.says)
			}
			if got, want := form.Find(`input[name="name"]`).AttrOr("value", ""), strings.TrimSpace(tt.form.Get("name")); got != want {
				t.Errorf("name %q, want %q kept", got, want)
			}
			if got, want := form.Find(`input[name="query"]`).AttrOr("value", ""), strings.ReplaceAll(tt.form.Get("query"), "\x00", "\uFFFD"); got != want {
				t.Errorf("filter %q, want %q kept", got, want)
			}
			if got, want := form.Find(`input[name="wall_mode"]`).Is("[checked]"), tt.form.Get("wall_mode") != ""; got != want {
				t.Errorf("wall mode checked %v, want %v kept", got, want)
			}
			if v := tt.form.Get("filter"); v == itoa(f.ID) && form.Find(`option[selected]`).AttrOr("value", "") != v {
				t.Error("the chosen saved filter is not kept")
			}
		})
	}
	if links, _ := a.store.ListWallLinks(context.Background()); len(links) != 0 {
		t.Errorf("%d links made by refused forms", len(links))
	}

	t.Run("a fresh form has wall mode checked", func(t *testing.T) {
		form := docOf(t, readBody(t, a.do(admin, "GET", "/settings", nil, nil))).Find("#new-wall-link-form")
		if !form.Find(`input[name="wall_mode"]`).Is("[checked]") {
			t.Error("wall mode is not checked by default")
		}
	})
	t.Run("the saved filter typed out again is the same choice", func(t *testing.T) {
		a.createWallLink(admin, url.Values{"name": {"TV"}, "filter": {itoa(f.ID)}, "query": {"is:problem"}})
	})
}
