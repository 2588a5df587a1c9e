package fakerax

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Metrics, as Rackspace keeps them (upstream-api-more.md §4):
//
//	GET /entities/{e}/checks/{c}/metrics                      the check's metric names
//	GET /entities/{e}/checks/{c}/metrics/{metric}/plot        data points
//
// A plot needs from and to (ms) and exactly one of points=N or
// resolution=FULL|MIN5|MIN20|MIN60|MIN240|MIN1440; it answers at most 1,440
// points, and only what each resolution keeps (FULL 2 days, MIN5 10 days…).
// Remote checks report one series per monitoring zone, named
// "mzdfw.duration"; agent checks one, unprefixed.
//
// The values follow the check's alarm: in each state the metric lies in
// that state's band (metricBand), so a CRITICAL disk alarm's series
// crosses its threshold when the state began, and its latest value is the
// one its status words. A check whose alarm has not been evaluated, or a
// disabled check, has no data.

// resolutions are the plot resolutions, finest first, with their step and
// how long Rackspace keeps them.
var resolutions = []struct {
	name      string
	step      time.Duration // 0: the check's period
	retention time.Duration
	minPoints int // over a day: the points= from which it is chosen
}{
	{"FULL", 0, 2 * 24 * time.Hour, 3168},
	{"MIN5", 5 * time.Minute, 10 * 24 * time.Hour, 360},
	{"MIN20", 20 * time.Minute, 20 * 24 * time.Hour, 96},
	{"MIN60", time.Hour, 155 * 24 * time.Hour, 30},
	{"MIN240", 4 * time.Hour, 300 * 24 * time.Hour, 7},
	{"MIN1440", 24 * time.Hour, 5 * 365 * 24 * time.Hour, 0},
}

// maxPlotPoints is the most points one plot answers.
const maxPlotPoints = 1440

// metricRoute splits "entities/{e}/checks/{c}/metrics[/{metric}/plot]".
func metricRoute(sub string) (entity, check, metric string, plot, ok bool) {
	parts := strings.Split(sub, "/")
	switch {
	case len(parts) == 5 && parts[0] == "entities" && parts[2] == "checks" && parts[4] == "metrics":
		return parts[1], parts[3], "", false, true
	case len(parts) == 7 && parts[0] == "entities" && parts[2] == "checks" && parts[4] == "metrics" && parts[6] == "plot":
		m, err := url.PathUnescape(parts[5])
		return parts[1], parts[3], m, true, err == nil
	}
	return "", "", "", false, false
}

// checkAt finds an entity's check and the alarm on it.
func (a *account) checkAt(entityID, checkID string) (*entity, int, *alarm) {
	i, ok := a.byID[entityID]
	if !ok {
		return nil, -1, nil
	}
	e := a.entities[i]
	for j := range e.checks {
		if e.checks[j].id != checkID {
			continue
		}
		for k := range e.alarms {
			if e.alarms[k].check == j {
				return e, j, &e.alarms[k]
			}
		}
		return e, j, nil
	}
	return e, -1, nil
}

// metricNames are the series a check reports: per zone for remote checks.
func metricNames(c check) []struct{ name, unit string } {
	var out []struct{ name, unit string }
	for _, b := range c.kind.metrics {
		if len(c.zones) == 0 {
			out = append(out, struct{ name, unit string }{b.name, b.unit})
			continue
		}
		for _, z := range c.zones {
			out = append(out, struct{ name, unit string }{z + "." + b.name, b.unit})
		}
	}
	return out
}

