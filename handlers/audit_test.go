package handlers

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"cmdash/monitoring"
	"cmdash/monitoring/fakerax"
)

// tester is the audit log's name for requests made with e.do: the test
// user's API token.
const tester = "token handlers tests (" + testUser + ")"

// auditLog is every entry, the oldest first.
func (e *testEnv) auditLog() []monitoring.AuditEntry {
	e.t.Helper()
	es, err := e.store.AuditLog(e.ctx, monitoring.AuditQuery{Limit: monitoring.MaxAuditLimit})
	if err != nil {
		e.t.Fatal(err)
	}
	slices.Reverse(es)
	return es
}

// asSession serves req with a session's cookies.
func (e *testEnv) asSession(req *http.Request, cookies []*http.Cookie) *httptest.ResponseRecorder {
	for _, c := range cookies {
		req.AddCookie(c)
	}
	return e.anonymous(req)
}

// wantAudit is an entry expected in the audit log: its action and actor
// exactly, and words its target and detail contain.
type wantAudit struct{ action, actor, target, detail string }

func TestEveryChangeIsAuditedAndNoSecretIs(t *testing.T) {
	t.Parallel()
	a := newAckEnv(t) // the account "acks", polled, with a problem server
	e := a.testEnv
	body := func(fields map[string]any) string {
		b, _ := json.Marshal(fields)
		return string(b)
	}
	var secrets []string // what no entry, page or answer may hold
	secrets = append(secrets, e.token)

	// Accounts: added by the form and the API, edited, disabled, enabled,
	// removed by the form and the API.
	prod := e.upstream(fakerax.AccountSpec{Username: "ops-prod", Servers: 1, Alarms: 1})
	stage := e.upstream(fakerax.AccountSpec{Username: "ops-stage", Servers: 1, Alarms: 1})
	secrets = append(secrets, prod.APIKey, stage.APIKey)
	wantRedirect(t, e.post("/settings/accounts", url.Values{"username": {prod.Username}, "apikey": {prod.APIKey}, "alias": {"Production"}}), "/settings?done=added")
	acct, err := e.store.AccountByUsername(e.ctx, prod.Username)
	if err != nil {
		t.Fatal(err)
	}
	edit := "/settings/accounts/" + idStr(acct.ID)
	wantRedirect(t, e.post(edit, url.Values{"alias": {"Prod"}, "apikey": {prod.APIKey}}), "/settings?done=saved") // unchecked: disabled
	wantRedirect(t, e.post(edit, url.Values{"alias": {"Prod"}, "enabled": {"on"}}), "/settings?done=saved")
	wantRedirect(t, e.post(edit, url.Values{"alias": {"Prod"}, "enabled": {"on"}}), "/settings?done=saved") // nothing changed
	wantStatus(t, e.apiPost("/api/v1/accounts", body(map[string]any{"username": stage.Username, "apikey": stage.APIKey})), http.StatusOK)

	// Users: added, role changed, password changed by its owner, signed
	// in, refused, signed out, removed.
	const carolPass, carolNew, wrongPass = "carol's first password", "carol's second password", "not carol's password at all"
	secrets = append(secrets, carolPass, carolNew, wrongPass)
	wantRedirect(t, e.post("/settings/users", url.Values{"username": {"carol"}, "password": {carolPass}, "confirm": {carolPass}, "role": {"operator"}}),
		"/settings/access?done=user-added")
	carol, err := e.store.UserByName(e.ctx, "carol")
	if err != nil {
		t.Fatal(err)
	}
	wantRedirect(t, e.post("/settings/users/"+idStr(carol.ID)+"/role", url.Values{"role": {"admin"}}), "/settings/access?done=role")
	cookies := e.signIn("carol", carolPass)
	rec := e.asSession(formRequest("/settings/password", url.Values{"current": {carolPass}, "password": {carolNew}, "confirm": {carolNew}}), cookies)
	wantRedirect(t, rec, "/settings/access?done=password")
	cookies = rec.Result().Cookies() // signed in again under the new password
	refused := formRequest("/login", url.Values{"username": {"carol"}, "password": {wrongPass}})
	refused.RemoteAddr = "203.0.113.9:4711"
	wantStatus(t, e.anonymous(refused), http.StatusUnauthorized)
	wantRedirect(t, e.asSession(formRequest("/logout", nil), cookies), "/login")

	// API tokens: created (shown once) and revoked.
	rec = e.post("/settings/tokens", url.Values{"name": {"chat bot"}, "role": {"viewer"}})
	wantStatus(t, rec, http.StatusOK)
	botToken := strings.TrimSpace(parse(t, rec).Find("#new-token").Text())
	if !strings.HasPrefix(botToken, "cmd_") {
		t.Fatalf("new token %q", botToken)
	}
	secrets = append(secrets, botToken)
	tokens, _ := e.store.ListAPITokens(e.ctx)
	for _, tok := range tokens {
		if tok.Name == "chat bot" {
			wantRedirect(t, e.post("/settings/tokens/"+idStr(tok.ID)+"/delete", nil), "/settings/access?done=token-revoked")
		}
	}

	// Wall links: created (its address shown once) and revoked.
	rec = e.post("/settings/wall-links", url.Values{"name": {"Hall TV"}, "query": {"state:critical"}, "wall_mode": {"on"}})
	wantStatus(t, rec, http.StatusOK)
	shown := strings.TrimSpace(parse(t, rec).Find("#new-wall-link .link-url").Text())
	_, linkToken, ok := strings.Cut(shown, "/w/")
	if !ok || len(linkToken) < 20 {
		t.Fatalf("the new link's address is %q", shown)
	}
	secrets = append(secrets, linkToken)
	links, _ := e.store.ListWallLinks(e.ctx)
	wantRedirect(t, e.post("/settings/wall-links/"+idStr(links[0].ID)+"/delete", nil), "/settings?done=link-revoked")

	// Acknowledgements: made and removed, by the form and the API; a long
	// note is quoted in part.
	longNote := strings.Repeat("n", 199) + "END" + strings.Repeat("x", 100)
	wantRedirect(t, e.post(a.serverPath(a.problem)+"/acks", url.Values{"alarm": {a.problemAlarm}, "note": {longNote}, "expiry": {"recovered"}}),
		a.serverPath(a.problem))
	rec = e.apiPost("/api/v1/acks", body(map[string]any{"username": "acks", "server_id": a.problem, "note": "rebooting it", "expiry": "4h"}))
	wantStatus(t, rec, http.StatusCreated)
	apiAckID := apiJSON(t, rec)["data"].(map[string]any)["id"].(float64)
	for _, ack := range a.active() {
		if ack.AlarmID == a.problemAlarm {
			wantRedirect(t, e.post("/acks/"+idStr(ack.ID)+"/delete", nil), a.serverPath(a.problem))
		}
	}
	wantStatus(t, e.apiDelete("/api/v1/acks", body(map[string]any{"id": apiAckID})), http.StatusOK)

	// Saved filters: by the form and the API, deleted by both.
	wantRedirect(t, e.post("/filters", url.Values{"name": {"Criticals"}, "query": {"state:critical"}}), "/?q=state%3Acritical")
	wantStatus(t, e.apiPost("/api/v1/filters", body(map[string]any{"name": "Web", "filter": "web"})), http.StatusOK)
	filters, _ := e.store.ListFilters(e.ctx)
	for _, f := range filters {
		if f.Name == "Criticals" {
			wantRedirect(t, e.post("/filters/"+idStr(f.ID)+"/delete", nil), "/settings?done=filter-removed")
		}
	}
	wantStatus(t, e.apiDelete("/api/v1/filters", body(map[string]any{"filter": "Web"})), http.StatusOK)

	// Last, the user and the accounts go.
	wantRedirect(t, e.post("/settings/users/"+idStr(carol.ID)+"/delete", nil), "/settings/access?done=user-removed")
	wantRedirect(t, e.post(edit+"/delete", nil), "/settings?done=removed")
	wantStatus(t, e.apiDelete("/api/v1/accounts", body(map[string]any{"username": stage.Username})), http.StatusOK)

	want := []wantAudit{
		{"account.added", tester, "ops-prod", `alias “Production”`},
		{"account.edited", tester, "ops-prod", `alias “Production” → “Prod”; API key replaced`},
		{"account.disabled", tester, "ops-prod", ""},
		{"account.enabled", tester, "ops-prod", ""},
		{"account.added", tester, "ops-stage", ""},
		{"user.added", tester, "carol", "role operator"},
		{"user.role_changed", tester, "carol", "operator → admin"},
		{"signin.succeeded", "carol", "carol", ""},
		{"user.password_changed", "carol", "carol", ""},
		{"signin.failed", "", "carol", "wrong username or password"},
		{"signout", "carol", "carol", ""},
		{"token.created", tester, "token chat bot (" + testUser + ")", "acts as viewer"},
		{"token.revoked", tester, "token chat bot (" + testUser + ")", ""},
		{"wall_link.created", tester, "Hall TV", `shows “state:critical”, in wall mode`},
		{"wall_link.revoked", tester, "Hall TV", ""},
		{"ack.created", tester, "acks / ", `note “` + strings.Repeat("n", 199) + `E…”, until it recovers`},
		{"ack.created", tester, "acks / ", `note “rebooting it”, until 20`},
		{"ack.removed", tester, "acks / ", strings.Repeat("n", 199)},
		{"ack.removed", tester, "acks / ", "rebooting it"},
		{"filter.saved", tester, "Criticals", `“state:critical”`},
		{"filter.saved", tester, "Web", `“web”`},
		{"filter.deleted", tester, "Criticals", `“state:critical”`},
		{"filter.deleted", tester, "Web", `“web”`},
		{"user.removed", tester, "carol", "was admin"},
		{"account.removed", tester, "ops-prod", ""},
		{"account.removed", tester, "ops-stage", ""},
	}
	log := e.auditLog()
	t.Run("every change has its entry, in order, by who made it", func(t *testing.T) {
		if len(log) != len(want) {
			t.Errorf("%d entries, want %d", len(log), len(want))
		}
		for i, w := range want {
			if i >= len(log) {
				t.Fatalf("missing from %d on: %+v", i, want[i:])
			}
			g := log[i]
			if g.Action != w.action || g.Actor != w.actor || !strings.Contains(g.Target, w.target) || !strings.Contains(g.Detail, w.detail) {
				t.Errorf("entry %d is %s by %q on %q (%s), want %s by %q on %q (%s)", i, g.Action, g.Actor, g.Target, g.Detail, w.action, w.actor, w.target, w.detail)
			}
		}
	})

	t.Run("entries say what kind of actor and from where", func(t *testing.T) {
		for _, g := range log {
			switch {
			case g.Actor == tester && g.ActorKind != monitoring.ActorToken,
				g.Actor == "carol" && g.ActorKind != monitoring.ActorUser,
				g.Actor == "" && g.ActorKind != monitoring.ActorAnonymous:
				t.Errorf("%s by %q is of kind %q", g.Action, g.Actor, g.ActorKind)
			}
			if g.At.IsZero() || g.Address == "" {
				t.Errorf("%s at %v from %q", g.Action, g.At, g.Address)
			}
		}
		i := slices.IndexFunc(log, func(g monitoring.AuditEntry) bool { return g.Action == monitoring.AuditSignInFailed })
		if i < 0 || log[i].Address != "203.0.113.9" || log[i].Target != "carol" {
			t.Errorf("the refused sign-in: %+v, want carol from 203.0.113.9", log)
		}
	})

	t.Run("no entry, nor the page, nor the API holds a secret", func(t *testing.T) {
		page := e.get("/settings/audit")
		wantStatus(t, page, http.StatusOK)
		api := e.get("/api/v1/audit?limit=1000")
		wantStatus(t, api, http.StatusOK)
		for _, s := range secrets {
			for _, g := range log {
				if strings.Contains(g.Actor+g.Address+g.Target+g.Detail, s) {
					t.Errorf("%s holds the secret %.12q…", g.Action, s)
				}
			}
			if strings.Contains(page.Body.String(), s) || strings.Contains(api.Body.String(), s) {
				t.Errorf("the audit page or API answer holds the secret %.12q…", s)
			}
		}
		if n := parse(t, page).Find("table.audit tbody tr").Length(); n != len(want) {
			t.Errorf("the page shows %d rows, want %d", n, len(want))
		}
	})
}

