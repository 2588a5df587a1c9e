package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// signInDemo signs in with the demo login the dashboard printed and
// returns a client carrying the session.
func signInDemo(t *testing.T, d *runningDashboard) *http.Client {
	t.Helper()
	_, password, _ := strings.Cut(d.stdout.String(), "Demo login: demo / ")
	password, _, _ = strings.Cut(password, "\n")
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Timeout: 10 * time.Second, Jar: jar}
	resp, err := client.PostForm(d.URL+"/login", url.Values{"username": {"demo"}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return client
}

// addSmallAccounts adds n accounts of a few servers each to the demo's fake
// and to the dashboard, as a team with many small customers has them.
func addSmallAccounts(t *testing.T, d *runningDashboard, n int) {
	t.Helper()
	fake := demoFake(t, d)
	client := signInDemo(t, d)
	for i := range n {
		resp, err := http.Post(fmt.Sprintf("%s/_fake/accounts?username=small-%02d&servers=2&alarms=2", fake, i), "", nil)
		if err != nil {
			t.Fatal(err)
		}
		var acct struct {
			Username string `json:"username"`
			APIKey   string `json:"api_key"`
		}
		err = json.NewDecoder(resp.Body).Decode(&acct)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("the fake's new account: %v", err)
		}
		body, _ := json.Marshal(map[string]string{"username": acct.Username, "apikey": acct.APIKey, "alias": fmt.Sprintf("Customer %d", i+1)})
		resp, err = client.Post(d.URL+"/api/v1/accounts", "application/json", strings.NewReader(string(body)))
		if err != nil {
			t.Fatal(err)
		}
		answer, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("adding %s: %d %s", acct.Username, resp.StatusCode, answer)
		}
	}
}

// turnCritical turns the first evaluated alarm of each user's first server
// CRITICAL in the fake, so that the next polls bring changes.
func turnCritical(t *testing.T, fake string, users ...string) {
	t.Helper()
	for _, user := range users {
		var ents []fakeEntity
		getJSON(t, fake+"/_fake/entities?username="+url.QueryEscape(user), &ents)
		done := false
		for _, e := range ents {
			for _, al := range e.Alarms {
				if done || al.State == "" || al.State == "CRITICAL" || al.Disabled {
					continue
				}
				q := url.Values{"username": {user}, "entity": {e.ID}, "alarm": {al.ID}, "state": {"CRITICAL"}}
				resp, err := http.Post(fake+"/_fake/state?"+q.Encode(), "", nil)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				done = resp.StatusCode == http.StatusNoContent
			}
		}
		if !done {
			t.Fatalf("no alarm of %s to turn CRITICAL", user)
		}
	}
}

