package handlers

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"cmdash/monitoring"
)

// maxAPIAcks caps GET /api/v1/acks?all=1 (newest first); ended
// acknowledgements are pruned with the history anyway.
const maxAPIAcks = 1000

// apiAck is an acknowledgement as the API shows it.
type apiAck struct {
	ID          int64      `json:"id"`
	Username    string     `json:"username"`
	AccountID   int64      `json:"account_id"`
	ServerID    string     `json:"server_id"`
	ServerLabel string     `json:"server_label"`
	AlarmID     *string    `json:"alarm_id"` // null: the whole server
	AlarmLabel  *string    `json:"alarm_label"`
	Note        string     `json:"note"`
	CreatedBy   string     `json:"created_by"`
	CreatedAt   time.Time  `json:"created_at"`
	ExpiresAt   *time.Time `json:"expires_at"` // null: until it recovers
	StateAtAck  string     `json:"state_at_ack"`
	Active      bool       `json:"active"`
	EndedAt     *time.Time `json:"ended_at"`
	EndReason   string     `json:"end_reason,omitempty"`
	EndedBy     string     `json:"ended_by,omitempty"`
}

// toAPIAck is an acknowledgement as the API shows it, with its account's
// username.
func toAPIAck(a monitoring.Ack, username string) apiAck {
	out := apiAck{
		ID: a.ID, Username: username, AccountID: a.AccountID, ServerID: a.ServerID, ServerLabel: a.ServerLabel,
		Note: a.Note, CreatedBy: a.CreatedBy, CreatedAt: a.CreatedAt, ExpiresAt: timePtr(a.ExpiresAt),
		StateAtAck: string(a.StateAtAck), Active: a.Active(), EndedAt: timePtr(a.EndedAt), EndReason: a.EndReason, EndedBy: a.EndedBy,
	}
	if !a.WholeServer() {
		out.AlarmID, out.AlarmLabel = &a.AlarmID, &a.AlarmLabel
	}
	return out
}

// apiUsernames maps account ids to usernames.
func (h *Handler) apiUsernames(r *http.Request) (map[int64]string, error) {
	accts, err := h.store.ListAccounts(r.Context())
	if err != nil {
		return nil, err
	}
	out := make(map[int64]string, len(accts))
	for _, a := range accts {
		out[a.ID] = a.Username
	}
	return out, nil
}

// apiListAcks: GET /api/v1/acks, the acknowledgements in force, newest
// first; ?all=1 adds those that ended (at most maxAPIAcks in all);
// ?username= and ?server= narrow it to an account and a server of it.
func (h *Handler) apiListAcks(w http.ResponseWriter, r *http.Request) {
	qv := r.URL.Query()
	q := monitoring.AckQuery{ServerID: qv.Get("server")}
	switch qv.Get("all") {
	case "", "0", "false":
	default:
		q.IncludeEnded, q.Limit = true, maxAPIAcks
	}
	if name := qv.Get("username"); name != "" {
		a, ok := h.apiAccountNamed(w, r, name, "username", noAccountNamed)
		if !ok {
			return
		}
		q.AccountID = a.ID
	} else if q.ServerID != "" {
		apiFieldErr(w, r, http.StatusBadRequest, "username", "'server' needs the account's 'username' too.")
		return
	}
	acks, err := h.store.Acks(r.Context(), q)
	if err != nil {
		h.apiServerError(w, r, err)
		return
	}
	names, err := h.apiUsernames(r)
	if err != nil {
		h.apiServerError(w, r, err)
		return
	}
	out := make([]apiAck, 0, len(acks))
	for _, a := range acks {
		out = append(out, toAPIAck(a, names[a.AccountID]))
	}
	writeJSON(w, r, http.StatusOK, envelope{Response: "success", Message: "Acknowledgements retrieved successfully.", Data: out})
}

