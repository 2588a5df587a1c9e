package handlers

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"cmdash/monitoring"
	"cmdash/monitoring/fakerax"
)

// ackEnv is a polled account with servers in every state, and the servers
// and alarms the tests acknowledge.
type ackEnv struct {
	*testEnv
	acct monitoring.Account
	// problem is a server that is not OK, with a problem alarm and an OK
	// alarm; calm a server that is OK.
	problem, problemAlarm, okAlarm, calm string
	worst                                monitoring.State
}

func newAckEnv(t *testing.T) *ackEnv {
	t.Helper()
	e := newTestEnv(t)
	up := e.upstream(fakerax.AccountSpec{Username: "acks", Servers: 12, Alarms: 4, WarningShare: 0.2, CriticalShare: 0.15})
	a := &ackEnv{testEnv: e, acct: e.addAccount(up, "")}
	e.poll(a.acct.ID)
	snap, err := e.store.Snapshot(e.ctx, a.acct.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range snap.Servers {
		if s.Worst == monitoring.StateOK && a.calm == "" {
			a.calm = s.ID
		}
		if s.Worst == monitoring.StateOK || a.problem != "" {
			continue
		}
		var bad, good string
		for _, al := range s.Alarms {
			switch {
			case !al.Counted():
			case al.State == monitoring.StateOK && good == "":
				good = al.ID
			case al.State != monitoring.StateOK && bad == "":
				bad = al.ID
			}
		}
		if bad != "" && good != "" {
			a.problem, a.problemAlarm, a.okAlarm, a.worst = s.ID, bad, good, s.Worst
		}
	}
	if a.problem == "" || a.calm == "" {
		t.Fatal("the scenario lacks a problem server with an OK alarm, or an OK server")
	}
	return a
}

func (a *ackEnv) serverPath(server string) string {
	return "/accounts/" + idStr(a.acct.ID) + "/servers/" + url.PathEscape(server)
}

func (a *ackEnv) tile(doc *goquery.Document, server string) *goquery.Selection {
	return doc.Find(`li.tile[data-server-id="` + server + `"]`)
}

func (a *ackEnv) active() []monitoring.Ack {
	a.t.Helper()
	acks, err := a.store.ActiveAcks(a.ctx)
	if err != nil {
		a.t.Fatal(err)
	}
	return acks
}

func TestAcknowledgingFromTheServerPage(t *testing.T) {
	t.Parallel()
	a := newAckEnv(t)
	path := a.serverPath(a.problem)

	doc := a.page(path)
	form := doc.Find("form#ack-form")
	if form.Length() != 1 || form.AttrOr("action", "") != path+"/acks" {
		t.Fatalf("no acknowledge form posting to %s/acks", path)
	}
	var values []string
	form.Find(`select[name="alarm"] option`).Each(func(_ int, o *goquery.Selection) { values = append(values, o.AttrOr("value", "?")) })
	if len(values) < 2 || values[0] != "" || !contains(values, a.problemAlarm) || contains(values, a.okAlarm) {
		t.Errorf("choices %q: want the whole server first, then the problem alarms only", values)
	}
	if got := form.Find(`select[name="expiry"] option[selected]`).AttrOr("value", ""); got != "4h" {
		t.Errorf("the expiry chosen at first is %q, want 4h", got)
	}

	rec := a.post(path+"/acks", url.Values{"alarm": {""}, "note": {"Rebooting it"}, "expiry": {"1h"}})
	wantRedirect(t, rec, path)
	acks := a.active()
	if len(acks) != 1 || acks[0].CreatedBy != testUser || acks[0].Note != "Rebooting it" || !acks[0].WholeServer() {
		t.Fatalf("stored %+v", acks)
	}
	ack := acks[0]

	t.Run("the server page says who, when, the note and when it ends", func(t *testing.T) {
		doc := a.page(path)
		item := doc.Find(`#server .ack-item[data-ack-id="` + idStr(ack.ID) + `"]`)
		text := strings.Join(strings.Fields(item.Text()), " ")
		for _, want := range []string{"The whole server", "by " + testUser, "Rebooting it", "Ends " + ack.ExpiresAt.UTC().Format("2006-01-02 15:04")} {
			if !strings.Contains(text, want) {
				t.Errorf("acknowledgement %q lacks %q", text, want)
			}
		}
		if item.Find(`form[action="/acks/`+idStr(ack.ID)+`/delete"] button`).Length() != 1 {
			t.Error("no Remove button")
		}
		if big := doc.Find("#server .tile.big"); !big.HasClass("acked") {
			t.Error("the server's ring is not marked acknowledged")
		}
	})
	t.Run("the wall shows the tile muted and counts it apart", func(t *testing.T) {
		doc := a.page("/")
		tile := a.tile(doc, a.problem)
		if !tile.HasClass("acked") || tile.AttrOr("data-acked", "") != "true" || strings.TrimSpace(tile.Find(".ack-mark").Text()) != "ACK" {
			t.Errorf("tile class %q, data-acked %q, mark %q", tile.AttrOr("class", ""), tile.AttrOr("data-acked", ""), tile.Find(".ack-mark").Text())
		}
		if n := doc.Find("li.tile.acked").Length(); n != 1 {
			t.Errorf("%d acknowledged tiles, want 1", n)
		}
		word := map[monitoring.State]string{monitoring.StateCritical: "CRIT", monitoring.StateWarning: "WARN", monitoring.StateUnknown: "UNKN"}[a.worst]
		if title := doc.Find("#grid").AttrOr("data-title", ""); !strings.Contains(title, word+" (1 acked)") {
			t.Errorf("title counts %q, want %q in them", title, word+" (1 acked)")
		}
		if got := doc.Find(`.strip [data-state="` + string(a.worst) + `"] .acked`).Text(); strings.TrimSpace(got) != "(1 acked)" {
			t.Errorf("summary strip says %q for %s", got, a.worst)
		}
		if got := doc.Find("title").Text(); !strings.Contains(got, "(1 acked)") {
			t.Errorf("page title %q", got)
		}
	})
	t.Run("an alarm acknowledgement marks its row", func(t *testing.T) {
		wantRedirect(t, a.post(path+"/acks", url.Values{"alarm": {a.problemAlarm}, "note": {"known"}, "expiry": {"recovered"}}), path)
		doc := a.page(path)
		if doc.Find(`tr[data-alarm-id="`+a.problemAlarm+`"] .ack-badge`).Length() != 1 {
			t.Error("the acknowledged alarm's row is not marked")
		}
		if doc.Find(`tr[data-alarm-id="`+a.okAlarm+`"] .ack-badge`).Length() != 0 {
			t.Error("an OK alarm's row is marked")
		}
		if !strings.Contains(doc.Find(".ack-item").Text(), "when it recovers") {
			t.Error("an acknowledgement until recovery does not say so")
		}
	})
	t.Run("removing ends it and the page lists it as earlier", func(t *testing.T) {
		wantRedirect(t, a.post("/acks/"+idStr(ack.ID)+"/delete", nil), path)
		got, err := a.store.Ack(a.ctx, ack.ID)
		if err != nil || got.Active() || got.EndReason != monitoring.AckRemoved || got.EndedBy != testUser {
			t.Fatalf("after removing: %+v, %v", got, err)
		}
		doc := a.page(path)
		if doc.Find(`.ack-list.earlier [data-ack-id="`+idStr(ack.ID)+`"]`).Length() != 1 ||
			!strings.Contains(doc.Find(".ack-list.earlier").Text(), "removed by "+testUser) {
			t.Error("the removed acknowledgement is not listed as removed")
		}
		if doc.Find(`form[action="/acks/`+idStr(ack.ID)+`/delete"]`).Length() != 0 {
			t.Error("a Remove button for an ended acknowledgement")
		}
		t.Run("removing again, or an unknown one, is no error page", func(t *testing.T) {
			wantRedirect(t, a.post("/acks/"+idStr(ack.ID)+"/delete", nil), path)
			wantStatus(t, a.post("/acks/9999/delete", nil), http.StatusNotFound)
			wantStatus(t, a.post("/acks/x/delete", nil), http.StatusNotFound)
		})
	})
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// ackFieldError is the message beside the acknowledge form's field (an
// input or a select) and its value as the page shows it.
func ackFieldError(doc *goquery.Document, name string) (msg, value string) {
	field := doc.Find(`form#ack-form [name="` + name + `"]`)
	msg = strings.TrimSpace(field.Parent().Find(".field-error").Text())
	if goquery.NodeName(field) == "select" {
		return msg, field.Find("option[selected]").AttrOr("value", "")
	}
	return msg, field.AttrOr("value", "")
}

func TestABadAcknowledgementShowsWhyAndKeepsWhatWasTyped(t *testing.T) {
	t.Parallel()
	a := newAckEnv(t)
	path := a.serverPath(a.problem)
	wantRedirect(t, a.post(path+"/acks", url.Values{"alarm": {a.problemAlarm}, "note": {"first"}, "expiry": {"4h"}}), path)
	tests := []struct {
		name                string
		alarm, note, expiry string
		field, says         string
	}{
		{"an empty note", "", "", "24h", "note", "Write a note"},
		{"a note of spaces", "", "   ", "24h", "note", "Write a note"},
		{"a note too long", "", strings.Repeat("x", 501), "24h", "note", "longer than 500"},
		{"a note with a terminal escape", "", "a\x1b[2Jb", "24h", "note", "control character (U+001B)"},
		{"a note with a line break", "", "a\nb", "24h", "note", "control character (U+000A)"},
		{"a note with a bidirectional override", "", "ok\u202Ekcab", "24h", "note", "bidirectional override"},
		{"no expiry", "", "n", "", "expiry", "Choose when"},
		{"an expiry out of range", "", "n", "2h", "expiry", "Choose when"},
		{"an expiry of a week", "", "n", "168h", "expiry", "Choose when"},
		{"an OK alarm", "okalarm", "n", "1h", "alarm", "is OK"},
		{"an unknown alarm", "no-such-alarm", "n", "1h", "alarm", "no alarm with this id"},
		{"an alarm id too long", strings.Repeat("a", 300), "n", "1h", "alarm", "no alarm with this id"},
		{"an alarm acknowledged already", "problem", "again", "1h", "alarm", "acknowledged already (by " + testUser + ")"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			alarm := map[string]string{"okalarm": a.okAlarm, "problem": a.problemAlarm}[tt.alarm]
			if alarm == "" {
				alarm = tt.alarm
			}
			rec := a.post(path+"/acks", url.Values{"alarm": {alarm}, "note": {tt.note}, "expiry": {tt.expiry}})
			wantStatus(t, rec, http.StatusUnprocessableEntity)
			doc := parse(t, rec)
			msg, _ := ackFieldError(doc, tt.field)
			if !strings.Contains(msg, tt.says) {
				t.Errorf("%s says %q, want %q", tt.field, msg, tt.says)
			}
			if _, note := ackFieldError(doc, "note"); note != asParsed(strings.ReplaceAll(tt.note, "\n", "")) && note != asParsed(tt.note) {
				t.Errorf("the note came back as %q, want %q", note, tt.note)
			}
			if _, exp := ackFieldError(doc, "expiry"); tt.expiry != "" && tt.field != "expiry" && exp != tt.expiry {
				t.Errorf("the expiry came back as %q, want %q", exp, tt.expiry)
			}
			if _, got := ackFieldError(doc, "alarm"); tt.field != "alarm" && got != alarm {
				t.Errorf("the choice came back as %q, want %q", got, alarm)
			}
			if doc.Find("#server tr[data-alarm-id]").Length() == 0 {
				t.Error("the page around the form is missing")
			}
		})
	}
	if n := len(a.active()); n != 1 {
		t.Errorf("%d acknowledgements after the refusals, want 1", n)
	}
	t.Run("an OK server says so, and shows the form to say it in", func(t *testing.T) {
		p := a.serverPath(a.calm)
		if doc := a.page(p); doc.Find("form#ack-form").Length() != 0 {
			t.Error("an OK server offers the form")
		}
		rec := a.post(p+"/acks", url.Values{"alarm": {""}, "note": {"n"}, "expiry": {"1h"}})
		wantStatus(t, rec, http.StatusUnprocessableEntity)
		if msg, _ := ackFieldError(parse(t, rec), "alarm"); !strings.Contains(msg, "This server is OK") {
			t.Errorf("message %q", msg)
		}
	})
	for _, tt := range []struct{ name, path string }{
		{"an unknown server", a.serverPath("no-such-server") + "/acks"},
		{"an unknown account", "/accounts/9999/servers/" + url.PathEscape(a.problem) + "/acks"},
		{"an account id that is not a number", "/accounts/abc/servers/" + url.PathEscape(a.problem) + "/acks"},
	} {
		t.Run(tt.name+" is a 404", func(t *testing.T) {
			wantStatus(t, a.post(tt.path, url.Values{"note": {"n"}, "expiry": {"1h"}}), http.StatusNotFound)
		})
	}
}

// apiJSON decodes an API answer into a map.
func apiJSON(t *testing.T, rec *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatalf("status %d, body %q: %v", rec.Code, rec.Body, err)
	}
	return v
}

