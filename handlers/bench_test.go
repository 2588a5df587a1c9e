package handlers_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cmdash/handlers"
	"cmdash/migrations"
	"cmdash/monitoring"
	"cmdash/monitoring/sqlite"
	"cmdash/monitoring/wall"
	"cmdash/views"
)

// benchStore is a real SQLite store with 50 accounts × 100 servers × 10
// alarms, one server in seven with problems.
func benchStore(b *testing.B) *sqlite.Store {
	ctx := context.Background()
	db, err := sqlite.OpenDB(ctx, filepath.Join(b.TempDir(), "bench.db"), migrations.FS)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	sealer, _ := sqlite.NewSealer("a benchmark secret, long enough")
	store := sqlite.NewStore(db, sealer)
	if _, err := store.CreateUser(ctx, "bench", "bench password", monitoring.Admin); err != nil {
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
		if err := store.SaveSnapshot(ctx, acct.ID, snap, monitoring.PollSuccess{PolledAt: now, NextPoll: now.Add(time.Hour)}); err != nil {
			b.Fatal(err)
		}
	}
	return store
}

// BenchmarkWall measures the wall for 50 accounts × 100 servers × 10
// alarms: building the read model, rendering the grid (what a change
// costs, once), and serving refreshes from the rendered bytes (what every
// screen costs on every refresh), through the whole middleware stack.
func BenchmarkWall(b *testing.B) {
	store := benchStore(b)
	ctx := context.Background()

	b.Run("build read model", func(b *testing.B) {
		accts, _ := store.ListAccounts(ctx)
		snaps, _ := store.Summaries(ctx)
		filters, _ := store.ListFilters(ctx)
		in := wall.Input{Accounts: accts, Snapshots: snaps, Filters: filters}
		b.ReportAllocs()
		for b.Loop() {
			_ = wall.Build(in, time.Now(), wall.Options{PollInterval: time.Minute})
		}
	})

	svc := wall.NewService(store, wall.Options{PollInterval: time.Hour})
	m, err := svc.Current(ctx)
	if err != nil {
		b.Fatal(err)
	}
	grid := views.Grid{View: m.View(wall.ParseQuery(""), 0), Self: "/", RefreshEvery: 20 * time.Second}
	b.Run("render grid", func(b *testing.B) {
		var buf bytes.Buffer
		b.ReportAllocs()
		for b.Loop() {
			buf.Reset()
			if err := views.GridView(grid).Render(ctx, &buf); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(buf.Len()), "grid-bytes")
		b.ReportMetric(float64(buf.Len())/5000, "bytes/tile")
	})
	b.Run("gzip grid", func(b *testing.B) {
		var buf bytes.Buffer
		_ = views.GridView(grid).Render(ctx, &buf)
		plain := buf.Bytes()
		var out bytes.Buffer
		b.SetBytes(int64(len(plain)))
		for b.Loop() {
			out.Reset()
			zw, _ := gzip.NewWriterLevel(&out, gzip.DefaultCompression)
			_, _ = zw.Write(plain)
			_ = zw.Close()
		}
		b.ReportMetric(float64(out.Len()), "gzip-bytes")
	})

	h := handlers.New(store, wall.NewService(store, wall.Options{PollInterval: time.Hour}), nil, nil, slog.New(slog.DiscardHandler), handlers.Options{PublicDashboard: true, PollInterval: time.Hour})
	routes := h.Routes()
	// A browser session, signed in through the login form.
	login := httptest.NewRecorder()
	form := url.Values{"username": {"bench"}, "password": {"bench password"}}
	lreq := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(form.Encode()))
	lreq.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	routes.ServeHTTP(login, lreq)
	cookies := login.Result().Cookies()
	if len(cookies) == 0 {
		b.Fatalf("no session cookie after signing in (status %d)", login.Code)
	}
	var signedIn bool
	serve := func(b *testing.B, htmx, gz bool, etag string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		if signedIn {
			for _, c := range cookies {
				req.AddCookie(c)
			}
		}
		if htmx {
			req.Header.Set("HX-Request", "true")
		}
		if gz {
			req.Header.Set("Accept-Encoding", "gzip")
		}
		if etag != "" {
			req.Header.Set("If-None-Match", etag)
		}
		rec := httptest.NewRecorder()
		routes.ServeHTTP(rec, req)
		return rec
	}
	for _, tc := range []struct {
		name        string
		htmx, gzip  bool
		conditional bool
		signedIn    bool
		want        int
	}{
		{"full page", false, false, false, false, http.StatusOK},
		{"grid refresh", true, false, false, false, http.StatusOK},
		{"grid refresh gzip", true, true, false, false, http.StatusOK},
		{"grid refresh unchanged (304)", true, true, true, false, http.StatusNotModified},
		{"grid refresh unchanged (304) signed in", true, true, true, true, http.StatusNotModified},
	} {
		b.Run(tc.name, func(b *testing.B) {
			signedIn = tc.signedIn
			etag := ""
			if tc.conditional {
				etag = serve(b, tc.htmx, tc.gzip, "").Header().Get("ETag")
			}
			var size int
			b.ReportAllocs()
			for b.Loop() {
				rec := serve(b, tc.htmx, tc.gzip, etag)
				if rec.Code != tc.want {
					b.Fatalf("status %d, want %d", rec.Code, tc.want)
				}
				size = rec.Body.Len()
			}
			b.ReportMetric(float64(size), "body-bytes")
		})
	}
}
