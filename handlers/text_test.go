package handlers

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"cmdash/monitoring/fakerax"
)

func TestAPasswordMayHoldAnythingPrintableButNoControlCharacter(t *testing.T) {
	t.Parallel()
	t.Run("a password may hold anything printable but no control character", func(t *testing.T) {
		if got := passwordProblem("The password", "pass\u202Eword ünïcode"); got != "" {
			t.Errorf("printable password refused: %q", got)
		}
		if got := passwordProblem("The password", "pass\tword"); !strings.Contains(got, "control character (U+0009)") {
			t.Errorf("a tab in a password: %q", got)
		}
	})
}

// asParsed is s as a browser reads it back from the page: HTML turns NUL
// into U+FFFD.
func asParsed(s string) string { return strings.ReplaceAll(s, "\x00", "\uFFFD") }

// fieldError is the message beside the input named name inside form.
func fieldError(doc *goquery.Document, form, name string) (msg, value string) {
	in := doc.Find(form + ` input[name="` + name + `"]`)
	return strings.TrimSpace(in.Parent().Find(".field-error").Text()), in.AttrOr("value", "")
}

func TestControlCharactersAreRefusedWhereverTextIsTyped(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	up := e.upstream(fakerax.AccountSpec{Username: "typed", Servers: 2, Alarms: 2})
	stored := e.addAccount(up, "Typed")
	e.poll(stored.ID)
	newUp := e.upstream(fakerax.AccountSpec{Username: "newcomer", Servers: 1, Alarms: 1})

	t.Run("add account form: username and alias", func(t *testing.T) {
		for _, tt := range []struct{ field, username, alias, says string }{
			{"username", "new\x00comer", "Kept alias", "The username contains a control character (U+0000)."},
			{"alias", newUp.Username, "Pay\u202Elapyap", "The alias contains a bidirectional override (U+202E), which can make one name look like another."},
			{"alias", newUp.Username, "\x1b[31mRed", "The alias contains a control character (U+001B)."},
		} {
			logins := e.fake.Counters(newUp.Username).Identity
			rec := e.post("/settings/accounts", url.Values{"username": {tt.username}, "apikey": {newUp.APIKey}, "alias": {tt.alias}})
			wantStatus(t, rec, http.StatusUnprocessableEntity)
			doc := parse(t, rec)
			if msg, _ := fieldError(doc, "#add-account", tt.field); msg != tt.says {
				t.Errorf("%s message %q, want %q", tt.field, msg, tt.says)
			}
			if _, v := fieldError(doc, "#add-account", "username"); v != asParsed(tt.username) {
				t.Errorf("username value %q, want %q kept", v, tt.username)
			}
			if _, v := fieldError(doc, "#add-account", "alias"); v != tt.alias {
				t.Errorf("alias value %q, want %q kept", v, tt.alias)
			}
			if e.fake.Counters(newUp.Username).Identity != logins {
				t.Error("a refused form still called Identity")
			}
		}
	})

	t.Run("edit account form: alias", func(t *testing.T) {
		form := "#account-" + idStr(stored.ID)
		rec := e.post("/settings/accounts/"+idStr(stored.ID), url.Values{"alias": {"Typed\x1b[2J"}, "enabled": {"on"}})
		wantStatus(t, rec, http.StatusUnprocessableEntity)
		msg, v := fieldError(parse(t, rec), form, "alias")
		if msg != "The alias contains a control character (U+001B)." || v != "Typed\x1b[2J" {
			t.Errorf("alias message %q, value %q", msg, v)
		}
	})

	t.Run("API: add account", func(t *testing.T) {
		body, _ := json.Marshal(map[string]string{"username": newUp.Username, "apikey": newUp.APIKey, "alias": "a\u202Eb"})
		rec := e.apiPost("/api/v1/accounts", string(body))
		wantAPIError(t, rec, "alias: The alias contains a bidirectional override (U+202E)")
	})

	t.Run("dashboard save-filter form: name and query", func(t *testing.T) {
		for _, tt := range []struct{ name, query, says string }{
			{"Red\x1b[31m", "state:critical", "The filter name contains a control character (U+001B)."},
			{"Red only", "state:critical\x00", "The filter contains a control character (U+0000)."},
		} {
			rec := e.post("/filters", url.Values{"name": {tt.name}, "query": {tt.query}})
			wantStatus(t, rec, http.StatusUnprocessableEntity)
			doc := parse(t, rec)
			if got := strings.TrimSpace(doc.Find("main .form-error").Text()); got != tt.says {
				t.Errorf("message %q, want %q", got, tt.says)
			}
			if got := doc.Find(`form.save-filter input[name="name"]`).AttrOr("value", ""); got != tt.name {
				t.Errorf("name value %q, want %q kept", got, tt.name)
			}
			if got := doc.Find(`form.save-filter input[name="query"]`).AttrOr("value", ""); got != asParsed(tt.query) {
				t.Errorf("query value %q, want %q kept", got, tt.query)
			}
		}
	})

	t.Run("API: add filter", func(t *testing.T) {
		wantAPIError(t, e.apiPost("/api/v1/filters", `{"filter":"state:critical","name":"\u001b[31mred"}`),
			"The filter name contains a control character (U+001B).")
		wantAPIError(t, e.apiPost("/api/v1/filters", `{"filter":"web\u0000"}`),
			"The filter contains a control character (U+0000).")
		wantAPIError(t, e.apiPost("/api/v1/filters", `{"filter":"web\u0000","name":"Web"}`),
			"The filter contains a control character (U+0000).")
	})

	t.Run("access page: new user's name and password", func(t *testing.T) {
		rec := e.post("/settings/users", url.Values{"username": {"tester\u202E"}, "password": {"a long enough password"}, "confirm": {"a long enough password"}})
		wantStatus(t, rec, http.StatusUnprocessableEntity)
		msg, v := fieldError(parse(t, rec), `form[action="/settings/users"]`, "username")
		if msg != "The username contains a bidirectional override (U+202E), which can make one name look like another." || v != "tester\u202E" {
			t.Errorf("username message %q, value %q", msg, v)
		}
		rec = e.post("/settings/users", url.Values{"username": {"newperson"}, "password": {"a long\tpassword"}, "confirm": {"a long\tpassword"}})
		wantStatus(t, rec, http.StatusUnprocessableEntity)
		msg, v = fieldError(parse(t, rec), `form[action="/settings/users"]`, "password")
		if !strings.Contains(msg, "control character (U+0009)") {
			t.Errorf("password message %q", msg)
		}
		if v != "" {
			t.Errorf("the refused password is shown back: %q", v)
		}
		if _, v = fieldError(parse(t, rec), `form[action="/settings/users"]`, "username"); v != "newperson" {
			t.Errorf("username value %q, want kept", v)
		}
	})

	t.Run("access page: own new password", func(t *testing.T) {
		rec := e.post("/settings/password", url.Values{"current": {testPassword}, "password": {"new\x00password!"}, "confirm": {"new\x00password!"}})
		wantStatus(t, rec, http.StatusUnprocessableEntity)
		if msg, _ := fieldError(parse(t, rec), `form[action="/settings/password"]`, "password"); !strings.Contains(msg, "control character (U+0000)") {
			t.Errorf("password message %q", msg)
		}
	})

	t.Run("access page: API token name", func(t *testing.T) {
		rec := e.post("/settings/tokens", url.Values{"name": {"bot\x1b[2J"}})
		wantStatus(t, rec, http.StatusUnprocessableEntity)
		doc := parse(t, rec)
		form := doc.Find(`form[action="/settings/tokens"]`)
		if got := strings.TrimSpace(form.Find(".field-error").Text()); got != "The token name contains a control character (U+001B)." {
			t.Errorf("message %q", got)
		}
		if got := form.Find(`input[name="name"]`).AttrOr("value", ""); got != "bot\x1b[2J" {
			t.Errorf("name value %q, want kept", got)
		}
	})

	t.Run("sign-in form: username, without counting a failure", func(t *testing.T) {
		for range 8 {
			rec := e.anonymous(formRequest("/login", url.Values{"username": {"test\u202Eer"}, "password": {"guess"}}))
			wantStatus(t, rec, http.StatusUnprocessableEntity)
			msg, v := fieldError(parse(t, rec), `form[action="/login"]`, "username")
			if !strings.Contains(msg, "bidirectional override (U+202E)") || v != "test\u202Eer" {
				t.Fatalf("username message %q, value %q", msg, v)
			}
		}
		rec := e.anonymous(formRequest("/login", url.Values{"username": {testUser}, "password": {testPassword}}))
		wantStatus(t, rec, http.StatusSeeOther)
	})

	// Nothing refused above was stored.
	if fs, _ := e.store.ListFilters(e.ctx); len(fs) != 0 {
		t.Errorf("filters stored: %+v", fs)
	}
	if us, _ := e.store.ListUsers(e.ctx); len(us) != 1 {
		t.Errorf("users stored: %+v", us)
	}
	if ts, _ := e.store.ListAPITokens(e.ctx); len(ts) != 1 {
		t.Errorf("tokens stored: %+v", ts)
	}
	if as, _ := e.store.ListAccounts(e.ctx); len(as) != 1 || as[0].Alias != "Typed" {
		t.Errorf("accounts stored: %+v", as)
	}

	t.Run("setup form: the first user's name", func(t *testing.T) {
		e.removeEveryUser()
		rec := e.anonymous(formRequest("/setup", url.Values{"username": {"ad\x00min"}, "password": {"a long enough password"}, "confirm": {"a long enough password"}}))
		wantStatus(t, rec, http.StatusUnprocessableEntity)
		if msg, _ := fieldError(parse(t, rec), `form[action="/setup"]`, "username"); msg != "The username contains a control character (U+0000)." {
			t.Errorf("username message %q", msg)
		}
		if n, _ := e.store.CountUsers(e.ctx); n != 0 {
			t.Errorf("%d users after a refused setup", n)
		}
	})
}

