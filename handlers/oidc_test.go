package handlers_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/golang-jwt/jwt/v5"
	"github.com/oauth2-proxy/mockoidc"

	"cmdash/handlers"
	"cmdash/monitoring"
)

// oidcUser is someone the provider signs in, with the claims a test
// chooses: verified and groups are left out of the ID token when nil.
type oidcUser struct {
	email    string
	verified any // a bool, or the string some providers send
	groups   any // a string or a []string
}

type oidcClaims struct {
	*mockoidc.IDTokenClaims
	Email         string `json:"email,omitempty"`
	EmailVerified any    `json:"email_verified,omitempty"`
	Groups        any    `json:"groups,omitempty"`
}

func (u oidcUser) ID() string { return "sub-" + u.email }

func (u oidcUser) Userinfo([]string) ([]byte, error) {
	return json.Marshal(map[string]any{"sub": u.ID(), "email": u.email})
}

func (u oidcUser) Claims(_ []string, base *mockoidc.IDTokenClaims) (jwt.Claims, error) {
	return &oidcClaims{IDTokenClaims: base, Email: u.email, EmailVerified: u.verified, Groups: u.groups}, nil
}

// provider is a real OpenID Connect provider on loopback (discovery,
// authorize, token, JWKS) that remembers every token it hands out, and can
// be told to spoil the ID token's signature.
type provider struct {
	m      *mockoidc.MockOIDC
	spoil  atomic.Bool
	mu     sync.Mutex
	tokens []string
}

func newProvider(t *testing.T) *provider {
	t.Helper()
	m, err := mockoidc.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	p := &provider{m: m}
	if err := m.AddMiddleware(p.watchTokens); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(ln, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	return p
}

// watchTokens records the token endpoint's tokens and, when told, changes
// the ID token's signature.
func (p *provider) watchTokens(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != mockoidc.TokenEndpoint {
			next.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		var tr map[string]any
		if json.Unmarshal(body, &tr) == nil {
			p.mu.Lock()
			for _, k := range []string{"access_token", "id_token", "refresh_token"} {
				if s, _ := tr[k].(string); s != "" {
					p.tokens = append(p.tokens, s)
				}
			}
			p.mu.Unlock()
			if id, _ := tr["id_token"].(string); p.spoil.Load() && strings.Count(id, ".") == 2 {
				parts := strings.Split(id, ".")
				parts[2] = strings.Repeat("A", len(parts[2]))
				tr["id_token"] = strings.Join(parts, ".")
				body, _ = json.Marshal(tr)
			}
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(body)
	})
}

// secrets are what no page or log line may hold: the client secret and
// every token the provider handed out.
func (p *provider) secrets() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string{p.m.ClientSecret}, p.tokens...)
}

// oidcRedirect is the callback registered with the provider; the tests
// call its path on the test server.
const oidcRedirect = "http://dashboard.example/auth/oidc/callback"

// newOIDCApp is the dashboard with single sign-on at p; cfg gives the
// rest of the settings.
func newOIDCApp(t *testing.T, p *provider, cfg handlers.OIDCConfig, opts handlers.Options) *app {
	t.Helper()
	cfg.Issuer, cfg.ClientID, cfg.ClientSecret, cfg.RedirectURL = p.m.Issuer(), p.m.ClientID, p.m.ClientSecret, oidcRedirect
	opts.OIDC = &cfg
	return newApp(t, opts)
}

// get fetches an absolute URL without following redirects.
func get(t *testing.T, c *http.Client, u string) *http.Response {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// startOIDC asks the dashboard to sign in with the provider and returns
// the provider's address it sends the browser to.
func (a *app) startOIDC(c *http.Client, next string) *url.URL {
	a.t.Helper()
	resp := a.do(c, "GET", "/auth/oidc?next="+url.QueryEscape(next), nil, nil)
	if resp.StatusCode != http.StatusFound {
		a.t.Fatalf("GET /auth/oidc: %d, want a redirect to the provider: %s", resp.StatusCode, readBody(a.t, resp))
	}
	u, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		a.t.Fatal(err)
	}
	return u
}

