// Package handlers serves the dashboard's pages, fragments and API.
package handlers

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/a-h/templ"
	"github.com/alexedwards/scs/sqlite3store"
	"github.com/alexedwards/scs/v2"

	"cmdash/monitoring"
	"cmdash/monitoring/charts"
	"cmdash/monitoring/sqlite"
	"cmdash/monitoring/wall"
	"cmdash/static"
	"cmdash/views"
)

// CredentialChecker logs in to Identity to check a username and API key.
type CredentialChecker interface {
	Authenticate(ctx context.Context, cr monitoring.Credentials) (monitoring.Token, error)
}

// Refresher polls an account now.
type Refresher interface {
	RefreshNow(ctx context.Context, id int64) error
	Wake()
}

// PollerHealth tells whether the background poller is alive: when its
// loop last went round.
type PollerHealth interface {
	LastLoop() time.Time
}

// Options are the handler settings that come from configuration.
type Options struct {
	Demo            bool
	PollInterval    time.Duration
	RefreshInterval time.Duration // how often the grid reloads
	// PublicDashboard opens the read-only views (dashboard, account and
	// server pages and their fragments) to visitors who are not signed in.
	PublicDashboard bool
	// PlainOrder lists accounts by name and servers by label on the wall
	// instead of problems first (?order=severity still asks for that).
	PlainOrder bool
	// SecureCookies marks the session cookie Secure and sends HSTS: set it
	// whenever browsers reach the dashboard over HTTPS through a
	// TLS-terminating proxy (the dashboard itself serves plain HTTP).
	SecureCookies bool
	// TrustProxy takes the client address for sign-in throttling from
	// Fly-Client-IP or X-Forwarded-For; set it only behind a reverse proxy.
	TrustProxy bool
	// AccessLog logs a line for every request (see accessLog).
	AccessLog bool
	// Sessions, when nil, is an scs manager storing sessions in the
	// dashboard's database without a cleanup goroutine.
	Sessions *scs.SessionManager
	// Metrics, when nil, disables /metrics and request counting.
	Metrics *Metrics
	// Version is the dashboard's version; with the static files' hash it
	// tells a page loaded before an upgrade from a current one.
	Version string
	// PollerHealth, when set, makes /healthz fail when the poller's loop
	// has not run for a while (see pollerStuckAfter); nil means there is no
	// poller to watch.
	PollerHealth PollerHealth
	// Cluster, when set, is the node's place in a LiteFS cluster: on a
	// replica every request that writes goes to the primary — with Fly.io's
	// fly-replay header when FlyReplay is set, else through a proxy to
	// PrimaryURL ("{primary}" in it stands for the primary's host name) —
	// and the poller is not watched by /healthz.
	Cluster    Cluster
	FlyReplay  bool
	PrimaryURL string
	// ProxyHeader names the header in which a sign-in proxy (oauth2-proxy,
	// Authelia…) passes the signed-in user; "" turns that off. It is
	// believed only from TrustedProxies.
	ProxyHeader    string
	TrustedProxies []netip.Prefix
	// Charts reads the metrics behind alarms for the server page; nil
	// turns charts off.
	Charts *charts.Service
	// ProxyRole is the role of a user first seen through the proxy;
	// NoRole refuses users who do not exist yet.
	ProxyRole monitoring.Role
	// OIDC, when set, offers sign-in with an OpenID Connect provider
	// beside (or instead of) passwords.
	OIDC *OIDCConfig
	// NoPasswordSignIn turns the password form off: the sign-in page
	// offers only OIDC, and POST /login is refused. First-run setup stays,
	// as it is how the first admin is made.
	NoPasswordSignIn bool
	// LiveStreams bounds the live-update streams open at once (see
	// live.go); 0 turns live updates off: pages only refresh themselves.
	LiveStreams int
	// LiveHeartbeat is how often a quiet stream says it is alive;
	// 0: DefaultLiveHeartbeat.
	LiveHeartbeat time.Duration
}

// Handler holds what every route needs.
type Handler struct {
	store    *sqlite.Store
	poller   Refresher
	checker  CredentialChecker
	log      *slog.Logger
	opts     Options
	sessions *scs.SessionManager
	limiter  *loginLimiter
	now      func() time.Time
	wall     *wall.Service
	pages    *pageCache
	buildID  func() string
	// usersExist: at least one user has been seen in the database.
	usersExist atomic.Bool
	// proxyWarned: a proxy header from an untrusted address is logged once.
	proxyWarned atomic.Bool
	// oidc is the OpenID Connect provider; nil when Options.OIDC is.
	oidc *oidcClient
	live *liveStreams
}

