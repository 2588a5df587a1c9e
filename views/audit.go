package views

import "cmdash/monitoring"

// AuditLog is the audit log page: its filters as asked, and the newest
// entries they select.
type AuditLog struct {
	// Actor, Kind and Since are the filters as asked (a user's name, an
	// AuditKind's name, one of Spans' values).
	Actor, Kind, Since string
	// Spans are the choices of Since, the shortest first.
	Spans []AuditSpan
	// Message says why the filters were refused; Rows is then empty.
	Message string
	Rows    []monitoring.AuditEntry
	// Shown is how many entries the page shows at most; More says that
	// older ones match too.
	Shown int
	More  bool
}

// AuditSpan is one choice of how far back the audit page looks.
type AuditSpan struct{ Value, Label string }

// Filtered reports whether any filter is set.
func (a AuditLog) Filtered() bool { return a.Actor != "" || a.Kind != "" || a.Since != "" }