func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request, m *monReq) {
	if !s.allow(w, r, http.MethodGet, http.MethodHead) || s.injectFault(w, m) {
		return
	}
	entityID, checkID, metric, plot, _ := metricRoute(m.sub)
	e, j, al := m.a.checkAt(entityID, checkID)
	if e == nil || j < 0 {
		s.writeMonitoringFault(w, http.StatusNotFound, "notFoundError", 404, "Object does not exist",
			fmt.Sprintf("Object \"Check\" with key \"%s:%s\" does not exist", entityID, checkID))
		return
	}
	c := e.checks[j]
	names := metricNames(c)
	if !plot {
		type wireMetric struct {
			Name string `json:"name"`
			Unit string `json:"unit"`
			Type string `json:"type"`
		}
		out := struct {
			Values   []wireMetric `json:"values"`
			Metadata listMetadata `json:"metadata"`
		}{Values: []wireMetric{}}
		for _, n := range names {
			out.Values = append(out.Values, wireMetric{n.name, n.unit, "D"})
		}
		out.Metadata.Count, out.Metadata.Limit = len(out.Values), defaultLimit
		writeJSONBody(w, m.f, mustJSON(out))
		return
	}
	var band *metricBand
	zone := ""
	for _, b := range c.kind.metrics {
		if metric == b.name && len(c.zones) == 0 {
			band = &b
		}
		for _, z := range c.zones {
			if metric == z+"."+b.name {
				band, zone = &b, z
			}
		}
	}
	if band == nil {
		s.writeMonitoringFault(w, http.StatusNotFound, "notFoundError", 404, "Object does not exist",
			fmt.Sprintf("Object \"Metric\" with key \"%s:%s:%s\" does not exist", entityID, checkID, metric))
		return
	}
	from, to, step, keep, msg := plotParams(r.URL.Query(), time.Duration(e.wc[j].Period)*time.Second)
	if msg != "" {
		s.writeMonitoringFault(w, http.StatusBadRequest, "badRequest", 400, "Validation error", msg)
		return
	}
	type point struct {
		NumPoints int     `json:"numPoints"`
		Average   float64 `json:"average"`
		Timestamp int64   `json:"timestamp"`
	}
	out := struct {
		Values   []point      `json:"values"`
		Metadata listMetadata `json:"metadata"`
	}{Values: []point{}}
	period := time.Duration(e.wc[j].Period) * time.Second
	if al != nil && !al.unevaluated && !al.checkDisabled {
		lo, hi := max(from, m.now.Add(-keep).UnixMilli()), min(to, m.now.UnixMilli()+1)
		stepMS := step.Milliseconds()
		n := max(int(step/period), 1)
		var times []int64
		for t := (lo + stepMS - 1) / stepMS * stepMS; t < hi; t += stepMS {
			times = append(times, t)
		}
		if n == 1 {
			// At full resolution the alarm's state changes are observations
			// too: a state begins when a check's result says so.
			times = append(times, s.changesOf(m.a, al, lo, hi)...)
			slices.Sort(times)
			times = slices.Compact(times)
		}
		for _, t := range times {
			// A rollup averages the observations in its step (a few of them).
			samples := min(n, 8)
			sum := 0.0
			for k := range samples {
				sum += s.metricValue(m.a, e, al, *band, zone, t+int64(k)*stepMS/int64(samples))
			}
			out.Values = append(out.Values, point{NumPoints: n, Average: round3(sum / float64(samples)), Timestamp: t})
		}
	}
	out.Metadata.Count = len(out.Values)
	writeJSONBody(w, m.f, mustJSON(out))
}

