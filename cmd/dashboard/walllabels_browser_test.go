package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// twinNames are pairs of server names that differ in one digit only, at
// the end of a short first label and deep in a long one.
var twinNames = [][2]string{
	{"mail-03.prod.example.com", "mail-04.prod.example.com"},
	{"monitoring-collector-frankfurt-0003.example.net", "monitoring-collector-frankfurt-0004.example.net"},
}

// TestBrowserWallNamesThatDifferInADigitStayApart gives tiles of the wall
// names that differ in one digit only, too long for their tiles:
// shortened to fit, each pair still reads as two servers.
func TestBrowserWallNamesThatDifferInADigitStayApart(t *testing.T) {
	t.Parallel()
	findChromium(t)
	// No refresh while the test runs, timed or live: a refresh would bring
	// back the names as sent.
	d := startDashboard(t, "-demo", "-db", filepath.Join(t.TempDir(), "d.db"),
		"-addr", "127.0.0.1:0", "-refresh-interval", "10m", "-live-streams", "0")
	ctx, consoleErrors := startBrowser(t, 60*time.Second, 1366, 768)
	browserStep(t, ctx, "open the wall", 20*time.Second,
		chromedp.Navigate(d.URL+"/wall"),
		chromedp.WaitVisible(chromedp.CSS(`#grid li.tile`)),
		chromedp.Poll[chromedp.Void](`document.documentElement.dataset.ring !== undefined`,
			chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(slack(10*time.Second))),
	)
	var names []string
	for _, p := range twinNames {
		names = append(names, p[0], p[1])
	}
	// New label elements (the script keeps each label as sent, by element),
	// then a fit, as after the window's size changed.
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = fmt.Sprintf("%q", n)
	}
	n := browserEval[int](t, ctx, `(() => {
		const names = [`+strings.Join(quoted, ",")+`];
		// Tiles of one state, the most numerous shown, are of one size.
		const by = {};
		for (const li of document.querySelectorAll('#grid li.tile:not(.gone)')) {
			const l = li.querySelector('.label');
			if (l && l.offsetParent !== null) (by[li.dataset.state] = by[li.dataset.state] || []).push(l);
		}
		const labels = Object.values(by).sort((a, b) => b.length - a.length)[0].slice(0, names.length);
		labels.forEach((l, i) => {
			const fresh = document.createElement('span');
			fresh.className = 'label';
			fresh.dataset.twin = String(i);
			fresh.textContent = names[i];
			l.replaceWith(fresh);
		});
		window.dispatchEvent(new Event('resize'));
		return labels.length;
	})()`)
	if n < len(names) {
		t.Fatalf("%d tiles of one state on the wall, want %d: the test proves nothing", n, len(names))
	}
	browserStep(t, ctx, "the names are fitted", 10*time.Second,
		chromedp.Poll[chromedp.Void](fmt.Sprintf(`document.querySelectorAll('#grid .label[data-twin]').length === %d &&
			[...document.querySelectorAll('#grid .label[data-twin]')].every(l => l.textContent.includes('\u2026'))`, len(names)),
			chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(slack(9*time.Second))),
	)
	shown := browserEval[[]string](t, ctx, `[...document.querySelectorAll('#grid .label[data-twin]')].sort((a, b) => a.dataset.twin - b.dataset.twin).map(l => l.textContent)`)
	for i, p := range twinNames {
		a, b := shown[2*i], shown[2*i+1]
		t.Logf("%s → %q, %s → %q", p[0], a, p[1], b)
		if a == b {
			t.Errorf("%s and %s both read %q on the wall", p[0], p[1], a)
		}
	}
	if errs := consoleErrors(); len(errs) > 0 {
		t.Errorf("console errors: %q", errs)
	}
}
