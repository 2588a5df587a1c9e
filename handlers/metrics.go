package handlers

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"cmdash/handlers/promtext"
	"cmdash/monitoring"
	"cmdash/monitoring/sqlite"
)

// Metrics is the Prometheus side of the dashboard: poll outcomes (as the
// poller's observer), snapshot ages (read from the store at scrape time) and
// HTTP requests, plus the Go runtime's and the process's own series.
type Metrics struct {
	reg          *promtext.Registry
	pollDuration *promtext.HistogramVec
	pollErrors   *promtext.CounterVec
	rateUsed     *promtext.GaugeVec
	httpRequests *promtext.CounterVec
	httpDuration *promtext.HistogramVec
	wallOnce     sync.Once // see WatchWall
}

// NewMetrics registers every metric; store feeds the snapshot-age gauge.
func NewMetrics(store *sqlite.Store) *Metrics {
	reg := promtext.NewRegistry()
	m := &Metrics{
		reg: reg,
		pollDuration: reg.NewHistogramVec("dashboard_poll_duration_seconds",
			"Time to fetch one account's complete overview from Rackspace.",
			[]float64{.1, .25, .5, 1, 2.5, 5, 10, 30}, "account"),
		pollErrors: reg.NewCounterVec("dashboard_poll_errors_total",
			"Failed polls by account and kind (auth, forbidden, throttled, unavailable, bad_response, other).",
			"account", "kind"),
		rateUsed: reg.NewGaugeVec("dashboard_upstream_ratelimit_used_ratio",
			"Share of the account's Cloud Monitoring request budget used in the current window (X-RateLimit headers).",
			"account"),
		httpRequests: reg.NewCounterVec("dashboard_http_requests_total",
			"HTTP requests by route pattern, method and status code.",
			"route", "method", "code"),
		httpDuration: reg.NewHistogramVec("dashboard_http_request_duration_seconds",
			"HTTP request durations by route pattern.",
			[]float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}, "route", "method"),
	}
	age := &snapshotAge{store: store, desc: promtext.NewDesc("dashboard_snapshot_age_seconds",
		"Age of the last good snapshot per account (absent until the first good poll).", promtext.GaugeType, "account")}
	reg.Collect(age.collect, age.desc)
	reg.CollectGo()
	reg.CollectProcess()
	return m
}

// ObservePoll implements poller.PollObserver.
func (m *Metrics) ObservePoll(account string, d time.Duration, err error, rl monitoring.RateLimit) {
	if err != nil {
		m.pollErrors.With(account, monitoring.ErrorKind(err)).Inc()
		return
	}
	m.pollDuration.With(account).Observe(d.Seconds())
	if rl.Known {
		m.rateUsed.With(account).Set(rl.UsedFraction())
	}
}

// ForgetAccount drops a removed account's series, so its gauges are not
// reported for ever.
func (m *Metrics) ForgetAccount(account string) {
	m.pollDuration.DeleteMatching("account", account)
	m.pollErrors.DeleteMatching("account", account)
	m.rateUsed.DeleteMatching("account", account)
}

// Handler serves /metrics in the Prometheus text format (version 0.0.4),
// gzipped when the scraper accepts it.
func (m *Metrics) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := m.reg.AppendText(make([]byte, 0, 64<<10))
		w.Header().Set("Content-Type", promtext.ContentType)
		writeCompressed(w, r, http.StatusOK, body)
	})
}

// Middleware counts requests by the mux pattern that served them (never by
// raw path, which would explode the label set). It must wrap the mux directly.
func (m *Metrics) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		m.httpRequests.With(route, r.Method, strconv.Itoa(sw.status)).Inc()
		m.httpDuration.With(route, r.Method).Observe(time.Since(start).Seconds())
	})
}

// statusWriter remembers the status code written.
type statusWriter struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wroteHeader = true
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// snapshotAge reads snapshot ages from the store at scrape time.
type snapshotAge struct {
	store *sqlite.Store
	desc  *promtext.Desc
}

func (c *snapshotAge) collect(b *promtext.Batch) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	accts, err := c.store.ListAccounts(ctx)
	if err != nil {
		return
	}
	now := time.Now()
	for _, a := range accts {
		if a.Status.LastSuccessAt.IsZero() {
			continue
		}
		snap, err := c.store.Summary(ctx, a.ID)
		if err != nil || snap == nil {
			continue
		}
		b.Add(c.desc, now.Sub(snap.FetchedAt).Seconds(), a.Username)
	}
}
