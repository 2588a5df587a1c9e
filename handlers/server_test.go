package handlers

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"cmdash/monitoring"
	"cmdash/monitoring/fakerax"
	"cmdash/views"
)

// alarmRank is where an alarm belongs on the server page, the first
// element mattering most: counted before not, worst state first, then the
// label, case aside, then the id.
func alarmRank(a monitoring.Alarm) (uncounted bool, state int, label, id string) {
	order := map[monitoring.State]int{"CRITICAL": 0, "WARNING": 1, "UNKNOWN": 2, "OK": 3}
	return !a.Counted(), order[a.State], strings.ToLower(a.Label), a.ID
}

func rankLess(a, b monitoring.Alarm) bool {
	au, as, al, ai := alarmRank(a)
	bu, bs, bl, bi := alarmRank(b)
	switch {
	case au != bu:
		return !au
	case as != bs:
		return as < bs
	case al != bl:
		return al < bl
	}
	return ai < bi
}

func TestServerPageListsAlarmsWorstFirst(t *testing.T) {
	t.Parallel()
	d := newTwoAccounts(t)
	mixed := 0
	for _, ent := range d.fake.Entities(d.alphaUp.Username) {
		snap, err := d.store.SnapshotServer(d.ctx, d.alpha.ID, ent.ID)
		if err != nil || snap == nil || len(snap.Servers) != 1 {
			t.Fatalf("server %s in the store: %v", ent.ID, err)
		}
		byID := map[string]monitoring.Alarm{}
		states := map[monitoring.State]bool{}
		uncounted := false
		for _, a := range snap.Servers[0].Alarms {
			byID[a.ID] = a
			states[a.State] = true
			uncounted = uncounted || !a.Counted()
		}
		if len(states) >= 3 || len(states) >= 2 && uncounted {
			mixed++
		}
		doc := d.page("/accounts/" + idStr(d.alpha.ID) + "/servers/" + url.PathEscape(ent.ID))
		var rows []monitoring.Alarm
		doc.Find("[data-alarm-id]").Each(func(_ int, s *goquery.Selection) {
			rows = append(rows, byID[s.AttrOr("data-alarm-id", "")])
		})
		if len(rows) != len(byID) {
			t.Fatalf("server %s: %d rows, want %d", ent.ID, len(rows), len(byID))
		}
		for i := 1; i < len(rows); i++ {
			if !rankLess(rows[i-1], rows[i]) {
				t.Errorf("server %s: %s (%s %q, counted %v) is listed before %s (%s %q, counted %v)", ent.ID,
					rows[i-1].ID, rows[i-1].State, rows[i-1].Label, rows[i-1].Counted(),
					rows[i].ID, rows[i].State, rows[i].Label, rows[i].Counted())
			}
		}
	}
	if mixed < 3 {
		t.Fatalf("only %d servers mix states or have uncounted alarms; the scenario does not test the order", mixed)
	}
}

// serverEnv is one polled account and the path of a server of it with
// alarms in more than one state.
func serverEnv(t *testing.T) (e *testEnv, acct monitoring.Account, serverID, path string) {
	e = newTestEnv(t)
	up := e.upstream(fakerax.AccountSpec{Username: "srv", Servers: 6, Alarms: 6, WarningShare: 0.3, CriticalShare: 0.2})
	acct = e.addAccount(up, "")
	e.poll(acct.ID)
	for _, ent := range e.fake.Entities(up.Username) {
		if len(ent.Alarms) > 1 {
			return e, acct, ent.ID, "/accounts/" + idStr(acct.ID) + "/servers/" + url.PathEscape(ent.ID)
		}
	}
	t.Fatal("no server with alarms in the scenario")
	return
}

