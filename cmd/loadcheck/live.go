package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"cmdash/monitoring"
	"cmdash/monitoring/fakerax"
)

// runLiveMode measures live updates on a built dashboard (-bin) in a child
// process: -streams pages hold a live stream open, as a wall's browser
// does, and fetch the grid (with its ETag, as htmx does) whenever the
// stream says something changed. A change is an acknowledgement stored
// through the API (then removed, the next change); its figure is from the
// moment the API is asked to each page having the new grid. The child's
// RSS is read with no stream open and with all of them.
func runLiveMode(ctx context.Context, o options, stdout, stderr io.Writer) error {
	if o.bin == "" {
		return errors.New("-mode live needs -bin, a built dashboard (go build -o /tmp/dashboard ./cmd/dashboard)")
	}
	fake := fakerax.New(fakerax.Config{Seed: 2015})
	var accts []fakerax.Account
	for i := range o.setup.Accounts {
		accts = append(accts, fake.AddAccount(fakerax.AccountSpec{Username: fmt.Sprintf("live%03d", i),
			Servers: o.setup.Servers, Alarms: o.setup.Alarms, WarningShare: 0.05, CriticalShare: 0.02}))
	}
	base, stopFake, err := serveLoopback(fake)
	if err != nil {
		return err
	}
	defer stopFake()
	e, err := newEstate(ctx, fake.IdentityURL(base), accts, time.Hour)
	if err != nil {
		return err
	}
	defer e.close()
	for _, id := range e.ids {
		if err := e.poller.Poll(ctx, id); err != nil {
			return err
		}
	}
	user, err := e.store.UserByName(ctx, "loadcheck")
	if err != nil {
		return err
	}
	token, _, err := e.store.CreateAPIToken(ctx, user.ID, "loadcheck", monitoring.Operator)
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	addr := ln.Addr().String()
	ln.Close()
	dash := "http://" + addr
	cmd := exec.CommandContext(ctx, o.bin, "-db", filepath.Join(e.dir, "loadcheck.db"), "-addr", addr,
		"-identity-url", fake.IdentityURL(base), "-poll-interval", "1h", "-public-dashboard",
		"-live-streams", strconv.Itoa(o.streams+100), "-access-log=false")
	cmd.Env = append(os.Environ(), "DASHBOARD_SECRET="+loadcheckSecret)
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() { _ = cmd.Process.Signal(syscall.SIGTERM); _ = cmd.Wait() }()
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	if err := waitHealthy(ctx, client, dash, 20*time.Second); err != nil {
		return err
	}
	api := func(method, path string, form url.Values) (map[string]any, error) {
		req, _ := http.NewRequestWithContext(ctx, method, dash+path, strings.NewReader(form.Encode()))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		var out map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			return nil, fmt.Errorf("%s %s: %d, %w", method, path, resp.StatusCode, err)
		}
		if resp.StatusCode >= 300 {
			return nil, fmt.Errorf("%s %s: %d %v", method, path, resp.StatusCode, out["message"])
		}
		return out, nil
	}
	// A CRITICAL server to acknowledge, and unacknowledge.
	target, err := criticalServer(api, accts)
	if err != nil {
		return err
	}
	// Warm the pages, then the RSS with no stream.
	for range 5 {
		if _, _, err := fetchGrid(ctx, client, dash, "", false); err != nil {
			return err
		}
	}
	time.Sleep(500 * time.Millisecond)
	rss0 := childRSS(cmd.Process.Pid)

	// The pages.
	type arrival struct {
		page int
		at   time.Time
	}
	arrivals := make(chan arrival, o.streams*4)
	pageCtx, stopPages := context.WithCancel(ctx)
	var pages sync.WaitGroup
	ready := make(chan struct{}, o.streams)
	streamClient := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	gridClient := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 512, MaxConnsPerHost: 512}}
	for i := range o.streams {
		pages.Add(1)
		go func() {
			defer pages.Done()
			_ = livePage(pageCtx, streamClient, gridClient, dash, func() { ready <- struct{}{} }, func(at time.Time) {
				arrivals <- arrival{i, at}
			})
		}()
	}
	deadline := time.After(60 * time.Second)
	for n := 0; n < o.streams; n++ {
		select {
		case <-ready:
		case <-deadline:
			stopPages()
			return fmt.Errorf("%d of %d streams opened within 60 s", n, o.streams)
		}
	}
	// Each page fetches the grid once on its first event; let that pass.
	settleArrivals(arrivals, 2*time.Second)
	// The grid fetches' connections are not the streams' cost.
	gridClient.CloseIdleConnections()
	time.Sleep(2 * time.Second)
	rssN := childRSS(cmd.Process.Pid)

	var lat []time.Duration
	var missing int
	ackID := ""
	childCPU0, selfCPU0 := childCPU(cmd.Process.Pid), cpuTime()
	for c := range o.changes {
		// From the request's start: the change is stored while the API
		// answers, and pages may hear of it before the answer arrives.
		stored := time.Now()
		if ackID == "" {
			out, err := api(http.MethodPost, "/api/v1/acks", url.Values{"username": {target.user}, "server_id": {target.server}, "expiry": {"4h"}, "note": {"loadcheck"}})
			if err != nil {
				stopPages()
				return err
			}
			if d, ok := out["data"].(map[string]any); ok {
				ackID = fmt.Sprint(d["id"])
			}
		} else {
			if _, err := api(http.MethodDelete, "/api/v1/acks", url.Values{"id": {ackID}}); err != nil {
				stopPages()
				return err
			}
			ackID = ""
		}
		got := map[int]time.Duration{}
		wait := time.After(10 * time.Second)
	collect:
		for len(got) < o.streams {
			select {
			case a := <-arrivals:
				if _, seen := got[a.page]; !seen && a.at.After(stored) {
					got[a.page] = a.at.Sub(stored)
				}
			case <-wait:
				break collect
			}
		}
		missing += o.streams - len(got)
		for _, d := range got {
			lat = append(lat, d)
		}
		fmt.Fprintf(stderr, "change %d: %d of %d pages had the new grid\n", c+1, len(got), o.streams)
		time.Sleep(500 * time.Millisecond)
	}
	childCPU1, selfCPU1 := childCPU(cmd.Process.Pid), cpuTime()
	stopPages()
	pages.Wait()

	slices.Sort(lat)
	pct := func(p float64) string {
		if len(lat) == 0 {
			return "-"
		}
		return fmt.Sprintf("%.0f ms", float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds())/1000)
	}
	fmt.Fprintf(stdout, "\nloadcheck -mode live: %s, %d accounts × %d servers × %d alarms, %d open streams, %d changes\n\n",
		o.bin, o.setup.Accounts, o.setup.Servers, o.setup.Alarms, o.streams, o.changes)
	fmt.Fprintf(stdout, "change stored → page has the new grid: p50 %s, p99 %s, max %s over %d page×change (goal p99 ≤ 1 s); %d missed\n",
		pct(0.50), pct(0.99), pct(1), len(lat), missing)
	perChange := func(d time.Duration) string {
		return fmt.Sprintf("%.0f ms", float64(d.Microseconds())/1000/float64(max(o.changes, 1)))
	}
	fmt.Fprintf(stdout, "CPU a change (both on this machine's cores): the dashboard %s, the %d pages (this process) %s\n",
		perChange(childCPU1-childCPU0), o.streams, perChange(selfCPU1-selfCPU0))
	fmt.Fprintf(stdout, "dashboard RSS: %.1f MB with no stream, %.1f MB with %d: %.1f KB a stream (goal ≤ 20 KB)\n",
		rss0, rssN, o.streams, (rssN-rss0)*1024/float64(max(o.streams, 1)))
	return nil
}

