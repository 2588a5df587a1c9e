package handlers_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"cmdash/handlers"
	"cmdash/monitoring/fakerax"
)

func TestTimelineListsChangesAndHowLongAProblemLasted(t *testing.T) {
	t.Parallel()
	a := newApp(t, handlers.Options{}, fakerax.AccountSpec{Username: "prod", Servers: 3, Alarms: 2})
	ctx := context.Background()
	acct, err := a.store.AccountByUsername(ctx, "prod")
	if err != nil {
		t.Fatal(err)
	}
	ent := a.fake.Entities("prod")[0]
	al := ent.Alarms[0]
	if al.Disabled || al.State == "" {
		t.Fatalf("the scenario's first alarm is not counted: %+v", al)
	}
	force := func(state string) {
		t.Helper()
		if err := a.fake.SetState("prod", ent.ID, al.ID, state); err != nil {
			t.Fatal(err)
		}
		if err := a.poller.Poll(ctx, acct.ID); err != nil {
			t.Fatal(err)
		}
	}
	other := "WARNING"
	if al.State == "WARNING" {
		other = "CRITICAL"
	}
	force(other) // a problem begins (or changes)
	c := a.signedIn()
	// Someone acknowledges it; its recovery ends the acknowledgement.
	body := `{"username":"prod","server_id":"` + ent.ID + `","alarm_id":"` + al.ID + `","note":"on it","expiry":"recovered"}`
	if resp := a.do(c, "POST", "/api/v1/acks", body, nil); resp.StatusCode != http.StatusCreated {
		t.Fatalf("acknowledge: %d %s", resp.StatusCode, readBody(t, resp))
	}
	force("OK") // and ends

	doc := func(path string, hdr http.Header) (*goquery.Document, *http.Response) {
		t.Helper()
		resp := a.do(c, "GET", path, nil, hdr)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d", path, resp.StatusCode)
		}
		d, err := goquery.NewDocumentFromReader(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return d, resp
	}
	d, resp := doc("/timeline", nil)
	acks := d.Find("table.timeline tbody tr[data-ack-id]")
	if acks.Length() != 2 || !strings.Contains(acks.Eq(0).Text(), "recovered") || !strings.Contains(acks.Eq(1).Text(), "acknowledged by admin") {
		t.Errorf("acknowledgement rows: %d, %q", acks.Length(), acks.Text())
	}
	rows := d.Find("table.timeline tbody tr:not([data-ack-id])")
	if rows.Length() != 2 {
		t.Fatalf("%d rows, want the 2 changes", rows.Length())
	}
	// Newest first: the recovery, with how long the problem lasted.
	if got := rows.Eq(0).AttrOr("data-from", "") + "→" + rows.Eq(0).AttrOr("data-to", ""); got != other+"→OK" {
		t.Errorf("first row %s, want %s→OK", got, other)
	}
	if !rows.Eq(0).HasClass("resolved") || rows.Eq(0).Find(".lasted").Length() != 1 {
		t.Errorf("the recovery row is not marked resolved with its duration: %s", rows.Eq(0).Text())
	}
	if got := rows.Eq(1).AttrOr("data-to", ""); got != other {
		t.Errorf("second row goes to %s, want %s", got, other)
	}
	if href := rows.Eq(0).Find("a").AttrOr("href", ""); href != "/accounts/"+itoa(acct.ID)+"/servers/"+ent.ID {
		t.Errorf("server link %q", href)
	}
	// The same bytes answer 304.
	etag := resp.Header.Get("ETag")
	if r2 := a.do(c, "GET", "/timeline", nil, http.Header{"If-None-Match": {etag}}); r2.StatusCode != http.StatusNotModified {
		t.Errorf("unchanged timeline: %d, want 304", r2.StatusCode)
	}
	// The wall's filter language narrows it; htmx gets the list alone.
	st := "state:" + strings.ToLower(other)
	d, _ = doc("/timeline?q="+st, http.Header{"Hx-Request": {"true"}})
	if n := d.Find("table.timeline tbody tr:not([data-ack-id])").Length(); n != 2 {
		t.Errorf("%s: %d rows, want 2 (from or to)", st, n)
	}
	if d.Find("header.topbar").Length() != 0 || d.Find("#timeline").Length() != 1 {
		t.Error("the htmx answer is not the list alone")
	}
	d, _ = doc("/timeline?q=nosuchserver", nil)
	if n := d.Find("table.timeline tbody tr").Length(); n != 0 || !strings.Contains(d.Find("#timeline").Text(), "No recorded change matches") {
		t.Errorf("a filter that matches nothing: %d rows, %q", n, d.Find("#timeline").Text())
	}
	// The server page shows the alarm's history.
	d, _ = doc("/accounts/"+itoa(acct.ID)+"/servers/"+ent.ID, nil)
	hist := d.Find(`.alarm-history[data-alarm-id="` + al.ID + `"] li`)
	if hist.Length() != 2 || hist.Eq(0).Find(".lasted").Length() != 1 {
		t.Errorf("the server page's history of the alarm: %d entries, %q", hist.Length(), hist.Text())
	}
	// The wall shows the latest changes too.
	d, _ = doc("/", nil)
	if n := d.Find(".recent li[data-event-id]").Length(); n != 2 {
		t.Errorf("the wall's latest changes list %d, want 2", n)
	}
	d, _ = doc("/wall?changes=off", nil)
	if n := d.Find(".recent").Length(); n != 0 {
		t.Error("?changes=off still shows the latest changes")
	}
}