func (e *testEnv) apiDelete(path, jsonBody string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodDelete, path, strings.NewReader(jsonBody))
	req.Header.Set("Content-Type", "application/json")
	return e.do(req)
}

func TestAcknowledgementsAPI(t *testing.T) {
	t.Parallel()
	a := newAckEnv(t)
	body := func(fields map[string]any) string {
		b, _ := json.Marshal(fields)
		return string(b)
	}

	rec := a.apiPost("/api/v1/acks", body(map[string]any{"username": "acks", "server_id": a.problem, "note": "rebooting", "expiry": "4h"}))
	wantStatus(t, rec, http.StatusCreated)
	env := apiJSON(t, rec)
	data, _ := env["data"].(map[string]any)
	if env["response"] != "success" || data == nil {
		t.Fatalf("answer %v", env)
	}
	serverAckID := data["id"]
	for k, want := range map[string]any{"username": "acks", "account_id": float64(a.acct.ID), "server_id": a.problem,
		"alarm_id": nil, "alarm_label": nil, "note": "rebooting", "created_by": testUser, "state_at_ack": string(a.worst), "active": true, "ended_at": nil} {
		if got, ok := data[k]; !ok || got != want {
			t.Errorf("%s = %v (present %v), want %v", k, got, ok, want)
		}
	}
	if _, ok := data["expires_at"].(string); !ok {
		t.Errorf("expires_at = %v, want a time", data["expires_at"])
	}

	t.Run("a form body with an account id and an alarm, until it recovers", func(t *testing.T) {
		rec := a.post("/api/v1/acks", url.Values{"account_id": {idStr(a.acct.ID)}, "server_id": {a.problem},
			"alarm_id": {a.problemAlarm}, "note": {"known issue"}, "expiry": {"recovered"}})
		wantStatus(t, rec, http.StatusCreated)
		data, _ := apiJSON(t, rec)["data"].(map[string]any)
		if data["alarm_id"] != a.problemAlarm || data["expires_at"] != nil || data["alarm_label"] == nil {
			t.Errorf("data %v", data)
		}
	})
	t.Run("GET lists those in force", func(t *testing.T) {
		for _, path := range []string{"/api/v1/acks", "/api/v1/acks?username=acks", "/api/v1/acks?username=ACKS&server=" + url.QueryEscape(a.problem)} {
			rec := a.get(path)
			wantStatus(t, rec, http.StatusOK)
			env := apiJSON(t, rec)
			if list, _ := env["data"].([]any); env["response"] != "success" || len(list) != 2 {
				t.Errorf("%s: %v", path, env)
			}
		}
		if list, _ := apiJSON(t, a.get("/api/v1/acks?username=acks&server=other"))["data"].([]any); len(list) != 0 {
			t.Errorf("another server's: %v", list)
		}
	})
	t.Run("DELETE removes one and answers it ended", func(t *testing.T) {
		rec := a.apiDelete("/api/v1/acks", body(map[string]any{"id": serverAckID}))
		wantStatus(t, rec, http.StatusOK)
		data, _ := apiJSON(t, rec)["data"].(map[string]any)
		if data["active"] != false || data["end_reason"] != "removed" || data["ended_by"] != testUser || data["ended_at"] == nil {
			t.Errorf("data %v", data)
		}
		req := httptest.NewRequest(http.MethodDelete, "/api/v1/acks?id="+idStr(int64(serverAckID.(float64))), nil)
		rec = a.do(req)
		wantStatus(t, rec, http.StatusNotFound)
		if msg := apiJSON(t, rec)["message"]; msg != "This acknowledgement has ended already." {
			t.Errorf("removing twice: %v", msg)
		}
	})
	t.Run("GET ?all=1 includes the ended ones", func(t *testing.T) {
		list, _ := apiJSON(t, a.get("/api/v1/acks?all=1"))["data"].([]any)
		active, _ := apiJSON(t, a.get("/api/v1/acks"))["data"].([]any)
		if len(list) != 2 || len(active) != 1 {
			t.Errorf("%d with the ended, %d in force; want 2 and 1", len(list), len(active))
		}
	})
	t.Run("the API index lists the routes", func(t *testing.T) {
		if !strings.Contains(a.get("/api/v1/").Body.String(), "POST /api/v1/acks") {
			t.Error("not listed")
		}
	})
}

