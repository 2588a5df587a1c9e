package promtext_test

import (
	"bytes"
	"math"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	dto "github.com/prometheus/client_model/go"

	"cmdash/handlers/promtext"
)

// parse reads text as Prometheus does, failing the test on anything it
// refuses.
func parse(t *testing.T, text string) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("the exposition does not parse: %v\n%s", err, text)
	}
	return fams
}

func scrape(r *promtext.Registry) string { return string(r.AppendText(nil)) }

// One of each kind, with labels given out of name order: the whole scrape
// as Prometheus's Go client writes it.
func TestGolden(t *testing.T) {
	r := promtext.NewRegistry()
	req := r.NewCounterVec("app_requests_total", "Requests by route, method and code.", "route", "method", "code")
	req.With("/b", "GET", "200").Inc()
	req.With("/a", "POST", "303").Add(2.5)
	req.With("/a", "GET", "404").Inc()
	req.With("/a", "GET", "200").Inc()
	req.With("/a", "GET", "200").Inc()
	used := r.NewGaugeVec("app_used_ratio", "Share used.", "account")
	used.With("zed").Set(0.25)
	used.With("abe").Set(-1)
	dur := r.NewHistogramVec("app_duration_seconds", "Durations.", []float64{.25, 1, 10}, "account")
	for _, v := range []float64{.125, .25, .5, 1, 3, 32} {
		dur.With("abe").Observe(v)
	}
	r.NewCounterVec("app_errors_total", "Never counted: left out.", "kind")
	up := promtext.NewDesc("app_up", "1 when up.", promtext.GaugeType)
	pauses := promtext.NewDesc("app_pause_seconds", "Pauses.", promtext.SummaryType)
	r.Collect(func(b *promtext.Batch) {
		b.Add(up, 1)
		b.AddSummary(pauses, 3, 0.75, []promtext.Quantile{{Q: 1, V: 0.5}, {Q: 0, V: 0.125}, {Q: 0.5, V: 0.125}})
	}, up, pauses)

	want := `# HELP app_duration_seconds Durations.
# TYPE app_duration_seconds histogram
app_duration_seconds_bucket{account="abe",le="0.25"} 2
app_duration_seconds_bucket{account="abe",le="1"} 4
app_duration_seconds_bucket{account="abe",le="10"} 5
app_duration_seconds_bucket{account="abe",le="+Inf"} 6
app_duration_seconds_sum{account="abe"} 36.875
app_duration_seconds_count{account="abe"} 6
# HELP app_pause_seconds Pauses.
# TYPE app_pause_seconds summary
app_pause_seconds{quantile="0"} 0.125
app_pause_seconds{quantile="0.5"} 0.125
app_pause_seconds{quantile="1"} 0.5
app_pause_seconds_sum 0.75
app_pause_seconds_count 3
# HELP app_requests_total Requests by route, method and code.
# TYPE app_requests_total counter
app_requests_total{code="200",method="GET",route="/a"} 2
app_requests_total{code="200",method="GET",route="/b"} 1
app_requests_total{code="303",method="POST",route="/a"} 2.5
app_requests_total{code="404",method="GET",route="/a"} 1
# HELP app_up 1 when up.
# TYPE app_up gauge
app_up 1
# HELP app_used_ratio Share used.
# TYPE app_used_ratio gauge
app_used_ratio{account="abe"} -1
app_used_ratio{account="zed"} 0.25
`
	got := scrape(r)
	if got != want {
		t.Errorf("scrape:\n%s\nwant:\n%s", got, want)
	}
	if again := scrape(r); again != got {
		t.Errorf("a second scrape differs:\n%s", again)
	}
	parse(t, got)
}

