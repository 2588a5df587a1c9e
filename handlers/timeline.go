package handlers

import (
	"net/http"
	"net/url"

	"github.com/a-h/templ"

	"cmdash/monitoring/wall"
	"cmdash/views"
)

// showTimeline lists recorded changes across accounts, newest first,
// filtered by the wall's filter language; for htmx, the list alone. Like the
// server page it is rendered per request (a few hundred rows) and answered
// 304 when its bytes did not change.
func (h *Handler) showTimeline(w http.ResponseWriter, r *http.Request) {
	fragment := isHTMX(r) && r.Header.Get("HX-History-Restore-Request") != "true"
	if fragment && h.fromOtherBuild(r) {
		reload(w)
		return
	}
	text, ok := h.filterParam(w, r)
	if !ok {
		return
	}
	q := wall.ParseQuery(text)
	tl, m, err := h.wall.Timeline(r.Context(), q, currentUser(r) != "")
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	t := views.Timeline{Query: text, Hint: q.Hint, Self: "/timeline", RefreshEvery: h.opts.RefreshInterval,
		Recording: tl.Recording, Rows: views.TimelineRows(tl.Rows), More: tl.More}
	if text != "" {
		t.Self += "?q=" + url.QueryEscape(text)
	}

	var c templ.Component = views.TimelineFragment(t)
	if !fragment {
		l := h.modelLayout(m, "Timeline", "timeline", "")
		l.User = currentUser(r)
		c = views.TimelineView(l, t)
	}
	h.renderValidated(w, r, c)
}