func TestAcknowledgementsAPIErrors(t *testing.T) {
	t.Parallel()
	a := newAckEnv(t)
	ok := map[string]string{"username": "acks", "server_id": a.problem, "note": "n", "expiry": "1h"}
	with := func(change map[string]string) string {
		m := map[string]string{}
		for k, v := range ok {
			m[k] = v
		}
		for k, v := range change {
			if v == "-" {
				delete(m, k)
			} else {
				m[k] = v
			}
		}
		b, _ := json.Marshal(m)
		return string(b)
	}
	wantStatus(t, a.apiPost("/api/v1/acks", with(map[string]string{"alarm_id": a.problemAlarm})), http.StatusCreated)
	tests := []struct {
		name   string
		body   string
		status int
		field  string
		says   string
	}{
		{"no account", with(map[string]string{"username": "-"}), 400, "username", "Missing 'username' or 'account_id'"},
		{"an unknown username", with(map[string]string{"username": "nobody"}), 404, "username", "No such account"},
		{"an account id that is not a number", with(map[string]string{"username": "-", "account_id": "x"}), 400, "account_id", "positive whole number"},
		{"an unknown account id", with(map[string]string{"username": "-", "account_id": "9999"}), 404, "account_id", "No such account"},
		{"no server", with(map[string]string{"server_id": "-"}), 400, "server_id", "Missing 'server_id'"},
		{"an unknown server", with(map[string]string{"server_id": "nope"}), 404, "server_id", "no server with this id"},
		{"an OK server", with(map[string]string{"server_id": a.calm}), 409, "server_id", "is OK"},
		{"an unknown alarm", with(map[string]string{"alarm_id": "nope"}), 404, "alarm_id", "no alarm with this id"},
		{"an OK alarm", with(map[string]string{"alarm_id": a.okAlarm}), 409, "alarm_id", "is OK"},
		{"an alarm acknowledged already", with(map[string]string{"alarm_id": a.problemAlarm}), 409, "alarm_id", "acknowledged already"},
		{"no note", with(map[string]string{"note": "-"}), 400, "note", "Write a note"},
		{"a note with a control character", with(map[string]string{"note": "a\u0007b"}), 400, "note", "control character"},
		{"no expiry", with(map[string]string{"expiry": "-"}), 400, "expiry", "Choose when"},
		{"an expiry out of range", with(map[string]string{"expiry": "0"}), 400, "expiry", "Choose when"},
		{"a body that is not JSON", `{"username":`, 400, "", "malformed JSON"},
		{"a field that is not a string", `{"username":["acks"]}`, 400, "username", "must be a string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := a.apiPost("/api/v1/acks", tt.body)
			env := apiJSON(t, rec)
			if rec.Code != tt.status || env["response"] != "error" {
				t.Fatalf("status %d, %v; want %d", rec.Code, env, tt.status)
			}
			if msg, _ := env["message"].(string); !strings.Contains(msg, tt.says) {
				t.Errorf("message %q, want %q", msg, tt.says)
			}
			if tt.field != "" && env["field"] != tt.field {
				t.Errorf("field %v, want %q", env["field"], tt.field)
			}
		})
	}
	for _, tt := range []struct {
		name, method, path, body string
		status                   int
	}{
		{"DELETE without an id", "DELETE", "/api/v1/acks", `{}`, 400},
		{"DELETE with an id that is not a number", "DELETE", "/api/v1/acks", `{"id":"x"}`, 400},
		{"DELETE of an unknown id", "DELETE", "/api/v1/acks", `{"id":9999}`, 404},
		{"GET of an unknown account's", "GET", "/api/v1/acks?username=nobody", "", 404},
		{"GET of a server without its account", "GET", "/api/v1/acks?server=x", "", 400},
		{"PUT", "PUT", "/api/v1/acks", `{}`, 405},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body))
			req.Header.Set("Content-Type", "application/json")
			rec := a.do(req)
			if env := apiJSON(t, rec); rec.Code != tt.status || env["response"] != "error" {
				t.Errorf("status %d, %v; want %d", rec.Code, env, tt.status)
			}
		})
	}
	t.Run("without a sign-in every route is refused", func(t *testing.T) {
		before := len(a.active())
		for _, r := range []*http.Request{
			httptest.NewRequest("GET", "/api/v1/acks", nil),
			formRequest("/api/v1/acks", url.Values{"username": {"acks"}, "server_id": {a.problem}, "note": {"n"}, "expiry": {"1h"}}),
			httptest.NewRequest("DELETE", "/api/v1/acks?id=1", nil),
			formRequest(a.serverPath(a.problem)+"/acks", url.Values{"note": {"n"}, "expiry": {"1h"}}),
			formRequest("/acks/1/delete", nil),
		} {
			if rec := a.anonymous(r); rec.Code != http.StatusUnauthorized {
				t.Errorf("%s %s: %d, want 401", r.Method, r.URL, rec.Code)
			}
		}
		if len(a.active()) != before {
			t.Error("an anonymous request changed the acknowledgements")
		}
	})
}
