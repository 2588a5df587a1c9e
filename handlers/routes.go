package handlers

import (
	"net/http"
	"strings"
	"time"

	"cmdash/static"
)

// Routes is every route of the dashboard in one table, wrapped in the
// middleware every request passes: cross-origin protection and security
// headers, then, for everything but static files and the health check,
// sessions, first-run setup and metrics.
func (h *Handler) Routes() http.Handler {
	mux, top := http.NewServeMux(), http.NewServeMux()
	ro := func(f http.HandlerFunc) http.HandlerFunc { return h.guard(readOnly, f) }
	in := func(f http.HandlerFunc) http.HandlerFunc { return h.guard(signedIn, f) }
	anyone := func(f http.HandlerFunc) http.HandlerFunc { return h.guard(open, f) }

	if h.opts.Metrics != nil {
		mux.Handle("GET /metrics", in(h.opts.Metrics.Handler().ServeHTTP))
	}

	mux.HandleFunc("GET /login", anyone(h.showLogin))
	mux.HandleFunc("POST /login", anyone(h.login))
	mux.HandleFunc("POST /logout", anyone(h.logout))
	mux.HandleFunc("GET /setup", anyone(h.showSetup))
	mux.HandleFunc("POST /setup", anyone(h.setup))

	// The wall: read-only views and their fragments.
	mux.HandleFunc("GET /{$}", ro(h.showDashboard))
	mux.HandleFunc("GET /accounts/{id}", ro(h.showAccount))
	mux.HandleFunc("GET /accounts/{id}/rackspace", ro(h.showAccountFacts))
	mux.HandleFunc("GET /wall", ro(h.showWallMode))
	mux.HandleFunc("GET /timeline", ro(h.showTimeline))
	// A wall link opens the wall to whoever has it, and nothing else.
	mux.HandleFunc("GET /w/{token...}", h.showWallLink)
	mux.HandleFunc("/w/{token...}", wallLinkMethodNotAllowed)
	mux.HandleFunc("GET /accounts/{id}/servers/{server}", ro(h.showServer))

	// Everything that changes state is a POST and needs a signed-in user.
	mux.HandleFunc("POST /accounts/{id}/refresh", in(h.refreshAccount))
	mux.HandleFunc("POST /accounts/{id}/servers/{server}/acks", in(h.createAck))
	mux.HandleFunc("POST /acks/{id}/delete", in(h.deleteAck))
	mux.HandleFunc("GET /settings", in(h.showSettings))
	mux.HandleFunc("POST /settings/accounts", in(h.createAccount))
	mux.HandleFunc("POST /settings/accounts/{id}", in(h.updateAccount))
	mux.HandleFunc("GET /settings/accounts/{id}/delete", in(h.confirmDeleteAccount))
	mux.HandleFunc("POST /settings/accounts/{id}/delete", in(h.deleteAccount))
	mux.HandleFunc("POST /filters", in(h.createFilter))
	mux.HandleFunc("POST /filters/{id}/delete", in(h.deleteFilter))
	mux.HandleFunc("POST /settings/wall-links", in(h.createWallLink))
	mux.HandleFunc("POST /settings/wall-links/{id}/delete", in(h.deleteWallLink))
	mux.HandleFunc("GET /settings/access", in(h.showAccess))
	mux.HandleFunc("POST /settings/users", in(h.createUser))
	mux.HandleFunc("POST /settings/users/{id}/delete", in(h.deleteUser))
	mux.HandleFunc("POST /settings/password", in(h.changePassword))
	mux.HandleFunc("POST /settings/tokens", in(h.createToken))
	mux.HandleFunc("POST /settings/tokens/{id}/delete", in(h.deleteToken))

	// JSON API v1: session or bearer token.
	mux.HandleFunc("GET /api/v1/{$}", in(h.apiIndex))
	mux.HandleFunc("GET /api/v1/accounts", in(h.apiListAccounts))
	mux.HandleFunc("POST /api/v1/accounts", in(h.apiAddAccount))
	mux.HandleFunc("DELETE /api/v1/accounts", in(h.apiDeleteAccount))
	mux.HandleFunc("GET /api/v1/auth", in(h.apiAuth))
	mux.HandleFunc("GET /api/v1/auth/{username}", in(h.apiAuth))
	mux.HandleFunc("GET /api/v1/monitors", in(h.apiMonitors))
	mux.HandleFunc("GET /api/v1/monitors/{username}", in(h.apiMonitors))
	mux.HandleFunc("GET /api/v1/monitors/{username}/{server}", in(h.apiServerDetail))
	mux.HandleFunc("GET /api/v1/filters", in(h.apiListFilters))
	mux.HandleFunc("POST /api/v1/filters", in(h.apiAddFilter))
	mux.HandleFunc("DELETE /api/v1/filters", in(h.apiDeleteFilter))
	mux.HandleFunc("GET /api/v1/events", in(h.apiEvents))
	mux.HandleFunc("GET /api/v1/acks", in(h.apiListAcks))
	mux.HandleFunc("POST /api/v1/acks", in(h.apiCreateAck))
	mux.HandleFunc("DELETE /api/v1/acks", in(h.apiDeleteAck))

	// Whatever no route above takes: a 405 naming the methods that the
	// address does take, or a 404 when it takes none.
	routed := []*http.ServeMux{top, mux}
	mux.HandleFunc("/api/", in(noRoute(routed, apiNotFound, apiMethodNotAllowed)))
	mux.HandleFunc("/", ro(noRoute(routed, h.noPage, h.methodNotAllowed)))

	var app http.Handler = mux
	if h.opts.Metrics != nil {
		app = h.opts.Metrics.Middleware(app) // innermost: sees r.Pattern
	}
	app = h.needsSetup(app)
	app = h.sessions.LoadAndSave(app)

	// Static files and the health check need no session, no user and no
	// database: they skip that part of the stack.
	top.HandleFunc("GET /healthz", h.healthz)
	top.Handle("GET /static/", http.StripPrefix("/static/", staticFiles()))
	top.Handle("/", app)
	if h.opts.AccessLog {
		return h.accessLog(http.NewCrossOriginProtection().Handler(h.securityHeaders(top)))
	}
	return http.NewCrossOriginProtection().Handler(h.securityHeaders(top))
}

