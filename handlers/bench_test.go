package handlers_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"cmdash/handlers"
	"cmdash/migrations"
	"cmdash/monitoring"
)

// BenchmarkDashboardPage renders the full wall page (and the refreshing
// grid fragment) for 50 accounts × 100 servers × 10 alarms from stored
// snapshots, through the whole middleware stack.
func BenchmarkDashboardPage(b *testing.B) {
	ctx := context.Background()
	db, err := monitoring.OpenDB(ctx, filepath.Join(b.TempDir(), "bench.db"), migrations.FS)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	sealer, _ := monitoring.NewSealer("a benchmark secret, long enough")
	store := monitoring.NewStore(db, sealer)
	if _, err := store.CreateUser(ctx, "bench", "bench password"); err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	states := []monitoring.State{monitoring.StateOK, monitoring.StateOK, monitoring.StateOK, monitoring.StateOK, monitoring.StateOK,
		monitoring.StateOK, monitoring.StateOK, monitoring.StateOK, monitoring.StateWarning, monitoring.StateCritical}
	for a := range 50 {
		acct, err := store.CreateAccount(ctx, fmt.Sprintf("account-%02d", a), fmt.Sprintf("Team %02d", a), "key", nil)
		if err != nil {
			b.Fatal(err)
		}
		snap := monitoring.Snapshot{FetchedAt: now}
		for s := range 100 {
			srv := monitoring.Server{ID: fmt.Sprintf("en%02d%06d", a, s), Label: fmt.Sprintf("web-%03d.prod.example.com", s), Worst: monitoring.StateOK}
			for al := range 10 {
				st := monitoring.StateOK
				if (a+s)%7 == 0 {
					st = states[(s+al)%len(states)]
				}
				alarm := monitoring.Alarm{ID: fmt.Sprintf("al%d", al), Label: "CPU usage", CheckLabel: "CPU",
					CheckType: "agent.cpu", State: st, Status: "usage 42%", Since: now.Add(-time.Hour), Evaluated: true}
				srv.Alarms = append(srv.Alarms, alarm)
				srv.Counts.Total++
				switch st {
				case monitoring.StateOK:
					srv.Counts.OK++
				case monitoring.StateWarning:
					srv.Counts.Warning++
				case monitoring.StateCritical:
					srv.Counts.Critical++
				}
				if st.Worse(srv.Worst) {
					srv.Worst = st
				}
			}
			snap.Servers = append(snap.Servers, srv)
		}
		if err := store.SavePollSuccess(ctx, acct.ID, monitoring.PollSuccess{Snapshot: snap, PolledAt: now, NextPoll: now.Add(time.Hour)}); err != nil {
			b.Fatal(err)
		}
	}
	h := handlers.New(store, nil, nil, slog.New(slog.DiscardHandler), handlers.Options{PublicDashboard: true})
	routes := h.Routes()

	for _, tc := range []struct {
		name       string
		htmx, gzip bool
	}{{"full page", false, false}, {"grid fragment", true, false}, {"full page gzip", false, true}} {
		b.Run(tc.name, func(b *testing.B) {
			var size int
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodGet, "/", nil)
				if tc.htmx {
					req.Header.Set("HX-Request", "true")
				}
				if tc.gzip {
					req.Header.Set("Accept-Encoding", "gzip")
				}
				rec := httptest.NewRecorder()
				routes.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d", rec.Code)
				}
				size = rec.Body.Len()
			}
			b.ReportMetric(float64(size), "page-bytes")
		})
	}
}