// authorize is the provider signing the user in: it returns the callback
// address (path and query) it sends the browser back to.
func (p *provider) authorize(t *testing.T, c *http.Client, authURL *url.URL) string {
	t.Helper()
	resp := get(t, c, authURL.String())
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize: %d %s", resp.StatusCode, readBody(t, resp))
	}
	cb, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if cb.Scheme+"://"+cb.Host+cb.Path != oidcRedirect {
		t.Fatalf("the provider sent the browser to %s", cb)
	}
	return cb.RequestURI()
}

// signInOIDC runs the whole flow for user and returns the callback's
// answer.
func (a *app) signInOIDC(c *http.Client, p *provider, user oidcUser, next string) *http.Response {
	a.t.Helper()
	p.m.QueueUser(user)
	return a.do(c, "GET", p.authorize(a.t, c, a.startOIDC(c, next)), nil, nil)
}

// wantRefused checks that a sign-in was refused with status and a message
// on the sign-in page that says want, and that no session came of it.
func (a *app) wantRefused(c *http.Client, p *provider, resp *http.Response, status int, want string) {
	a.t.Helper()
	body := readBody(a.t, resp)
	if resp.StatusCode != status {
		a.t.Fatalf("status %d, want %d: %s", resp.StatusCode, status, body)
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		a.t.Fatal(err)
	}
	if msg := doc.Find(".form-error").Text(); !strings.Contains(msg, want) {
		a.t.Errorf("message %q, want it to say %q", msg, want)
	}
	if doc.Find(`a[data-testid="sso"]`).Length() != 1 {
		a.t.Error("the sign-in page with its button is not shown")
	}
	a.wantNoSecrets(p, body)
	if resp := a.do(c, "GET", "/settings", nil, nil); resp.StatusCode != http.StatusSeeOther {
		a.t.Errorf("signed in after a refused sign-in: GET /settings %d", resp.StatusCode)
	}
}

// wantNoSecrets checks a page and the log for the client secret and the
// provider's tokens.
func (a *app) wantNoSecrets(p *provider, body string) {
	a.t.Helper()
	logs := a.logs.String()
	for _, s := range p.secrets() {
		if strings.Contains(body, s) {
			a.t.Errorf("the page holds a secret or token %.12s…", s)
		}
		if strings.Contains(logs, s) {
			a.t.Errorf("the log holds a secret or token %.12s…", s)
		}
	}
}

func (a *app) wantUser(name string, role monitoring.Role) {
	a.t.Helper()
	u, err := a.store.UserByName(context.Background(), name)
	if err != nil {
		a.t.Fatalf("user %s: %v", name, err)
	}
	if u.Role != role || u.Origin != monitoring.OriginOIDC {
		a.t.Errorf("user %s: role %s, origin %s; want %s, oidc", name, u.Role, u.Origin, role)
	}
}

// nocRoles maps groups to roles as a NOC would.
var nocRoles = handlers.OIDCConfig{
	Name: "Example SSO", RoleClaim: "groups", DefaultRole: monitoring.Viewer,
	Roles: map[string]monitoring.Role{"noc-admins": monitoring.Admin, "noc": monitoring.Operator},
}

