package rackspace

import (
	"encoding/json"
	"sync"

	"cmdash/monitoring"
)

// Criteria is an alarm's criteria as the reduction needs them: what a
// chart of the alarm shows in each state (monitoring.CriteriaMetric). An
// account's alarms share a few criteria texts, so each text is read once
// and what it says is shared: an overview of thousands of alarms costs a
// map lookup per alarm, not a parse nor a copy of the text.
type Criteria struct{ parsed *parsedCriteria }

// parsedCriteria is what one criteria text says, per state. Shared between
// alarms and snapshots: never changed once made.
type parsedCriteria struct {
	byState map[monitoring.State]*monitoring.AlarmMetric
}

// criteriaCache maps criteria texts, as they are on the wire (quoted and
// escaped), to what they say. It stops growing at criteriaCacheMax texts:
// the rest are read each time they are seen.
var criteriaCache = struct {
	sync.Mutex
	m map[string]*parsedCriteria
}{m: map[string]*parsedCriteria{}}

const criteriaCacheMax = 4096

// UnmarshalJSON implements json.Unmarshaler: a string, or null or anything
// else for none.
func (c *Criteria) UnmarshalJSON(data []byte) error {
	c.parsed = nil
	if len(data) == 0 || data[0] != '"' {
		return nil
	}
	criteriaCache.Lock()
	p, ok := criteriaCache.m[string(data)] // no copy for the lookup
	criteriaCache.Unlock()
	if ok {
		c.parsed = p
		return nil
	}
	var text string
	if json.Unmarshal(data, &text) != nil {
		return nil
	}
	p = &parsedCriteria{byState: map[monitoring.State]*monitoring.AlarmMetric{}}
	for _, st := range []monitoring.State{monitoring.StateOK, monitoring.StateWarning, monitoring.StateCritical, monitoring.StateUnknown} {
		if m, ok := monitoring.CriteriaMetric(text, st); ok {
			p.byState[st] = &m
		}
	}
	criteriaCache.Lock()
	if len(criteriaCache.m) < criteriaCacheMax {
		criteriaCache.m[string(data)] = p
	}
	criteriaCache.Unlock()
	c.parsed = p
	return nil
}

// metricFor is what a chart of an alarm in state shows; nil when the
// criteria name no metric.
func (c Criteria) metricFor(state monitoring.State) *monitoring.AlarmMetric {
	if c.parsed == nil {
		return nil
	}
	return c.parsed.byState[state]
}
