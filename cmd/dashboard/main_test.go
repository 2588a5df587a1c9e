package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"cmdash/handlers"
	"cmdash/monitoring"
	"cmdash/monitoring/rackspace"
)

// onlyEnv is a getenv that knows only the given NAME=value pairs, so the real
// environment never leaks into a test.
func onlyEnv(pairs ...string) func(string) string {
	m := map[string]string{}
	for _, p := range pairs {
		k, v, _ := strings.Cut(p, "=")
		m[k] = v
	}
	return func(name string) string { return m[name] }
}

func TestParseConfig(t *testing.T) {
	defaults := Config{
		Addr: "localhost:8080", DBPath: "dashboard.db", IdentityURL: rackspace.DefaultIdentityURL,
		PollInterval: 30 * time.Second, RefreshInterval: 20 * time.Second, Concurrency: 256, ChangeWindow: 10 * time.Minute,
		OldAfter: 15 * time.Minute, Proxy: ProxyAuth{Role: monitoring.Viewer}, ChartCallsPerHour: 120, LiveStreams: 10000, AccessLog: true, PasswordSignIn: true,
	}
	defaults.History = monitoring.Retention{MaxAge: 30 * 24 * time.Hour, MaxRows: 200_000}
	with := func(f func(*Config)) Config {
		c := defaults
		f(&c)
		return c
	}
	tests := []struct {
		name string
		args []string
		env  []string
		want Config
	}{
		{"no flags and no environment give the defaults", nil, nil, defaults},
		{"-demo uses its own database file and a shorter change window by default", []string{"-demo"}, nil,
			with(func(c *Config) { c.Demo, c.DBPath, c.ChangeWindow = true, "dashboard-demo.db", 2*time.Minute })},
		{"DEMO=true in the environment is demo mode too", nil, []string{"DEMO=true"},
			with(func(c *Config) { c.Demo, c.DBPath, c.ChangeWindow = true, "dashboard-demo.db", 2*time.Minute })},
		{"-demo with -db keeps the named file", []string{"-demo", "-db", "/tmp/x.db"}, nil,
			with(func(c *Config) { c.Demo, c.DBPath, c.ChangeWindow = true, "/tmp/x.db", 2*time.Minute })},
		{"-demo with a change window keeps it", []string{"-demo", "-change-window", "10m"}, nil,
			with(func(c *Config) { c.Demo, c.DBPath = true, "dashboard-demo.db" })},
		{"CHANGE_WINDOW sets how long changes stay marked", nil, []string{"CHANGE_WINDOW=30m"},
			with(func(c *Config) { c.ChangeWindow = 30 * time.Minute })},
		{"-plain-order keeps the wall in name order", []string{"-plain-order"}, nil,
			with(func(c *Config) { c.PlainOrder = true })},
		{"POLL_INTERVAL sets the poll interval", nil, []string{"POLL_INTERVAL=45s"},
			with(func(c *Config) { c.PollInterval = 45 * time.Second })},
		{"POLL_INTERVAL with spaces around is trimmed", nil, []string{"POLL_INTERVAL= 1m "},
			with(func(c *Config) { c.PollInterval = time.Minute })},
		{"the minimum poll interval of 10s is allowed", []string{"-poll-interval", "10s"}, nil,
			with(func(c *Config) { c.PollInterval = 10 * time.Second })},
		{"-poll-interval beats POLL_INTERVAL", []string{"-poll-interval", "15s"}, []string{"POLL_INTERVAL=45s"},
			with(func(c *Config) { c.PollInterval = 15 * time.Second })},
		{"DATABASE_PATH sets the database file", nil, []string{"DATABASE_PATH=/data/wall.db"},
			with(func(c *Config) { c.DBPath = "/data/wall.db" })},
		{"-db beats DATABASE_PATH", []string{"-db", "flag.db"}, []string{"DATABASE_PATH=/data/wall.db"},
			with(func(c *Config) { c.DBPath = "flag.db" })},
		{"ADDR sets the listen address", nil, []string{"ADDR=:9000"},
			with(func(c *Config) { c.Addr = ":9000" })},
		{"-addr beats ADDR", []string{"-addr", "127.0.0.1:7000"}, []string{"ADDR=:9000"},
			with(func(c *Config) { c.Addr = "127.0.0.1:7000" })},
		{"REFRESH_INTERVAL sets the grid refresh", nil, []string{"REFRESH_INTERVAL=5s"},
			with(func(c *Config) { c.RefreshInterval = 5 * time.Second })},
		{"RACKSPACE_IDENTITY_URL sets the Identity endpoint", nil, []string{"RACKSPACE_IDENTITY_URL=http://127.0.0.1:5000/v2.0"},
			with(func(c *Config) { c.IdentityURL = "http://127.0.0.1:5000/v2.0" })},
		{"-concurrency is read", []string{"-concurrency", "16"}, nil,
			with(func(c *Config) { c.Concurrency = 16 })},
		{"CONCURRENCY sets it too", nil, []string{"CONCURRENCY=1024"},
			with(func(c *Config) { c.Concurrency = 1024 })},
		{"-concurrency beats CONCURRENCY", []string{"-concurrency", "1"}, []string{"CONCURRENCY=64"},
			with(func(c *Config) { c.Concurrency = 1 })},
		{"PUBLIC_DASHBOARD=1 opens the wall without sign-in", nil, []string{"PUBLIC_DASHBOARD=1"},
			with(func(c *Config) { c.PublicDashboard = true })},
		{"-public-dashboard=false beats PUBLIC_DASHBOARD", []string{"-public-dashboard=false"}, []string{"PUBLIC_DASHBOARD=true"}, defaults},
		{"SECURE_COOKIES=true marks cookies secure", nil, []string{"SECURE_COOKIES=true"},
			with(func(c *Config) { c.SecureCookies = true })},
		{"LOG_FORMAT picks the log format", nil, []string{"LOG_FORMAT=text"},
			with(func(c *Config) { c.LogFormat = "text" })},
		{"-log-format beats LOG_FORMAT", []string{"-log-format", "json"}, []string{"LOG_FORMAT=text"},
			with(func(c *Config) { c.LogFormat = "json" })},
		{"ACCESS_LOG=false turns the access log off", nil, []string{"ACCESS_LOG=false"},
			with(func(c *Config) { c.AccessLog = false })},
		{"-access-log beats ACCESS_LOG", []string{"-access-log"}, []string{"ACCESS_LOG=0"}, defaults},
		{"DEBUG=0 and TRUST_PROXY=FALSE are booleans too", nil, []string{"DEBUG=0", "TRUST_PROXY=FALSE"}, defaults},
		{"-demo=false overrides a DEMO the environment gets wrong", []string{"-demo=false"}, []string{"DEMO=yes"}, defaults},
		{"HISTORY_DAYS and HISTORY_ROWS bound the history", nil, []string{"HISTORY_DAYS=7", "HISTORY_ROWS=5000"},
			with(func(c *Config) { c.History = monitoring.Retention{MaxAge: 7 * 24 * time.Hour, MaxRows: 5000} })},
		{"-history-days 0 keeps no history, and beats HISTORY_DAYS", []string{"-history-days", "0"}, []string{"HISTORY_DAYS=90"},
			with(func(c *Config) { c.History.MaxAge = 0 })},
		{"-history-rows beats HISTORY_ROWS", []string{"-history-rows", "1000"}, []string{"HISTORY_ROWS=0"},
			with(func(c *Config) { c.History.MaxRows = 1000 })},
		{"a sign-in proxy from its addresses, new users refused", nil,
			[]string{"AUTH_PROXY_HEADER=X-Forwarded-Email", "TRUSTED_PROXIES=10.0.0.0/8, 127.0.0.1", "AUTH_PROXY_ROLE=none"},
			with(func(c *Config) {
				c.Proxy = ProxyAuth{Header: "X-Forwarded-Email", Trusted: "10.0.0.0/8, 127.0.0.1", Role: monitoring.NoRole}
			})},
		{"passwords off behind a sign-in proxy", nil,
			[]string{"AUTH_PROXY_HEADER=X-User", "TRUSTED_PROXIES=10.0.0.1", "PASSWORD_SIGNIN=false"},
			with(func(c *Config) {
				c.Proxy = ProxyAuth{Header: "X-User", Trusted: "10.0.0.1", Role: monitoring.Viewer}
				c.PasswordSignIn = false
			})},

		// Single sign-on.
		{"the OIDC settings come from the environment, the secret only from there", nil, oidcEnv,
			with(func(c *Config) { c.OIDC = &oidcWant })},
		{"the OIDC flags beat the environment", []string{"-oidc-issuer", "https://sso.example.org/realms/ops", "-oidc-client-id", "wall",
			"-oidc-redirect-url", "http://localhost:8080/auth/oidc/callback", "-oidc-name", "Keycloak", "-oidc-allowed-domains", "example.org",
			"-oidc-role-claim", "roles", "-oidc-roles", "dash-admin=admin", "-oidc-default-role", "none"}, oidcEnv,
			with(func(c *Config) {
				c.OIDC = &handlers.OIDCConfig{Issuer: "https://sso.example.org/realms/ops", ClientID: "wall", ClientSecret: "s3cret-from-env",
					RedirectURL: "http://localhost:8080/auth/oidc/callback", Name: "Keycloak", AllowedDomains: []string{"example.org"},
					RoleClaim: "roles", Roles: map[string]monitoring.Role{"dash-admin": monitoring.Admin}, DefaultRole: monitoring.NoRole}
			})},
		{"the least OIDC settings: everyone a viewer, any domain", nil, []string{"OIDC_ISSUER=https://accounts.google.com",
			"OIDC_CLIENT_ID=id", "OIDC_CLIENT_SECRET=x", "OIDC_REDIRECT_URL=https://wall.example.com/auth/oidc/callback"},
			with(func(c *Config) {
				c.OIDC = &handlers.OIDCConfig{Issuer: "https://accounts.google.com", ClientID: "id", ClientSecret: "x",
					RedirectURL: "https://wall.example.com/auth/oidc/callback", DefaultRole: monitoring.Viewer}
			})},
		{"a group whose name holds = maps by the last =", nil, append(oidcEnv[:len(oidcEnv):len(oidcEnv)], "OIDC_ROLES=cn=noc=operator"),
			with(func(c *Config) {
				o := oidcWant
				o.Roles = map[string]monitoring.Role{"cn=noc": monitoring.Operator}
				c.OIDC = &o
			})},
		{"-password-signin=false leaves only the provider", []string{"-password-signin=false"}, oidcEnv,
			with(func(c *Config) { c.OIDC, c.PasswordSignIn = &oidcWant, false })},
		{"PASSWORD_SIGNIN=false too", nil, append(oidcEnv[:len(oidcEnv):len(oidcEnv)], "PASSWORD_SIGNIN=false"),
			with(func(c *Config) { c.OIDC, c.PasswordSignIn = &oidcWant, false })},
		{"-password-signin beats PASSWORD_SIGNIN", []string{"-password-signin"}, []string{"PASSWORD_SIGNIN=false"}, defaults},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			got, err := parseConfig(tt.args, onlyEnv(tt.env...), &stderr)
			if err != nil {
				t.Fatalf("parseConfig: %v (stderr %q)", err, stderr.String())
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("config\n got %+v\nwant %+v", got, tt.want)
				if got.OIDC != nil && tt.want.OIDC != nil {
					t.Errorf("OIDC\n got %+v\nwant %+v", *got.OIDC, *tt.want.OIDC)
				}
			}
		})
	}
}

