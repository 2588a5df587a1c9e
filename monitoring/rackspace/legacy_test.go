package rackspace

import (
	"cmp"
	"encoding/json"
	"io"
	"strings"

	"cmdash/monitoring"
)

// The overview decoder and reducer as they were before the streaming
// decoder, kept verbatim as the oracle the differential tests and the fuzz
// target compare the product with: encoding/json's reading of a page is
// what the page has always meant.

// legacyPage decodes and reduces one page with encoding/json, returning
// every server the page hands over (none on error).
func legacyPage(body io.Reader) ([]monitoring.Server, PageMetadata, error) {
	var servers []monitoring.Server
	meta, err := legacyDecodePage(body, func(v *OverviewValue) {
		servers = append(servers, legacyReduceValue(v))
	}, func() { servers = servers[:0] })
	if err != nil {
		return nil, meta, err
	}
	return servers, meta, nil
}

func legacyDecodePage(body io.Reader, add func(*OverviewValue), restart func()) (PageMetadata, error) {
	var meta PageMetadata
	dec := json.NewDecoder(body)
	tok, err := dec.Token()
	if err != nil {
		return meta, badJSON(err, "")
	}
	if tok == nil {
		return meta, &BadResponseError{Reason: "overview has no values"}
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return meta, &BadResponseError{Reason: "overview is not a JSON object"}
	}
	var typeErr error // the first field of the wrong type
	sawValues := false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return meta, badJSON(err, "")
		}
		key, _ := tok.(string)
		switch {
		case strings.EqualFold(key, "values"): // encoding/json matches keys without case
			sawValues = true
			restart()
			if err := legacyDecodeValues(dec, add, &typeErr); err != nil {
				return meta, err
			}
		case strings.EqualFold(key, "metadata"):
			if err := dec.Decode(&meta); err != nil {
				if !isTypeError(err) {
					return meta, badJSON(err, "metadata.")
				}
				typeErr = cmp.Or(typeErr, badJSON(err, "metadata."))
			}
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return meta, badJSON(err, "")
			}
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return meta, badJSON(err, "")
	}
	if typeErr != nil {
		return meta, typeErr
	}
	if !sawValues {
		return meta, &BadResponseError{Reason: "overview has no values"}
	}
	return meta, nil
}

func legacyDecodeValues(dec *json.Decoder, add func(*OverviewValue), typeErr *error) error {
	tok, err := dec.Token()
	if err != nil {
		return badJSON(err, "")
	}
	if tok == nil {
		return nil // "values": null is an empty page
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		*typeErr = cmp.Or(*typeErr, error(&BadResponseError{Reason: "unexpected field type for values"}))
		if ok {
			return legacySkipRest(dec)
		}
		return nil
	}
	var v OverviewValue
	for dec.More() {
		v.legacyReset()
		if err := dec.Decode(&v); err != nil {
			if !isTypeError(err) {
				return badJSON(err, "values.")
			}
			*typeErr = cmp.Or(*typeErr, badJSON(err, "values."))
			continue
		}
		if *typeErr == nil {
			add(&v)
		}
	}
	if _, err := dec.Token(); err != nil { // the closing bracket
		return badJSON(err, "")
	}
	return nil
}

func (v *OverviewValue) legacyReset() {
	checks, alarms, states := v.Checks[:cap(v.Checks)], v.Alarms[:cap(v.Alarms)], v.LatestAlarmStates[:cap(v.LatestAlarmStates)]
	clear(checks)
	clear(alarms)
	clear(states)
	*v = OverviewValue{Checks: checks[:0], Alarms: alarms[:0], LatestAlarmStates: states[:0]}
}

func legacySkipRest(dec *json.Decoder) error {
	for depth := 1; depth > 0; {
		tok, err := dec.Token()
		if err != nil {
			return badJSON(err, "")
		}
		if d, ok := tok.(json.Delim); ok {
			if d == '{' || d == '[' {
				depth++
			} else {
				depth--
			}
		}
	}
	return nil
}

func legacyReduceValue(v *OverviewValue) monitoring.Server {
	srv := monitoring.Server{ID: v.Entity.ID, Label: v.Entity.Label, AgentID: v.Entity.AgentID, URI: v.Entity.URI}
	if strings.TrimSpace(srv.Label) == "" {
		srv.Label = srv.ID
	}
	if srv.URI != "" {
		srv.Region, srv.TenantID, srv.ServerUUID = ParseServerURI(srv.URI)
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
		if prev, ok := states[*st.AlarmID]; ok && prev.Timestamp.After(st.Timestamp.Time) {
			continue
		}
		states[*st.AlarmID] = st
	}

	srv.Alarms = make([]monitoring.Alarm, 0, len(v.Alarms))
	seen := make(map[string]bool, len(v.Alarms))
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
			legacyApplyState(&a, st)
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
		legacyApplyState(&a, st)
		srv.Alarms = append(srv.Alarms, a)
	}
	srv.Tally()
	return srv
}

func legacyApplyState(a *monitoring.Alarm, st *WireAlarmState) {
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
