package handlers_test

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"cmdash/handlers"
	"cmdash/monitoring/fakerax"
)

func TestWallModeFoldsCalmAccountsAndDropsTheChrome(t *testing.T) {
	t.Parallel()
	a := newApp(t, handlers.Options{},
		fakerax.AccountSpec{Username: "calm", Servers: 2, Alarms: 2},
		fakerax.AccountSpec{Username: "burning", Servers: 10, Alarms: 4, CriticalShare: 0.3, WarningShare: 0.2},
	)
	c := a.signedIn()
	resp := a.do(c, "GET", "/wall", nil, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /wall: %d", resp.StatusCode)
	}
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if n := doc.Find("header.topbar, input[type=search], form.refresh, .demo-banner").Length(); n != 0 {
		t.Errorf("wall mode shows %d navigation, search or control elements", n)
	}
	if !doc.Find("html").HasClass("wall") {
		t.Error("<html> lacks the wall class the script sizes tiles by")
	}
	sections := doc.Find("#grid section[data-account-id]")
	if sections.Length() != 2 {
		t.Fatalf("%d sections, want 2", sections.Length())
	}
	// Problems first: the burning account, with tiles; the calm one folded
	// to a line after it.
	first, second := sections.Eq(0), sections.Eq(1)
	if first.Find("li.tile").Length() != 10 || first.Is("[data-calm]") {
		t.Errorf("first section: %d tiles, calm %v; want the burning account in full", first.Find("li.tile").Length(), first.Is("[data-calm]"))
	}
	if !second.Is("[data-calm]") || second.Find("li.tile").Length() != 0 {
		t.Errorf("second section is not a folded calm line: %s", second.Text())
	}
	if got := strings.Join(strings.Fields(second.Text()), " "); got != "calm · 2 servers OK" {
		t.Errorf("calm line %q, want %q", got, "calm · 2 servers OK")
	}
	// The strip counts, the title leads with them, the icon shows the worst.
	crit := doc.Find(`li.tile[data-state="CRITICAL"]`).Length()
	if crit == 0 {
		t.Fatal("the scenario has no CRITICAL server; the test proves nothing")
	}
	if got := doc.Find(`.strip .sum-critical`).AttrOr("data-count", ""); got != strconv.Itoa(crit) {
		t.Errorf("strip counts %s critical, the wall shows %d", got, crit)
	}
	title := doc.Find("title").Text()
	if !regexp.MustCompile(`^` + strconv.Itoa(crit) + ` CRIT · (\d+ WARN · )?(\d+ UNKN · )?All accounts · Cloud Monitoring Dashboard$`).MatchString(title) {
		t.Errorf("title %q", title)
	}
	if got := doc.Find("#grid").AttrOr("data-title", ""); !strings.HasPrefix(title, got) || got == "" {
		t.Errorf("grid data-title %q is not the start of the title %q", got, title)
	}
	if icon := doc.Find("link[rel=icon]").AttrOr("href", ""); !strings.Contains(icon, "favicon-critical") || doc.Find("#grid").AttrOr("data-icon", "") != icon {
		t.Errorf("icon %q, grid data-icon %q; want the CRITICAL icon on both", icon, doc.Find("#grid").AttrOr("data-icon", ""))
	}

	// The plain dashboard keeps the calm account's tiles.
	doc2, err := goquery.NewDocumentFromReader(a.do(c, "GET", "/", nil, nil).Body)
	if err != nil {
		t.Fatal(err)
	}
	if n := doc2.Find("#grid li.tile").Length(); n != 12 {
		t.Errorf("the dashboard shows %d tiles, want all 12", n)
	}
	if doc2.Find(`a[href="/wall"]`).Length() != 1 {
		t.Error("the dashboard does not link to wall mode")
	}
}

func TestAWallRefreshOutOfSessionKeepsThePage(t *testing.T) {
	t.Parallel()
	a := newApp(t, handlers.Options{}, fakerax.AccountSpec{Username: "prod", Servers: 2, Alarms: 1})
	c := a.client() // never signed in, or signed out since
	hdr := http.Header{"Hx-Request": {"true"}, "Hx-Trigger": {"grid"}, "Hx-Current-Url": {a.srv.URL + "/wall"}}
	resp := a.do(c, "GET", "/wall", nil, hdr)
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("HX-Redirect") != "" {
		t.Errorf("the grid's own refresh: %d, HX-Redirect %q; want 401 and no redirect (the page says it lost contact)",
			resp.StatusCode, resp.Header.Get("HX-Redirect"))
	}
	// Anything else htmx asks for still goes to the login form.
	hdr.Set("Hx-Trigger", "search")
	if resp := a.do(c, "GET", "/wall", nil, hdr); resp.Header.Get("HX-Redirect") == "" {
		t.Errorf("another htmx request: %d without HX-Redirect", resp.StatusCode)
	}
}

func TestPagesOpenToAnyoneDoNotNameTheAccounts(t *testing.T) {
	t.Parallel()
	a := newApp(t, handlers.Options{}, fakerax.AccountSpec{Username: "secret-customer", Servers: 1, Alarms: 1})
	for _, path := range []string{"/setup", "/login"} {
		body := readBody(t, a.do(a.client(), "GET", path, nil, nil))
		if strings.Contains(body, "secret-customer") {
			t.Errorf("GET %s without sign-in names an account", path)
		}
	}
}
