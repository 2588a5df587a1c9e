package main

// This file is the only one that knows the dashboard's internals: it builds
// the real dashboard in-process, on loopback, the way cmd/dashboard wires it.
// Everything else in loadcheck speaks plain HTTP to the URL it returns.

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
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

// setupConfig sizes the in-process estate.
type setupConfig struct {
	Accounts, Servers, Alarms int
}

const (
	// pollInterval is the shortest the dashboard allows, so the wall is
	// measured under the heaviest polling a deployment can ask for.
	pollInterval = poller.MinPollInterval
	// changeEvery makes alarm states change rarely, as on a calm estate:
	// with the defaults (50,000 alarms) about one change every 20 s
	// somewhere on the wall.
	changeEvery = 24 * time.Hour
	// snapshotWait bounds the wait for every account's first poll.
	snapshotWait = 2 * time.Minute
)

// startInProcess runs the fake Rackspace and the dashboard (temporary SQLite
// database, real poller, real handler stack with a public wall) on
// 127.0.0.1, waits until every account has a snapshot, and returns the
// dashboard's base URL and a function that stops it all.
func startInProcess(ctx context.Context, cfg setupConfig, logw io.Writer) (baseURL string, stop func(), err error) {
	var cleanups []func()
	stop = func() {
		for i := len(cleanups) - 1; i >= 0; i-- {
			cleanups[i]()
		}
	}
	defer func() {
		if err != nil {
			stop()
		}
	}()
	log := slog.New(slog.NewTextHandler(logw, &slog.HandlerOptions{Level: slog.LevelWarn}))

	dir, err := os.MkdirTemp("", "loadcheck-")
	if err != nil {
		return "", nil, err
	}
	cleanups = append(cleanups, func() { os.RemoveAll(dir) })
	db, err := sqlite.OpenDB(ctx, filepath.Join(dir, "loadcheck.db"), migrations.FS)
	if err != nil {
		return "", nil, err
	}
	cleanups = append(cleanups, func() { db.Close() })
	sealer, err := sqlite.NewSealer("loadcheck secret, not a real one")
	if err != nil {
		return "", nil, err
	}
	store := sqlite.NewStore(db, sealer)
	// A user must exist, or every page sends visitors to first-run setup.
	if _, err := store.CreateUser(ctx, "loadcheck", "loadcheck password", monitoring.Admin); err != nil {
		return "", nil, err
	}

	// The fake Rackspace, with the accounts added to the store.
	fake := fakerax.New(fakerax.Config{Seed: 2015, ChangeEvery: changeEvery})
	fakeURL, stopFake, err := serveLoopback(fake)
	if err != nil {
		return "", nil, fmt.Errorf("fake Rackspace: %w", err)
	}
	cleanups = append(cleanups, func() { stopFake(); fake.Close() })
	var ids []int64
	for i := range cfg.Accounts {
		a := fake.AddAccount(fakerax.AccountSpec{
			Username: fmt.Sprintf("account%02d", i+1), Servers: cfg.Servers, Alarms: cfg.Alarms,
			WarningShare: 0.03, CriticalShare: 0.015,
		})
		acct, err := store.CreateAccount(ctx, a.Username, "", a.APIKey, nil)
		if err != nil {
			return "", nil, err
		}
		ids = append(ids, acct.ID)
	}

	// The poller, polling for the whole run.
	metrics := handlers.NewMetrics(store)
	// As cmd/dashboard does: an idle connection per account in flight.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = poller.DefaultConcurrency
	client := rackspace.NewClient(fake.IdentityURL(fakeURL), &http.Client{Transport: tr, Timeout: 30 * time.Second})
	poller := poller.New(store, client, poller.Config{
		Interval: pollInterval, Logger: log, Observer: metrics,
	})
	pollCtx, stopPolling := context.WithCancel(context.Background())
	pollDone := make(chan struct{})
	go func() {
		defer close(pollDone)
		_ = poller.Run(pollCtx)
	}()
	cleanups = append(cleanups, func() { stopPolling(); <-pollDone })

	// The dashboard's handler stack, the wall open to visitors.
	h := handlers.New(store, wall.NewService(store, wall.Options{PollInterval: pollInterval}), poller, client, log, handlers.Options{
		PollInterval: pollInterval, PublicDashboard: true, Metrics: metrics,
	})
	baseURL, stopDashboard, err := serveLoopback(h.Routes())
	if err != nil {
		return "", nil, fmt.Errorf("dashboard: %w", err)
	}
	cleanups = append(cleanups, stopDashboard)

	if err := waitForSnapshots(ctx, store, ids, logw); err != nil {
		return "", nil, err
	}
	return baseURL, stop, nil
}

// waitForSnapshots returns once every account has a snapshot.
func waitForSnapshots(ctx context.Context, store *sqlite.Store, ids []int64, logw io.Writer) error {
	deadline := time.Now().Add(snapshotWait)
	lastShown := -1
	for {
		have := 0
		for _, id := range ids {
			snap, err := store.Summary(ctx, id)
			if err != nil {
				return err
			}
			if snap != nil {
				have++
			}
		}
		if have != lastShown {
			fmt.Fprintf(logw, "first polls: %d of %d accounts have a snapshot\n", have, len(ids))
			lastShown = have
		}
		if have == len(ids) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("only %d of %d accounts have a snapshot after %s: the poller is failing or too slow (see the log above)", have, len(ids), snapshotWait)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}