// New builds the handler set. The pages show model, the wall's read model
// of store.
func New(store *sqlite.Store, model *wall.Service, poller Refresher, checker CredentialChecker, log *slog.Logger, opts Options) *Handler {
	if opts.RefreshInterval <= 0 {
		opts.RefreshInterval = 20 * time.Second
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = 30 * time.Second
	}
	sm := opts.Sessions
	if sm == nil {
		sm = NewSessionManager(sqlite3store.NewWithCleanupInterval(store.DB(), 0), opts.SecureCookies)
	}
	if ss, ok := sm.Store.(*sessionStore); ok {
		// On a LiteFS replica the table changes behind the cache's back
		// (a sign-out on the primary) and takes no writes.
		ss.readOnly = store.ReadOnly
		store.OnRefresh(ss.Forget)
	}
	h := &Handler{store: store, poller: poller, checker: checker, log: log, opts: opts,
		sessions: sm, limiter: newLoginLimiter(), now: time.Now,
		wall:  model,
		pages: newPageCache(64, 64<<20),
		live:  newLiveStreams(opts.LiveStreams, cmp.Or(opts.LiveHeartbeat, DefaultLiveHeartbeat)),
	}
	if opts.OIDC != nil {
		h.oidc = newOIDCClient(*opts.OIDC)
	}
	h.buildID = sync.OnceValue(func() string { return h.opts.Version + "-" + static.Hash() })
	return h
}

// render writes a component with status, rendered into a buffer first so a
// template error becomes a clean 500 instead of half a page.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, c templ.Component) {
	var buf bytes.Buffer
	if err := c.Render(r.Context(), &buf); err != nil {
		h.serverError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	writeCompressed(w, r, status, buf.Bytes())
}

// gzipPool reuses compressors: a wall page of thousands of tiles is
// megabytes of repetitive markup that gzip shrinks about tenfold.
var gzipPool = sync.Pool{New: func() any {
	zw, _ := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed)
	return zw
}}

// writeCompressed writes body with status, gzipped when the client accepts
// it and the body is worth it.
func writeCompressed(w http.ResponseWriter, r *http.Request, status int, body []byte) {
	w.Header().Add("Vary", "Accept-Encoding")
	if len(body) < 1400 || !acceptsGzip(r) {
		w.WriteHeader(status)
		_, _ = w.Write(body)
		return
	}
	w.Header().Set("Content-Encoding", "gzip")
	w.Header().Del("Content-Length")
	w.WriteHeader(status)
	zw := gzipPool.Get().(*gzip.Writer)
	zw.Reset(w)
	_, _ = zw.Write(body)
	_ = zw.Close()
	gzipPool.Put(zw)
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(enc), "gzip") && strings.ReplaceAll(q, " ", "") != "q=0" {
			return true
		}
	}
	return false
}

// serverError logs the detail and shows the user a plain message.
func (h *Handler) serverError(w http.ResponseWriter, r *http.Request, err error) {
	h.log.Error("request failed", "method", r.Method, "path", logPath(r.URL.Path), "err", err)
	http.Error(w, "Something went wrong on our side; it has been logged.", http.StatusInternalServerError)
}

// notFound renders the 404 page.
func (h *Handler) notFound(w http.ResponseWriter, r *http.Request, what string) {
	h.render(w, r, http.StatusNotFound, views.ErrorPage(h.layout(r, "Not found", ""), http.StatusNotFound, what))
}

// methodNotAllowed renders the 405 page for an address that takes only the
// methods in allow.
func (h *Handler) methodNotAllowed(allow ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		h.render(w, r, http.StatusMethodNotAllowed, views.ErrorPage(h.layout(r, "Method not allowed", ""), http.StatusMethodNotAllowed,
			"This address does not take a "+r.Method+" request."))
	}
}

// layout gathers what the page shell needs: navigation and saved filters,
// from the wall's read model. Someone who may not see the wall (not signed
// in, on a dashboard that is not public) gets the bare shell: the account
// names and filters in the navigation are the wall's too.
func (h *Handler) layout(r *http.Request, title, active string) views.Layout {
	if currentUser(r) == "" && !h.opts.PublicDashboard {
		return h.bareLayout(r, title)
	}
	m, err := h.wall.Current(r.Context())
	if err != nil {
		h.log.Error("layout: wall model", "err", err)
		m = &wall.Model{}
	}
	l := h.modelLayout(m, title, active, r.URL.Query().Get("q"))
	l.User = currentUser(r)
	return l
}

// modelLayout is the page shell for a model, the same for every viewer.
func (h *Handler) modelLayout(m *wall.Model, title, active, q string) views.Layout {
	l := views.Layout{Title: title, Demo: h.opts.Demo, Active: active, Query: q, Filters: m.Filters, Build: h.build()}
	if h.opts.LiveStreams > 0 {
		l.Live = "/live"
	}
	for _, s := range m.Sections {
		na := views.NavAccount{ID: s.AccountID, Name: s.Name, State: s.Worst}
		if !s.Polled {
			na.State = monitoring.StateUnknown
		}
		l.Nav = append(l.Nav, na)
	}
	return l
}

// build names this version of the pages (see views.BuildHeader); asked on
// every refresh, so made once.
func (h *Handler) build() string { return h.buildID() }

// isHTMX reports an htmx request (a fragment is wanted).
func isHTMX(r *http.Request) bool { return r.Header.Get("HX-Request") == "true" }

// seeOther redirects after a POST.
func seeOther(w http.ResponseWriter, r *http.Request, to string) {
	http.Redirect(w, r, to, http.StatusSeeOther)
}
