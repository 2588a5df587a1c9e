package handlers_test

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"cmdash/handlers"
	"cmdash/monitoring"
)

// leavingFrom is a client whose connections leave from the loopback address
// local (127.0.0.2 is another machine as far as the server can tell).
func leavingFrom(local string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}
	return &http.Client{
		Transport:     &http.Transport{DialContext: func(ctx context.Context, n, a string) (net.Conn, error) { return d.DialContext(ctx, n, a) }},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func TestASignInProxyIsBelievedOnlyFromItsAddress(t *testing.T) {
	t.Parallel()
	opts := handlers.Options{
		ProxyHeader:    "X-Forwarded-Email",
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")},
		ProxyRole:      monitoring.Viewer,
	}
	a := newApp(t, opts)
	get := func(c *http.Client, path, user string) *http.Response {
		t.Helper()
		hdr := http.Header{}
		if user != "" {
			hdr.Set("X-Forwarded-Email", user)
		}
		return a.do(c, "GET", path, nil, hdr)
	}
	proxy, stranger := leavingFrom("127.0.0.1"), leavingFrom("127.0.0.2")

	// From the proxy: the user it names is signed in, created as a viewer
	// the first time.
	resp := get(proxy, "/settings/access", "vera@example.com")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("through the proxy: %d", resp.StatusCode)
	}
	if body := readBody(t, resp); !strings.Contains(body, "vera@example.com") || !strings.Contains(body, ">viewer<") {
		t.Errorf("the page does not name the user and role")
	}
	u, err := a.store.UserByName(context.Background(), "vera@example.com")
	if err != nil || u.Role != monitoring.Viewer || u.Origin != monitoring.OriginProxy {
		t.Fatalf("user %+v, %v; want a viewer from the proxy", u, err)
	}
	// A viewer may not change accounts, whoever vouches for her.
	if resp := a.do(proxy, "POST", "/settings/accounts", nil, http.Header{"X-Forwarded-Email": {"vera@example.com"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a viewer through the proxy adds an account: %d", resp.StatusCode)
	}
	// An existing admin keeps her role through the proxy.
	if resp := get(proxy, "/settings/access", adminUser); resp.StatusCode != http.StatusOK || !strings.Contains(readBody(t, resp), "Add a user") {
		t.Errorf("the admin through the proxy is not an admin")
	}

	// From anywhere else the header means nothing: asked to sign in, and
	// nobody is created.
	resp = get(stranger, "/settings/access", adminUser)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Errorf("from 127.0.0.2: %d %s, want to be asked to sign in", resp.StatusCode, resp.Header.Get("Location"))
	}
	if get(stranger, "/api/v1/accounts", "mallory@example.com").StatusCode != http.StatusUnauthorized {
		t.Error("the API believed an untrusted header")
	}
	if _, err := a.store.UserByName(context.Background(), "mallory@example.com"); err == nil {
		t.Error("a user was created from an untrusted header")
	}
	if n := strings.Count(a.logs.String(), "ignored a sign-in header"); n != 1 {
		t.Errorf("the untrusted header was logged %d times, want once", n)
	}
}

func TestLoopbackIsNoProxyUnlessListed(t *testing.T) {
	t.Parallel()
	a := newApp(t, handlers.Options{ProxyHeader: "X-Auth-Request-User", ProxyRole: monitoring.Admin})
	resp := a.do(leavingFrom("127.0.0.1"), "GET", "/settings", nil, http.Header{"X-Auth-Request-User": {adminUser}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("with no trusted proxies: %d, want to be asked to sign in", resp.StatusCode)
	}
}

func TestAProxyUserNotKnownIsRefusedWhenNoneAreCreated(t *testing.T) {
	t.Parallel()
	a := newApp(t, handlers.Options{
		ProxyHeader: "X-Forwarded-Email", TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
		ProxyRole: monitoring.NoRole,
	})
	resp := a.do(leavingFrom("127.0.0.1"), "GET", "/", nil, http.Header{"X-Forwarded-Email": {"newcomer@example.com"}})
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(readBody(t, resp), "creates none") {
		t.Errorf("an unknown user through the proxy: %d, want a 403 that says why", resp.StatusCode)
	}
	if resp := a.do(leavingFrom("127.0.0.1"), "GET", "/api/v1/accounts", nil, http.Header{"X-Forwarded-Email": {adminUser}}); resp.StatusCode != http.StatusOK {
		t.Errorf("a known user through the proxy: %d", resp.StatusCode)
	}
}
