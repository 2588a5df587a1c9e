// Command dashboard serves the Cloud Monitoring wall dashboard: every
// Rackspace account's servers as alarm rings, refreshed in the background.
package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/alexedwards/scs/sqlite3store"

	"cmdash/handlers"
	"cmdash/migrations"
	"cmdash/monitoring"
	"cmdash/monitoring/charts"
	"cmdash/monitoring/fakerax"
	"cmdash/monitoring/litefs"
	"cmdash/monitoring/poller"
	"cmdash/monitoring/rackspace"
	"cmdash/monitoring/sqlite"
	"cmdash/monitoring/wall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, errHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "dashboard:", err)
		os.Exit(1)
	}
}

// newLogger logs in format, "text" or "json"; with "" it logs text to a
// terminal and JSON otherwise (to a log collector).
func newLogger(w io.Writer, format string, debug bool) *slog.Logger {
	level := slog.LevelInfo
	if debug {
		level = slog.LevelDebug
	}
	opts := &slog.HandlerOptions{Level: level}
	if format == "" {
		format = "json"
		if f, ok := w.(*os.File); ok {
			if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
				format = "text"
			}
		}
	}
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// run wires everything together and serves until ctx is done.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "backup" {
		return runBackup(ctx, args[1:], getenv, stdout, stderr)
	}
	cfg, err := parseConfig(args, getenv, stderr)
	if err != nil {
		return err
	}
	if cfg.Version {
		fmt.Fprintln(stdout, "dashboard", version)
		return nil
	}
	log := newLogger(stderr, cfg.LogFormat, cfg.Debug)
	memLimit := setMemoryLimit(getenv)

	if litefs.At(cfg.DBPath).Mounted() && getenv("DASHBOARD_SECRET") == "" {
		// A key file cannot live in the mount, and every node needs the key.
		return errors.New("the database is in a LiteFS mount: set DASHBOARD_SECRET, the same on every node")
	}
	sealer, err := openSealer(cfg, getenv, log)
	if err != nil {
		return err
	}
	// In a LiteFS mount the node's role decides who writes (see cluster.go).
	var clu *cluster
	var db *sql.DB
	if node := litefs.At(cfg.DBPath); node.Mounted() {
		if cfg.Demo {
			return errors.New("-demo keeps its database to itself: not in a LiteFS mount")
		}
		var role litefs.Role
		db, role, err = openClustered(ctx, node, cfg.DBPath, log)
		if err != nil {
			return err
		}
		clu = &cluster{node: node}
		clu.role.Store(&role)
	} else if db, err = sqlite.OpenDB(ctx, cfg.DBPath, migrations.FS); err != nil {
		return err
	}
	defer db.Close()
	store := sqlite.NewStore(db, sealer)
	store.SetRetention(cfg.History)
	if clu != nil {
		clu.store = store
		_, replica := clu.Replica()
		store.SetReadOnly(replica)
	}

	identityURL := cfg.IdentityURL
	var fake *http.Server
	if cfg.Demo {
		// A newcomer sees the wall at once; settings still need the printed login.
		cfg.PublicDashboard = true
		var fakeURL string
		fake, fakeURL, err = startDemoUpstream(ctx, store, log)
		if err != nil {
			return err
		}
		defer fake.Close()
		identityURL = fakeURL
	}

	if clu == nil || !store.ReadOnly() { // a replica's users come from the primary
		if err := ensureFirstUser(ctx, cfg, getenv, store, stdout, log); err != nil {
			return err
		}
	}

	metrics := handlers.NewMetrics(store)
	client := rackspace.NewClient(identityURL, upstreamHTTPClient(cfg.Concurrency))
	poller := poller.New(store, client, poller.Config{
		Interval: cfg.PollInterval, Concurrency: cfg.Concurrency, Logger: log, Observer: metrics,
	})
	// Expired sessions are cleaned up by the writer (see newWriterWork).
	sessionStore := sqlite3store.NewWithCleanupInterval(db, 0)
	wallModel := wall.NewService(store, wall.Options{PollInterval: cfg.PollInterval, ChangeWindow: cfg.ChangeWindow, OldAfter: cfg.OldAfter,
		OnError: func(err error) { log.Error("wall model", "err", err) }})
	metrics.WatchWall(wallModel)
	var chartService *charts.Service
	if cfg.ChartCallsPerHour > 0 {
		chartService = charts.New(store, client, charts.Options{CallsPerHour: cfg.ChartCallsPerHour})
	}
	h := handlers.New(store, wallModel, poller, client, log, handlers.Options{
		Demo: cfg.Demo, PollInterval: cfg.PollInterval, RefreshInterval: cfg.RefreshInterval,
		PublicDashboard: cfg.PublicDashboard, PlainOrder: cfg.PlainOrder, SecureCookies: cfg.SecureCookies, TrustProxy: cfg.TrustProxy,
		Sessions: handlers.NewSessionManager(sessionStore, cfg.SecureCookies), Metrics: metrics, Version: version,
		PollerHealth: poller, AccessLog: cfg.AccessLog,
		Charts:      chartService,
		ProxyHeader: cfg.Proxy.Header, TrustedProxies: cfg.Proxy.TrustedPrefixes(), ProxyRole: cfg.Proxy.Role,
		OIDC: cfg.OIDC, NoPasswordSignIn: !cfg.PasswordSignIn,
		LiveStreams: cfg.LiveStreams,
		Cluster:     clusterOption(clu), FlyReplay: cfg.FlyReplay, PrimaryURL: cfg.PrimaryURL,
	})
	// What the store writes reaches the wall model, and through it the
	// live streams, at once rather than at the model's next look.
	store.OnChange(wallModel.Wake)

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	srv := &http.Server{
		Handler:           h.Routes(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	srv.RegisterOnShutdown(h.StopLive) // streams never finish by themselves

	// The writer's work — pruning, session cleanup, polling — runs from now
	// until the end; in a cluster, only while this node is the primary.
	work := newWriterWork(store, poller.Run, log)
	pollCtx, stopPolling := context.WithCancel(context.Background())
	pollDone := make(chan struct{})
	go func() {
		defer close(pollDone)
		if clu != nil {
			followRole(pollCtx, clu, work, log)
			return
		}
		work(pollCtx)
	}()
	defer func() { // on every way out, before db.Close
		stopPolling()
		select {
		case <-pollDone:
		case <-time.After(15 * time.Second):
		}
	}()
	// Changes are seen, and marked, as they are stored (see wall.Service.Watch).
	go wallModel.Watch(pollCtx, time.Second)

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	log.Info("dashboard listening", "url", "http://"+ln.Addr().String(), "db", cfg.DBPath,
		"identity", identityURL, "poll_interval", cfg.PollInterval.String(), "concurrency", cfg.Concurrency,
		"memory_limit_mib", memLimit>>20, "demo", cfg.Demo, "public_dashboard", cfg.PublicDashboard,
		"history_days", int(cfg.History.MaxAge/(24*time.Hour)), "history_rows", cfg.History.MaxRows,
		"auth_proxy_header", cfg.Proxy.Header, "trusted_proxies", cfg.Proxy.Trusted,
		"oidc", oidcIssuer(cfg), "password_signin", cfg.PasswordSignIn)
	fmt.Fprintf(stdout, "Dashboard on http://%s\n", ln.Addr())

	select {
	case err = <-serveErr:
		err = fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
		err = nil
	}

	// Stop taking requests and finish those in flight, then stop the
	// poller; the database closes last (deferred).
	log.Info("shutting down")
	httpCtx, cancelHTTP := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancelHTTP()
	if serr := srv.Shutdown(httpCtx); serr != nil {
		log.Warn("http shutdown", "err", serr)
	}
	// The poller gets its own time: a slow HTTP drain must not leave it
	// writing while the database closes.
	stopPolling()
	select {
	case <-pollDone:
	case <-time.After(15 * time.Second):
		log.Warn("poller did not stop in time")
	}
	log.Info("stopped")
	return err
}

// defaultMemoryLimit is the soft memory limit the dashboard keeps to unless
// GOMEMLIMIT says otherwise: its steady state is a few MiB of summaries and
// rendered pages, so on a small machine (Fly's 256 MB) the garbage
// collector should work harder under a burst of polls rather than let the
// heap grow. Measured with loadcheck -mode memory (5,000 servers): the GC
// then runs about ten times a poll cycle, the cycle takes no longer.
const defaultMemoryLimit = 40 << 20

// setMemoryLimit sets defaultMemoryLimit unless GOMEMLIMIT is set (the
// runtime has then applied it already) and returns the limit in force.
func setMemoryLimit(getenv func(string) string) int64 {
	if getenv("GOMEMLIMIT") != "" {
		return debug.SetMemoryLimit(-1) // reads it without changing it
	}
	debug.SetMemoryLimit(defaultMemoryLimit)
	return defaultMemoryLimit
}

// upstreamHTTPClient is the HTTP client for Rackspace. Every account in
// flight talks to the same two hosts (Identity and Monitoring), so each host
// may keep as many idle connections as accounts are polled at once; with
// the default of two, most polls would open a new TLS connection.
func upstreamHTTPClient(concurrency int) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = max(tr.MaxIdleConnsPerHost, concurrency)
	tr.MaxIdleConns = max(tr.MaxIdleConns, 2*concurrency)
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// openSealer builds the at-rest encryption from DASHBOARD_SECRET or, when it
// is not set, from a key file beside the database, created once.
func openSealer(cfg Config, getenv func(string) string, log *slog.Logger) (*sqlite.Sealer, error) {
	if secret := getenv("DASHBOARD_SECRET"); secret != "" {
		s, err := sqlite.NewSealer(secret)
		if err != nil {
			return nil, fmt.Errorf("DASHBOARD_SECRET: %w", err)
		}
		return s, nil
	}
	keyPath := cfg.DBPath + ".key"
	if dir := filepath.Dir(cfg.DBPath); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("database directory: %w", err)
		}
	}
	secret, created, err := sqlite.LoadOrCreateKeyFile(keyPath)
	if err != nil {
		return nil, err
	}
	if created {
		log.Warn("DASHBOARD_SECRET is not set: created a key file for API key encryption; keep it with the database (and back it up separately)", "key_file", keyPath)
	} else {
		log.Info("DASHBOARD_SECRET is not set: API keys are encrypted with the key file", "key_file", keyPath)
	}
	return sqlite.NewSealer(secret)
}

