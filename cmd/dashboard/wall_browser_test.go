package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// demoFake is the address of the demo's built-in fake Rackspace, read from
// the dashboard's log.
func demoFake(t *testing.T, d *runningDashboard) string {
	t.Helper()
	m := regexp.MustCompile(`"identity":"(http://127\.0\.0\.1:\d+)/v2\.0"`).FindStringSubmatch(d.logs.String())
	if m == nil {
		t.Fatalf("no fake Rackspace address in the log:\n%s", d.logs.String())
	}
	return m[1]
}

func getJSON(t *testing.T, u string, v any) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s: %d %s", u, resp.StatusCode, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
}

// fakeEntity is an entity as the fake's admin route lists it.
type fakeEntity struct {
	ID, Label string
	Alarms    []struct {
		ID, State string
		Disabled  bool
	}
}

// forceCritical turns an alarm CRITICAL on the alphabetically last server,
// of the demo's biggest account, that pick accepts; it returns the server's
// id.
func forceCritical(t *testing.T, fake string, pick func(fakeEntity) bool) string {
	t.Helper()
	var accounts []struct{ Username string }
	getJSON(t, fake+"/_fake/accounts", &accounts)
	var user string
	var ents []fakeEntity
	for _, a := range accounts {
		var e []fakeEntity
		getJSON(t, fake+"/_fake/entities?username="+url.QueryEscape(a.Username), &e)
		if len(e) > len(ents) {
			user, ents = a.Username, e
		}
	}
	slices.SortFunc(ents, func(a, b fakeEntity) int { return strings.Compare(a.Label, b.Label) })
	for i := len(ents) - 1; i >= 0; i-- {
		if !pick(ents[i]) {
			continue
		}
		for _, al := range ents[i].Alarms {
			if al.State == "" || al.Disabled {
				continue
			}
			q := url.Values{"username": {user}, "entity": {ents[i].ID}, "alarm": {al.ID}, "state": {"CRITICAL"}}
			resp, err := http.Post(fake+"/_fake/state?"+q.Encode(), "", nil)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusNoContent {
				t.Fatalf("force CRITICAL: %d", resp.StatusCode)
			}
			return ents[i].ID
		}
	}
	t.Fatal("no server to turn CRITICAL in the demo's biggest account")
	return ""
}

// allOK accepts a server whose counted alarms are all OK.
func allOK(e fakeEntity) bool {
	n := 0
	for _, al := range e.Alarms {
		if al.Disabled {
			continue
		}
		if al.State != "OK" {
			return false
		}
		n++
	}
	return n > 0
}

// tileBox is where a tile sits on the screen.
type tileBox struct {
	ID, State                string
	Top, Bottom, Left, Right float64
	Ring                     float64 // the ring's width
}

const tileBoxesJS = `[...document.querySelectorAll('#grid li.tile')].filter(li => li.offsetParent !== null).map(li => {
	const r = li.getBoundingClientRect(), s = li.querySelector('svg').getBoundingClientRect();
	return {ID: li.dataset.serverId, State: li.dataset.state, Top: r.top, Bottom: r.bottom, Left: r.left, Right: r.right, Ring: s.width};
})`

