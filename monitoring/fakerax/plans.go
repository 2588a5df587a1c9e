package fakerax

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// Notification plans: GET /notification_plans (paginated, repeated ?id=)
// and GET /notification_plans/{id}. Each account has three, sorted by ID:
//
//   - npTechnicalContactsEmail, the built-in plan: label "Technical Contacts
//     - Email", empty state lists, no timestamps. It emails the account's
//     technical contacts on every change, so empty lists do NOT mean silent.
//   - an on-call plan: notifications on all three states, metadata, timestamps.
//   - a quiet plan, as the libcloud fixture's second plan: "label": null,
//     "critical_state": null, "warning_state": null, one notification on OK.
//     A CRITICAL alarm on it pages nobody.
//
// The *_state lists hold notification IDs ("nt…"). On the last page of the
// list the metadata has no next_marker key at all, as the fixtures show.

// BuiltinPlanID is the managed plan every account has.
const BuiltinPlanID = "npTechnicalContactsEmail"

// quietPlanShare and onCallPlanShare are the shares of alarms on the quiet
// and the on-call plan; the rest use the built-in plan.
const (
	quietPlanShare  = 0.04
	onCallPlanShare = 0.46
)

// NotificationPlan is one plan as served.
type NotificationPlan struct {
	ID    string
	Label *string // nil when served null
	// The notification IDs per state; nil when served null, empty (not
	// nil) for the built-in plan's [].
	CriticalState, WarningState, OKState []string
}

type plan struct {
	NotificationPlan
	raw json.RawMessage
}

// accountPlans are an account's plans, sorted by ID, and which is which.
type accountPlans struct {
	list          []plan
	onCall, quiet string
}

type wirePlan struct {
	ID            string            `json:"id"`
	Label         *string           `json:"label"`
	CriticalState []string          `json:"critical_state"`
	WarningState  []string          `json:"warning_state"`
	OKState       []string          `json:"ok_state"`
	Metadata      map[string]string `json:"metadata,omitempty"`
	CreatedAt     int64             `json:"created_at,omitempty"`
	UpdatedAt     int64             `json:"updated_at,omitempty"`
}

// hashID is prefix followed by 8 alphanumerics drawn from h.
func hashID(prefix string, h uint64) string {
	b := []byte(prefix)
	for range 8 {
		b = append(b, base62[h%62])
		h /= 62
	}
	return string(b)
}

// buildPlans makes the account's plans from the seed and the username.
func buildPlans(seed int64, username string) accountPlans {
	id := func(prefix, what string) string { return hashID(prefix, hashStrings(seed, "plan", username, what)) }
	email, pager, sms := id("nt", "email"), id("nt", "pager"), id("nt", "sms")
	created := epochMin + int64(hashStrings(seed, "plan created", username)%uint64(5*365*day))
	plans := accountPlans{onCall: id("np", "on-call"), quiet: id("np", "quiet")}
	wires := []wirePlan{
		{ID: BuiltinPlanID, Label: ptr("Technical Contacts - Email"), CriticalState: []string{}, WarningState: []string{}, OKState: []string{}},
		{ID: plans.onCall, Label: ptr("Operations on-call"), CriticalState: []string{pager, email}, WarningState: []string{email}, OKState: []string{email},
			Metadata: map[string]string{"cli": "rackmoncli"}, CreatedAt: created, UpdatedAt: created + 17*day},
		{ID: plans.quiet, OKState: []string{sms}, CreatedAt: created + 3*day, UpdatedAt: created + 3*day},
	}
	for _, w := range wires {
		plans.list = append(plans.list, plan{
			NotificationPlan: NotificationPlan{ID: w.ID, Label: w.Label, CriticalState: w.CriticalState, WarningState: w.WarningState, OKState: w.OKState},
			raw:              mustJSON(w),
		})
	}
	slices.SortFunc(plans.list, func(a, b plan) int { return strings.Compare(a.ID, b.ID) })
	return plans
}

// pick is the plan of the alarm with the given ID.
func (p accountPlans) pick(seed int64, username, alarmID string) string {
	switch u := unit(hashStrings(seed, "alarm plan", username, alarmID)); {
	case u < quietPlanShare:
		return p.quiet
	case u < quietPlanShare+onCallPlanShare:
		return p.onCall
	}
	return BuiltinPlanID
}

func (p accountPlans) byID(id string) (plan, bool) {
	i, ok := slices.BinarySearchFunc(p.list, id, func(x plan, id string) int { return strings.Compare(x.ID, id) })
	if !ok {
		return plan{}, false
	}
	return p.list[i], true
}

// NotificationPlans lists the account's plans sorted by ID; nil for an
// unknown account.
func (s *Server) NotificationPlans(username string) []NotificationPlan {
	s.mu.Lock()
	a := s.byUser[username]
	s.mu.Unlock()
	if a == nil {
		return nil
	}
	out := make([]NotificationPlan, len(a.plans.list))
	for i, p := range a.plans.list {
		out[i] = NotificationPlan{ID: p.ID, Label: clonePtr(p.Label),
			CriticalState: slices.Clone(p.CriticalState), WarningState: slices.Clone(p.WarningState), OKState: slices.Clone(p.OKState)}
	}
	return out
}

// serveNotificationPlans answers GET /notification_plans and
// GET /notification_plans/{id}.
func (s *Server) serveNotificationPlans(w http.ResponseWriter, r *http.Request, m *monReq) {
	if s.injectFault(w, m) {
		return
	}
	if id, ok := strings.CutPrefix(m.sub, "notification_plans/"); ok {
		p, found := m.a.plans.byID(id)
		if !found {
			s.writeMonitoringFault(w, http.StatusNotFound, "notFoundError", "404", "Object does not exist",
				fmt.Sprintf("Object \"NotificationPlan\" with key \"%s\" does not exist", id))
			return
		}
		writeJSONBody(w, m.f, p.raw)
		return
	}
	list := m.a.plans.list
	if want := r.URL.Query()["id"]; len(want) > 0 {
		list = slices.DeleteFunc(slices.Clone(list), func(p plan) bool { return !slices.Contains(want, p.ID) })
	}
	ids := make([]string, len(list))
	for i, p := range list {
		ids[i] = p.ID
	}
	start, end, meta, ok := s.idPage(w, r, m, ids)
	if !ok {
		return
	}
	var buf bytes.Buffer
	buf.WriteString(`{"values":[`)
	for i, p := range list[start:end] {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(p.raw)
	}
	buf.WriteString(`],"metadata":`)
	if meta.NextMarker == nil {
		buf.Write(mustJSON(lastPageMetadata{Count: meta.Count, Limit: meta.Limit, Marker: meta.Marker, NextHref: meta.NextHref}))
	} else {
		buf.Write(mustJSON(meta))
	}
	buf.WriteByte('}')
	writeJSONBody(w, m.f, buf.Bytes())
}
