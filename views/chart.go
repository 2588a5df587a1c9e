package views

import (
	"cmp"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"cmdash/monitoring"
	"cmdash/monitoring/charts"
)

// Charts is the fragment of a server page with the charts of its alarms.
type Charts struct {
	Self   string // the fragment's address without range (…/charts, with ?alarm= when one was asked for)
	Range  monitoring.ChartRange
	Items  []ChartItem
	Asked  bool // one alarm was asked for, not the problem ones
	PerHr  int  // the hourly cap, said when a chart is refused for it
	Empty  string
	Server string // its address, to go back to the problem alarms
}

// ChartItem is one alarm's chart.
type ChartItem struct {
	Alarm monitoring.Alarm
	Chart charts.Chart
}

// Geometry of a chart's SVG, in its viewBox units: the plot area and the
// margins for the axes' words.
//
// The viewBox is narrow so that its words stay readable when a phone
// draws it 360 pixels wide; a desktop draws it at most 720 wide.
const (
	chartW, chartH     = 480, 240
	plotX0, plotX1     = 46, 396
	plotY0, plotY1     = 14, 200
	chartLabelBaseline = 226
)

// chartSVG is what a chart draws, computed once: lines, thresholds, the
// moment the state began and the axes.
type chartSVG struct {
	Lines      []chartLine
	Thresholds []chartRule
	Since      *chartRule // when the alarm's state began, when that is in range
	YTicks     []chartTick
	XTicks     []chartTick
	Latest     string // the latest value, as the chart writes it
	Min, Max   string
}

type chartLine struct {
	Zone   string // "" for an agent check's one series
	Points string // the polyline's points attribute
	Count  int
	Dash   string // "" solid; dotted, dashed… for the second and third zone
	EndX   float64
	EndY   float64
	LabelY float64 // where its label is written, right of the plot: moved apart from the others'
	Label  string  // the zone, written at the line's end
	Latest string
}

type chartRule struct {
	X, Y       float64 // a threshold's X is where its words go (their baseline)
	Label      string
	Class      string
	LabelClass string
}

type chartTick struct {
	Pos   float64
	Label string
}

// zoneDashes tell a chart's lines apart without colour.
var zoneDashes = []string{"", "2 4", "10 4 2 4", "6 3"}

// drawChart lays out c for its alarm al.
func drawChart(c charts.Chart, al monitoring.Alarm) chartSVG {
	var d chartSVG
	lo, hi := math.Inf(1), math.Inf(-1)
	var latestAt time.Time
	latest := math.NaN()
	for _, s := range c.Series {
		for _, p := range s.Points {
			lo, hi = min(lo, p.Value), max(hi, p.Value)
			if !p.At.Before(latestAt) {
				latestAt, latest = p.At, p.Value
			}
		}
	}
	if math.IsInf(lo, 0) {
		return d
	}
	d.Min, d.Max, d.Latest = formatValue(lo), formatValue(hi), formatValue(latest)
	for _, th := range c.Metric.Thresholds {
		lo, hi = min(lo, th.Value), max(hi, th.Value)
	}
	if hi-lo < 1e-9 {
		lo, hi = lo-1, hi+1
	}
	pad := (hi - lo) * 0.06
	lo, hi = lo-pad, hi+pad
	from, to := c.From, c.To
	span := to.Sub(from).Seconds()
	x := func(t time.Time) float64 {
		return plotX0 + (plotX1-plotX0)*math.Max(0, math.Min(1, t.Sub(from).Seconds()/span))
	}
	y := func(v float64) float64 { return plotY1 - (plotY1-plotY0)*(v-lo)/(hi-lo) }

	for i, s := range c.Series {
		if len(s.Points) == 0 {
			continue
		}
		var b strings.Builder
		for j, p := range s.Points {
			if j > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(coord(x(p.At)))
			b.WriteByte(',')
			b.WriteString(coord(y(p.Value)))
		}
		last := s.Points[len(s.Points)-1]
		ln := chartLine{Zone: s.Zone, Points: b.String(), Count: len(s.Points), Dash: zoneDashes[i%len(zoneDashes)],
			EndX: x(last.At), EndY: y(last.Value), Label: strings.TrimPrefix(s.Zone, "mz"), Latest: shortValue(last.Value)}
		d.Lines = append(d.Lines, ln)
	}
	spreadLabels(d.Lines)
	for _, th := range c.Metric.Thresholds {
		d.Thresholds = append(d.Thresholds, chartRule{Y: y(th.Value), Class: "threshold th-" + StateClass(th.State),
			LabelClass: "threshold-label th-" + StateClass(th.State) + "-label",
			Label:      shortState(th.State) + " " + th.Op + " " + shortValue(th.Value)})
	}
	// A threshold's words go above its line, or below when the line above
	// is too close for both.
	slices.SortFunc(d.Thresholds, func(a, b chartRule) int { return cmp.Compare(a.Y, b.Y) })
	for i := range d.Thresholds {
		d.Thresholds[i].X = d.Thresholds[i].Y - 5
		if i > 0 && d.Thresholds[i].X-d.Thresholds[i-1].X < labelGap {
			d.Thresholds[i].X = d.Thresholds[i].Y + 16
		}
	}
	if !al.Since.IsZero() && al.Since.After(from) && al.Since.Before(to) && al.State != monitoring.StateOK {
		d.Since = &chartRule{X: x(al.Since), Class: "since", Label: shortState(al.State) + " since " + al.Since.UTC().Format("15:04")}
	}
	for _, v := range niceTicks(lo, hi, 4) {
		d.YTicks = append(d.YTicks, chartTick{Pos: y(v), Label: shortValue(v)})
	}
	d.XTicks = timeTicks(from, to, x)
	return d
}

