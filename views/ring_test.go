package views

import (
	"bytes"
	"context"
	"flag"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"cmdash/monitoring"
	"cmdash/monitoring/wall"
)

var update = flag.Bool("update", false, "rewrite static/ring.css")

// TestRingCSSIsFresh: static/ring.css holds the gap pattern of every ring
// whose gap circle RingArcs draws by class.
func TestRingCSSIsFresh(t *testing.T) {
	const path = "../static/ring.css"
	want := ringCSS(t)
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Fatalf("static/ring.css is not what RingArcs needs; run: go test ./views -run TestRingCSS -update")
	}
}

// ringCSS is static/ring.css: for each ring of 2 to ringCSSMax alarms, the
// class RingArcs gives its gap circle, with the pattern that circle would
// otherwise carry inline.
func ringCSS(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("/* Generated from views.RingArcs by its test (go test ./views -run TestRingCSS -update): the gaps of a ring of n alarms. */\n")
	for n := 2; n <= ringCSSMax; n++ {
		arcs := RingArcs(monitoring.Counts{OK: n, Total: n})
		g := arcs[len(arcs)-1]
		class, ok := strings.CutPrefix(g.Class, "gaps ")
		if !ok || strings.Contains(class, " ") || g.Dash != "" || g.Offset != "" {
			t.Fatalf("a ring of %d draws its gaps as %+v, not by one class", n, g)
		}
		d, o := gapDash(n)
		b.WriteString("." + class + "{stroke-dasharray:" + d + ";stroke-dashoffset:" + o + "}\n")
	}
	if g := RingArcs(monitoring.Counts{OK: ringCSSMax + 1, Total: ringCSSMax + 1}); g[len(g)-1].Dash == "" {
		t.Fatalf("a ring of %d alarms needs a class past ring.css's last", ringCSSMax+1)
	}
	return b.String()
}

// dashes parses a dash pattern into lengths.
func dashes(t *testing.T, s string) []float64 {
	t.Helper()
	var out []float64
	for _, f := range strings.Fields(s) {
		v, err := strconv.ParseFloat(f, 64)
		if err != nil {
			t.Fatalf("dash %q: %v", s, err)
		}
		out = append(out, v)
	}
	return out
}

// arcStart is the angle (0 = twelve o'clock, clockwise) where a dash
// pattern with this offset starts drawing.
func arcStart(t *testing.T, offset string) float64 {
	t.Helper()
	d, err := strconv.ParseFloat(offset, 64)
	if err != nil {
		t.Fatal(err)
	}
	a := math.Mod(90-d/ringCircumference*360, 360)
	if a < 0 {
		a += 360
	}
	return a
}

func TestRingArcs(t *testing.T) {
	near := func(a, b, tol float64) bool { return math.Abs(a-b) <= tol }
	tests := []struct {
		name   string
		counts monitoring.Counts
		// want: per arc, class and its span in segments; starting segment follows.
		want []struct {
			class string
			segs  int
		}
		gaps bool
	}{
		{name: "no counted alarm draws no arc", counts: monitoring.Counts{}},
		{name: "one OK alarm is a full green circle without gaps", counts: monitoring.Counts{OK: 1, Total: 1},
			want: []struct {
				class string
				segs  int
			}{{"ok", 1}}},
		{name: "ten OK alarms are one full circle cut by the gap circle", counts: monitoring.Counts{OK: 10, Total: 10},
			want: []struct {
				class string
				segs  int
			}{{"ok", 10}}, gaps: true},
		{name: "problems come first from twelve o'clock: critical, warning, unknown, then OK",
			counts: monitoring.Counts{OK: 5, Warning: 2, Critical: 1, Unknown: 2, Total: 10},
			want: []struct {
				class string
				segs  int
			}{{"critical", 1}, {"warning", 2}, {"unknown", 2}, {"ok", 5}}, gaps: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			arcs := RingArcs(tt.counts)
			n := tt.counts.Total
			wantLen := len(tt.want)
			if tt.gaps {
				wantLen++
			}
			if len(arcs) != wantLen {
				t.Fatalf("%d arcs %+v, want %d", len(arcs), arcs, wantLen)
			}
			span, gap := ringSpan(max(n, 1))
			at := 0
			for i, w := range tt.want {
				a := arcs[i]
				if a.Class != w.class {
					t.Errorf("arc %d class %q, want %q", i, a.Class, w.class)
				}
				if w.segs == n {
					if a.Dash != "" {
						t.Errorf("arc %d covers the whole ring but is dashed %q", i, a.Dash)
					}
					continue
				}
				d := dashes(t, a.Dash)
				if len(d) != 2 || !near(d[0]+d[1], ringCircumference, 0.15) {
					t.Fatalf("arc %d dash %q does not add up to the circumference", i, a.Dash)
				}
				if got, want := d[0]/ringCircumference*360, float64(w.segs)*span-gap; !near(got, want, 0.1) {
					t.Errorf("arc %d spans %.2f°, want %.2f°", i, got, want)
				}
				if got, want := arcStart(t, a.Offset), float64(at)*span+gap/2; !near(got, want, 0.1) {
					t.Errorf("arc %d starts at %.2f°, want %.2f°", i, got, want)
				}
				at += w.segs
			}
			if tt.gaps {
				g := arcs[len(arcs)-1]
				if g.Class != "gaps g"+strconv.Itoa(n) {
					t.Errorf("gap circle class %q", g.Class)
				}
			}
		})
	}

	t.Run("the gap pattern repeats once per alarm, each gap centred on a boundary", func(t *testing.T) {
		for _, n := range []int{2, 3, 7, 10, 64, 100} {
			d, off := gapDash(n)
			v := dashes(t, d)
			span, gap := ringSpan(n)
			if period := (v[0] + v[1]) / ringCircumference * 360; !near(period*float64(n), 360, 0.2) {
				t.Errorf("n=%d: %d periods of %.3f° make %.2f°, want 360", n, n, period, period*float64(n))
			}
			if got := v[0] / ringCircumference * 360; !near(got, gap, 0.05) {
				t.Errorf("n=%d: gap %.3f°, want %.3f°", n, got, gap)
			}
			if got := arcStart(t, off); !near(math.Mod(got+gap/2, 360), 0, 0.05) && !near(got+gap/2, 360, 0.05) {
				t.Errorf("n=%d: first gap starts at %.2f°, want %.2f° (centred on twelve o'clock)", n, got, 360-gap/2)
			}
			_ = span
		}
	})

	t.Run("more alarms than ring.css knows carry their gap pattern inline", func(t *testing.T) {
		arcs := RingArcs(monitoring.Counts{OK: 100, Total: 100})
		g := arcs[len(arcs)-1]
		if g.Class != "gaps" || g.Dash == "" || g.Offset == "" {
			t.Errorf("gap circle %+v, want an inline pattern", g)
		}
	})
}

