package main

import (
	"context"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// titleLinesJS is the server page's title as it is drawn, line by line.
const titleLinesJS = `(() => {
	const h1 = document.querySelector('#server h1'), lines = [];
	const walk = document.createTreeWalker(h1, NodeFilter.SHOW_TEXT);
	let top = null, cur = '';
	for (let n; (n = walk.nextNode()); ) {
		for (let i = 0; i < n.length; i++) {
			const r = document.createRange();
			r.setStart(n, i);
			r.setEnd(n, i + 1);
			const box = r.getClientRects()[0];
			if (!box) continue;
			if (top !== null && box.top > top + 2) { lines.push(cur); cur = ''; }
			top = box.top;
			cur += n.data[i];
		}
	}
	lines.push(cur);
	return lines;
})()`

// TestBrowserServerPageOnAPhoneForSomeoneAbroad opens a problem server's
// page signed in, on a phone set to Tokyo time: the long host name wraps
// at its dots and dashes; times are in Tokyo time, UTC on hover; the form
// to acknowledge is a tap from the top, and once the server is
// acknowledged it no longer offers the whole server.
func TestBrowserServerPageOnAPhoneForSomeoneAbroad(t *testing.T) {
	t.Parallel()
	findChromium(t)
	d := startDashboard(t, "-demo", "-db", filepath.Join(t.TempDir(), "d.db"),
		"-addr", "127.0.0.1:0", "-refresh-interval", "2s")
	fake := demoFake(t, d)
	const w, h = 390, 844
	ctx, consoleErrors := startBrowser(t, 90*time.Second, w, h)
	_, password, _ := strings.Cut(d.stdout.String(), "Demo login: demo / ")
	password, _, _ = strings.Cut(password, "\n")
	browserStep(t, ctx, "set the time zone and sign in", 20*time.Second,
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "Asia/Tokyo"})
			return err
		}),
		chromedp.Navigate(d.URL+"/login"),
		chromedp.SendKeys(chromedp.CSS(`input[name=username]`), "demo"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), password),
		chromedp.Submit(chromedp.CSS(`input[name=password]`)),
		chromedp.WaitVisible(chromedp.CSS(`#grid li.tile:not([data-state="OK"])`)),
	)

	// The problem server with the longest name (the fake's, in full).
	labels := map[string]string{}
	var accounts []struct{ Username string }
	getJSON(t, fake+"/_fake/accounts", &accounts)
	for _, a := range accounts {
		var ents []fakeEntity
		getJSON(t, fake+"/_fake/entities?username="+url.QueryEscape(a.Username), &ents)
		for _, e := range ents {
			labels[e.ID] = e.Label
		}
	}
	problems := browserEval[[]string](t, ctx, `[...document.querySelectorAll('#grid li.tile:not([data-state="OK"])')].map(li => li.dataset.serverId + ' ' + li.querySelector('a').getAttribute('href'))`)
	var label, href string
	for _, p := range problems {
		id, link, _ := strings.Cut(p, " ")
		if len(labels[id]) > len(label) {
			label, href = labels[id], link
		}
	}
	browserStep(t, ctx, "open "+label, 15*time.Second,
		chromedp.Navigate(d.URL+href),
		chromedp.WaitVisible(chromedp.CSS(`#server tr[data-alarm-id]`)),
		chromedp.Poll[chromedp.Void](`!/UTC$/.test(document.querySelector('#server time[data-local]').textContent)`,
			chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(slack(5*time.Second))),
	)

	lines := browserEval[[]string](t, ctx, titleLinesJS)
	t.Logf("%q at %d px: %q", label, w, lines)
	if strings.Join(lines, "") != label {
		t.Fatalf("the title reads %q, want %q", strings.Join(lines, ""), label)
	}
	if len(lines) < 2 {
		t.Fatalf("%q fits one line at %d px: the test proves nothing", label, w)
	}
	for _, l := range lines[:len(lines)-1] {
		if !strings.HasSuffix(l, ".") && !strings.HasSuffix(l, "-") {
			t.Errorf("the title breaks after %q, inside a part of the name: %q", l, lines)
		}
	}

	type stamp struct{ At, Text, Title string }
	times := browserEval[[]stamp](t, ctx, `[...document.querySelectorAll('#server time[data-local]')].map(e => ({At: e.getAttribute('datetime'), Text: e.textContent, Title: e.title}))`)
	if len(times) == 0 {
		t.Fatal("no absolute time on the server page")
	}
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range times {
		at, err := time.Parse(time.RFC3339, s.At)
		if err != nil {
			t.Fatalf("datetime %q: %v", s.At, err)
		}
		if want := at.In(tokyo).Format("2006-01-02 15:04:05"); !strings.HasPrefix(s.Text, want) || strings.HasSuffix(s.Text, "UTC") {
			t.Errorf("%s shows as %q, want Tokyo time %s…", s.At, s.Text, want)
		}
		if want := at.UTC().Format("2006-01-02 15:04:05") + " UTC"; s.Title != want {
			t.Errorf("%s has the tooltip %q, want %q", s.At, s.Title, want)
		}
	}
	screenshot(t, ctx, t.TempDir(), "server-390-tokyo.png")

	// Acknowledge is a tap from the first screen; it leads to the form.
	if bottom := browserEval[float64](t, ctx, `document.querySelector('.toolbar a[href="#acknowledge"]').getBoundingClientRect().bottom`); bottom > h {
		t.Errorf("the link to acknowledge ends at %.0f px, below the first screen", bottom)
	}
	browserStep(t, ctx, "go to the form", 10*time.Second,
		chromedp.Click(chromedp.CSS(`.toolbar a[href="#acknowledge"]`)),
		chromedp.Poll[chromedp.Void](`(() => { const r = document.querySelector('#ack-form select[name=alarm]').getBoundingClientRect(); return location.hash === '#acknowledge' && r.top >= 0 && r.bottom <= innerHeight; })()`,
			chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(slack(5*time.Second))),
	)
	options := func() []string {
		return browserEval[[]string](t, ctx, `[...document.querySelectorAll('#ack-form select[name=alarm] option')].map(o => o.value)`)
	}
	if got := options(); len(got) == 0 || got[0] != "" {
		t.Fatalf("choices %q: want the whole server first", got)
	}
	browserStep(t, ctx, "acknowledge the whole server", 15*time.Second,
		chromedp.SetValue(chromedp.CSS(`#ack-form select[name=alarm]`), ""),
		chromedp.SendKeys(chromedp.CSS(`#ack-form input[name=note]`), "Rebooting it"),
		chromedp.Submit(chromedp.CSS(`#ack-form input[name=note]`)),
		chromedp.WaitVisible(chromedp.CSS(`#server .ack-item`)),
	)
	if got := options(); len(got) > 0 && got[0] == "" {
		t.Errorf("choices %q after the server was acknowledged: the whole server again", got)
	}
	screenshot(t, ctx, t.TempDir(), "server-390-acked.png")
	if errs := consoleErrors(); len(errs) > 0 {
		t.Errorf("the browser console reported errors:\n%s", strings.Join(errs, "\n"))
	}
}
