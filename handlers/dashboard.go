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
	h.serveFiltered(w, r, h.wallPage(r, "/"))
}

// showAccount serves one account alone.
func (h *Handler) showAccount(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		h.notFound(w, r, "There is no such account.")
		return
	}
	p := h.wallPage(r, "/accounts/"+strconv.FormatInt(id, 10))
	p.accountID = id
	h.serveFiltered(w, r, p)
}

// showWallMode serves the wall for a screen: every account (or what the
// filter shows), no navigation or search, all-OK accounts folded to one
// line, tiles sized to fill the screen.
func (h *Handler) showWallMode(w http.ResponseWriter, r *http.Request) {
	p := h.wallPage(r, "/wall")
	p.mode = true
	h.serveFiltered(w, r, p)
}

// serveFiltered serves a wall page with the filter the request asks for.
func (h *Handler) serveFiltered(w http.ResponseWriter, r *http.Request, p wallPage) {
	q, ok := h.filterParam(w, r)
	if !ok {
		return
	}
	p.query = q
	h.serveWall(w, r, p)
}

// filterParam reads a page's filter, ?q=, trimmed. A filter longer than
// wall.MaxQuery is answered here, with filterTooLong; ok is false then.
func (h *Handler) filterParam(w http.ResponseWriter, r *http.Request) (q string, ok bool) {
	q = strings.TrimSpace(r.URL.Query().Get("q"))
	if wall.QueryTooLong(q) {
		h.filterTooLong(w, r)
		return "", false
	}
	return q, true
}

// filterTooLong answers a filter longer than wall.MaxQuery with a 400 page
// that says so and names the limit. The filter is never shown back: it
// could be of any length.
func (h *Handler) filterTooLong(w http.ResponseWriter, r *http.Request) {
	l := h.layout(r, "Filter too long", "")
	l.Query = ""
	h.render(w, r, http.StatusBadRequest, views.ErrorPage(l, http.StatusBadRequest, msgFilterTooLong+" Shorten it and try again."))
}

// wallPage is one wall page as asked for: its scope, filter and form.
type wallPage struct {
	accountID int64  // one account, or 0 for all
	query     string // the filter as typed
	plain     bool   // keep the plain order instead of problems first
	mode      bool   // wall mode (see showWallMode)
	quiet     bool   // without the panel of latest changes (?changes=off)
	path      string // the page's own path, which its grid reloads from
	// link is set for a page opened with a wall link: nothing on it leads
	// anywhere the link does not open.
	link bool
}

// wallPage reads the order of a request for path (the filter is read
// apart: see serveFiltered). The order is problems first unless the
// setting or ?order=name says otherwise; ?order=severity overrides the
// setting.
func (h *Handler) wallPage(r *http.Request, path string) wallPage {
	qv := r.URL.Query()
	p := wallPage{path: path, plain: h.opts.PlainOrder}
	switch qv.Get("order") {
	case "name":
		p.plain = true
	case "severity":
		p.plain = false
	}
	p.quiet = qv.Get("changes") == "off"
	return p
}

// self is the URL that shows this page again, the filter and order kept.
// A wall link's filter is the link's own, never read from the URL.
func (p wallPage) self(defaultPlain bool) string {
	v := url.Values{}
	if p.query != "" && !p.link {
		v.Set("q", p.query)
	}
	if p.plain != defaultPlain {
		if p.plain {
			v.Set("order", "name")
		} else {
			v.Set("order", "severity")
		}
	}
	if p.quiet {
		v.Set("changes", "off")
	}
	if len(v) == 0 {
		return p.path
	}
	return p.path + "?" + v.Encode()
}

// maxCachedQuery: longer filters are answered but not kept.
const maxCachedQuery = 200