func TestServerPageRefreshesLikeTheWall(t *testing.T) {
	t.Parallel()
	e, acct, serverID, path := serverEnv(t)

	t.Run("a normal GET gets the whole page with the refreshing part and the refresh line", func(t *testing.T) {
		doc := e.page(path)
		if doc.Find("html header.topbar").Length() != 1 || doc.Find("nav.crumbs").Length() != 1 {
			t.Error("the whole page lacks its top bar or crumbs")
		}
		if n := doc.Find("#contact").Length(); n != 1 {
			t.Errorf("%d #contact elements, want 1", n)
		}
		if doc.Find("#contact").Closest("#server").Length() != 0 {
			t.Error("the refresh line is inside the part that is swapped")
		}
		frag := doc.Find("#server")
		for attr, want := range map[string]string{"hx-get": path, "hx-trigger": "every 20s, live", "hx-swap": "outerHTML", "data-refresh-ms": "20000"} {
			if got := frag.AttrOr(attr, ""); got != want {
				t.Errorf("#server %s=%q, want %q", attr, got, want)
			}
		}
		if frag.Find("tr[data-alarm-id]").Length() < 2 {
			t.Error("the alarms are not inside #server")
		}
	})
	t.Run("an htmx request gets only the refreshing part", func(t *testing.T) {
		rec := e.getHTMX(path)
		wantStatus(t, rec, http.StatusOK)
		body := rec.Body.String()
		if !strings.HasPrefix(body, `<div id="server"`) || strings.Contains(body, "<html") || strings.Contains(body, `id="contact"`) {
			t.Errorf("htmx answer %.80q…, want the #server fragment alone", body)
		}
		if !varies(rec.Header(), "HX-Request") {
			t.Error("the answer does not vary by HX-Request")
		}
	})
	t.Run("a history restore gets the whole page", func(t *testing.T) {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("HX-Request", "true")
		req.Header.Set("HX-History-Restore-Request", "true")
		rec := e.do(req)
		wantStatus(t, rec, http.StatusOK)
		if !strings.Contains(rec.Body.String(), "<html") {
			t.Error("a history restore got the bare fragment")
		}
	})

	first := e.conditional(path, "", false)
	wantStatus(t, first, http.StatusOK)
	etag := first.Header().Get("ETag")
	t.Run("an unchanged refresh is a 304, even after a poll that brings the same states", func(t *testing.T) {
		if !strings.HasPrefix(etag, `"`) || len(etag) < 10 {
			t.Fatalf("ETag %q, want a strong tag", etag)
		}
		if got := first.Header().Get("Cache-Control"); got != "private, no-cache" {
			t.Errorf("Cache-Control %q for a signed-in page, want private, no-cache", got)
		}
		rec := e.conditional(path, etag, false)
		wantStatus(t, rec, http.StatusNotModified)
		if rec.Body.Len() != 0 {
			t.Errorf("304 with a %d-byte body", rec.Body.Len())
		}
		e.poll(acct.ID)
		wantStatus(t, e.conditional(path, etag, false), http.StatusNotModified)
		whole := e.get(path)
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("If-None-Match", whole.Header().Get("ETag"))
		wantStatus(t, e.do(req), http.StatusNotModified)
	})
	t.Run("gzip and plain bytes have tags of their own", func(t *testing.T) {
		gz := e.conditional(path, "", true)
		if gz.Header().Get("Content-Encoding") != "gzip" {
			t.Skipf("the fragment is too small to compress (%d bytes)", first.Body.Len())
		}
		gt := gz.Header().Get("ETag")
		if gt == etag {
			t.Errorf("gzip and plain share the ETag %q", gt)
		}
		wantStatus(t, e.conditional(path, gt, true), http.StatusNotModified)
		wantStatus(t, e.conditional(path, etag, true), http.StatusOK)
	})
	t.Run("a changed status text changes the ETag, though no count does", func(t *testing.T) {
		snap, err := e.store.Snapshot(e.ctx, acct.ID)
		if err != nil || snap == nil {
			t.Fatalf("snapshot: %v", err)
		}
		changed := *snap
		changed.Servers = slices.Clone(snap.Servers)
		i := slices.IndexFunc(changed.Servers, func(s monitoring.Server) bool { return s.ID == serverID })
		srv := &changed.Servers[i]
		srv.Alarms = slices.Clone(srv.Alarms)
		srv.Alarms[0].Status = "Something new happened"
		now := time.Now()
		if err := e.store.SaveSnapshot(e.ctx, acct.ID, changed, monitoring.PollSuccess{PolledAt: now, NextPoll: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		rec := e.conditional(path, etag, false)
		wantStatus(t, rec, http.StatusOK)
		if rec.Header().Get("ETag") == etag {
			t.Error("the ETag did not change with the status text")
		}
		if !strings.Contains(rec.Body.String(), "Something new happened") {
			t.Error("the new status text is not shown")
		}
		etag = rec.Header().Get("ETag")
	})
	t.Run("data turning stale with time changes the page without a poll", func(t *testing.T) {
		e.h.now = func() time.Time { return time.Now().Add(3*pollInterval + time.Minute) }
		t.Cleanup(func() { e.h.now = time.Now })
		rec := e.conditional(path, etag, false)
		wantStatus(t, rec, http.StatusOK)
		doc := parse(t, rec)
		if !strings.Contains(doc.Find("dl.facts .badge").Text(), "stale") || doc.Find("dl.facts time[data-ago][datetime]").Length() != 1 {
			t.Errorf("stale data shown as %q, want a stale badge and the time of the data", doc.Find("dl.facts").Text())
		}
	})
	t.Run("the public page may be kept by shared caches", func(t *testing.T) {
		h := newHandler(e.store, e.poller, e.client, e.log, Options{PollInterval: pollInterval, PublicDashboard: true})
		rec := httptest.NewRecorder()
		h.Routes().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		wantStatus(t, rec, http.StatusOK)
		if got := rec.Header().Get("Cache-Control"); got != "no-cache" {
			t.Errorf("Cache-Control %q for the public server page, want no-cache", got)
		}
	})
}

func TestServerPageFromBeforeAnUpgradeIsReloaded(t *testing.T) {
	t.Parallel()
	e, _, _, path := serverEnv(t)
	refresh := func(path, build string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("HX-Request", "true")
		req.Header.Set("HX-Current-URL", "http://example.test"+path)
		if build != "" {
			req.Header.Set(views.BuildHeader, build)
		}
		return e.do(req)
	}
	tests := []struct {
		name, path, build string
		status            int
		reload            bool
	}{
		{"the current page's refresh gets the alarms", path, e.h.build(), http.StatusOK, false},
		{"a page without a build is reloaded", path, "", http.StatusOK, true},
		{"a page of another build is reloaded", path, "old-" + e.h.build(), http.StatusOK, true},
		{"a refresh of a server that is gone reloads the page to say so", path + "x", e.h.build(), http.StatusNotFound, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := refresh(tt.path, tt.build)
			wantStatus(t, rec, tt.status)
			if got := rec.Header().Get("HX-Refresh") == "true"; got != tt.reload {
				t.Errorf("HX-Refresh %v, want %v", got, tt.reload)
			}
			if !tt.reload && !strings.HasPrefix(rec.Body.String(), `<div id="server"`) {
				t.Errorf("body %.60q, want the #server fragment", rec.Body.String())
			}
		})
	}
}