// coord writes a coordinate with one decimal: enough at any screen size,
// and a 1,440-point line stays small.
func coord(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// formatValue writes a metric's value with as many decimals as its size
// needs: 98.5, 4.21, 0.0312, 2592000.
func formatValue(v float64) string {
	a := math.Abs(v)
	switch {
	case a >= 1000 || a == math.Trunc(a):
		return strconv.FormatFloat(math.Round(v), 'f', 0, 64)
	case a >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case a >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

// shortValue writes a value inside a chart, where room is short: as
// formatValue below 100, whole up to 9999, else with three figures and
// k, M or G (851.9 is 852, 604800 is 605k, 2592000 is 2.59M). The
// caption keeps every figure.
func shortValue(v float64) string {
	a := math.Abs(v)
	if a < 100 {
		return formatValue(v)
	}
	if a < 9999.5 {
		return strconv.FormatFloat(math.Round(v), 'f', 0, 64)
	}
	scale, suffix := 1e3, "k"
	switch {
	case a >= 999_500_000:
		scale, suffix = 1e9, "G"
	case a >= 999_500:
		scale, suffix = 1e6, "M"
	}
	n := v / scale
	decimals := 2
	if a := math.Abs(n); a >= 99.95 {
		decimals = 0
	} else if a >= 9.995 {
		decimals = 1
	}
	out := strconv.FormatFloat(n, 'f', decimals, 64)
	if decimals > 0 {
		out = strings.TrimRight(strings.TrimRight(out, "0"), ".")
	}
	return out + suffix
}

// shortState is a state as a chart writes it.
func shortState(s monitoring.State) string {
	switch s {
	case monitoring.StateCritical:
		return "CRIT"
	case monitoring.StateWarning:
		return "WARN"
	}
	return string(s)
}

// niceTicks are up to about n round values between lo and hi.
func niceTicks(lo, hi float64, n int) []float64 {
	raw := (hi - lo) / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	var out []float64
	for v := math.Ceil(lo/step) * step; v <= hi; v += step {
		r := math.Round(v/step) * step
		if math.Abs(r) < step/2 {
			r = 0 // never "-0"
		}
		out = append(out, r)
	}
	return out
}

// timeTicks mark the range's start, middle and end: "−6 h", "−3 h", "now".
func timeTicks(from, to time.Time, x func(time.Time) float64) []chartTick {
	span := to.Sub(from)
	ago := func(d time.Duration) string {
		if d >= 48*time.Hour {
			return "−" + strconv.Itoa(int(d.Hours()/24)) + " d"
		}
		return "−" + strconv.Itoa(int(d.Hours())) + " h"
	}
	return []chartTick{
		{x(from), ago(span)},
		{x(from.Add(span / 2)), ago(span / 2)},
		{x(to), "now"},
	}
}

// rangeHref is the fragment's address for another range.
func (c Charts) rangeHref(r monitoring.ChartRange) string {
	sep := "?"
	if strings.Contains(c.Self, "?") {
		sep = "&"
	}
	return c.Self + sep + "range=" + r.Name
}

// chartCaption says in words what the chart shows, for those who do not
// see it and for the test.
func chartCaption(c charts.Chart, d chartSVG) string {
	s := c.Metric.Name + " · last " + rangeWords(c.Range)
	if d.Latest != "" {
		s += " · latest " + d.Latest + " · lowest " + d.Min + " · highest " + d.Max
	}
	return s
}

func rangeWords(r monitoring.ChartRange) string {
	switch r.Name {
	case "6h":
		return "6 hours"
	case "24h":
		return "24 hours"
	case "7d":
		return "7 days"
	}
	return r.Name
}

func ftoa(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// alarmChartURL is the charts fragment of one alarm of the server at self.
func alarmChartURL(self, alarmID string) string {
	return self + "/charts?alarm=" + url.QueryEscape(alarmID)
}

// ChartValue writes a metric's value as a chart does.
func ChartValue(v float64) string { return formatValue(v) }

// labelGap is the least distance between two lines' labels, in viewBox
// units (a line of the label's text).
const labelGap = 16

// spreadLabels places each line's label at the height of its last point,
// moved apart so that no two overlap, within the plot's height.
func spreadLabels(lines []chartLine) {
	order := make([]int, len(lines))
	for i := range order {
		order[i] = i
		lines[i].LabelY = lines[i].EndY + 5
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(lines[a].LabelY, lines[b].LabelY) })
	for k := 1; k < len(order); k++ {
		prev, cur := &lines[order[k-1]], &lines[order[k]]
		cur.LabelY = max(cur.LabelY, prev.LabelY+labelGap)
	}
	// Pushed below the plot: move the whole stack up.
	if n := len(order); n > 0 {
		if over := lines[order[n-1]].LabelY - (plotY1 + 6); over > 0 {
			for _, i := range order {
				lines[i].LabelY -= over
			}
		}
	}
}

// chartViewBox is every chart's viewBox.
var chartViewBox = "0 0 " + strconv.Itoa(chartW) + " " + strconv.Itoa(chartH)
