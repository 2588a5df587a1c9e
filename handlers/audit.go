package handlers

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"cmdash/monitoring"
	"cmdash/views"
)

// The audit log records every change made to the dashboard's settings and
// state (accounts, users and roles, passwords, API tokens, wall links,
// acknowledgements, saved filters) and every sign-in, sign-in refused and
// sign-out: who, from which address, what, to what, and how in words.
// Never a secret: an API key is "replaced", a password "changed", and a
// token or wall link is named by its name alone.

// audit records that the request's user (or token) did action to target.
// A failure to record is logged, never the request's: the change is made.
func (h *Handler) audit(r *http.Request, action, target, detail string) {
	p := principalOf(r)
	e := monitoring.AuditEntry{Actor: p.who(), ActorKind: monitoring.ActorUser, Action: action, Target: target, Detail: detail}
	switch {
	case p.user == "":
		e.Actor, e.ActorKind = "", monitoring.ActorAnonymous
	case p.token != "":
		e.ActorKind = monitoring.ActorToken
	}
	h.recordAudit(r, e)
}

// auditAs records what user did with a request that does not carry them
// (yet): a sign-in, the first user's setup.
func (h *Handler) auditAs(r *http.Request, user, action, target, detail string) {
	h.recordAudit(r, monitoring.AuditEntry{Actor: user, ActorKind: monitoring.ActorUser, Action: action, Target: target, Detail: detail})
}

// recordAudit stamps e with the time and the client's address and stores
// it, even when the client has hung up meanwhile: the change was made.
func (h *Handler) recordAudit(r *http.Request, e monitoring.AuditEntry) {
	e.At, e.Address = h.now(), h.clientIP(r)
	if err := h.store.RecordAudit(context.WithoutCancel(r.Context()), e); err != nil {
		h.log.Error("audit log: not recorded", "action", e.Action, "actor", e.Actor, "target", e.Target, "err", err)
	}
}

// quoted is typed text as an audit detail quotes it, cut after n
// characters.
func quoted(s string, n int) string { return "“" + monitoring.ClipAudit(s, n) + "”" }

// auditPageRows is how many entries the audit page shows: the newest.
const auditPageRows = 200

// auditSpan is a choice of how far back the audit page looks.
type auditSpan struct {
	views.AuditSpan
	back time.Duration // 0: everything kept
}

// auditSpans are the choices of how far back the audit page looks, the
// shortest first.
var auditSpans = []auditSpan{
	{views.AuditSpan{Value: "1h", Label: "the last hour"}, time.Hour},
	{views.AuditSpan{Value: "24h", Label: "the last 24 hours"}, 24 * time.Hour},
	{views.AuditSpan{Value: "7d", Label: "the last 7 days"}, 7 * 24 * time.Hour},
	{views.AuditSpan{Value: "30d", Label: "the last 30 days"}, 30 * 24 * time.Hour},
	{views.AuditSpan{Value: "", Label: "all kept"}, 0},
}

// showAudit: GET /settings/audit?actor=&kind=&since=, the newest
// auditPageRows entries the filters select. A filter it cannot read
// answers 400 with the form and what is wrong.
func (h *Handler) showAudit(w http.ResponseWriter, r *http.Request) {
	qv := r.URL.Query()
	a := views.AuditLog{Actor: strings.TrimSpace(qv.Get("actor")), Kind: qv.Get("kind"), Since: qv.Get("since"), Shown: auditPageRows}
	for _, s := range auditSpans {
		a.Spans = append(a.Spans, s.AuditSpan)
	}
	q := monitoring.AuditQuery{Actor: a.Actor, Action: a.Kind, Limit: auditPageRows + 1}
	var problems []string
	if p := auditActorProblem("The user", a.Actor); p != "" {
		problems, a.Actor = append(problems, p), ""
	}
	if a.Kind != "" && !slices.ContainsFunc(monitoring.AuditKinds, func(k monitoring.AuditKind) bool { return k.Name == a.Kind }) {
		problems, a.Kind = append(problems, "There is no such kind of action: choose one from the list."), ""
	}
	span := slices.IndexFunc(auditSpans, func(s auditSpan) bool { return s.Value == a.Since })
	switch {
	case span < 0:
		problems, a.Since = append(problems, "“Since” takes one of the choices in the list (1h, 24h, 7d, 30d, or nothing for all)."), ""
	case auditSpans[span].back > 0:
		q.Since = h.now().Add(-auditSpans[span].back)
	}
	l := h.layout(r, "Audit log", "settings")
	if len(problems) > 0 {
		a.Message = strings.Join(problems, " ")
		h.render(w, r, http.StatusBadRequest, views.AuditView(l, a))
		return
	}
	rows, err := h.store.AuditLog(r.Context(), q)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	if len(rows) > auditPageRows {
		rows, a.More = rows[:auditPageRows], true
	}
	a.Rows = rows
	h.render(w, r, http.StatusOK, views.AuditView(l, a))
}

