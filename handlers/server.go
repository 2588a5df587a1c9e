package handlers

import (
	"bytes"
	"errors"
	"net/http"
	"slices"
	"strconv"

	"github.com/a-h/templ"

	"cmdash/monitoring"
	"cmdash/monitoring/wall"
	"cmdash/views"
)

// showServer serves one server's alarms, worst first; for htmx, only the
// part that refreshes (views.ServerFragment), answered 304 when the client
// has it already.
//
// Unlike the wall, the page is rendered on every request and its ETag is a
// hash of the bytes. The wall model's version cannot stand for it (it moves
// with the counts, not with an alarm's status text), and the store's
// generation advances with every stored poll of any account, so a page kept
// per generation would be rendered about as often as asked for anyway. One
// server is a few kilobytes to render and hash; the 304 saves the wire and
// the browser's work, which is what a refresh every 20 s costs.
func (h *Handler) showServer(w http.ResponseWriter, r *http.Request) {
	// On a history-cache miss htmx asks with HX-Request too, but puts what
	// it gets in place of the whole page.
	fragment := isHTMX(r) && r.Header.Get("HX-History-Restore-Request") != "true"
	if fragment && h.fromOtherBuild(r) {
		reload(w)
		return
	}
	notFound := func(what string) {
		if fragment {
			// A refresh cannot show the 404 in place of the alarms: reload
			// the page, which then says what is gone.
			w.Header().Set("HX-Refresh", "true")
		}
		h.notFound(w, r, what)
	}
	sp, m, ok := h.serverPage(w, r, notFound)
	if !ok {
		return
	}

	var c templ.Component = views.ServerFragment(sp)
	if !fragment {
		c = views.ServerView(h.serverLayout(m, sp, currentUser(r)), sp)
	}
	h.renderValidated(w, r, c)
}

// renderValidated renders a page made per request (the server page, the
// timeline) and answers it with a strong validator, so a refresh that
// brings the same bytes is a 304.
func (h *Handler) renderValidated(w http.ResponseWriter, r *http.Request, c templ.Component) {
	var buf bytes.Buffer
	if err := c.Render(r.Context(), &buf); err != nil {
		h.serverError(w, r, err)
		return
	}
	p := &page{}
	p.make(buf.Bytes())
	// Signed-in pages are for one browser's cache, not a shared one.
	cc := "no-cache"
	if currentUser(r) != "" {
		cc = "private, no-cache"
	}
	writePage(w, r, p, cc)
}

// serverPage reads what the server page of the request's account and
// server shows: the server's alarms, worst first, its tile as the wall
// shows it, and its acknowledgements. When there is no such account or
// server it calls notFound; on a failure it answers 500; either way it
// returns false.
func (h *Handler) serverPage(w http.ResponseWriter, r *http.Request, notFound func(string)) (views.ServerPage, *wall.Model, bool) {
	var sp views.ServerPage
	id, ok := pathID(r, "id")
	serverID := r.PathValue("server")
	if !ok || serverID == "" || len(serverID) > 255 {
		notFound("There is no such server.")
		return sp, nil, false
	}
	ctx := r.Context()
	acct, err := h.store.Account(ctx, id)
	if errors.Is(err, monitoring.ErrNotFound) {
		notFound("There is no such account.")
		return sp, nil, false
	}
	if err != nil {
		h.serverError(w, r, err)
		return sp, nil, false
	}
	snap, err := h.store.SnapshotServer(ctx, id, serverID)
	if err != nil {
		h.serverError(w, r, err)
		return sp, nil, false
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
		notFound("There is no server with that id in the latest data of " + acct.Name() + ".")
		return sp, nil, false
	}
	m, err := h.wall.Current(ctx)
	if err != nil {
		h.serverError(w, r, err)
		return sp, nil, false
	}
	views.SortAlarms(srv.Alarms) // srv is this request's copy
	tile := wall.Tile{ID: srv.ID, Label: srv.Label, Counts: srv.Counts, Worst: srv.Worst}
	sp = views.ServerPage{
		AccountID: id, AccountName: acct.Name(), Server: *srv, Tile: tile,
		Self:         views.TileHref(id, tile),
		RefreshEvery: h.opts.RefreshInterval, PollEvery: h.opts.PollInterval,
		// Stale and the error as the wall says them; the model may not have
		// the account yet when it was added a moment ago.
		Stale: acct.Status.ErrorCount > 0, Error: acct.Status.LastError, Failures: acct.Status.ErrorCount,
	}
	if sec := m.Section(id); sec != nil {
		sp.Stale, sp.DataAt, sp.Error, sp.Failures = sec.Stale, sec.DataAt, sec.Error, sec.Failures
		for _, t := range sec.Tiles {
			if t.ID == srv.ID && t.Counts == srv.Counts {
				sp.Tile.Acked, sp.Tile.AckedAlarms = t.Acked, t.AckedAlarms
				break
			}
		}
	}
	if sp.Stale && sp.DataAt.IsZero() {
		sp.DataAt = snap.FetchedAt
	}
	if sp.Acks, err = h.serverAcks(r, id, serverID); err != nil {
		h.serverError(w, r, err)
		return sp, nil, false
	}
	if sp.History, err = h.serverHistory(r, id, serverID, acct.Name()); err != nil {
		h.serverError(w, r, err)
		return sp, nil, false
	}
	return sp, m, true
}

// serverHistoryShown is how many of a server's latest changes its page
// shows.
const serverHistoryShown = 60

// serverHistory is the server's latest recorded changes, newest first, a
// recovery with how long its problem lasted.
func (h *Handler) serverHistory(r *http.Request, accountID int64, serverID, account string) ([]views.TimelineRow, error) {
	evs, _, err := h.store.Events(r.Context(), monitoring.EventQuery{AccountID: accountID, ServerID: serverID, Limit: serverHistoryShown})
	if err != nil {
		return nil, err
	}
	starts, err := h.store.ProblemStarts(r.Context(), evs)
	if err != nil {
		return nil, err
	}
	rows := make([]views.TimelineRow, len(evs))
	for i, e := range evs {
		rows[i] = views.TimelineRow{Recent: wall.Recent{Event: e, Account: account}}
		if at, ok := starts[e.ID]; ok && e.At.After(at) {
			rows[i].Lasted = e.At.Sub(at)
		}
	}
	slices.SortStableFunc(rows, func(a, b views.TimelineRow) int { return b.At.Compare(a.At) })
	return rows, nil
}

// serverLayout is the server page's shell.
func (h *Handler) serverLayout(m *wall.Model, sp views.ServerPage, user string) views.Layout {
	l := h.modelLayout(m, sp.Server.Label, "account-"+strconv.FormatInt(sp.AccountID, 10), "")
	l.User = user
	return l
}

// fromOtherBuild reports an htmx request from a page loaded before an
// upgrade: it cannot show today's fragments (they need today's stylesheet
// and ring definitions). A request without HX-Current-URL is a script's,
// not a page's.
func (h *Handler) fromOtherBuild(r *http.Request) bool {
	return r.Header.Get("HX-Current-URL") != "" && r.Header.Get(views.BuildHeader) != h.build()
}

// reload has htmx load the whole page anew.
func reload(w http.ResponseWriter) {
	w.Header().Set("HX-Refresh", "true")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}
