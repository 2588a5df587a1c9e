// Command fakerax serves a fake Rackspace (Identity v2.0 and Cloud
// Monitoring's overview) on loopback for demos, manual testing and
// benchmarks. It prints the Identity URL and each account's credentials:
//
//	identity http://127.0.0.1:8900/v2.0
//	account account1 0123456789abcdef0123456789abcdef
//
// Faults can be injected while it runs through the /_fake/ admin routes, e.g.
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
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "fakerax:", err)
		os.Exit(1)
	}
}

// run serves until ctx ends.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("fakerax", flag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	addr := fs.String("addr", "127.0.0.1:8900", "listen address")
	accounts := fs.Int("accounts", 3, "number of accounts (account1..accountN)")
	servers := fs.Int("servers", 30, "entities per account")
	alarms := fs.Int("alarms", 6, "alarms per entity")
	latency := fs.Duration("latency", 0, "delay added to every request")
	seed := fs.Int64("seed", 1, "seed for everything generated")
	change := fs.Duration("change", time.Minute, "period in which each alarm may change state (0: never)")
	warning := fs.Float64("warning", 0.05, "share of alarm states that are WARNING")
	critical := fs.Float64("critical", 0.02, "share of alarm states that are CRITICAL")
	ttl := fs.Duration("token-ttl", 24*time.Hour, "token lifetime")
	identityClock := fs.Duration("identity-clock", 0, "how far Identity's clock (its expires and Date) is ahead of this machine's; negative: behind")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if *servers < 0 || *alarms < 0 || *accounts < 0 {
		return errors.New("-accounts, -servers and -alarms must not be negative")
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	defer ln.Close()

	// Accounts are added explicitly (rather than through Config, which
	// treats zero as "use the default") so -servers 0 or -warning 0 mean what
	// they say. The credentials are the same either way.
	fake := fakerax.New(fakerax.Config{
		Latency:       *latency,
		Seed:          *seed,
		ChangeEvery:   *change,
		TokenTTL:      *ttl,
		IdentityClock: *identityClock,
	})
	for i := 1; i <= *accounts; i++ {
		fake.AddAccount(fakerax.AccountSpec{
			Username: fmt.Sprintf("account%d", i),
			Servers:  *servers, Alarms: *alarms, WarningShare: *warning, CriticalShare: *critical,
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
