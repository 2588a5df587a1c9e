package monitoring_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"cmdash/monitoring"
)

func TestAnErrorThatDoesNotDescribeItselfStaysOffThePage(t *testing.T) {
	t.Parallel()
	internal := fmt.Errorf("credentials of ops: %w", errors.New("sqlite: database disk image is malformed (11) at /var/lib/dashboard/dashboard.db"))
	got := monitoring.Describe(internal)
	if strings.Contains(got, "sqlite") || strings.Contains(got, "/var/lib") || strings.Contains(got, "ops") {
		t.Errorf("Describe shows the internal text: %q", got)
	}
	if !strings.Contains(got, "server log") {
		t.Errorf("Describe = %q, want it to point at the server log", got)
	}
	if k := monitoring.ErrorKind(internal); k != monitoring.KindOther {
		t.Errorf("kind = %q, want %q", k, monitoring.KindOther)
	}
	if d := monitoring.RetryAfter(internal); d != 0 {
		t.Errorf("retry after %s, want 0", d)
	}
	if got := monitoring.Describe(nil); got != "" {
		t.Errorf("Describe(nil) = %q", got)
	}
}
