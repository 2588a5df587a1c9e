package handlers

import (
	"net/http"
	"slices"
	"strconv"
	"time"

	"cmdash/monitoring"
)

// apiEvent is one recorded change (monitoring.Event). Times are Unix
// milliseconds, as in the rest of the API.
type apiEvent struct {
	ID      int64  `json:"id"`
	Account string `json:"account"` // the account's username
	Kind    string `json:"kind"`
	// At is when it happened (Rackspace's timestamp of a new state, else
	// the poll's time); RecordedAt when the dashboard stored it, the time
	// to page by.
	At         int64   `json:"at"`
	RecordedAt int64   `json:"recorded_at"`
	Server     apiRef  `json:"server"`
	Alarm      *apiRef `json:"alarm"` // null for server_added and server_removed
	// From and To are the counted states before and after; null when
	// nothing was counted (absent or disabled).
	From   *string `json:"from"`
	To     *string `json:"to"`
	Status string  `json:"status,omitempty"`
	// FromChangelog: only Rackspace's alarm changelog told of it (a change
	// between polls, or while the dashboard was away).
	FromChangelog bool `json:"from_changelog,omitempty"`
}

// eventsEnvelope adds whether more events follow the last one.
type eventsEnvelope struct {
	envelope
	More bool `json:"more"`
}

// minSinceMS: a since below it (1973) is taken for seconds, a mistake
// worth saying rather than answering with every event since 1970.
const minSinceMS = 100_000_000_000

// apiEvents: GET /api/v1/events?since=<unix ms>&limit=<n>&account=<username>.
// With since, the events recorded after it, oldest first, so a client
// that passes the last recorded_at it saw pages forward and misses
// nothing; more says whether to ask again at once. Without since, the
// newest limit events, also oldest first.
func (h *Handler) apiEvents(w http.ResponseWriter, r *http.Request) {
	params := r.URL.Query()
	q := monitoring.EventQuery{Limit: monitoring.DefaultEventLimit}
	if params.Has("limit") {
		n, err := strconv.Atoi(params.Get("limit"))
		if err != nil || n < 1 || n > monitoring.MaxEventLimit {
			apiError(w, r, http.StatusBadRequest, "'limit' must be a whole number from 1 to "+strconv.Itoa(monitoring.MaxEventLimit)+".")
			return
		}
		q.Limit = n
	}
	if params.Has("since") {
		ms, err := strconv.ParseInt(params.Get("since"), 10, 64)
		switch {
		case err != nil || ms < 0:
			apiError(w, r, http.StatusBadRequest, "'since' must be a time in Unix milliseconds, such as 1700000000000.")
			return
		case ms > 0 && ms < minSinceMS:
			apiError(w, r, http.StatusBadRequest, "'since' looks like seconds; send Unix milliseconds, such as 1700000000000.")
			return
		}
		q.Since, q.Oldest = time.UnixMilli(ms), true
	}
	names := map[int64]string{} // account usernames by id
	if params.Has("account") {
		a, ok := h.apiAccountNamed(w, r, params.Get("account"), "", noAccountNamed)
		if !ok {
			return
		}
		q.AccountID, names[a.ID] = a.ID, a.Username
	} else {
		accts, err := h.store.ListAccounts(r.Context())
		if err != nil {
			h.apiServerError(w, r, err)
			return
		}
		for _, a := range accts {
			names[a.ID] = a.Username
		}
	}
	evs, more, err := h.store.Events(r.Context(), q)
	if err != nil {
		h.apiServerError(w, r, err)
		return
	}
	if !q.Oldest {
		slices.Reverse(evs)
		more = false // nothing is newer
	}
	out := make([]apiEvent, 0, len(evs))
	for _, e := range evs {
		ae := apiEvent{ID: e.ID, Account: names[e.AccountID], Kind: string(e.Kind), At: e.At.UnixMilli(), RecordedAt: e.RecordedAt.UnixMilli(),
			Server: apiRef{ID: e.ServerID, Label: e.ServerLabel}, From: strPtr(string(e.From)), To: strPtr(string(e.To)), Status: e.Status,
			FromChangelog: e.FromChangelog}
		if e.AlarmID != "" {
			ae.Alarm = &apiRef{ID: e.AlarmID, Label: e.AlarmLabel}
		}
		out = append(out, ae)
	}
	writeJSON(w, r, http.StatusOK, eventsEnvelope{envelope: envelope{Response: "success", Message: "Events retrieved successfully.", Data: out}, More: more})
}
