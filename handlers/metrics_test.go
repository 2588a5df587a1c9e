package handlers

import (
	"compress/gzip"
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	dto "github.com/prometheus/client_model/go"

	"cmdash/monitoring"
	"cmdash/monitoring/fakerax"
)

// The families dashboards and alerts are built on: their names, types,
// label names and histogram buckets must not change.
var metricFamilies = []struct {
	name    string
	typ     dto.MetricType
	labels  []string // sorted, le left out
	buckets []float64
}{
	{"dashboard_account_stale", dto.MetricType_GAUGE, []string{"account"}, nil},
	{"dashboard_alarms", dto.MetricType_GAUGE, []string{"account", "state"}, nil},
	{"dashboard_http_request_duration_seconds", dto.MetricType_HISTOGRAM, []string{"method", "route"},
		[]float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}},
	{"dashboard_http_requests_total", dto.MetricType_COUNTER, []string{"code", "method", "route"}, nil},
	{"dashboard_poll_duration_seconds", dto.MetricType_HISTOGRAM, []string{"account"}, []float64{.1, .25, .5, 1, 2.5, 5, 10, 30}},
	{"dashboard_poll_errors_total", dto.MetricType_COUNTER, []string{"account", "kind"}, nil},
	{"dashboard_servers", dto.MetricType_GAUGE, []string{"account", "handling", "state"}, nil},
	{"dashboard_snapshot_age_seconds", dto.MetricType_GAUGE, []string{"account"}, nil},
	{"dashboard_upstream_ratelimit_used_ratio", dto.MetricType_GAUGE, []string{"account"}, nil},
	{"go_gc_duration_seconds", dto.MetricType_SUMMARY, nil, nil},
	{"go_goroutines", dto.MetricType_GAUGE, nil, nil},
	{"go_info", dto.MetricType_GAUGE, []string{"version"}, nil},
	{"go_memstats_alloc_bytes", dto.MetricType_GAUGE, nil, nil},
	{"go_memstats_heap_inuse_bytes", dto.MetricType_GAUGE, nil, nil},
	{"go_memstats_sys_bytes", dto.MetricType_GAUGE, nil, nil},
	{"go_threads", dto.MetricType_GAUGE, nil, nil},
}

// /metrics, scraped through the whole handler stack, is text Prometheus
// reads without complaint: every family described, sorted, histograms
// cumulative and ending in +Inf at their count; gzipped when asked.
func TestMetricsExpositionIsValid(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	acct := e.addAccount(e.upstream(fakerax.AccountSpec{Username: "prod", Servers: 6, Alarms: 3, WarningShare: 0.2, CriticalShare: 0.2}), "")
	e.poll(acct.ID)
	m := NewMetrics(e.store)
	e.h.opts.Metrics = m
	m.WatchWall(e.h.wall)
	const odd = "odd \"name\" \\ with\na newline"
	m.ObservePoll("prod", 1500*time.Millisecond, nil, monitoring.RateLimit{Limit: 1000, Used: 250, Known: true})
	m.ObservePoll(odd, 0, errors.New("refused"), monitoring.RateLimit{})
	m.ObservePoll(odd, 40*time.Second, nil, monitoring.RateLimit{})
	for _, p := range []string{"/", "/api/v1/accounts", "/no/such/page"} {
		e.get(p)
	}

	rec := e.get("/metrics")
	wantStatus(t, rec, http.StatusOK)
	if ct := rec.Header().Get("Content-Type"); ct != "text/plain; version=0.0.4; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	text := rec.Body.String()
	fams := parseExposition(t, text)

	var typeLines []string
	for line := range strings.Lines(text) {
		if rest, ok := strings.CutPrefix(line, "# TYPE "); ok {
			typeLines = append(typeLines, strings.Fields(rest)[0])
		}
	}
	if !slices.IsSorted(typeLines) || len(slices.Compact(slices.Clone(typeLines))) != len(typeLines) {
		t.Errorf("families are not sorted and unique: %v", typeLines)
	}
	for _, want := range metricFamilies {
		f, ok := fams[want.name]
		if !ok {
			t.Errorf("%s is missing", want.name)
			continue
		}
		if f.GetType() != want.typ || f.GetHelp() == "" {
			t.Errorf("%s is a %v with help %q, want a %v with help", want.name, f.GetType(), f.GetHelp(), want.typ)
		}
		for _, s := range f.Metric {
			var names []string
			for _, l := range s.Label {
				names = append(names, l.GetName())
			}
			if !slices.Equal(names, want.labels) {
				t.Errorf("%s has labels %v, want %v", want.name, names, want.labels)
			}
		}
	}
	for _, f := range fams {
		if f.GetType() != dto.MetricType_HISTOGRAM {
			continue
		}
		var bounds []float64
		for _, s := range f.Metric {
			h, prev := s.Histogram, uint64(0)
			bounds = bounds[:0]
			for _, b := range h.Bucket {
				if b.GetCumulativeCount() < prev {
					t.Errorf("%s %v: buckets not cumulative", f.GetName(), s.Label)
				}
				prev = b.GetCumulativeCount()
				bounds = append(bounds, b.GetUpperBound())
			}
			if n := len(bounds); n == 0 || !math.IsInf(bounds[n-1], 1) || prev != h.GetSampleCount() {
				t.Errorf("%s %v: the last bucket is %v with %d, count %d", f.GetName(), s.Label, bounds, prev, h.GetSampleCount())
			}
			for _, want := range metricFamilies {
				if want.name == f.GetName() && !slices.Equal(bounds[:len(bounds)-1], want.buckets) {
					t.Errorf("%s buckets %v, want %v", want.name, bounds, want.buckets)
				}
			}
		}
	}

	for _, want := range []string{
		`dashboard_poll_duration_seconds_bucket{account="prod",le="2.5"} 1` + "\n",
		`dashboard_poll_duration_seconds_bucket{account="odd \"name\" \\ with\na newline",le="30"} 0` + "\n",
		`dashboard_poll_errors_total{account="odd \"name\" \\ with\na newline",kind="other"} 1` + "\n",
		`dashboard_upstream_ratelimit_used_ratio{account="prod"} 0.25` + "\n",
		`dashboard_http_requests_total{code="200",method="GET",route="GET /api/v1/accounts"} 1` + "\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	var read []string
	for _, s := range fams["dashboard_poll_errors_total"].Metric {
		read = append(read, s.Label[0].GetValue())
	}
	if !slices.Contains(read, odd) {
		t.Errorf("the odd account reads back as %q", read)
	}

	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	rec = e.do(req)
	if rec.Header().Get("Content-Encoding") != "gzip" {
		t.Fatalf("asked for gzip, got Content-Encoding %q", rec.Header().Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if got := parseExposition(t, string(plain)); len(got) != len(fams) {
		t.Errorf("gzipped: %d families, plain: %d", len(got), len(fams))
	}
}

func parseExposition(t *testing.T, text string) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("/metrics does not parse: %v\n%s", err, text)
	}
	return fams
}