// oidcEnv is a whole single sign-on set-up in the environment, and
// oidcWant what it reads as.
var (
	oidcEnv = []string{
		"OIDC_ISSUER=https://idp.example.com", "OIDC_CLIENT_ID=dashboard", "OIDC_CLIENT_SECRET=s3cret-from-env",
		"OIDC_REDIRECT_URL=https://wall.example.com/auth/oidc/callback", "OIDC_NAME=Example SSO",
		"OIDC_ALLOWED_DOMAINS= Example.com, @ops.example.com ,", "OIDC_ROLE_CLAIM=groups",
		"OIDC_ROLES=noc-admins=admin, noc=Operator", "OIDC_DEFAULT_ROLE=viewer",
	}
	oidcWant = handlers.OIDCConfig{
		Issuer: "https://idp.example.com", ClientID: "dashboard", ClientSecret: "s3cret-from-env",
		RedirectURL: "https://wall.example.com/auth/oidc/callback", Name: "Example SSO",
		AllowedDomains: []string{"example.com", "ops.example.com"}, RoleClaim: "groups",
		Roles:       map[string]monitoring.Role{"noc-admins": monitoring.Admin, "noc": monitoring.Operator},
		DefaultRole: monitoring.Viewer,
	}
)

// oidcEnvWith is oidcEnv with some variables changed ("NAME=" removes one).
func oidcEnvWith(changes ...string) []string {
	env := map[string]string{}
	var order []string
	for _, kv := range append(append([]string{}, oidcEnv...), changes...) {
		k, v, _ := strings.Cut(kv, "=")
		if _, ok := env[k]; !ok {
			order = append(order, k)
		}
		env[k] = v
	}
	var out []string
	for _, k := range order {
		if env[k] != "" {
			out = append(out, k+"="+env[k])
		}
	}
	return out
}

