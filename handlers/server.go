package handlers

import (
	"bytes"
	"errors"
	"net/http"
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
// server shows (see wall.Service.Server). When there is no such account or
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
	signedIn := currentUser(r) != ""
	d, m, err := h.wall.Server(r.Context(), id, serverID, signedIn)
	var nf *wall.NotFoundError
	if errors.As(err, &nf) {
		notFound(nf.What)
		return sp, nil, false
	}
	if err != nil {
		h.serverError(w, r, err)
		return sp, nil, false
	}
	sp = views.ServerPage{
		AccountID: id, AccountName: d.AccountName, Server: d.Server, Tile: d.Tile,
		Self:         views.TileHref(id, d.Tile),
		RefreshEvery: h.opts.RefreshInterval, PollEvery: h.opts.PollInterval,
		Stale: d.Stale, DataAt: d.DataAt, Error: d.Error, Failures: d.Failures,
		Acks:    views.ServerAcks{Active: d.Acks, Earlier: d.EarlierAcks, CanAck: currentRole(r).Allows(monitoring.Operator)},
		History: views.TimelineRows(d.History),
		Windows: d.Windows, Upcoming: d.Upcoming, Flapping: d.Flapping, Blind: d.Blind,
	}
	return sp, m, true
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
