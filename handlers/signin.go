package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"cmdash/monitoring"
	"cmdash/views"
)

// showLogin renders the sign-in form.
func (h *Handler) showLogin(w http.ResponseWriter, r *http.Request) {
	if currentUser(r) != "" {
		seeOther(w, r, safeNext(r.URL.Query().Get("next")))
		return
	}
	h.render(w, r, http.StatusOK, views.LoginView(h.bareLayout(r, "Sign in"), h.loginForm(safeNext(r.URL.Query().Get("next")))))
}

// loginForm is an empty sign-in form: with the single sign-on button when
// OIDC is on, and without the password fields when they are turned off.
func (h *Handler) loginForm(next string) views.LoginForm {
	f := views.LoginForm{Next: next, NoPassword: h.opts.NoPasswordSignIn}
	if h.oidc != nil {
		f.SSO = h.oidc.cfg.name()
	}
	return f
}

// bareLayout is the shell without navigation (for signed-out pages).
func (h *Handler) bareLayout(r *http.Request, title string) views.Layout {
	return views.Layout{Title: title, Demo: h.opts.Demo, Bare: true, Build: h.build()}
}

// login checks the password, renews the session token and signs in.
func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	if h.opts.NoPasswordSignIn {
		form := h.loginForm("/")
		form.Message = "Password sign-in is turned off."
		h.render(w, r, http.StatusForbidden, views.LoginView(h.bareLayout(r, "Sign in"), form))
		return
	}
	unread := readForm(w, r)
	username := strings.TrimSpace(r.PostForm.Get("username"))
	password := r.PostForm.Get("password")
	form := h.loginForm(safeNext(r.PostForm.Get("next")))
	form.Username = username
	if unread != nil {
		// Nothing to check or count.
		form.Message = unread.message
		h.render(w, r, unread.status, views.LoginView(h.bareLayout(r, "Sign in"), form))
		return
	}
	if p := monitoring.TextProblem("The username", username); p != "" {
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
		h.audit(r, monitoring.AuditSignInFailed, monitoring.ClipAudit(username, maxField), "wrong username or password")
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
	h.auditAs(r, u.Username, monitoring.AuditSignInSucceeded, u.Username, "with a password")
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
	user := h.sessions.GetString(r.Context(), sessionUserKey) // "" when no one was signed in
	if err := h.sessions.Destroy(r.Context()); err != nil {
		h.serverError(w, r, err)
		return
	}
	if user != "" {
		h.auditAs(r, user, monitoring.AuditSignOut, user, "")
	}
	seeOther(w, r, "/login")
}

// setupDone answers, and reports true, when a user exists already (the
// setup page is gone: 404) or the question fails (500).
func (h *Handler) setupDone(w http.ResponseWriter, r *http.Request) bool {
	n, err := h.store.CountUsers(r.Context())
	if err != nil {
		h.serverError(w, r, err)
		return true
	}
	if n > 0 {
		h.notFound(w, r, "Setup is done: sign in instead.")
		return true
	}
	return false
}

// showSetup: the first-user form, only while no user exists.
func (h *Handler) showSetup(w http.ResponseWriter, r *http.Request) {
	if h.setupDone(w, r) {
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
	unread := readForm(w, r)
	username := strings.TrimSpace(r.PostForm.Get("username"))
	password := r.PostForm.Get("password")
	if unread != nil {
		if h.setupDone(w, r) {
			return
		}
		form := views.LoginForm{Username: username, Message: unread.message}
		h.render(w, r, unread.status, views.SetupView(h.bareLayout(r, "Set up"), form))
		return
	}
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
	h.auditAs(r, username, monitoring.AuditUserAdded, username, "role admin: the first user, at setup")
	seeOther(w, r, "/settings")
}