// noRoute answers a request that no route of muxes takes: with notAllowed
// when routes take its address for other methods, else with notFound.
// Routes without a method (such as this one, "/") take nothing.
func noRoute(muxes []*http.ServeMux, notFound http.HandlerFunc, notAllowed func(allow ...string) http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if allow := allowedMethods(r, muxes); len(allow) > 0 {
			notAllowed(allow...)(w, r)
			return
		}
		notFound(w, r)
	}
}

// noPage answers an address that is no page.
func (h *Handler) noPage(w http.ResponseWriter, r *http.Request) {
	h.notFound(w, r, "There is no page at this address.")
}

// allowedMethods lists the methods for which a route of muxes takes r's
// address, in the order of an Allow header.
func allowedMethods(r *http.Request, muxes []*http.ServeMux) []string {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := *r
		probe.Method = m
		for _, mux := range muxes {
			// A route's pattern starts with its method ("GET /wall", which
			// takes HEAD too); a fallback's, such as "/", has none.
			if _, pattern := mux.Handler(&probe); strings.Contains(pattern, " ") {
				allow = append(allow, m)
				break
			}
		}
	}
	return allow
}

// securityHeaders: a strict CSP (no inline script or style anywhere; htmx is
// configured not to inject styles), no framing, no sniffing, same-origin
// referrers, and HSTS over TLS.
func (h *Handler) securityHeaders(next http.Handler) http.Handler {
	const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
		"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hsts := r.TLS != nil || h.opts.SecureCookies
		next.ServeHTTP(&documentHeaders{ResponseWriter: w, set: func(hdr http.Header) {
			hdr.Set("Content-Security-Policy", csp)
			hdr.Set("X-Content-Type-Options", "nosniff")
			hdr.Set("Referrer-Policy", "same-origin")
			hdr.Set("X-Frame-Options", "DENY")
			hdr.Set("Cross-Origin-Opener-Policy", "same-origin")
			if hsts {
				hdr.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
			}
		}}, r)
	})
}

// documentHeaders adds headers that only matter for a document when the
// response is written, unless it is a 304: a 304 has no document, and a wall
// screen's unchanged refresh should cost a few bytes, not a policy.
type documentHeaders struct {
	http.ResponseWriter
	set     func(http.Header)
	written bool
}

func (w *documentHeaders) WriteHeader(code int) {
	if !w.written {
		w.written = true
		if code != http.StatusNotModified {
			w.set(w.Header())
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *documentHeaders) Write(b []byte) (int, error) {
	if !w.written {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

func (w *documentHeaders) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// staticFiles serves the embedded files, never a directory listing; htmx
// has its version in its name, so everything may be cached for a day.
func staticFiles() http.Handler {
	fsrv := http.FileServerFS(static.FS)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "" || strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=86400")
		fsrv.ServeHTTP(w, r)
	})
}

// healthz answers 200 when the database answers and the poller's loop ran
// lately, 503 with the reason otherwise. It costs one "SELECT 1" and an
// atomic read: Fly asks every 30 s.
func (h *Handler) healthz(w http.ResponseWriter, r *http.Request) {
	if err := h.store.Ping(r.Context()); err != nil {
		h.log.Error("health check: database", "err", err)
		http.Error(w, "database unavailable", http.StatusServiceUnavailable)
		return
	}
	if ph := h.opts.PollerHealth; ph != nil {
		if since := h.now().Sub(ph.LastLoop()); since > h.pollerStuckAfter() {
			msg := "poller has not run for " + since.Round(time.Second).String()
			h.log.Error("health check: " + msg)
			http.Error(w, msg, http.StatusServiceUnavailable)
			return
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok\n"))
}

// pollerStuckAfter is how long the poller's loop may go without running
// before the health check fails: three poll intervals, and at least a
// minute. The loop runs every second when all is well; the margin covers
// a busy database or every polling slot taken by slow accounts.
func (h *Handler) pollerStuckAfter() time.Duration {
	return max(3*h.opts.PollInterval, time.Minute)
}