func TestParseConfigRefusesBadSettings(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  []string
		says []string // the message must contain each
	}{
		{"a poll interval below 10s is refused with the minimum and the reason", []string{"-poll-interval", "5s"}, nil,
			[]string{"-poll-interval / POLL_INTERVAL", "5s is below the minimum of 10s", "daily request budget"}},
		{"POLL_INTERVAL below 10s is refused too", nil, []string{"POLL_INTERVAL=9s"},
			[]string{"9s is below the minimum of 10s"}},
		{"a poll interval that is not a duration is refused", []string{"-poll-interval", "often"}, nil,
			[]string{`"often" is not a duration such as 30s`}},
		{"a bare number is not a duration", nil, []string{"POLL_INTERVAL=30"},
			[]string{`"30" is not a duration`}},
		{"a change window out of range is refused", []string{"-change-window", "10s"}, nil,
			[]string{"-change-window / CHANGE_WINDOW: 10s is not between 1m and 24h"}},
		{"an old-after that is no duration is refused", nil, []string{"OLD_AFTER=soon"},
			[]string{`-old-after / OLD_AFTER: "soon" is not a duration such as 15m`}},
		{"an old-after out of range is refused", []string{"-old-after", "30s"}, nil,
			[]string{"-old-after / OLD_AFTER: 30s is not between 1m and 168h"}},
		{"a refresh interval that is not a duration is refused", []string{"-refresh-interval", "soon"}, nil,
			[]string{"-refresh-interval / REFRESH_INTERVAL", `"soon" is not a duration`}},
		{"a refresh interval below 1s is refused", nil, []string{"REFRESH_INTERVAL=500ms"},
			[]string{"500ms is below 1s"}},
		{"zero concurrency is refused", []string{"-concurrency", "0"}, nil, []string{"-concurrency / CONCURRENCY", "0 is not between 1 and 1024"}},
		{"concurrency above 1024 is refused", nil, []string{"CONCURRENCY=1025"}, []string{"1025 is not between 1 and 1024"}},
		{"concurrency that is not a number is refused", nil, []string{"CONCURRENCY=lots"}, []string{`"lots" is not a whole number such as 256`}},
		{"an Identity URL that is not http(s) is refused", []string{"-identity-url", "ftp://identity"}, nil,
			[]string{"is not an http(s) URL"}},
		{"an empty listen address is refused", []string{"-addr="}, nil, []string{"empty listen address"}},
		{"history days that are not a whole number are refused", nil, []string{"HISTORY_DAYS=30d"},
			[]string{"-history-days / HISTORY_DAYS", `"30d" is not a whole number of days from 0 to 3650`}},
		{"negative history days are refused", []string{"-history-days", "-1"}, nil, []string{`"-1" is not a whole number`}},
		{"history rows above ten million are refused", nil, []string{"HISTORY_ROWS=20000000"},
			[]string{"-history-rows / HISTORY_ROWS", "from 0 to 10000000"}},
		{"a proxy header without trusted proxies is refused", nil, []string{"AUTH_PROXY_HEADER=X-Forwarded-Email"},
			[]string{"-auth-proxy-header / AUTH_PROXY_HEADER needs -trusted-proxies"}},
		{"a trusted proxy that is no address is refused", []string{"-auth-proxy-header", "X-User", "-trusted-proxies", "10.0.0.0/8,proxy.lan"}, nil,
			[]string{"-trusted-proxies / TRUSTED_PROXIES", `"proxy.lan" is not an address`}},
		{"a header name with a space is refused", []string{"-auth-proxy-header", "X User", "-trusted-proxies", "127.0.0.1"}, nil,
			[]string{`"X User" is not a header name`}},
		{"a chart cap that is no number is refused", nil, []string{"CHART_CALLS_PER_HOUR=lots"},
			[]string{"-chart-calls-per-hour / CHART_CALLS_PER_HOUR", `"lots" is not a whole number from 0 to 3600`}},
		{"a stream bound below zero is refused", []string{"-live-streams", "-1"}, nil,
			[]string{"-live-streams / LIVE_STREAMS", `"-1" is not a whole number from 0 to 1000000`}},
		{"an unknown proxy role is refused", nil, []string{"AUTH_PROXY_ROLE=root"},
			[]string{"-auth-proxy-role / AUTH_PROXY_ROLE", `"root" is not a role`}},
		{"DEMO=yes is refused, not taken for false", nil, []string{"DEMO=yes"},
			[]string{`DEMO: "yes" is not a boolean (true/false, 1/0)`}},
		{"every environment boolean is strict", nil, []string{"DEBUG=on"}, []string{`DEBUG: "on" is not a boolean`}},
		{"PUBLIC_DASHBOARD=no is refused", nil, []string{"PUBLIC_DASHBOARD=no"}, []string{`PUBLIC_DASHBOARD: "no"`}},
		{"PLAIN_ORDER is strict", nil, []string{"PLAIN_ORDER=y"}, []string{`PLAIN_ORDER: "y"`}},
		{"SECURE_COOKIES is strict", nil, []string{"SECURE_COOKIES=enabled"}, []string{`SECURE_COOKIES: "enabled"`}},
		{"ACCESS_LOG is strict", nil, []string{"ACCESS_LOG=off"}, []string{`ACCESS_LOG: "off" is not a boolean (true/false, 1/0)`}},
		{"TRUST_PROXY is strict", nil, []string{"TRUST_PROXY=2"}, []string{`TRUST_PROXY: "2"`}},
		{"a log format other than text or json is refused", nil, []string{"LOG_FORMAT=xml"},
			[]string{`-log-format / LOG_FORMAT: "xml" is not text or json`}},
		{"-log-format is checked too", []string{"-log-format", "JSON"}, nil, []string{`"JSON" is not text or json`}},
		{"a stray argument is refused", []string{"serve"}, nil, []string{`unexpected argument "serve"`}},

		// Single sign-on.
		{"an issuer that is not http(s)", nil, oidcEnvWith("OIDC_ISSUER=idp.example.com"),
			[]string{`-oidc-issuer / OIDC_ISSUER: "idp.example.com" is not an http(s) URL`}},
		{"an issuer without a client id", nil, oidcEnvWith("OIDC_CLIENT_ID="),
			[]string{"-oidc-client-id / OIDC_CLIENT_ID: required with -oidc-issuer"}},
		{"an issuer without a client secret", nil, oidcEnvWith("OIDC_CLIENT_SECRET="),
			[]string{"OIDC_CLIENT_SECRET: required with -oidc-issuer, in the environment only"}},
		{"an issuer without a redirect URL", nil, oidcEnvWith("OIDC_REDIRECT_URL="),
			[]string{"-oidc-redirect-url / OIDC_REDIRECT_URL: required with -oidc-issuer"}},
		{"a redirect URL that is not the callback", []string{"-oidc-redirect-url", "https://wall.example.com/callback"}, oidcEnv,
			[]string{`-oidc-redirect-url / OIDC_REDIRECT_URL: "https://wall.example.com/callback" is not an http(s) URL ending in /auth/oidc/callback`}},
		{"a redirect URL that is not http(s)", nil, oidcEnvWith("OIDC_REDIRECT_URL=wall.example.com/auth/oidc/callback"),
			[]string{"-oidc-redirect-url / OIDC_REDIRECT_URL", "not an http(s) URL"}},
		{"a client id without an issuer", []string{"-oidc-client-id", "x"}, nil,
			[]string{"-oidc-client-id / OIDC_CLIENT_ID: set, but -oidc-issuer / OIDC_ISSUER is not"}},
		{"a client secret without an issuer", nil, []string{"OIDC_CLIENT_SECRET=abc"},
			[]string{"OIDC_CLIENT_SECRET: set, but -oidc-issuer / OIDC_ISSUER is not"}},
		{"a role that does not exist", nil, oidcEnvWith("OIDC_ROLES=noc=superuser"),
			[]string{"-oidc-roles / OIDC_ROLES", `"superuser" is not a role`}},
		{"a claim value mapped to no role", nil, oidcEnvWith("OIDC_ROLES=noc=none"),
			[]string{"-oidc-roles / OIDC_ROLES", `"noc" maps to no role`}},
		{"a pair without =", nil, oidcEnvWith("OIDC_ROLES=noc-admins"),
			[]string{"-oidc-roles / OIDC_ROLES", `"noc-admins" is not value=role`}},
		{"a claim value given twice", nil, oidcEnvWith("OIDC_ROLES=noc=admin,noc=viewer"),
			[]string{"-oidc-roles / OIDC_ROLES", `"noc" is given twice`}},
		{"roles without a role claim", nil, oidcEnvWith("OIDC_ROLE_CLAIM="),
			[]string{"-oidc-roles / OIDC_ROLES: needs -oidc-role-claim"}},
		{"a role claim without roles", nil, oidcEnvWith("OIDC_ROLES="),
			[]string{"-oidc-role-claim / OIDC_ROLE_CLAIM: needs -oidc-roles"}},
		{"a default role that does not exist", []string{"-oidc-default-role", "guest"}, oidcEnv,
			[]string{"-oidc-default-role / OIDC_DEFAULT_ROLE", `"guest" is not a role`}},
		{"an allowed domain that is an address", nil, oidcEnvWith("OIDC_ALLOWED_DOMAINS=ops@example.com"),
			[]string{"-oidc-allowed-domains / OIDC_ALLOWED_DOMAINS", `"ops@example.com" is not an e-mail domain`}},
		{"no password sign-in and no provider", []string{"-password-signin=false"}, nil,
			[]string{"-password-signin / PASSWORD_SIGNIN: false needs -oidc-issuer"}},
		{"PASSWORD_SIGNIN that is not a boolean", nil, []string{"PASSWORD_SIGNIN=nope"},
			[]string{`PASSWORD_SIGNIN: "nope" is not a boolean`}},
		{"the client secret has no flag", []string{"-oidc-client-secret", "abc"}, oidcEnv,
			[]string{"flag provided but not defined: -oidc-client-secret"}},
		{"an unknown flag is refused", []string{"-colour"}, nil, []string{"colour"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseConfig(tt.args, onlyEnv(tt.env...), io.Discard)
			if err == nil {
				t.Fatal("parseConfig accepted it")
			}
			for _, s := range tt.says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q lacks %q", err, s)
				}
			}
			if strings.Contains(err.Error(), "s3cret-from-env") {
				t.Errorf("error %q shows the client secret", err)
			}
		})
	}

	t.Run("-h asks for help and prints the flags", func(t *testing.T) {
		var stderr bytes.Buffer
		_, err := parseConfig([]string{"-h"}, onlyEnv(), &stderr)
		if !errors.Is(err, errHelp) {
			t.Fatalf("err %v, want errHelp", err)
		}
		if !strings.Contains(stderr.String(), "-poll-interval") || !strings.Contains(stderr.String(), "OIDC_CLIENT_SECRET only") {
			t.Errorf("usage lacks the flags:\n%s", stderr.String())
		}
	})
}