// Label values escape backslash, double quote and newline; help escapes
// backslash and newline; what Prometheus reads back is what was given.
func TestEscaping(t *testing.T) {
	r := promtext.NewRegistry()
	help := "Odd \\ help\nwith \"quotes\"."
	g := r.NewGaugeVec("odd", help, "v")
	values := []string{`back\slash`, `"quoted"`, "new\nline", `all\"` + "\n", "plain", ""}
	for i, v := range values {
		g.With(v).Set(float64(i))
	}
	g.With("bad \xff utf8").Set(9)
	text := scrape(r)
	for _, want := range []string{
		`# HELP odd Odd \\ help\nwith "quotes".` + "\n",
		`odd{v="back\\slash"} 0` + "\n",
		`odd{v="\"quoted\""} 1` + "\n",
		`odd{v="new\nline"} 2` + "\n",
		`odd{v="all\\\"\n"} 3` + "\n",
		`odd{v=""} 5` + "\n",
		"odd{v=\"bad \uFFFD utf8\"} 9\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the scrape lacks %q:\n%s", want, text)
		}
	}
	fam := parse(t, text)["odd"]
	if fam.GetHelp() != help {
		t.Errorf("help reads back as %q, want %q", fam.GetHelp(), help)
	}
	read := map[string]float64{}
	for _, m := range fam.Metric {
		read[m.Label[0].GetValue()] = m.Gauge.GetValue()
	}
	for i, v := range values {
		if got, ok := read[v]; !ok || got != float64(i) {
			t.Errorf("%q reads back as %v (present %v), want %d", v, got, ok, i)
		}
	}
}

// Buckets count observations up to their bound, inclusive, and are
// written cumulative; +Inf takes the rest (NaN too) and equals the count.
func TestHistogramBucketsAreCumulative(t *testing.T) {
	r := promtext.NewRegistry()
	h := r.NewHistogramVec("h", "H.", []float64{1, 2, 5, math.Inf(1)}).With()
	for _, v := range []float64{-3, 0, 1, 1.5, 2, 2.0000001, 5, 6, math.Inf(1), math.NaN()} {
		h.Observe(v)
	}
	fam := parse(t, scrape(r))["h"]
	if fam.GetType() != dto.MetricType_HISTOGRAM {
		t.Fatalf("type %v", fam.GetType())
	}
	hist := fam.Metric[0].Histogram
	var got []string
	for _, b := range hist.Bucket {
		got = append(got, string(promtext.AppendFloat(nil, b.GetUpperBound()))+":"+string(promtext.AppendFloat(nil, float64(b.GetCumulativeCount()))))
	}
	if want := "1:3 2:5 5:7 +Inf:10"; strings.Join(got, " ") != want {
		t.Errorf("buckets %s, want %s", strings.Join(got, " "), want)
	}
	if hist.GetSampleCount() != 10 || !math.IsNaN(hist.GetSampleSum()) {
		t.Errorf("count %d sum %v, want 10 and NaN", hist.GetSampleCount(), hist.GetSampleSum())
	}
}

// Series are sorted by their label values taken in label-name order, and
// families by name, whatever order they were made in.
func TestOrdering(t *testing.T) {
	r := promtext.NewRegistry()
	c := r.NewCounterVec("zz_total", "Z.", "b", "a")
	for _, lv := range [][2]string{{"2", "y"}, {"1", "y"}, {"9", "x"}, {"1", "x"}} {
		c.With(lv[0], lv[1]).Inc()
	}
	r.NewGaugeVec("aa", "A.").With().Set(3)
	r.NewGaugeVec("m_m", "M.", "k").With("v").Set(1e21)
	want := `# HELP aa A.
# TYPE aa gauge
aa 3
# HELP m_m M.
# TYPE m_m gauge
m_m{k="v"} 1e+21
# HELP zz_total Z.
# TYPE zz_total counter
zz_total{a="x",b="1"} 1
zz_total{a="x",b="9"} 1
zz_total{a="y",b="1"} 1
zz_total{a="y",b="2"} 1
`
	if got := scrape(r); got != want {
		t.Errorf("scrape:\n%s\nwant:\n%s", got, want)
	}
}

func TestAppendFloat(t *testing.T) {
	for _, tt := range []struct {
		v    float64
		want string
	}{
		{0, "0"}, {math.Copysign(0, -1), "0"}, {1, "1"}, {-1, "-1"}, {0.1, "0.1"}, {2.5, "2.5"},
		{1e6, "1e+06"}, {123456, "123456"}, {1.5e-7, "1.5e-07"}, {1 << 53, "9.007199254740992e+15"},
		{math.MaxUint64, "1.8446744073709552e+19"}, {math.Inf(1), "+Inf"}, {math.Inf(-1), "-Inf"}, {math.NaN(), "NaN"},
	} {
		if got := string(promtext.AppendFloat(nil, tt.v)); got != tt.want {
			t.Errorf("AppendFloat(%v) = %s, want %s", tt.v, got, tt.want)
		}
	}
}