// Demo accounts: about 100 servers in all, mostly OK, states changing
// about once a minute.
var demoAccounts = []fakerax.AccountSpec{
	{Username: "acme-production", Servers: 48, Alarms: 8, WarningShare: 0.03, CriticalShare: 0.015},
	{Username: "acme-staging", Servers: 32, Alarms: 6, WarningShare: 0.05, CriticalShare: 0.02},
	{Username: "acme-internal", Servers: 20, Alarms: 5, WarningShare: 0.04, CriticalShare: 0.01},
}

var demoAliases = map[string]string{
	"acme-production": "Production", "acme-staging": "Staging", "acme-internal": "Internal tools",
}

// demoUpstream is the demo's fake Rackspace, before its accounts are added.
var demoUpstream = fakerax.Config{Seed: 2015, ChangeEvery: time.Minute, Latency: 40 * time.Millisecond}

// addDemoSuppressions gives the first demo account some planned
// maintenance: a reboot under way on a server with an alarm raised, and a
// database failover test on another server later on.
func addDemoSuppressions(fake *fakerax.Server, now time.Time) error {
	user := demoAccounts[0].Username
	var raised, later *fakerax.Entity
	for _, e := range fake.Entities(user) {
		if e.URI == nil || !strings.Contains(*e.URI, "/servers/") || len(e.Alarms) == 0 {
			continue // not a cloud server
		}
		bad := slices.ContainsFunc(e.Alarms, func(a fakerax.Alarm) bool {
			return !a.Disabled && (a.State == "CRITICAL" || a.State == "WARNING")
		})
		switch {
		case bad && raised == nil:
			raised = &e
		case !bad && (later == nil || !strings.HasPrefix(later.Label, "db") && strings.HasPrefix(e.Label, "db")):
			later = &e
		}
	}
	if raised != nil {
		if _, err := fake.AddSuppression(user, fakerax.Suppression{
			Label: "Planned reboot — kernel update", Entities: []string{raised.ID}, End: now.Add(2 * time.Hour),
		}); err != nil {
			return err
		}
	}
	if later != nil {
		if _, err := fake.AddSuppression(user, fakerax.Suppression{
			Label:  "Database failover test",
			Checks: []string{later.ID + ":" + later.Alarms[0].CheckID},
			Start:  now.Add(3 * time.Hour), End: now.Add(4 * time.Hour),
		}); err != nil {
			return err
		}
	}
	return nil
}

