package views

import (
	"testing"
	"time"
)

// A number and its unit are joined by a no-break space, so that "19 s ago"
// or "(0 %)" never breaks between the number and its unit.
func TestUnitsStayWithTheirNumbers(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct{ got, want string }{
		{Ago(now, now.Add(-19*time.Second)), "19\u00a0s ago"},
		{Ago(now, now.Add(-5*time.Minute)), "5\u00a0min ago"},
		{Ago(now, now.Add(-3*time.Hour)), "3\u00a0h ago"},
		{Ago(now, now.Add(-72*time.Hour)), "3\u00a0days ago"},
		{Ago(now, time.Time{}), "never"},
		{percent(0), "0\u00a0%"},
		{percent(0.834), "83\u00a0%"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}
