package handlers

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

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

// loginLimiter slows down guessing. Failed sign-ins are counted per
// (username, address) pair and per address; once a pair or an address has
// used its free failures within 15 minutes, its next attempt must wait 30
// seconds, then twice as long after each further failure, up to 5 minutes.
// Nothing is counted per username alone: a count any address can drive up
// would let anyone lock a user out, the right password included.
type loginLimiter struct {
	mu    sync.Mutex
	fails map[string]*failures
	now   func() time.Time
}

type failures struct {
	count int
	last  time.Time
}

// throttle is one count an attempt is checked against.
type throttle struct {
	key  string
	free int // failures allowed before the waits start
}

const (
	// pairFreeFailures: one address guessing one user's password.
	pairFreeFailures = 5
	// addrFreeFailures: one address guessing across usernames. Higher than
	// the pair's, so that people sharing an office's address who mistype
	// their own passwords do not lock each other out.
	addrFreeFailures = 20
	failWindow       = 15 * time.Minute
	firstLockout     = 30 * time.Second
	maxLockout       = 5 * time.Minute
)

func newLoginLimiter() *loginLimiter {
	return &loginLimiter{fails: map[string]*failures{}, now: time.Now}
}

// pairThrottle and addrThrottle are the counts a sign-in of username from
// addr is checked against.
func pairThrottle(username, addr string) throttle {
	return throttle{key: "pair:" + addr + "\x00" + strings.ToLower(username), free: pairFreeFailures}
}

func addrThrottle(addr string) throttle {
	return throttle{key: "addr:" + addr, free: addrFreeFailures}
}

// attempt either refuses a sign-in attempt, saying how long to wait and
// which throttle refused it (the one with the longest wait), or counts it
// (as a failure until succeed takes it back) and lets it through. Checking
// and counting under one lock means parallel guesses cannot all pass the
// check before the first of them fails.
func (l *loginLimiter) attempt(ts ...throttle) (time.Duration, throttle) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	var longest time.Duration
	var by throttle
	for _, t := range ts {
		f := l.fails[t.key]
		if f == nil || now.Sub(f.last) > failWindow || f.count < t.free {
			continue
		}
		lock := min(firstLockout<<min(f.count-t.free, 4), maxLockout)
		if wait := f.last.Add(lock).Sub(now); wait > longest {
			longest, by = wait, t
		}
	}
	if longest > 0 {
		return longest, by
	}
	for _, t := range ts {
		f := l.fails[t.key]
		if f == nil || now.Sub(f.last) > failWindow {
			f = &failures{}
			l.fails[t.key] = f
		}
		f.count++
		f.last = now
	}
	if len(l.fails) > 100_000 { // bound memory under a spray of usernames
		for k, f := range l.fails {
			if now.Sub(f.last) > failWindow {
				delete(l.fails, k)
			}
		}
	}
	return 0, throttle{}
}

// succeed records a correct password: the pair's failures are forgiven,
// and this attempt is taken off the address's count. Failures for other
// usernames from that address stay counted, so an address cannot clear its
// count by signing in to an account of its own between guesses.
func (l *loginLimiter) succeed(pair, addr throttle) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.fails, pair.key)
	if f := l.fails[addr.key]; f != nil {
		if f.count--; f.count <= 0 {
			delete(l.fails, addr.key)
		}
	}
}

