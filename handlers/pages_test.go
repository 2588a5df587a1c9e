package handlers

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"cmdash/monitoring"
	"cmdash/monitoring/fakerax"
	"cmdash/views"
)

// storeFirstServerCritical stores, as a poll would, the account's latest
// data with its first server turned CRITICAL, and returns that server.
func (e *testEnv) storeFirstServerCritical(t *testing.T, id int64) monitoring.Server {
	t.Helper()
	snap, err := e.store.Snapshot(e.ctx, id)
	if err != nil || snap == nil {
		t.Fatalf("snapshot: %v", err)
	}
	changed := *snap
	changed.Servers = append([]monitoring.Server(nil), snap.Servers...)
	s := &changed.Servers[0]
	s.Counts = monitoring.Counts{Critical: 1, Total: 1}
	s.Worst = monitoring.StateCritical
	now := time.Now()
	if err := e.store.SaveSnapshot(e.ctx, id, changed, monitoring.PollSuccess{PolledAt: now, NextPoll: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	return *s
}

// conditional GETs path as an htmx refresh with If-None-Match.
func (e *testEnv) conditional(path, etag string, gzip bool) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Header.Set("HX-Request", "true")
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	if gzip {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	return e.do(req)
}

func TestWallRefreshIsConditional(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	up := e.upstream(fakerax.AccountSpec{Username: "cond", Servers: 12, Alarms: 4, WarningShare: 0.2, CriticalShare: 0.1})
	a := e.addAccount(up, "")
	e.poll(a.ID)

	first := e.conditional("/", "", false)
	wantStatus(t, first, http.StatusOK)
	etag := first.Header().Get("ETag")

	t.Run("a refresh carries a strong validator and must be revalidated", func(t *testing.T) {
		if !strings.HasPrefix(etag, `"`) || len(etag) < 10 {
			t.Fatalf("ETag %q, want a strong tag", etag)
		}
		if got := first.Header().Get("Cache-Control"); got != "private, no-cache" {
			t.Errorf("Cache-Control %q for a signed-in page, want private, no-cache", got)
		}
	})
	t.Run("the same request again gives the same bytes", func(t *testing.T) {
		again := e.conditional("/", "", false)
		if again.Body.String() != first.Body.String() || again.Header().Get("ETag") != etag {
			t.Error("two refreshes of unchanged data differ")
		}
	})
	t.Run("an unchanged refresh is a 304 without a body or document headers", func(t *testing.T) {
		rec := e.conditional("/", etag, false)
		wantStatus(t, rec, http.StatusNotModified)
		if rec.Body.Len() != 0 {
			t.Errorf("304 with a %d-byte body", rec.Body.Len())
		}
		if rec.Header().Get("ETag") != etag {
			t.Errorf("304 ETag %q, want %q", rec.Header().Get("ETag"), etag)
		}
		for _, h := range []string{"Content-Security-Policy", "X-Frame-Options", "Content-Type", "Set-Cookie"} {
			if v := rec.Header().Get(h); v != "" {
				t.Errorf("304 carries %s: %q", h, v)
			}
		}
	})
	t.Run("a poll that brings the same states keeps the ETag", func(t *testing.T) {
		e.poll(a.ID)
		wantStatus(t, e.conditional("/", etag, false), http.StatusNotModified)
	})
	t.Run("changed data gives a 200 with the new grid and a new ETag", func(t *testing.T) {
		s := e.storeFirstServerCritical(t, a.ID)
		rec := e.conditional("/", etag, false)
		wantStatus(t, rec, http.StatusOK)
		if rec.Header().Get("ETag") == etag {
			t.Error("the ETag did not change with the data")
		}
		tile := parse(t, rec).Find(`li.tile[data-server-id="` + s.ID + `"]`)
		if tile.AttrOr("data-state", "") != "CRITICAL" || tile.AttrOr("data-critical", "") != "1" {
			t.Errorf("the new grid shows %s with state %q", s.ID, tile.AttrOr("data-state", ""))
		}
		etag = rec.Header().Get("ETag")
	})
	t.Run("renaming an account changes the ETag", func(t *testing.T) {
		if err := e.store.UpdateAccount(e.ctx, a.ID, monitoring.AccountUpdate{Alias: "Renamed", Enabled: true}); err != nil {
			t.Fatal(err)
		}
		rec := e.conditional("/", etag, false)
		wantStatus(t, rec, http.StatusOK)
		if !strings.Contains(rec.Body.String(), "Renamed") {
			t.Error("the new name is not in the grid")
		}
		etag = rec.Header().Get("ETag")
	})
	t.Run("data turning stale with time changes the ETag without a poll", func(t *testing.T) {
		e.h.now = func() time.Time { return time.Now().Add(3*pollInterval + time.Minute) }
		t.Cleanup(func() { e.h.now = time.Now })
		rec := e.conditional("/", etag, false)
		wantStatus(t, rec, http.StatusOK)
		if got := section(parse(t, rec), a.ID).AttrOr("data-stale", ""); got != "true" {
			t.Errorf("data-stale=%q, want true", got)
		}
	})
	t.Run("gzip and plain bytes have tags of their own, each revalidating", func(t *testing.T) {
		plain := e.conditional("/", "", false)
		gz := e.conditional("/", "", true)
		if gz.Header().Get("Content-Encoding") != "gzip" {
			t.Fatalf("Content-Encoding %q, want gzip", gz.Header().Get("Content-Encoding"))
		}
		zr, err := gzip.NewReader(gz.Body)
		if err != nil {
			t.Fatal(err)
		}
		inflated, _ := io.ReadAll(zr)
		if string(inflated) != plain.Body.String() {
			t.Error("the gzipped and the plain refresh differ")
		}
		pt, gt := plain.Header().Get("ETag"), gz.Header().Get("ETag")
		if pt == gt {
			t.Errorf("gzip and plain share the ETag %q", pt)
		}
		wantStatus(t, e.conditional("/", gt, true), http.StatusNotModified)
		wantStatus(t, e.conditional("/", pt, false), http.StatusNotModified)
		wantStatus(t, e.conditional("/", pt, true), http.StatusOK) // holds plain, would get gzip
	})
	t.Run("the whole page and the grid have different tags", func(t *testing.T) {
		page := e.get("/")
		grid := e.conditional("/", "", false)
		if page.Header().Get("ETag") == grid.Header().Get("ETag") {
			t.Error("page and fragment share an ETag")
		}
		wantStatus(t, e.conditional("/", page.Header().Get("ETag"), false), http.StatusOK)
	})
	t.Run("signed-in and public pages are kept apart", func(t *testing.T) {
		h := newHandler(e.store, e.poller, e.client, e.log, Options{PollInterval: pollInterval, PublicDashboard: true})
		anon := httptest.NewRecorder()
		h.Routes().ServeHTTP(anon, httptest.NewRequest(http.MethodGet, "/", nil))
		signed := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Header.Set("Authorization", "Bearer "+e.token)
		h.Routes().ServeHTTP(signed, req)
		wantStatus(t, anon, http.StatusOK)
		wantStatus(t, signed, http.StatusOK)
		if strings.Contains(anon.Body.String(), "Refresh now") || !strings.Contains(signed.Body.String(), "Refresh now") {
			t.Error("the public page has the signed-in controls, or the signed-in page lacks them")
		}
		if got := anon.Header().Get("Cache-Control"); got != "no-cache" {
			t.Errorf("Cache-Control %q for the public wall, want no-cache", got)
		}
	})
}

func TestAChangeElsewhereKeepsA304(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	a := e.addAccount(e.upstream(fakerax.AccountSpec{Username: "quiet-one", Servers: 5, Alarms: 3}), "")
	b := e.addAccount(e.upstream(fakerax.AccountSpec{Username: "busy-one", Servers: 5, Alarms: 3}), "")
	e.poll(a.ID)
	e.poll(b.ID)
	path := "/accounts/" + idStr(a.ID)
	etag := e.conditional(path, "", false).Header().Get("ETag")
	filtered := e.conditional("/?q=quiet", "", false).Header().Get("ETag")
	// Account b changes; a's page and a filter showing only a do not.
	if err := e.store.UpdateAccount(e.ctx, b.ID, monitoring.AccountUpdate{Alias: "Renamed", Enabled: true}); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, e.conditional(path, etag, false), http.StatusNotModified)
	wantStatus(t, e.conditional("/?q=quiet", filtered, false), http.StatusNotModified)
	wantStatus(t, e.conditional("/", etag, false), http.StatusOK)
}

func TestAPanickingRenderIsA500AndNoBodyWaitsForIt(t *testing.T) {
	t.Parallel()
	c := newPageCache(8, 1<<20)
	key := pageKey{version: 1, viewKey: viewKey{path: "/"}}
	if _, err := c.get(key, func() ([]byte, error) { panic("boom") }); err == nil {
		t.Fatal("a panicking render gave no error")
	}
	done := make(chan error, 1)
	go func() {
		_, err := c.get(key, func() ([]byte, error) { return []byte("ok"), nil })
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("after the panic: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a request after the panic waits forever")
	}
}

func TestHistoryRestoreGetsTheWholePage(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	a := e.addAccount(e.upstream(fakerax.AccountSpec{Username: "hist", Servers: 3, Alarms: 2}), "")
	e.poll(a.ID)
	// htmx 2, on a history-cache miss after Back, asks with both headers
	// and puts the answer in place of the whole body.
	req := httptest.NewRequest(http.MethodGet, "/?q=hist", nil)
	req.Header.Set("HX-Request", "true")
	req.Header.Set("HX-History-Restore-Request", "true")
	rec := e.do(req)
	wantStatus(t, rec, http.StatusOK)
	doc := parse(t, rec)
	if doc.Find("html header.topbar").Length() != 1 || doc.Find("input[type=search]").AttrOr("value", "") != "hist" {
		t.Error("a history restore got the bare grid, not the whole page with its filter")
	}
	if doc.Find("#grid li.tile").Length() != 3 {
		t.Errorf("%d tiles, want 3", doc.Find("#grid li.tile").Length())
	}
}

// countingConn counts the bytes read from the server.
type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func TestUnchangedRefreshIsSmallOnTheWire(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	for i := range 3 {
		a := e.addAccount(e.upstream(fakerax.AccountSpec{Username: fmt.Sprintf("wire%d", i), Servers: 40, Alarms: 6, WarningShare: 0.1, CriticalShare: 0.05}), "")
		e.poll(a.ID)
	}
	h := newHandler(e.store, e.poller, e.client, e.log, Options{PollInterval: pollInterval, PublicDashboard: true})
	srv := httptest.NewServer(h.Routes())
	t.Cleanup(srv.Close)

	// One raw HTTP/1.1 exchange, counting every byte the server sends.
	exchange := func(etag string) (status int, wire int64, tag string) {
		t.Helper()
		var n atomic.Int64
		raw, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		conn := countingConn{raw, &n}
		defer conn.Close()
		req := "GET / HTTP/1.1\r\nHost: " + srv.Listener.Addr().String() + "\r\nHX-Request: true\r\nAccept-Encoding: gzip\r\nConnection: close\r\n"
		if etag != "" {
			req += "If-None-Match: " + etag + "\r\n"
		}
		if _, err := io.WriteString(conn, req+"\r\n"); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		_, _ = io.Copy(io.Discard, conn) // to EOF: everything the server wrote
		return resp.StatusCode, n.Load(), resp.Header.Get("ETag")
	}
	status, full, etag := exchange("")
	if status != http.StatusOK || etag == "" {
		t.Fatalf("first refresh: status %d, ETag %q", status, etag)
	}
	status, small, _ := exchange(etag)
	if status != http.StatusNotModified {
		t.Fatalf("unchanged refresh: status %d, want 304", status)
	}
	if small > 300 {
		t.Errorf("an unchanged refresh is %d bytes on the wire, want at most 300", small)
	}
	t.Logf("refresh of 120 servers: %d bytes on the wire; unchanged: %d bytes", full, small)
}

func TestStaticFilesAndHealthSkipSessions(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	tests := []struct {
		name   string
		path   string
		status int
	}{
		{"a static file is served", "/static/app.css", http.StatusOK},
		{"the static directory is not listed", "/static/", http.StatusNotFound},
		{"the health check answers", "/healthz", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := e.anonymous(httptest.NewRequest(http.MethodGet, tt.path, nil))
			wantStatus(t, rec, tt.status)
			if varies(rec.Header(), "Cookie") || rec.Header().Get("Set-Cookie") != "" {
				t.Errorf("%s went through the session middleware (Vary %q)", tt.path, rec.Header().Values("Vary"))
			}
			if rec.Header().Get("X-Content-Type-Options") != "nosniff" {
				t.Error("security headers missing")
			}
		})
	}
}

