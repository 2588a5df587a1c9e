package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"cmdash/handlers"
	"cmdash/monitoring"
	"cmdash/monitoring/charts"
	"cmdash/monitoring/poller"
	"cmdash/monitoring/rackspace"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

var errHelp = errors.New("help requested")

// maxConcurrency bounds -concurrency: each account in flight holds a
// connection and its partly reduced snapshot.
const maxConcurrency = 1024

// Bounds of -history-days and -history-rows: ten years, and some 2 GB of
// rows; beyond them a typo is likelier than a wish.
const (
	maxHistoryDays = 3650
	maxHistoryRows = 10_000_000
)

// Config is every setting, from flags with environment equivalents (a flag
// wins over the environment).
type Config struct {
	Addr            string
	DBPath          string
	IdentityURL     string
	PollInterval    time.Duration
	RefreshInterval time.Duration
	Concurrency     int
	History         monitoring.Retention // zero bounds: no history
	Demo            bool
	PublicDashboard bool
	PlainOrder      bool
	ChangeWindow    time.Duration
	OldAfter        time.Duration
	SecureCookies   bool
	TrustProxy      bool
	Debug           bool
	AccessLog       bool
	LogFormat       string // "text" or "json"; "" picks text on a terminal, JSON otherwise
	Version         bool
	// Proxy is signing in through a sign-in proxy's header.
	Proxy ProxyAuth
	// ChartCallsPerHour caps the requests the server page's charts make to
	// Rackspace per account and hour; 0 turns charts off.
	ChartCallsPerHour int
	// LiveStreams bounds the live-update streams open at once; 0 turns
	// live updates off (pages still refresh themselves).
	LiveStreams int
	// In a LiteFS cluster, how a replica hands requests that write to the
	// primary: Fly.io's fly-replay header, or a proxy to PrimaryURL.
	FlyReplay  bool
	PrimaryURL string
	// OIDC, when set, offers sign-in with an OpenID Connect provider.
	OIDC *handlers.OIDCConfig
	// PasswordSignIn keeps the password form (the default).
	PasswordSignIn bool
}

// ProxyAuth is who may vouch for a user in a header, and what a user first
// seen that way may do.
type ProxyAuth struct {
	Header  string
	Trusted string // CIDRs or addresses, comma-separated, as given
	Role    monitoring.Role
}

// TrustedPrefixes parses Trusted (already validated by parseConfig).
func (p ProxyAuth) TrustedPrefixes() []netip.Prefix {
	out, _ := parsePrefixes(p.Trusted)
	return out
}