func TestOIDCSignInCreatesTheUserWithTheRoleOfTheirGroup(t *testing.T) {
	t.Parallel()
	p := newProvider(t)
	a := newOIDCApp(t, p, nocRoles, handlers.Options{})
	c := a.client()

	authURL := a.startOIDC(c, "/settings")
	var before string
	u, _ := url.Parse(a.srv.URL)
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == "dashboard_session" {
			before = ck.Value
		}
	}
	q := authURL.Query()
	if !strings.HasPrefix(authURL.String(), p.m.AuthorizationEndpoint()) || q.Get("client_id") != p.m.ClientID ||
		q.Get("redirect_uri") != oidcRedirect || q.Get("response_type") != "code" ||
		q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) < 43 ||
		len(q.Get("state")) < 43 || len(q.Get("nonce")) < 43 || !strings.Contains(q.Get("scope"), "openid") {
		t.Fatalf("the provider is asked %s", authURL)
	}
	if q.Has("client_secret") || q.Has("code_verifier") {
		t.Fatal("the browser is given the client secret or the PKCE verifier")
	}
	p.m.QueueUser(oidcUser{email: "Alice@Example.com", verified: true, groups: []string{"staff", "noc-admins", "noc"}})
	callback := p.authorize(t, c, authURL)
	resp := a.do(c, "GET", callback, nil, nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/settings" {
		t.Fatalf("callback: %d %q, want a redirect to next: %s", resp.StatusCode, resp.Header.Get("Location"), readBody(t, resp))
	}
	a.wantUser("alice@example.com", monitoring.Admin) // the highest of the groups' roles
	audit, err := a.store.AuditLog(context.Background(), monitoring.AuditQuery{Actor: "alice@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	var did []string
	for _, e := range audit {
		did = append(did, e.Action+" "+e.Target+": "+e.Detail)
	}
	if want := []string{ // newest first
		monitoring.AuditSignInSucceeded + " alice@example.com: with Example SSO",
		monitoring.AuditUserAdded + " alice@example.com: role admin, at their first single sign-on",
	}; !slices.Equal(did, want) {
		t.Errorf("audited %q, want %q", did, want)
	}
	after := ""
	for _, ck := range resp.Cookies() {
		if ck.Name == "dashboard_session" {
			after = ck.Value
		}
	}
	if before == "" || after == "" || before == after {
		t.Errorf("the session token is not renewed at sign-in: %q, then %q", before, after)
	}
	settings := a.do(c, "GET", "/settings", nil, nil)
	body := readBody(t, settings)
	if settings.StatusCode != http.StatusOK || !strings.Contains(body, "alice@example.com") {
		t.Fatalf("GET /settings after sign-in: %d", settings.StatusCode)
	}
	a.wantNoSecrets(p, body)
	if len(p.secrets()) < 3 {
		t.Fatal("the provider handed out no tokens to look for")
	}

	t.Run("the answer is single use", func(t *testing.T) {
		replay := a.client()
		resp := a.do(replay, "GET", callback, nil, nil)
		a.wantRefused(replay, p, resp, http.StatusUnauthorized, "not started in this browser")
	})
	t.Run("the next page stays on this site", func(t *testing.T) {
		c := a.client()
		resp := a.signInOIDC(c, p, oidcUser{email: "alice@example.com"}, "//evil.example/")
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
			t.Errorf("callback: %d %q, want /", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
}

func TestOIDCRolesComeFromTheRoleClaim(t *testing.T) {
	t.Parallel()
	p := newProvider(t)
	a := newOIDCApp(t, p, nocRoles, handlers.Options{})
	ctx := context.Background()

	t.Run("a claim that is one string", func(t *testing.T) {
		resp := a.signInOIDC(a.client(), p, oidcUser{email: "olga@example.com", groups: "noc"}, "/")
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("callback: %d", resp.StatusCode)
		}
		a.wantUser("olga@example.com", monitoring.Operator)
	})
	t.Run("no group that maps: the default role", func(t *testing.T) {
		resp := a.signInOIDC(a.client(), p, oidcUser{email: "vic@example.com", groups: []string{"sales"}}, "/")
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("callback: %d", resp.StatusCode)
		}
		a.wantUser("vic@example.com", monitoring.Viewer)
	})
	t.Run("an existing user's role follows the claim", func(t *testing.T) {
		resp := a.signInOIDC(a.client(), p, oidcUser{email: "vic@example.com", groups: []string{"noc-admins"}}, "/")
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("callback: %d", resp.StatusCode)
		}
		a.wantUser("vic@example.com", monitoring.Admin)
		resp = a.signInOIDC(a.client(), p, oidcUser{email: "vic@example.com", groups: []string{"noc"}}, "/")
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("callback: %d", resp.StatusCode)
		}
		a.wantUser("vic@example.com", monitoring.Operator)
	})
	t.Run("the last admin keeps the role the claim would take away", func(t *testing.T) {
		last, _, err := a.store.ExternalUser(ctx, "last@example.com", monitoring.OriginOIDC, monitoring.Admin)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{adminUser, "vic@example.com"} {
			u, _ := a.store.UserByName(ctx, name)
			if _, err := a.store.SetRole(ctx, u.ID, monitoring.Viewer); err != nil {
				t.Fatal(err)
			}
		}
		c := a.client()
		resp := a.signInOIDC(c, p, oidcUser{email: "last@example.com"}, "/settings/access")
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("callback: %d", resp.StatusCode)
		}
		a.wantUser(last.Username, monitoring.Admin)
		if !strings.Contains(a.logs.String(), "the last admin keeps the admin role") {
			t.Error("no log line says why the role was kept")
		}
		if resp := a.do(c, "GET", "/settings/access", nil, nil); resp.StatusCode != http.StatusOK {
			t.Errorf("signed in as the last admin: %d", resp.StatusCode)
		}
	})
	t.Run("no group and no default role: refused", func(t *testing.T) {
		cfg := nocRoles
		cfg.DefaultRole = monitoring.NoRole
		a := newOIDCApp(t, p, cfg, handlers.Options{})
		c := a.client()
		resp := a.signInOIDC(c, p, oidcUser{email: "nobody@example.com", groups: []string{"sales"}}, "/")
		a.wantRefused(c, p, resp, http.StatusForbidden, "no role on this dashboard")
		if _, err := a.store.UserByName(ctx, "nobody@example.com"); !errors.Is(err, monitoring.ErrNotFound) {
			t.Errorf("the refused user was created: %v", err)
		}
		// Nor does an existing user without the group get in.
		if _, _, err := a.store.ExternalUser(ctx, "former@example.com", monitoring.OriginOIDC, monitoring.Operator); err != nil {
			t.Fatal(err)
		}
		resp = a.signInOIDC(c, p, oidcUser{email: "former@example.com"}, "/")
		a.wantRefused(c, p, resp, http.StatusForbidden, "no role on this dashboard")
	})
	t.Run("without a role claim and no default role, only existing users", func(t *testing.T) {
		a := newOIDCApp(t, p, handlers.OIDCConfig{}, handlers.Options{})
		c := a.client()
		resp := a.signInOIDC(c, p, oidcUser{email: "new@example.com", groups: "noc-admins"}, "/")
		a.wantRefused(c, p, resp, http.StatusForbidden, "no role on this dashboard")
		if _, _, err := a.store.ExternalUser(ctx, "known@example.com", monitoring.OriginOIDC, monitoring.Operator); err != nil {
			t.Fatal(err)
		}
		resp = a.signInOIDC(c, p, oidcUser{email: "known@example.com"}, "/")
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("callback: %d", resp.StatusCode)
		}
		a.wantUser("known@example.com", monitoring.Operator) // kept: no claim decides
	})
}

