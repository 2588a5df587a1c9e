package handlers

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"cmdash/monitoring"
	"cmdash/views"
)

// OIDCConfig turns on sign-in with an OpenID Connect provider (Google
// Workspace, Keycloak, Entra ID…): the authorisation code flow with PKCE.
// Users are named by their e-mail address and created at their first
// sign-in.
type OIDCConfig struct {
	// Issuer is the provider's issuer URL, where its discovery document
	// lives (Issuer + "/.well-known/openid-configuration").
	Issuer       string
	ClientID     string
	ClientSecret string
	// RedirectURL is this dashboard's callback as registered with the
	// provider: https://<host>/auth/oidc/callback.
	RedirectURL string
	// Name is shown on the button ("Sign in with Google"); "" says
	// "single sign-on".
	Name string
	// AllowedDomains are the e-mail domains that may sign in (exactly, in
	// lower case); empty lets any in.
	AllowedDomains []string
	// RoleClaim names the ID token claim (a string or a list of strings,
	// such as "groups") whose values Roles maps to roles; "" gives everyone
	// DefaultRole. With a RoleClaim the provider decides: a user's role is
	// set again at every sign-in.
	RoleClaim string
	Roles     map[string]monitoring.Role
	// DefaultRole is the role of a user none of whose claim values is in
	// Roles; NoRole refuses them (and, without a RoleClaim, lets in only
	// users who exist already).
	DefaultRole monitoring.Role
	// HTTPClient talks to the provider; nil is a client with a 10 s timeout.
	HTTPClient *http.Client
}

// name is what the sign-in button calls the provider.
func (c *OIDCConfig) name() string {
	if c.Name == "" {
		return "single sign-on"
	}
	return c.Name
}

// role is the role that the claims give: the highest that a value of the
// role claim maps to, else DefaultRole.
func (c *OIDCConfig) role(claims map[string]any) monitoring.Role {
	if c.RoleClaim == "" {
		return c.DefaultRole
	}
	best := monitoring.NoRole
	for _, v := range claimStrings(claims[c.RoleClaim]) {
		best = max(best, c.Roles[v])
	}
	if best == monitoring.NoRole {
		return c.DefaultRole
	}
	return best
}

// domainAllowed reports whether an e-mail address is in AllowedDomains.
func (c *OIDCConfig) domainAllowed(email string) bool {
	if len(c.AllowedDomains) == 0 {
		return true
	}
	_, domain, _ := strings.Cut(email, "@")
	for _, d := range c.AllowedDomains {
		if strings.EqualFold(d, domain) {
			return true
		}
	}
	return false
}

// claimStrings reads a claim that is a string or a list of strings.
func claimStrings(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// oidcClient is the provider as discovered. Discovery waits for the first
// sign-in, and is tried again after a failure: the dashboard starts, and
// its password sign-in works, while the provider is down.
type oidcClient struct {
	cfg    OIDCConfig
	client *http.Client

	mu       sync.Mutex
	oauth    *oauth2.Config
	verifier *oidc.IDTokenVerifier
}

func newOIDCClient(cfg OIDCConfig) *oidcClient {
	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	return &oidcClient{cfg: cfg, client: client}
}

// ctx carries the client for the provider's requests.
func (o *oidcClient) ctx(ctx context.Context) context.Context {
	return oidc.ClientContext(ctx, o.client)
}

// discover returns the provider's endpoints and the ID token verifier,
// fetching the discovery document the first time (and after a failure).
func (o *oidcClient) discover(ctx context.Context) (*oauth2.Config, *oidc.IDTokenVerifier, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.oauth != nil {
		return o.oauth, o.verifier, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	p, err := oidc.NewProvider(o.ctx(ctx), o.cfg.Issuer)
	if err != nil {
		return nil, nil, fmt.Errorf("oidc discovery: %w", err)
	}
	o.oauth = &oauth2.Config{
		ClientID:     o.cfg.ClientID,
		ClientSecret: o.cfg.ClientSecret,
		Endpoint:     p.Endpoint(),
		RedirectURL:  o.cfg.RedirectURL,
		Scopes:       []string{oidc.ScopeOpenID, "email", "profile"},
	}
	// Issuer, audience (the client id) and expiry are checked; the nonce
	// is checked by the callback.
	o.verifier = p.Verifier(&oidc.Config{ClientID: o.cfg.ClientID})
	return o.oauth, o.verifier, nil
}

// Session keys of a sign-in in progress: what the callback checks, kept on
// the server and taken (single use) when the provider sends the browser
// back.
const (
	oidcStateKey    = "oidc_state"
	oidcNonceKey    = "oidc_nonce"
	oidcVerifierKey = "oidc_verifier"
	oidcNextKey     = "oidc_next"
	oidcStartedKey  = "oidc_started"
)

// oidcFlowTimeout is how long a sign-in at the provider may take.
const oidcFlowTimeout = 10 * time.Minute

// randomString is 32 random bytes, base64url.
func randomString() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

// startOIDC sends the browser to the provider, remembering in the session
// what the callback will check: state, nonce, PKCE verifier, and the page
// to go to afterwards.
func (h *Handler) startOIDC(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.URL.Query().Get("next"))
	if currentUser(r) != "" {
		seeOther(w, r, next)
		return
	}
	oauth, _, err := h.oidc.discover(r.Context())
	if err != nil {
		h.log.Warn("oidc sign-in: the provider cannot be reached", "err", err)
		h.refuseOIDC(w, r, next, http.StatusServiceUnavailable,
			h.oidc.cfg.name()+" cannot be reached just now: try again in a moment.")
		return
	}
	state, nonce, verifier := randomString(), randomString(), oauth2.GenerateVerifier()
	ctx := r.Context()
	h.sessions.Put(ctx, oidcStateKey, state)
	h.sessions.Put(ctx, oidcNonceKey, nonce)
	h.sessions.Put(ctx, oidcVerifierKey, verifier)
	h.sessions.Put(ctx, oidcNextKey, next)
	h.sessions.Put(ctx, oidcStartedKey, h.now().Unix())
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, oauth.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), http.StatusFound)
}