func TestTheSearchBoxTakesAnyText(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	a := e.addAccount(e.upstream(fakerax.AccountSpec{Username: "search", Servers: 2, Alarms: 2}), "")
	e.poll(a.ID)
	for _, q := range []string{"\x00", "\x1b[31mweb", "a\u202Eb", "\xff\xfe", "state:\x00critical", "sort:worst \u2066x"} {
		for _, path := range []string{"/?q=" + url.QueryEscape(q), "/accounts/" + idStr(a.ID) + "?q=" + url.QueryEscape(q)} {
			if rec := e.get(path); rec.Code != http.StatusOK {
				t.Errorf("GET %s: %d", path, rec.Code)
			}
			if rec := e.getHTMX(path); rec.Code != http.StatusOK {
				t.Errorf("GET %s (htmx): %d", path, rec.Code)
			}
		}
	}
}

func (e *testEnv) apiPost(path, jsonBody string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(jsonBody))
	req.Header.Set("Content-Type", "application/json")
	return e.do(req)
}

func wantAPIError(t *testing.T, rec *httptest.ResponseRecorder, says string) {
	t.Helper()
	var env struct{ Response, Message string }
	if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil {
		t.Fatalf("status %d, body %q: %v", rec.Code, rec.Body, err)
	}
	if rec.Code != http.StatusBadRequest || env.Response != "error" || !strings.Contains(env.Message, says) {
		t.Errorf("status %d, %+v; want 400 error saying %q", rec.Code, env, says)
	}
}
