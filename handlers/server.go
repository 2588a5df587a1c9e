package handlers

import (
	"errors"
	"net/http"
	"strconv"

	"cmdash/monitoring"
	"cmdash/monitoring/wall"
	"cmdash/views"
)

// showServer renders one server's alarms.
func (h *Handler) showServer(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	serverID := r.PathValue("server")
	if !ok || serverID == "" || len(serverID) > 255 {
		h.notFound(w, r, "There is no such server.")
		return
	}
	acct, err := h.store.Account(r.Context(), id)
	if errors.Is(err, monitoring.ErrNotFound) {
		h.notFound(w, r, "There is no such account.")
		return
	}
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	snap, err := h.store.SnapshotServer(r.Context(), id, serverID)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	var srv *monitoring.Server
	if snap != nil {
		for i := range snap.Servers {
			if snap.Servers[i].ID == serverID {
				srv = &snap.Servers[i]
				break
			}
		}
	}
	if srv == nil {
		h.notFound(w, r, "There is no server with that id in the latest data of "+acct.Name()+".")
		return
	}
	m, err := h.wall.Current(r.Context())
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	views.SortAlarms(srv.Alarms) // srv is this request's copy
	stale := acct.Status.ErrorCount > 0
	if sec := m.Section(id); sec != nil {
		stale = sec.Stale
	}
	page := views.ServerPage{
		AccountID: id, AccountName: acct.Name(), Server: *srv,
		Tile:      wall.Tile{ID: srv.ID, Label: srv.Label, Counts: srv.Counts, Worst: srv.Worst},
		FetchedAt: snap.FetchedAt, Now: h.now(), Stale: stale, Error: acct.Status.LastError,
	}
	h.render(w, r, http.StatusOK, views.ServerView(h.layout(r, srv.Label, "account-"+strconv.FormatInt(id, 10)), page))
}