// TestBrowserWallReadsFromAcrossTheRoom opens the wall mode at three screen
// sizes with a forced CRITICAL, then stops and restarts the server.
func TestBrowserWallReadsFromAcrossTheRoom(t *testing.T) {
	t.Parallel()
	findChromium(t)
	db := filepath.Join(t.TempDir(), "d.db")
	args := []string{"-demo", "-db", db, "-refresh-interval", "2s", "-poll-interval", "10s"}
	d := startDashboard(t, append(args, "-addr", "127.0.0.1:0")...)
	fake := demoFake(t, d)
	critical := forceCritical(t, fake, func(fakeEntity) bool { return true })
	shots := t.TempDir()
	ctx, consoleErrors := startBrowser(t, 120*time.Second, 1920, 1080)

	// The forced state arrives with the next poll (within 10 s).
	if err := chromedp.Do(ctx, chromedp.Navigate(d.URL+"/wall")); err != nil {
		t.Fatalf("open the wall: %v", err)
	}
	browserStep(t, ctx, "wait for the forced CRITICAL", 30*time.Second,
		chromedp.Poll[chromedp.Void](fmt.Sprintf(`document.querySelector('#grid li.tile[data-server-id=%q][data-state="CRITICAL"]') !== null && document.documentElement.dataset.ring !== undefined`, critical),
			chromedp.WithPollingInterval(200*time.Millisecond), chromedp.WithPollingTimeout(slack(29*time.Second))),
	)

	rings := map[string]float64{}
	for _, size := range [][2]int64{{1366, 768}, {1920, 1080}, {3840, 2160}} {
		name := fmt.Sprintf("%dx%d", size[0], size[1])
		browserStep(t, ctx, "open the wall at "+name, 20*time.Second,
			chromedp.EmulateViewport(size[0], size[1]),
			chromedp.Navigate(d.URL+"/wall"),
			chromedp.WaitVisible(chromedp.CSS(`#grid li.tile`)),
			chromedp.Poll[chromedp.Void](`document.documentElement.dataset.ring !== undefined`,
				chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(slack(10*time.Second))),
		)
		boxes := browserEval[[]tileBox](t, ctx, tileBoxesJS)
		problems := 0
		for _, b := range boxes {
			if b.State == "OK" {
				continue
			}
			problems++
			if b.Top < 0 || b.Left < 0 || b.Bottom > float64(size[1])+0.5 || b.Right > float64(size[0])+0.5 {
				t.Errorf("%s: %s tile %s at %+v lies outside the %s viewport", name, b.State, b.ID, b, name)
			}
		}
		if !slices.ContainsFunc(boxes, func(b tileBox) bool { return b.ID == critical && b.State == "CRITICAL" }) {
			t.Errorf("%s: the forced CRITICAL tile %s is not shown", name, critical)
		}
		if problems == 0 {
			t.Fatalf("%s: no problem tiles shown; the test proves nothing", name)
		}
		if h := browserEval[float64](t, ctx, `document.documentElement.scrollHeight`); h > float64(size[1])+1 {
			t.Errorf("%s: the wall is %.0f px high, more than the screen", name, h)
		}
		rings[name] = boxes[0].Ring
		if f := browserEval[wallFacts](t, ctx, wallFactsJS); f.Clipped*20 > f.Labels || f.CriticalOut > 0 {
			t.Errorf("%s: %d of %d labels clipped (at most 5 %%), %d CRITICAL tiles off screen", name, f.Clipped, f.Labels, f.CriticalOut)
		} else {
			t.Logf("%s: %d of %d labels clipped", name, f.Clipped, f.Labels)
		}
		hidden := browserEval[string](t, ctx, `document.documentElement.dataset.hiddenOk + ' OK tiles hidden, "more" marks: ' + document.querySelectorAll('.more-ok').length`)
		t.Logf("%s: ring %.0f px, %d tiles shown (%d problems), %s", name, rings[name], len(boxes), problems, hidden)
		if title := browserEval[string](t, ctx, `document.title`); !regexp.MustCompile(`^\d+ CRIT( \([^)]*\))? · `).MatchString(title) {
			t.Errorf("%s: title %q does not start with the CRITICAL count", name, title)
		}
		if icon := browserEval[string](t, ctx, `document.querySelector('link[rel=icon]').getAttribute('href')`); !strings.Contains(icon, "favicon-critical") {
			t.Errorf("%s: icon %q, want the CRITICAL one", name, icon)
		}
		if n := browserEval[int](t, ctx, `document.querySelectorAll('header.topbar, input[type=search]').length`); n != 0 {
			t.Errorf("%s: wall mode shows %d navigation or search elements", name, n)
		}
		screenshot(t, ctx, shots, "wall-"+name+".png")
	}
	if rings["3840x2160"] <= rings["1920x1080"] {
		t.Errorf("rings are %.0f px at 4K and %.0f px at 1080p: they must grow with the screen", rings["3840x2160"], rings["1920x1080"])
	}

	// Without colour vision a CRITICAL tile still differs from an OK one:
	// a filled disc, a word, a solid frame.
	browserStep(t, ctx, "deuteranopia", 10*time.Second,
		chromedp.EmulateViewport(1920, 1080),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, emulation.SetEmulatedVisionDeficiency,
				emulation.SetEmulatedVisionDeficiencyParams{Type: emulation.SetEmulatedVisionDeficiencyTypeDeuteranopia})
			return err
		}),
		chromedp.Navigate(d.URL+"/wall"),
		chromedp.WaitVisible(chromedp.CSS(`#grid li.tile`)),
		chromedp.Poll[chromedp.Void](`document.documentElement.dataset.ring !== undefined`,
			chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(slack(5*time.Second))),
	)
	type look struct{ Disc, Word, Border string }
	lookOf := func(state string) look {
		return browserEval[look](t, ctx, fmt.Sprintf(`(() => {
			const li = document.querySelector('#grid li.tile[data-state=%q]');
			const disc = li.querySelector('use.disc'), word = li.querySelector('text.word');
			return {Disc: disc ? getComputedStyle(disc).fill : 'none', Word: word ? word.textContent : '',
				Border: getComputedStyle(li.querySelector('.t')).borderTopStyle + ' ' + getComputedStyle(li.querySelector('.t')).borderTopWidth};
		})()`, state))
	}
	crit, ok := lookOf("CRITICAL"), lookOf("OK")
	if crit.Disc == "none" || ok.Disc != "none" || crit.Word != "CRIT" || ok.Word != "" {
		t.Errorf("CRITICAL tile %+v vs OK tile %+v: want a filled disc and the word CRIT on the CRITICAL one only", crit, ok)
	}
	if !strings.HasPrefix(crit.Border, "solid") {
		t.Errorf("CRITICAL tile frame %q, want solid", crit.Border)
	}
	screenshot(t, ctx, shots, "wall-deuteranopia.png")
	if errs := consoleErrors(); len(errs) > 0 {
		t.Errorf("the browser console reported errors:\n%s", strings.Join(errs, "\n"))
	}

	// A server that turns CRITICAL is marked NEW within a refresh of the
	// poll that saw it, and, with alerts on, heard once. (The browser's
	// notifications are replaced by a recorder.)
	browserStep(t, ctx, "turn alerts on", 10*time.Second,
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, emulation.SetEmulatedVisionDeficiency,
				emulation.SetEmulatedVisionDeficiencyParams{Type: emulation.SetEmulatedVisionDeficiencyTypeNone})
			return err
		}),
		chromedp.Evaluate[chromedp.Void](`window.Notification = function (title, o) { (window.__notes = window.__notes || []).push(title + ': ' + o.body); };
			window.Notification.permission = 'granted'`),
		chromedp.Click(chromedp.CSS(`#alerts`)),
		chromedp.Poll[chromedp.Void](`document.getElementById('alerts').getAttribute('aria-pressed') === 'true'`,
			chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(slack(5*time.Second))),
	)
	turned := forceCritical(t, fake, allOK)
	browserStep(t, ctx, "the new CRITICAL is marked", 20*time.Second,
		chromedp.Poll[chromedp.Void](fmt.Sprintf(`(() => { const li = document.querySelector('#grid li.tile[data-server-id=%q]');
			return li !== null && li.dataset.state === 'CRITICAL' && li.dataset.change === 'new' && li.querySelector('.chg').textContent === 'NEW'; })()`, turned),
			chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(slack(19*time.Second))),
	)
	// The demo's own churn may bring other CRITICALs meanwhile: one
	// notice (and one tone) per refresh that brought any, one of them
	// naming this server.
	// By its full name, as its tooltip says it: the tile may show it shortened.
	label := browserEval[string](t, ctx, fmt.Sprintf(`document.querySelector('#grid li.tile[data-server-id=%q] .t').getAttribute('title').split(' — ')[0]`, turned))
	notes := browserEval[[]string](t, ctx, `window.__notes || []`)
	if !slices.ContainsFunc(notes, func(n string) bool { return strings.Contains(n, label) }) {
		t.Errorf("notifications %q, want one naming %s", notes, label)
	}
	if n := browserEval[string](t, ctx, `document.documentElement.dataset.alerts || '0'`); n != fmt.Sprint(len(notes)) {
		t.Errorf("%s tones for %d notifications, want one each", n, len(notes))
	}
	screenshot(t, ctx, shots, "wall-new-critical.png")

	// A dead wall never looks alive: with the refresh at 2 s, the banner
	// is up within one interval (and a little for the request to fail),
	// the grid greyed; a restarted server clears it by itself.
	if err := d.stop(); err != nil {
		t.Fatalf("stop the dashboard: %v", err)
	}
	stopped := time.Now()
	browserStep(t, ctx, "the wall notices the server is gone", 10*time.Second,
		chromedp.Poll[chromedp.Void](`!document.getElementById('nocontact').hidden && document.documentElement.classList.contains('contact-lost')`,
			chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(slack(9*time.Second))),
	)
	noticed := time.Since(stopped)
	banner := browserEval[string](t, ctx, `document.getElementById('nocontact').textContent`)
	t.Logf("banner after %v: %q", noticed.Round(100*time.Millisecond), banner)
	if !regexp.MustCompile(`^No contact with the dashboard since \d\d:\d\d:\d\d .*; data below is \d+ s old`).MatchString(banner) {
		t.Errorf("banner %q", banner)
	}
	// One interval, and a second stretched like every deadline here: under
	// -race on two busy cores the page's timers fire late (3.9 s seen).
	if limit := 2*time.Second + slack(time.Second); noticed > limit {
		t.Errorf("the banner took %v, more than one refresh interval (2 s) and %v", noticed, limit-2*time.Second)
	}
	if f := browserEval[string](t, ctx, `getComputedStyle(document.getElementById('grid')).filter`); !strings.Contains(f, "grayscale") {
		t.Errorf("grid filter %q while out of contact, want it greyed", f)
	}
	screenshot(t, ctx, shots, "wall-no-contact.png")

	startDashboard(t, append(args, "-addr", strings.TrimPrefix(d.URL, "http://"))...)
	browserStep(t, ctx, "the wall recovers by itself", 15*time.Second,
		chromedp.Poll[chromedp.Void](`document.getElementById('nocontact').hidden && !document.documentElement.classList.contains('contact-lost')`,
			chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(slack(14*time.Second))),
	)
}
