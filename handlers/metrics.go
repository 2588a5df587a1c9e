package handlers

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"cmdash/monitoring"
	"cmdash/monitoring/sqlite"
)

// Metrics is the Prometheus side of the dashboard: poll outcomes (as the
// poller's observer), snapshot ages (read from the store at scrape time) and
// HTTP requests.
type Metrics struct {
	reg          *prometheus.Registry
	pollDuration *prometheus.HistogramVec
	pollErrors   *prometheus.CounterVec
	rateUsed     *prometheus.GaugeVec
	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec
	wallOnce     sync.Once // see WatchWall
}

// NewMetrics registers every metric; store feeds the snapshot-age gauge.
func NewMetrics(store *sqlite.Store) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		pollDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "dashboard_poll_duration_seconds",
			Help:    "Time to fetch one account's complete overview from Rackspace.",
			Buckets: []float64{.1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"account"}),
		pollErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dashboard_poll_errors_total",
			Help: "Failed polls by account and kind (auth, forbidden, throttled, unavailable, bad_response, other).",
		}, []string{"account", "kind"}),
		rateUsed: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "dashboard_upstream_ratelimit_used_ratio",
			Help: "Share of the account's Cloud Monitoring request budget used in the current window (X-RateLimit headers).",
		}, []string{"account"}),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dashboard_http_requests_total",
			Help: "HTTP requests by route pattern, method and status code.",
		}, []string{"route", "method", "code"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "dashboard_http_request_duration_seconds",
			Help:    "HTTP request durations by route pattern.",
			Buckets: []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route", "method"}),
	}
	m.reg.MustRegister(m.pollDuration, m.pollErrors, m.rateUsed, m.httpRequests, m.httpDuration,
		&snapshotAge{store: store, desc: prometheus.NewDesc("dashboard_snapshot_age_seconds",
			"Age of the last good snapshot per account (absent until the first good poll).", []string{"account"}, nil)},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// ObservePoll implements poller.PollObserver.
func (m *Metrics) ObservePoll(account string, d time.Duration, err error, rl monitoring.RateLimit) {
	if err != nil {
		m.pollErrors.WithLabelValues(account, monitoring.ErrorKind(err)).Inc()
		return
	}
	m.pollDuration.WithLabelValues(account).Observe(d.Seconds())
	if rl.Known {
		m.rateUsed.WithLabelValues(account).Set(rl.UsedFraction())
	}
}

// ForgetAccount drops a removed account's series, so its gauges are not
// reported for ever.
func (m *Metrics) ForgetAccount(account string) {
	m.pollDuration.DeletePartialMatch(prometheus.Labels{"account": account})
	m.pollErrors.DeletePartialMatch(prometheus.Labels{"account": account})
	m.rateUsed.DeletePartialMatch(prometheus.Labels{"account": account})
}

// Handler serves /metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
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
		m.httpRequests.WithLabelValues(route, r.Method, strconv.Itoa(sw.status)).Inc()
		m.httpDuration.WithLabelValues(route, r.Method).Observe(time.Since(start).Seconds())
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
	desc  *prometheus.Desc
}

func (c *snapshotAge) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *snapshotAge) Collect(ch chan<- prometheus.Metric) {
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
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, now.Sub(snap.FetchedAt).Seconds(), a.Username)
	}
}
