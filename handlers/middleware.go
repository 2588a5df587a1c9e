package handlers

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/alexedwards/scs/v2"

	"cmdash/monitoring"
	"cmdash/views"
)

// Session keys: the signed-in username and the user's session epoch at
// sign-in (a password change bumps it and ends older sessions).
const (
	sessionUserKey  = "user"
	sessionEpochKey = "epoch"
)

// ctxKey keys what this package puts in a request's context.
type ctxKey int

const principalKey ctxKey = 1

// principal is who makes a request: a user, with the role they act with
// (a token's may be narrower than its owner's), and the token's name when
// the request came with one.
type principal struct {
	user  string
	role  monitoring.Role
	token string
}

// who names the principal for logs and the audit log.
func (p principal) who() string {
	if p.token != "" {
		return "token " + p.token + " (" + p.user + ")"
	}
	return p.user
}

func principalOf(r *http.Request) principal {
	p, _ := r.Context().Value(principalKey).(principal)
	return p
}

// currentUser is the signed-in user's name, "" when none.
func currentUser(r *http.Request) string { return principalOf(r).user }

// currentRole is what the request's user may do: NoRole when nobody is
// signed in.
func currentRole(r *http.Request) monitoring.Role { return principalOf(r).role }

// NewSessionManager configures scs cookies: HttpOnly, SameSite=Lax, Secure
// when told (TLS or a TLS-terminating proxy); a wall screen stays signed in
// for 30 days. Sessions are kept in store by a hash of their token, and
// read through an in-memory cache (see sessionStore).
func NewSessionManager(store scs.Store, secure bool) *scs.SessionManager {
	sm := scs.New()
	sm.Codec = newMemoCodec(sm.Codec)
	sm.Store = newSessionStore(store, sm.Codec)
	sm.Lifetime = 30 * 24 * time.Hour
	sm.Cookie.Name = "dashboard_session"
	sm.Cookie.HttpOnly = true
	sm.Cookie.SameSite = http.SameSiteLaxMode
	sm.Cookie.Secure = secure
	sm.Cookie.Persist = true
	return sm
}

// access is who may use a route.
type access int

const (
	open     access = iota // anyone (login, setup, static, health)
	wallLink               // whoever has the link: its token is its access
	readOnly               // the wall views: viewers, or anyone when PublicDashboard is set
	viewer                 // every signed-in user
	operator
	admin
)

// role is the least role that may use a route with this access.
func (a access) role() monitoring.Role {
	switch a {
	case readOnly, viewer:
		return monitoring.Viewer
	case operator:
		return monitoring.Operator
	case admin:
		return monitoring.Admin
	}
	return monitoring.NoRole
}

// guard wraps a handler with the access check. Nobody signed in: browsers
// get a redirect to /login, htmx requests an HX-Redirect, the API a JSON
// 401. Signed in without the role: a 403 that says which role it takes.
func (h *Handler) guard(level access, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, refused := h.principal(r)
		if refused != "" {
			h.forbidden(w, r, refused)
			return
		}
		if p.user != "" {
			r = r.WithContext(context.WithValue(r.Context(), principalKey, p))
			setWho(r, p.who())
		}
		switch {
		case level == open || (level == readOnly && h.opts.PublicDashboard && p.user == ""):
			next(w, r)
		case p.user == "":
			h.unauthorized(w, r)
		case !p.role.Allows(level.role()):
			h.forbidden(w, r, needs(level.role(), p))
		default:
			next(w, r)
		}
	}
}

// principal is who makes the request: the user a trusted proxy vouches
// for, else the session's, else the bearer token's. refused, when not
// empty, says why a user the proxy vouches for may not come in.
func (h *Handler) principal(r *http.Request) (p principal, refused string) {
	if name, ok := h.proxyUser(r); ok {
		u, refusal := h.proxyAccount(r, name)
		if refusal != "" {
			return p, refusal
		}
		return principal{user: u.Username, role: u.Role}, ""
	}
	if u, ok := h.sessionUser(r); ok {
		return principal{user: u.Username, role: u.Role}, ""
	}
	if u, t, ok := h.bearerUser(r); ok {
		return principal{user: u.Username, role: t.Role, token: t.Name}, ""
	}
	return p, ""
}

// needs says what a request takes that p does not have.
func needs(role monitoring.Role, p principal) string {
	msg := "This needs the " + role.String() + " role (to " + role.Can() + "). "
	if p.token != "" {
		return msg + "The token “" + p.token + "” acts as a " + p.role.String() + "."
	}
	return msg + "You are signed in as " + p.user + ", a " + p.role.String() + ": an admin can change that."
}

