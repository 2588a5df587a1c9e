package views

import (
	"strconv"
	"strings"

	"github.com/a-h/templ"

	"cmdash/monitoring"
	"cmdash/monitoring/wall"
)

// ServerAcks is what the server page shows of acknowledgements, and the
// form that makes one (for a signed-in user only).
type ServerAcks struct {
	Active  []monitoring.Ack // in force, newest first
	Earlier []monitoring.Ack // ended lately, newest first
	// CanAck shows the form and the Remove buttons: a signed-in user.
	// Public viewers only see acknowledgements.
	CanAck bool
	Form   AckForm
}

// AlarmAcked reports whether the alarm has an acknowledgement of its own in
// force.
func (s ServerAcks) AlarmAcked(alarmID string) bool {
	for _, a := range s.Active {
		if a.AlarmID == alarmID {
			return true
		}
	}
	return false
}

// AckForm is the acknowledge form with what was typed and the messages per
// field ("alarm", "note", "expiry").
type AckForm struct {
	Alarm   string // "" for the whole server
	Note    string
	Expiry  string
	Errors  map[string]string
	Message string // a form-wide error
}

// Err returns the message for a field.
func (f AckForm) Err(field string) string { return f.Errors[field] }

// DefaultAckExpiry is the form's choice until the user makes another.
const DefaultAckExpiry = "4h"

// ackExpiryWords words the expiries of monitoring.AckExpiries.
var ackExpiryWords = map[string]string{
	"1h": "in 1 hour", "4h": "in 4 hours", "24h": "in 24 hours", monitoring.AckUntilRecovered: "when it recovers",
}

// AckOption is one choice of a select.
type AckOption struct {
	Value, Label string
	Selected     bool
}

// ackExpiryOptions are the form's expiries, with the chosen one selected.
func ackExpiryOptions(chosen string) []AckOption {
	if chosen == "" {
		chosen = DefaultAckExpiry
	}
	out := make([]AckOption, 0, len(monitoring.AckExpiries))
	for _, e := range monitoring.AckExpiries {
		out = append(out, AckOption{Value: e, Label: ackExpiryWords[e], Selected: e == chosen})
	}
	return out
}

// ServerAcked reports whether the server itself (not one of its alarms)
// has an acknowledgement in force.
func (s ServerAcks) ServerAcked() bool {
	for _, a := range s.Active {
		if a.WholeServer() {
			return true
		}
	}
	return false
}

// ackTargetOptions are what the form can acknowledge: the whole server
// while it is a problem and not acknowledged itself, and each problem
// alarm (counted and not OK) not acknowledged yet, worst first as the page
// lists them. What was chosen before and can no longer be acknowledged
// stays a choice, so that the message about it is next to it.
func ackTargetOptions(p ServerPage) []AckOption {
	chosen := p.Acks.Form.Alarm
	var out []AckOption
	found := false
	if p.Tile.Problem() && !p.Acks.ServerAcked() {
		out = append(out, AckOption{Value: "", Label: "The whole server (" + StateWord(p.Tile.Worst) + ")", Selected: chosen == ""})
		found = chosen == ""
	}
	for _, a := range p.Server.Alarms {
		open := a.Counted() && a.State != monitoring.StateOK && !p.Acks.AlarmAcked(a.ID)
		if !open && (chosen == "" || a.ID != chosen) {
			continue
		}
		out = append(out, AckOption{Value: a.ID, Label: "Alarm " + a.Label + " (" + string(a.State) + ")", Selected: a.ID == chosen})
		found = found || a.ID == chosen
	}
	if !found && chosen != "" {
		out = append(out, AckOption{Value: chosen, Label: "Alarm " + chosen, Selected: true})
	}
	return out
}

// canAckSomething reports whether the acknowledge form has anything to
// offer, or a message to show about what was just tried.
func canAckSomething(p ServerPage) bool {
	return p.Acks.CanAck && (p.Acks.Form.Errors != nil || p.Acks.Form.Message != "" || len(ackTargetOptions(p)) > 0)
}

// ackWhat names what an acknowledgement is for.
func ackWhat(a monitoring.Ack) string {
	if a.WholeServer() {
		return "The whole server"
	}
	if a.AlarmLabel != "" {
		return "Alarm " + a.AlarmLabel
	}
	return "Alarm " + a.AlarmID
}

// ackEnded words how an acknowledgement ended.
func ackEnded(a monitoring.Ack) string {
	switch a.EndReason {
	case monitoring.AckExpired:
		return "expired"
	case monitoring.AckRecovered:
		return "recovered"
	case monitoring.AckWorse:
		return "ended: it got worse"
	case monitoring.AckGone:
		return "ended: no longer in the data or the counts"
	case monitoring.AckRemoved:
		if a.EndedBy != "" {
			return "removed by " + a.EndedBy
		}
		return "removed"
	}
	return "ended"
}

// ackAttrs marks an acknowledged tile, and one in maintenance, for
// scripts and tests.
func ackAttrs(t wall.Tile) templ.Attributes {
	a := templ.Attributes{}
	if t.Acked {
		a["data-acked"] = "true"
	}
	if t.Maint {
		a["data-maintenance"] = "true"
	}
	if t.Suppressed > 0 {
		a["data-suppressed"] = strconv.Itoa(t.Suppressed)
	}
	return a
}

// quietNote is " (2 acked, 1 maint)", " (1 maint)" or "" for counts of
// acknowledged servers and of servers in maintenance.
func quietNote(acked, maint int) string {
	var parts []string
	if acked > 0 {
		parts = append(parts, strconv.Itoa(acked)+" acked")
	}
	if maint > 0 {
		parts = append(parts, strconv.Itoa(maint)+" maint")
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// who names the user who did something, or says someone did when the
// viewer may not know who (not signed in).
func who(user string) string {
	if user == "" {
		return "a signed-in user"
	}
	return user
}