// TestTileMarkup checks the data-* contract and the size of a tile: the
// wall sends thousands of them.
func TestTileMarkup(t *testing.T) {
	tile := wall.Tile{ID: "en0012345678", Label: "web-001.prod.example.com",
		Counts: monitoring.Counts{OK: 7, Warning: 1, Critical: 2, Total: 10}, Worst: monitoring.StateCritical}
	var buf bytes.Buffer
	if err := TileView(42, tile, true, true).Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	li := doc.Find("li.tile.state-critical")
	want := map[string]string{"data-server-id": tile.ID, "data-ok": "7", "data-warning": "1", "data-critical": "2",
		"data-unknown": "0", "data-total": "10", "data-state": "CRITICAL"}
	for k, v := range want {
		if got := li.AttrOr(k, ""); got != v {
			t.Errorf("%s=%q, want %q", k, got, v)
		}
	}
	if got := li.Find("a").AttrOr("href", ""); got != "/accounts/42/servers/en0012345678" {
		t.Errorf("href %q", got)
	}
	if got := li.Find("svg text").First().Text(); got != "7/10" {
		t.Errorf("centre %q, want 7/10", got)
	}
	// Without colour vision: a filled disc and the state's word.
	if got := li.Find("svg text.word").Text(); got != "CRIT" {
		t.Errorf("state word %q, want CRIT", got)
	}
	classes := li.Find("svg use").Map(func(_ int, s *goquery.Selection) string { return s.AttrOr("class", "") })
	if got, want := strings.Join(classes, ","), "disc,critical,warning,ok,gaps g10"; got != want {
		t.Errorf("ring circles %q, want %q", got, want)
	}
	if !strings.Contains(li.Find("a").AttrOr("title", ""), "2 critical") {
		t.Errorf("a problem tile's title %q does not count its criticals", li.Find("a").AttrOr("title", ""))
	}
	t.Logf("a tile with three states is %d bytes", buf.Len())

	t.Run("an OK tile has neither disc nor word", func(t *testing.T) {
		var buf bytes.Buffer
		calm := wall.Tile{ID: "en1", Label: "web", Counts: monitoring.Counts{OK: 10, Total: 10}, Worst: monitoring.StateOK}
		if err := TileView(42, calm, true, true).Render(context.Background(), &buf); err != nil {
			t.Fatal(err)
		}
		if s := buf.String(); strings.Contains(s, `class="disc"`) || strings.Contains(s, "word") || strings.Contains(s, "title=") {
			t.Errorf("OK tile carries problem markup: %s", s)
		}
		t.Logf("an all-OK tile of 10 alarms is %d bytes", buf.Len())
	})
	t.Run("a tile of a wall link leads nowhere", func(t *testing.T) {
		var buf bytes.Buffer
		if err := TileView(42, tile, false, true).Render(context.Background(), &buf); err != nil {
			t.Fatal(err)
		}
		if s := buf.String(); strings.Contains(s, "href=\"/") || strings.Contains(s, "<a") {
			t.Errorf("tile links somewhere: %s", s)
		}
	})
}
