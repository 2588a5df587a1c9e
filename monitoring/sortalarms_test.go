package monitoring_test

import (
	"slices"
	"testing"

	"cmdash/monitoring"
)

func TestSortAlarms(t *testing.T) {
	t.Parallel()
	const (
		ok   = monitoring.StateOK
		warn = monitoring.StateWarning
		crit = monitoring.StateCritical
		unkn = monitoring.StateUnknown
	)
	al := func(id, label string, s monitoring.State) monitoring.Alarm {
		return monitoring.Alarm{ID: id, Label: label, State: s, Evaluated: s != unkn}
	}
	disabled := func(a monitoring.Alarm) monitoring.Alarm { a.Disabled = true; return a }
	orphan := func(a monitoring.Alarm) monitoring.Alarm { a.Orphan = true; return a }
	tests := []struct {
		name   string
		alarms []monitoring.Alarm
		want   []string // ids in order
	}{
		{"states go worst first: critical, warning, unknown, ok",
			[]monitoring.Alarm{al("a", "A", ok), al("b", "B", unkn), al("c", "C", crit), al("d", "D", warn)},
			[]string{"c", "d", "b", "a"}},
		{"alarms of one state go by label, whatever the case",
			[]monitoring.Alarm{al("1", "memory", ok), al("2", "CPU", ok), al("3", "Disk", ok)},
			[]string{"2", "3", "1"}},
		{"equal labels go by id",
			[]monitoring.Alarm{al("enB", "ping", warn), al("enA", "Ping", warn)},
			[]string{"enA", "enB"}},
		{"disabled and orphan alarms go after every counted one, even a critical",
			[]monitoring.Alarm{disabled(al("x", "A", crit)), al("y", "Z", ok), orphan(al("z", "B", warn)), al("w", "Y", unkn)},
			[]string{"w", "y", "x", "z"}},
		{"uncounted alarms among themselves go worst first, then by label",
			[]monitoring.Alarm{disabled(al("p", "b", ok)), orphan(al("q", "a", ok)), disabled(al("r", "c", crit))},
			[]string{"r", "q", "p"}},
		{"a state the dashboard does not know ranks as unknown",
			[]monitoring.Alarm{al("o", "o", ok), {ID: "s", Label: "s", State: "PENDING"}, al("w", "w", warn)},
			[]string{"w", "s", "o"}},
		{"no alarms stay no alarms", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			alarms := slices.Clone(tt.alarms)
			monitoring.SortAlarms(alarms)
			var got []string
			for _, a := range alarms {
				got = append(got, a.ID)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("order %v, want %v", got, tt.want)
			}
			// Any starting order gives the same result.
			slices.Reverse(alarms)
			monitoring.SortAlarms(alarms)
			for i, a := range alarms {
				if a.ID != tt.want[i] {
					t.Fatalf("from the reversed order: %s at %d, want %s", a.ID, i, tt.want[i])
				}
			}
		})
	}
}

func TestProblemsAndAlarmsOrderLabelsNaturally(t *testing.T) {
	t.Parallel()
	al := func(id, label string) monitoring.Alarm {
		return monitoring.Alarm{ID: id, Label: label, State: monitoring.StateWarning, Evaluated: true}
	}
	alarms := []monitoring.Alarm{al("a", "disk 10"), al("b", "Disk 9"), al("c", "disk 1")}
	want := []string{"c", "b", "a"}
	ids := func(as []monitoring.Alarm) (out []string) {
		for _, a := range as {
			out = append(out, a.ID)
		}
		return out
	}
	sorted := slices.Clone(alarms)
	monitoring.SortAlarms(sorted)
	if got := ids(sorted); !slices.Equal(got, want) {
		t.Errorf("SortAlarms: %v, want %v", got, want)
	}
	sorted = slices.Clone(alarms)
	slices.SortFunc(sorted, monitoring.ProblemOrder)
	if got := ids(sorted); !slices.Equal(got, want) {
		t.Errorf("ProblemOrder: %v, want %v", got, want)
	}
}