// TestOIDCRefusesAnAnswerThatIsNotRight: every way the provider's answer
// can be wrong ends on the sign-in page with a message, never a 500, and
// without a session.
func TestOIDCRefusesAnAnswerThatIsNotRight(t *testing.T) {
	t.Parallel()
	p := newProvider(t)
	a := newOIDCApp(t, p, handlers.OIDCConfig{AllowedDomains: []string{"example.com"}, DefaultRole: monitoring.Viewer}, handlers.Options{})
	alice := oidcUser{email: "alice@example.com", verified: true}

	t.Run("a wrong state, and the right one after it", func(t *testing.T) {
		c := a.client()
		p.m.QueueUser(alice)
		callback := p.authorize(t, c, a.startOIDC(c, "/"))
		forged := strings.Replace(callback, "state=", "state=x", 1)
		a.wantRefused(c, p, a.do(c, "GET", forged, nil, nil), http.StatusUnauthorized, "not for the sign-in this browser started")
		refused, err := a.store.AuditLog(context.Background(), monitoring.AuditQuery{Action: monitoring.AuditSignInFailed})
		if err != nil || len(refused) == 0 || !strings.HasPrefix(refused[0].Detail, "single sign-on: ") {
			t.Errorf("a refused single sign-on is audited as %+v (%v)", refused, err)
		}
		// The sign-in in progress was used up by the wrong answer.
		a.wantRefused(c, p, a.do(c, "GET", callback, nil, nil), http.StatusUnauthorized, "not started in this browser")
	})
	t.Run("an answer for another browser's sign-in", func(t *testing.T) {
		c, other := a.client(), a.client()
		p.m.QueueUser(alice)
		callback := p.authorize(t, other, a.startOIDC(other, "/"))
		a.startOIDC(c, "/")
		a.wantRefused(c, p, a.do(c, "GET", callback, nil, nil), http.StatusUnauthorized, "not for the sign-in this browser started")
	})
	t.Run("the provider's error", func(t *testing.T) {
		c := a.client()
		state := a.startOIDC(c, "/").Query().Get("state")
		resp := a.do(c, "GET", "/auth/oidc/callback?error=access_denied&error_description=nope&state="+state, nil, nil)
		a.wantRefused(c, p, resp, http.StatusUnauthorized, "did not sign you in (access_denied)")
	})
	t.Run("a code the provider will not exchange", func(t *testing.T) {
		c := a.client()
		p.m.QueueUser(alice)
		callback := p.authorize(t, c, a.startOIDC(c, "/"))
		// Twice: the client tries the secret in a header, then in the form.
		for range 2 {
			p.m.QueueError(&mockoidc.ServerError{Code: http.StatusBadRequest, Error: mockoidc.InvalidGrant, Description: "code used"})
		}
		a.wantRefused(c, p, a.do(c, "GET", callback, nil, nil), http.StatusUnauthorized, "could not be exchanged")
		if !strings.Contains(a.logs.String(), "invalid_grant") {
			t.Error("the log does not say what the provider said")
		}
	})
	t.Run("an ID token whose signature is wrong", func(t *testing.T) {
		c := a.client()
		p.spoil.Store(true)
		defer p.spoil.Store(false)
		resp := a.signInOIDC(c, p, alice, "/")
		a.wantRefused(c, p, resp, http.StatusUnauthorized, "could not be verified")
	})
	t.Run("an ID token issued for another sign-in (nonce)", func(t *testing.T) {
		c := a.client()
		authURL := a.startOIDC(c, "/")
		q := authURL.Query()
		q.Set("nonce", "another sign-in's nonce")
		authURL.RawQuery = q.Encode()
		p.m.QueueUser(alice)
		resp := a.do(c, "GET", p.authorize(t, c, authURL), nil, nil)
		a.wantRefused(c, p, resp, http.StatusUnauthorized, "not issued for this sign-in")
	})
	t.Run("an ID token without a nonce", func(t *testing.T) {
		c := a.client()
		authURL := a.startOIDC(c, "/")
		q := authURL.Query()
		q.Del("nonce")
		authURL.RawQuery = q.Encode()
		p.m.QueueUser(alice)
		resp := a.do(c, "GET", p.authorize(t, c, authURL), nil, nil)
		a.wantRefused(c, p, resp, http.StatusUnauthorized, "not issued for this sign-in")
	})
	t.Run("an address at a domain not allowed", func(t *testing.T) {
		c := a.client()
		resp := a.signInOIDC(c, p, oidcUser{email: "mallory@example.com.evil.org"}, "/")
		a.wantRefused(c, p, resp, http.StatusForbidden, "Addresses at example.com.evil.org may not sign in")
	})
	t.Run("an address the provider has not verified", func(t *testing.T) {
		for _, verified := range []any{false, "false"} {
			c := a.client()
			resp := a.signInOIDC(c, p, oidcUser{email: "alice@example.com", verified: verified}, "/")
			a.wantRefused(c, p, resp, http.StatusForbidden, "has not verified your e-mail address")
		}
	})
	t.Run("no address", func(t *testing.T) {
		c := a.client()
		resp := a.signInOIDC(c, p, oidcUser{}, "/")
		a.wantRefused(c, p, resp, http.StatusForbidden, "sent no e-mail address")
	})
	if n, _ := a.store.CountUsers(context.Background()); n != 1 {
		t.Errorf("%d users, want only the admin: a refused sign-in created one", n)
	}
	if strings.Contains(a.logs.String(), `"level":"ERROR"`) {
		t.Errorf("a refusal was logged as an error:\n%s", a.logs)
	}
}

