package monitoring

import (
	"cmp"
	"net/url"
	"slices"
	"strings"
	"time"
)

// State is an alarm state as the dashboard shows it.
type State string

// The four states. Anything the upstream sends besides OK, WARNING and
// CRITICAL, and an alarm with no latest state yet, is UNKNOWN.
const (
	StateOK       State = "OK"
	StateWarning  State = "WARNING"
	StateCritical State = "CRITICAL"
	StateUnknown  State = "UNKNOWN"
)

// ParseState maps an upstream state string to a State.
func ParseState(s string) State {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "OK":
		return StateOK
	case "WARNING":
		return StateWarning
	case "CRITICAL":
		return StateCritical
	}
	return StateUnknown
}

// severity orders states for "worst": CRITICAL > WARNING > UNKNOWN > OK.
// Any other word ranks as UNKNOWN; "" (nothing counted) as OK, so that Or
// starts from it.
func (s State) severity() int {
	switch s {
	case StateCritical:
		return 3
	case StateWarning:
		return 2
	case StateOK, "":
		return 0
	}
	return 1
}

// Norm is the state s counts as: OK, WARNING or CRITICAL as it is,
// anything else UNKNOWN (as Counts counts it).
func (s State) Norm() State {
	switch s {
	case StateOK, StateWarning, StateCritical:
		return s
	}
	return StateUnknown
}

// Or is the worse of s and t; "" (nothing) gives way to any state. It is
// how every worst state is made: a server's, a section's, the wall's.
func (s State) Or(t State) State {
	if s == "" || t.Worse(s) {
		return t
	}
	return s
}

// Worse reports whether s is more severe than t.
func (s State) Worse(t State) bool { return s.severity() > t.severity() }

// Compare orders states by severity: -1 when s is milder than t, +1 when
// worse, 0 when as severe (for slices.SortFunc and friends).
func (s State) Compare(t State) int { return cmp.Compare(s.severity(), t.severity()) }

// Snapshot is what the dashboard keeps of one account's overview: only what
// the pages need.
type Snapshot struct {
	FetchedAt time.Time `json:"fetched_at"`
	Servers   []Server  `json:"servers"`
}

// Server is one monitored entity.
type Server struct {
	ID      string `json:"id"`
	Label   string `json:"label"`
	AgentID string `json:"agent_id,omitempty"`
	// URI is the entity's uri as the upstream sent it (any string, or
	// empty); Region, TenantID and ServerUUID are taken from it when it
	// names a Rackspace Cloud Server, and are empty otherwise.
	URI        string  `json:"uri,omitempty"`
	Region     string  `json:"region,omitempty"`
	TenantID   string  `json:"tenant_id,omitempty"`
	ServerUUID string  `json:"server_uuid,omitempty"`
	Alarms     []Alarm `json:"alarms"`
	Counts     Counts  `json:"counts"`
	Worst      State   `json:"worst"`
	// Terms are the labels of its alarms and their checks, lower case,
	// one a line: what the wall's filter matches besides the server's own
	// names. Only summaries carry them (see SummaryOf); they are made from
	// Alarms, never stored.
	Terms string `json:"-"`
}

// Alarm is one alarm of a server with its latest state.
type Alarm struct {
	ID            string    `json:"id"`
	Label         string    `json:"label"`
	CheckID       string    `json:"check_id,omitempty"`
	CheckLabel    string    `json:"check_label,omitempty"`
	CheckType     string    `json:"check_type,omitempty"`
	State         State     `json:"state"`
	Status        string    `json:"status,omitempty"`
	Since         time.Time `json:"since,omitzero"`
	PreviousState State     `json:"previous_state,omitempty"`
	Disabled      bool      `json:"disabled,omitempty"`
	// CheckDisabled: the alarm is disabled because its check is.
	CheckDisabled bool `json:"check_disabled,omitempty"`
	// NotificationPlanID is the plan its state changes notify through.
	NotificationPlanID string `json:"plan,omitempty"`
	// Suppressions are the IDs of the maintenance windows the overview
	// says are active on the alarm, its check or its entity (usually none:
	// the windows themselves are read apart, see Suppression).
	Suppressions []string `json:"suppressions,omitempty"`
	// Evaluated is false when the upstream has no latest state for the
	// alarm yet ("not evaluated yet"); its State is UNKNOWN.
	Evaluated bool `json:"evaluated"`
	// Orphan marks a latest state whose alarm is not in the overview.
	Orphan bool `json:"orphan,omitempty"`
	// Metric is what its criteria test, for a chart (see CriteriaMetric);
	// nil when they name no metric.
	Metric *AlarmMetric `json:"metric,omitempty"`
}

// Remote reports whether the alarm's check runs from Rackspace's
// monitoring zones (its metrics are per zone) rather than on the server.
func (a Alarm) Remote() bool { return strings.HasPrefix(a.CheckType, "remote.") }

// Counts are the per-server numbers the tile shows.
//
// The counting rule: a disabled alarm (or an alarm on a disabled check)
// notifies nobody, so it is left out of every count and out of the ring; it
// is still listed, marked disabled, on the server page. A latest state whose
// alarm is not in the overview (an orphan) is treated the same way. An
// enabled alarm that has not been evaluated yet counts as UNKNOWN.
// Total = OK + Warning + Critical + Unknown.
type Counts struct {
	OK       int `json:"ok"`
	Warning  int `json:"warning"`
	Critical int `json:"critical"`
	Unknown  int `json:"unknown"`
	Total    int `json:"total"`
	Excluded int `json:"excluded"` // disabled or orphan alarms, listed but not counted
}

