package handlers

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"cmdash/monitoring/fakerax"
)

// The strip and the title count the CRITICAL servers that are CRITICAL
// now: a failing account's greyed tiles are counted apart, as stale.
func TestTheStripCountsStaleAccountsApart(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	spec := func(name string) fakerax.AccountSpec {
		return fakerax.AccountSpec{Username: name, Servers: 10, Alarms: 3, CriticalShare: 0.3, WarningShare: 0.2}
	}
	freshUp, failingUp := e.upstream(spec("fresh")), e.upstream(spec("failing"))
	fresh, failing := e.addAccount(freshUp, ""), e.addAccount(failingUp, "")
	e.poll(fresh.ID)
	e.poll(failing.ID)
	e.fake.SetFault(failingUp.Username, fakerax.Fault{MonitoringStatus: http.StatusServiceUnavailable})
	if err := e.poller.Poll(e.ctx, failing.ID); err == nil {
		t.Fatal("poll succeeded against a 503 upstream")
	}

	doc := e.page("/")
	count := func(sel *goquery.Selection, state string) int {
		return sel.Find(`li.tile[data-state="` + state + `"]`).Length()
	}
	freshSec, staleSec := section(doc, fresh.ID), section(doc, failing.ID)
	if staleSec.AttrOr("data-stale", "") != "true" || count(staleSec, "CRITICAL") == 0 || count(freshSec, "CRITICAL") == 0 {
		t.Fatal("the scenario needs CRITICAL servers in a fresh and in a stale account; the test proves nothing")
	}
	strip := doc.Find("#grid .strip")
	for _, state := range []string{"CRITICAL", "WARNING", "UNKNOWN", "OK"} {
		if got, want := strip.Find(`[data-state="`+state+`"]`).AttrOr("data-count", ""), strconv.Itoa(count(freshSec, state)); got != want {
			t.Errorf("the strip counts %s %s, want %s: the fresh account's only", got, state, want)
		}
	}
	stale := strip.Find(`.sum-stale[data-state="STALE"]`)
	staleTiles := staleSec.Find("li.tile").Length()
	if got := stale.AttrOr("data-count", ""); got != strconv.Itoa(staleTiles) {
		t.Errorf("the strip counts %q stale, want %d (the failing account's servers)", got, staleTiles)
	}
	if got := strings.Join(strings.Fields(stale.Text()), " "); got != strconv.Itoa(staleTiles)+" stale in 1 account" {
		t.Errorf("the stale count reads %q", got)
	}
	if got := stale.AttrOr("title", ""); !strings.Contains(got, strconv.Itoa(count(staleSec, "CRITICAL"))+" CRITICAL") {
		t.Errorf("the stale count's tooltip %q does not say how many were CRITICAL when last seen", got)
	}
	title := doc.Find("title").Text()
	want := `^` + strconv.Itoa(count(freshSec, "CRITICAL")) + ` CRIT · (\d+ WARN · )?(\d+ UNKN · )?` + strconv.Itoa(staleTiles) + ` STALE · 1 FAILING · All accounts`
	if !regexp.MustCompile(want).MatchString(title) {
		t.Errorf("title %q, want it to match %s", title, want)
	}
	if got := doc.Find("#grid").AttrOr("data-title", ""); !strings.HasPrefix(title, got) || got == "" {
		t.Errorf("grid data-title %q is not the start of the title %q", got, title)
	}

	t.Run("without a stale account there is no stale count", func(t *testing.T) {
		doc := e.page("/accounts/" + idStr(fresh.ID))
		if n := doc.Find(".strip .sum-stale").Length(); n != 0 || strings.Contains(doc.Find("title").Text(), "STALE") {
			t.Errorf("%d stale counts, title %q", n, doc.Find("title").Text())
		}
	})
}
