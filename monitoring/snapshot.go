package monitoring

import (
	"net/url"
	"regexp"
	"sort"
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
func (s State) severity() int {
	switch s {
	case StateCritical:
		return 3
	case StateWarning:
		return 2
	case StateUnknown:
		return 1
	}
	return 0
}

// Worse reports whether s is more severe than t.
func (s State) Worse(t State) bool { return s.severity() > t.severity() }

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
	// Region and ServerUUID come from the entity uri of a Rackspace Cloud
	// Server; empty for other entities.
	Region     string  `json:"region,omitempty"`
	TenantID   string  `json:"tenant_id,omitempty"`
	ServerUUID string  `json:"server_uuid,omitempty"`
	Alarms     []Alarm `json:"alarms"`
	Counts     Counts  `json:"counts"`
	Worst      State   `json:"worst"`
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
	// Evaluated is false when the upstream has no latest state for the
	// alarm yet ("not evaluated yet"); its State is UNKNOWN.
	Evaluated bool `json:"evaluated"`
	// Orphan marks a latest state whose alarm is not in the overview.
	Orphan bool `json:"orphan,omitempty"`
}

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

// Add counts one alarm.
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

// Totals sums the counts of several servers.
func (c *Counts) Plus(o Counts) {
	c.OK += o.OK
	c.Warning += o.Warning
	c.Critical += o.Critical
	c.Unknown += o.Unknown
	c.Total += o.Total
	c.Excluded += o.Excluded
}

// Reduce strips overview values down to a Snapshot. It never fails: missing
// labels get readable fallbacks, states without an alarm are kept as orphans.
func Reduce(values []OverviewValue, fetchedAt time.Time) Snapshot {
	snap := Snapshot{FetchedAt: fetchedAt.UTC(), Servers: make([]Server, 0, len(values))}
	for i := range values {
		snap.Servers = append(snap.Servers, reduceValue(&values[i]))
	}
	sort.SliceStable(snap.Servers, func(i, j int) bool {
		a, b := strings.ToLower(snap.Servers[i].Label), strings.ToLower(snap.Servers[j].Label)
		if a != b {
			return a < b
		}
		return snap.Servers[i].ID < snap.Servers[j].ID
	})
	return snap
}

func reduceValue(v *OverviewValue) Server {
	srv := Server{ID: v.Entity.ID, Label: deref(v.Entity.Label), AgentID: deref(v.Entity.AgentID)}
	if strings.TrimSpace(srv.Label) == "" {
		srv.Label = srv.ID
	}
	if v.Entity.URI != nil {
		srv.Region, srv.TenantID, srv.ServerUUID = ParseServerURI(*v.Entity.URI)
	}

	checks := make(map[string]*WireCheck, len(v.Checks))
	for i := range v.Checks {
		checks[v.Checks[i].ID] = &v.Checks[i]
	}
	states := make(map[string]*WireAlarmState, len(v.LatestAlarmStates))
	for i := range v.LatestAlarmStates {
		st := &v.LatestAlarmStates[i]
		if st.AlarmID == nil {
			continue
		}
		// Keep the newest state when an alarm is listed twice.
		if prev, ok := states[*st.AlarmID]; ok && prev.Timestamp.After(st.Timestamp.Time) {
			continue
		}
		states[*st.AlarmID] = st
	}

	srv.Alarms = make([]Alarm, 0, len(v.Alarms))
	seen := make(map[string]bool, len(v.Alarms))
	for i := range v.Alarms {
		wa := &v.Alarms[i]
		seen[wa.ID] = true
		a := Alarm{ID: wa.ID, CheckID: deref(wa.CheckID), State: StateUnknown}
		a.Disabled = wa.Disabled != nil && bool(*wa.Disabled)
		if c := checks[a.CheckID]; c != nil {
			a.CheckLabel, a.CheckType = deref(c.Label), deref(c.Type)
			if c.Disabled != nil && bool(*c.Disabled) {
				a.Disabled = true
			}
		}
		a.Label = alarmLabel(deref(wa.Label), a.CheckLabel, a.CheckType, a.ID)
		if st := states[wa.ID]; st != nil {
			applyState(&a, st)
		}
		srv.Alarms = append(srv.Alarms, a)
	}
	for i := range v.LatestAlarmStates {
		st := &v.LatestAlarmStates[i]
		id := deref(st.AlarmID)
		if seen[id] || states[id] != st {
			continue
		}
		seen[id] = true
		a := Alarm{ID: id, CheckID: deref(st.CheckID), Orphan: true}
		if c := checks[a.CheckID]; c != nil {
			a.CheckLabel, a.CheckType = deref(c.Label), deref(c.Type)
		}
		a.Label = alarmLabel("", a.CheckLabel, a.CheckType, id)
		applyState(&a, st)
		srv.Alarms = append(srv.Alarms, a)
	}

	srv.Worst = StateOK
	for _, a := range srv.Alarms {
		srv.Counts.add(a)
		if a.Counted() && a.State.Worse(srv.Worst) {
			srv.Worst = a.State
		}
	}
	if srv.Counts.Total == 0 {
		// Nothing watched: nothing is known to be wrong, nothing to be sure of.
		srv.Worst = StateOK
	}
	return srv
}

func applyState(a *Alarm, st *WireAlarmState) {
	a.Evaluated = true
	a.State = ParseState(deref(st.State))
	a.Status = deref(st.Status)
	a.Since = st.Timestamp.Time
	if st.PreviousState != nil {
		a.PreviousState = ParseState(*st.PreviousState)
	}
	if a.CheckID == "" {
		a.CheckID = deref(st.CheckID)
	}
}

func alarmLabel(label, checkLabel, checkType, id string) string {
	switch {
	case strings.TrimSpace(label) != "":
		return label
	case checkLabel != "":
		return checkLabel + " alarm"
	case checkType != "":
		return checkType + " alarm"
	case id != "":
		return "alarm " + id
	}
	return "unnamed alarm"
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

var serverPath = regexp.MustCompile(`^/([^/]+)/servers/([0-9A-Fa-f-]{8,})/?$`)

// ParseServerURI takes apart an entity uri of the form
// https://{region}.servers.api.rackspacecloud.com/{tenant}/servers/{uuid}.
// Anything else yields empty strings.
func ParseServerURI(raw string) (region, tenant, uuid string) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" {
		return "", "", ""
	}
	host := strings.ToLower(u.Hostname())
	reg, rest, ok := strings.Cut(host, ".")
	if !ok || !strings.HasPrefix(rest, "servers.api.rackspacecloud.com") {
		return "", "", ""
	}
	m := serverPath.FindStringSubmatch(u.Path)
	if m == nil {
		return "", "", ""
	}
	return strings.ToUpper(reg), m[1], strings.ToLower(m[2])
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