func TestOIDCRefusesAnExpiredIDToken(t *testing.T) {
	t.Parallel()
	p := newProvider(t)
	a := newOIDCApp(t, p, handlers.OIDCConfig{DefaultRole: monitoring.Viewer}, handlers.Options{})
	// The provider's clock is an hour behind: its ten-minute tokens have
	// long expired when they arrive.
	p.m.FastForward(-time.Hour)
	c := a.client()
	resp := a.signInOIDC(c, p, oidcUser{email: "late@example.com"}, "/")
	a.wantRefused(c, p, resp, http.StatusUnauthorized, "the ID token has expired")
	if !strings.Contains(a.logs.String(), "id token expired") {
		t.Error("the log does not say why")
	}
}

// failingTransport fails every request while down is set: a provider that
// cannot be reached.
type failingTransport struct{ down atomic.Bool }

func (f *failingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if f.down.Load() {
		return nil, errors.New("connection refused (test)")
	}
	return http.DefaultTransport.RoundTrip(r)
}

func TestOIDCProviderDownAtStartIsAskedAgainLater(t *testing.T) {
	t.Parallel()
	p := newProvider(t)
	tr := &failingTransport{}
	tr.down.Store(true)
	a := newOIDCApp(t, p, handlers.OIDCConfig{DefaultRole: monitoring.Viewer, HTTPClient: &http.Client{Transport: tr}}, handlers.Options{})
	c := a.client()
	if resp := a.do(c, "GET", "/login", nil, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("sign-in page while the provider is down: %d", resp.StatusCode)
	}
	resp := a.do(c, "GET", "/auth/oidc", nil, nil)
	body := readBody(t, resp)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "cannot be reached just now") {
		t.Fatalf("provider down: %d %s", resp.StatusCode, body)
	}
	// Password sign-in still works meanwhile.
	a.signedIn()

	tr.down.Store(false)
	resp = a.signInOIDC(c, p, oidcUser{email: "back@example.com"}, "/")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("once the provider is back: %d", resp.StatusCode)
	}
	a.wantUser("back@example.com", monitoring.Viewer)
}