// auditActorProblem says what is wrong with a user's name to filter by,
// "" when nothing is.
func auditActorProblem(field, name string) string {
	if utf8.RuneCountInString(name) > maxField {
		return field + " is longer than 255 characters."
	}
	return monitoring.TextProblem(field, name)
}

// apiAuditEntry is one entry of the audit log as the API shows it.
type apiAuditEntry struct {
	ID        int64     `json:"id"`
	At        time.Time `json:"at"`
	Actor     string    `json:"actor"` // "" for nobody signed in
	ActorKind string    `json:"actor_kind"`
	Address   string    `json:"address"`
	Action    string    `json:"action"`
	Target    string    `json:"target"`
	Detail    string    `json:"detail"`
}

// auditEnvelope adds whether older entries match too.
type auditEnvelope struct {
	envelope
	More bool `json:"more"`
}

// apiAudit: GET /api/v1/audit?since=<RFC 3339>&until=<RFC 3339>&limit=<n>
// &actor=<user>&action=<action or kind>, the newest limit entries from
// since to until (both included), newest first; more says older ones
// match too: ask again with until set to the last one's at, and skip the
// ids already seen (entries of the same millisecond come again, so none
// is lost between pages).
func (h *Handler) apiAudit(w http.ResponseWriter, r *http.Request) {
	params := r.URL.Query()
	q := monitoring.AuditQuery{Limit: monitoring.DefaultAuditLimit}
	if params.Has("limit") {
		n, err := strconv.Atoi(params.Get("limit"))
		if err != nil || n < 1 || n > monitoring.MaxAuditLimit {
			apiError(w, r, http.StatusBadRequest, "'limit' must be a whole number from 1 to "+strconv.Itoa(monitoring.MaxAuditLimit)+".")
			return
		}
		q.Limit = n
	}
	for _, p := range []struct {
		name string
		to   *time.Time
	}{{"since", &q.Since}, {"until", &q.Until}} {
		if !params.Has(p.name) {
			continue
		}
		t, err := time.Parse(time.RFC3339, params.Get(p.name))
		if err != nil {
			apiError(w, r, http.StatusBadRequest, "'"+p.name+"' must be a time in RFC 3339, such as 2025-03-01T12:00:00Z.")
			return
		}
		*p.to = t
	}
	q.Actor = strings.TrimSpace(params.Get("actor"))
	if p := auditActorProblem("'actor'", q.Actor); p != "" {
		apiError(w, r, http.StatusBadRequest, p)
		return
	}
	if q.Action = strings.TrimSpace(params.Get("action")); q.Action != "" {
		if _, ok := monitoring.AuditActions(q.Action); !ok {
			kinds := make([]string, 0, len(monitoring.AuditKinds))
			for _, k := range monitoring.AuditKinds {
				kinds = append(kinds, k.Name)
			}
			apiError(w, r, http.StatusBadRequest, "'action' must be an action, such as account.added, or a kind of them: "+strings.Join(kinds, ", ")+".")
			return
		}
	}
	limit := q.Limit
	q.Limit++ // one more, to say whether there are more
	entries, err := h.store.AuditLog(r.Context(), q)
	if err != nil {
		h.apiServerError(w, r, err)
		return
	}
	more := len(entries) > limit
	if more {
		entries = entries[:limit]
	}
	out := make([]apiAuditEntry, 0, len(entries))
	for _, e := range entries {
		out = append(out, apiAuditEntry{ID: e.ID, At: e.At, Actor: e.Actor, ActorKind: e.ActorKind, Address: e.Address,
			Action: e.Action, Target: e.Target, Detail: e.Detail})
	}
	writeJSON(w, r, http.StatusOK, auditEnvelope{envelope: envelope{Response: "success", Message: "Audit log retrieved successfully.", Data: out}, More: more})
}