// lockedBuffer is a bytes.Buffer safe for concurrent writes and reads.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// runningDashboard is run() serving in the background.
type runningDashboard struct {
	URL    string
	stdout *lockedBuffer // every line run printed before the listen line, and that line
	logs   *lockedBuffer
	stop   func() error // cancels run's context and returns what run returned
}

// startDashboard calls run with args and an empty environment, and waits for
// the "Dashboard on http://ADDR" line. The dashboard stops when the test ends
// at the latest.
func startDashboard(t *testing.T, args ...string) *runningDashboard {
	t.Helper()
	return startDashboardEnv(t, nil, args...)
}

// startDashboardEnv is startDashboard with the NAME=value pairs of env as
// the environment.
func startDashboardEnv(t *testing.T, env []string, args ...string) *runningDashboard {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	logs := &lockedBuffer{}
	done := make(chan error, 1)
	go func() {
		err := run(ctx, args, onlyEnv(env...), pw, logs)
		pw.Close()
		done <- err
	}()
	addr := make(chan string, 1)
	stdout := &lockedBuffer{}
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			stdout.Write([]byte(sc.Text() + "\n"))
			if u, ok := strings.CutPrefix(sc.Text(), "Dashboard on "); ok {
				select {
				case addr <- u:
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()

	var once sync.Once
	var runErr error
	d := &runningDashboard{stdout: stdout, logs: logs}
	d.stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case runErr = <-done:
			case <-time.After(30 * time.Second):
				runErr = errors.New("run did not return within 30s of cancellation")
			}
		})
		return runErr
	}
	t.Cleanup(func() {
		if err := d.stop(); err != nil {
			t.Errorf("run: %v", err)
		}
		if t.Failed() {
			t.Logf("dashboard log:\n%s", logs.String())
		}
	})

	select {
	case d.URL = <-addr:
	case err := <-done:
		done <- err // for stop
		t.Fatalf("run returned before serving: %v\n%s", err, logs.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("no %q line within 30s\n%s", "Dashboard on", logs.String())
	}
	if !strings.HasPrefix(d.URL, "http://127.0.0.1:") {
		t.Fatalf("listen URL %q, want http://127.0.0.1:PORT", d.URL)
	}
	return d
}

