package handlers

import (
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// formAnswer is a page answering a form post.
type formAnswer struct {
	rec *httptest.ResponseRecorder
	doc *goquery.Document
}

// tooLarge requires rec to answer a form post too large to read with a
// page (413), not a bare error.
func tooLarge(t *testing.T, rec *httptest.ResponseRecorder) *formAnswer {
	t.Helper()
	wantStatus(t, rec, http.StatusRequestEntityTooLarge)
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Fatalf("Content-Type %q, want a page", ct)
	}
	return &formAnswer{rec: rec, doc: parse(t, rec)}
}

func TestAFormPostThatCannotBeReadWholeIsShownAgain(t *testing.T) {
	t.Parallel()
	a := newAckEnv(t)
	e := a.testEnv
	big := strings.Repeat("x", 1<<20) // a megabyte pasted into one field
	acct := idStr(a.acct.ID)

	// value is the value of the input named name in the form sel.
	value := func(rec *formAnswer, sel, name string) string {
		return rec.doc.Find(sel+` [name="`+name+`"]`).AttrOr("value", "")
	}
	tests := []struct {
		name, path string
		form       url.Values
		formSel    string            // the form shown again
		kept       map[string]string // inputs of that form with the values they keep
	}{
		{"add account", "/settings/accounts", url.Values{"username": {"keepme"}, "apikey": {big}, "alias": {"Kept alias"}},
			"#add-account", map[string]string{"username": "keepme", "alias": "Kept alias"}},
		{"edit account", "/settings/accounts/" + acct, url.Values{"alias": {"New alias"}, "apikey": {big}, "enabled": {"on"}},
			"#account-" + acct + " form", map[string]string{"alias": "New alias"}},
		{"save filter", "/filters", url.Values{"name": {"Red only"}, "query": {big}},
			"form.save-filter", map[string]string{"name": "Red only"}},
		{"new wall link", "/settings/wall-links", url.Values{"name": {"Hall TV"}, "query": {big}, "wall_mode": {"on"}},
			"#new-wall-link-form", map[string]string{"name": "Hall TV"}},
		{"new user", "/settings/users", url.Values{"username": {"newperson"}, "password": {big}, "confirm": {"x"}},
			`form[action="/settings/users"]`, map[string]string{"username": "newperson"}},
		{"own password", "/settings/password", url.Values{"current": {big}, "password": {"a new long password"}, "confirm": {"a new long password"}},
			`form[action="/settings/password"]`, nil},
		{"API token", "/settings/tokens", url.Values{"name": {big}},
			`form[action="/settings/tokens"]`, nil},
		{"acknowledgement", a.serverPath(a.problem) + "/acks", url.Values{"alarm": {a.problemAlarm}, "note": {big}, "expiry": {"1h"}},
			"#ack-form", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ans := tooLarge(t, e.post(tt.path, tt.form))
			form := ans.doc.Find(tt.formSel)
			if form.Length() == 0 {
				t.Fatalf("no form %s on the page shown again", tt.formSel)
			}
			if msg := form.Find(".form-error").Text() + form.Find(".field-error").Text() + ans.doc.Find("main > .form-error").Text(); !strings.Contains(msg, "too large") {
				t.Errorf("the form says %q, not that it was too large", msg)
			}
			for name, want := range tt.kept {
				if got := value(ans, tt.formSel, name); got != want {
					t.Errorf("%s: value %q, want %q kept", name, got, want)
				}
			}
		})
	}
	t.Run("the acknowledgement form keeps its choices", func(t *testing.T) {
		ans := tooLarge(t, e.post(a.serverPath(a.problem)+"/acks", url.Values{"alarm": {a.problemAlarm}, "note": {big}, "expiry": {"1h"}}))
		if got := ans.doc.Find(`#ack-form select[name="expiry"] option[selected]`).AttrOr("value", ""); got != "1h" {
			t.Errorf("expiry %q, want 1h kept", got)
		}
		if got := ans.doc.Find(`#ack-form select[name="alarm"] option[selected]`).AttrOr("value", ""); got != a.problemAlarm {
			t.Errorf("alarm %q, want %q kept", got, a.problemAlarm)
		}
	})

	t.Run("a form with a field that is not URL-encoded", func(t *testing.T) {
		req := formRequest("/settings/accounts", nil)
		req.Body = io.NopCloser(strings.NewReader("username=keepme&alias=100%25%zz&apikey=k"))
		rec := e.do(req)
		wantStatus(t, rec, http.StatusBadRequest)
		doc := parse(t, rec)
		if msg := doc.Find("#add-account .form-error").Text(); !strings.Contains(msg, "could not be read") {
			t.Errorf("the form says %q", msg)
		}
		if got := doc.Find(`#add-account [name="username"]`).AttrOr("value", ""); got != "keepme" {
			t.Errorf("username %q, want kept", got)
		}
	})

	t.Run("sign-in", func(t *testing.T) {
		ans := tooLarge(t, e.anonymous(formRequest("/login", url.Values{"username": {testUser}, "password": {big}, "next": {"/settings"}})))
		if msg := ans.doc.Find("main .form-error").Text(); !strings.Contains(msg, "too large") {
			t.Errorf("the form says %q", msg)
		}
		if got := value(ans, `form[action="/login"]`, "username"); got != testUser {
			t.Errorf("username %q, want kept", got)
		}
		if got := value(ans, `form[action="/login"]`, "next"); got != "/settings" {
			t.Errorf("next %q, want kept", got)
		}
		if len(ans.rec.Result().Cookies()) != 0 {
			t.Error("a session cookie was set")
		}
	})

	// Nothing was stored or changed.
	if accts, _ := e.store.ListAccounts(e.ctx); len(accts) != 1 || accts[0].Alias != "" {
		t.Errorf("accounts: %+v", accts)
	}
	if fs, _ := e.store.ListFilters(e.ctx); len(fs) != 0 {
		t.Errorf("filters: %+v", fs)
	}
	if ls, _ := e.store.ListWallLinks(e.ctx); len(ls) != 0 {
		t.Errorf("wall links: %+v", ls)
	}
	if us, _ := e.store.ListUsers(e.ctx); len(us) != 1 {
		t.Errorf("users: %+v", us)
	}
	if ts, _ := e.store.ListAPITokens(e.ctx); len(ts) != 1 {
		t.Errorf("tokens: %+v", ts)
	}
	if acks := a.active(); len(acks) != 0 {
		t.Errorf("acknowledgements: %+v", acks)
	}
	if _, err := e.store.Authenticate(e.ctx, testUser, testPassword); err != nil {
		t.Errorf("the password changed: %v", err)
	}

	t.Run("setup", func(t *testing.T) {
		e.removeEveryUser()
		ans := tooLarge(t, e.anonymous(formRequest("/setup", url.Values{"username": {"admin"}, "password": {big}, "confirm": {big}})))
		form := ans.doc.Find(`form[action="/setup"]`)
		if msg := ans.doc.Find("main .form-error").Text(); !strings.Contains(msg, "too large") {
			t.Errorf("the form says %q", msg)
		}
		if got := form.Find(`input[name="username"]`).AttrOr("value", ""); got != "admin" {
			t.Errorf("username %q, want kept", got)
		}
		if n, _ := e.store.CountUsers(e.ctx); n != 0 {
			t.Errorf("%d users after a refused setup", n)
		}
	})
}

