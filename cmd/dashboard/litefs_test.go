package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"cmdash/migrations"
	"cmdash/monitoring"
	"cmdash/monitoring/fakerax"
	"cmdash/monitoring/fakerax/fakeraxtest"
	"cmdash/monitoring/sqlite"
)

// litefsModule is the LiteFS the cluster test runs, built from the module
// proxy (no cgo needed).
const litefsModule = "github.com/superfly/litefs/cmd/litefs@v0.5.14"

var (
	litefsOnce sync.Once
	litefsBin  string
	litefsErr  error
)

// needLiteFS returns the litefs binary, built once per machine, or skips
// the test where FUSE is missing — unless REQUIRE_LITEFS is set (CI on a
// machine that has /dev/fuse), where a missing piece fails it.
func needLiteFS(t *testing.T) string {
	t.Helper()
	missing := func(format string, args ...any) {
		t.Helper()
		if os.Getenv("REQUIRE_LITEFS") != "" {
			t.Fatalf(format, args...)
		}
		t.Skipf(format, args...)
	}
	if _, err := os.Stat("/dev/fuse"); err != nil {
		missing("LiteFS needs FUSE: %v", err)
	}
	if _, err := exec.LookPath("fusermount3"); err != nil {
		missing("LiteFS needs fusermount3 (Debian: apt-get install fuse3): %v", err)
	}
	if testing.Short() {
		t.Skip("-short: no LiteFS cluster")
	}
	litefsOnce.Do(func() {
		dir := filepath.Join(os.TempDir(), "cmdash-litefs-v0.5.14")
		litefsBin = filepath.Join(dir, "litefs")
		if _, err := os.Stat(litefsBin); err == nil {
			return
		}
		cmd := exec.Command("go", "install", litefsModule)
		cmd.Env = append(os.Environ(), "GOBIN="+dir, "CGO_ENABLED=0", "GOFLAGS=")
		if out, err := cmd.CombinedOutput(); err != nil {
			litefsErr = fmt.Errorf("go install %s: %v\n%s", litefsModule, err, out)
		}
	})
	if litefsErr != nil {
		missing("%v", litefsErr)
	}
	return litefsBin
}

// litefsNode is one LiteFS process on loopback, with a static lease.
type litefsNode struct {
	name, mnt string
	cmd       *exec.Cmd
	done      chan struct{}
	log       *lockedBuffer
}

// startLiteFS mounts a node; the primary is the lease's candidate, a
// replica streams from primaryAddr. Its database files live in t.TempDir.
func startLiteFS(t *testing.T, bin, name string, candidate bool, httpAddr, primaryAddr string) *litefsNode {
	t.Helper()
	dir := t.TempDir()
	n := &litefsNode{name: name, mnt: filepath.Join(dir, "mnt"), done: make(chan struct{}), log: &lockedBuffer{}}
	cfg := fmt.Sprintf(`fuse:
  dir: %q
data:
  dir: %q
http:
  addr: %q
lease:
  type: "static"
  candidate: %v
  hostname: "primary-node"
  advertise-url: "http://%s"
  reconnect-delay: "100ms"
exit-on-error: true
`, n.mnt, filepath.Join(dir, "data"), httpAddr, candidate, primaryAddr)
	cfgPath := filepath.Join(dir, "litefs.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	n.cmd = exec.Command(bin, "mount", "-config", cfgPath)
	n.cmd.Stdout, n.cmd.Stderr = n.log, n.log
	n.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = n.cmd.Wait(); close(n.done) }()
	// After t.TempDir, so it runs first: unmounted before the files go.
	t.Cleanup(func() {
		n.stop(t)
		if t.Failed() {
			t.Logf("litefs %s log:\n%s", name, n.log.String())
		}
	})
	waitUntil(t, 15*time.Second, "litefs "+name+" mounted", func() bool {
		return mountedAt(n.mnt) && dialable(httpAddr)
	})
	return n
}

// stop ends litefs (a replica that never reached its primary ignores
// SIGTERM: then SIGKILL) and takes away any mount left behind.
func (n *litefsNode) stop(t *testing.T) {
	_ = n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-n.cmd.Process.Pid, syscall.SIGKILL)
		<-n.done
	}
	if mountedAt(n.mnt) {
		if out, err := exec.Command("fusermount3", "-u", n.mnt).CombinedOutput(); err != nil {
			out2, err2 := exec.Command("fusermount3", "-uz", n.mnt).CombinedOutput()
			t.Logf("unmount %s: %v %s; lazily: %v %s", n.mnt, err, out, err2, out2)
		}
	}
}

