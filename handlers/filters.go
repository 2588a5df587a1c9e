package handlers

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"cmdash/monitoring"
	"cmdash/monitoring/wall"
	"cmdash/views"
)

const maxFilterName = 64

// msgFilterTooLong says that a filter is longer than wall.MaxQuery.
const msgFilterTooLong = "The filter is longer than 255 characters."

// validateFilter checks a saved filter's name and query.
func validateFilter(name, query string) (string, string, string) {
	name, query = strings.TrimSpace(name), strings.TrimSpace(query)
	switch {
	case name == "":
		return name, query, "Give the filter a name."
	case utf8.RuneCountInString(name) > maxFilterName:
		return name, query, "The filter name is longer than 64 characters."
	case query == "":
		return name, query, "Type a filter first; an empty filter shows everything already."
	case wall.QueryTooLong(query):
		return name, query, msgFilterTooLong
	case monitoring.TextProblem("The filter", query) != "":
		return name, query, monitoring.TextProblem("The filter", query)
	case monitoring.TextProblem("The filter name", name) != "":
		return name, query, monitoring.TextProblem("The filter name", name)
	}
	return name, query, ""
}

// createFilter saves the current query under a name (form post from the
// dashboard toolbar), then shows the dashboard with it.
func (h *Handler) createFilter(w http.ResponseWriter, r *http.Request) {
	unread := readForm(w, r)
	if wall.QueryTooLong(strings.TrimSpace(r.PostForm.Get("query"))) {
		// Never shown back: a form read whole gets the page that says the
		// filter is too long, one cut short its own page without it.
		if unread == nil {
			h.filterTooLong(w, r)
			return
		}
		r.PostForm.Del("query")
	}
	name, query, msg := validateFilter(r.PostForm.Get("name"), r.PostForm.Get("query"))
	status := http.StatusUnprocessableEntity
	if unread != nil {
		msg, status = unread.message, unread.status
	}
	if msg == "" {
		if _, err := h.store.CreateFilter(r.Context(), name, query); errors.Is(err, monitoring.ErrDuplicate) {
			msg = "A saved filter is already called “" + name + "”."
		} else if err != nil {
			h.serverError(w, r, err)
			return
		} else {
			h.audit(r, monitoring.AuditFilterSaved, name, quoted(query, maxField))
		}
	}
	if msg != "" {
		m, err := h.wall.Current(r.Context())
		if err != nil {
			h.serverError(w, r, err)
			return
		}
		grid := h.grid(m, wallPage{path: "/", query: query, plain: h.opts.PlainOrder}, true)
		grid.SaveName = name
		l := h.layout(r, "Dashboard", "dashboard")
		l.Query = query
		l.Alert = msg
		h.render(w, r, status, views.Dashboard(l, "All accounts", "/", grid))
		return
	}
	seeOther(w, r, "/?q="+url.QueryEscape(query))
}

// deleteFilter removes a saved filter (from settings).
func (h *Handler) deleteFilter(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		h.notFound(w, r, "There is no such filter.")
		return
	}
	f, err := h.store.DeleteFilter(r.Context(), id)
	if errors.Is(err, monitoring.ErrNotFound) {
		h.notFound(w, r, "There is no such filter.")
		return
	} else if err != nil {
		h.serverError(w, r, err)
		return
	}
	h.audit(r, monitoring.AuditFilterDeleted, f.Name, quoted(f.Query, maxField))
	seeOther(w, r, "/settings?done=filter-removed")
}