// serveWall answers a wall page from the current read model. Pages are
// rendered once per model version, view and audience, and answered 304
// when the client has them already.
func (h *Handler) serveWall(w http.ResponseWriter, r *http.Request, wp wallPage) {
	m, err := h.wall.Current(r.Context())
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	heading, active := "All accounts", "dashboard"
	if wp.accountID > 0 {
		sec := m.Section(wp.accountID)
		if sec == nil {
			h.notFound(w, r, "There is no such account.")
			return
		}
		heading, active = sec.Name, "account-"+strconv.FormatInt(wp.accountID, 10)
	}
	key := pageKey{version: m.Version, viewKey: viewKey{
		path: wp.path, query: wp.query, plain: wp.plain, quiet: wp.quiet, signedIn: currentUser(r) != "" && !wp.link,
		operate: currentRole(r).Allows(monitoring.Operator) && !wp.link,
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
	render := func() ([]byte, error) {
		g := h.grid(m, wp, key.operate)
		var c templ.Component = views.GridView(g)
		if !key.fragment {
			l := h.modelLayout(m, heading, active, wp.query)
			l.SignedIn = key.signedIn
			l.Title = views.TitleCounts(g.Summary) + heading
			l.Icon = views.IconFor(g.Summary.Worst)
			// A wall link's page has no navigation either way: it leads
			// nowhere the link does not open.
			l.Bare, l.Link = wp.link, wp.link
			if wp.link && l.Live != "" {
				l.Live = wp.path + "/live"
			}
			switch {
			case wp.mode:
				l.Bare, l.Wall = true, true
				c = views.WallMode(l, g)
			case wp.link:
				c = views.LinkPage(l, heading, g)
			default:
				c = views.Dashboard(l, heading, wp.path, g)
			}
		}
		var buf bytes.Buffer
		err := c.Render(context.WithoutCancel(r.Context()), &buf) // others may wait for it
		return buf.Bytes(), err
	}
	var p *page
	if len(wp.query) > maxCachedQuery {
		p, err = renderOnce(wp.path, render) // answered, never kept
	} else if r.Header.Get(liveHeader) != "" {
		p, err = h.pages.getFresh(key, render)
	} else {
		p, err = h.pages.get(key, render)
	}
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	// Signed-in pages, and a wall link's (its address opens the wall), are
	// for one browser's cache, not a shared one.
	cc := "no-cache"
	if key.signedIn || wp.link {
		cc = "private, no-cache"
	}
	writePage(w, r, p, cc)
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
func (h *Handler) grid(m *wall.Model, wp wallPage, operate bool) views.Grid {
	q := wall.ParseQuery(wp.query)
	if wp.plain {
		q.Plain = true
	}
	g := views.Grid{
		View: m.View(q, wp.accountID), Self: wp.self(h.opts.PlainOrder),
		RefreshEvery: h.opts.RefreshInterval, PollEvery: h.opts.PollInterval,
		CanOperate: operate, Wall: wp.mode, Link: wp.link, HideRecent: wp.quiet,
	}
	if !wp.mode && !wp.link {
		g.FactsOf = wp.accountID
	}
	return g
}

// showAccountFacts serves what Rackspace says of an account besides the
// overview: its maintenance windows, request budget and blind spots. The
// account page loads it after itself; without a script it is a page.
func (h *Handler) showAccountFacts(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		h.notFound(w, r, "There is no such account.")
		return
	}
	f, err := h.wall.Facts(r.Context(), id)
	var nf *wall.NotFoundError
	if errors.As(err, &nf) {
		h.notFound(w, r, nf.What)
		return
	}
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	if r.Header.Get("HX-Request") == "true" {
		h.render(w, r, http.StatusOK, views.AccountFactsPanel(*f))
		return
	}
	l := h.layout(r, f.AccountName+": what Rackspace says", "account-"+strconv.FormatInt(id, 10))
	h.render(w, r, http.StatusOK, views.AccountFactsPage(l, *f))
}

func pathID(r *http.Request, name string) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	return id, err == nil && id > 0
}
