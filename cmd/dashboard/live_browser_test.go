package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"cmdash/monitoring/fakerax"
	"cmdash/monitoring/fakerax/fakeraxtest"
)

// A change reaches an open wall when the poll stores it, not at the page's
// next refresh: with the refresh ten minutes away, a server that goes
// CRITICAL upstream is red on the wall within the next poll (every 10 s)
// and a moment; the page is swapped, not reloaded.
func TestBrowserTheWallChangesWhenThePollStoresIt(t *testing.T) {
	t.Parallel()
	fake, ts := fakeraxtest.NewServer(t, fakerax.Config{Seed: 11})
	db := fakeEstateDB(t, fake, []fakerax.AccountSpec{{Username: "live", Servers: 6, Alarms: 3}}, func(int) string { return "Live" })
	up := fake.Accounts()[0]
	d := startDashboard(t, "-addr", "127.0.0.1:0", "-db", db, "-identity-url", fake.IdentityURL(ts.URL),
		"-public-dashboard", "-poll-interval", "10s", "-refresh-interval", "10m")

	ctx, consoleErrors := startBrowser(t, 60*time.Second, 1366, 768)
	if err := chromedp.Do(ctx, chromedp.Navigate(d.URL+"/")); err != nil {
		t.Fatalf("open the wall: %v", err)
	}
	browserStep(t, ctx, "wait for the first poll's tiles", 20*time.Second,
		chromedp.Poll[chromedp.Void](`document.querySelectorAll('#grid li.tile').length === 6`,
			chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(slack(19*time.Second))))
	if ok := browserEval[bool](t, ctx, `!!document.body.dataset.live`); !ok {
		t.Fatal("the page names no live stream")
	}
	srv := fake.Entities(up.Username)[0]
	_ = browserEval[chromedp.Void](t, ctx, `window.__loaded = true`)
	if err := fake.SetState(up.Username, srv.ID, srv.Alarms[0].ID, "CRITICAL"); err != nil {
		t.Fatal(err)
	}
	changed := time.Now()
	tile := fmt.Sprintf(`document.querySelector('#grid li.tile[data-server-id=%q]')`, srv.ID)
	browserStep(t, ctx, "wait for the tile to turn CRITICAL", 25*time.Second,
		chromedp.Poll[chromedp.Void](tile+`?.dataset.state === 'CRITICAL'`,
			chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(slack(24*time.Second))))
	t.Logf("CRITICAL on the wall %v after the change upstream (polls every 10 s)", time.Since(changed).Round(100*time.Millisecond))
	if !browserEval[bool](t, ctx, `window.__loaded === true`) {
		t.Error("the page was reloaded, not swapped")
	}
	if got := browserEval[string](t, ctx, `document.title`); !strings.Contains(got, "1 CRIT") {
		t.Errorf("title %q after the change", got)
	}
	if errs := consoleErrors(); len(errs) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(errs, "\n"))
	}
}
