package handlers

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"cmdash/monitoring"
	"cmdash/monitoring/fakerax"
)

// liveServer serves e's routes on loopback with live updates on, the wall
// model woken by the store as cmd/dashboard wires it, and the server's
// write timeout short, as a page's is, to show that streams outlive it.
func liveServer(t *testing.T, e *testEnv, streams int, public bool) (*Handler, *httptest.Server) {
	t.Helper()
	h := newHandler(e.store, e.poller, e.client, e.log, Options{PollInterval: pollInterval, PublicDashboard: public,
		LiveStreams: streams, LiveHeartbeat: 50 * time.Millisecond})
	e.store.OnChange(h.wall.Wake)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); h.wall.Watch(ctx, time.Hour) }() // woken, never by its tick
	ts := httptest.NewUnstartedServer(h.Routes())
	ts.Config.WriteTimeout = 300 * time.Millisecond
	ts.Config.RegisterOnShutdown(h.StopLive)
	ts.Start()
	t.Cleanup(func() { h.StopLive(); ts.Close(); stop(); <-done })
	return h, ts
}

// stream is an open live-update stream, read line by line.
type stream struct {
	t     *testing.T
	resp  *http.Response
	lines chan string
}

func openStream(t *testing.T, ts *httptest.Server, path, token string) *stream {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, ts.URL+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	s := &stream{t: t, resp: resp, lines: make(chan string, 64)}
	go func() {
		defer close(s.lines)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			s.lines <- sc.Text()
		}
	}()
	t.Cleanup(func() { resp.Body.Close() })
	return s
}

// next is the stream's next event's data, skipping heartbeats; "" when the
// stream ended or within gives nothing.
func (s *stream) next(within time.Duration) string {
	s.t.Helper()
	deadline := time.After(within)
	for {
		select {
		case line, ok := <-s.lines:
			if !ok {
				return ""
			}
			if data, found := strings.CutPrefix(line, "data: "); found {
				return data
			}
		case <-deadline:
			return ""
		}
	}
}

// heartbeat waits for a heartbeat (a comment line).
func (s *stream) heartbeat(within time.Duration) bool {
	deadline := time.After(within)
	for {
		select {
		case line, ok := <-s.lines:
			if !ok {
				return false
			}
			if line == ":" {
				return true
			}
		case <-deadline:
			return false
		}
	}
}

func TestALiveStreamTellsOfEveryChangeAtOnce(t *testing.T) {
	e := newTestEnv(t)
	acct := e.addAccount(e.upstream(fakerax.AccountSpec{Username: "live", Servers: 4, Alarms: 2}), "Live")
	e.poll(acct.ID)
	_, ts := liveServer(t, e, 10, false)

	s := openStream(t, ts, "/live", e.token)
	if ct := s.resp.Header.Get("Content-Type"); s.resp.StatusCode != http.StatusOK || ct != "text/event-stream" {
		t.Fatalf("status %d, Content-Type %q", s.resp.StatusCode, ct)
	}
	first := s.next(2 * time.Second)
	if first == "" {
		t.Fatal("no first event")
	}
	// A stored poll, a saved filter, an acknowledgement: each is told.
	for _, change := range []struct {
		name string
		do   func()
	}{
		{"a poll that changed a state", func() {
			srv := e.fake.Entities(acct.Username)[0]
			if err := e.fake.SetState(acct.Username, srv.ID, srv.Alarms[0].ID, "CRITICAL"); err != nil {
				t.Fatal(err)
			}
			e.poll(acct.ID)
		}},
		{"a saved filter", func() {
			if _, err := e.store.CreateFilter(e.ctx, "Web", "web"); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		start := time.Now()
		change.do()
		got := s.next(2 * time.Second)
		if got == "" || got == first {
			t.Fatalf("%s: event %q after %q", change.name, got, first)
		}
		t.Logf("%s: told in %v", change.name, time.Since(start).Round(time.Millisecond))
		first = got
	}
	// Quiet streams say they are alive, past the server's write timeout
	// (300 ms here) that a page's answer must keep to.
	time.Sleep(400 * time.Millisecond)
	if !s.heartbeat(time.Second) {
		t.Error("no heartbeat after the write timeout")
	}
}

func TestLiveStreamsAreBoundedAndFollowThePagesAccess(t *testing.T) {
	e := newTestEnv(t)
	h, ts := liveServer(t, e, 2, false)

	// Not signed in, not public: no stream, as no page.
	if s := openStream(t, ts, "/live", ""); s.resp.StatusCode == http.StatusOK {
		t.Errorf("an anonymous stream on a private dashboard: %d %s", s.resp.StatusCode, s.resp.Header.Get("Content-Type"))
	}
	// A wall link's stream opens with the link's token; a token that
	// opens nothing gets a 404.
	token, _, err := e.store.CreateWallLink(e.ctx, monitoring.WallLink{Name: "Hall TV", WallMode: true})
	if err != nil {
		t.Fatal(err)
	}
	if s := openStream(t, ts, "/w/nosuchtoken/live", ""); s.resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown wall link: %d", s.resp.StatusCode)
	}
	link := openStream(t, ts, "/w/"+token+"/live", "")
	if link.resp.StatusCode != http.StatusOK || link.next(2*time.Second) == "" {
		t.Fatalf("wall link stream: %d", link.resp.StatusCode)
	}
	// The page names its stream.
	page := httptest.NewRecorder()
	h.Routes().ServeHTTP(page, httptest.NewRequest(http.MethodGet, "/w/"+token, nil))
	if !strings.Contains(page.Body.String(), `data-live="/w/`+token+`/live"`) {
		t.Error("the wall link's page does not name its stream")
	}

	// Two at most: the third is refused with a Retry-After, and the page
	// goes on refreshing itself.
	second := openStream(t, ts, "/live", e.token)
	if second.next(2*time.Second) == "" {
		t.Fatal("second stream")
	}
	third := openStream(t, ts, "/live", e.token)
	if third.resp.StatusCode != http.StatusServiceUnavailable || third.resp.Header.Get("Retry-After") == "" {
		t.Errorf("third stream: %d, Retry-After %q", third.resp.StatusCode, third.resp.Header.Get("Retry-After"))
	}
	if n := h.LiveStreams(); n != 2 {
		t.Errorf("%d streams counted open", n)
	}
	// Shutting down ends them all.
	h.StopLive()
	for _, s := range []*stream{link, second} {
		for range s.lines {
		}
	}
	waitFor(t, func() bool { return h.LiveStreams() == 0 })
}

func TestLiveUpdatesOff(t *testing.T) {
	e := newTestEnv(t)
	if strings.Contains(e.get("/").Body.String(), "data-live") {
		t.Error("a page names a stream with live updates off")
	}
	_, ts := liveServer(t, e, 0, true)
	if s := openStream(t, ts, "/live", ""); s.resp.StatusCode != http.StatusNotFound {
		t.Errorf("live updates off: %d", s.resp.StatusCode)
	}
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 2 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
