package handlers

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/a-h/templ"

	"cmdash/monitoring"
	"cmdash/monitoring/wall"
	"cmdash/views"
)

// showDashboard serves every account; for htmx, only the grid.
func (h *Handler) showDashboard(w http.ResponseWriter, r *http.Request) {
	h.serveWall(w, r, 0)
}

// showAccount serves one account alone.
func (h *Handler) showAccount(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		h.notFound(w, r, "There is no such account.")
		return
	}
	h.serveWall(w, r, id)
}

// maxCachedQuery: longer filters are answered but not kept.
const maxCachedQuery = 200

// serveWall answers a wall page (all accounts, or one when accountID > 0)
// from the current read model. Pages are rendered once per model version,
// filter and audience, and answered 304 when the client has them already.
func (h *Handler) serveWall(w http.ResponseWriter, r *http.Request, accountID int64) {
	m, err := h.wall.Current(r.Context())
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	heading, path, active := "All accounts", "/", "dashboard"
	if accountID > 0 {
		sec := m.Section(accountID)
		if sec == nil {
			h.notFound(w, r, "There is no such account.")
			return
		}
		heading, path, active = sec.Name, "/accounts/"+strconv.FormatInt(accountID, 10), "account-"+strconv.FormatInt(accountID, 10)
	}
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	key := pageKey{version: m.Version, viewKey: viewKey{
		path: path, query: q, signedIn: currentUser(r) != "",
		// On a history-cache miss htmx asks with HX-Request too, but puts
		// what it gets in place of the whole page.
		fragment: isHTMX(r) && r.Header.Get("HX-History-Restore-Request") != "true",
	}}
	// A page loaded before an upgrade cannot show today's fragments (they
	// need today's stylesheet and ring definitions): have htmx reload it.
	// (A history restore gets a whole page, which is always fine.)
	if key.fragment && r.Header.Get("HX-Current-URL") != "" && r.Header.Get(views.BuildHeader) != h.build() {
		w.Header().Set("HX-Refresh", "true")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
		return
	}
	if len(q) > maxCachedQuery {
		key.version = 0 // rendered, never kept
	}
	p, err := h.pages.get(key, func() ([]byte, error) {
		g := h.grid(m, q, accountID, path, key.signedIn)
		var c templ.Component = views.GridView(g)
		if !key.fragment {
			l := h.modelLayout(m, heading, active, q)
			l.SignedIn = key.signedIn
			c = views.Dashboard(l, heading, path, g)
		}
		var buf bytes.Buffer
		err := c.Render(context.WithoutCancel(r.Context()), &buf) // others may wait for it
		return buf.Bytes(), err
	})
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	// Signed-in pages are for one browser's cache, not a shared one.
	cc := "no-cache"
	if key.signedIn {
		cc = "private, no-cache"
	}
	writePage(w, r, p, cc)
}

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

// refreshAccount asks the poller to poll an account now.
func (h *Handler) refreshAccount(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		h.notFound(w, r, "There is no such account.")
		return
	}
	if err := h.poller.RefreshNow(r.Context(), id); errors.Is(err, monitoring.ErrNotFound) {
		h.notFound(w, r, "There is no such account.")
		return
	} else if err != nil {
		h.serverError(w, r, err)
		return
	}
	back := "/"
	if ref, err := url.Parse(r.Referer()); err == nil && ref.Host == r.Host {
		back = safeNext(ref.RequestURI())
	}
	seeOther(w, r, back)
}

// grid is what the refreshing part of a wall page shows.
func (h *Handler) grid(m *wall.Model, q string, accountID int64, path string, signedIn bool) views.Grid {
	return views.Grid{
		View: m.View(wall.ParseQuery(q), accountID), Self: selfURL(path, q),
		RefreshEvery: h.opts.RefreshInterval, PollEvery: h.opts.PollInterval,
		SignedIn: signedIn,
	}
}

func selfURL(path, q string) string {
	if q == "" {
		return path
	}
	return path + "?q=" + url.QueryEscape(q)
}

func pathID(r *http.Request, name string) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	return id, err == nil && id > 0
}
