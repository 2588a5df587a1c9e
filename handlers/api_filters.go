package handlers

import (
	"errors"
	"net/http"
	"strings"

	"cmdash/monitoring"
)

// apiFilter is a saved filter with its name.
type apiFilter struct {
	ID     int64  `json:"id"`
	Name   string `json:"name"`
	Filter string `json:"filter"`
}

// filtersEnvelope: data is the list of filter strings, as before; filters
// adds names and ids.
type filtersEnvelope struct {
	envelope
	Filters []apiFilter `json:"filters"`
}

// apiFilterList answers every saved filter with status and msg.
func (h *Handler) apiFilterList(w http.ResponseWriter, r *http.Request, status int, msg string) {
	fs, err := h.store.ListFilters(r.Context())
	if err != nil {
		h.apiServerError(w, r, err)
		return
	}
	data := make([]string, 0, len(fs))
	full := make([]apiFilter, 0, len(fs))
	for _, f := range fs {
		data = append(data, f.Query)
		full = append(full, apiFilter{ID: f.ID, Name: f.Name, Filter: f.Query})
	}
	writeJSON(w, r, status, filtersEnvelope{envelope: envelope{Response: "success", Message: msg, Data: data}, Filters: full})
}

// apiListFilters: GET /api/v1/filters.
func (h *Handler) apiListFilters(w http.ResponseWriter, r *http.Request) {
	h.apiFilterList(w, r, http.StatusOK, "Filters retrieved successfully.")
}

// apiAddFilter: POST /api/v1/filters with filter (and an optional name,
// which defaults to the filter itself).
//
// Saving is idempotent, as it was in the original, whose page saved the
// search box's text again and again: a filter already saved with this name
// and this text answers the list unchanged. Without a name, the text saved
// under any name will do (the original had no names). Only the same name
// with another text is a conflict.
func (h *Handler) apiAddFilter(w http.ResponseWriter, r *http.Request) {
	p, ok := apiParams(w, r, "filter", "name")
	if !ok {
		return
	}
	name := p["name"]
	named := strings.TrimSpace(name) != ""
	if !named {
		name = p["filter"]
		if len([]rune(name)) > maxFilterName {
			name = string([]rune(name)[:maxFilterName])
		}
	}
	name, query, msg := validateFilter(name, p["filter"])
	if msg != "" {
		if strings.TrimSpace(p["filter"]) == "" {
			msg = "Missing 'filter' field."
		}
		apiError(w, r, http.StatusBadRequest, msg)
		return
	}
	if !named {
		saved, err := h.savedFilter(r, func(f monitoring.Filter) bool { return f.Query == query })
		if err != nil {
			h.apiServerError(w, r, err)
			return
		}
		if saved {
			h.apiFilterList(w, r, http.StatusOK, "Filter already saved; nothing changed.")
			return
		}
	}
	if _, err := h.store.CreateFilter(r.Context(), name, query); errors.Is(err, monitoring.ErrDuplicate) {
		same, err := h.savedFilter(r, func(f monitoring.Filter) bool { return monitoring.SameFilterName(f.Name, name) && f.Query == query })
		if err != nil {
			h.apiServerError(w, r, err)
			return
		}
		if same {
			h.apiFilterList(w, r, http.StatusOK, "Filter already saved; nothing changed.")
			return
		}
		apiError(w, r, http.StatusConflict, "A saved filter with this name already exists with another filter text.")
		return
	} else if err != nil {
		h.apiServerError(w, r, err)
		return
	}
	h.audit(r, monitoring.AuditFilterSaved, name, quoted(query, maxField))
	h.apiFilterList(w, r, http.StatusOK, "Filter saved.")
}

// savedFilter reports whether a saved filter satisfies match.
func (h *Handler) savedFilter(r *http.Request, match func(monitoring.Filter) bool) (bool, error) {
	fs, err := h.store.ListFilters(r.Context())
	if err != nil {
		return false, err
	}
	for _, f := range fs {
		if match(f) {
			return true, nil
		}
	}
	return false, nil
}

// apiDeleteFilter: DELETE /api/v1/filters with filter (its text or its name).
func (h *Handler) apiDeleteFilter(w http.ResponseWriter, r *http.Request) {
	p, ok := apiParams(w, r, "filter")
	if !ok {
		return
	}
	target := strings.TrimSpace(p["filter"])
	if target == "" {
		apiError(w, r, http.StatusBadRequest, "Missing 'filter' field.")
		return
	}
	fs, err := h.store.ListFilters(r.Context())
	if err != nil {
		h.apiServerError(w, r, err)
		return
	}
	removed := 0
	for _, f := range fs {
		if f.Query == target || monitoring.SameFilterName(f.Name, target) {
			gone, err := h.store.DeleteFilter(r.Context(), f.ID)
			if err != nil && !errors.Is(err, monitoring.ErrNotFound) {
				h.apiServerError(w, r, err)
				return
			}
			if err == nil { // not deleted meanwhile by someone else
				h.audit(r, monitoring.AuditFilterDeleted, gone.Name, quoted(gone.Query, maxField))
			}
			removed++
		}
	}
	if removed == 0 {
		apiError(w, r, http.StatusNotFound, "Filter not found.")
		return
	}
	h.apiFilterList(w, r, http.StatusOK, "Filter deleted.")
}
