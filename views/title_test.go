package views

import (
	"testing"

	"cmdash/monitoring/wall"
)

func TestTitleCountsCountStaleServersApart(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		s    wall.Summary
		want string
	}{
		{"a stale account's CRITICAL servers are not counted as CRITICAL",
			wall.Summary{FailingAccounts: 1,
				Servers: wall.ServerCounts{Critical: 10, OK: 5, Total: 15},
				Stale:   wall.ServerCounts{Critical: 8, Total: 8}},
			"2 CRIT · 8 STALE · 1 FAILING · "},
		{"acknowledged ones of a stale account are not counted either",
			wall.Summary{Servers: wall.ServerCounts{Critical: 3, Total: 3, AckedCritical: 2},
				Stale: wall.ServerCounts{Critical: 1, Total: 1, AckedCritical: 1}},
			"2 CRIT (1 acked) · 1 STALE · "},
		{"calm fresh data beside stale data is not all OK",
			wall.Summary{Servers: wall.ServerCounts{OK: 9, Total: 9}, Stale: wall.ServerCounts{OK: 4, Total: 4}},
			"4 STALE · "},
		{"calm fresh data alone is all OK",
			wall.Summary{Servers: wall.ServerCounts{OK: 9, Total: 9}},
			"All OK · "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := TitleCounts(tt.s); got != tt.want {
				t.Errorf("%q, want %q", got, tt.want)
			}
		})
	}
}