func mountedAt(dir string) bool {
	b, _ := os.ReadFile("/proc/self/mountinfo")
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) > 4 && f[4] == dir {
			return true
		}
	}
	return false
}

func dialable(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
	if err == nil {
		c.Close()
	}
	return err == nil
}

func freeLoopback(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func waitUntil(t *testing.T, limit time.Duration, what string, ok func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) < limit {
		if ok() {
			return time.Since(start)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s: not within %v", what, limit)
	return 0
}

// TestLiteFSReplicaServesThePrimarysPollsAndHandsOverWrites runs a LiteFS
// primary and replica on loopback, a dashboard on each and the fake
// Rackspace: the replica's wall follows what the primary polls; a sign-in
// and an acknowledgement made through the replica land on the primary and
// show on both; the replica never polls.
func TestLiteFSReplicaServesThePrimarysPollsAndHandsOverWrites(t *testing.T) {
	bin := needLiteFS(t)
	fake, ts := fakeraxtest.NewServer(t, fakerax.Config{Seed: 5})
	up := fake.AddAccount(fakerax.AccountSpec{Username: "clustered", Servers: 4, Alarms: 2})
	// One server down from the start, to be acknowledged.
	down := fake.Entities(up.Username)[1]
	if err := fake.SetState(up.Username, down.ID, down.Alarms[0].ID, "CRITICAL"); err != nil {
		t.Fatal(err)
	}

	pAddr, rAddr := freeLoopback(t), freeLoopback(t)
	primaryFS := startLiteFS(t, bin, "primary", true, pAddr, pAddr)
	replicaFS := startLiteFS(t, bin, "replica", false, rAddr, pAddr)
	waitUntil(t, 10*time.Second, "the replica reaches the primary", func() bool {
		b, err := os.ReadFile(filepath.Join(replicaFS.mnt, ".primary"))
		return err == nil && strings.TrimSpace(string(b)) == "primary-node"
	})

	// The primary's database, with a user and the account, made as the
	// dashboard makes it in a mount.
	ctx := context.Background()
	const secret = "0123456789abcdef0123456789abcdef"
	env := []string{"DASHBOARD_SECRET=" + secret}
	pdb := filepath.Join(primaryFS.mnt, "dash.db")
	func() {
		db, err := sqlite.OpenPrimary(ctx, pdb, migrations.FS)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		sealer, _ := sqlite.NewSealer(secret)
		store := sqlite.NewStore(db, sealer)
		store.SetPasswordCost(bcrypt.MinCost)
		if _, err := store.CreateUser(ctx, "ops", "a cluster's password", monitoring.Admin); err != nil {
			t.Fatal(err)
		}
		if _, err := store.CreateAccount(ctx, up.Username, "Clustered", up.APIKey, nil); err != nil {
			t.Fatal(err)
		}
	}()

	common := []string{"-addr", "127.0.0.1:0", "-identity-url", fake.IdentityURL(ts.URL), "-public-dashboard",
		"-poll-interval", "10s", "-refresh-interval", "10m"}
	primary := startDashboardEnv(t, env, append(common, "-db", pdb)...)
	replica := startDashboardEnv(t, env, append(common, "-db", filepath.Join(replicaFS.mnt, "dash.db"),
		"-primary-url", primary.URL)...)

	health := func(base string) string {
		_, body := httpGet(t, base+"/healthz")
		return body
	}
	if h := health(primary.URL); !strings.Contains(h, "role: primary") {
		t.Errorf("primary's /healthz:\n%s", h)
	}
	if h := health(replica.URL); !strings.Contains(h, "role: replica") || !strings.Contains(h, "primary: primary-node") {
		t.Errorf("replica's /healthz:\n%s", h)
	}

	// What the primary polls reaches the replica's wall.
	srv := fake.Entities(up.Username)[0]
	tile := `data-server-id="` + srv.ID + `"`
	wallShows := func(base, state string) bool {
		_, body := httpGet(t, base+"/")
		i := strings.Index(body, tile)
		return i >= 0 && strings.Contains(body[max(0, strings.LastIndex(body[:i], "<li")):i+200], `data-state="`+state+`"`)
	}
	waitUntil(t, 30*time.Second, "the first poll on the primary's wall", func() bool {
		_, body := httpGet(t, primary.URL+"/")
		return strings.Contains(body, tile)
	})
	waitUntil(t, 10*time.Second, "the first poll on the replica's wall", func() bool {
		_, body := httpGet(t, replica.URL+"/")
		return strings.Contains(body, tile)
	})

	// Sign in through the replica: handed to the primary, and the session
	// works on both.
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := browser.PostForm(replica.URL+"/login", url.Values{"username": {"ops"}, "password": {"a cluster's password"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in through the replica: %s, want 303", resp.Status)
	}
	ru, _ := url.Parse(replica.URL)
	pu, _ := url.Parse(primary.URL)
	jar.SetCookies(pu, jar.Cookies(ru)) // one site behind a load balancer, as the user sees it
	for _, base := range []string{replica.URL, primary.URL} {
		if code, body := clientGet(t, browser, base+"/settings"); code != http.StatusOK || !strings.Contains(body, "ops") {
			t.Errorf("%s/settings with the session made through the replica: %d", base, code)
		}
	}

	// An acknowledgement made through the replica.
	acks := func(base string) string {
		_, body := clientGet(t, browser, base+"/api/v1/acks")
		return body
	}
	resp, err = browser.PostForm(fmt.Sprintf("%s/accounts/1/servers/%s/acks", replica.URL, down.ID),
		url.Values{"note": {"disk swap, ticket 4711"}, "expiry": {"4h"}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode >= 400 {
		t.Fatalf("acknowledge through the replica: %s\n%s", resp.Status, b)
	}
	for _, base := range []string{replica.URL, primary.URL} {
		if got := acks(base); !strings.Contains(got, "ticket 4711") {
			t.Errorf("%s has not the acknowledgement made through the replica at once: %s", base, got)
		}
	}

	// Replica lag: a change upstream, polled by the primary (asked through
	// the replica), until the replica's wall shows it.
	var lags []time.Duration
	for i, state := range []string{"CRITICAL", "OK", "WARNING", "OK", "CRITICAL", "OK"} {
		if err := fake.SetState(up.Username, srv.ID, srv.Alarms[1].ID, state); err != nil {
			t.Fatal(err)
		}
		resp, err := browser.PostForm(replica.URL+"/accounts/1/refresh", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		worst := state
		waitUntil(t, 20*time.Second, fmt.Sprintf("change %d on the primary's wall", i), func() bool { return wallShows(primary.URL, worst) })
		lags = append(lags, waitUntil(t, 10*time.Second, fmt.Sprintf("change %d on the replica's wall", i), func() bool { return wallShows(replica.URL, worst) }))
	}
	slices.Sort(lags)
	t.Logf("replica lag (primary's wall changed → replica's wall changed, %d changes): p50 %v, max %v",
		len(lags), lags[len(lags)/2].Round(time.Millisecond), lags[len(lags)-1].Round(time.Millisecond))

	// Signing out through the replica ends the session everywhere, the
	// replica's memory of it included.
	if code, _ := clientGet(t, browser, replica.URL+"/settings"); code != http.StatusOK {
		t.Fatalf("/settings on the replica before signing out: %d", code)
	}
	old := jar.Cookies(ru)
	resp, err = browser.PostForm(replica.URL+"/logout", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	stale, _ := cookiejar.New(nil)
	stale.SetCookies(ru, old)
	stale.SetCookies(pu, old)
	replay := &http.Client{Jar: stale, CheckRedirect: browser.CheckRedirect}
	for _, base := range []string{replica.URL, primary.URL} {
		if code, _ := clientGet(t, replay, base+"/settings"); code == http.StatusOK {
			t.Errorf("%s/settings still open to the session signed out through the replica", base)
		}
	}

	// The replica never polls: with the primary's dashboard stopped, the
	// fake sees no more requests while the replica serves on.
	if err := primary.stop(); err != nil {
		t.Fatalf("stop the primary's dashboard: %v", err)
	}
	before := fake.Counters(up.Username)
	time.Sleep(3 * time.Second)
	if code, _ := httpGet(t, replica.URL+"/"); code != http.StatusOK {
		t.Errorf("replica's wall without the primary's dashboard: %d", code)
	}
	if after := fake.Counters(up.Username); after != before {
		t.Errorf("requests upstream while only the replica ran: %+v → %+v", before, after)
	}
	// A write through the replica now fails cleanly, and changes nothing.
	resp, err = browser.PostForm(replica.URL+"/filters", url.Values{"name": {"db"}, "query": {"db"}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(b), "cannot be reached") {
		t.Errorf("a write through the replica with the primary down: %s %s", resp.Status, b)
	}
	if logs := replica.logs.String(); strings.Contains(logs, "disk I/O error") || strings.Contains(logs, "readonly") {
		t.Errorf("the replica tried to write:\n%s", logs)
	}
}

// clientGet is httpGet with c, which keeps the session.
func clientGet(t *testing.T, c *http.Client, url string) (int, string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp.StatusCode, string(b)
}
