package views

import (
	"math"
	"strconv"
	"strings"

	"cmdash/monitoring"
	"cmdash/monitoring/wall"
)

// A ring is drawn with a few circles, not one path per alarm: one circle per
// state, dashed to a single arc that covers that state's segments (problems
// first, from twelve o'clock, clockwise), and one circle on top in the
// track's colour whose dashes are the gaps between segments. Every circle is
// a <use> of one shared circle (radius 42 in a 100×100 viewBox, see
// RingDefs), so a tile carries only what differs.

const (
	ringRadius = 42.0
	// maxGapDeg is the gap between two segments, in degrees, unless the
	// segments are so small that it is 30 % of one.
	maxGapDeg = 4.0
	// ringCSSMax is the largest alarm count whose gap pattern is a class in
	// static/ring.css; larger rings carry the pattern inline.
	ringCSSMax = 64
)

var ringCircumference = 2 * math.Pi * ringRadius

// Arc is one dashed circle of a ring. Dash and Offset are empty for a full
// circle.
type Arc struct {
	Class  string
	Dash   string
	Offset string
}

// RingArcs draws the counted alarms of c: the state arcs, then the gap
// circle (its Class names the pattern for up to ringCSSMax alarms). No
// counted alarm gives no arcs: only the track shows.
func RingArcs(c monitoring.Counts) []Arc {
	n := c.Total
	if n <= 0 {
		return nil
	}
	span, gap := ringSpan(n)
	arcs := make([]Arc, 0, 5)
	at := 0
	for _, run := range ring(c) {
		a := Arc{Class: StateClass(run.State)}
		if run.Count < n {
			from := float64(at)*span + gap/2
			a.Dash, a.Offset = dash(float64(run.Count)*span-gap, from)
		}
		arcs = append(arcs, a)
		at += run.Count
	}
	if n > 1 {
		g := Arc{Class: "gaps g" + strconv.Itoa(n)}
		if n > ringCSSMax {
			g.Class = "gaps"
			g.Dash, g.Offset = gapDash(n)
		}
		arcs = append(arcs, g)
	}
	return arcs
}

func ring(c monitoring.Counts) []wall.Run { return wall.Tile{Counts: c}.Ring() }

// ringSpan is the angle of one segment and of the gap between two, in degrees.
func ringSpan(n int) (span, gap float64) {
	span = 360 / float64(n)
	return span, math.Min(maxGapDeg, span*0.3)
}

// dash is the dash pattern and offset for one arc of length deg degrees
// starting at from degrees (0 = twelve o'clock, clockwise). A circle's path
// starts at three o'clock.
func dash(deg, from float64) (string, string) {
	l := deg / 360 * ringCircumference
	return num(l, 1) + " " + num(ringCircumference-l, 1), num(offsetFor(from), 1)
}

// gapDash is the repeating pattern of an n-segment ring's gaps, each centred
// on a segment boundary.
func gapDash(n int) (string, string) {
	span, gap := ringSpan(n)
	g := gap / 360 * ringCircumference
	p := span / 360 * ringCircumference
	return num(g, 3) + " " + num(p-g, 3), num(offsetFor(-gap/2), 2)
}

// offsetFor is the dash offset that starts a pattern at from degrees.
func offsetFor(from float64) float64 {
	d := math.Mod((90-from)/360*ringCircumference, ringCircumference)
	if d < 0 {
		d += ringCircumference
	}
	return d
}

func num(v float64, prec int) string {
	s := strconv.FormatFloat(v, 'f', prec, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	if s == "" || s == "-0" {
		return "0"
	}
	return s
}