func TestTheAuditLogIsWrittenWhenTheClientHasGone(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	ctx, cancel := context.WithCancel(e.ctx)
	cancel()
	req := httptest.NewRequest(http.MethodPost, "/filters", nil).WithContext(ctx)
	e.h.audit(req, monitoring.AuditFilterSaved, "gone", "")
	if log := e.auditLog(); len(log) != 1 || log[0].Target != "gone" || log[0].ActorKind != monitoring.ActorAnonymous {
		t.Errorf("log %+v, want the one entry", log)
	}
}

func TestTheAuditAddressIsTheProxysWhenTrusted(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	e.h.opts.TrustProxy = true
	req := formRequest("/login", url.Values{"username": {"mallory"}, "password": {"guess guess guess"}})
	req.Header.Set("X-Forwarded-For", "198.51.100.23")
	wantStatus(t, e.anonymous(req), http.StatusUnauthorized)
	if log := e.auditLog(); len(log) != 1 || log[0].Address != "198.51.100.23" || log[0].Target != "mallory" {
		t.Errorf("log %+v", log)
	}
}

// seedAudit records entries straight into the store: n by dave in the
// last minutes, and one by erin two days ago.
func seedAudit(e *testEnv, n int) {
	e.t.Helper()
	now := time.Now()
	for i := range n {
		if err := e.store.RecordAudit(e.ctx, monitoring.AuditEntry{At: now.Add(-time.Duration(n-i) * time.Second), Actor: "dave",
			ActorKind: monitoring.ActorUser, Action: monitoring.AuditFilterSaved, Target: "f" + strconv.Itoa(i)}); err != nil {
			e.t.Fatal(err)
		}
	}
	if err := e.store.RecordAudit(e.ctx, monitoring.AuditEntry{At: now.Add(-48 * time.Hour), Actor: "erin",
		ActorKind: monitoring.ActorUser, Action: monitoring.AuditAccountAdded, Target: "old-account"}); err != nil {
		e.t.Fatal(err)
	}
}

