// Command fakerax serves a fake Rackspace (Identity v2.0 and Cloud
// Monitoring's overview, suppressions, alarm changelogs, notification plans
// and limits) on loopback for demos, manual testing and benchmarks. It prints the Identity URL and each account's credentials:
//
//	identity http://127.0.0.1:8900/v2.0
//	account account1 0123456789abcdef0123456789abcdef
//
// Faults can be injected while it runs through the /_fake/ admin routes
// (fakerax -h lists them), e.g.
//
//	curl -X POST 'http://127.0.0.1:8900/_fake/fault?username=account1&monitoring_status=503'
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"cmdash/monitoring/fakerax"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// exitCode is the exit status for run's error, which it reports on stderr
// when nothing has yet: 0 for none and for -h, 2 for a command line that
// cannot run, 1 for anything else.
func exitCode(err error, stderr io.Writer) int {
	var usage *usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &usage):
		if !usage.shown {
			fmt.Fprintf(stderr, "fakerax: %v (see -h)\n", usage.err)
		}
		return 2
	}
	fmt.Fprintln(stderr, "fakerax:", err)
	return 1
}

// usageError is a command line fakerax cannot run with. shown: the flag
// package has printed it already, with the usage.
type usageError struct {
	err   error
	shown bool
}

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

const usageHead = `Usage: fakerax [flags]

Serves a fake Rackspace (Identity v2.0; Cloud Monitoring's overview,
suppressions, alarm changelogs, notification plans and limits) and prints
"identity <url>" and one "account <username> <apikey>" line for each
account. It serves until interrupted.

Flags:
`

// adminUsage lists the admin routes of monitoring/fakerax (admin.go), one
// line each; a test checks it against the routes served there.
const adminUsage = `
Admin routes, to drive the fake while it runs. Parameters go in the query;
username= names the account; durations take Go syntax (1.5s) or whole
seconds, booleans 1 or true.
  GET  /_fake/accounts  the accounts with their credentials (JSON)
  POST /_fake/accounts  add an account: username= (none: the next accountN; a taken one is replaced), api_key=, tenant_id=, servers=, alarms=, warning=, critical=, rate_limit= (requests per 24 hours)
  POST /_fake/fault     make the account's requests misbehave until cleared: username=, identity_status=, monitoring_status=, retry_after=, reply_after=, slow=, non_json=, truncated=, fail_page=, remaining_header=, no_monitoring_endpoint=, suppression_ids= (the overview lists the suppressions naming each object), string_timestamps= (changelog timestamps as quoted strings), only= (overview, suppressions, changelogs, limits, notification_plans or other: break that route only); rate_used= also spends that much of the daily budget
  POST /_fake/clear     remove the account's fault: username=
  POST /_fake/revoke    revoke the account's tokens (a new login works): username=
  POST /_fake/state     force an alarm's state: username=, entity=, alarm= (none: the entity's first), state= (OK, WARNING or CRITICAL; empty: back to generated); the changelog records it
  GET  /_fake/counters  the account's requests seen by kind: identity, overview, suppressions, changelogs, limits, notification_plans, other (JSON): username=
  GET  /_fake/entities  the account's entities, alarms and states as served now (JSON): username=

What each fault does: go doc cmdash/monitoring/fakerax Fault
Example:
  curl -X POST 'http://127.0.0.1:8900/_fake/fault?username=account1&monitoring_status=503'
`

// options are the command's flags.
type options struct {
	addr                                string
	accounts, servers, alarms           int
	latency, change, ttl, identityClock time.Duration
	seed                                int64
	rateLimit                           int
	warning, critical                   float64
}

// newFlagSet defines the flags into o; its usage, printed to stderr, adds
// the admin routes.
func newFlagSet(o *options, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("fakerax", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usageHead)
		fs.PrintDefaults()
		fmt.Fprint(stderr, adminUsage)
	}
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8900", "listen address")
	fs.IntVar(&o.accounts, "accounts", 3, "number of accounts (account1..accountN)")
	fs.IntVar(&o.servers, "servers", 30, "entities per account")
	fs.IntVar(&o.alarms, "alarms", 6, "alarms per entity")
	fs.DurationVar(&o.latency, "latency", 0, "delay added to every request")
	fs.Int64Var(&o.seed, "seed", 1, "seed for everything generated")
	fs.DurationVar(&o.change, "change", time.Minute, "period in which each alarm may change state (0: never)")
	fs.Float64Var(&o.warning, "warning", 0.05, "share of alarm states that are WARNING")
	fs.Float64Var(&o.critical, "critical", 0.02, "share of alarm states that are CRITICAL")
	fs.DurationVar(&o.ttl, "token-ttl", 24*time.Hour, "token lifetime")
	fs.IntVar(&o.rateLimit, "rate-limit", 50000, "Monitoring requests each account may make per 24 hours")
	fs.DurationVar(&o.identityClock, "identity-clock", 0, "how far Identity's clock (its expires and Date) is ahead of this machine's; negative: behind")
	return fs
}

// run serves until ctx ends. The usage and command-line errors go to
// stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o options
	fs := newFlagSet(&o, stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &usageError{err: err, shown: true}
	}
	if fs.NArg() > 0 {
		return &usageError{err: fmt.Errorf("unexpected arguments: %v", fs.Args())}
	}
	if o.servers < 0 || o.alarms < 0 || o.accounts < 0 {
		return &usageError{err: errors.New("-accounts, -servers and -alarms must not be negative")}
	}
	if o.rateLimit < 1 {
		return &usageError{err: errors.New("-rate-limit must be at least 1")}
	}

	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	defer ln.Close()

	// Accounts are added explicitly (rather than through Config, which
	// treats zero as "use the default") so -servers 0 or -warning 0 mean what
	// they say. The credentials are the same either way.
	fake := fakerax.New(fakerax.Config{
		Latency:       o.latency,
		Seed:          o.seed,
		ChangeEvery:   o.change,
		TokenTTL:      o.ttl,
		IdentityClock: o.identityClock,
		RateLimit:     o.rateLimit,
	})
	for i := 1; i <= o.accounts; i++ {
		fake.AddAccount(fakerax.AccountSpec{
			Username: fmt.Sprintf("account%d", i),
			Servers:  o.servers, Alarms: o.alarms, WarningShare: o.warning, CriticalShare: o.critical,
		})
	}

	fmt.Fprintln(stdout, "identity", fake.IdentityURL("http://"+displayAddr(ln.Addr())))
	for _, a := range fake.Accounts() {
		fmt.Fprintln(stdout, "account", a.Username, a.APIKey)
	}

	srv := &http.Server{Handler: fake, ReadHeaderTimeout: 10 * time.Second}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()

	select {
	case err := <-serveErr:
		return err
	case <-ctx.Done():
	}
	fake.Close()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := <-serveErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// displayAddr turns a wildcard listen address into one a client can dial.
func displayAddr(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok || !tcp.IP.IsUnspecified() {
		return a.String()
	}
	return net.JoinHostPort("127.0.0.1", fmt.Sprint(tcp.Port))
}
