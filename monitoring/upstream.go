package monitoring

import (
	"slices"
	"strings"
	"time"
)

// What Rackspace knows besides the overview: maintenance windows
// (suppressions), its own alarm history (changelogs), the request budget
// (limits) and who is told of what (notification plans). A poll reads each
// on its own schedule (see Reads), and the store keeps the last good answer
// of each kind beside the snapshot.

// ReadKind names one of the reads a poll makes besides the overview.
type ReadKind string

// The reads besides the overview.
const (
	ReadSuppressions ReadKind = "suppressions"
	ReadChangelogs   ReadKind = "changelogs"
	ReadLimits       ReadKind = "limits"
	ReadPlans        ReadKind = "notification_plans"
)

// ReadKinds lists them in the order a poll makes them.
var ReadKinds = []ReadKind{ReadSuppressions, ReadChangelogs, ReadLimits, ReadPlans}

// Reads says what a fetch reads besides the overview. The zero Reads reads
// nothing more.
type Reads struct {
	Suppressions bool
	Limits       bool
	Plans        bool
	// Changelogs reads the alarm changelogs from ChangelogsFrom up to the
	// fetch's own time.
	Changelogs     bool
	ChangelogsFrom time.Time
}

// Any reports whether r reads anything.
func (r Reads) Any() bool { return r.Suppressions || r.Limits || r.Plans || r.Changelogs }

// Extras is what a fetch read besides the overview. A read not asked for
// is not Done; one that failed is Done with Err, and the store keeps the
// last good answer of that kind.
type Extras struct {
	Suppressions Read[[]Suppression]
	Changelogs   Read[Changelog]
	Limits       Read[Limits]
	Plans        Read[[]NotificationPlan]
}

// Read is the outcome of one read.
type Read[T any] struct {
	Done  bool // asked for and attempted
	Value T    // when Err is nil
	Err   error
}

// Suppression is a Rackspace maintenance window: while it is active it
// mutes the notifications of what it names. The alarms still change state.
type Suppression struct {
	ID    string    `json:"id"`
	Label string    `json:"label,omitempty"`
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// What it names: entity IDs; "entityID:checkID"; "entityID:alarmID";
	// notification plan IDs.
	Entities          []string `json:"entities,omitempty"`
	Checks            []string `json:"checks,omitempty"`
	Alarms            []string `json:"alarms,omitempty"`
	NotificationPlans []string `json:"notification_plans,omitempty"`
}

// ActiveAt reports whether the window is open at t: start ≤ t < end.
func (s Suppression) ActiveAt(t time.Time) bool { return !t.Before(s.Start) && t.Before(s.End) }

// Names reports whether the window names alarm a of entity: the entity,
// the alarm's check, the alarm itself or its notification plan.
func (s Suppression) Names(entity string, a *Alarm) bool {
	if slices.Contains(s.Entities, entity) || slices.Contains(s.Alarms, entity+":"+a.ID) {
		return true
	}
	if a.CheckID != "" && slices.Contains(s.Checks, entity+":"+a.CheckID) {
		return true
	}
	return a.NotificationPlanID != "" && slices.Contains(s.NotificationPlans, a.NotificationPlanID)
}

// Title is how a window is named to a person: its label, else its ID.
func (s Suppression) Title() string {
	if l := strings.TrimSpace(s.Label); l != "" {
		return l
	}
	return "maintenance " + s.ID
}

// Changelog is a stretch of Rackspace's alarm history.
type Changelog struct {
	Entries []ChangelogEntry // oldest first
	// Through is the time the read covers up to: the next read starts there.
	Through time.Time
}

// ChangelogEntry is one alarm state change as Rackspace recorded it.
type ChangelogEntry struct {
	ID            string
	At            time.Time
	EntityID      string
	CheckID       string
	AlarmID       string
	State         State
	PreviousState State // "" when not given
	Status        string
}

// Limits is what GET /limits says: the request budget, and the resources.
type Limits struct {
	Rate      RateLimit      `json:"rate"` // the global budget
	Resources map[string]int `json:"resources,omitempty"`
}

// TechnicalContactsPlan is Rackspace's built-in notification plan: it
// e-mails the account's technical contacts on every state change, though
// its lists of notifications are empty.
const TechnicalContactsPlan = "npTechnicalContactsEmail"

// NotificationPlan says whom an alarm's state changes notify.
type NotificationPlan struct {
	ID       string   `json:"id"`
	Label    string   `json:"label,omitempty"`
	Critical []string `json:"critical,omitempty"` // notification IDs
	Warning  []string `json:"warning,omitempty"`
	OK       []string `json:"ok,omitempty"`
}

// NotifiesOnCritical reports whether a CRITICAL state tells anybody.
func (p NotificationPlan) NotifiesOnCritical() bool {
	return len(p.Critical) > 0 || p.ID == TechnicalContactsPlan
}

// Title is how a plan is named to a person.
func (p NotificationPlan) Title() string {
	if l := strings.TrimSpace(p.Label); l != "" {
		return l
	}
	return p.ID
}

// WindowFor is the maintenance window alarm a of entity is in at now: of
// the windows in sups active at now and naming it, the one that ends last;
// else, when the overview itself lists an active window on it
// (Alarm.Suppressions), that window as sups knows it, or by its ID alone
// (no label, no times) when sups does not. Nil when it is in none.
func WindowFor(sups []Suppression, entity string, a *Alarm, now time.Time) *Suppression {
	var best *Suppression
	for i := range sups {
		s := &sups[i]
		if s.ActiveAt(now) && s.Names(entity, a) && (best == nil || s.End.After(best.End)) {
			best = s
		}
	}
	if best != nil || len(a.Suppressions) == 0 {
		return best
	}
	// Windows the list knows are judged by their own times (the overview
	// may be older than their end); one it does not know is taken at the
	// overview's word.
	for _, id := range a.Suppressions {
		known := false
		for i := range sups {
			if sups[i].ID == id {
				if sups[i].ActiveAt(now) {
					return &sups[i]
				}
				known = true
			}
		}
		if !known {
			return &Suppression{ID: id}
		}
	}
	return nil
}

// ReadStatus is what is known of one kind of read of one account.
type ReadStatus struct {
	TriedAt time.Time // the last try; zero when never tried
	GoodAt  time.Time // the last good answer; zero when none yet
	Err     string    // why the last try failed, in words; "" when it did not
	// Through: changelogs are read up to here (the next read starts here).
	Through time.Time
}