// parsePrefixes reads comma-separated CIDRs or single addresses.
func parsePrefixes(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if p, err := netip.ParsePrefix(part); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(part)
		if err != nil {
			return nil, fmt.Errorf("%q is not an address or a CIDR such as 10.0.0.0/8", part)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

// parseConfig reads flags, falling back to the environment, and validates.
func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	var cfg Config
	fs := flag.NewFlagSet("dashboard", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage:\n  dashboard [flags]                 serve the dashboard\n"+
			"  dashboard backup [-db path] FILE  copy the live database to FILE\n\nFlags (environment variables in brackets):\n")
		fs.PrintDefaults()
	}
	env := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	// A boolean the environment gets wrong stops the start, unless its
	// flag is given: DEMO=yes silently meaning false would be a surprise.
	var badBools []envBoolError
	boolVar := func(p *bool, flagName, envName string, def bool, usage string) {
		v := env(envName, "")
		b, err := strconv.ParseBool(v)
		switch {
		case v == "":
			b = def
		case err != nil:
			b = def
			badBools = append(badBools, envBoolError{flagName, fmt.Errorf("%s: %q is not a boolean (true/false, 1/0)", envName, v)})
		}
		fs.BoolVar(p, flagName, b, usage)
	}
	fs.StringVar(&cfg.Addr, "addr", env("ADDR", "localhost:8080"), "listen address (ADDR)")
	fs.StringVar(&cfg.DBPath, "db", env("DATABASE_PATH", ""), "SQLite database file (DATABASE_PATH; default dashboard.db, or dashboard-demo.db with -demo)")
	fs.StringVar(&cfg.IdentityURL, "identity-url", env("RACKSPACE_IDENTITY_URL", rackspace.DefaultIdentityURL), "Rackspace Identity v2.0 base URL (RACKSPACE_IDENTITY_URL)")
	poll := fs.String("poll-interval", env("POLL_INTERVAL", "30s"), "how often each account is polled, at least 10s (POLL_INTERVAL)")
	refresh := fs.String("refresh-interval", env("REFRESH_INTERVAL", "20s"), "how often the page reloads its grid (REFRESH_INTERVAL)")
	oldAfter := fs.String("old-after", env("OLD_AFTER", "15m"), "how long a CRITICAL server goes unacknowledged before its tile is marked OLD, 1m to 7d (OLD_AFTER)")
	changeWindow := fs.String("change-window", env("CHANGE_WINDOW", ""), "how long a server whose state changed stays marked NEW or RESOLVED, 1m to 24h (CHANGE_WINDOW; default 10m, 2m with -demo)")
	concurrency := fs.String("concurrency", env("CONCURRENCY", strconv.Itoa(poller.DefaultConcurrency)), "how many accounts are polled at once, `n` from 1 to 1024 (CONCURRENCY)")
	historyDays := fs.String("history-days", env("HISTORY_DAYS", strconv.Itoa(int(monitoring.DefaultRetention.MaxAge/(24*time.Hour)))),
		"days of alarm history kept, `n` from 0 (none) to 3650 (HISTORY_DAYS)")
	historyRows := fs.String("history-rows", env("HISTORY_ROWS", strconv.Itoa(monitoring.DefaultRetention.MaxRows)),
		"changes kept in the alarm history at most, `n` from 0 (none) to 10000000 (HISTORY_ROWS)")
	boolVar(&cfg.Demo, "demo", "DEMO", false, "run with a built-in fake Rackspace and three demo accounts (DEMO)")
	boolVar(&cfg.PublicDashboard, "public-dashboard", "PUBLIC_DASHBOARD", false, "show the read-only views (dashboard, account and server pages) without sign-in, for wall screens (PUBLIC_DASHBOARD)")
	boolVar(&cfg.PlainOrder, "plain-order", "PLAIN_ORDER", false, "list accounts by name and servers by label instead of problems first (PLAIN_ORDER; ?order=severity still asks for problems first)")
	boolVar(&cfg.SecureCookies, "secure-cookies", "SECURE_COOKIES", false, "mark cookies Secure and send HSTS, behind a TLS-terminating proxy such as Fly's (SECURE_COOKIES)")
	boolVar(&cfg.TrustProxy, "trust-proxy", "TRUST_PROXY", false, "behind a reverse proxy: count failed sign-ins per Fly-Client-IP / X-Forwarded-For address (TRUST_PROXY)")
	boolVar(&cfg.Debug, "debug", "DEBUG", false, "log every poll, health check and static file (DEBUG)")
	boolVar(&cfg.AccessLog, "access-log", "ACCESS_LOG", true, "log a line per request (ACCESS_LOG)")
	fs.StringVar(&cfg.LogFormat, "log-format", env("LOG_FORMAT", ""), "`text` or json (LOG_FORMAT; default text on a terminal, JSON otherwise)")
	fs.StringVar(&cfg.Proxy.Header, "auth-proxy-header", env("AUTH_PROXY_HEADER", ""), "header in which a sign-in proxy names the user, e.g. X-Forwarded-Email; believed only from -trusted-proxies (AUTH_PROXY_HEADER)")
	fs.StringVar(&cfg.Proxy.Trusted, "trusted-proxies", env("TRUSTED_PROXIES", ""), "addresses or CIDRs of the sign-in proxies, comma-separated; loopback is not trusted unless listed (TRUSTED_PROXIES)")
	proxyRole := fs.String("auth-proxy-role", env("AUTH_PROXY_ROLE", "viewer"), "role of a user first seen through the sign-in proxy: viewer, operator, admin, or none to refuse them (AUTH_PROXY_ROLE)")
	liveStreams := fs.String("live-streams", env("LIVE_STREAMS", strconv.Itoa(handlers.DefaultLiveStreams)),
		"live-update streams open at once, `n` from 0 (off: pages only refresh themselves) to 1000000 (LIVE_STREAMS)")
	chartCalls := fs.String("chart-calls-per-hour", env("CHART_CALLS_PER_HOUR", strconv.Itoa(charts.DefaultCallsPerHour)),
		"requests to Rackspace the server page's charts may make per account and hour, `n` from 0 (no charts) to 3600 (CHART_CALLS_PER_HOUR)")
	boolVar(&cfg.FlyReplay, "fly-replay", "FLY_REPLAY", getenv("FLY_APP_NAME") != "",
		"on a LiteFS replica on Fly.io, have Fly's proxy replay requests that write on the primary machine (FLY_REPLAY; default true on Fly.io)")
	fs.StringVar(&cfg.PrimaryURL, "primary-url", env("PRIMARY_URL", ""),
		"on a LiteFS replica, the primary dashboard's `URL` to hand requests that write to; {primary} stands for the primary's LiteFS host name, as in http://{primary}:8080 (PRIMARY_URL)")
	fs.BoolVar(&cfg.Version, "version", false, "print the version and exit")
	oidcIssuer := fs.String("oidc-issuer", env("OIDC_ISSUER", ""), "sign in with this OpenID Connect provider, its issuer `URL` (OIDC_ISSUER; the client secret comes from OIDC_CLIENT_SECRET only)")
	oidcClientID := fs.String("oidc-client-id", env("OIDC_CLIENT_ID", ""), "the dashboard's client id at the provider (OIDC_CLIENT_ID)")
	oidcRedirect := fs.String("oidc-redirect-url", env("OIDC_REDIRECT_URL", ""), "the callback registered with the provider: https://HOST/auth/oidc/callback (OIDC_REDIRECT_URL)")
	oidcName := fs.String("oidc-name", env("OIDC_NAME", ""), "the provider's name on the sign-in button (OIDC_NAME; default \"single sign-on\")")
	oidcDomains := fs.String("oidc-allowed-domains", env("OIDC_ALLOWED_DOMAINS", ""), "comma-separated e-mail domains that may sign in (OIDC_ALLOWED_DOMAINS; default any)")
	oidcRoleClaim := fs.String("oidc-role-claim", env("OIDC_ROLE_CLAIM", ""), "ID token claim whose values -oidc-roles maps to roles, such as groups (OIDC_ROLE_CLAIM)")
	oidcRoles := fs.String("oidc-roles", env("OIDC_ROLES", ""), "claim values and their roles, such as noc-admins=admin,noc=operator (OIDC_ROLES)")
	oidcDefaultRole := fs.String("oidc-default-role", env("OIDC_DEFAULT_ROLE", "viewer"), "role of a user whose claim maps to none: viewer, operator, admin, or none to refuse them (OIDC_DEFAULT_ROLE)")
	boolVar(&cfg.PasswordSignIn, "password-signin", "PASSWORD_SIGNIN", true, "offer sign-in with a password; false leaves only the OpenID Connect provider (PASSWORD_SIGNIN)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return cfg, errHelp
		}
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q (see -h)", fs.Arg(0))
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	for _, b := range badBools {
		if !given[b.flag] {
			return cfg, b.err
		}
	}

	var err error
	if cfg.PollInterval, err = time.ParseDuration(*poll); err != nil {
		return cfg, fmt.Errorf("-poll-interval / POLL_INTERVAL: %q is not a duration such as 30s", *poll)
	}
	if cfg.PollInterval < poller.MinPollInterval {
		return cfg, fmt.Errorf("-poll-interval / POLL_INTERVAL: %s is below the minimum of %s (each account has a daily request budget)", cfg.PollInterval, poller.MinPollInterval)
	}
	if cfg.RefreshInterval, err = time.ParseDuration(*refresh); err != nil {
		return cfg, fmt.Errorf("-refresh-interval / REFRESH_INTERVAL: %q is not a duration such as 20s", *refresh)
	}
	if cfg.RefreshInterval < time.Second {
		return cfg, fmt.Errorf("-refresh-interval / REFRESH_INTERVAL: %s is below 1s", cfg.RefreshInterval)
	}
	if *changeWindow == "" {
		// The demo's states change every minute or so: with ten minutes of
		// marks nearly every tile would carry one.
		*changeWindow = "10m"
		if cfg.Demo {
			*changeWindow = "2m"
		}
	}
	if cfg.ChangeWindow, err = time.ParseDuration(*changeWindow); err != nil {
		return cfg, fmt.Errorf("-change-window / CHANGE_WINDOW: %q is not a duration such as 10m", *changeWindow)
	}
	if cfg.ChangeWindow < time.Minute || cfg.ChangeWindow > 24*time.Hour {
		return cfg, fmt.Errorf("-change-window / CHANGE_WINDOW: %s is not between 1m and 24h", cfg.ChangeWindow)
	}
	if cfg.OldAfter, err = time.ParseDuration(*oldAfter); err != nil {
		return cfg, fmt.Errorf("-old-after / OLD_AFTER: %q is not a duration such as 15m", *oldAfter)
	}
	if cfg.OldAfter < time.Minute || cfg.OldAfter > 7*24*time.Hour {
		return cfg, fmt.Errorf("-old-after / OLD_AFTER: %s is not between 1m and 168h", cfg.OldAfter)
	}
	if cfg.Concurrency, err = strconv.Atoi(*concurrency); err != nil {
		return cfg, fmt.Errorf("-concurrency / CONCURRENCY: %q is not a whole number such as %d", *concurrency, poller.DefaultConcurrency)
	}
	if cfg.Concurrency < 1 || cfg.Concurrency > maxConcurrency {
		return cfg, fmt.Errorf("-concurrency / CONCURRENCY: %d is not between 1 and %d", cfg.Concurrency, maxConcurrency)
	}
	days, err := strconv.Atoi(*historyDays)
	if err != nil || days < 0 || days > maxHistoryDays {
		return cfg, fmt.Errorf("-history-days / HISTORY_DAYS: %q is not a whole number of days from 0 to %d", *historyDays, maxHistoryDays)
	}
	cfg.History.MaxAge = time.Duration(days) * 24 * time.Hour
	if cfg.History.MaxRows, err = strconv.Atoi(*historyRows); err != nil || cfg.History.MaxRows < 0 || cfg.History.MaxRows > maxHistoryRows {
		return cfg, fmt.Errorf("-history-rows / HISTORY_ROWS: %q is not a whole number from 0 to %d", *historyRows, maxHistoryRows)
	}
	if cfg.DBPath == "" {
		cfg.DBPath = "dashboard.db"
		if cfg.Demo {
			cfg.DBPath = "dashboard-demo.db"
		}
	}
	if !strings.HasPrefix(cfg.IdentityURL, "https://") && !strings.HasPrefix(cfg.IdentityURL, "http://") {
		return cfg, fmt.Errorf("-identity-url / RACKSPACE_IDENTITY_URL: %q is not an http(s) URL", cfg.IdentityURL)
	}
	if cfg.LogFormat != "" && cfg.LogFormat != "text" && cfg.LogFormat != "json" {
		return cfg, fmt.Errorf("-log-format / LOG_FORMAT: %q is not text or json", cfg.LogFormat)
	}
	if cfg.Addr == "" {
		return cfg, errors.New("-addr / ADDR: empty listen address")
	}
	if cfg.LiveStreams, err = strconv.Atoi(*liveStreams); err != nil || cfg.LiveStreams < 0 || cfg.LiveStreams > 1_000_000 {
		return cfg, fmt.Errorf("-live-streams / LIVE_STREAMS: %q is not a whole number from 0 to 1000000", *liveStreams)
	}
	if cfg.PrimaryURL != "" {
		u, err := url.Parse(strings.ReplaceAll(cfg.PrimaryURL, "{primary}", "primary"))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return cfg, fmt.Errorf("-primary-url / PRIMARY_URL: %q is not an http(s) URL such as http://{primary}:8080", cfg.PrimaryURL)
		}
	}
	if cfg.ChartCallsPerHour, err = strconv.Atoi(*chartCalls); err != nil || cfg.ChartCallsPerHour < 0 || cfg.ChartCallsPerHour > 3600 {
		return cfg, fmt.Errorf("-chart-calls-per-hour / CHART_CALLS_PER_HOUR: %q is not a whole number from 0 to 3600", *chartCalls)
	}
	if cfg.Proxy.Role, err = monitoring.ParseRole(*proxyRole); err != nil {
		return cfg, fmt.Errorf("-auth-proxy-role / AUTH_PROXY_ROLE: %v", err)
	}
	trusted, err := parsePrefixes(cfg.Proxy.Trusted)
	if err != nil {
		return cfg, fmt.Errorf("-trusted-proxies / TRUSTED_PROXIES: %v", err)
	}
	if h := cfg.Proxy.Header; h != "" {
		if strings.IndexFunc(h, func(r rune) bool { return !isTokenChar(r) }) >= 0 {
			return cfg, fmt.Errorf("-auth-proxy-header / AUTH_PROXY_HEADER: %q is not a header name", h)
		}
		if len(trusted) == 0 {
			return cfg, errors.New("-auth-proxy-header / AUTH_PROXY_HEADER needs -trusted-proxies / TRUSTED_PROXIES: the addresses the header is believed from")
		}
	}
	cfg.OIDC, err = parseOIDC(oidcSettings{
		issuer: *oidcIssuer, clientID: *oidcClientID, secret: env("OIDC_CLIENT_SECRET", ""), redirect: *oidcRedirect,
		name: *oidcName, domains: *oidcDomains, roleClaim: *oidcRoleClaim, roles: *oidcRoles, defaultRole: *oidcDefaultRole,
	})
	if err != nil {
		return cfg, err
	}
	if !cfg.PasswordSignIn && cfg.OIDC == nil && cfg.Proxy.Header == "" {
		return cfg, errors.New("-password-signin / PASSWORD_SIGNIN: false needs -oidc-issuer or -auth-proxy-header, or nobody could sign in")
	}
	return cfg, nil
}