// TestBrowserFiftyAccountsFoldIntoOneMenuOnAPhone opens the wall of fifty
// accounts on a phone: the account links are one menu, so the first tile
// is on the first screen; the menu opens to every account, inside the
// screen, and leads to one.
func TestBrowserFiftyAccountsFoldIntoOneMenuOnAPhone(t *testing.T) {
	t.Parallel()
	findChromium(t)
	d := startDashboard(t, "-demo", "-db", filepath.Join(t.TempDir(), "d.db"),
		"-addr", "127.0.0.1:0", "-refresh-interval", "2s", "-poll-interval", "10s")
	addSmallAccounts(t, d, 47)
	// The latest changes take their room above the tiles too: a few.
	turnCritical(t, demoFake(t, d), "small-00", "small-01", "small-02", "small-03", "small-04")
	const w, h = 390, 844
	ctx, consoleErrors := startBrowser(t, 90*time.Second, w, h)
	browserStep(t, ctx, "open the wall of 50 accounts, each polled, with changes", 40*time.Second,
		chromedp.Navigate(d.URL+"/"),
		chromedp.Poll[chromedp.Void](`document.querySelectorAll('#grid section[data-account-id] .tiles').length === 50 &&
			document.querySelectorAll('#grid .recent li').length >= 5`,
			chromedp.WithPollingInterval(200*time.Millisecond), chromedp.WithPollingTimeout(slack(39*time.Second))),
		// The page as first loaded may predate the last polls: load it anew.
		chromedp.Navigate(d.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(`#grid li.tile`)),
	)
	top := browserEval[float64](t, ctx, `document.querySelector('#grid li.tile').getBoundingClientRect().top + scrollY`)
	t.Logf("at %dx%d with 50 accounts the first tile starts at %.0f px", w, h, top)
	if top > h {
		t.Errorf("the first tile starts at %.0f px, below the first screen of %d px", top, h)
	}
	if got := browserEval[string](t, ctx, `document.querySelector('header.topbar details.acct-menu > summary').textContent.replace(/\s+/g, ' ').trim()`); got != "Accounts (50)" {
		t.Errorf("the account menu says %q, want \"Accounts (50)\"", got)
	}
	if n := browserEval[int](t, ctx, `[...document.querySelectorAll('header.topbar a[href^="/accounts/"]')].filter(a => a.checkVisibility()).length`); n != 0 {
		t.Errorf("%d account links show in the top bar before the menu is opened", n)
	}
	screenshot(t, ctx, t.TempDir(), "accounts-390.png")

	// Each latest change shown names the server, the alarm and the new
	// state (its word and icon), all inside the panel at this width.
	type change struct {
		Server, Alarm, To, Icon string
		Clipped                 []string
	}
	changes := browserEval[[]change](t, ctx, `[...document.querySelectorAll('#grid .recent li')].filter(li => li.checkVisibility()).map(li => {
		const box = li.getBoundingClientRect(), pills = li.querySelectorAll('.change .st'), clipped = [];
		for (const el of [li.querySelector('.who b'), li.querySelector('.what'), ...pills, li.querySelector('time')]) {
			if (!el) continue;
			const r = el.getBoundingClientRect();
			if (r.width < 8 || r.left < box.left - 0.5 || r.right > box.right + 0.5) clipped.push(el.className || el.tagName);
		}
		const use = li.querySelector('.ico use');
		return {Server: li.querySelector('.who b').textContent, Alarm: (li.querySelector('.what') || {}).textContent || '',
			To: pills.length ? pills[pills.length - 1].textContent : '', Icon: use ? use.getAttribute('href') : '', Clipped: clipped};
	})`)
	if len(changes) == 0 || len(changes) > 4 {
		t.Errorf("%d latest changes shown on a phone, want 1 to 4", len(changes))
	}
	for _, c := range changes {
		if c.Server == "" || c.Alarm == "" || c.To == "" || c.Icon != "#i-"+strings.ToLower(c.To) || len(c.Clipped) > 0 {
			t.Errorf("latest change %+v: want the server, the alarm, the new state's word and icon, nothing cut off", c)
		}
	}

	browserStep(t, ctx, "open the account menu", 5*time.Second,
		chromedp.Click(chromedp.CSS(`details.acct-menu > summary`)),
		chromedp.WaitVisible(chromedp.CSS(`details.acct-menu[open] .menu-list a`)),
	)
	type box struct {
		Links, Words, Icons      int
		Left, Right, Top, Bottom float64
	}
	list := browserEval[box](t, ctx, `(() => {
		const l = document.querySelector('details.acct-menu .menu-list'), r = l.getBoundingClientRect();
		return {Links: l.querySelectorAll('a[href^="/accounts/"]').length, Words: l.querySelectorAll('a:not([data-state="OK"]) .word').length,
			Icons: l.querySelectorAll('a svg.icon use').length, Left: r.left, Right: r.right, Top: r.top, Bottom: r.bottom};
	})()`)
	if list.Links != 50 || list.Icons != 50 {
		t.Errorf("the open menu has %d account links and %d state icons, want 50 of each", list.Links, list.Icons)
	}
	if problems := browserEval[int](t, ctx, `document.querySelectorAll('details.acct-menu a:not([data-state="OK"])').length`); list.Words != problems {
		t.Errorf("%d accounts not OK, %d of them with their state's word", problems, list.Words)
	}
	if list.Left < 0 || list.Right > w || list.Top < 0 || list.Bottom > h {
		t.Errorf("the open menu lies at %+v, not inside the %dx%d screen (it scrolls inside itself)", list, w, h)
	}
	screenshot(t, ctx, t.TempDir(), "accounts-menu-390.png")

	// Escape closes it, as a click elsewhere does.
	browserStep(t, ctx, "close it with Escape", 5*time.Second,
		chromedp.KeyEvent("\x1b"),
		chromedp.Poll[chromedp.Void](`!document.querySelector('details.acct-menu').open`,
			chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(slack(4*time.Second))),
	)
	href := browserEval[string](t, ctx, `document.querySelector('details.acct-menu .menu-list a').getAttribute('href')`)
	browserStep(t, ctx, "open an account from the menu", 10*time.Second,
		chromedp.Click(chromedp.CSS(`details.acct-menu > summary`)),
		chromedp.WaitVisible(chromedp.CSS(`details.acct-menu[open] .menu-list a`)),
		chromedp.Click(chromedp.CSS(`details.acct-menu .menu-list a`)),
		chromedp.WaitReady(chromedp.CSS(`details.acct-menu.active .menu-list a.active[aria-current="page"]`)),
	)
	if got := browserEval[string](t, ctx, `location.pathname`); got != href {
		t.Errorf("the menu's first account led to %s, want %s", got, href)
	}
	if errs := consoleErrors(); len(errs) > 0 {
		t.Errorf("the browser console reported errors:\n%s", strings.Join(errs, "\n"))
	}
}
