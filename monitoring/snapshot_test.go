package monitoring_test

import (
	"testing"

	"cmdash/monitoring"
)

func TestTallyFollowsTheCountingRule(t *testing.T) {
	t.Parallel()
	s := monitoring.Server{Alarms: []monitoring.Alarm{
		{State: monitoring.StateOK, Evaluated: true},
		{State: monitoring.StateWarning, Evaluated: true},
		{State: monitoring.StateUnknown},                      // not evaluated yet: counted as unknown
		{State: monitoring.StateCritical, Disabled: true},     // notifies nobody: listed, not counted
		{State: monitoring.StateCritical, Orphan: true},       // its alarm is gone: listed, not counted
		{State: monitoring.State("PENDING"), Evaluated: true}, // anything else is unknown
	}}
	s.Counts = monitoring.Counts{OK: 99} // Tally starts over
	s.Tally()
	want := monitoring.Counts{OK: 1, Warning: 1, Unknown: 2, Total: 4, Excluded: 2}
	if s.Counts != want {
		t.Errorf("counts = %+v, want %+v", s.Counts, want)
	}
	if s.Worst != monitoring.StateWarning {
		t.Errorf("worst = %s, want WARNING (disabled and orphan CRITICALs do not count)", s.Worst)
	}

	empty := monitoring.Server{Alarms: []monitoring.Alarm{{State: monitoring.StateCritical, Disabled: true}}}
	empty.Tally()
	if empty.Worst != monitoring.StateOK || empty.Counts.Total != 0 {
		t.Errorf("a server with nothing counted = %s %+v, want OK with 0 counted", empty.Worst, empty.Counts)
	}
}

func TestControlPanelURLNeedsACloudServer(t *testing.T) {
	t.Parallel()
	s := monitoring.Server{Region: "DFW", TenantID: "123456", ServerUUID: "1b62e690-7745-4bbf-9ee8-7fcd361db227"}
	want := "https://mycloud.rackspace.com/cloud/123456/servers#compute%2CcloudServersOpenStack%2CDFW/1b62e690-7745-4bbf-9ee8-7fcd361db227"
	if got := s.ControlPanelURL(); got != want {
		t.Errorf("ControlPanelURL = %q, want %q", got, want)
	}
	if got := (monitoring.Server{URI: "http://ffo.com/uri/bar/12312"}).ControlPanelURL(); got != "" {
		t.Errorf("a non-server entity links to %q", got)
	}
}
