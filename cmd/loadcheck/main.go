// Command loadcheck measures the wall's grid refresh (GET / with
// HX-Request: true, sent by every wall screen every 20 s) under load and
// prints, side by side with the same bytes served from memory by
// http.ServeContent on a loopback server of its own:
//
//   - refresh throughput: closed-loop requests per second of the gzip grid
//     refresh, dashboard vs static, medians of interleaved rounds;
//   - 304 throughput: the same with If-None-Match and the dashboard's ETag
//     (skipped when the dashboard sends no ETag);
//   - the bytes on the wire of an unchanged (conditional) refresh and of a
//     full gzip refresh, counted on the TCP connection;
//   - latency at a fixed offered rate: an open-loop generator of
//     conditional refreshes whose latencies count from each request's
//     scheduled start, so a stalled server is not hidden; the ETag is
//     re-fetched every second to follow data changes.
//
// By default it builds the dashboard in-process on 127.0.0.1 (a temporary
// SQLite database, the fake Rackspace serving -accounts × -servers × -alarms,
// the real poller polling them throughout, the real handler stack with a
// public wall) and measures that:
//
//	go run ./cmd/loadcheck
//	go run ./cmd/loadcheck -accounts 5 -servers 20 -duration 1s -rate 200
//
// or it measures a dashboard that is already running with a public wall:
//
//	go run ./cmd/dashboard -demo
//	go run ./cmd/loadcheck -url http://127.0.0.1:8080/
//
// Other modes measure the poller and the process:
//
//	go run ./cmd/loadcheck -mode poll      # a poll cycle of 50 accounts ÷ one account's, upstream at 200 ms a request
//	go build -o /tmp/lc ./cmd/loadcheck && /tmp/lc -mode memory -accounts 1 -servers 5000   # RSS over 100 poll cycles
//	go build -o /tmp/dashboard ./cmd/dashboard && go run ./cmd/loadcheck -mode startup -bin /tmp/dashboard -accounts 1 -servers 5000
//	go build -o /tmp/dashboard ./cmd/dashboard && go run ./cmd/loadcheck -mode live -bin /tmp/dashboard -accounts 5 -streams 1000   # live updates
//
// Every phase runs for -duration per side and stops by itself. The load
// generator, the static server and (in-process) the dashboard share the
// machine, so compare the ratios rather than the absolute numbers. It is a
// tool to run by hand, not a test.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"runtime/pprof"
	"slices"
	"strings"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "loadcheck:", err)
		os.Exit(1)
	}
}

type options struct {
	mode        string
	latency     time.Duration
	changeEvery time.Duration // the child fake's (-mode fake)
	streams     int
	changes     int
	cycles      int
	bin         string
	runs        int
	cpuprofile  string
	memprofile  string
	url, path   string
	duration    time.Duration
	workers     int
	rate        int
	rounds      int
	conditional float64
	setup       setupConfig
}