func TestDeleteMatching(t *testing.T) {
	r := promtext.NewRegistry()
	c := r.NewCounterVec("c_total", "C.", "account", "kind")
	c.With("gone", "auth").Inc()
	c.With("gone", "other").Inc()
	c.With("kept", "auth").Inc()
	if n := c.DeleteMatching("account", "gone"); n != 2 {
		t.Errorf("deleted %d series, want 2", n)
	}
	if n := c.DeleteMatching("nolabel", "kept"); n != 0 {
		t.Errorf("a label the family lacks deleted %d series", n)
	}
	text := scrape(r)
	if strings.Contains(text, "gone") || !strings.Contains(text, `c_total{account="kept",kind="auth"} 1`) {
		t.Errorf("after the delete:\n%s", text)
	}
	c.With("gone", "auth").Inc()
	if !strings.Contains(scrape(r), `c_total{account="gone",kind="auth"} 1`) {
		t.Error("a deleted series does not start again at zero")
	}
}

// Mistakes in names and label counts are programming errors, caught at
// once.
func TestMistakesPanic(t *testing.T) {
	mustPanic := func(what string, f func()) {
		t.Helper()
		defer func() {
			if recover() == nil {
				t.Errorf("%s: no panic", what)
			}
		}()
		f()
	}
	r := promtext.NewRegistry()
	r.NewGaugeVec("taken", "T.", "a")
	mustPanic("bad name", func() { r.NewGaugeVec("1bad", "B.") })
	mustPanic("bad label", func() { r.NewGaugeVec("ok1", "B.", "a-b") })
	mustPanic("reserved label", func() { r.NewGaugeVec("ok2", "B.", "__x") })
	mustPanic("le on a histogram", func() { r.NewHistogramVec("ok3", "B.", []float64{1}, "le") })
	mustPanic("label twice", func() { r.NewGaugeVec("ok4", "B.", "a", "a") })
	mustPanic("too many labels", func() { r.NewGaugeVec("ok5", "B.", "a", "b", "c", "d", "e") })
	mustPanic("buckets not increasing", func() { r.NewHistogramVec("ok6", "B.", []float64{1, 1}) })
	mustPanic("name twice", func() { r.NewGaugeVec("taken", "T.") })
	mustPanic("too few values", func() { r.NewGaugeVec("ok7", "B.", "a", "b").With("x") })
	d := promtext.NewDesc("const", "C.", promtext.GaugeType, "a")
	mustPanic("wrong values at scrape", func() {
		r2 := promtext.NewRegistry()
		r2.Collect(func(b *promtext.Batch) { b.Add(d, 1) }, d)
		r2.Gather()
	})
	mustPanic("a summary added as a gauge", func() {
		s := promtext.NewDesc("s", "S.", promtext.SummaryType)
		r3 := promtext.NewRegistry()
		r3.Collect(func(b *promtext.Batch) { b.Add(s, 1) }, s)
		r3.Gather()
	})
	mustPanic("a histogram described for scrape time", func() { promtext.NewDesc("h", "H.", promtext.HistogramType) })
}

// Counting a request costs no allocation once its series exists.
func TestUpdatesDoNotAllocate(t *testing.T) {
	r := promtext.NewRegistry()
	c := r.NewCounterVec("c_total", "C.", "route", "method", "code")
	h := r.NewHistogramVec("h_seconds", "H.", []float64{.001, .01, .1, 1}, "route", "method")
	route, method, code := "GET /x", "GET", "200"
	c.With(route, method, code).Inc()
	h.With(route, method).Observe(0.002)
	if n := testing.AllocsPerRun(100, func() {
		c.With(route, method, code).Inc()
		h.With(route, method).Observe(0.002)
	}); n != 0 {
		t.Errorf("%v allocations per update, want 0", n)
	}
}