func TestTheAuditPageFilters(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	seedAudit(e, 3)
	targets := func(doc *goquery.Document) []string {
		var out []string
		doc.Find("table.audit tbody tr td[data-label=Target]").Each(func(_ int, s *goquery.Selection) { out = append(out, s.Text()) })
		return out
	}
	for _, tc := range []struct {
		name, query string
		want        []string
	}{
		{"everything, the newest first", "", []string{"f2", "f1", "f0", "old-account"}},
		{"by user", "?actor=erin", []string{"old-account"}},
		{"by kind", "?kind=filter", []string{"f2", "f1", "f0"}},
		{"by time", "?since=24h", []string{"f2", "f1", "f0"}},
		{"by time, far enough back", "?since=7d", []string{"f2", "f1", "f0", "old-account"}},
		{"all together", "?actor=dave&kind=account&since=30d", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := e.page("/settings/audit" + tc.query)
			if got := targets(doc); !slices.Equal(got, tc.want) {
				t.Errorf("rows %v, want %v", got, tc.want)
			}
			q, _ := url.ParseQuery(strings.TrimPrefix(tc.query, "?"))
			if v, _ := doc.Find("input[name=actor]").Attr("value"); v != q.Get("actor") {
				t.Errorf("the form shows actor %q", v)
			}
			if v, _ := doc.Find("select[name=kind] option[selected]").Attr("value"); v != q.Get("kind") {
				t.Errorf("the form shows kind %q", v)
			}
			if v, _ := doc.Find("select[name=since] option[selected]").Attr("value"); v != q.Get("since") {
				t.Errorf("the form shows since %q", v)
			}
		})
	}
	for _, tc := range []struct{ query, says string }{
		{"?kind=everything", "no such kind"},
		{"?since=2d", "“Since” takes one of the choices"},
		{"?actor=" + url.QueryEscape("dave\x00"), "control character"},
		{"?actor=" + strings.Repeat("d", 300), "longer than 255"},
	} {
		t.Run(tc.query+" is a 400 with the form and why", func(t *testing.T) {
			rec := e.get("/settings/audit" + tc.query)
			wantStatus(t, rec, http.StatusBadRequest)
			doc := parse(t, rec)
			if msg := doc.Find(".form-error").Text(); !strings.Contains(msg, tc.says) {
				t.Errorf("message %q, want %q", msg, tc.says)
			}
			if doc.Find("form.audit-filters").Length() != 1 || doc.Find("table.audit").Length() != 0 {
				t.Errorf("want the form and no table")
			}
		})
	}
}

