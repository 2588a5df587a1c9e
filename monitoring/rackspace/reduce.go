package rackspace

import (
	"io"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"cmdash/monitoring"
)

// Reducer reduces the pages of an overview walk to servers. Each value is
// reduced to a server as soon as it is decoded, and each page's servers go
// to Sink once the page is read whole, so neither a page nor the walk is
// ever held whole. The zero Reducer is ready to use.
//
// Reducing never fails: missing labels get readable fallbacks, states
// without an alarm are kept as orphans.
type Reducer struct {
	servers []monitoring.Server // the page being read
	// Sink takes each page's servers once the page is read whole; the
	// Reducer keeps none of them. Nil drops them.
	Sink monitoring.PageSink

	dec     pageDecoder
	scratch reduceScratch
}

// Page decodes one overview page from body, reduces its values and hands
// them to Sink. It returns the page's metadata; on error the page hands
// nothing over.
func (r *Reducer) Page(body io.Reader) (PageMetadata, error) {
	reset := func() {
		clear(r.servers)
		r.servers = r.servers[:0]
	}
	defer reset()
	meta, err := r.dec.page(body, func(v *OverviewValue) {
		r.servers = append(r.servers, r.scratch.reduce(v))
	}, reset)
	if err == nil && r.Sink != nil {
		r.Sink.Page(r.servers)
	}
	return meta, err
}

// reduceScratch holds the lookups of reducing a value, reused from value
// to value.
type reduceScratch struct {
	checks map[string]*WireCheck
	states map[string]*WireAlarmState
	seen   map[string]bool
}

func (rs *reduceScratch) reduce(v *OverviewValue) monitoring.Server {
	if rs.checks == nil {
		rs.checks = make(map[string]*WireCheck)
		rs.states = make(map[string]*WireAlarmState)
		rs.seen = make(map[string]bool)
	}
	defer func() {
		clear(rs.checks)
		clear(rs.states)
		clear(rs.seen)
	}()
	srv := monitoring.Server{ID: v.Entity.ID, Label: v.Entity.Label, AgentID: v.Entity.AgentID, URI: v.Entity.URI}
	if strings.TrimSpace(srv.Label) == "" {
		srv.Label = srv.ID
	}
	if srv.URI != "" {
		srv.Region, srv.TenantID, srv.ServerUUID = ParseServerURI(srv.URI)
	}

	checks := rs.checks
	for i := range v.Checks {
		checks[v.Checks[i].ID] = &v.Checks[i]
	}
	states := rs.states
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

	srv.Alarms = make([]monitoring.Alarm, 0, len(v.Alarms))
	seen := rs.seen
	for i := range v.Alarms {
		wa := &v.Alarms[i]
		seen[wa.ID] = true
		a := monitoring.Alarm{ID: wa.ID, CheckID: wa.CheckID, State: monitoring.StateUnknown, Disabled: bool(wa.Disabled),
			NotificationPlanID: string(wa.NotificationPlanID)}
		var checkSupp []string
		if c := checks[a.CheckID]; c != nil {
			a.CheckLabel, a.CheckType = c.Label, c.Type
			if c.Disabled {
				a.Disabled, a.CheckDisabled = true, true
			}
			checkSupp = c.ActiveSuppressions
		}
		a.Suppressions = suppressionsOf(wa.ActiveSuppressions, checkSupp, v.Entity.ActiveSuppressions)
		a.Label = alarmLabel(wa.Label, a.CheckLabel, a.CheckType, a.ID)
		if st := states[wa.ID]; st != nil {
			applyState(&a, st)
		}
		a.Metric = wa.Criteria.metricFor(a.State)
		srv.Alarms = append(srv.Alarms, a)
	}
	for i := range v.LatestAlarmStates {
		st := &v.LatestAlarmStates[i]
		id := deref(st.AlarmID)
		if seen[id] || states[id] != st {
			continue
		}
		seen[id] = true
		a := monitoring.Alarm{ID: id, CheckID: st.CheckID, Orphan: true}
		var checkSupp []string
		if c := checks[a.CheckID]; c != nil {
			a.CheckLabel, a.CheckType = c.Label, c.Type
			checkSupp = c.ActiveSuppressions
		}
		a.Suppressions = suppressionsOf(nil, checkSupp, v.Entity.ActiveSuppressions)
		a.Label = alarmLabel("", a.CheckLabel, a.CheckType, id)
		applyState(&a, st)
		srv.Alarms = append(srv.Alarms, a)
	}
	srv.Tally()
	return srv
}

func applyState(a *monitoring.Alarm, st *WireAlarmState) {
	a.Evaluated = true
	a.State = monitoring.ParseState(st.State)
	a.Status = st.Status
	a.Since = st.Timestamp.Time
	if st.PreviousState != nil {
		a.PreviousState = monitoring.ParseState(*st.PreviousState)
	}
	if a.CheckID == "" {
		a.CheckID = st.CheckID
	}
}

// suppressionsOf is the union of the suppressions active on an alarm, its
// check and its entity: sorted, each once; nil when there are none (the
// common case, which allocates nothing).
func suppressionsOf(alarm, check, entity []string) []string {
	n := len(alarm) + len(check) + len(entity)
	if n == 0 {
		return nil
	}
	ids := make([]string, 0, n)
	ids = append(append(append(ids, alarm...), check...), entity...)
	slices.Sort(ids)
	return slices.Clip(slices.Compact(ids))
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
