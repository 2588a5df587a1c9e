package handlers

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"cmdash/monitoring"
	"cmdash/monitoring/wall"
	"cmdash/views"
)

// showWallLink serves the wall to whoever has a wall link, signed in or
// not: the link's filter (never one from the URL), in wall mode or as the
// dashboard page, with nothing on it that leads elsewhere. It answers no
// other route and touches no session.
func (h *Handler) showWallLink(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	link, err := h.store.WallLinkByToken(r.Context(), token)
	if errors.Is(err, monitoring.ErrNotFound) {
		h.wallLinkNotFound(w, r)
		return
	}
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	setWho(r, "wall link "+link.Name)
	p := h.wallPage(r, "/w/"+token) // the order may still be asked for; ?q= is not read
	p.query, p.mode, p.link = link.Query, link.WallMode, true
	h.serveWall(w, r, p)
}

// wallLinkNotFound answers a token that opens nothing, the same whether it
// never existed or was revoked: a 404 without navigation, and no sign-in
// offered. A screen whose link was revoked while it showed the wall gets
// the same answer to its next refresh with a reload, so it says so instead
// of showing its last data.
func (h *Handler) wallLinkNotFound(w http.ResponseWriter, r *http.Request) {
	if isHTMX(r) {
		w.Header().Set("HX-Refresh", "true")
	}
	h.render(w, r, http.StatusNotFound, views.ErrorPage(h.bareLayout(r, "Not found"), http.StatusNotFound,
		"This wall link does not open the dashboard: it may have been revoked. Ask for a new one."))
}

// wallLinkMethodNotAllowed: a wall link only reads.
func wallLinkMethodNotAllowed(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Allow", "GET, HEAD")
	http.Error(w, "A wall link only shows the wall.", http.StatusMethodNotAllowed)
}

// logPath is a request's path as logs may show it: a wall link's token
// opens the wall, so it is never written down.
func logPath(path string) string {
	if strings.HasPrefix(path, "/w/") {
		return "/w/…"
	}
	return path
}

const maxWallLinkName = 64

// createWallLink makes a wall link from the settings form and shows its
// address once.
func (h *Handler) createWallLink(w http.ResponseWriter, r *http.Request) {
	unread := readForm(w, r)
	filters, err := h.store.ListFilters(r.Context())
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	form, query := readWallLinkForm(r, filters)
	if unread != nil {
		form.Errors, form.Message = nil, unread.message
		h.renderSettings(w, r, unread.status, views.Settings{Link: form}, 0, views.AccountForm{})
		return
	}
	if len(form.Errors) > 0 {
		h.renderSettings(w, r, http.StatusUnprocessableEntity, views.Settings{Link: form}, 0, views.AccountForm{})
		return
	}
	plain, link, err := h.store.CreateWallLink(r.Context(), monitoring.WallLink{
		Name: form.Name, Query: query, WallMode: form.WallMode, CreatedBy: currentUser(r)})
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	h.log.Info("wall link created", "name", link.Name, "prefix", link.Prefix, "by", currentUser(r))
	shows := "shows everything"
	if link.Query != "" {
		shows = "shows " + quoted(link.Query, maxField)
	}
	if link.WallMode {
		shows += ", in wall mode"
	}
	h.audit(r, monitoring.AuditWallLinkCreated, link.Name, shows)
	h.renderSettings(w, r, http.StatusOK, views.Settings{NewLinkURL: h.siteURL(r) + "/w/" + plain}, 0, views.AccountForm{})
}

// readWallLinkForm checks the new-link form: a name, and at most one of a
// saved filter and a typed one. query is the filter the link shows.
func readWallLinkForm(r *http.Request, filters []monitoring.Filter) (form views.WallLinkForm, query string) {
	form = views.WallLinkForm{
		Name:     strings.TrimSpace(r.PostForm.Get("name")),
		Query:    strings.TrimSpace(r.PostForm.Get("query")),
		WallMode: r.PostForm.Get("wall_mode") != "",
		Errors:   map[string]string{},
	}
	if form.Name == "" || utf8.RuneCountInString(form.Name) > maxWallLinkName {
		form.Errors["name"] = "Name the link (up to 64 characters), e.g. “Hall TV”."
	}
	checkText(form.Errors, "name", "The name", form.Name)

	var saved *monitoring.Filter
	if v := r.PostForm.Get("filter"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		for i := range filters {
			if err == nil && filters[i].ID == id {
				saved = &filters[i]
				form.FilterID = id
			}
		}
		if saved == nil {
			form.Errors["filter"] = "That saved filter no longer exists; choose another."
		}
	}
	switch {
	case wall.QueryTooLong(form.Query):
		form.Errors["query"] = msgFilterTooLong
	case saved != nil && form.Query != "" && form.Query != saved.Query:
		form.Errors["query"] = "Choose a saved filter or type one, not both."
	}
	checkText(form.Errors, "query", "The filter", form.Query)

	query = form.Query
	if saved != nil {
		query = saved.Query
	}
	return form, query
}

// siteURL is the scheme and host the browser reached the dashboard at:
// https over TLS, or behind a TLS-terminating proxy (SecureCookies).
func (h *Handler) siteURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil || h.opts.SecureCookies {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// deleteWallLink revokes a wall link: its screen loses the wall at its
// next refresh.
func (h *Handler) deleteWallLink(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		h.notFound(w, r, "There is no such wall link.")
		return
	}
	link, err := h.store.DeleteWallLink(r.Context(), id)
	if errors.Is(err, monitoring.ErrNotFound) {
		h.notFound(w, r, "There is no such wall link.")
		return
	} else if err != nil {
		h.serverError(w, r, err)
		return
	}
	h.log.Info("wall link revoked", "name", link.Name, "prefix", link.Prefix, "by", currentUser(r))
	h.audit(r, monitoring.AuditWallLinkRevoked, link.Name, "")
	seeOther(w, r, "/settings?done=link-revoked")
}
