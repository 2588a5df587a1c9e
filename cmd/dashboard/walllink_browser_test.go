package main

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// A screen showing a wall link must not go on showing its last data once
// the link is revoked: its next refresh reloads it into the page that says
// the link opens nothing.
func TestBrowserARevokedWallLinkTakesTheWallOffItsScreen(t *testing.T) {
	t.Parallel()
	chromium := findChromium(t)
	d := startDashboard(t, "-demo", "-db", filepath.Join(t.TempDir(), "d.db"),
		"-addr", "127.0.0.1:0", "-refresh-interval", "1s")

	// Sign in with the printed demo login and make a link, as in Settings.
	_, password, _ := strings.Cut(d.stdout.String(), "Demo login: demo / ")
	password, _, _ = strings.Cut(password, "\n")
	jar, _ := cookiejar.New(nil)
	admin := &http.Client{Timeout: 10 * time.Second, Jar: jar}
	post := func(path string, form url.Values) string {
		t.Helper()
		resp, err := admin.PostForm(d.URL+path, form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("POST %s: status %d", path, resp.StatusCode)
		}
		return string(body)
	}
	post("/login", url.Values{"username": {"demo"}, "password": {password}})
	link := regexp.MustCompile(`http://[^<"]+/w/wl_[A-Za-z0-9_-]+`).FindString(post("/settings/wall-links", url.Values{"name": {"TV"}, "wall_mode": {"on"}}))
	if link == "" {
		t.Fatal("no wall link shown after making one")
	}

	browserSlot(t)
	overall, cancelOverall := context.WithTimeout(context.Background(), slack(45*time.Second))
	defer cancelOverall()
	var browserOut lockedBuffer
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1366, 768), chromedp.CombinedOutput(&browserOut),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(overall, opts...)
	defer cancelAlloc()
	ctx, cancelCtx := chromedp.NewContext(allocCtx, chromedp.WithLogf(t.Logf))
	defer cancelCtx()
	defer func() {
		if t.Failed() {
			t.Logf("browser output:\n%s", browserOut.String())
		}
	}()
	if err := chromedp.Do(ctx, chromedp.Navigate(link)); err != nil {
		t.Fatalf("open the wall link: %v", err)
	}
	browserStep(t, ctx, "the wall shows and refreshes", 15*time.Second,
		chromedp.WaitVisible(chromedp.CSS("#grid section[data-account-id]")),
		chromedp.Poll[chromedp.Void](`/^Refreshed /.test(document.getElementById('contact').textContent)`,
			chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(slack(14*time.Second))),
	)
	if n := browserEval[int](t, ctx, `document.querySelectorAll('a[href], form').length`); n != 0 {
		t.Errorf("the wall link's page has %d links or forms, want none", n)
	}

	resp, err := admin.Get(d.URL + "/settings")
	if err != nil {
		t.Fatal(err)
	}
	settings, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	revoke := regexp.MustCompile(`/settings/wall-links/\d+/delete`).FindString(string(settings))
	if revoke == "" {
		t.Fatal("no revoke form in Settings")
	}
	post(revoke, url.Values{}) // follows the redirect back to Settings

	// The page reloads meanwhile, which ends any one evaluation: ask again
	// until the answer comes.
	const gone = `document.getElementById('grid') === null && document.body.textContent.includes('This wall link does not open the dashboard')`
	for deadline := time.Now().Add(slack(15 * time.Second)); ; {
		ectx, cancel := context.WithTimeout(ctx, slack(2*time.Second))
		ok, err := chromedp.Run(ectx, chromedp.Evaluate[bool](gone))
		cancel()
		if err == nil && ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the screen still shows the wall 15 s after the link was revoked (last error: %v)", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if loc := browserEval[string](t, ctx, `location.href`); loc != link {
		t.Errorf("the screen is at %q, want still the link (no sign-in page)", loc)
	}
}
