package views

import (
	"bytes"
	"context"
	"slices"
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

func TestTheAcknowledgeFormOffersOnlyWhatCanBeAcknowledged(t *testing.T) {
	expires := time.Date(2026, 12, 4, 21, 0, 0, 0, time.UTC)
	whole := monitoring.Ack{ID: 7, ServerID: "en1", Note: "on it", CreatedBy: "ann", ExpiresAt: expires}
	crit := monitoring.Ack{ID: 8, ServerID: "en1", AlarmID: "al-crit", AlarmLabel: "CPU", Note: "known", CreatedBy: "ann"}
	tests := []struct {
		name   string
		page   ServerPage
		want   []string // the choices' values, in order; nil: no form at all
		typed  string   // what was chosen in a form shown again
		errors bool
	}{
		{"nothing acknowledged: the whole server, then each problem alarm", serverPage(), []string{"", "al-crit", "al-warn"}, "", false},
		{"the server acknowledged: its problem alarms only", serverPage(whole), []string{"al-crit", "al-warn"}, "", false},
		{"an alarm acknowledged: not that one again", serverPage(crit), []string{"", "al-warn"}, "", false},
		{"the server and every problem alarm acknowledged: no form", serverPage(whole, crit,
			monitoring.Ack{ID: 9, ServerID: "en1", AlarmID: "al-warn", Note: "n", CreatedBy: "ann"}), nil, "", false},
		{"an alarm refused as acknowledged already stays chosen, beside its message", serverPage(crit), []string{"", "al-crit", "al-warn"}, "al-crit", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.page
			if tt.errors {
				p.Acks.Form = AckForm{Alarm: tt.typed, Errors: map[string]string{"alarm": "This alarm is acknowledged already"}}
			}
			doc := renderServer(t, p)
			form, jump := doc.Find("form#ack-form"), doc.Find(`.toolbar a[href="#acknowledge"]`)
			if tt.want == nil {
				if form.Length() != 0 || jump.Length() != 0 {
					t.Errorf("a form (%d) or a link to it (%d) with nothing to acknowledge", form.Length(), jump.Length())
				}
				return
			}
			var got []string
			form.Find(`select[name="alarm"] option`).Each(func(_ int, o *goquery.Selection) { got = append(got, o.AttrOr("value", "?")) })
			if !slices.Equal(got, tt.want) {
				t.Errorf("choices %q, want %q", got, tt.want)
			}
			if sel := form.Find(`select[name="alarm"] option[selected]`).AttrOr("value", "none"); tt.typed != "" && sel != tt.typed {
				t.Errorf("chosen %q, want %q kept", sel, tt.typed)
			}
			if jump.Length() != 1 || doc.Find("section#acknowledge form#ack-form").Length() != 1 {
				t.Error("no link at the top to the form, or no form where it leads")
			}
		})
	}
}

func TestServerTimesAreUTCInTheMarkupForTheScriptToMakeLocal(t *testing.T) {
	expires := time.Date(2026, 12, 4, 21, 0, 0, 0, time.UTC)
	p := serverPage(monitoring.Ack{ID: 7, ServerID: "en1", Note: "on it", CreatedBy: "ann", ExpiresAt: expires})
	p.Acks.Earlier = []monitoring.Ack{{ID: 5, ServerID: "en1", Note: "was on it", CreatedBy: "bob", EndReason: monitoring.AckExpired,
		CreatedAt: expires.Add(-5 * time.Hour), EndedAt: expires.Add(-4 * time.Hour)}}
	doc := renderServer(t, p)
	for _, tt := range []struct{ where, sel, iso, stamp string }{
		{"an alarm's since", `tr[data-alarm-id="al-crit"] .abs time`, "2026-12-04T17:04:12Z", "2026-12-04 17:04:12 UTC"},
		{"an acknowledgement's end", `.ack-ends time`, "2026-12-04T21:00:00Z", "2026-12-04 21:00:00 UTC"},
		{"an earlier acknowledgement's start", `.earlier .ack-who time:first-of-type`, "2026-12-04T16:00:00Z", "2026-12-04 16:00:00 UTC"},
		{"and its end", `.earlier .ack-who time:last-of-type`, "2026-12-04T17:00:00Z", "2026-12-04 17:00:00 UTC"},
	} {
		el := doc.Find(tt.sel)
		_, local := el.Attr("data-local")
		if el.Length() != 1 || !local || el.AttrOr("datetime", "") != tt.iso || el.AttrOr("title", "") != tt.stamp || el.Text() != tt.stamp {
			h, _ := goquery.OuterHtml(el)
			t.Errorf("%s: %s, want <time datetime=%q data-local title=%q>%s</time>", tt.where, h, tt.iso, tt.stamp, tt.stamp)
		}
	}
	if got, want := strings.Join(strings.Fields(doc.Find(".earlier .ack-who").Text()), " "),
		"by bob, 2026-12-04 16:00:00 UTC → 2026-12-04 17:00:00 UTC: expired"; got != want {
		t.Errorf("the earlier acknowledgement says %q, want %q", got, want)
	}
}