var testHTTPClient = &http.Client{Timeout: 10 * time.Second}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	return clientGet(t, testHTTPClient, url)
}

// demoSections waits until the dashboard shows want account sections, each
// with tiles, and returns the tile count per section.
func demoSections(t *testing.T, base string, want int, within time.Duration) []int {
	t.Helper()
	deadline := time.Now().Add(within)
	var last []int
	for {
		_, body := httpGet(t, base+"/")
		doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		last = last[:0]
		ready := true
		doc.Find("section[data-account-id]").Each(func(_ int, s *goquery.Selection) {
			n := s.Find("li.tile").Length()
			last = append(last, n)
			ready = ready && n > 0
		})
		if ready && len(last) == want {
			return last
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: sections with tiles %v, want %d sections with tiles", within, last, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestRunInDemoModeServesTheDashboardAndShutsDownCleanly(t *testing.T) {
	db := filepath.Join(t.TempDir(), "d.db")
	d := startDashboard(t, "-demo", "-db", db, "-addr", "127.0.0.1:0")

	status, body := httpGet(t, d.URL+"/healthz")
	if status != http.StatusOK || strings.TrimSpace(body) != "ok" {
		t.Fatalf("/healthz: %d %q, want 200 ok", status, body)
	}
	tiles := demoSections(t, d.URL, 3, 10*time.Second)
	total := 0
	for _, n := range tiles {
		total += n
	}
	if total != 100 {
		t.Errorf("%d tiles in %v, want the 100 demo servers", total, tiles)
	}
	_, page := httpGet(t, d.URL+"/")
	if !strings.Contains(page, "Demo mode") {
		t.Error("the demo banner is missing")
	}

	// The wall is public in demo mode; settings need the printed login.
	noFollow := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(d.URL + "/settings")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Errorf("/settings without sign-in: %d to %q, want a redirect to /login", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, password, ok := strings.Cut(d.stdout.String(), "Demo login: demo / ")
	password, _, _ = strings.Cut(password, "\n")
	if !ok || password == "" {
		t.Fatalf("no demo login printed; stdout:\n%s", d.stdout.String())
	}
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	browser := &http.Client{Timeout: 10 * time.Second, Jar: jar}
	resp, err = browser.PostForm(d.URL+"/login", url.Values{"username": {"demo"}, "password": {password}, "next": {"/settings"}})
	if err != nil {
		t.Fatal(err)
	}
	settings, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/settings" || !strings.Contains(string(settings), "Signed in as demo") {
		t.Errorf("sign-in with the printed demo login ended at %s with %d", resp.Request.URL, resp.StatusCode)
	}

	if err := d.stop(); err != nil {
		t.Fatalf("run after cancel: %v, want nil (clean shutdown)", err)
	}
	if _, err := testHTTPClient.Get(d.URL + "/healthz"); err == nil {
		t.Error("the server still answers after run returned")
	}
	if _, err := os.Stat(db + ".key"); err != nil {
		t.Errorf("no key file beside the database without DASHBOARD_SECRET: %v", err)
	}

	t.Run("a second run on the same database keeps the three demo accounts", func(t *testing.T) {
		d2 := startDashboard(t, "-demo", "-db", db, "-addr", "127.0.0.1:0")
		// Polls with tokens of the first run's fake would fail; the sections
		// must come back with tiles from the new fake.
		demoSections(t, d2.URL, 3, 10*time.Second)
		if err := d2.stop(); err != nil {
			t.Fatalf("run after cancel: %v", err)
		}
	})
}

func TestRunWithSingleSignOnStartsWhileTheProviderIsDownAndNeverLogsTheSecret(t *testing.T) {
	// Nothing listens on the issuer's port: discovery waits for the
	// first sign-in, and fails then.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	issuer := "http://" + ln.Addr().String() + "/realms/ops"
	ln.Close()
	secret := "s3cret-that-must-not-show"
	d := startDashboardEnv(t, []string{"OIDC_ISSUER=" + issuer, "OIDC_CLIENT_ID=wall", "OIDC_CLIENT_SECRET=" + secret,
		"OIDC_REDIRECT_URL=http://localhost/auth/oidc/callback", "OIDC_NAME=Keycloak", "PASSWORD_SIGNIN=false",
		"ADMIN_USERNAME=admin", "ADMIN_PASSWORD=a long enough password"},
		"-db", filepath.Join(t.TempDir(), "d.db"), "-addr", "127.0.0.1:0")
	_, page := httpGet(t, d.URL+"/login")
	if !strings.Contains(page, "Sign in with Keycloak") || strings.Contains(page, `type="password"`) {
		t.Errorf("the sign-in page does not offer only Keycloak:\n%s", page)
	}
	status, page := httpGet(t, d.URL+"/auth/oidc")
	if status != http.StatusServiceUnavailable || !strings.Contains(page, "Keycloak cannot be reached just now") {
		t.Errorf("GET /auth/oidc with the provider down: %d", status)
	}
	if err := d.stop(); err != nil {
		t.Fatal(err)
	}
	logs := d.logs.String()
	if !strings.Contains(logs, `"oidc":"`+issuer+`"`) || !strings.Contains(logs, `"password_signin":false`) {
		t.Errorf("the start-up log does not name the provider:\n%s", logs)
	}
	if strings.Contains(logs, secret) || strings.Contains(d.stdout.String(), secret) {
		t.Errorf("the client secret is in the output:\n%s", logs)
	}
}

func TestRunPrintsTheVersion(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"-version"}, onlyEnv(), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "dashboard "+version+"\n" {
		t.Errorf("output %q", got)
	}
}

func TestRunRefusesABadConfigurationBeforeServing(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  []string
		says string
	}{
		{"a poll interval below the minimum", []string{"-poll-interval", "1s"}, nil, "below the minimum"},
		{"an admin user without a password", nil, []string{"ADMIN_USERNAME=admin"}, "must be set together"},
		{"an admin password under 10 characters", nil, []string{"ADMIN_USERNAME=admin", "ADMIN_PASSWORD=short"}, "10 characters or more"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"-db", filepath.Join(t.TempDir(), "d.db"), "-addr", "127.0.0.1:0"}, tt.args...)
			var stdout bytes.Buffer
			err := run(context.Background(), args, onlyEnv(tt.env...), &stdout, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.says) {
				t.Fatalf("run: %v, want an error saying %q", err, tt.says)
			}
			if strings.Contains(stdout.String(), "Dashboard on") {
				t.Error("run served before refusing")
			}
		})
	}
}