// startDemoUpstream runs the fake Rackspace on a loopback port and, on an
// empty database, adds the demo accounts. It returns the Identity URL.
func startDemoUpstream(ctx context.Context, store *sqlite.Store, log *slog.Logger) (*http.Server, string, error) {
	fake := fakerax.New(demoUpstream)
	var keys = map[string]string{}
	for _, spec := range demoAccounts {
		a := fake.AddAccount(spec)
		keys[a.Username] = a.APIKey
	}
	if err := addDemoSuppressions(fake, time.Now()); err != nil {
		return nil, "", fmt.Errorf("demo suppressions: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", fmt.Errorf("demo upstream: %w", err)
	}
	srv := &http.Server{Handler: fake, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	identityURL := fake.IdentityURL("http://" + ln.Addr().String())

	// Tokens cached by an earlier run point at an earlier fake: forget them.
	if err := store.ClearTokens(ctx); err != nil {
		srv.Close()
		return nil, "", err
	}
	accts, err := store.ListAccounts(ctx)
	if err != nil {
		srv.Close()
		return nil, "", err
	}
	if len(accts) == 0 {
		for _, spec := range demoAccounts {
			if _, err := store.CreateAccount(ctx, spec.Username, demoAliases[spec.Username], keys[spec.Username], nil); err != nil {
				srv.Close()
				return nil, "", fmt.Errorf("demo accounts: %w", err)
			}
		}
		log.Info("demo: added three demo accounts backed by the built-in fake Rackspace")
	}
	log.Info("demo: fake Rackspace running", "identity", identityURL)
	return srv, identityURL, nil
}

// ensureFirstUser creates the first user from ADMIN_USERNAME and
// ADMIN_PASSWORD when none exists (headless deploys). In demo mode it
// (re)sets a "demo" user with a fresh random password and prints it.
func ensureFirstUser(ctx context.Context, cfg Config, getenv func(string) string, store *sqlite.Store, stdout io.Writer, log *slog.Logger) error {
	if name, pw := getenv("ADMIN_USERNAME"), getenv("ADMIN_PASSWORD"); name != "" || pw != "" {
		if name == "" || len(pw) < 10 {
			return errors.New("ADMIN_USERNAME and ADMIN_PASSWORD (10 characters or more) must be set together")
		}
		created, err := store.CreateFirstUser(ctx, name, pw)
		if err != nil {
			return err
		}
		if created {
			log.Info("created the first user from ADMIN_USERNAME", "username", name)
		}
	}
	if !cfg.Demo {
		return nil
	}
	pw := make([]byte, 12)
	if _, err := rand.Read(pw); err != nil {
		return err
	}
	password := base64.RawURLEncoding.EncodeToString(pw)
	if _, err := store.UserByName(ctx, demoUser); errors.Is(err, monitoring.ErrNotFound) {
		if _, err := store.CreateUser(ctx, demoUser, password, monitoring.Admin); err != nil {
			return err
		}
	} else if err != nil {
		return err
	} else if err := store.SetPassword(ctx, demoUser, password); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Demo login: %s / %s\n", demoUser, password)
	return nil
}

const demoUser = "demo"

// oidcIssuer names the single sign-on provider for the start-up log: its
// issuer only, never the client's secret.
func oidcIssuer(cfg Config) string {
	if cfg.OIDC == nil {
		return "off"
	}
	return cfg.OIDC.Issuer
}