// Counted reports whether the alarm takes part in counts and the ring.
func (a Alarm) Counted() bool { return !a.Disabled && !a.Orphan }

// add counts one alarm.
func (c *Counts) add(a Alarm) {
	if !a.Counted() {
		c.Excluded++
		return
	}
	c.Total++
	switch a.State {
	case StateOK:
		c.OK++
	case StateWarning:
		c.Warning++
	case StateCritical:
		c.Critical++
	default:
		c.Unknown++
	}
}

// Problems is how many counted alarms are not OK.
func (c Counts) Problems() int { return c.Critical + c.Warning + c.Unknown }

// Plus adds the counts of another server.
func (c *Counts) Plus(o Counts) {
	c.OK += o.OK
	c.Warning += o.Warning
	c.Critical += o.Critical
	c.Unknown += o.Unknown
	c.Total += o.Total
	c.Excluded += o.Excluded
}

// Tally fills Counts and Worst from Alarms by the counting rule. A server
// with nothing counted is OK: nothing is known to be wrong.
func (s *Server) Tally() {
	s.Counts, s.Worst = Counts{}, StateOK
	for _, a := range s.Alarms {
		s.Counts.add(a)
		if a.Counted() {
			s.Worst = s.Worst.Or(a.State.Norm())
		}
	}
}

// ControlPanelURL links to the server in the Rackspace control panel, or ""
// when the entity is not a Cloud Server.
func (s Server) ControlPanelURL() string {
	if s.ServerUUID == "" || s.TenantID == "" || s.Region == "" {
		return ""
	}
	return "https://mycloud.rackspace.com/cloud/" + url.PathEscape(s.TenantID) +
		"/servers#compute%2CcloudServersOpenStack%2C" + url.PathEscape(s.Region) + "/" + url.PathEscape(s.ServerUUID)
}

// SortServers orders servers by label (see NaturalCompare), then id: the
// order of the wall and the API.
func SortServers(servers []Server) {
	slices.SortStableFunc(servers, func(a, b Server) int {
		return cmp.Or(NaturalCompare(a.Label, b.Label), NaturalCompare(a.ID, b.ID), strings.Compare(a.ID, b.ID))
	})
}

// ShownProblems is how many of a server's problem alarms a tile lists:
// what it has room to say.
const ShownProblems = 3

// SummaryOf keeps of a server what the wall shows: its id, label, counts
// and worst state; of its alarms, its problems (counted alarms that are
// not OK, in ProblemOrder: the first is the oldest of the worst) with
// their labels, state, status and since, and what names them for the
// maintenance windows (check, notification plan, the windows the overview
// lists); and the Terms the filter matches.
func SummaryOf(srv *Server) Server {
	sum := Server{ID: srv.ID, Label: srv.Label, Counts: srv.Counts, Worst: srv.Worst}
	var problems []Alarm
	var terms strings.Builder
	seen := map[string]bool{}
	term := func(s string) {
		if s = strings.ToLower(strings.TrimSpace(s)); s != "" && !seen[s] {
			seen[s] = true
			terms.WriteString(s)
			terms.WriteByte('\n')
		}
	}
	for i := range srv.Alarms {
		a := &srv.Alarms[i]
		term(a.Label)
		term(a.CheckLabel)
		if a.Counted() && a.State.Norm() != StateOK {
			problems = append(problems, Alarm{ID: a.ID, Label: a.Label, CheckID: a.CheckID, CheckLabel: a.CheckLabel,
				State: a.State.Norm(), Status: a.Status, Since: a.Since, Evaluated: a.Evaluated,
				NotificationPlanID: a.NotificationPlanID, Suppressions: a.Suppressions})
		}
	}
	slices.SortFunc(problems, ProblemOrder)
	sum.Alarms, sum.Terms = slices.Clip(problems), terms.String()
	return sum
}

// ProblemOrder orders problem alarms as a tile lists them: worst first,
// then the longest in that state first (a time not known last), then by
// label and id.
func ProblemOrder(a, b Alarm) int {
	if c := b.State.Norm().Compare(a.State.Norm()); c != 0 {
		return c
	}
	if a.Since.IsZero() != b.Since.IsZero() {
		if a.Since.IsZero() {
			return 1
		}
		return -1
	}
	return cmp.Or(a.Since.Compare(b.Since), NaturalCompare(a.Label, b.Label), strings.Compare(a.ID, b.ID))
}

// SortAlarms puts a server's alarms in the order its page lists them: the
// counted ones first, worst first (CRITICAL, WARNING, UNKNOWN, OK), then
// those left out of the counts (disabled or orphan) in the same order;
// alarms of one state by label (see NaturalCompare), then by id, so the
// order never depends on the upstream's.
func SortAlarms(alarms []Alarm) {
	slices.SortFunc(alarms, func(a, b Alarm) int {
		if a.Counted() != b.Counted() {
			if a.Counted() {
				return -1
			}
			return 1
		}
		return cmp.Or(b.State.Norm().Compare(a.State.Norm()), NaturalCompare(a.Label, b.Label), strings.Compare(a.ID, b.ID))
	})
}