func TestPageCache(t *testing.T) {
	t.Parallel()
	t.Run("a page is rendered once however many ask at the same moment", func(t *testing.T) {
		c := newPageCache(8, 1<<20)
		var renders atomic.Int32
		var wg sync.WaitGroup
		for range 50 {
			wg.Go(func() {
				p, err := c.get(pageKey{version: 1, viewKey: viewKey{path: "/"}}, func() ([]byte, error) {
					renders.Add(1)
					time.Sleep(20 * time.Millisecond)
					return []byte("<div id=grid></div>"), nil
				})
				if err != nil || string(p.plain) != "<div id=grid></div>" {
					t.Errorf("page %q, %v", p.plain, err)
				}
			})
		}
		wg.Wait()
		if n := renders.Load(); n != 1 {
			t.Errorf("%d renders, want 1", n)
		}
	})
	t.Run("the cache holds at most its bound, newest kept", func(t *testing.T) {
		c := newPageCache(4, 1<<20)
		for i := range 20 {
			_, _ = c.get(pageKey{version: 1, viewKey: viewKey{path: "/", query: fmt.Sprint(i)}}, func() ([]byte, error) { return []byte("x"), nil })
		}
		if len(c.pages) != 4 || c.lru.Len() != 4 {
			t.Errorf("%d pages, %d in order, want 4", len(c.pages), c.lru.Len())
		}
		if _, ok := c.pages[pageKey{version: 1, viewKey: viewKey{path: "/", query: "19"}}]; !ok {
			t.Error("the newest page was evicted")
		}
	})
	t.Run("a byte bound evicts too", func(t *testing.T) {
		c := newPageCache(100, 1000)
		for i := range 10 {
			_, _ = c.get(pageKey{version: 1, viewKey: viewKey{query: fmt.Sprint(i)}}, func() ([]byte, error) { return make([]byte, 300), nil })
		}
		if c.bytes > 1000 || len(c.pages) > 3 {
			t.Errorf("%d bytes in %d pages, want at most 1000", c.bytes, len(c.pages))
		}
	})
	t.Run("a newer version drops every older page", func(t *testing.T) {
		c := newPageCache(8, 1<<20)
		_, _ = c.get(pageKey{version: 1}, func() ([]byte, error) { return []byte("old"), nil })
		p, _ := c.get(pageKey{version: 2}, func() ([]byte, error) { return []byte("new"), nil })
		if len(c.pages) != 1 || string(p.plain) != "new" {
			t.Errorf("%d pages after a version change", len(c.pages))
		}
	})
	t.Run("while a new version renders, others get the previous one at once", func(t *testing.T) {
		c := newPageCache(8, 1<<20)
		view := viewKey{path: "/"}
		_, _ = c.get(pageKey{version: 1, viewKey: view}, func() ([]byte, error) { return []byte("v1"), nil })
		release := make(chan struct{})
		first := make(chan string)
		go func() {
			p, _ := c.get(pageKey{version: 2, viewKey: view}, func() ([]byte, error) {
				<-release
				return []byte("v2"), nil
			})
			first <- string(p.plain)
		}()
		// Wait until the render has started.
		for {
			c.mu.Lock()
			_, started := c.pages[pageKey{version: 2, viewKey: view}]
			c.mu.Unlock()
			if started {
				break
			}
			time.Sleep(time.Millisecond)
		}
		p, _ := c.get(pageKey{version: 2, viewKey: view}, func() ([]byte, error) { t.Error("rendered twice"); return nil, nil })
		if string(p.plain) != "v1" {
			t.Errorf("during the render another request got %q, want the previous v1", p.plain)
		}
		// A request that came because the data changed waits for it.
		fresh := make(chan string)
		go func() {
			p, _ := c.getFresh(pageKey{version: 2, viewKey: view}, func() ([]byte, error) { t.Error("rendered twice"); return nil, nil })
			fresh <- string(p.plain)
		}()
		select {
		case got := <-fresh:
			t.Fatalf("a live update's request got %q before the render ended", got)
		case <-time.After(50 * time.Millisecond):
		}
		other, _ := c.get(pageKey{version: 2, viewKey: viewKey{path: "/", query: "new"}}, func() ([]byte, error) { return []byte("v2 filtered"), nil })
		if string(other.plain) != "v2 filtered" {
			t.Errorf("a view with no previous page got %q", other.plain)
		}
		close(release)
		if got := <-first; got != "v2" {
			t.Errorf("the request that started the render got %q, want v2", got)
		}
		if got := <-fresh; got != "v2" {
			t.Errorf("the live update's request got %q, want v2", got)
		}
		if p, _ := c.get(pageKey{version: 2, viewKey: view}, nil); string(p.plain) != "v2" {
			t.Errorf("after the render: %q, want v2", p.plain)
		}
	})
	t.Run("a failed render is not kept", func(t *testing.T) {
		c := newPageCache(8, 1<<20)
		if _, err := c.get(pageKey{version: 1}, func() ([]byte, error) { return nil, fmt.Errorf("boom") }); err == nil {
			t.Fatal("no error")
		}
		p, err := c.get(pageKey{version: 1}, func() ([]byte, error) { return []byte("ok"), nil })
		if err != nil || string(p.plain) != "ok" {
			t.Errorf("after a failure: %q, %v", p.plain, err)
		}
	})
}

func TestETagMatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		header string
		want   bool
	}{
		{"", false},
		{`"abc"`, true},
		{`W/"abc"`, true},
		{`"x", "abc"`, true},
		{`*`, true},
		{`"abcd"`, false},
		{`abc`, false},
	}
	for _, tt := range tests {
		if got := etagMatch(tt.header, `"abc"`); got != tt.want {
			t.Errorf("etagMatch(%q) = %v, want %v", tt.header, got, tt.want)
		}
	}
}

func TestAPageFromBeforeAnUpgradeIsReloaded(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	a := e.addAccount(e.upstream(fakerax.AccountSpec{Username: "upg", Servers: 2, Alarms: 2}), "")
	e.poll(a.ID)
	doc := e.page("/")
	build := ""
	if v, ok := doc.Find("body").Attr("hx-headers"); ok {
		var hdr map[string]string
		if err := json.Unmarshal([]byte(v), &hdr); err != nil {
			t.Fatalf("body hx-headers %q: %v", v, err)
		}
		build = hdr[views.BuildHeader]
	}
	if build == "" {
		t.Fatal("the page does not send its build with htmx requests")
	}
	if href := doc.Find(`link[rel=stylesheet]`).First().AttrOr("href", ""); !strings.HasPrefix(href, "/static/app.css?v=") {
		t.Errorf("stylesheet at %q, want a content-versioned URL", href)
	}
	refresh := func(build string, restore bool) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Header.Set("HX-Request", "true")
		req.Header.Set("HX-Current-URL", "http://example.test/")
		if build != "" {
			req.Header.Set(views.BuildHeader, build)
		}
		if restore {
			req.Header.Set("HX-History-Restore-Request", "true")
		}
		return e.do(req)
	}
	tests := []struct {
		name        string
		build       string
		restore     bool
		wantReload  bool
		wantPage    bool
		wantFragOut bool
	}{
		{name: "the current page's refresh gets the grid", build: build, wantFragOut: true},
		{name: "a page without a build (from before) is reloaded", build: "", wantReload: true},
		{name: "a page of another build is reloaded", build: "old-" + build, wantReload: true},
		{name: "a history restore gets the whole page whatever its build", build: "", restore: true, wantPage: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := refresh(tt.build, tt.restore)
			wantStatus(t, rec, http.StatusOK)
			if got := rec.Header().Get("HX-Refresh") == "true"; got != tt.wantReload {
				t.Errorf("HX-Refresh %v, want %v", got, tt.wantReload)
			}
			body := rec.Body.String()
			if tt.wantFragOut && !strings.HasPrefix(body, `<div id="grid"`) {
				t.Errorf("body %.60q, want the grid", body)
			}
			if tt.wantPage && !strings.Contains(body, "<html") {
				t.Errorf("body %.60q, want the whole page", body)
			}
		})
	}
	t.Run("a script's htmx-style request without a page gets the grid", func(t *testing.T) {
		rec := e.getHTMX("/")
		if rec.Header().Get("HX-Refresh") != "" || !strings.HasPrefix(rec.Body.String(), `<div id="grid"`) {
			t.Error("a request without HX-Current-URL was told to reload")
		}
	})
}