// isTokenChar reports whether r may be in a header name (RFC 9110's token).
func isTokenChar(r rune) bool {
	return r < 127 && r > ' ' && !strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r)
}

// envBoolError is an environment boolean that does not parse, reported
// unless its flag overrides it.
type envBoolError struct {
	flag string
	err  error
}

// oidcSettings are the OpenID Connect flags as given.
type oidcSettings struct {
	issuer, clientID, secret, redirect, name, domains, roleClaim, roles, defaultRole string
}

// parseOIDC checks the OpenID Connect settings: nil without an issuer.
func parseOIDC(s oidcSettings) (*handlers.OIDCConfig, error) {
	if s.issuer == "" {
		for _, given := range []struct{ value, name string }{
			{s.clientID, "-oidc-client-id / OIDC_CLIENT_ID"}, {s.redirect, "-oidc-redirect-url / OIDC_REDIRECT_URL"},
			{s.domains, "-oidc-allowed-domains / OIDC_ALLOWED_DOMAINS"}, {s.roleClaim, "-oidc-role-claim / OIDC_ROLE_CLAIM"},
			{s.roles, "-oidc-roles / OIDC_ROLES"}, {s.secret, "OIDC_CLIENT_SECRET"},
		} {
			if given.value != "" {
				return nil, fmt.Errorf("%s: set, but -oidc-issuer / OIDC_ISSUER is not (single sign-on needs both)", given.name)
			}
		}
		return nil, nil
	}
	if !httpURL(s.issuer) {
		return nil, fmt.Errorf("-oidc-issuer / OIDC_ISSUER: %q is not an http(s) URL", s.issuer)
	}
	if s.clientID == "" {
		return nil, errors.New("-oidc-client-id / OIDC_CLIENT_ID: required with -oidc-issuer")
	}
	if s.secret == "" {
		return nil, errors.New("OIDC_CLIENT_SECRET: required with -oidc-issuer, in the environment only (a flag would show in the process list)")
	}
	if s.redirect == "" {
		return nil, errors.New("-oidc-redirect-url / OIDC_REDIRECT_URL: required with -oidc-issuer (https://HOST/auth/oidc/callback)")
	}
	if u, err := url.Parse(s.redirect); !httpURL(s.redirect) || err != nil || u.Path != "/auth/oidc/callback" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("-oidc-redirect-url / OIDC_REDIRECT_URL: %q is not an http(s) URL ending in /auth/oidc/callback", s.redirect)
	}
	cfg := &handlers.OIDCConfig{Issuer: s.issuer, ClientID: s.clientID, ClientSecret: s.secret, RedirectURL: s.redirect,
		Name: s.name, RoleClaim: s.roleClaim}
	for _, d := range strings.Split(s.domains, ",") {
		d = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(d), "@"))
		if d == "" {
			continue
		}
		if strings.ContainsAny(d, "@ /") || !strings.Contains(d, ".") {
			return nil, fmt.Errorf("-oidc-allowed-domains / OIDC_ALLOWED_DOMAINS: %q is not an e-mail domain such as example.com", d)
		}
		cfg.AllowedDomains = append(cfg.AllowedDomains, d)
	}
	var err error
	if cfg.DefaultRole, err = monitoring.ParseRole(s.defaultRole); err != nil {
		return nil, fmt.Errorf("-oidc-default-role / OIDC_DEFAULT_ROLE: %v", err)
	}
	if s.roles != "" {
		cfg.Roles = map[string]monitoring.Role{}
	}
	for _, pair := range strings.Split(s.roles, ",") {
		if strings.TrimSpace(pair) == "" {
			continue
		}
		i := strings.LastIndex(pair, "=")
		if i < 0 {
			return nil, fmt.Errorf("-oidc-roles / OIDC_ROLES: %q is not value=role, such as noc=operator", strings.TrimSpace(pair))
		}
		value, name := strings.TrimSpace(pair[:i]), pair[i+1:]
		role, err := monitoring.ParseRole(name)
		if err == nil && role == monitoring.NoRole {
			err = fmt.Errorf("%q maps to no role (use viewer, operator or admin)", value)
		}
		if err == nil && value == "" {
			err = fmt.Errorf("%q has no claim value before the =", strings.TrimSpace(pair))
		}
		if _, dup := cfg.Roles[value]; err == nil && dup {
			err = fmt.Errorf("%q is given twice", value)
		}
		if err != nil {
			return nil, fmt.Errorf("-oidc-roles / OIDC_ROLES: %v", err)
		}
		cfg.Roles[value] = role
	}
	switch {
	case len(cfg.Roles) > 0 && cfg.RoleClaim == "":
		return nil, errors.New("-oidc-roles / OIDC_ROLES: needs -oidc-role-claim / OIDC_ROLE_CLAIM, the claim whose values it maps")
	case cfg.RoleClaim != "" && len(cfg.Roles) == 0:
		return nil, errors.New("-oidc-role-claim / OIDC_ROLE_CLAIM: needs -oidc-roles / OIDC_ROLES, its values and their roles")
	}
	return cfg, nil
}

// httpURL reports an absolute http(s) URL with a host.
func httpURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}