func parseOptions(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("loadcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.mode, "mode", "refresh", "what to measure: refresh (the wall under load), poll (a poll cycle of -accounts vs one account), memory (RSS over -cycles poll cycles), startup (exec → first /healthz of -bin), live (-streams pages of -bin told of changes)")
	fs.DurationVar(&o.latency, "latency", 200*time.Millisecond, "poll: the upstream's answer time per request")
	fs.DurationVar(&o.changeEvery, "change-every", time.Hour, "fake: how often each alarm may change state (0: never)")
	fs.IntVar(&o.cycles, "cycles", 100, "memory: poll cycles")
	fs.StringVar(&o.bin, "bin", "", "startup: the dashboard binary to start")
	fs.IntVar(&o.runs, "runs", 11, "startup: starts to time")
	fs.IntVar(&o.streams, "streams", 1000, "live: open live-update streams")
	fs.IntVar(&o.changes, "changes", 10, "live: changes to time")
	fs.StringVar(&o.cpuprofile, "cpuprofile", "", "write a CPU profile of the whole run to this file")
	fs.StringVar(&o.memprofile, "memprofile", "", "memory: write a heap profile after the last cycle to this file")
	fs.StringVar(&o.url, "url", "", "base URL of a running dashboard with a public wall, e.g. http://127.0.0.1:8080/ (default: start one in-process)")
	fs.StringVar(&o.path, "path", "/", "path of the refreshed view")
	fs.DurationVar(&o.duration, "duration", 5*time.Second, "length of each phase, per side (closed-loop phases split it into -rounds rounds)")
	fs.IntVar(&o.workers, "workers", 32, "concurrent workers of the closed-loop phases")
	fs.IntVar(&o.rate, "rate", 2000, "requests per second offered by the open-loop phase")
	fs.IntVar(&o.rounds, "rounds", 3, "interleaved rounds per side in the closed-loop phases")
	fs.Float64Var(&o.conditional, "conditional", 1, "share of open-loop requests sent with If-None-Match (0 to 1)")
	fs.IntVar(&o.setup.Accounts, "accounts", 50, "in-process: accounts")
	fs.IntVar(&o.setup.Servers, "servers", 100, "in-process: servers per account")
	fs.IntVar(&o.setup.Alarms, "alarms", 10, "in-process: alarms per server")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	switch {
	case fs.NArg() > 0:
		return o, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	case !strings.HasPrefix(o.path, "/"):
		return o, errors.New("-path must start with /")
	case o.duration <= 0 || o.workers < 1 || o.rate < 1 || o.rounds < 1:
		return o, errors.New("-duration, -workers, -rate and -rounds must be positive")
	case o.conditional < 0 || o.conditional > 1:
		return o, errors.New("-conditional must be between 0 and 1")
	case o.url == "" && (o.setup.Accounts < 1 || o.setup.Servers < 1 || o.setup.Alarms < 0):
		return o, errors.New("-accounts and -servers must be positive, -alarms not negative")
	case o.url != "" && !strings.HasPrefix(o.url, "http://") && !strings.HasPrefix(o.url, "https://"):
		return o, errors.New("-url must be an http:// or https:// URL")
	}
	return o, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseOptions(args, stderr)
	if err != nil {
		return err
	}
	if o.cpuprofile != "" {
		f, err := os.Create(o.cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	switch o.mode {
	case "refresh":
	case "poll":
		return runPollMode(ctx, o, stdout, stderr)
	case "memory":
		return runMemoryMode(ctx, o, stdout, stderr)
	case "fake":
		return runFakeMode(o, stdout)
	case "startup":
		return runStartupMode(ctx, o, stdout, stderr)
	case "live":
		return runLiveMode(ctx, o, stdout, stderr)
	default:
		return fmt.Errorf("-mode %q: want refresh, poll, memory, startup or live", o.mode)
	}

	base := strings.TrimRight(o.url, "/")
	target := "dashboard at " + o.url
	if o.url == "" {
		fmt.Fprintf(stderr, "starting the dashboard in-process: %d accounts × %d servers × %d alarms\n",
			o.setup.Accounts, o.setup.Servers, o.setup.Alarms)
		b, stop, err := startInProcess(ctx, o.setup, stderr)
		if err != nil {
			return fmt.Errorf("in-process dashboard: %w", err)
		}
		defer stop()
		base = b
		target = fmt.Sprintf("in-process dashboard, %d accounts × %d servers × %d alarms, polled throughout",
			o.setup.Accounts, o.setup.Servers, o.setup.Alarms)
	}
	dashURL := base + o.path

	dash := newClient(o.workers)
	defer dash.CloseIdleConnections()
	currentETag := func(ctx context.Context) (string, error) {
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		resp, err := get(ctx, dash, dashURL, refreshHeader(""))
		if err != nil {
			return "", err
		}
		if resp.status != http.StatusOK {
			return "", fmt.Errorf("GET %s answered %d", dashURL, resp.status)
		}
		return resp.header.Get("ETag"), nil
	}

	// The reference: one grid refresh, served again from memory by the
	// static side.
	fetchCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	ref, err := get(fetchCtx, dash, dashURL, refreshHeader(""))
	cancel()
	if err != nil {
		return fmt.Errorf("GET %s: %w", dashURL, err)
	}
	if ref.status != http.StatusOK {
		return fmt.Errorf("GET %s answered %d %s, not 200: is the wall public (-demo or -public-dashboard)?",
			dashURL, ref.status, ref.header.Get("Location"))
	}
	etag := ref.header.Get("ETag")
	staticBase, stopStatic, err := serveLoopback(staticHandler(ref))
	if err != nil {
		return fmt.Errorf("static server: %w", err)
	}
	defer stopStatic()
	staticURL := staticBase + o.path
	static := newClient(o.workers)
	defer static.CloseIdleConnections()

	rep := report{target: target, opts: o, refBytes: len(ref.body),
		contentEncoding: ref.header.Get("Content-Encoding"), etag: etag}
	fmt.Fprintf(stderr, "grid refresh: %d bytes (Content-Encoding %q), ETag %q\n", len(ref.body), rep.contentEncoding, etag)

	// 1. Refresh throughput, unconditional.
	rep.full, err = compare(ctx, stderr, "refresh 200", o, dash, static, dashURL, staticURL, http.StatusOK,
		func() (string, error) { return "", nil }, "")
	if err != nil {
		return err
	}

	// 2. 304 throughput: the dashboard's current ETag is fetched before each
	// of its rounds, so a data change does not turn the round into 200s.
	if etag != "" {
		rep.notModified, err = compare(ctx, stderr, "refresh 304", o, dash, static, dashURL, staticURL, http.StatusNotModified,
			func() (string, error) { return currentETag(ctx) }, etag)
		if err != nil {
			return err
		}
	} else {
		fmt.Fprintln(stderr, "refresh 304: skipped, the dashboard sends no ETag")
	}

	// 3. Bytes on the wire.
	if rep.wireFull, err = wireBytes(ctx, dashURL, refreshHeader("")); err != nil {
		return fmt.Errorf("wire bytes: %w", err)
	}
	if rep.staticWireFull, err = wireBytes(ctx, staticURL, refreshHeader("")); err != nil {
		return fmt.Errorf("wire bytes: %w", err)
	}
	if etag != "" {
		// A data change between the two requests turns the 304 into a 200:
		// try again with the fresh ETag.
		for range 3 {
			if rep.wireUnchanged, err = wireBytes(ctx, dashURL, refreshHeader(rep.wireFull.etag)); err != nil {
				return fmt.Errorf("wire bytes: %w", err)
			}
			if rep.wireUnchanged.status == http.StatusNotModified || rep.wireUnchanged.etag == "" {
				break
			}
			rep.wireFull.etag = rep.wireUnchanged.etag
		}
		if rep.staticWireUnchanged, err = wireBytes(ctx, staticURL, refreshHeader(etag)); err != nil {
			return fmt.Errorf("wire bytes: %w", err)
		}
	}
	fmt.Fprintf(stderr, "wire bytes: full refresh %d", rep.wireFull.read)
	if etag != "" {
		fmt.Fprintf(stderr, ", unchanged refresh %d (status %d)", rep.wireUnchanged.read, rep.wireUnchanged.status)
	}
	fmt.Fprintln(stderr)

	// 4. Latency at a fixed offered rate.
	fmt.Fprintf(stderr, "open loop: %d/s for %s\n", o.rate, o.duration)
	open := newClient(max(o.workers, 256))
	rep.open = openLoop(ctx, open, dashURL, o.rate, o.duration, o.conditional, currentETag)
	open.CloseIdleConnections()
	if err := ctx.Err(); err != nil {
		return err
	}

	rep.print(stdout)
	return nil
}

// comparison is a closed-loop phase: medians of the rounds of each side.
type comparison struct {
	dash, static           float64 // req/s
	dashCodes, staticCodes statuses
	ran                    bool
}

// compare runs o.rounds short closed-loop rounds against the dashboard and
// the static copy, interleaved (dashboard, static, dashboard, …) so that
// noise from other work on the machine hits both sides alike. dashETag
// gives the If-None-Match of each dashboard round and staticETag that of
// the static side ("" for none).
func compare(ctx context.Context, progress io.Writer, name string, o options, dash, static *http.Client,
	dashURL, staticURL string, want int, dashETag func() (string, error), staticETag string) (comparison, error) {
	c := comparison{dashCodes: statuses{}, staticCodes: statuses{}, ran: true}
	round := o.duration / time.Duration(o.rounds)
	var dashRates, staticRates []float64
	for i := range o.rounds {
		tag, err := dashETag()
		if err != nil {
			return c, fmt.Errorf("%s: %w", name, err)
		}
		rate, codes := closedLoop(ctx, dash, o.workers, round, dashURL, refreshHeader(tag))
		dashRates = append(dashRates, rate)
		c.dashCodes.add(codes)
		srate, scodes := closedLoop(ctx, static, o.workers, round, staticURL, refreshHeader(staticETag))
		staticRates = append(staticRates, srate)
		c.staticCodes.add(scodes)
		if err := ctx.Err(); err != nil {
			return c, err
		}
		fmt.Fprintf(progress, "%s round %d/%d: dashboard %.0f req/s (%s), static %.0f req/s (%s)\n",
			name, i+1, o.rounds, rate, codes, srate, scodes)
	}
	c.dash, c.static = median(dashRates), median(staticRates)
	if n := c.dashCodes.other(want); n > 0 {
		fmt.Fprintf(progress, "%s: %d dashboard answers were not %d\n", name, n, want)
	}
	return c, nil
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
