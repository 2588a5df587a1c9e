package handlers_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"cmdash/handlers"
)

// replicaOf is a Cluster whose role the test sets.
type replicaOf struct {
	primary atomic.Pointer[string] // nil: this node is the primary
	pos     atomic.Uint64
}

func (c *replicaOf) Replica() (string, bool) {
	if p := c.primary.Load(); p != nil {
		return *p, true
	}
	return "", false
}
func (c *replicaOf) Position() (uint64, error)                   { return c.pos.Load(), nil }
func (c *replicaOf) CatchUp(ctx context.Context, _ uint64) error { return nil }
func (c *replicaOf) Lag() time.Duration                          { return 40 * time.Millisecond }

func body(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// TestAReplicaNeverWritesItself: on a replica, what writes is replayed on
// the primary (Fly.io) or refused with a clear 503 when the dashboard does
// not know how to reach it; reads are served; /healthz says the role.
func TestAReplicaNeverWritesItself(t *testing.T) {
	t.Parallel()
	c := &replicaOf{}
	host := "machine-7"
	c.primary.Store(&host)
	plain := newApp(t, handlers.Options{Cluster: c, PublicDashboard: true})
	fly := newApp(t, handlers.Options{Cluster: c, FlyReplay: true})

	if resp := plain.do(plain.client(), "GET", "/", nil, nil); resp.StatusCode != http.StatusOK {
		t.Errorf("a read on a replica: %d", resp.StatusCode)
	}
	resp := plain.do(plain.client(), "POST", "/login", url.Values{"username": {adminUser}, "password": {adminPass}}, nil)
	if got := body(t, resp); resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(got, "read-only replica") || !strings.Contains(got, host) {
		t.Errorf("sign-in on a replica that cannot forward: %d %q", resp.StatusCode, got)
	}
	resp = plain.do(plain.client(), "POST", "/api/v1/filters", `{"name":"x","query":"x"}`, nil)
	if got := body(t, resp); resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(got, `"response":"error"`) {
		t.Errorf("an API write on a replica: %d %q, want 503 in the envelope", resp.StatusCode, got)
	}
	resp = fly.do(fly.client(), "POST", "/login", url.Values{"username": {adminUser}, "password": {adminPass}}, nil)
	resp.Body.Close()
	if got := resp.Header.Get("Fly-Replay"); got != "instance="+host {
		t.Errorf("Fly-Replay %q, want instance=%s", got, host)
	}
	// A request a replica handed on, arriving at a node that is a replica
	// too (the roles are changing), is not handed on again.
	resp = fly.do(fly.client(), "POST", "/login", url.Values{}, http.Header{"X-Dashboard-Forwarded": {"1"}})
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Fly-Replay") != "" {
		t.Errorf("a forwarded request on a replica: %d, Fly-Replay %q", resp.StatusCode, resp.Header.Get("Fly-Replay"))
	}
	// No primary known (it is away): a clear answer, never a replay to
	// nobody.
	none := ""
	c.primary.Store(&none)
	resp = fly.do(fly.client(), "POST", "/login", url.Values{"username": {adminUser}, "password": {adminPass}}, nil)
	if got := body(t, resp); resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Fly-Replay") != "" || !strings.Contains(got, "no primary can be reached") {
		t.Errorf("a write on a replica without a primary: %d, Fly-Replay %q, %q", resp.StatusCode, resp.Header.Get("Fly-Replay"), got)
	}
	c.primary.Store(&host)
	if got := body(t, plain.do(plain.client(), "GET", "/healthz", nil, nil)); !strings.Contains(got, "role: replica\nprimary: machine-7\nbehind: 40ms") {
		t.Errorf("/healthz on a replica: %q", got)
	}

	// Promoted: it writes, and tells a forwarding replica its position.
	c.primary.Store(nil)
	c.pos.Store(0x2a)
	resp = plain.do(plain.client(), "POST", "/login", url.Values{"username": {adminUser}, "password": {adminPass}}, http.Header{"X-Dashboard-Forwarded": {"1"}})
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("X-Dashboard-Position") != "2a" {
		t.Errorf("sign-in on the primary, forwarded: %d, position %q", resp.StatusCode, resp.Header.Get("X-Dashboard-Position"))
	}
	if !strings.Contains(strings.Join(resp.Header.Values("Set-Cookie"), "\n"), "dashboard_txid=2a;") {
		t.Errorf("sign-in on the primary: cookies %q, want the position for the next pages", resp.Header.Values("Set-Cookie"))
	}
	if got := body(t, plain.do(plain.client(), "GET", "/healthz", nil, nil)); got != "ok\nrole: primary\n" {
		t.Errorf("/healthz on the primary: %q", got)
	}
}
