package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/chromedp/chromedp"

	"cmdash/migrations"
	"cmdash/monitoring"
	"cmdash/monitoring/fakerax"
	"cmdash/monitoring/fakerax/fakeraxtest"
	"cmdash/monitoring/sqlite"
)

// startEstate runs the dashboard against the fake with n accounts of mixed
// sizes (1 to 60 servers, about 2 % CRITICAL and 4 % WARNING alarms), as a
// team with many customers has them, and waits until every account has
// been polled.
func startEstate(t *testing.T, n int) *runningDashboard {
	t.Helper()
	fake, ts := fakeraxtest.NewServer(t, fakerax.Config{Seed: int64(n)})
	var specs []fakerax.AccountSpec
	for i := range n {
		specs = append(specs, fakerax.AccountSpec{Username: fmt.Sprintf("team%d", i), Servers: 1 + (i*37)%60, Alarms: 6,
			CriticalShare: 0.02, WarningShare: 0.04})
	}
	db := fakeEstateDB(t, fake, specs, func(i int) string { return fmt.Sprintf("Customer %d", i+1) })
	d := startDashboard(t, "-addr", "127.0.0.1:0", "-db", db, "-identity-url", fake.IdentityURL(ts.URL),
		"-public-dashboard", "-poll-interval", "30s", "-refresh-interval", "20s")
	deadline := time.Now().Add(slack(30 * time.Second))
	for {
		resp, err := http.Get(d.URL + "/wall")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(body), "Waiting for first poll") && strings.Count(string(body), `data-account-id="`) >= n {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("the %d accounts were not all polled in time; the wall:\n%.3000s", n, body)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// fakeEstateDB makes a database with one admin user and an account per
// spec, added to fake too (alias names each), and returns its path.
func fakeEstateDB(t *testing.T, fake *fakerax.Server, specs []fakerax.AccountSpec, alias func(int) string) string {
	t.Helper()
	db := filepath.Join(t.TempDir(), "estate.db")
	secret, _, err := sqlite.LoadOrCreateKeyFile(db + ".key")
	if err != nil {
		t.Fatal(err)
	}
	sdb, err := sqlite.OpenDB(context.Background(), db, migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	defer sdb.Close()
	sealer, err := sqlite.NewSealer(secret)
	if err != nil {
		t.Fatal(err)
	}
	store := sqlite.NewStore(sdb, sealer)
	store.SetPasswordCost(bcrypt.MinCost)
	if _, err := store.CreateUser(context.Background(), "admin", "an estate's password", monitoring.Admin); err != nil {
		t.Fatal(err) // a dashboard without users shows the setup page only
	}
	for i, spec := range specs {
		a := fake.AddAccount(spec)
		if _, err := store.CreateAccount(context.Background(), a.Username, alias(i), a.APIKey, nil); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

// wallFacts is what the wall shows at one size, as the browser lays it out.
type wallFacts struct {
	Critical, CriticalOut, CriticalGone int
	Problems, ProblemsOut, ProblemsGone int
	Folded, FoldedOut                   int // problem tiles counted in "+N more" tiles, and such tiles outside
	Labels, Clipped                     int
	CriticalNamed                       int      // CRITICAL tiles whose text names one of their alarms, in full
	Unnamed                             []string // the alarms of those that do not
	Ring                                string
	Height                              float64
}

const wallFactsJS = `(() => {
  const W = innerWidth, H = innerHeight, f = {Critical:0, CriticalOut:0, CriticalGone:0, Problems:0, ProblemsOut:0, ProblemsGone:0,
    Folded:0, FoldedOut:0, Labels:0, Clipped:0, CriticalNamed:0, Unnamed:[], Ring: document.documentElement.dataset.ring || "", Height: document.documentElement.scrollHeight};
  const inside = el => { const r = el.getBoundingClientRect(); return r.width > 0 && r.top >= -0.5 && r.left >= -0.5 && r.bottom <= H + 0.5 && r.right <= W + 0.5; };
  for (const li of document.querySelectorAll('#grid li.tile')) {
    const st = li.dataset.state, gone = li.classList.contains('gone') || li.offsetParent === null;
    if (st !== 'OK') {
      f.Problems++;
      if (gone) f.ProblemsGone++; else if (!inside(li)) f.ProblemsOut++;
    }
    if (st === 'CRITICAL') {
      f.Critical++;
      if (gone) f.CriticalGone++; else if (!inside(li)) f.CriticalOut++;
      const alarm = li.querySelector('.what .alarm');
      if (!gone && alarm && alarm.offsetParent !== null && alarm.textContent.trim() !== '' &&
          alarm.scrollWidth <= alarm.clientWidth + 1 && alarm.scrollHeight <= alarm.clientHeight + 1) f.CriticalNamed++;
      else if (!gone) f.Unnamed.push(alarm ? alarm.textContent : '(none)');
    }
    if (gone) continue;
    const label = li.querySelector('.label');
    if (label) {
      f.Labels++;
      if (label.scrollWidth > label.clientWidth + 1 || label.scrollHeight > label.clientHeight + 1) f.Clipped++;
    }
  }
  for (const m of document.querySelectorAll('#grid li.more .more-n')) {
    if (m.dataset.state !== 'OK') f.Folded += +m.dataset.count;
    if (!inside(m)) f.FoldedOut++;
  }
  return f;
})()`

var estateSizes = []int{1, 5, 15, 50}

// The wall of many accounts: every CRITICAL server on screen, every other
// problem on screen or counted in a "+N more" tile that is, from one
// account to fifty, on a laptop, an HD and a 4K screen.
//
// Not in parallel with the other browser tests: fifty accounts make a
// heavy page, and its measurements are of a browser that is not starved.
func TestBrowserTheWallOfManyAccountsHidesNoProblem(t *testing.T) {
	findChromium(t)
	for _, n := range estateSizes {
		t.Run(fmt.Sprintf("%d accounts", n), func(t *testing.T) {
			d := startEstate(t, n)
			ctx, consoleErrors := startBrowser(t, 120*time.Second, 1366, 768)
			for _, size := range [][2]int64{{1366, 768}, {1920, 1080}, {3840, 2160}} {
				name := fmt.Sprintf("%dx%d", size[0], size[1])
				browserStep(t, ctx, "open the wall at "+name, 20*time.Second,
					chromedp.EmulateViewport(size[0], size[1]),
					chromedp.Navigate(d.URL+"/wall"),
					chromedp.Poll[chromedp.Void](`document.documentElement.dataset.ring !== undefined`,
						chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(slack(10*time.Second))),
				)
				f := browserEval[wallFacts](t, ctx, wallFactsJS)
				t.Logf("%s: ring %s, %d CRITICAL (%d name their alarm), %d problems (%d folded), %d of %d labels clipped, page %.0f px",
					name, f.Ring, f.Critical, f.CriticalNamed, f.Problems, f.ProblemsGone, f.Clipped, f.Labels, f.Height)
				if f.CriticalOut > 0 || f.CriticalGone > 0 {
					t.Errorf("%s: %d of %d CRITICAL tiles off screen, %d hidden", name, f.CriticalOut, f.Critical, f.CriticalGone)
				}
				if f.ProblemsOut > 0 {
					t.Errorf("%s: %d problem tiles off screen", name, f.ProblemsOut)
				}
				if f.Folded != f.ProblemsGone-f.CriticalGone || f.FoldedOut > 0 {
					t.Errorf("%s: %d problem tiles folded, %d counted in \"+N more\" tiles (%d of those off screen)",
						name, f.ProblemsGone, f.Folded, f.FoldedOut)
				}
				if f.Height > float64(size[1])+1 {
					t.Errorf("%s: the wall is %.0f px high", name, f.Height)
				}
				if size[0] == 1920 && f.Labels > 0 && f.Clipped*20 > f.Labels {
					t.Errorf("%s: %d of %d labels clipped, more than 5 %%", name, f.Clipped, f.Labels)
				}
				if size[0] == 1920 && n == 15 && f.CriticalNamed < f.Critical {
					t.Errorf("%s: %d of %d CRITICAL tiles name their alarm in full; not: %q", name, f.CriticalNamed, f.Critical, f.Unnamed)
				}
			}
			if errs := consoleErrors(); len(errs) > 0 {
				t.Errorf("console errors: %v", errs)
			}
		})
	}
}
