package views

import (
	"cmp"
	"slices"
	"strings"

	"cmdash/monitoring"
)

// SortAlarms puts a server's alarms in the order its page lists them: the
// counted ones first, worst first (CRITICAL, WARNING, UNKNOWN, OK), then
// those left out of the counts (disabled or orphan) in the same order;
// alarms of one state by label, case aside, then by id, so the order never
// depends on the upstream's.
func SortAlarms(alarms []monitoring.Alarm) {
	slices.SortFunc(alarms, compareAlarms)
}

func compareAlarms(a, b monitoring.Alarm) int {
	if a.Counted() != b.Counted() {
		if a.Counted() {
			return -1
		}
		return 1
	}
	if c := cmp.Compare(stateRank(a.State), stateRank(b.State)); c != 0 {
		return c
	}
	if c := strings.Compare(strings.ToLower(a.Label), strings.ToLower(b.Label)); c != 0 {
		return c
	}
	return strings.Compare(a.ID, b.ID)
}

// stateRank orders states worst first; anything but the three known
// states is UNKNOWN, as everywhere else.
func stateRank(s monitoring.State) int {
	switch s {
	case monitoring.StateCritical:
		return 0
	case monitoring.StateWarning:
		return 1
	case monitoring.StateOK:
		return 3
	}
	return 2
}