func TestLoginPageOffersSingleSignOn(t *testing.T) {
	t.Parallel()
	p := newProvider(t)

	t.Run("beside the password form", func(t *testing.T) {
		a := newOIDCApp(t, p, handlers.OIDCConfig{Name: "Google", DefaultRole: monitoring.Viewer}, handlers.Options{})
		resp := a.do(a.client(), "GET", "/login?next=%2Faccounts%2F1%3Fq%3Dweb", nil, nil)
		doc, err := goquery.NewDocumentFromReader(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		btn := doc.Find(`a.button.primary[data-testid="sso"]`)
		if href, _ := btn.Attr("href"); href != "/auth/oidc?next=%2Faccounts%2F1%3Fq%3Dweb" || strings.TrimSpace(btn.Text()) != "Sign in with Google" {
			t.Errorf("button %q → %q", btn.Text(), href)
		}
		if doc.Find(`form[action="/login"] input[name="password"]`).Length() != 1 {
			t.Error("the password form is gone")
		}
		if doc.Find(`form[action="/login"] button.secondary[type="submit"]`).Length() != 1 || doc.Find(`form[action="/login"] button.primary`).Length() != 0 {
			t.Error("beside single sign-on, the password form's button is not the secondary one")
		}
		a.signedIn()
	})
	t.Run("alone when password sign-in is off", func(t *testing.T) {
		a := newOIDCApp(t, p, handlers.OIDCConfig{DefaultRole: monitoring.Viewer}, handlers.Options{NoPasswordSignIn: true})
		resp := a.do(a.client(), "GET", "/login", nil, nil)
		doc, err := goquery.NewDocumentFromReader(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		if doc.Find(`form[action="/login"]`).Length() != 0 || doc.Find("input[type=password]").Length() != 0 {
			t.Error("the password form is shown while password sign-in is off")
		}
		btn := doc.Find(`a[data-testid="sso"]`)
		if href, _ := btn.Attr("href"); href != "/auth/oidc" || strings.TrimSpace(btn.Text()) != "Sign in with single sign-on" {
			t.Errorf("button %q → %q", btn.Text(), href)
		}
		c := a.client()
		resp = a.do(c, "POST", "/login", url.Values{"username": {adminUser}, "password": {adminPass}}, nil)
		if body := readBody(t, resp); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "Password sign-in is turned off") {
			t.Errorf("POST /login: %d %s", resp.StatusCode, body)
		}
		if resp := a.do(c, "GET", "/settings", nil, nil); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("signed in with a password that is turned off: %d", resp.StatusCode)
		}
		if resp := a.signInOIDC(c, p, oidcUser{email: "sso@example.com"}, "/settings"); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("single sign-on: %d", resp.StatusCode)
		}
	})
	t.Run("first-run setup still works with passwords off", func(t *testing.T) {
		a := newOIDCApp(t, p, handlers.OIDCConfig{DefaultRole: monitoring.Viewer}, handlers.Options{NoPasswordSignIn: true})
		if _, err := a.store.DB().Exec(`DELETE FROM users`); err != nil {
			t.Fatal(err)
		}
		c := a.client()
		if resp := a.do(c, "GET", "/auth/oidc", nil, nil); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/setup" {
			t.Fatalf("no user yet: %d %q, want /setup first", resp.StatusCode, resp.Header.Get("Location"))
		}
		pw := "long enough password"
		resp := a.do(c, "POST", "/setup", url.Values{"username": {"first"}, "password": {pw}, "confirm": {pw}}, nil)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("setup: %d", resp.StatusCode)
		}
		if resp := a.do(c, "GET", "/settings/access", nil, nil); resp.StatusCode != http.StatusOK {
			t.Errorf("the first admin is not signed in: %d", resp.StatusCode)
		}
	})
	t.Run("no single sign-on routes when it is off", func(t *testing.T) {
		a := newApp(t, handlers.Options{})
		c := a.signedIn()
		for _, path := range []string{"/auth/oidc", "/auth/oidc/callback?code=x&state=y"} {
			if resp := a.do(c, "GET", path, nil, nil); resp.StatusCode != http.StatusNotFound {
				t.Errorf("GET %s: %d, want 404", path, resp.StatusCode)
			}
		}
		body := readBody(t, a.do(a.client(), "GET", "/login", nil, nil))
		if strings.Contains(body, "/auth/oidc") {
			t.Error("the sign-in page offers single sign-on that is not set up")
		}
	})
}
