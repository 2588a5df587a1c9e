package fakerax

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Cloud Monitoring's GET /v1.0/{tenant}/views/overview (monitoring.go routes
// to it). Faults are {"type","code","message","details","txnId"} with code
// sometimes a string and details sometimes an object, as the real sources
// disagree.

type wireState struct {
	Timestamp     int64   `json:"timestamp"`
	EntityID      string  `json:"entity_id"`
	AlarmID       string  `json:"alarm_id"`
	CheckID       string  `json:"check_id"`
	Status        *string `json:"status,omitempty"`
	State         string  `json:"state"`
	PreviousState *string `json:"previous_state,omitempty"`
	AnalyzedBy    *string `json:"analyzed_by_monitoring_zone_id"`
}

const htmlErrorPage = `<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">
<html><head>
<title>503 Service Temporarily Unavailable</title>
</head><body>
<h1>Service Temporarily Unavailable</h1>
<p>The server is temporarily unable to service your
request due to maintenance downtime or capacity
problems. Please try again later.</p>
<hr>
<address>Apache Server at monitoring.api.rackspacecloud.com Port 443</address>
</body></html>
`

// serveOverview answers GET /views/overview.
func (s *Server) serveOverview(w http.ResponseWriter, r *http.Request, m *monReq) {
	a, f, now := m.a, m.f, m.now
	if s.injectFault(w, m) {
		return
	}
	q := r.URL.Query()
	limit, ok := s.limitParam(w, q)
	if !ok {
		return
	}
	ids, uris, agents := q["entityId"], q["uri"], q["agentId"]
	if len(ids) > 0 && len(uris) > 0 {
		s.writeMonitoringFault(w, http.StatusBadRequest, "badRequest", 400, "Validation error", "entityId and uri cannot be combined")
		return
	}
	if len(ids) > maxFilterValues || len(uris) > maxFilterValues {
		s.writeMonitoringFault(w, http.StatusBadRequest, "badRequest", 400, "Validation error", fmt.Sprintf("At most %d entityId or uri values are allowed", maxFilterValues))
		return
	}

	// Candidate entity positions, ascending (the entities are sorted by ID).
	var list []int
	switch {
	case len(ids) > 0:
		for _, id := range ids {
			i, ok := a.byID[id]
			if !ok {
				s.writeMonitoringFault(w, http.StatusNotFound, "notFoundError", "404", "Object does not exist",
					fmt.Sprintf("Object \"Entity\" with key \"%s\" does not exist", id))
				return
			}
			list = append(list, i)
		}
	case len(uris) > 0:
		for _, u := range uris {
			if i, ok := a.byURI[u]; ok {
				list = append(list, i)
			}
		}
		if len(list) == 0 {
			s.writeMonitoringFault(w, http.StatusNotFound, "notFoundError", "404", "Object does not exist",
				fmt.Sprintf("Object \"Entity\" with uri \"%s\" does not exist", uris[0]))
			return
		}
	default:
		list = make([]int, len(a.entities))
		for i := range list {
			list[i] = i
		}
	}
	slices.Sort(list)
	list = slices.Compact(list)
	if len(agents) > 0 {
		list = slices.DeleteFunc(list, func(i int) bool {
			e := a.entities[i]
			return e.agentID == nil || !slices.Contains(agents, *e.agentID)
		})
	}

	var marker *string
	start := 0
	if m := q.Get("marker"); m != "" {
		marker = &m
		start, _ = slices.BinarySearchFunc(list, m, func(i int, m string) int { return strings.Compare(a.entities[i].id, m) })
	}
	page := start/limit + 1
	if f.FailPage > 0 && page == f.FailPage {
		s.writeMonitoringFault(w, http.StatusInternalServerError, "internalError", 500, "Internal error", "An unexpected error occurred while processing the request")
		return
	}
	end := min(start+limit, len(list))

	meta := listMetadata{Count: end - start, Limit: limit, Marker: marker}
	if end < len(list) {
		next := a.entities[list[end]].id
		meta.NextMarker = &next
		// Like some real deployments, next_href is left null on even pages
		// although next_marker is set.
		if page%2 == 1 {
			v := url.Values{}
			v.Set("limit", strconv.Itoa(limit))
			v.Set("marker", next)
			for _, key := range []string{"entityId", "uri", "agentId"} {
				if vals, ok := q[key]; ok {
					v[key] = vals
				}
			}
			href := baseURL(r) + r.URL.Path + "?" + v.Encode()
			meta.NextHref = &href
		}
	}
	var ix *supIndex
	if f.SuppressionIDs {
		ix = s.suppressionIndex(a, now)
	}
	body, err := s.renderPage(a, list[start:end], meta, now, ix)
	if err != nil {
		s.writeMonitoringFault(w, http.StatusInternalServerError, "internalError", 500, "Internal error", err.Error())
		return
	}
	writeJSONBody(w, f, body)
}

