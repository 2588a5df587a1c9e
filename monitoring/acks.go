package monitoring

import (
	"fmt"
	"time"
	"unicode/utf8"
)

// How an acknowledgement ended (Ack.EndReason).
const (
	AckExpired   = "expired"
	AckRecovered = "recovered"
	AckWorse     = "worse"
	AckGone      = "gone"
	AckRemoved   = "removed"
)

// AckUntilRecovered is the expiry of an acknowledgement that lasts until
// the problem recovers (or gets worse).
const AckUntilRecovered = "recovered"

// ackExpiries are the ends a user may choose, by the words the forms and
// the API use; 0 lasts until it recovers.
var ackExpiries = map[string]time.Duration{
	"1h": time.Hour, "4h": 4 * time.Hour, "24h": 24 * time.Hour, AckUntilRecovered: 0,
}

// AckLasts is how long an acknowledgement with expiry lasts (0: until it
// recovers), and whether expiry is one of AckExpiries.
func AckLasts(expiry string) (time.Duration, bool) {
	d, ok := ackExpiries[expiry]
	return d, ok
}

// AckExpiries lists the expiry words CreateAck takes, shortest first.
var AckExpiries = []string{"1h", "4h", "24h", AckUntilRecovered}

// MaxAckNote is the longest note, in characters.
const MaxAckNote = 500

// Ack is one acknowledgement, active or ended.
type Ack struct {
	ID          int64
	AccountID   int64
	ServerID    string
	ServerLabel string // as it was when acknowledged
	AlarmID     string // "" when the whole server is acknowledged
	AlarmLabel  string
	Note        string
	CreatedBy   string
	CreatedAt   time.Time
	ExpiresAt   time.Time // zero: until it recovers
	// StateAtAck is the server's worst state, or the alarm's state, when
	// it was acknowledged: getting worse than this ends it.
	StateAtAck State
	EndedAt    time.Time // zero while active
	EndReason  string    // one of the Ack… reasons once ended
	EndedBy    string    // who removed it (AckRemoved only)
}

// Active reports whether the acknowledgement holds (as of when it was read).
func (a Ack) Active() bool { return a.EndedAt.IsZero() }

// WholeServer reports whether the acknowledgement is for the server rather
// than one alarm.
func (a Ack) WholeServer() bool { return a.AlarmID == "" }

// AckInput is a new acknowledgement as a user asks for it.
type AckInput struct {
	AccountID int64
	ServerID  string
	AlarmID   string // "" for the whole server
	Note      string
	Expiry    string // one of AckExpiries
	By        string // the signed-in user
}

// AckErrorKind says how an acknowledgement was refused.
type AckErrorKind int

const (
	// AckInvalid: the input itself is wrong (an empty note, an unknown expiry).
	AckInvalid AckErrorKind = iota
	// AckUnknown: there is no such account, server or alarm.
	AckUnknown
	// AckConflict: there is nothing to acknowledge (it is OK or not
	// counted), or it is acknowledged already.
	AckConflict
)

// AckError is input CreateAck refuses: the field at fault ("account",
// "server", "alarm", "note" or "expiry"), what kind of refusal, and a
// message for a person.
type AckError struct {
	Field   string
	Kind    AckErrorKind
	Message string
}

func (e *AckError) Error() string { return e.Field + ": " + e.Message }

// NoteProblem says what makes a note unfit, or "" when nothing does. The
// handlers refuse more (bidirectional overrides, line separators) with
// their own words before a note gets here.
func NoteProblem(note string) string {
	switch {
	case note == "":
		return "Write a note: what is being done about it, or why it can wait."
	case utf8.ValidString(note) && utf8.RuneCountInString(note) > MaxAckNote:
		return fmt.Sprintf("The note is longer than %d characters.", MaxAckNote)
	}
	return TextProblem("The note", note)
}

// AckTarget finds what in acknowledges in snap (the account's latest data,
// nil when never polled): the labels and the state it has now.
func AckTarget(snap *Snapshot, in AckInput) (Ack, error) {
	a := Ack{AccountID: in.AccountID, ServerID: in.ServerID, AlarmID: in.AlarmID}
	var srv *Server
	if snap != nil {
		for i := range snap.Servers {
			if snap.Servers[i].ID == in.ServerID {
				srv = &snap.Servers[i]
				break
			}
		}
	}
	if srv == nil {
		return a, &AckError{Field: "server", Kind: AckUnknown, Message: "There is no server with this id in the account's latest data."}
	}
	a.ServerLabel = srv.Label
	if in.AlarmID == "" {
		if srv.Worst == StateOK {
			return a, &AckError{Field: "server", Kind: AckConflict, Message: "This server is OK: there is nothing to acknowledge."}
		}
		a.StateAtAck = srv.Worst
		return a, nil
	}
	for _, al := range srv.Alarms {
		if al.ID != in.AlarmID {
			continue
		}
		switch {
		case !al.Counted():
			return a, &AckError{Field: "alarm", Kind: AckConflict,
				Message: "This alarm is not counted (disabled, or not in the overview): there is nothing to acknowledge."}
		case al.State == StateOK:
			return a, &AckError{Field: "alarm", Kind: AckConflict, Message: "This alarm is OK: there is nothing to acknowledge."}
		}
		a.AlarmLabel, a.StateAtAck = al.Label, al.State
		return a, nil
	}
	return a, &AckError{Field: "alarm", Kind: AckUnknown, Message: "This server has no alarm with this id."}
}

// AckQuery selects acknowledgements for Acks.
type AckQuery struct {
	AccountID    int64  // 0: every account
	ServerID     string // "": every server (of AccountID)
	IncludeEnded bool   // the history too, not only those in force
	// Since, when set, keeps those in force at Since or later: active
	// ones, and those that ended at Since or after.
	Since time.Time
	Limit int // 0: all
}

// AckOutcome is why a ends, given its server as the latest data has it
// (nil: the server is gone), or "" when it holds.
func AckOutcome(srv *Server, a Ack) string {
	if srv == nil {
		return AckGone
	}
	st := srv.Worst
	if !a.WholeServer() {
		found := false
		for _, al := range srv.Alarms {
			if al.ID == a.AlarmID {
				if !al.Counted() {
					return AckGone
				}
				st, found = al.State, true
				break
			}
		}
		if !found {
			return AckGone
		}
	}
	switch {
	case st == StateOK:
		return AckRecovered
	case st.Worse(a.StateAtAck):
		return AckWorse
	}
	return ""
}
