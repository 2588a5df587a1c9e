package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

func TestBrowserServerPageFitsAPhoneAndRefreshes(t *testing.T) {
	t.Parallel()
	findChromium(t)
	d := startDashboard(t, "-demo", "-db", filepath.Join(t.TempDir(), "d.db"),
		"-addr", "127.0.0.1:0", "-refresh-interval", "2s")
	ctx, _ := startBrowser(t, 40*time.Second, 390, 844)
	browserStep(t, ctx, "open the wall", 15*time.Second,
		chromedp.Navigate(d.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(`li.tile:not([data-total="0"])`)),
	)
	// The server with the most alarms has the most to fit.
	href := browserEval[string](t, ctx, `[...document.querySelectorAll('li.tile')].sort((a, b) => b.dataset.total - a.dataset.total)[0].querySelector('a').getAttribute('href')`)
	browserStep(t, ctx, "open a server", 15*time.Second,
		chromedp.Navigate(d.URL+href),
		chromedp.WaitVisible(chromedp.CSS("#server tr[data-alarm-id]")),
	)
	// Every box of the crumbs, heading, facts and alarms ends inside the
	// viewport: nothing is cut off or needs sideways scrolling.
	over := browserEval[[]string](t, ctx, `(() => {
		const w = document.documentElement.clientWidth, out = [];
		for (const el of document.querySelectorAll('nav.crumbs, nav.crumbs *, #server, #server *')) {
			const r = el.getBoundingClientRect();
			if (r.width > 0 && r.right > w + 0.5) out.push(el.tagName + '.' + el.className + ' ends at ' + Math.round(r.right) + ': ' + el.textContent.trim().slice(0, 40));
		}
		return out;
	})()`)
	if len(over) > 0 {
		t.Errorf("at 390 px wide, %d boxes pass the viewport's right edge:\n%s", len(over), strings.Join(over, "\n"))
	}
	if got := browserEval[string](t, ctx, `getComputedStyle(document.querySelector('#server thead')).display`); got != "none" {
		t.Errorf("the alarms' column headings show at 390 px (display %q); each alarm should be a block", got)
	}
	screenshot(t, ctx, t.TempDir(), "server-390.png")

	// The alarms refresh in place (the element is replaced, the page is
	// not reloaded), and the refresh line says when they last did.
	_ = browserEval[chromedp.Void](t, ctx, `window.__marker = true; document.getElementById('server').__beforeRefresh = true`)
	browserStep(t, ctx, "wait for the alarms to refresh", 10*time.Second,
		chromedp.Poll[chromedp.Void](`(() => { const s = document.getElementById('server'); return s !== null && !s.__beforeRefresh; })()`,
			chromedp.WithPollingInterval(200*time.Millisecond), chromedp.WithPollingTimeout(slack(9*time.Second))),
	)
	if !browserEval[bool](t, ctx, `window.__marker === true && document.querySelectorAll('#server').length === 1`) {
		t.Error("the page was reloaded, or #server nested, instead of swapped")
	}
	if got := browserEval[string](t, ctx, `document.getElementById('contact').textContent`); !strings.HasPrefix(got, "Refreshed ") {
		t.Errorf("refresh line %q, want \"Refreshed … ago\"", got)
	}
}