// forbidden answers a request its user may not make: the API and
// /metrics the JSON envelope, a page the error page saying why.
func (h *Handler) forbidden(w http.ResponseWriter, r *http.Request, why string) {
	if strings.HasPrefix(r.URL.Path, "/api/") || r.URL.Path == "/metrics" {
		apiError(w, r, http.StatusForbidden, why)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	h.render(w, r, http.StatusForbidden, views.ErrorPage(h.bareLayout(r, "Not allowed"), http.StatusForbidden, why))
}

// sessionUser is the session's user while that user still exists and the
// password has not changed since sign-in; otherwise the session ends.
func (h *Handler) sessionUser(r *http.Request) (monitoring.User, bool) {
	name := h.sessions.GetString(r.Context(), sessionUserKey)
	if name == "" {
		return monitoring.User{}, false
	}
	u, err := h.store.UserByName(r.Context(), name)
	if err == nil && u.SessionEpoch == h.sessions.GetInt64(r.Context(), sessionEpochKey) {
		return u, true
	}
	if err != nil && !errors.Is(err, monitoring.ErrNotFound) {
		h.log.Error("session user lookup", "err", err)
		return monitoring.User{}, false
	}
	// Removed user or changed password: this session is over.
	_ = h.sessions.Destroy(r.Context())
	return monitoring.User{}, false
}

// bearerUser resolves "Authorization: Bearer <token>" to its owner and
// the token (whose Role is the one it acts with).
func (h *Handler) bearerUser(r *http.Request) (monitoring.User, monitoring.APIToken, bool) {
	auth := r.Header.Get("Authorization")
	token, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok || strings.TrimSpace(token) == "" {
		return monitoring.User{}, monitoring.APIToken{}, false
	}
	u, t, err := h.store.APITokenUser(r.Context(), strings.TrimSpace(token))
	if err != nil {
		return u, t, false
	}
	return u, t, true
}

// unauthorized answers a request that needs a signed-in user, in the way
// its client can use: the API and /metrics a JSON 401, a wall's own
// refresh a bare 401 (the page stays as it is), other htmx requests a
// redirect of the whole page to sign in, a page a redirect to /login, and
// any other request a 401.
func (h *Handler) unauthorized(w http.ResponseWriter, r *http.Request) {
	switch {
	case strings.HasPrefix(r.URL.Path, "/api/") || r.URL.Path == "/metrics":
		w.Header().Set("WWW-Authenticate", `Bearer realm="dashboard"`)
		apiError(w, r, http.StatusUnauthorized, "Sign in or send 'Authorization: Bearer <token>' (create tokens in Settings).")
	case isHTMX(r) && selfRefresh(r.Header.Get("HX-Trigger")):
		// A wall's own refresh: keep the page and its data where they are;
		// it says that it lost contact and why, and recovers by itself
		// once someone signs in again.
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusUnauthorized)
	case isHTMX(r):
		// Send the whole page to the login form, not a form inside the grid.
		w.Header().Set("HX-Redirect", loginURL(r))
		w.WriteHeader(http.StatusUnauthorized)
	case r.Method == http.MethodGet || r.Method == http.MethodHead:
		http.Redirect(w, r, loginURL(r), http.StatusSeeOther)
	default:
		http.Error(w, "Sign in first.", http.StatusUnauthorized)
	}
}

// loginURL is the sign-in page, with next set to where the request was
// going (for htmx, the page it was made from).
func loginURL(r *http.Request) string {
	next := r.URL.RequestURI()
	if isHTMX(r) {
		if cur, err := url.Parse(r.Header.Get("HX-Current-URL")); err == nil && cur.Path != "" {
			next = cur.RequestURI()
		}
	}
	if next == "/" || next == "" {
		return "/login"
	}
	return "/login?next=" + url.QueryEscape(next)
}

// safeNext keeps redirects on this site: a path (with query) on this host,
// nothing a browser could read as another host (//x, /\x, or with tabs
// and newlines that browsers strip).
func safeNext(next string) string {
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(next, "/") ||
		strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\t\r\n") {
		return "/"
	}
	return next
}

// needsSetup redirects everything but /setup there while no user exists
// (static files and the health check never pass here).
func (h *Handler) needsSetup(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/setup" || h.usersExist.Load() {
			next.ServeHTTP(w, r)
			return
		}
		n, err := h.store.CountUsers(r.Context())
		if err != nil {
			h.serverError(w, r, err)
			return
		}
		// Once a user exists one always will (nobody can remove themselves),
		// so the question is not asked again.
		h.usersExist.Store(n > 0)
		if n == 0 {
			if strings.HasPrefix(r.URL.Path, "/api/") {
				apiError(w, r, http.StatusUnauthorized, "No user exists yet: open /setup in a browser first.")
				return
			}
			if isHTMX(r) {
				w.Header().Set("HX-Redirect", "/setup")
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			http.Redirect(w, r, "/setup", http.StatusSeeOther)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// selfRefresh reports whether an htmx trigger is a page's own refresh (the
// wall's grid, a server's alarms, the timeline).
func selfRefresh(trigger string) bool {
	return trigger == "grid" || trigger == "server" || trigger == "timeline"
}