// Concurrent updates and scrapes: every scrape parses, each histogram's
// count is its +Inf bucket, and nothing is lost.
func TestConcurrentUpdatesAndScrapes(t *testing.T) {
	r := promtext.NewRegistry()
	c := r.NewCounterVec("c_total", "C.", "w")
	h := r.NewHistogramVec("h", "H.", []float64{1, 2}, "w")
	g := r.NewGaugeVec("g", "G.", "w")
	const workers, each = 4, 2000
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				name := string(rune('a' + i%3))
				c.With(name).Inc()
				c.With(name).Add(0.5)
				h.With(name).Observe(float64(i%4) * 0.75)
				g.With(name).Add(1)
				if i%500 == 0 && w == 0 {
					for _, m := range parse(t, scrape(r))["h"].Metric {
						if b := m.Histogram.Bucket; b[len(b)-1].GetCumulativeCount() != m.Histogram.GetSampleCount() {
							t.Errorf("+Inf bucket %d, count %d", b[len(b)-1].GetCumulativeCount(), m.Histogram.GetSampleCount())
						}
					}
				}
			}
		})
	}
	wg.Wait()
	fams := parse(t, scrape(r))
	var total, count, gauge float64
	for _, m := range fams["c_total"].Metric {
		total += m.Counter.GetValue()
	}
	for _, m := range fams["h"].Metric {
		count += float64(m.Histogram.GetSampleCount())
	}
	for _, m := range fams["g"].Metric {
		gauge += m.Gauge.GetValue()
	}
	if total != workers*each*1.5 || count != workers*each || gauge != workers*each {
		t.Errorf("counted %v, observed %v, gauged %v; want %v, %v, %v", total, count, gauge, workers*each*1.5, workers*each, workers*each)
	}
}