// A filter too long to keep in the page cache is rendered per request; it
// must still follow the data, even when no page with a short filter was
// ever served (a wall link's filter may be 255 characters).
func TestALongFilterFollowsTheData(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	a := e.addAccount(e.upstream(fakerax.AccountSpec{Username: "longfilter", Servers: 4, Alarms: 3}), "")
	e.poll(a.ID)
	q := strings.TrimSpace(strings.Repeat("longfilter ", 23)) // 252 bytes, every word matches
	if len(q) <= maxCachedQuery || len(q) > 255 {
		t.Fatalf("filter of %d bytes", len(q))
	}
	path := "/wall?q=" + strings.ReplaceAll(q, " ", "+")
	first := e.conditional(path, "", false)
	wantStatus(t, first, http.StatusOK)
	etag := first.Header().Get("ETag")
	wantStatus(t, e.conditional(path, etag, false), http.StatusNotModified)

	s := e.storeFirstServerCritical(t, a.ID)
	rec := e.conditional(path, etag, false)
	wantStatus(t, rec, http.StatusOK)
	if rec.Header().Get("ETag") == etag {
		t.Error("the ETag did not change with the data")
	}
	tile := parse(t, rec).Find(`li.tile[data-server-id="` + s.ID + `"]`)
	if tile.AttrOr("data-state", "") != "CRITICAL" {
		t.Errorf("the grid shows %s as %q, want CRITICAL", s.ID, tile.AttrOr("data-state", ""))
	}
}