// renderPage writes {"values":[…],"metadata":{…}}, splicing in the
// pre-rendered entity, checks and alarms (re-rendered where ix, when not
// nil, has suppressions naming them).
func (s *Server) renderPage(a *account, positions []int, meta listMetadata, now time.Time, ix *supIndex) ([]byte, error) {
	size := 512
	for _, i := range positions {
		e := a.entities[i]
		size += len(e.raw) + len(e.rawChecks) + len(e.rawAlarms) + 300*(len(e.alarms)+1)
	}
	buf := bytes.NewBuffer(make([]byte, 0, size))
	buf.WriteString(`{"values":[`)
	states := make([]wireState, 0, 16)
	for n, i := range positions {
		e := a.entities[i]
		if n > 0 {
			buf.WriteByte(',')
		}
		raw, rawChecks, rawAlarms := e.raw, e.rawChecks, e.rawAlarms
		if ix != nil {
			raw, rawChecks, rawAlarms = ix.render(e)
		}
		buf.WriteString(`{"entity":`)
		buf.Write(raw)
		buf.WriteString(`,"checks":`)
		buf.Write(rawChecks)
		buf.WriteString(`,"alarms":`)
		buf.Write(rawAlarms)
		buf.WriteString(`,"latest_alarm_states":`)
		b, err := json.Marshal(s.latestStates(a, e, now, states[:0]))
		if err != nil {
			return nil, err
		}
		buf.Write(b)
		buf.WriteByte('}')
	}
	buf.WriteString(`],"metadata":`)
	b, err := json.Marshal(meta)
	if err != nil {
		return nil, err
	}
	buf.Write(b)
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// latestStates lists the entity's latest alarm states: one per evaluated
// alarm, plus the orphan state if the entity has one.
func (s *Server) latestStates(a *account, e *entity, now time.Time, out []wireState) []wireState {
	add := func(al *alarm) {
		st := s.stateOf(a, e, al, now)
		ws := wireState{Timestamp: st.timestamp, EntityID: e.id, AlarmID: al.id, CheckID: al.stateCheckID, State: st.state, AnalyzedBy: st.zone}
		if !al.bare {
			ws.Status, ws.PreviousState = &st.status, &st.previous
		}
		out = append(out, ws)
	}
	for j := range e.alarms {
		if !e.alarms[j].unevaluated {
			add(&e.alarms[j])
		}
	}
	if e.orphan != nil {
		add(e.orphan)
	}
	return out
}

// writeInjectedFault answers an injected Monitoring fault.
func (s *Server) writeInjectedFault(w http.ResponseWriter, f Fault, limit, used int) {
	status := f.MonitoringStatus
	switch status {
	case http.StatusBadRequest:
		setRetryAfter(w.Header(), f)
		s.writeMonitoringFault(w, status, "limitReached", 400, "Limit has been reached",
			fmt.Sprintf("Limit of %d requests per 24 hours has been reached", limit))
	case http.StatusUnauthorized:
		s.writeMonitoringFault(w, status, "unauthorizedError", 401, "Unable to authenticate user with credentials provided.", "Invalid authentication token. Please renew.")
	case http.StatusForbidden:
		s.writeMonitoringFault(w, status, "forbiddenError", "403", "Forbidden",
			map[string]any{"reason": "The user does not have a role permitting this action", "required_role": "monitoring:observer"})
	case http.StatusNotFound:
		s.writeMonitoringFault(w, status, "notFoundError", "404", "Object does not exist", "Object \"Account\" with key \"default\" does not exist")
	case http.StatusRequestEntityTooLarge:
		setRetryAfter(w.Header(), f)
		s.writeMonitoringFault(w, status, "requestTooLargeError", 413, "Request too large", "The request exceeds the allowed size or rate")
	case http.StatusTooManyRequests:
		setRetryAfter(w.Header(), f)
		s.writeMonitoringFault(w, status, "rateLimitReached", "429", "Rate limit reached",
			map[string]any{"limit": limit, "used": used, "window": rateWindowText, "type": "global"})
	case http.StatusInternalServerError:
		s.writeMonitoringFault(w, status, "internalError", 500, "Internal error", "An unexpected error occurred while processing the request")
	case http.StatusServiceUnavailable:
		s.writeMonitoringFault(w, status, "systemFailureError", "503", "System failure",
			map[string]any{"reason": "A backend service is temporarily unavailable"})
	default:
		s.writeMonitoringFault(w, status, "internalError", status, http.StatusText(status), http.StatusText(status))
	}
}

// writeMonitoringFault writes the Monitoring fault shape; code is given as a
// number or a string, details as a string or an object.
func (s *Server) writeMonitoringFault(w http.ResponseWriter, status int, typ string, code any, message string, details any) {
	s.mu.Lock()
	s.txns++
	n := s.txns
	s.mu.Unlock()
	ms := s.cfg.Now().UnixMilli()
	h := hashStrings(s.cfg.Seed, "txn", strconv.FormatUint(n, 10))
	txn := fmt.Sprintf(".rh-%s.h-ord1-maas-prod-api%d.r-%08x.c-%d.ts-%d.v-%07x",
		strconv.FormatUint(h%(62*62*62*62), 36), h%4, uint32(h>>8), 1000000+n, ms, uint32(h>>40)&0xfffffff)
	writeJSON(w, status, "application/json; charset=UTF-8", struct {
		Type    string `json:"type"`
		Code    any    `json:"code"`
		Message string `json:"message"`
		Details any    `json:"details"`
		TxnID   string `json:"txnId"`
	}{typ, code, message, details, txn})
}