// oidcRefusal is why a sign-in at the provider is not accepted: the status
// and message the browser gets, and the reason logged.
type oidcRefusal struct {
	status int
	msg    string
	reason string
	err    error
}

// oidcCallback is where the provider sends the browser back. It checks the
// state, exchanges the code (with the PKCE verifier), verifies the ID token
// and its nonce, and signs in the user the e-mail address names, with the
// role its claims give.
func (h *Handler) oidcCallback(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	// Single use: taken from the session whatever comes of it.
	state := h.sessions.PopString(ctx, oidcStateKey)
	nonce := h.sessions.PopString(ctx, oidcNonceKey)
	verifier := h.sessions.PopString(ctx, oidcVerifierKey)
	next := safeNext(h.sessions.PopString(ctx, oidcNextKey))
	started := time.Unix(h.sessions.GetInt64(ctx, oidcStartedKey), 0)
	h.sessions.Remove(ctx, oidcStartedKey)

	email, role, no := h.checkOIDC(r, state, nonce, verifier, started)
	if no != nil {
		h.log.Warn("oidc sign-in refused", "reason", no.reason, "err", no.err, "email", email, "remote", h.clientIP(r))
		h.audit(r, monitoring.AuditSignInFailed, monitoring.ClipAudit(email, maxField), "single sign-on: "+no.reason)
		h.refuseOIDC(w, r, next, no.status, no.msg)
		return
	}
	u, created, err := h.store.ExternalUser(ctx, email, monitoring.OriginOIDC, role)
	if errors.Is(err, monitoring.ErrNotFound) {
		h.log.Warn("oidc sign-in refused", "reason", "no role and no such user", "email", email, "remote", h.clientIP(r))
		h.audit(r, monitoring.AuditSignInFailed, monitoring.ClipAudit(email, maxField), "single sign-on: no role and no such user")
		h.refuseOIDC(w, r, next, http.StatusForbidden,
			"You ("+email+") have no role on this dashboard: an admin can give you one.")
		return
	}
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	if created {
		h.log.Info("user added at first single sign-on", "username", u.Username, "role", u.Role.String())
		h.auditAs(r, u.Username, monitoring.AuditUserAdded, u.Username, "role "+u.Role.String()+", at their first single sign-on")
	} else if h.oidc.cfg.RoleClaim != "" && u.Role != role {
		// The provider decides roles: follow it.
		_, err := h.store.SetRole(ctx, u.ID, role)
		switch {
		case errors.Is(err, monitoring.ErrLastAdmin):
			h.log.Warn("oidc sign-in: the last admin keeps the admin role the provider would take away",
				"username", u.Username, "role", role.String())
		case err != nil:
			h.serverError(w, r, err)
			return
		default:
			h.log.Info("role changed by the provider's claim", "username", u.Username,
				"from", u.Role.String(), "to", role.String())
			h.auditAs(r, u.Username, monitoring.AuditUserRoleChanged, u.Username,
				u.Role.String()+" → "+role.String()+", by the provider's "+h.oidc.cfg.RoleClaim+" claim")
		}
	}
	if err := h.signIn(r, u.Username); err != nil {
		h.serverError(w, r, err)
		return
	}
	h.log.Info("signed in", "username", u.Username, "via", "oidc", "remote", h.clientIP(r))
	h.auditAs(r, u.Username, monitoring.AuditSignInSucceeded, u.Username, "with "+h.oidc.cfg.name())
	seeOther(w, r, next)
}

