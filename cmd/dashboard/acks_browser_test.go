package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserAnAcknowledgedServerIsShownMuted acknowledges a CRITICAL
// server through the API and watches the wall mute it on its next refresh:
// faded, still CRITICAL, marked ACK and counted apart.
func TestBrowserAnAcknowledgedServerIsShownMuted(t *testing.T) {
	t.Parallel()
	findChromium(t)
	d := startDashboard(t, "-demo", "-db", filepath.Join(t.TempDir(), "d.db"),
		"-addr", "127.0.0.1:0", "-refresh-interval", "2s", "-poll-interval", "10s")
	server := forceOneCritical(t, demoFake(t, d))
	ctx, consoleErrors := startBrowser(t, 60*time.Second, 1280, 900)
	tile := `li.tile[data-server-id="` + server + `"]`
	browserStep(t, ctx, "see the forced server CRITICAL", 30*time.Second,
		chromedp.Navigate(d.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(tile+`[data-state="CRITICAL"]`)),
	)
	opacity := func() float64 {
		v, err := strconv.ParseFloat(browserEval[string](t, ctx, `getComputedStyle(document.querySelector('`+tile+` .t')).opacity`), 64)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if o := opacity(); o != 1 {
		t.Fatalf("the tile is faded (opacity %v) before it is acknowledged", o)
	}
	account := browserEval[string](t, ctx, `document.querySelector('`+tile+`').closest('section').dataset.accountId`)

	// Sign in with the printed demo login and acknowledge it.
	client := signInDemo(t, d)
	body, _ := json.Marshal(map[string]string{"account_id": account, "server_id": server, "note": "Rebooting it", "expiry": "1h"})
	resp, err := client.Post(d.URL+"/api/v1/acks", "application/json", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("acknowledging: %d %s", resp.StatusCode, answer)
	}

	browserStep(t, ctx, "see the tile acknowledged after a refresh", 10*time.Second,
		chromedp.WaitVisible(chromedp.CSS(tile+`.acked[data-acked="true"] .ack-mark`)),
	)
	if o := opacity(); o >= 1 {
		t.Errorf("the acknowledged tile is not faded: opacity %v", o)
	}
	if got := browserEval[string](t, ctx, `getComputedStyle(document.querySelector('`+tile+` .t')).boxShadow`); got != "none" {
		t.Errorf("the acknowledged tile still glows: box-shadow %q", got)
	}
	if got := browserEval[string](t, ctx, `document.querySelector('`+tile+` text.word').textContent`); got != "CRIT" {
		t.Errorf("the acknowledged tile says %q, want its state word CRIT", got)
	}
	if got := browserEval[string](t, ctx, `document.querySelector('.strip .sum-critical').textContent`); !strings.Contains(got, "(1 acked") {
		t.Errorf("the summary strip says %q", strings.Join(strings.Fields(got), " "))
	}
	if got := browserEval[string](t, ctx, `document.title`); !strings.Contains(got, "CRIT (1 acked") {
		t.Errorf("title %q", got)
	}
	screenshot(t, ctx, t.TempDir(), "acked-wall.png")
	if errs := consoleErrors(); len(errs) > 0 {
		t.Errorf("console errors: %v", errs)
	}
}

// forceOneCritical turns an evaluated, enabled alarm of the demo's fake
// CRITICAL (it stays so until told otherwise) and returns its server's id.
// It takes it from the last demo account: the first has the demo's
// maintenance windows, and a server in one is muted.
func forceOneCritical(t *testing.T, fake string) string {
	t.Helper()
	var accounts []struct{ Username string }
	getJSON(t, fake+"/_fake/accounts", &accounts)
	slices.Reverse(accounts)
	for _, a := range accounts {
		var ents []struct {
			ID     string
			Alarms []struct {
				ID, State string
				Disabled  bool
			}
		}
		getJSON(t, fake+"/_fake/entities?username="+url.QueryEscape(a.Username), &ents)
		for _, e := range ents {
			for _, al := range e.Alarms {
				if al.State == "" || al.Disabled {
					continue
				}
				q := url.Values{"username": {a.Username}, "entity": {e.ID}, "alarm": {al.ID}, "state": {"CRITICAL"}}
				resp, err := http.Post(fake+"/_fake/state?"+q.Encode(), "", nil)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusNoContent {
					t.Fatalf("force CRITICAL: %d", resp.StatusCode)
				}
				return e.ID
			}
		}
	}
	t.Fatal("no evaluated, enabled alarm in the demo")
	return ""
}
