package main

import (
	"context"
	"flag"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"cmdash/migrations"
	"cmdash/monitoring"
	"cmdash/monitoring/fakerax/fakeraxtest"
	"cmdash/monitoring/poller"
	"cmdash/monitoring/rackspace"
	"cmdash/monitoring/sqlite"
)

var demoHours = flag.Int("demo-hours", 1, "BenchmarkDemoHistory: hours of polls to simulate")

// BenchmarkDemoHistory measures the history the demo records: its fake
// Rackspace (demoUpstream, demoAccounts) on a clock of its own, polled every
// 30 s through -demo-hours into a real SQLite file, then the rows and bytes
// of the events table and its indexes, scaled to a day. Run it once:
//
//	go test ./cmd/dashboard -run '^$' -bench DemoHistory -benchtime 1x [-args -demo-hours 24]
func BenchmarkDemoHistory(b *testing.B) {
	const interval = 30 * time.Second
	for b.Loop() {
		ctx := context.Background()
		db, err := sqlite.OpenDB(ctx, filepath.Join(b.TempDir(), "demo.db"), migrations.FS)
		if err != nil {
			b.Fatal(err)
		}
		sealer, _ := sqlite.NewSealer("a benchmark secret that is long enough")
		store := sqlite.NewStore(db, sealer)
		store.SetRetention(monitoring.Retention{MaxAge: 365 * 24 * time.Hour, MaxRows: 1 << 30})

		var mu sync.Mutex
		now := time.Now().Truncate(time.Second)
		clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		cfg := demoUpstream
		cfg.Latency, cfg.Now = 0, clock // the answers are the demo's, only sooner
		fake, ts := fakeraxtest.NewServer(b, cfg)
		client := rackspace.NewClient(fake.IdentityURL(ts.URL), &http.Client{Timeout: 10 * time.Second})
		poller := poller.New(store, client, poller.Config{Interval: interval})
		var ids []int64
		for _, spec := range demoAccounts {
			a := fake.AddAccount(spec)
			acct, err := store.CreateAccount(ctx, a.Username, "", a.APIKey, nil)
			if err != nil {
				b.Fatal(err)
			}
			ids = append(ids, acct.ID)
		}
		steps := int(time.Duration(*demoHours) * time.Hour / interval)
		for step := 0; step <= steps; step++ { // the first poll records nothing
			if step > 0 {
				mu.Lock()
				now = now.Add(interval)
				mu.Unlock()
			}
			for _, id := range ids {
				if err := poller.Poll(ctx, id); err != nil {
					b.Fatal(err)
				}
			}
		}
		var rows, table, indexes int64
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM events`).Scan(&rows); err != nil {
			b.Fatal(err)
		}
		if err := db.QueryRowContext(ctx, `SELECT
			coalesce(sum(CASE WHEN name = 'events' THEN pgsize END), 0),
			coalesce(sum(CASE WHEN name LIKE 'events_%_idx' THEN pgsize END), 0)
			FROM dbstat WHERE name = 'events' OR name LIKE 'events_%_idx'`).Scan(&table, &indexes); err != nil {
			b.Fatal(err)
		}
		var payload float64
		if err := db.QueryRowContext(ctx, `SELECT coalesce(avg(length(kind) + length(server_id) + length(server_label) +
			length(alarm_id) + length(alarm_label) + length(from_state) + length(to_state) + length(status)), 0) FROM events`).Scan(&payload); err != nil {
			b.Fatal(err)
		}
		perDay := 24 / float64(*demoHours)
		b.ReportMetric(float64(rows)/float64(*demoHours), "events/hour")
		b.ReportMetric(float64(rows)*perDay, "events/day")
		b.ReportMetric(float64(table+indexes)/float64(max(rows, 1)), "bytes/event")
		b.ReportMetric(payload, "text-bytes/event")
		b.ReportMetric(float64(table+indexes)*perDay/(1<<20), "MiB/day")
		b.ReportMetric(float64(indexes)*perDay/(1<<20), "index-MiB/day")
		db.Close()
	}
}
