package monitoring

import (
	"fmt"
	"time"
)

// ChartRange is how far back a chart of an alarm's metric looks, and the
// resolution Rackspace is asked for: each answers a few hundred points,
// well under its cap of 1,440.
type ChartRange struct {
	Name       string // as the page and its address say it: "6h"
	Span       time.Duration
	Resolution string // FULL, MIN5…
}

// ChartRanges are the ranges a chart offers, the default first.
var ChartRanges = []ChartRange{
	{"6h", 6 * time.Hour, "FULL"},
	{"24h", 24 * time.Hour, "MIN5"},
	{"7d", 7 * 24 * time.Hour, "MIN60"},
}

// ParseChartRange reads a range's name; "" is the default.
func ParseChartRange(s string) (ChartRange, error) {
	if s == "" {
		return ChartRanges[0], nil
	}
	for _, r := range ChartRanges {
		if r.Name == s {
			return r, nil
		}
	}
	return ChartRange{}, fmt.Errorf("%q is not a chart range: 6h, 24h or 7d", s)
}

// Point is one data point of a metric: an average over its resolution.
type Point struct {
	At    time.Time
	Value float64
}

// Series is a metric's points from one monitoring zone ("" for an agent
// check, which has one series), oldest first.
type Series struct {
	Zone   string
	Points []Point
}

// PlotQuery asks for a check's metric over [From, To): each zone's series
// when Remote (the metric names then carry a zone prefix: mzdfw.duration).
type PlotQuery struct {
	EntityID, CheckID, Metric string
	Remote                    bool
	From, To                  time.Time
	Resolution                string
}

// PlotResult is what a plot read brought: the series, and what it cost.
type PlotResult struct {
	Series    []Series
	Requests  int   // Monitoring requests made, each zone's and the metric list counted
	Token     Token // the token used: the cached one, or a new login's
	LoggedIn  bool
	RateLimit RateLimit // the budget the last answer stated (not Known when none did)
}
