package handlers

import (
	"io/fs"
	"net/http"

	"cmdash/static"
)

// Routes is every route of the dashboard in one table.
func (h *Handler) Routes() http.Handler {
	mux := http.NewServeMux()

	mux.HandleFunc("GET /healthz", h.healthz)
	mux.Handle("GET /static/", http.StripPrefix("/static/", staticFiles()))

	mux.HandleFunc("GET /{$}", h.showDashboard)
	mux.HandleFunc("GET /accounts/{id}", h.showAccount)
	mux.HandleFunc("GET /accounts/{id}/servers/{server}", h.showServer)
	mux.HandleFunc("POST /accounts/{id}/refresh", h.refreshAccount)

	mux.HandleFunc("GET /settings", h.showSettings)
	mux.HandleFunc("POST /settings/accounts", h.createAccount)
	mux.HandleFunc("POST /settings/accounts/{id}", h.updateAccount)
	mux.HandleFunc("GET /settings/accounts/{id}/delete", h.confirmDeleteAccount)
	mux.HandleFunc("POST /settings/accounts/{id}/delete", h.deleteAccount)

	mux.HandleFunc("POST /filters", h.createFilter)
	mux.HandleFunc("POST /filters/{id}/delete", h.deleteFilter)

	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		h.notFound(w, r, "There is no page at this address.")
	})
	return mux
}

// staticFiles serves the embedded files; htmx has its version in its name,
// so everything may be cached for a day.
func staticFiles() http.Handler {
	sub, _ := fs.Sub(static.FS, ".")
	fsrv := http.FileServerFS(sub)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=86400")
		fsrv.ServeHTTP(w, r)
	})
}

// healthz answers 200 when the database answers.
func (h *Handler) healthz(w http.ResponseWriter, r *http.Request) {
	if err := h.store.Ping(r.Context()); err != nil {
		h.log.Error("health check: database", "err", err)
		http.Error(w, "database unavailable", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok\n"))
}

// currentUser is the signed-in user's name (empty until login exists).
func currentUser(r *http.Request) string { return "" }