// apiCreateAck: POST /api/v1/acks with username (or account_id),
// server_id, alarm_id (none for the whole server), note and expiry (1h,
// 4h, 24h or recovered). 201 with the acknowledgement; a refusal names the
// field: 400 for bad input, 404 for an unknown account, server or alarm,
// 409 for one that is OK, not counted, or acknowledged already.
func (h *Handler) apiCreateAck(w http.ResponseWriter, r *http.Request) {
	p, ok := apiParams(w, r, "username", "account_id", "server_id", "server", "alarm_id", "alarm", "note", "expiry")
	if !ok {
		return
	}
	var acct monitoring.Account
	username, accountID := strings.TrimSpace(p["username"]), strings.TrimSpace(p["account_id"])
	switch {
	case username != "":
		if acct, ok = h.apiAccountNamed(w, r, username, "username", "No such account."); !ok {
			return
		}
	case accountID != "":
		id, err := strconv.ParseInt(accountID, 10, 64)
		if err != nil || id <= 0 {
			apiFieldErr(w, r, http.StatusBadRequest, "account_id", "'account_id' must be an account's id, a positive whole number.")
			return
		}
		acct, err = h.store.Account(r.Context(), id)
		if errors.Is(err, monitoring.ErrNotFound) {
			apiFieldErr(w, r, http.StatusNotFound, "account_id", "No such account.")
			return
		}
		if err != nil {
			h.apiServerError(w, r, err)
			return
		}
	default:
		apiFieldErr(w, r, http.StatusBadRequest, "username", "Missing 'username' or 'account_id' field.")
		return
	}
	in := monitoring.AckInput{AccountID: acct.ID, ServerID: first(p, "server_id", "server"), AlarmID: first(p, "alarm_id", "alarm"),
		Note: p["note"], Expiry: strings.TrimSpace(p["expiry"]), By: currentUser(r)}
	if in.ServerID == "" || len(in.ServerID) > 255 {
		apiFieldErr(w, r, http.StatusBadRequest, "server_id", "Missing 'server_id' field.")
		return
	}
	errs := map[string]string{}
	if checkAck(in, errs); len(errs) > 0 {
		for _, f := range []string{"note", "alarm"} {
			if msg, ok := errs[f]; ok {
				apiFieldErr(w, r, http.StatusBadRequest, apiAckField(f), msg)
				return
			}
		}
	}
	a, err := h.store.CreateAck(r.Context(), in)
	var ae *monitoring.AckError
	if errors.As(err, &ae) {
		status := http.StatusBadRequest
		switch ae.Kind {
		case monitoring.AckUnknown:
			status = http.StatusNotFound
		case monitoring.AckConflict:
			status = http.StatusConflict
		}
		apiFieldErr(w, r, status, apiAckField(ae.Field), ae.Message)
		return
	}
	if err != nil {
		h.apiServerError(w, r, err)
		return
	}
	h.auditAck(r, monitoring.AuditAckCreated, a, acct.Username)
	writeJSON(w, r, http.StatusCreated, envelope{Response: "success", Message: "Acknowledged.", Data: toAPIAck(a, acct.Username)})
}

// apiAckField names a field of monitoring.AckError as the API takes it.
func apiAckField(f string) string {
	switch f {
	case "server":
		return "server_id"
	case "alarm":
		return "alarm_id"
	case "account":
		return "account_id"
	}
	return f
}

// first is the first of the named parameters that is set, trimmed.
func first(p map[string]string, names ...string) string {
	for _, n := range names {
		if v := strings.TrimSpace(p[n]); v != "" {
			return v
		}
	}
	return ""
}

// apiDeleteAck: DELETE /api/v1/acks with id: removes an acknowledgement in
// force, and answers it as it ended. 404 for an unknown id or one that has
// ended already.
func (h *Handler) apiDeleteAck(w http.ResponseWriter, r *http.Request) {
	p, ok := apiParams(w, r, "id")
	if !ok {
		return
	}
	raw := strings.TrimSpace(p["id"])
	if raw == "" {
		apiFieldErr(w, r, http.StatusBadRequest, "id", "Missing 'id' field.")
		return
	}
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		apiFieldErr(w, r, http.StatusBadRequest, "id", "'id' must be an acknowledgement's id, a positive whole number.")
		return
	}
	err = h.store.EndAck(r.Context(), id, currentUser(r))
	if errors.Is(err, monitoring.ErrNotFound) {
		msg := "No acknowledgement with this id."
		if _, gerr := h.store.Ack(r.Context(), id); gerr == nil {
			msg = "This acknowledgement has ended already."
		}
		apiFieldErr(w, r, http.StatusNotFound, "id", msg)
		return
	}
	if err != nil {
		h.apiServerError(w, r, err)
		return
	}
	a, err := h.store.Ack(r.Context(), id)
	if err != nil {
		h.apiServerError(w, r, err)
		return
	}
	names, err := h.apiUsernames(r)
	if err != nil {
		h.apiServerError(w, r, err)
		return
	}
	h.auditAck(r, monitoring.AuditAckRemoved, a, names[a.AccountID])
	writeJSON(w, r, http.StatusOK, envelope{Response: "success", Message: "Acknowledgement removed.", Data: toAPIAck(a, names[a.AccountID])})
}