func TestLogFormatIsTextOrJSONAsAsked(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		env    []string
		isJSON bool
	}{
		{"-log-format json gives JSON lines", []string{"-log-format", "json"}, nil, true},
		{"LOG_FORMAT=text gives text lines", nil, []string{"LOG_FORMAT=text"}, false},
		{"without either, what is not a terminal gets JSON", nil, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The key-file notice is logged before the admin user is
			// refused, so run stops there, having logged one line.
			args := append([]string{"-db", filepath.Join(t.TempDir(), "d.db"), "-addr", "127.0.0.1:0"}, tt.args...)
			var logs bytes.Buffer
			err := run(context.Background(), args, onlyEnv(append(tt.env, "ADMIN_USERNAME=admin")...), io.Discard, &logs)
			if err == nil {
				t.Fatal("run did not stop at the admin user without a password")
			}
			line, _, _ := strings.Cut(logs.String(), "\n")
			if !strings.Contains(line, "key file") {
				t.Fatalf("no key-file notice logged:\n%s", logs.String())
			}
			if isJSON := json.Valid([]byte(line)); isJSON != tt.isJSON {
				t.Errorf("logged %q; JSON: %v, want %v", line, isJSON, tt.isJSON)
			}
			if !tt.isJSON && !strings.HasPrefix(line, "time=") {
				t.Errorf("logged %q, want slog's text format", line)
			}
		})
	}
}

