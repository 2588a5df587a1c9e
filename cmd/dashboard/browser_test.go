package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// findChromium returns the browser to drive, skipping the test when there is
// none, unless REQUIRE_BROWSER=1 (as in CI) makes that a failure.
func findChromium(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err == nil {
		return path
	}
	if os.Getenv("REQUIRE_BROWSER") == "1" {
		t.Fatalf("REQUIRE_BROWSER=1 but no chromium on PATH: %v", err)
	}
	t.Skipf("skipping the browser test: no chromium on PATH (%v); install it (apt-get install chromium) or set REQUIRE_BROWSER=1 to make this a failure", err)
	return ""
}

// savePNG writes a screenshot under dir and, when SCREENSHOT_DIR is set,
// copies it there.
func savePNG(t *testing.T, dir, name string, png []byte) string {
	t.Helper()
	if !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatalf("screenshot %s is not a PNG (%d bytes)", name, len(png))
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
	if out := os.Getenv("SCREENSHOT_DIR"); out != "" {
		if err := os.MkdirAll(out, 0o755); err != nil {
			t.Fatal(err)
		}
		cp := filepath.Join(out, name)
		if err := os.WriteFile(cp, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot copied to %s", cp)
	}
	return path
}

// browserSlack stretches every deadline of the browser tests: they run in
// parallel, each with its own Chromium, on machines that may be busy (a CI
// runner of two cores), and a deadline only bounds how long a failure
// takes to show, never how long a success does.
const browserSlack = 3

// browsers bounds how many Chromiums run at once: the browser tests run
// in parallel, but more browsers than cores (under -race, on a CI runner of
// two) starve each other past any deadline.
var browsers = make(chan struct{}, 2)

// browserSlot waits for a free browser slot, held until the test ends.
func browserSlot(t *testing.T) {
	t.Helper()
	browsers <- struct{}{}
	t.Cleanup(func() { <-browsers })
}

// slack is d stretched by browserSlack.
func slack(d time.Duration) time.Duration { return browserSlack * d }

// browserStep runs actions with their own time limit.
func browserStep(t *testing.T, ctx context.Context, what string, limit time.Duration, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, slack(limit))
	defer cancel()
	if err := chromedp.Do(sctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// screenshot saves what the browser shows under dir (see savePNG).
func screenshot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, slack(10*time.Second))
	defer cancel()
	png, err := chromedp.Run(sctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	savePNG(t, dir, name, png)
}

func browserEval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, slack(5*time.Second))
	defer cancel()
	v, err := chromedp.Run(sctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// startBrowser starts headless Chromium at w×h for one test; everything,
// the browser included, ends within limit. consoleErrors reports what the
// console said was wrong since the start: a Content-Security-Policy
// violation (an inline style htmx injected, an inline script) or a script
// error shows up there.
func startBrowser(t *testing.T, limit time.Duration, w, h int) (ctx context.Context, consoleErrors func() []string) {
	t.Helper()
	chromium := findChromium(t)
	browserSlot(t) // before the clock starts: waiting for a slot is not the test's time
	overall, cancelOverall := context.WithTimeout(context.Background(), slack(limit))
	t.Cleanup(cancelOverall)
	var browserOut lockedBuffer
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(w, h),
		chromedp.CombinedOutput(&browserOut),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(overall, opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx, chromedp.WithLogf(t.Logf))
	// Cleanups run last in, first out: the tab, then the browser (waiting
	// for it to exit, before the temp dirs go).
	t.Cleanup(cancelAlloc)
	t.Cleanup(cancelCtx)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("browser output:\n%s", browserOut.String())
		}
	})
	// The first Run starts the browser; it is bounded by overall.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(int64(w), int64(h))); err != nil {
		t.Fatalf("start the browser: %v", err)
	}
	var mu sync.Mutex
	var errs []string
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() || strings.Contains(m.Text, "Content Security Policy") {
				mu.Lock()
				errs = append(errs, m.String())
				mu.Unlock()
			}
		}
	}()
	return ctx, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(errs)
	}
}

func TestBrowserDashboardRefreshesInPlaceAndOpensAServer(t *testing.T) {
	t.Parallel()
	d := startDashboard(t, "-demo", "-db", filepath.Join(t.TempDir(), "d.db"),
		"-addr", "127.0.0.1:0", "-refresh-interval", "2s")
	shots := t.TempDir()

	ctx, consoleErrors := startBrowser(t, 55*time.Second, 1920, 1080)
	if err := chromedp.Do(ctx, chromedp.Navigate(d.URL+"/")); err != nil {
		t.Fatalf("open the dashboard: %v", err)
	}
	browserStep(t, ctx, "wait for tiles", 15*time.Second,
		chromedp.WaitVisible(chromedp.CSS("li.tile")),
		// Demo accounts are polled at start; the grid refresh brings them all.
		chromedp.Poll[chromedp.Void](`document.querySelectorAll('li.tile').length >= 60`,
			chromedp.WithPollingInterval(200*time.Millisecond), chromedp.WithPollingTimeout(slack(15*time.Second))),
	)
	if n := browserEval[int](t, ctx, `document.querySelectorAll('li.tile').length`); n < 60 {
		t.Fatalf("%d tiles, want at least 60 (the demo has 100)", n)
	}
	if n := browserEval[int](t, ctx, `document.querySelectorAll('section[data-account-id]').length`); n != 3 {
		t.Errorf("%d account sections, want 3", n)
	}

	// A marker on window survives an htmx swap but not a page load.
	const marker = "set-before-the-refresh"
	_ = browserEval[chromedp.Void](t, ctx, fmt.Sprintf(`window.__dashboardMarker = %q`, marker))
	// The grid element is replaced by every refresh, changed or not (an
	// unchanged one comes back from the browser's cache after a 304).
	_ = browserEval[chromedp.Void](t, ctx, `document.getElementById('grid').__beforeRefresh = true`)
	browserStep(t, ctx, "wait for the grid to refresh", 25*time.Second,
		chromedp.Poll[chromedp.Void](`(() => { const g = document.getElementById('grid'); return g !== null && !g.__beforeRefresh; })()`,
			chromedp.WithPollingInterval(200*time.Millisecond), chromedp.WithPollingTimeout(slack(24*time.Second))),
	)
	if got := browserEval[string](t, ctx, `document.getElementById('contact').textContent`); !strings.HasPrefix(got, "Refreshed ") {
		t.Errorf("contact line %q after a refresh, want \"Refreshed … ago\"", got)
	}
	if got := browserEval[string](t, ctx, `window.__dashboardMarker || ''`); got != marker {
		t.Fatalf("window marker %q after the refresh, want %q: the page was reloaded instead of swapped", got, marker)
	}
	if n := browserEval[int](t, ctx, `document.querySelectorAll('#grid li.tile').length`); n < 60 {
		t.Errorf("%d tiles after the refresh, want at least 60", n)
	}
	if n := browserEval[int](t, ctx, `document.querySelectorAll('#grid').length`); n != 1 {
		t.Errorf("%d #grid elements after the swap, want 1 (outerHTML swap must not nest grids)", n)
	}
	if n := browserEval[int](t, ctx, `document.querySelectorAll('style').length`); n != 0 {
		t.Errorf("%d <style> elements in the page: the CSP forbids inline styles", n)
	}
	if errs := consoleErrors(); len(errs) > 0 {
		t.Errorf("the browser console reported errors (CSP violations or script errors):\n%s", strings.Join(errs, "\n"))
	}

	// Filtering pushes a URL; Back brings the whole page back, both from
	// htmx's history cache and, on a cache miss, from the server (htmx
	// then asks with HX-History-Restore-Request and must get the page, not
	// the bare grid).
	for _, miss := range []bool{false, true} {
		if miss {
			_ = browserEval[chromedp.Void](t, ctx, `htmx.config.historyCacheSize = 0; localStorage.removeItem('htmx-history-cache')`)
		}
		browserStep(t, ctx, "filter the wall", 15*time.Second,
			chromedp.SendKeys(chromedp.CSS(`input[type=search]`), "acme-staging"),
			chromedp.Poll[chromedp.Void](`location.search.includes('q=acme-staging') && document.querySelectorAll('section[data-account-id]').length === 1`,
				chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(slack(14*time.Second))),
		)
		browserStep(t, ctx, "go back", 15*time.Second,
			chromedp.NavigateBack(),
			chromedp.Poll[chromedp.Void](`location.search === '' && document.querySelectorAll('section[data-account-id]').length === 3`,
				chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(slack(14*time.Second))),
		)
		if n := browserEval[int](t, ctx, `document.querySelectorAll('header.topbar').length + document.querySelectorAll('input[type=search]').length`); n != 2 {
			t.Errorf("after Back (history cache miss: %v) the page has %d of its top bar and search box, want both once", miss, n)
		}
		if n := browserEval[int](t, ctx, `document.querySelectorAll('#grid').length`); n != 1 {
			t.Errorf("after Back (history cache miss: %v): %d #grid elements, want 1", miss, n)
		}
		if v := browserEval[string](t, ctx, `document.querySelector('input[type=search]').value`); v != "" {
			t.Errorf("after Back the search box still says %q", v)
		}
	}
	// Relative words come from the script, ticking without a refresh.
	browserStep(t, ctx, "the refresh line ticks", 10*time.Second,
		chromedp.Poll[chromedp.Void](`/^Refreshed \d+\u00a0s ago$/.test(document.getElementById('contact').textContent)`,
			chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(slack(9*time.Second))),
	)

	screenshot(t, ctx, shots, "dashboard.png")

	// The first tile with counted alarms opens its server page.
	browserStep(t, ctx, "open a server", 15*time.Second,
		chromedp.Click(chromedp.CSS(`#grid li.tile:not([data-total="0"]) a`)),
		chromedp.WaitVisible(chromedp.CSS("table.alarms")),
	)
	if loc := browserEval[string](t, ctx, `location.pathname`); !strings.Contains(loc, "/servers/") {
		t.Errorf("after the click the page is %q, want a server page", loc)
	}
	if n := browserEval[int](t, ctx, `document.querySelectorAll('table.alarms tbody tr').length`); n == 0 {
		t.Error("the server page's alarms table has no rows")
	}
	screenshot(t, ctx, shots, "server.png")
}
