package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"cmdash/handlers"
	"cmdash/monitoring"
	"cmdash/monitoring/fakerax"
)

func TestPublicViewersSeeAcknowledgementsButCannotMakeThem(t *testing.T) {
	t.Parallel()
	a := newApp(t, handlers.Options{PublicDashboard: true},
		fakerax.AccountSpec{Username: "pub", Servers: 10, Alarms: 3, WarningShare: 0.3, CriticalShare: 0.2})
	ctx := context.Background()
	acct, _ := a.store.AccountByUsername(ctx, "pub")
	snap, err := a.store.Snapshot(ctx, acct.ID)
	if err != nil {
		t.Fatal(err)
	}
	var server string
	for _, s := range snap.Servers {
		if s.Worst != monitoring.StateOK {
			server = s.ID
			break
		}
	}
	if server == "" {
		t.Fatal("no problem server in the scenario")
	}
	ack, err := a.store.CreateAck(ctx, monitoring.AckInput{AccountID: acct.ID, ServerID: server, Note: "on it", Expiry: "4h", By: adminUser})
	if err != nil {
		t.Fatal(err)
	}
	anon := a.client()
	doc := func(path string) *goquery.Document {
		t.Helper()
		resp := a.do(anon, "GET", path, nil, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d", path, resp.StatusCode)
		}
		d, err := goquery.NewDocumentFromReader(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	serverPath := "/accounts/" + itoa(acct.ID) + "/servers/" + url.PathEscape(server)

	wallPage := doc("/")
	if tile := wallPage.Find(`li.tile[data-server-id="` + server + `"]`); !tile.HasClass("acked") || tile.Find(".ack-mark").Length() != 1 {
		t.Errorf("the public wall does not mark the acknowledged tile: class %q", tile.AttrOr("class", ""))
	}
	page := doc(serverPath)
	if item := page.Find(`.ack-item[data-ack-id="` + itoa(ack.ID) + `"]`); !strings.Contains(item.Text(), "on it") {
		t.Error("the public server page does not show the acknowledgement")
	}
	if page.Find("form#ack-form").Length() != 0 || page.Find(`form[action$="/delete"]`).Length() != 0 {
		t.Error("a public viewer is offered the form or a Remove button")
	}
	// Who acknowledged is a dashboard user's name: not for the public.
	for _, path := range []string{serverPath, "/timeline"} {
		if body := doc(path).Text(); strings.Contains(body, adminUser) || !strings.Contains(body, "a signed-in user") {
			t.Errorf("the public %s names who acknowledged, or does not say someone did", path)
		}
	}
	for _, p := range []struct {
		path string
		body url.Values
	}{
		{serverPath + "/acks", url.Values{"note": {"n"}, "expiry": {"1h"}}},
		{"/acks/" + itoa(ack.ID) + "/delete", url.Values{}},
	} {
		if resp := a.do(anon, "POST", p.path, p.body, nil); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("anonymous POST %s: %d, want 401", p.path, resp.StatusCode)
		}
	}
	if got, _ := a.store.Ack(ctx, ack.ID); !got.Active() {
		t.Error("an anonymous request ended the acknowledgement")
	}
	if acks, _ := a.store.ActiveAcks(ctx); len(acks) != 1 {
		t.Errorf("%d acknowledgements, want 1", len(acks))
	}
}