func TestRunLogsEachRequestUnlessToldNot(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
		want bool
	}{
		{"by default a request is logged", nil, true},
		{"-access-log=false leaves it out", []string{"-access-log=false"}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := startDashboard(t, append([]string{"-db", filepath.Join(t.TempDir(), "d.db"), "-addr", "127.0.0.1:0"}, tt.args...)...)
			httpGet(t, d.URL+"/login") // on to /setup: there is no user yet
			if err := d.stop(); err != nil {
				t.Fatal(err)
			}
			logged := strings.Contains(d.logs.String(), `"msg":"request","method":"GET","path":"/login","status":303`)
			if logged != tt.want {
				t.Errorf("request logged: %v, want %v\n%s", logged, tt.want, d.logs.String())
			}
		})
	}
}

func TestTheUpstreamClientKeepsAConnectionPerAccountInFlight(t *testing.T) {
	for _, n := range []int{1, 256, 1024} {
		tr, ok := upstreamHTTPClient(n).Transport.(*http.Transport)
		if !ok || tr == http.DefaultTransport {
			t.Fatalf("concurrency %d: transport %T is not its own *http.Transport", n, tr)
		}
		if tr.MaxIdleConnsPerHost < n || tr.MaxIdleConns < n {
			t.Errorf("concurrency %d: idle connections per host %d, in all %d", n, tr.MaxIdleConnsPerHost, tr.MaxIdleConns)
		}
		if tr.Proxy == nil || tr.TLSHandshakeTimeout == 0 {
			t.Errorf("concurrency %d: the defaults of http.DefaultTransport were lost", n)
		}
	}
}

func TestTheMemoryLimitDefaultsTo64MiBUnlessGOMEMLIMITIsSet(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(before) })

	debug.SetMemoryLimit(123 << 20) // as if the runtime had read GOMEMLIMIT=123MiB
	if got := setMemoryLimit(onlyEnv("GOMEMLIMIT=123MiB")); got != 123<<20 || debug.SetMemoryLimit(-1) != 123<<20 {
		t.Errorf("with GOMEMLIMIT set the limit became %d (reported %d), want the runtime's %d", debug.SetMemoryLimit(-1), got, 123<<20)
	}
	if got := setMemoryLimit(onlyEnv()); got != defaultMemoryLimit || debug.SetMemoryLimit(-1) != defaultMemoryLimit {
		t.Errorf("without GOMEMLIMIT the limit is %d (reported %d), want defaultMemoryLimit", debug.SetMemoryLimit(-1), got)
	}
}
