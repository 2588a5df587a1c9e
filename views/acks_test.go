package views

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"cmdash/monitoring"
	"cmdash/monitoring/wall"
)

func TestTitleCountsSayHowManyAreAcknowledged(t *testing.T) {
	tests := []struct {
		name string
		sc   wall.ServerCounts
		want string
	}{
		{"none acknowledged", wall.ServerCounts{Critical: 3, Warning: 2, Total: 5}, "3 CRIT · 2 WARN · "},
		{"some of one state", wall.ServerCounts{Critical: 3, Warning: 2, Total: 5, AckedCritical: 1}, "3 CRIT (1 acked) · 2 WARN · "},
		{"all of every state", wall.ServerCounts{Critical: 1, Warning: 1, Unknown: 2, Total: 4, AckedCritical: 1, AckedWarning: 1, AckedUnknown: 2},
			"1 CRIT (1 acked) · 1 WARN (1 acked) · 2 UNKN (2 acked) · "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := TitleCounts(wall.Summary{Servers: tt.sc}); got != tt.want {
				t.Errorf("%q, want %q", got, tt.want)
			}
		})
	}
}

func TestAnAcknowledgedTileIsMarkedInWords(t *testing.T) {
	render := func(tile wall.Tile) *goquery.Selection {
		t.Helper()
		var buf bytes.Buffer
		if err := TileView(1, tile, true, true).Render(context.Background(), &buf); err != nil {
			t.Fatal(err)
		}
		doc, err := goquery.NewDocumentFromReader(&buf)
		if err != nil {
			t.Fatal(err)
		}
		return doc.Find("li.tile")
	}
	tile := wall.Tile{ID: "en1", Label: "web", Counts: monitoring.Counts{Critical: 1, OK: 1, Total: 2}, Worst: monitoring.StateCritical}
	plain := render(tile)
	if plain.HasClass("acked") || plain.AttrOr("data-acked", "none") != "none" || plain.Find(".ack-mark").Length() != 0 {
		t.Error("a tile that is not acknowledged carries the mark")
	}
	tile.Acked = true
	acked := render(tile)
	if !acked.HasClass("acked") || acked.AttrOr("data-acked", "") != "true" || acked.Find(".ack-mark").Text() != "ACK" {
		t.Errorf("acknowledged tile: class %q, data-acked %q, mark %q", acked.AttrOr("class", ""), acked.AttrOr("data-acked", ""), acked.Find(".ack-mark").Text())
	}
	if word := acked.Find("text.word").Text(); word != "CRIT" {
		t.Errorf("the acknowledged tile says %q, want its state word CRIT", word)
	}
	if title := acked.Find("a.t").AttrOr("title", ""); !strings.HasSuffix(title, "— acknowledged") {
		t.Errorf("tooltip %q", title)
	}
}
