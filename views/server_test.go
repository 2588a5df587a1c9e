package views

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"cmdash/monitoring"
	"cmdash/monitoring/wall"
)

func TestHostBreaksWrapsANameAtItsDotsAndDashes(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"a host name breaks after each dot", "mq1.hkg.example.net", "mq1.<wbr>hkg.<wbr>example.<wbr>net"},
		{"and after each dash", "worker-02.prod", "worker-<wbr>02.<wbr>prod"},
		{"a name without either is one word", "localhost", "localhost"},
		{"a dot or dash at the end breaks nothing", "db-01.", "db-<wbr>01."},
		{"markup in a label is text", `<b>a&b</b>.x`, "&lt;b&gt;a&amp;b&lt;/b&gt;.<wbr>x"},
		{"an empty label is nothing", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := HostBreaks(tt.in).Render(context.Background(), &buf); err != nil {
				t.Fatal(err)
			}
			if got := buf.String(); got != tt.want {
				t.Errorf("%q, want %q", got, tt.want)
			}
		})
	}
}

// serverPage is a CRITICAL server with a CRITICAL, a WARNING, an OK and a
// disabled alarm, for a signed-in viewer.
func serverPage(active ...monitoring.Ack) ServerPage {
	since := time.Date(2026, 12, 4, 17, 4, 12, 0, time.UTC)
	return ServerPage{
		AccountID: 1, AccountName: "Customer 1",
		Server: monitoring.Server{ID: "en1", Label: "db-01.prod.example.com", Alarms: []monitoring.Alarm{
			{ID: "al-crit", Label: "CPU", State: monitoring.StateCritical, Evaluated: true, Since: since},
			{ID: "al-warn", Label: "Disk", State: monitoring.StateWarning, Evaluated: true, Since: since},
			{ID: "al-ok", Label: "Ping", State: monitoring.StateOK, Evaluated: true, Since: since},
			{ID: "al-off", Label: "Old", State: monitoring.StateCritical, Evaluated: true, Disabled: true},
		}},
		Tile: wall.Tile{ID: "en1", Worst: monitoring.StateCritical,
			Counts: monitoring.Counts{Critical: 1, Warning: 1, OK: 1, Total: 3}},
		Self: "/accounts/1/servers/en1",
		Acks: ServerAcks{Active: active, CanAck: true},
	}
}

func renderServer(t *testing.T, p ServerPage) *goquery.Document {
	t.Helper()
	var buf bytes.Buffer
	if err := ServerView(Layout{Title: "x"}, p).Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestTheServerTitleBreaksAtDotsAndDashes(t *testing.T) {
	doc := renderServer(t, serverPage())
	if h1, _ := doc.Find("h1").Html(); h1 != "db-<wbr/>01.<wbr/>prod.<wbr/>example.<wbr/>com" {
		t.Errorf("the title is %q, want a break after each dot and dash", h1)
	}
	if got := strings.TrimSpace(doc.Find(".crumbs span").Text()); got != "db-01.prod.example.com" {
		t.Errorf("the crumbs end with %q", got)
	}
}