func TestReadForm(t *testing.T) {
	t.Parallel()
	half := strings.Repeat("h", maxFormBody/2)
	tests := []struct {
		name, body string
		want       url.Values
		status     int // of the problem; 0 for none
	}{
		{"an empty form", "", url.Values{}, 0},
		{"fields as ParseForm reads them", "a=1&b=two+words&a=%C3%A9&c=&&d", url.Values{"a": {"1", "é"}, "b": {"two words"}, "c": {""}, "d": {""}}, 0},
		{"a field too large is left out, the others kept", "a=1&big=" + strings.Repeat("x", maxFormBody) + "&b=2", url.Values{"a": {"1"}, "b": {"2"}}, 413},
		{"fields past the limit together are left out", "a=" + half + "&b=" + half + "&c=3", url.Values{"a": {half}, "c": {"3"}}, 413},
		{"a post past what is read at all keeps what came before", "a=1&big=" + strings.Repeat("x", maxFormRead), url.Values{"a": {"1"}}, 413},
		{"a field that is not URL-encoded is left out", "a=%zz&b=2", url.Values{"b": {"2"}}, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := formRequest("/", nil)
			r.Body = io.NopCloser(strings.NewReader(tt.body))
			p := readForm(httptest.NewRecorder(), r)
			status := 0
			if p != nil {
				status = p.status
			}
			if status != tt.status {
				t.Errorf("problem %+v, want status %d", p, tt.status)
			}
			if len(r.PostForm) != len(tt.want) {
				t.Errorf("fields %v, want %v", keys(r.PostForm), keys(tt.want))
			}
			for k, want := range tt.want {
				if got := r.PostForm[k]; !slices.Equal(got, want) {
					t.Errorf("%s = %.20q, want %.20q", k, got, want)
				}
			}
		})
	}
}

func keys(v url.Values) []string { return slices.Sorted(maps.Keys(v)) }