// The Go runtime's and the process's series keep the names and types of
// the Prometheus Go client's collectors.
func TestRuntimeAndProcessSeries(t *testing.T) {
	r := promtext.NewRegistry()
	r.CollectGo()
	r.CollectProcess()
	runtime.GC()
	text := scrape(r)
	fams := parse(t, text)
	want := map[string]dto.MetricType{
		"go_goroutines": dto.MetricType_GAUGE, "go_threads": dto.MetricType_GAUGE, "go_info": dto.MetricType_GAUGE,
		"go_gc_duration_seconds": dto.MetricType_SUMMARY, "go_memstats_last_gc_time_seconds": dto.MetricType_GAUGE,
		"go_memstats_alloc_bytes": dto.MetricType_GAUGE, "go_memstats_alloc_bytes_total": dto.MetricType_COUNTER,
		"go_memstats_sys_bytes": dto.MetricType_GAUGE, "go_memstats_mallocs_total": dto.MetricType_COUNTER,
		"go_memstats_frees_total": dto.MetricType_COUNTER, "go_memstats_heap_alloc_bytes": dto.MetricType_GAUGE,
		"go_memstats_heap_sys_bytes": dto.MetricType_GAUGE, "go_memstats_heap_idle_bytes": dto.MetricType_GAUGE,
		"go_memstats_heap_inuse_bytes": dto.MetricType_GAUGE, "go_memstats_heap_released_bytes": dto.MetricType_GAUGE,
		"go_memstats_heap_objects": dto.MetricType_GAUGE, "go_memstats_stack_inuse_bytes": dto.MetricType_GAUGE,
		"go_memstats_stack_sys_bytes": dto.MetricType_GAUGE, "go_memstats_mspan_inuse_bytes": dto.MetricType_GAUGE,
		"go_memstats_mspan_sys_bytes": dto.MetricType_GAUGE, "go_memstats_mcache_inuse_bytes": dto.MetricType_GAUGE,
		"go_memstats_mcache_sys_bytes": dto.MetricType_GAUGE, "go_memstats_buck_hash_sys_bytes": dto.MetricType_GAUGE,
		"go_memstats_gc_sys_bytes": dto.MetricType_GAUGE, "go_memstats_other_sys_bytes": dto.MetricType_GAUGE,
		"go_memstats_next_gc_bytes": dto.MetricType_GAUGE, "go_gc_gogc_percent": dto.MetricType_GAUGE,
		"go_gc_gomemlimit_bytes": dto.MetricType_GAUGE, "go_sched_gomaxprocs_threads": dto.MetricType_GAUGE,
	}
	if runtime.GOOS == "linux" {
		for n, typ := range map[string]dto.MetricType{
			"process_cpu_seconds_total": dto.MetricType_COUNTER, "process_open_fds": dto.MetricType_GAUGE,
			"process_max_fds": dto.MetricType_GAUGE, "process_virtual_memory_bytes": dto.MetricType_GAUGE,
			"process_virtual_memory_max_bytes": dto.MetricType_GAUGE, "process_resident_memory_bytes": dto.MetricType_GAUGE,
			"process_start_time_seconds":          dto.MetricType_GAUGE,
			"process_network_receive_bytes_total": dto.MetricType_COUNTER, "process_network_transmit_bytes_total": dto.MetricType_COUNTER,
		} {
			want[n] = typ
		}
	}
	for n, typ := range want {
		f, ok := fams[n]
		if !ok {
			t.Errorf("%s is missing", n)
			continue
		}
		if f.GetType() != typ {
			t.Errorf("%s is a %v, want a %v", n, f.GetType(), typ)
		}
	}
	for n := range fams {
		if _, ok := want[n]; !ok {
			t.Errorf("%s was not expected", n)
		}
	}
	value := func(n string) float64 {
		m := fams[n].Metric[0]
		switch {
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Counter != nil:
			return m.Counter.GetValue()
		}
		return math.NaN()
	}
	if v := value("go_goroutines"); v < 1 {
		t.Errorf("go_goroutines %v", v)
	}
	if v := value("go_memstats_heap_inuse_bytes"); v < value("go_memstats_alloc_bytes") || v > value("go_memstats_sys_bytes") {
		t.Errorf("heap in use %v: not between allocated %v and obtained %v", v, value("go_memstats_alloc_bytes"), value("go_memstats_sys_bytes"))
	}
	if l := fams["go_info"].Metric[0].Label; len(l) != 1 || l[0].GetName() != "version" || l[0].GetValue() != runtime.Version() {
		t.Errorf("go_info labels %v", l)
	}
	gc := fams["go_gc_duration_seconds"].Metric[0].Summary
	if gc.GetSampleCount() < 1 || len(gc.Quantile) != 5 || gc.Quantile[0].GetQuantile() != 0 || gc.Quantile[4].GetQuantile() != 1 || gc.Quantile[4].GetValue() < gc.Quantile[0].GetValue() {
		t.Errorf("go_gc_duration_seconds %v", gc)
	}
	if runtime.GOOS != "linux" {
		return
	}
	now := float64(time.Now().UnixNano())/1e9 + 1 // start times are in clock ticks
	if v := value("process_start_time_seconds"); v > now || v < now-24*3600 {
		t.Errorf("process_start_time_seconds %v, now %v", v, now)
	}
	if v := value("process_resident_memory_bytes"); v < 1<<20 || v > value("process_virtual_memory_bytes") {
		t.Errorf("resident memory %v, virtual %v", v, value("process_virtual_memory_bytes"))
	}
	if v := value("process_open_fds"); v < 3 || v > value("process_max_fds") {
		t.Errorf("open fds %v, max %v", v, value("process_max_fds"))
	}
	if v := value("process_cpu_seconds_total"); v < 0 {
		t.Errorf("cpu seconds %v", v)
	}
	if !bytes.Contains([]byte(text), []byte("# TYPE process_cpu_seconds_total counter\n")) {
		t.Error("no TYPE line for the CPU time")
	}
}

func BenchmarkRequest(b *testing.B) {
	r := promtext.NewRegistry()
	c := r.NewCounterVec("c_total", "C.", "route", "method", "code")
	h := r.NewHistogramVec("h_seconds", "H.", []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}, "route", "method")
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c.With("GET /{$}", "GET", "200").Inc()
			h.With("GET /{$}", "GET").Observe(0.003)
		}
	})
}

func BenchmarkScrape(b *testing.B) {
	r := promtext.NewRegistry()
	r.CollectGo()
	r.CollectProcess()
	c := r.NewCounterVec("c_total", "C.", "route", "method", "code")
	h := r.NewHistogramVec("h_seconds", "H.", []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}, "route", "method")
	for i := range 40 {
		route := "GET /r" + string(rune('a'+i))
		c.With(route, "GET", "200").Inc()
		h.With(route, "GET").Observe(0.003)
	}
	var buf []byte
	for b.Loop() {
		buf = r.AppendText(buf[:0])
	}
}
