package monitoring

import "time"

// EventKind says what changed.
type EventKind string

// The kinds of change.
const (
	// EventState: an alarm's counted state changed (From → To).
	EventState EventKind = "state"
	// EventAlarmAdded, EventAlarmRemoved: an alarm appeared on a server
	// that was there before, or went from one that is still there.
	EventAlarmAdded   EventKind = "alarm_added"
	EventAlarmRemoved EventKind = "alarm_removed"
	// EventServerAdded, EventServerRemoved: a server appeared or went,
	// with its alarms (one event, not one per alarm).
	EventServerAdded   EventKind = "server_added"
	EventServerRemoved EventKind = "server_removed"
	// EventDisabled, EventEnabled: an alarm (or its check) was disabled,
	// so it stopped counting, or enabled again.
	EventDisabled EventKind = "disabled"
	EventEnabled  EventKind = "enabled"
)

// Event is one recorded change.
//
// From and To are what the tile counted before and after: an alarm's
// state, or for a server its worst counted state; empty when it counted
// nothing (the alarm or server was absent, or the alarm disabled). An
// alarm that had not been evaluated counted as UNKNOWN.
type Event struct {
	ID        int64
	AccountID int64
	// At is when the change happened: for a state change the upstream's
	// timestamp of the new state (never later than the poll), otherwise
	// the time of the poll that saw it.
	At time.Time
	// RecordedAt is when the poll that saw the change was stored, read
	// from the clock inside the write transaction: one writer at a time,
	// so it does not decrease from one event to the next by ID (unless
	// the clock is set back). It is the time to page forward by.
	RecordedAt  time.Time
	Kind        EventKind
	ServerID    string
	ServerLabel string
	AlarmID     string // empty for server events
	AlarmLabel  string
	From, To    State
	Status      string // the upstream's status text of the new state, when there is one
	// FromChangelog: Rackspace's alarm changelog told of it, not the
	// comparison of two polls (a change between polls, or while the
	// dashboard was away).
	FromChangelog bool
}

// Flap is an alarm that changed state often lately: Changes times within
// the span asked about.
type Flap struct {
	AccountID  int64
	ServerID   string
	AlarmID    string
	AlarmLabel string
	Changes    int
}

// Retention bounds the history: events older than MaxAge go, and the
// oldest beyond the newest MaxRows. A zero (or negative) bound keeps
// nothing: no history is recorded at all.
type Retention struct {
	MaxAge  time.Duration
	MaxRows int
}

// DefaultRetention keeps 30 days and at most 200,000 events. A month is
// what one looks back over for "when did this start flapping"; 200,000
// rows of some 210 bytes with their indexes are about 42 MB, a fraction of
// a small machine's disk, and hold a month at 6,600 changes a day (the
// demo's fake, at 87,000 a day, churns far faster than real alarms; with
// it the row bound, not the age, is what prunes).
var DefaultRetention = Retention{MaxAge: 30 * 24 * time.Hour, MaxRows: 200_000}

// Off reports whether r keeps no history.
func (r Retention) Off() bool { return r.MaxAge <= 0 || r.MaxRows <= 0 }

// Limits of one Events answer.
const (
	DefaultEventLimit = 100
	MaxEventLimit     = 1000
)

// EventQuery selects events; zero fields select everything.
type EventQuery struct {
	AccountID int64
	ServerID  string
	AlarmID   string
	Since     time.Time // recorded after this (exclusive)
	Before    time.Time // recorded before this (exclusive)
	// Limit is how many events at most: DefaultEventLimit when zero,
	// MaxEventLimit at most (see Events for the one exception).
	Limit int
	// Oldest orders the answer oldest first (to page forward with Since);
	// by default it is newest first (to page back with Before).
	Oldest bool
}

// Resolves reports whether the event ended a problem: an alarm's counted
// state went back to OK from another state.
func (e *Event) Resolves() bool {
	return e.Kind == EventState && e.To == StateOK && e.From != "" && e.From != StateOK
}
