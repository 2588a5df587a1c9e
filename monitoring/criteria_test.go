package monitoring

import (
	"reflect"
	"testing"
)

func TestCriteriaMetric(t *testing.T) {
	t.Parallel()
	disk := "if (metric['used_pct'] > 90) {\n  return new AlarmStatus(CRITICAL, 'Disk usage on / is #{used_pct}%, above threshold 90%');\n}\n\n" +
		"if (metric['used_pct'] > 80) {\n  return new AlarmStatus(WARNING, 'Disk usage…');\n}\n\nreturn new AlarmStatus(OK, 'fine');\n"
	http := "if (metric['code'] regex '4[0-9][0-9]') {\n  return new AlarmStatus(CRITICAL, 'HTTP 4xx');\n}\n\n" +
		"if (metric['duration'] > 2000) {\n  return new AlarmStatus(WARNING, 'slow');\n}\n\nreturn new AlarmStatus(OK, 'ok');\n"
	ping := `if (rate(metric["available"]) < 80.5 && metric["average"] >= 0.2) { return new AlarmStatus(CRITICAL); } return new AlarmStatus(OK);`
	tests := []struct {
		name     string
		criteria string
		state    State
		want     AlarmMetric
		ok       bool
	}{
		{"a threshold alarm: both thresholds", disk, StateCritical,
			AlarmMetric{"used_pct", []Threshold{{StateCritical, ">", 90}, {StateWarning, ">", 80}}}, true},
		{"the metric of the condition returning the state", http, StateCritical, AlarmMetric{Name: "code"}, true},
		{"a warning's metric and its threshold", http, StateWarning, AlarmMetric{"duration", []Threshold{{StateWarning, ">", 2000}}}, true},
		{"OK: the first metric named", http, StateOK, AlarmMetric{Name: "code"}, true},
		// rate(metric) < 80.5 bounds the rate, not the metric: drawn on the
		// metric's line it would mislead.
		{"double quotes; a function of the metric is no threshold of it", ping, StateCritical, AlarmMetric{Name: "available"}, true},
		{"another metric's threshold is not this one's", `if (metric['a'] > 1 && metric['b'] < 2.5) { return new AlarmStatus(WARNING); }`, StateWarning,
			AlarmMetric{"a", []Threshold{{StateWarning, ">", 1}}}, true},
		{"criteria that name no metric", "return new AlarmStatus(OK);", StateOK, AlarmMetric{}, false},
		{"no criteria", "", StateCritical, AlarmMetric{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := CriteriaMetric(tt.criteria, tt.state)
			if ok != tt.ok || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("CriteriaMetric = %+v, %v; want %+v, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}
