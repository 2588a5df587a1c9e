package main

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// footOverlapsJS lists what the wall's footer covers: any tile, the
// summary strip, the latest changes, an account's heading or the banner
// that says contact is lost; and the footer's box.
const footOverlapsJS = `(() => {
	const foot = document.querySelector('.wall-foot'), f = foot.getBoundingClientRect(), out = [];
	const meets = r => r.width > 0 && r.height > 0 && f.left < r.right && r.left < f.right && f.top < r.bottom && r.top < f.bottom;
	for (const el of document.querySelectorAll('#grid li.tile, #grid .more-ok, #grid .strip, #grid .recent, #grid .account-head, #grid .calm, #nocontact')) {
		if (el.checkVisibility() && meets(el.getBoundingClientRect())) out.push(el.id || el.className);
	}
	return {Covers: out, Top: f.top, Bottom: f.bottom, Left: f.left, Right: f.right, Font: parseFloat(getComputedStyle(foot).fontSize)};
})()`

type footBox struct {
	Covers                   []string
	Top, Bottom, Left, Right float64
	Font                     float64
}

// TestBrowserWallFooterCoversNothing opens the wall at a wall's, a
// laptop's and a phone's size: its footer (alerts, refresh line) has a
// line of its own, on screen where the wall fits, and covers no tile, no
// heading and, when contact is lost, not the banner; at 4K it and the
// latest changes are sized with the screen.
func TestBrowserWallFooterCoversNothing(t *testing.T) {
	t.Parallel()
	findChromium(t)
	d := startDashboard(t, "-demo", "-db", filepath.Join(t.TempDir(), "d.db"),
		"-addr", "127.0.0.1:0", "-refresh-interval", "2s", "-poll-interval", "10s")
	// A change, for the panel of latest changes to show.
	var accounts []struct{ Username string }
	fake := demoFake(t, d)
	getJSON(t, fake+"/_fake/accounts", &accounts)
	turnCritical(t, fake, accounts[0].Username)
	ctx, consoleErrors := startBrowser(t, 90*time.Second, 1920, 1080)
	shots := t.TempDir()
	browserStep(t, ctx, "wait for the change", 30*time.Second,
		chromedp.Navigate(d.URL+"/wall"),
		chromedp.Poll[chromedp.Void](`document.querySelector('#grid .recent li') !== null`,
			chromedp.WithPollingInterval(200*time.Millisecond), chromedp.WithPollingTimeout(slack(29*time.Second))),
	)
	fonts, changes := map[string]float64{}, map[string]float64{}
	for _, size := range [][2]int64{{1366, 768}, {1920, 1080}, {3840, 2160}, {390, 844}} {
		name := fmt.Sprintf("%dx%d", size[0], size[1])
		browserStep(t, ctx, "open the wall at "+name, 20*time.Second,
			chromedp.EmulateViewport(size[0], size[1]),
			chromedp.Navigate(d.URL+"/wall"),
			chromedp.WaitVisible(chromedp.CSS(`#grid li.tile`)),
			chromedp.Poll[chromedp.Void](`document.documentElement.dataset.ring !== undefined && /^Refreshed/.test(document.getElementById('contact').textContent)`,
				chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(slack(10*time.Second))),
		)
		f := browserEval[footBox](t, ctx, footOverlapsJS)
		t.Logf("%s: footer %+v", name, f)
		if len(f.Covers) > 0 {
			t.Errorf("%s: the footer covers %q", name, f.Covers)
		}
		if f.Left < 0 || f.Right > float64(size[0])+0.5 {
			t.Errorf("%s: the footer lies outside the screen's width: %+v", name, f)
		}
		// Where the wall fits the screen (not on a phone), so does the footer.
		if fits := browserEval[bool](t, ctx, `document.documentElement.scrollHeight <= innerHeight + 1`); fits && (f.Top < 0 || f.Bottom > float64(size[1])+0.5) {
			t.Errorf("%s: the wall fits the screen but its footer lies at %+v, off it", name, f)
		} else if !fits && size[0] > 1000 {
			t.Errorf("%s: the demo's wall does not fit the screen", name)
		}
		fonts[name] = f.Font
		changes[name] = browserEval[float64](t, ctx, `parseFloat(getComputedStyle(document.querySelector('#grid .recent li .st')).fontSize)`)
		screenshot(t, ctx, shots, "wall-foot-"+name+".png")
	}
	// At 4K the footer and the latest changes grow with the screen (to
	// about the size of an account's heading), not stay a laptop's size.
	if fonts["3840x2160"] < 1.5*fonts["1920x1080"] {
		t.Errorf("the footer's text is %.0f px at 4K and %.0f px at 1080p: it must grow with the screen", fonts["3840x2160"], fonts["1920x1080"])
	}
	if changes["3840x2160"] < 1.5*changes["1920x1080"] || changes["3840x2160"] < 18 {
		t.Errorf("the latest changes' state words are %.0f px at 4K and %.0f px at 1080p: they must grow with the screen", changes["3840x2160"], changes["1920x1080"])
	}

	// Out of contact, the banner across the top takes room too.
	browserStep(t, ctx, "back to 1920x1080", 20*time.Second,
		chromedp.EmulateViewport(1920, 1080),
		chromedp.Navigate(d.URL+"/wall"),
		chromedp.Poll[chromedp.Void](`document.documentElement.dataset.ring !== undefined`,
			chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(slack(10*time.Second))),
	)
	if err := d.stop(); err != nil {
		t.Fatalf("stop the dashboard: %v", err)
	}
	browserStep(t, ctx, "the wall notices the server is gone", 10*time.Second,
		chromedp.Poll[chromedp.Void](`!document.getElementById('nocontact').hidden`,
			chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(slack(9*time.Second))),
	)
	if f := browserEval[footBox](t, ctx, footOverlapsJS); len(f.Covers) > 0 {
		t.Errorf("out of contact, the footer covers %q", f.Covers)
	}
	screenshot(t, ctx, shots, "wall-foot-no-contact.png")
	if errs := consoleErrors(); len(errs) > 0 {
		t.Logf("console (the dashboard was stopped on purpose): %v", errs)
	}
}