// plotParams reads from, to and points or resolution as Rackspace does;
// msg says what is wrong. step is the resolution's, keep how far back it
// reaches.
func plotParams(q url.Values, period time.Duration) (from, to int64, step, keep time.Duration, msg string) {
	var err error
	if from, err = strconv.ParseInt(q.Get("from"), 10, 64); err != nil {
		return 0, 0, 0, 0, "'from' is required: a time in milliseconds since the epoch"
	}
	if to, err = strconv.ParseInt(q.Get("to"), 10, 64); err != nil {
		return 0, 0, 0, 0, "'to' is required: a time in milliseconds since the epoch"
	}
	if to <= from {
		return 0, 0, 0, 0, "'to' must be after 'from'"
	}
	points, resolution := q.Get("points"), q.Get("resolution")
	if (points == "") == (resolution == "") {
		return 0, 0, 0, 0, "Exactly one of 'points' or 'resolution' is required"
	}
	span := time.Duration(to-from) * time.Millisecond
	pick := -1
	if resolution != "" {
		for i, res := range resolutions {
			if res.name == resolution {
				pick = i
			}
		}
		if pick < 0 {
			return 0, 0, 0, 0, "'resolution' must be one of FULL, MIN5, MIN20, MIN60, MIN240, MIN1440"
		}
	} else {
		n, err := strconv.Atoi(points)
		if err != nil || n < 0 {
			return 0, 0, 0, 0, "'points' must be a whole number"
		}
		if n > maxPlotPoints {
			return 0, 0, 0, 0, fmt.Sprintf("'points' must be at most %d", maxPlotPoints)
		}
		// The documented table is for a day; a longer range needs more
		// points for the same resolution.
		days := span.Hours() / 24
		for i, res := range resolutions {
			if float64(n) >= float64(res.minPoints)*days {
				pick = i
				break
			}
		}
	}
	res := resolutions[pick]
	step = res.step
	if step == 0 {
		step = max(period, 30*time.Second)
	}
	if span/step > maxPlotPoints {
		return 0, 0, 0, 0, fmt.Sprintf("The range holds more than %d points at %s: split it or ask for a coarser resolution", maxPlotPoints, res.name)
	}
	return from, to, step, res.retention, ""
}

// metricValue is the metric's value at t (ms): in the band of the alarm's
// state then, at the level that state began with, give or take a little.
func (s *Server) metricValue(a *account, e *entity, al *alarm, b metricBand, zone string, t int64) float64 {
	state, x := s.stateLevelAt(a, e, al, t)
	jitter := unit(mix64(al.key ^ hashStrings(s.cfg.Seed, zone) ^ uint64(t/1000)*golden))
	x = min(max(x+(jitter-0.5)*0.04, 0), 0.999)
	return b.value(state, x)
}

// stateLevelAt is the alarm's state at t (ms) and the level it began with,
// SetState's forced states included.
func (s *Server) stateLevelAt(a *account, e *entity, al *alarm, t int64) (string, float64) {
	s.mu.Lock()
	log := a.forcedLog
	s.mu.Unlock()
	for i := len(log) - 1; i >= 0; i-- {
		ev := log[i]
		if ev.al != al || ev.at > t {
			continue
		}
		if ev.clear {
			break
		}
		if ev.entry != nil {
			return ev.entry.state, 0.5
		}
	}
	st, x := stateAt(al, time.UnixMilli(t), s.cfg.ChangeEvery, a.warn, a.crit)
	if !al.changes(s.cfg.ChangeEvery, a.warn, a.crit) && t < al.fixedTS {
		return st.previous, unit(mix64(al.key ^ 0x5bd1e995))
	}
	return st.state, x
}

// changesOf are the moments in [lo, hi) (ms) the alarm's state changed:
// its generated periods' boundaries where the state differs, its frozen
// state's start, and the states SetState forced.
func (s *Server) changesOf(a *account, al *alarm, lo, hi int64) []int64 {
	var out []int64
	if al.changes(s.cfg.ChangeEvery, a.warn, a.crit) {
		p, off := al.periods(s.cfg.ChangeEvery)
		for b := floorDiv(lo+off, p) + 1; b*p-off < hi; b++ {
			prev, _ := al.periodState(b-1, a.warn, a.crit)
			cur, _ := al.periodState(b, a.warn, a.crit)
			if prev != cur {
				out = append(out, b*p-off)
			}
		}
	} else if al.fixedTS >= lo && al.fixedTS < hi {
		out = append(out, al.fixedTS)
	}
	s.mu.Lock()
	for _, ev := range a.forcedLog {
		if ev.al == al && ev.at >= lo && ev.at < hi {
			out = append(out, ev.at)
		}
	}
	s.mu.Unlock()
	return out
}

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }
