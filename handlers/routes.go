package handlers

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"cmdash/static"
)

// route is one address of the dashboard: its pattern, who may use it,
// and its handler.
type route struct {
	pattern string
	need    access
	handler http.HandlerFunc
}

// routes is every route and the role it needs, in one table: the place to
// look (and the test to extend) when a route is added. Everything that
// changes state is a POST or DELETE and needs at least an operator.
func (h *Handler) routes() []route {
	rs := []route{
		{"GET /login", open, h.showLogin},
		{"POST /login", open, h.login},
		{"POST /logout", open, h.logout},
		{"GET /setup", open, h.showSetup},
		{"POST /setup", open, h.setup},

		// The wall: read-only views and their fragments.
		{"GET /{$}", readOnly, h.showDashboard},
		{"GET /accounts/{id}", readOnly, h.showAccount},
		{"GET /accounts/{id}/rackspace", readOnly, h.showAccountFacts},
		{"GET /wall", readOnly, h.showWallMode},
		{"GET /timeline", readOnly, h.showTimeline},
		{"GET /accounts/{id}/servers/{server}", readOnly, h.showServer},
		// Costs requests to Rackspace: read when a page asks, kept and capped.
		{"GET /accounts/{id}/servers/{server}/charts", readOnly, h.showCharts},
		// A wall link opens the wall to whoever has it, and nothing else.
		{"GET /live", readOnly, h.showLive},
		{"GET /w/{token}/live", wallLink, h.showWallLinkLive},
		{"GET /w/{token...}", wallLink, h.showWallLink},
		{"/w/{token...}", wallLink, wallLinkMethodNotAllowed},

		// Looking after the wall.
		{"POST /accounts/{id}/refresh", operator, h.refreshAccount},
		{"POST /accounts/{id}/servers/{server}/acks", operator, h.createAck},
		{"POST /acks/{id}/delete", operator, h.deleteAck},
		{"POST /filters", operator, h.createFilter},
		{"POST /filters/{id}/delete", operator, h.deleteFilter},

		// Settings: everyone signed in sees them and changes their own
		// password; operators manage wall links, admins the rest.
		{"GET /settings", viewer, h.showSettings},
		{"POST /settings/password", viewer, h.changePassword},
		{"GET /settings/access", viewer, h.showAccess},
		{"POST /settings/wall-links", operator, h.createWallLink},
		{"POST /settings/wall-links/{id}/delete", operator, h.deleteWallLink},
		{"POST /settings/accounts", admin, h.createAccount},
		{"POST /settings/accounts/{id}", admin, h.updateAccount},
		{"GET /settings/accounts/{id}/delete", admin, h.confirmDeleteAccount},
		{"POST /settings/accounts/{id}/delete", admin, h.deleteAccount},
		{"POST /settings/users", admin, h.createUser},
		{"POST /settings/users/{id}/role", admin, h.setUserRole},
		{"POST /settings/users/{id}/delete", admin, h.deleteUser},
		{"POST /settings/tokens", admin, h.createToken},
		{"POST /settings/tokens/{id}/delete", admin, h.deleteToken},
		{"GET /settings/audit", admin, h.showAudit},

		// JSON API v1: session or bearer token.
		{"GET /api/v1/{$}", viewer, h.apiIndex},
		{"GET /api/v1/accounts", viewer, h.apiListAccounts},
		{"POST /api/v1/accounts", admin, h.apiAddAccount},
		{"DELETE /api/v1/accounts", admin, h.apiDeleteAccount},
		// Checks stored credentials against Identity: an admin's question.
		{"GET /api/v1/auth", admin, h.apiAuth},
		{"GET /api/v1/auth/{username}", admin, h.apiAuth},
		{"GET /api/v1/monitors", viewer, h.apiMonitors},
		{"GET /api/v1/monitors/{username}", viewer, h.apiMonitors},
		{"GET /api/v1/monitors/{username}/{server}", viewer, h.apiServerDetail},
		{"GET /api/v1/filters", viewer, h.apiListFilters},
		{"POST /api/v1/filters", operator, h.apiAddFilter},
		{"DELETE /api/v1/filters", operator, h.apiDeleteFilter},
		{"GET /api/v1/events", viewer, h.apiEvents},
		{"GET /api/v1/acks", viewer, h.apiListAcks},
		{"POST /api/v1/acks", operator, h.apiCreateAck},
		{"DELETE /api/v1/acks", operator, h.apiDeleteAck},
		// Who changed what: an admin's question.
		{"GET /api/v1/audit", admin, h.apiAudit},
	}
	if h.oidc != nil {
		// Single sign-on: to the provider, and back.
		rs = append(rs,
			route{"GET /auth/oidc", open, h.startOIDC},
			route{"GET /auth/oidc/callback", open, h.oidcCallback})
	}
	if h.opts.Metrics != nil {
		rs = append(rs, route{"GET /metrics", viewer, h.opts.Metrics.Handler().ServeHTTP})
	}
	return rs
}

// Routes is every route of the dashboard (see routes), wrapped in the
// middleware every request passes: cross-origin protection and security
// headers, then, for everything but static files and the health check,
// sessions, first-run setup and metrics.
func (h *Handler) Routes() http.Handler {
	mux, top := http.NewServeMux(), http.NewServeMux()
	for _, rt := range h.routes() {
		if rt.need == wallLink {
			mux.HandleFunc(rt.pattern, rt.handler) // the link's token is its access
			continue
		}
		mux.HandleFunc(rt.pattern, h.guard(rt.need, rt.handler))
	}

	// Whatever no route above takes: a 405 naming the methods that the
	// address does take, or a 404 when it takes none.
	routed := []*http.ServeMux{top, mux}
	mux.HandleFunc("/api/", h.guard(viewer, noRoute(routed, apiNotFound, apiMethodNotAllowed)))
	mux.HandleFunc("/", h.guard(readOnly, noRoute(routed, h.noPage, h.methodNotAllowed)))

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
	top.Handle("/", h.replicaWrites(app))
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
// lately (on a replica, which does not poll: when the database answers),
// 503 with the reason otherwise; in a LiteFS cluster it says the node's role
// and, on a replica, how far behind the primary it is. It costs one "SELECT 1" and an
// atomic read: Fly asks every 30 s.
func (h *Handler) healthz(w http.ResponseWriter, r *http.Request) {
	if err := h.store.Ping(r.Context()); err != nil {
		h.log.Error("health check: database", "err", err)
		http.Error(w, "database unavailable", http.StatusServiceUnavailable)
		return
	}
	primary, replica := "", false
	if h.opts.Cluster != nil {
		primary, replica = h.opts.Cluster.Replica()
	}
	if ph := h.opts.PollerHealth; ph != nil && !replica {
		if since := h.now().Sub(ph.LastLoop()); since > h.pollerStuckAfter() {
			msg := "poller has not run for " + since.Round(time.Second).String()
			h.log.Error("health check: " + msg)
			http.Error(w, msg, http.StatusServiceUnavailable)
			return
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	switch {
	case replica:
		fmt.Fprintf(w, "ok\nrole: replica\nprimary: %s\nbehind: %s\n", primary, h.opts.Cluster.Lag().Round(time.Millisecond))
	case h.opts.Cluster != nil:
		_, _ = w.Write([]byte("ok\nrole: primary\n"))
	default:
		_, _ = w.Write([]byte("ok\n"))
	}
}

// pollerStuckAfter is how long the poller's loop may go without running
// before the health check fails: three poll intervals, and at least a
// minute. The loop runs every second when all is well; the margin covers
// a busy database or every polling slot taken by slow accounts.
func (h *Handler) pollerStuckAfter() time.Duration {
	return max(3*h.opts.PollInterval, time.Minute)
}
