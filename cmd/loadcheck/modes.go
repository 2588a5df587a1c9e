package main

// The poller, memory and start-up measurements. Like setup.go, this file
// knows the dashboard's internals.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"cmdash/handlers"
	"cmdash/migrations"
	"cmdash/monitoring"
	"cmdash/monitoring/fakerax"
	"cmdash/monitoring/poller"
	"cmdash/monitoring/rackspace"
	"cmdash/monitoring/sqlite"
	"cmdash/monitoring/wall"
)

const loadcheckSecret = "loadcheck secret, not a real one"

// estate is a temporary database with accounts served by a fake Rackspace.
type estate struct {
	dir    string
	store  *sqlite.Store
	poller *poller.Poller
	client *rackspace.Client
	ids    []int64
	close  func()
}

// newEstate opens a database in a temp dir and adds accounts × servers ×
// alarms from the fake at identityURL (whose accounts are listed in accts).
func newEstate(ctx context.Context, identityURL string, accts []fakerax.Account, interval time.Duration) (*estate, error) {
	dir, err := os.MkdirTemp("", "loadcheck-")
	if err != nil {
		return nil, err
	}
	db, err := sqlite.OpenDB(ctx, filepath.Join(dir, "loadcheck.db"), migrations.FS)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	sealer, err := sqlite.NewSealer(loadcheckSecret)
	if err != nil {
		return nil, err
	}
	e := &estate{dir: dir, store: sqlite.NewStore(db, sealer)}
	e.close = func() { db.Close(); os.RemoveAll(dir) }
	if _, err := e.store.CreateUser(ctx, "loadcheck", "loadcheck password", monitoring.Admin); err != nil {
		e.close()
		return nil, err
	}
	for _, a := range accts {
		acct, err := e.store.CreateAccount(ctx, a.Username, "", a.APIKey, nil)
		if err != nil {
			e.close()
			return nil, err
		}
		e.ids = append(e.ids, acct.ID)
	}
	// As cmd/dashboard wires it, at the default concurrency.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = poller.DefaultConcurrency
	tr.MaxIdleConns = 2 * poller.DefaultConcurrency
	e.client = rackspace.NewClient(identityURL, &http.Client{Transport: tr, Timeout: 30 * time.Second})
	e.poller = poller.New(e.store, e.client, poller.Config{Interval: interval,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	return e, nil
}

// waitPolled returns once every account has a successful poll at or after since.
func (e *estate) waitPolled(ctx context.Context, since time.Time, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		// One small query every few milliseconds: the waiting must not
		// take the CPU the poller is measured on.
		var all, done int
		err := e.store.DB().QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(last_success_at >= ?), 0) FROM accounts`,
			since.UnixMilli()).Scan(&all, &done)
		if err != nil {
			return err
		}
		if done == all {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d accounts polled after %s", done, all, limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// settle waits until no poll has ended for 300 ms, at most limit.
func (e *estate) settle(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	var last int64 = -1
	quietSince := time.Now()
	for time.Since(quietSince) < 300*time.Millisecond {
		var latest int64
		if err := e.store.DB().QueryRowContext(ctx, `SELECT COALESCE(MAX(MAX(last_polled_at, last_success_at)), 0) FROM accounts`).Scan(&latest); err != nil {
			return err
		}
		if latest != last {
			last, quietSince = latest, time.Now()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("polls still ending after %s", limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
	return nil
}

// runPollMode measures a poll cycle of many accounts against one account's
// poll, the upstream answering every request after -latency, with the
// poller at its default settings.
func runPollMode(ctx context.Context, o options, stdout, stderr io.Writer) error {
	type result struct{ first, steady, cpu time.Duration }
	measure := func(accounts int) (result, error) {
		// The fake runs in a child process, as Rackspace runs elsewhere:
		// its work is not this process's (it still shares the machine).
		fo := o
		fo.setup.Accounts = accounts
		identity, accts, stopFake, err := startFakeChild(ctx, fo, o.latency, 0, io.Discard)
		if err != nil {
			return result{}, err
		}
		defer stopFake()
		e, err := newEstate(ctx, identity, accts, time.Hour)
		if err != nil {
			return result{}, err
		}
		defer e.close()
		runCtx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		defer func() { stop(); <-done }()
		start := time.Now()
		go func() { defer close(done); _ = e.poller.Run(runCtx) }()
		// The first cycle logs every account in, then reads its overview.
		if err := e.waitPolled(ctx, start, 2*time.Minute); err != nil {
			return result{}, err
		}
		r := result{first: time.Since(start)}
		// Later cycles reuse the tokens: the median of three.
		var steady, cpus []time.Duration
		for range 3 {
			// No poll in flight (one finishing after start would count as
			// this cycle's), then every account due at once, in one
			// statement, and the loop woken: the cycle is the poller's,
			// not N separate refreshes.
			if err := e.settle(ctx, 10*time.Second); err != nil {
				return r, err
			}
			start, cpu0 := time.Now(), cpuTime()
			if _, err := e.store.DB().ExecContext(ctx, `UPDATE accounts SET next_poll_at = ?`, start.UnixMilli()); err != nil {
				return r, err
			}
			e.poller.Wake()
			if err := e.waitPolled(ctx, start, 2*time.Minute); err != nil {
				return r, err
			}
			steady = append(steady, time.Since(start))
			cpus = append(cpus, cpuTime()-cpu0)
		}
		slices.Sort(steady)
		slices.Sort(cpus)
		r.steady, r.cpu = steady[1], cpus[1]
		return r, nil
	}
	fmt.Fprintf(stderr, "poll cycles: upstream latency %s, %d servers × %d alarms per account, default poller settings\n",
		o.latency, o.setup.Servers, o.setup.Alarms)
	one, err := measure(1)
	if err != nil {
		return fmt.Errorf("one account: %w", err)
	}
	many, err := measure(o.setup.Accounts)
	if err != nil {
		return fmt.Errorf("%d accounts: %w", o.setup.Accounts, err)
	}
	ms := func(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) + " ms" }
	fmt.Fprintf(stdout, "\nloadcheck -mode poll: upstream latency %s per request, %d servers × %d alarms per account, concurrency %d (default)\n\n",
		o.latency, o.setup.Servers, o.setup.Alarms, poller.DefaultConcurrency)
	fmt.Fprintf(stdout, "%-44s %-10s %-12s %-7s %s\n", "cycle", "1 account", fmt.Sprintf("%d accounts", o.setup.Accounts), "ratio", "goal")
	fmt.Fprintf(stdout, "%-44s %-10s %-12s %-7.2f %s\n", "first (login + overview), all polled", ms(one.first), ms(many.first),
		float64(many.first)/float64(one.first), "≤ 1.3")
	fmt.Fprintf(stdout, "%-44s %-10s %-12s %-7.2f %s\n", "steady (cached token), median of 3", ms(one.steady), ms(many.steady),
		float64(many.steady)/float64(one.steady), "≤ 1.3")
	fmt.Fprintf(stdout, "%-44s %-10s %-12s %-7.2f\n", "CPU of this process in a steady cycle", ms(one.cpu), ms(many.cpu),
		float64(many.cpu)/float64(max(one.cpu, time.Millisecond)))
	return nil
}

// cpuTime is the CPU time this process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// runFakeMode serves a fake Rackspace on 127.0.0.1 until stdin closes,
// printing its identity URL and accounts: the memory mode runs it in a
// child process so that the fake's memory is not counted.
func runFakeMode(o options, stdout io.Writer) error {
	fake := fakerax.New(fakerax.Config{Seed: 2015, ChangeEvery: o.changeEvery, Latency: o.latency})
	var lines []string
	for i := range o.setup.Accounts {
		a := fake.AddAccount(fakerax.AccountSpec{Username: fmt.Sprintf("mem%03d", i), Servers: o.setup.Servers,
			Alarms: o.setup.Alarms, WarningShare: 0.05, CriticalShare: 0.02})
		lines = append(lines, "account "+a.Username+" "+a.APIKey)
	}
	base, stop, err := serveLoopback(fake)
	if err != nil {
		return err
	}
	defer stop()
	fmt.Fprintln(stdout, "identity "+fake.IdentityURL(base))
	for _, l := range lines {
		fmt.Fprintln(stdout, l)
	}
	fmt.Fprintln(stdout, "ready")
	_, _ = io.Copy(io.Discard, os.Stdin) // until the parent goes
	return nil
}

// procStatus reads a field of /proc/self/status in kB, as MB.
func procStatus(field string) float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return -1
}

// startFakeChild runs the fake (-mode fake) in a child process, so that
// neither its memory nor its garbage collection is counted as this
// process's, with -accounts × -servers × -alarms answering after latency.
func startFakeChild(ctx context.Context, o options, latency, changeEvery time.Duration, stderr io.Writer) (identity string, accts []fakerax.Account, stop func(), err error) {
	self, err := os.Executable()
	if err != nil {
		return "", nil, nil, err
	}
	child := exec.CommandContext(ctx, self, "-mode", "fake", "-accounts", strconv.Itoa(o.setup.Accounts),
		"-servers", strconv.Itoa(o.setup.Servers), "-alarms", strconv.Itoa(o.setup.Alarms), "-latency", latency.String(), "-change-every", changeEvery.String())
	child.Stderr = stderr
	stdin, err := child.StdinPipe()
	if err != nil {
		return "", nil, nil, err
	}
	out, err := child.StdoutPipe()
	if err != nil {
		return "", nil, nil, err
	}
	if err := child.Start(); err != nil {
		return "", nil, nil, err
	}
	stop = func() { stdin.Close(); _ = child.Wait() }
	sc := bufio.NewScanner(out)
read:
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 2 && f[0] == "identity":
			identity = f[1]
		case len(f) == 3 && f[0] == "account":
			accts = append(accts, fakerax.Account{Username: f[1], APIKey: f[2]})
		case len(f) == 1 && f[0] == "ready":
			break read
		}
	}
	if identity == "" {
		stop()
		return "", nil, nil, errors.New("the fake did not start")
	}
	return identity, accts, stop, nil
}

// runMemoryMode polls -accounts × -servers × -alarms from a fake in a child
// process -cycles times, as the dashboard does (every account at once,
// the wall rebuilt and its grid rendered after each cycle), and reports
// this process's resident memory.
func runMemoryMode(ctx context.Context, o options, stdout, stderr io.Writer) error {
	limit := int64(40 << 20) // as cmd/dashboard sets it (defaultMemoryLimit) unless GOMEMLIMIT is set
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(limit)
	} else {
		limit = debug.SetMemoryLimit(-1)
	}
	identity, accts, stopFake, err := startFakeChild(ctx, o, 0, time.Hour, stderr)
	if err != nil {
		return err
	}
	defer stopFake()

	e, err := newEstate(ctx, identity, accts, time.Hour)
	if err != nil {
		return err
	}
	defer e.close()
	h := handlers.New(e.store, wall.NewService(e.store, wall.Options{PollInterval: time.Hour}), e.poller, e.client, slog.New(slog.DiscardHandler),
		handlers.Options{PublicDashboard: true, PollInterval: time.Hour})
	routes := h.Routes()
	refresh := func() (int, error) {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Header.Set("HX-Request", "true")
		req.Header.Set("Accept-Encoding", "gzip")
		rec := httptest.NewRecorder()
		routes.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			return 0, fmt.Errorf("grid refresh answered %d", rec.Code)
		}
		return rec.Body.Len(), nil
	}
	start := procStatus("VmRSS")
	fmt.Fprintf(stderr, "memory: %d accounts × %d servers × %d alarms, %d cycles, soft limit %d MiB; RSS at start %.1f MB\n",
		len(accts), o.setup.Servers, o.setup.Alarms, o.cycles, limit>>20, start)
	var after []float64
	var gridBytes int
	began := time.Now()
	for c := range o.cycles {
		var wg sync.WaitGroup
		errs := make(chan error, len(e.ids))
		for _, id := range e.ids {
			wg.Go(func() {
				if err := e.poller.Poll(ctx, id); err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		if err := <-errs; err != nil {
			return fmt.Errorf("cycle %d: %w", c+1, err)
		}
		if gridBytes, err = refresh(); err != nil {
			return err
		}
		after = append(after, procStatus("VmRSS"))
		if (c+1)%10 == 0 {
			fmt.Fprintf(stderr, "cycle %d: RSS %.1f MB, peak %.1f MB\n", c+1, after[c], procStatus("VmHWM"))
		}
	}
	last := after[len(after)-1]
	lo, hi := slices.Min(after[len(after)/2:]), slices.Max(after[len(after)/2:])
	fmt.Fprintf(stdout, "\nloadcheck -mode memory: %d accounts × %d servers × %d alarms, %d poll cycles, soft memory limit %d MiB, grid %d bytes gzip\n\n",
		len(accts), o.setup.Servers, o.setup.Alarms, o.cycles, limit>>20, gridBytes)
	fmt.Fprintf(stdout, "RSS after cycle 1            %6.1f MB\n", after[0])
	fmt.Fprintf(stdout, "RSS after the last cycle     %6.1f MB   (second half of the run: %.1f–%.1f MB)\n", last, lo, hi)
	fmt.Fprintf(stdout, "peak RSS (VmHWM)             %6.1f MB\n", procStatus("VmHWM"))
	fmt.Fprintf(stdout, "at the end: anonymous %.1f MB (heap, SQLite), file-backed %.1f MB (this binary's code); %.0f ms a cycle\n",
		procStatus("RssAnon"), procStatus("RssFile"), float64(time.Since(began).Milliseconds())/float64(o.cycles))
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Fprintf(stdout, "Go runtime at the end: heap in use %.1f MB, obtained from the OS %.1f MB, released %.1f MB, %d GCs\n",
		float64(ms.HeapInuse)/(1<<20), float64(ms.Sys)/(1<<20), float64(ms.HeapReleased)/(1<<20), ms.NumGC)
	if o.memprofile != "" {
		f, err := os.Create(o.memprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		runtime.GC() // the profile shows what is live after the last cycle
		if err := pprof.WriteHeapProfile(f); err != nil {
			return err
		}
	}
	return nil
}

// runStartupMode times exec → first 200 on /healthz of a dashboard binary
// over a database holding -accounts × -servers × -alarms.
func runStartupMode(ctx context.Context, o options, stdout, stderr io.Writer) error {
	if o.bin == "" {
		return errors.New("-mode startup needs -bin, a built dashboard (go build -o /tmp/dashboard ./cmd/dashboard)")
	}
	fake := fakerax.New(fakerax.Config{Seed: 2015})
	var accts []fakerax.Account
	for i := range o.setup.Accounts {
		accts = append(accts, fake.AddAccount(fakerax.AccountSpec{Username: fmt.Sprintf("start%03d", i),
			Servers: o.setup.Servers, Alarms: o.setup.Alarms, WarningShare: 0.05, CriticalShare: 0.02}))
	}
	base, stopFake, err := serveLoopback(fake)
	if err != nil {
		return err
	}
	e, err := newEstate(ctx, fake.IdentityURL(base), accts, time.Hour)
	if err != nil {
		stopFake()
		return err
	}
	defer e.close()
	for _, id := range e.ids {
		if err := e.poller.Poll(ctx, id); err != nil {
			stopFake()
			return err
		}
	}
	stopFake() // the dashboard under test starts with an unreachable upstream
	dbPath := filepath.Join(e.dir, "loadcheck.db")

	var times []time.Duration
	for i := range o.runs {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		addr := ln.Addr().String()
		ln.Close()
		cmd := exec.CommandContext(ctx, o.bin, "-db", dbPath, "-addr", addr, "-identity-url", "http://127.0.0.1:9/v2.0")
		cmd.Env = append(os.Environ(), "DASHBOARD_SECRET="+loadcheckSecret)
		client := &http.Client{Timeout: 200 * time.Millisecond}
		start := time.Now()
		if err := cmd.Start(); err != nil {
			return err
		}
		var took time.Duration
		for time.Since(start) < 10*time.Second {
			resp, err := client.Get("http://" + addr + "/healthz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					took = time.Since(start)
					break
				}
			}
			time.Sleep(500 * time.Microsecond)
		}
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		if took == 0 {
			return fmt.Errorf("run %d: no 200 from /healthz within 10 s", i+1)
		}
		times = append(times, took)
	}
	slices.Sort(times)
	fmt.Fprintf(stdout, "\nloadcheck -mode startup: %s over a database of %d accounts × %d servers × %d alarms, %d runs\n\n",
		o.bin, o.setup.Accounts, o.setup.Servers, o.setup.Alarms, o.runs)
	fmt.Fprintf(stdout, "exec → first 200 on /healthz: median %.1f ms, min %.1f ms, max %.1f ms (goal ≤ 20 ms)\n",
		float64(times[len(times)/2].Microseconds())/1000, float64(times[0].Microseconds())/1000, float64(times[len(times)-1].Microseconds())/1000)
	return nil
}