func TestTheAuditPageShowsTheNewest200(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	seedAudit(e, 205)
	doc := e.page("/settings/audit")
	if n := doc.Find("table.audit tbody tr").Length(); n != 200 {
		t.Errorf("%d rows, want 200", n)
	}
	if first := doc.Find("table.audit tbody tr td[data-label=Target]").First().Text(); first != "f204" {
		t.Errorf("first row %q, want the newest", first)
	}
	if note := doc.Find(".filter-status").Text(); !strings.Contains(note, "Showing the newest 200") {
		t.Errorf("note %q", note)
	}
	if note := e.page("/settings/audit?kind=account").Find(".filter-status").Text(); note != "" {
		t.Errorf("a page of one row says %q", note)
	}
}

func TestSettingsLinkToTheAuditLogForAdminsOnly(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	if e.page("/settings").Find(`a[href="/settings/audit"]`).Length() != 1 {
		t.Errorf("an admin has no link to the audit log")
	}
	if _, err := e.store.CreateUser(e.ctx, "olly", "the operator's password", monitoring.Operator); err != nil {
		t.Fatal(err)
	}
	cookies := e.signIn("olly", "the operator's password")
	rec := e.asSession(httptest.NewRequest(http.MethodGet, "/settings", nil), cookies)
	wantStatus(t, rec, http.StatusOK)
	if parse(t, rec).Find(`a[href="/settings/audit"]`).Length() != 0 {
		t.Errorf("an operator is offered the audit log")
	}
	wantStatus(t, e.asSession(httptest.NewRequest(http.MethodGet, "/settings/audit", nil), cookies), http.StatusForbidden)
	wantStatus(t, e.asSession(httptest.NewRequest(http.MethodGet, "/api/v1/audit", nil), cookies), http.StatusForbidden)
}

