package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"cmdash/monitoring"
)

// apiMonitor is one account's cached overview.
type apiMonitor struct {
	Status     string `json:"status"` // success, error (last poll failed; values are the last good ones) or pending
	LastUpdate int64  `json:"last_update"`
	Message    string `json:"message,omitempty"`
	Values     any    `json:"values"`
}

// apiServer is a server and its alarms' latest states, in the original's
// shape.
type apiServer struct {
	Entity apiEntity       `json:"entity"`
	Alarms []apiAlarmState `json:"alarms"`
}

// apiEntity is a server as Rackspace Cloud Monitoring names it.
type apiEntity struct {
	ID      string  `json:"id"`
	Label   string  `json:"label"`
	AgentID *string `json:"agent_id"`
	URI     *string `json:"uri"`
}

// apiAlarmState is one alarm's latest state.
type apiAlarmState struct {
	State         string   `json:"state"`
	Status        string   `json:"status"`
	Timestamp     *int64   `json:"timestamp"`
	PreviousState *string  `json:"previous_state"`
	Disabled      bool     `json:"disabled"`
	Alarm         apiRef   `json:"alarm"`
	Check         apiCheck `json:"check"`
	// Disabled is as Rackspace says (the alarm or its check is disabled).
	// Counted is false when the alarm is left out of the counts, for the
	// reason "disabled", or "orphan": a latest state whose alarm is not in
	// the overview (the alarm is gone).
	Counted          bool   `json:"counted"`
	NotCountedReason string `json:"not_counted_reason,omitempty"`
	// Suppressed is the maintenance window the alarm is in now, or null.
	Suppressed *apiSuppression `json:"suppressed"`
}

// apiSuppression is a maintenance window (a Rackspace suppression). End
// is null for a window the overview names but GET /suppressions did not
// list (nothing else is known of it).
type apiSuppression struct {
	ID    string     `json:"id"`
	Label string     `json:"label"`
	Start *time.Time `json:"start"`
	End   *time.Time `json:"end"`
}

// apiRef names something by its id and label.
type apiRef struct {
	ID    string `json:"id"`
	Label string `json:"label"`
}

// apiCheck is the check an alarm watches.
type apiCheck struct {
	ID    string `json:"id"`
	Label string `json:"label"`
	Type  string `json:"type"`
}

// apiSmallServer is a server with counts only (?small).
type apiSmallServer struct {
	ServerName string         `json:"server_name"`
	Hostname   *string        `json:"hostname"`
	ID         string         `json:"id"`
	Status     apiSmallStatus `json:"status"`
}

// apiSmallStatus counts a server's alarms by state, in the original's
// words.
type apiSmallStatus struct {
	Good    int `json:"good"`
	Warning int `json:"warning"`
	Bad     int `json:"bad"`
}

// toAPIServer is a server as the API shows it, its alarms' maintenance
// windows at now among sups.
func toAPIServer(s *monitoring.Server, sups []monitoring.Suppression, now time.Time) apiServer {
	out := apiServer{Entity: apiEntity{ID: s.ID, Label: s.Label, AgentID: strPtr(s.AgentID)}, Alarms: make([]apiAlarmState, 0, len(s.Alarms))}
	if s.ServerUUID != "" {
		u := "https://" + strings.ToLower(s.Region) + ".servers.api.rackspacecloud.com/" + url.PathEscape(s.TenantID) + "/servers/" + s.ServerUUID
		out.Entity.URI = &u
	}
	for _, a := range s.Alarms {
		st := apiAlarmState{
			State: string(a.State), Status: a.Status, Disabled: a.Disabled, Counted: a.Counted(),
			Alarm: apiRef{ID: a.ID, Label: a.Label},
			Check: apiCheck{ID: a.CheckID, Label: a.CheckLabel, Type: a.CheckType},
		}
		switch {
		case a.Orphan:
			st.NotCountedReason = "orphan"
		case a.Disabled:
			st.NotCountedReason = "disabled"
		}
		if !a.Since.IsZero() {
			ms := a.Since.UnixMilli()
			st.Timestamp = &ms
		}
		if a.PreviousState != "" {
			p := string(a.PreviousState)
			st.PreviousState = &p
		}
		if win := monitoring.WindowFor(sups, s.ID, &a, now); win != nil {
			st.Suppressed = &apiSuppression{ID: win.ID, Label: win.Label, Start: timePtr(win.Start), End: timePtr(win.End)}
		}
		out.Alarms = append(out.Alarms, st)
	}
	return out
}

// apiMonitors: GET /api/v1/monitors and /api/v1/monitors/{username}, from
// the cached snapshots (never a live upstream call). ?small gives counts only.
func (h *Handler) apiMonitors(w http.ResponseWriter, r *http.Request) {
	accts, ok := h.apiAccounts(w, r)
	if !ok {
		return
	}
	_, small := r.URL.Query()["small"]
	now := time.Now()
	out := make(map[string]apiMonitor, len(accts))
	for _, a := range accts {
		snap, err := h.store.Snapshot(r.Context(), a.ID)
		if err != nil {
			h.apiServerError(w, r, err)
			return
		}
		m := apiMonitor{Status: "success", Message: a.Status.LastError}
		if a.Status.LastError != "" {
			m.Status = "error"
		}
		if snap == nil {
			m.Status, m.Values = "pending", []any{}
			if a.Status.LastError != "" {
				m.Status = "error"
			}
			out[a.Username] = m
			continue
		}
		m.LastUpdate = snap.FetchedAt.Unix()
		sups, err := h.store.AccountSuppressions(r.Context(), a.ID)
		if err != nil {
			h.apiServerError(w, r, err)
			return
		}
		if small {
			vals := make([]apiSmallServer, 0, len(snap.Servers))
			for i := range snap.Servers {
				s := &snap.Servers[i]
				vals = append(vals, apiSmallServer{ServerName: s.Label, Hostname: strPtr(s.AgentID), ID: s.ID,
					Status: apiSmallStatus{Good: s.Counts.OK, Warning: s.Counts.Warning, Bad: s.Counts.Critical}})
			}
			m.Values = vals
		} else {
			vals := make([]apiServer, 0, len(snap.Servers))
			for i := range snap.Servers {
				vals = append(vals, toAPIServer(&snap.Servers[i], sups, now))
			}
			m.Values = vals
		}
		out[a.Username] = m
	}
	writeJSON(w, r, http.StatusOK, out)
}

// apiServerDetail: GET /api/v1/monitors/{username}/{serverId}.
func (h *Handler) apiServerDetail(w http.ResponseWriter, r *http.Request) {
	a, ok := h.apiAccountNamed(w, r, r.PathValue("username"), "", noAccountNamed)
	if !ok {
		return
	}
	id := r.PathValue("server")
	snap, err := h.store.SnapshotServer(r.Context(), a.ID, id)
	if err != nil {
		h.apiServerError(w, r, err)
		return
	}
	sups, err := h.store.AccountSuppressions(r.Context(), a.ID)
	if err != nil {
		h.apiServerError(w, r, err)
		return
	}
	if snap != nil {
		for i := range snap.Servers {
			if snap.Servers[i].ID == id {
				writeJSON(w, r, http.StatusOK, envelope{Response: "success", Message: "Server information retrieved successfully.",
					Data: toAPIServer(&snap.Servers[i], sups, time.Now())})
				return
			}
		}
	}
	apiError(w, r, http.StatusNotFound, "Server with 'server_id' not found.")
}