// clientIP is the address failed sign-ins are counted against. Behind a
// reverse proxy (TrustProxy) every request comes from the proxy, so the
// address the proxy saw is used: Fly-Client-IP, else the last
// X-Forwarded-For entry (the one our proxy appended).
func (h *Handler) clientIP(r *http.Request) string {
	if h.opts.TrustProxy {
		if ip := strings.TrimSpace(r.Header.Get("Fly-Client-IP")); ip != "" {
			return ip
		}
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			parts := strings.Split(xff[len(xff)-1], ",")
			if ip := strings.TrimSpace(parts[len(parts)-1]); ip != "" {
				return ip
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// throttleAddr is what failed sign-ins are counted against for a client
// address: an IPv4 address as it is, an IPv6 address by its /64. One host
// is commonly given a whole /64, so counting single IPv6 addresses would
// give it a fresh count for every guess.
func throttleAddr(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	if a = a.Unmap(); a.Is4() {
		return a.String()
	}
	p, err := a.WithZone("").Prefix(64)
	if err != nil {
		return ip
	}
	return p.String()
}

// showLogin renders the sign-in form.
func (h *Handler) showLogin(w http.ResponseWriter, r *http.Request) {
	if currentUser(r) != "" {
		seeOther(w, r, safeNext(r.URL.Query().Get("next")))
		return
	}
	h.render(w, r, http.StatusOK, views.LoginView(h.bareLayout(r, "Sign in"), views.LoginForm{Next: safeNext(r.URL.Query().Get("next"))}))
}

// bareLayout is the shell without navigation (for signed-out pages).
func (h *Handler) bareLayout(r *http.Request, title string) views.Layout {
	return views.Layout{Title: title, Demo: h.opts.Demo, Bare: true, Build: h.build()}
}

// login checks the password, renews the session token and signs in.
func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	username := strings.TrimSpace(r.PostForm.Get("username"))
	password := r.PostForm.Get("password")
	form := views.LoginForm{Username: username, Next: safeNext(r.PostForm.Get("next"))}
	if p := textProblem("The username", username); p != "" {
		// No user has such a name: nothing to check or count.
		form.Errors = map[string]string{"username": p}
		h.render(w, r, http.StatusUnprocessableEntity, views.LoginView(h.bareLayout(r, "Sign in"), form))
		return
	}
	ip := h.clientIP(r)
	pair, addr := pairThrottle(username, throttleAddr(ip)), addrThrottle(throttleAddr(ip))
	if wait, by := h.limiter.attempt(pair, addr); wait > 0 {
		secs := int(wait.Seconds()) + 1
		if by == pair {
			form.Message = fmt.Sprintf("Too many failed sign-ins for this user from your address. Try again in %d seconds.", secs)
		} else {
			form.Message = fmt.Sprintf("Too many failed sign-ins from your address. Try again in %d seconds.", secs)
		}
		w.Header().Set("Retry-After", fmt.Sprint(secs))
		h.render(w, r, http.StatusTooManyRequests, views.LoginView(h.bareLayout(r, "Sign in"), form))
		return
	}
	u, err := h.store.Authenticate(r.Context(), username, password)
	if errors.Is(err, monitoring.ErrBadPassword) {
		h.log.Info("sign-in failed", "username", username, "remote", ip)
		form.Message = "Wrong username or password."
		h.render(w, r, http.StatusUnauthorized, views.LoginView(h.bareLayout(r, "Sign in"), form))
		return
	}
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	h.limiter.succeed(pair, addr)
	if err := h.signIn(r, u.Username); err != nil {
		h.serverError(w, r, err)
		return
	}
	h.log.Info("signed in", "username", u.Username, "remote", ip)
	seeOther(w, r, form.Next)
}

// signIn renews the session token (no fixation) and records the user with
// their current session epoch.
func (h *Handler) signIn(r *http.Request, username string) error {
	u, err := h.store.UserByName(r.Context(), username)
	if err != nil {
		return err
	}
	if err := h.sessions.RenewToken(r.Context()); err != nil {
		return err
	}
	h.sessions.Put(r.Context(), sessionUserKey, u.Username)
	h.sessions.Put(r.Context(), sessionEpochKey, u.SessionEpoch)
	return nil
}

// logout destroys the session.
func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	if err := h.sessions.Destroy(r.Context()); err != nil {
		h.serverError(w, r, err)
		return
	}
	seeOther(w, r, "/login")
}

// showSetup: the first-user form, only while no user exists.
func (h *Handler) showSetup(w http.ResponseWriter, r *http.Request) {
	n, err := h.store.CountUsers(r.Context())
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	if n > 0 {
		h.notFound(w, r, "Setup is done: sign in instead.")
		return
	}
	h.render(w, r, http.StatusOK, views.SetupView(h.bareLayout(r, "Set up"), views.LoginForm{}))
}

// validateNewUser checks a username and password pair.
func validateNewUser(username, password, confirm string) map[string]string {
	errs := validatePassword(password, confirm)
	switch {
	case username == "":
		errs["username"] = "Choose a username."
	case utf8.RuneCountInString(username) > 64:
		errs["username"] = "The username is longer than 64 characters."
	case strings.ContainsAny(username, " \t\r\n"):
		errs["username"] = "A username has no spaces."
	}
	checkText(errs, "username", "The username", username)
	return errs
}

// validatePassword checks a new password and its confirmation.
func validatePassword(password, confirm string) map[string]string {
	errs := map[string]string{}
	switch {
	case utf8.RuneCountInString(password) < 10:
		errs["password"] = "Use at least 10 characters."
	case len(password) > 72:
		errs["password"] = "Use at most 72 bytes (a bcrypt limit)."
	case passwordProblem("The password", password) != "":
		errs["password"] = passwordProblem("The password", password)
	case password != confirm:
		errs["confirm"] = "The two passwords differ."
	}
	return errs
}

// setup creates the first user and signs them in.
func (h *Handler) setup(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	username := strings.TrimSpace(r.PostForm.Get("username"))
	password := r.PostForm.Get("password")
	form := views.LoginForm{Username: username, Errors: validateNewUser(username, password, r.PostForm.Get("confirm"))}
	if len(form.Errors) > 0 {
		h.render(w, r, http.StatusUnprocessableEntity, views.SetupView(h.bareLayout(r, "Set up"), form))
		return
	}
	created, err := h.store.CreateFirstUser(r.Context(), username, password)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	if !created {
		h.notFound(w, r, "Setup is done: sign in instead.")
		return
	}
	if err := h.signIn(r, username); err != nil {
		h.serverError(w, r, err)
		return
	}
	h.log.Info("first user created", "username", username)
	seeOther(w, r, "/settings")
}

// selfRefresh reports whether an htmx trigger is a page's own refresh (the
// wall's grid, a server's alarms, the timeline).
func selfRefresh(trigger string) bool {
	return trigger == "grid" || trigger == "server" || trigger == "timeline"
}