type auditAnswer struct {
	Response string           `json:"response"`
	Message  string           `json:"message"`
	Data     []map[string]any `json:"data"`
	More     bool             `json:"more"`
}

func TestAPIAudit(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	seedAudit(e, 3)
	get := func(query string) (int, auditAnswer) {
		t.Helper()
		rec := e.get("/api/v1/audit" + query)
		var ans auditAnswer
		if err := json.Unmarshal(rec.Body.Bytes(), &ans); err != nil {
			t.Fatalf("status %d, body %q: %v", rec.Code, rec.Body, err)
		}
		return rec.Code, ans
	}
	targets := func(ans auditAnswer) []string {
		var out []string
		for _, d := range ans.Data {
			out = append(out, d["target"].(string))
		}
		return out
	}

	t.Run("the newest first in the success envelope", func(t *testing.T) {
		code, ans := get("")
		if code != http.StatusOK || ans.Response != "success" || ans.More || !slices.Equal(targets(ans), []string{"f2", "f1", "f0", "old-account"}) {
			t.Fatalf("%d %+v", code, ans)
		}
		d := ans.Data[0]
		for k, v := range map[string]any{"actor": "dave", "actor_kind": "user", "action": "filter.saved", "address": "", "detail": ""} {
			if d[k] != v {
				t.Errorf("%s = %v, want %v", k, d[k], v)
			}
		}
		if at, err := time.Parse(time.RFC3339, d["at"].(string)); err != nil || time.Since(at) > time.Minute {
			t.Errorf("at = %v", d["at"])
		}
		if id, _ := d["id"].(float64); id <= 0 {
			t.Errorf("id = %v", d["id"])
		}
	})

	for _, tc := range []struct {
		name, query string
		want        []string
		more        bool
	}{
		{"limit keeps the newest and says there are more", "?limit=2", []string{"f2", "f1"}, true},
		{"since", "?since=" + url.QueryEscape(time.Now().Add(-time.Hour).Format(time.RFC3339)), []string{"f2", "f1", "f0"}, false},
		{"until pages back", "?until=" + url.QueryEscape(time.Now().Add(-time.Hour).Format(time.RFC3339)), []string{"old-account"}, false},
		{"actor", "?actor=erin", []string{"old-account"}, false},
		{"action, a kind", "?action=account", []string{"old-account"}, false},
		{"action, one", "?action=filter.saved&limit=1", []string{"f2"}, true},
		{"nothing matches", "?action=signout", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, ans := get(tc.query)
			if code != http.StatusOK || !slices.Equal(targets(ans), tc.want) || ans.More != tc.more || ans.Data == nil {
				t.Errorf("%d %+v, want %v (more: %v)", code, ans, tc.want, tc.more)
			}
		})
	}

	for _, tc := range []struct{ query, says string }{
		{"?since=yesterday", "'since' must be a time in RFC 3339"},
		{"?since=1700000000000", "'since' must be a time in RFC 3339"},
		{"?until=2025-13-01T00:00:00Z", "'until' must be a time in RFC 3339"},
		{"?limit=0", "'limit' must be a whole number from 1 to 1000"},
		{"?limit=1001", "from 1 to 1000"},
		{"?limit=ten", "'limit' must be"},
		{"?action=accounts", "'action' must be an action, such as account.added, or a kind"},
		{"?actor=" + url.QueryEscape("a\u202Eb"), "bidirectional override"},
	} {
		t.Run(tc.query+" is refused in the error envelope", func(t *testing.T) {
			code, ans := get(tc.query)
			if code != http.StatusBadRequest || ans.Response != "error" || !strings.Contains(ans.Message, tc.says) {
				t.Errorf("%d %+v, want 400 saying %q", code, ans, tc.says)
			}
		})
	}

	t.Run("the API index lists the route", func(t *testing.T) {
		if rec := e.get("/api/v1/"); !strings.Contains(rec.Body.String(), "GET /api/v1/audit") {
			t.Errorf("index: %s", rec.Body)
		}
	})
}
