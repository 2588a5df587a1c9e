package monitoring

import (
	"regexp"
	"strconv"
	"strings"
)

// Threshold is a number an alarm's criteria compare its metric with, and
// the state the comparison returns: "if (metric['used_pct'] > 90) { return
// new AlarmStatus(CRITICAL…" is {CRITICAL, ">", 90}.
type Threshold struct {
	State State   `json:"state"`
	Op    string  `json:"op"`
	Value float64 `json:"value"`
}

// AlarmMetric is what an alarm's criteria test: the metric a chart of the
// alarm shows, and the thresholds they compare it with (none when they
// compare it otherwise, with a regex or another metric).
type AlarmMetric struct {
	Name       string      `json:"name"`
	Thresholds []Threshold `json:"thresholds,omitempty"`
}

var (
	// criteriaBlock is one "if (condition) { return new AlarmStatus(STATE":
	// the condition may hold parentheses of its own (rate(…)), so it ends
	// at the first ") {".
	criteriaBlock = regexp.MustCompile(`(?s)if\s*\((.*?)\)\s*\{\s*return\s+new\s+AlarmStatus\(\s*(CRITICAL|WARNING|OK)\b`)
	// metricRef is metric['name'] or metric["name"].
	metricRef = regexp.MustCompile(`metric\[\s*['"]([^'"\]]+)['"]\s*\]`)
	// comparison is metric['name'] compared with a number.
	comparison = regexp.MustCompile(`metric\[\s*['"]([^'"\]]+)['"]\s*\]\s*(>=|<=|==|!=|>|<)\s*(-?[0-9]+(?:\.[0-9]+)?)`)
)

// CriteriaMetric reads an alarm's criteria (Rackspace's alarm language)
// for the metric a chart of an alarm in state should show: the one the
// condition returning that state tests, else the first the criteria name;
// with the numbers any condition compares that metric with. ok is false
// when the criteria name no metric.
func CriteriaMetric(criteria string, state State) (m AlarmMetric, ok bool) {
	if !strings.Contains(criteria, "metric[") {
		return m, false
	}
	for _, b := range criteriaBlock.FindAllStringSubmatch(criteria, -1) {
		if State(b[2]) == state {
			if ref := metricRef.FindStringSubmatch(b[1]); ref != nil {
				m.Name = ref[1]
				break
			}
		}
	}
	if m.Name == "" {
		ref := metricRef.FindStringSubmatch(criteria)
		if ref == nil {
			return m, false
		}
		m.Name = ref[1]
	}
	for _, b := range criteriaBlock.FindAllStringSubmatch(criteria, -1) {
		for _, c := range comparison.FindAllStringSubmatch(b[1], -1) {
			if c[1] != m.Name {
				continue
			}
			if v, err := strconv.ParseFloat(c[3], 64); err == nil {
				m.Thresholds = append(m.Thresholds, Threshold{State: State(b[2]), Op: c[2], Value: v})
			}
		}
	}
	return m, true
}