// checkOIDC checks the provider's answer against the sign-in this browser
// started, and returns the e-mail address and role that the ID token
// gives; a refusal says why not.
func (h *Handler) checkOIDC(r *http.Request, state, nonce, verifier string, started time.Time) (email string, role monitoring.Role, no *oidcRefusal) {
	cfg := &h.oidc.cfg
	name := cfg.name()
	q := r.URL.Query()
	refuse := func(status int, msg, reason string, err error) (string, monitoring.Role, *oidcRefusal) {
		return email, monitoring.NoRole, &oidcRefusal{status: status, msg: msg, reason: reason, err: err}
	}
	switch {
	case state == "":
		return refuse(http.StatusUnauthorized, "This sign-in was not started in this browser, or was used already: start again.",
			"no sign-in in progress", nil)
	case subtle.ConstantTimeCompare([]byte(state), []byte(q.Get("state"))) != 1:
		return refuse(http.StatusUnauthorized, "This answer from "+name+" is not for the sign-in this browser started: start again.",
			"wrong state", nil)
	case h.now().Sub(started) > oidcFlowTimeout:
		return refuse(http.StatusUnauthorized, "This sign-in took too long: start again.", "sign-in too old", nil)
	case q.Get("error") != "":
		return refuse(http.StatusUnauthorized, name+" did not sign you in ("+clip(q.Get("error"), 64)+"): start again, or ask whoever runs it.",
			"the provider refused", errors.New(clip(q.Get("error")+": "+q.Get("error_description"), 200)))
	case q.Get("code") == "":
		return refuse(http.StatusUnauthorized, name+" sent no authorisation code: start again.", "no code", nil)
	}

	oauth, verify, err := h.oidc.discover(r.Context())
	if err != nil {
		return refuse(http.StatusServiceUnavailable, name+" cannot be reached just now: try again in a moment.", "discovery", err)
	}
	tok, err := oauth.Exchange(h.oidc.ctx(r.Context()), q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		return refuse(http.StatusUnauthorized, "Signing in with "+name+" failed: the code could not be exchanged. Start again.",
			"code exchange", exchangeError(err))
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return refuse(http.StatusUnauthorized, "Signing in with "+name+" failed: it sent no ID token.", "no id token", nil)
	}
	idt, err := verify.Verify(h.oidc.ctx(r.Context()), raw)
	if expired := (*oidc.TokenExpiredError)(nil); errors.As(err, &expired) {
		return refuse(http.StatusUnauthorized, "Signing in with "+name+" failed: the ID token has expired (are this server's and the provider's clocks right?). Start again.",
			"id token expired", err)
	}
	if err != nil {
		return refuse(http.StatusUnauthorized, "Signing in with "+name+" failed: its ID token could not be verified.", "id token invalid", err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(nonce)) != 1 {
		return refuse(http.StatusUnauthorized, "Signing in with "+name+" failed: the ID token was not issued for this sign-in. Start again.",
			"wrong nonce", nil)
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return refuse(http.StatusUnauthorized, "Signing in with "+name+" failed: its ID token could not be read.", "claims", err)
	}

	email, _ = claims["email"].(string)
	email = strings.ToLower(strings.TrimSpace(email))
	local, domain, _ := strings.Cut(email, "@")
	switch {
	case email == "":
		return refuse(http.StatusForbidden, name+" sent no e-mail address, and this dashboard names users by theirs.", "no email", nil)
	case local == "" || domain == "" || len(email) > 255 || strings.IndexFunc(email, unicode.IsControl) >= 0 ||
		strings.ContainsAny(email, " \t"):
		return refuse(http.StatusForbidden, name+" sent an e-mail address this dashboard cannot take.", "bad email", nil)
	case isFalse(claims["email_verified"]):
		return refuse(http.StatusForbidden, name+" has not verified your e-mail address ("+email+").", "email not verified", nil)
	case !cfg.domainAllowed(email):
		return refuse(http.StatusForbidden, "Addresses at "+domain+" may not sign in to this dashboard.", "domain not allowed", nil)
	}
	role = cfg.role(claims)
	if role == monitoring.NoRole && cfg.RoleClaim != "" {
		return refuse(http.StatusForbidden, "You ("+email+") have no role on this dashboard: ask for a group that has one.",
			"no role from the claim", nil)
	}
	return email, role, nil
}

// isFalse reports a claim that is false: a boolean, or the string some
// providers send.
func isFalse(v any) bool {
	switch v := v.(type) {
	case bool:
		return !v
	case string:
		return strings.EqualFold(v, "false")
	}
	return false
}

// exchangeError is what is logged of a failed code exchange: the
// provider's error code and status, never the response's body.
func exchangeError(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		status := 0
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		return fmt.Errorf("token endpoint: status %d, error %q: %s", status, re.ErrorCode, clip(re.ErrorDescription, 200))
	}
	return err
}

// clip shortens s to at most n bytes, on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// refuseOIDC shows the sign-in page with why single sign-on failed.
func (h *Handler) refuseOIDC(w http.ResponseWriter, r *http.Request, next string, status int, msg string) {
	form := h.loginForm(next)
	form.Message = msg
	h.render(w, r, status, views.LoginView(h.bareLayout(r, "Sign in"), form))
}
