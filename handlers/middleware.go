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
)

// Session keys: the signed-in username and the user's session epoch at
// sign-in (a password change bumps it and ends older sessions).
const (
	sessionUserKey  = "user"
	sessionEpochKey = "epoch"
)

// ctxKey keys what this package puts in a request's context.
type ctxKey int

const userCtxKey ctxKey = 1

// currentUser is the signed-in user's name, "" when none.
func currentUser(r *http.Request) string {
	u, _ := r.Context().Value(userCtxKey).(string)
	return u
}

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

// access is who may see a route.
type access int

const (
	open     access = iota // anyone (login, setup, static, health)
	readOnly               // the wall views: public when PublicDashboard is set
	signedIn               // settings, state changes, API, metrics
)

// guard wraps a handler with the access check. Browsers get a redirect to
// /login, htmx requests an HX-Redirect, the API a JSON 401.
func (h *Handler) guard(level access, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		user := h.sessionUser(r)
		if user == "" {
			user = h.bearerUser(r)
		}
		if user != "" {
			r = r.WithContext(context.WithValue(r.Context(), userCtxKey, user))
		}
		if level == open || user != "" || (level == readOnly && h.opts.PublicDashboard) {
			next(w, r)
			return
		}
		h.unauthorized(w, r)
	}
}

// sessionUser is the session's user while that user still exists and the
// password has not changed since sign-in; otherwise the session ends.
func (h *Handler) sessionUser(r *http.Request) string {
	name := h.sessions.GetString(r.Context(), sessionUserKey)
	if name == "" {
		return ""
	}
	u, err := h.store.UserByName(r.Context(), name)
	if err == nil && u.SessionEpoch == h.sessions.GetInt64(r.Context(), sessionEpochKey) {
		return u.Username
	}
	if err != nil && !errors.Is(err, monitoring.ErrNotFound) {
		h.log.Error("session user lookup", "err", err)
		return ""
	}
	// Removed user or changed password: this session is over.
	_ = h.sessions.Destroy(r.Context())
	return ""
}

// bearerUser resolves "Authorization: Bearer <token>".
func (h *Handler) bearerUser(r *http.Request) string {
	auth := r.Header.Get("Authorization")
	token, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok || strings.TrimSpace(token) == "" {
		return ""
	}
	u, err := h.store.APITokenUser(r.Context(), strings.TrimSpace(token))
	if err != nil {
		return ""
	}
	return u.Username
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
