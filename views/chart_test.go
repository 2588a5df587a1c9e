package views

import (
	"math"
	"testing"
	"time"

	"cmdash/monitoring"
	"cmdash/monitoring/charts"
)

// Three zones ending at the same value get labels that do not overlap and
// stay by the plot.
func TestChartLabelsDoNotOverlap(t *testing.T) {
	t.Parallel()
	to := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	var c charts.Chart
	c.Metric, c.From, c.To = monitoring.AlarmMetric{Name: "available"}, to.Add(-6*time.Hour), to
	for _, z := range []string{"mzdfw", "mziad", "mzord"} {
		c.Series = append(c.Series, monitoring.Series{Zone: z, Points: []monitoring.Point{{At: to.Add(-time.Hour), Value: 10}, {At: to, Value: 0}}})
	}
	d := drawChart(c, monitoring.Alarm{})
	if len(d.Lines) != 3 {
		t.Fatalf("%d lines", len(d.Lines))
	}
	for i := range d.Lines {
		for j := range i {
			if gap := math.Abs(d.Lines[i].LabelY - d.Lines[j].LabelY); gap < labelGap {
				t.Errorf("labels of %s and %s are %.1f apart", d.Lines[i].Zone, d.Lines[j].Zone, gap)
			}
		}
		if y := d.Lines[i].LabelY; y > plotY1+6 || y < plotY0 {
			t.Errorf("label of %s at %.1f, off the plot", d.Lines[i].Zone, y)
		}
		if d.Lines[i].Label != d.Lines[i].Zone[2:] {
			t.Errorf("zone %s labelled %q", d.Lines[i].Zone, d.Lines[i].Label)
		}
	}
	for _, tk := range d.YTicks {
		if tk.Label == "-0" {
			t.Error("a tick reads -0")
		}
	}
}

func TestShortValue(t *testing.T) {
	t.Parallel()
	for v, want := range map[float64]string{604800: "605k", 2592000: "2.59M", 3e7: "30M", 9999: "9999", 12345: "12.3k",
		999_999: "1M", -25_000: "-25k", 4.2e12: "4200G", 98.54: "98.5", 851.9: "852"} {
		if got := shortValue(v); got != want {
			t.Errorf("shortValue(%v) = %q, want %q", v, got, want)
		}
	}
}

func TestFormatValue(t *testing.T) {
	t.Parallel()
	for v, want := range map[float64]string{98.54: "98.5", 4.213: "4.21", 0.03125: "0.0312", 2592000: "2592000", 200: "200", 0: "0"} {
		if got := formatValue(v); got != want {
			t.Errorf("formatValue(%v) = %q, want %q", v, got, want)
		}
	}
}