type serverRef struct{ user, server string }

// criticalServer finds a server with a CRITICAL alarm through the API.
func criticalServer(api func(method, path string, form url.Values) (map[string]any, error), accts []fakerax.Account) (serverRef, error) {
	for _, a := range accts {
		out, err := api(http.MethodGet, "/api/v1/monitors/"+a.Username+"?small", nil)
		if err != nil {
			return serverRef{}, err
		}
		acct, _ := out[a.Username].(map[string]any)
		values, _ := acct["values"].([]any)
		for _, v := range values {
			m, _ := v.(map[string]any)
			st, _ := m["status"].(map[string]any)
			if bad, _ := st["bad"].(float64); bad > 0 {
				return serverRef{a.Username, fmt.Sprint(m["id"])}, nil
			}
		}
	}
	return serverRef{}, errors.New("no CRITICAL server to acknowledge")
}

// livePage is one open page: its stream, and a grid fetch after each
// event, reported with the time it completed with a new grid.
func livePage(ctx context.Context, streams, grids *http.Client, dash string, opened func(), fetched func(time.Time)) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, dash+"/live", nil)
	resp, err := streams.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("stream: %d", resp.StatusCode)
	}
	opened()
	etag := ""
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if !strings.HasPrefix(sc.Text(), "data: ") {
			continue
		}
		code, tag, err := fetchGrid(ctx, grids, dash, etag, true)
		if err != nil {
			return err
		}
		if code == http.StatusOK {
			etag = tag
			fetched(time.Now())
		}
	}
	return sc.Err()
}

// fetchGrid asks for the wall's grid as htmx does, with etag when it has
// one, and saying so when a live update asked for it (as static/app.js
// does); it answers the status and the grid's ETag.
func fetchGrid(ctx context.Context, c *http.Client, dash, etag string, live bool) (int, string, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, dash+"/", nil)
	req.Header.Set("HX-Request", "true")
	if live {
		req.Header.Set("X-Dashboard-Live", "1")
	}
	req.Header.Set("Accept-Encoding", "gzip")
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("ETag"), nil
}

// settleArrivals drains arrivals until none came for quiet.
func settleArrivals[T any](ch <-chan T, quiet time.Duration) {
	for {
		select {
		case <-ch:
		case <-time.After(quiet):
			return
		}
	}
}

// waitHealthy waits for a 200 from /healthz.
func waitHealthy(ctx context.Context, c *http.Client, dash string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, dash+"/healthz", nil)
		if resp, err := c.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("no 200 from %s/healthz within %s", dash, limit)
}

// childCPU is the CPU time a process has used, user and system.
func childCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// After the command's name in parentheses: state is field 3, utime
	// and stime are 14 and 15, in clock ticks of 1/100 s.
	rest := string(b[strings.LastIndexByte(string(b), ')')+2:])
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}

// childRSS is a process's resident memory in MB.
func childRSS(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return -1
}
