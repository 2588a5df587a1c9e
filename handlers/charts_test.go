package handlers

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"cmdash/monitoring"
	"cmdash/monitoring/charts"
	"cmdash/monitoring/fakerax"
	"cmdash/views"
)

// chartEnv is a test dashboard with charts on, and a server with CRITICAL
// agent alarms.
func chartEnv(t *testing.T, perHour int) (*testEnv, monitoring.Account, monitoring.Server) {
	t.Helper()
	e := newTestEnv(t)
	e.h.opts.Charts = charts.New(e.store, e.client, charts.Options{CallsPerHour: perHour})
	acct := e.addAccount(e.upstream(fakerax.AccountSpec{Username: "charts", Servers: 12, Alarms: 4, CriticalShare: 0.6}), "")
	e.poll(acct.ID)
	snap, err := e.store.Snapshot(e.ctx, acct.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range snap.Servers {
		n := 0
		for _, a := range s.Alarms {
			if a.State == monitoring.StateCritical && a.Counted() && a.Metric != nil && !a.Remote() {
				n++
			}
		}
		if n >= 2 {
			return e, acct, s
		}
	}
	t.Fatal("no server with two CRITICAL agent alarms")
	return nil, acct, monitoring.Server{}
}

func TestServerPageChartsShowTheFakesSeries(t *testing.T) {
	t.Parallel()
	e, acct, srv := chartEnv(t, 120)
	page := "/accounts/" + strconv.FormatInt(acct.ID, 10) + "/servers/" + srv.ID
	if hx, _ := e.page(page).Find("#charts").Attr("hx-get"); hx != page+"/charts" {
		t.Fatalf("the server page loads its charts from %q", hx)
	}
	before := e.fake.Counters(acct.Username).Plot
	doc := e.page(page + "/charts")
	figs := doc.Find("figure[data-metric]")
	if figs.Length() < 2 {
		t.Fatalf("%d charts for a server with two CRITICAL alarms:\n%s", figs.Length(), doc.Find("#charts").Text())
	}
	plots := e.fake.Counters(acct.Username).Plot - before
	if plots != figs.Length() {
		t.Errorf("%d plot requests for %d charts", plots, figs.Length())
	}

	// The first chart's line is the fake's series: as many points, the
	// same latest value.
	fig := figs.First()
	alarmID, _ := fig.Closest("[data-alarm-id]").Attr("data-alarm-id")
	var al monitoring.Alarm
	for _, a := range srv.Alarms {
		if a.ID == alarmID {
			al = a
		}
	}
	if metric, _ := fig.Attr("data-metric"); metric != al.Metric.Name || fig.Find("svg polyline").Length() != 1 {
		t.Fatalf("chart of %q for alarm %s (%s)", metric, al.ID, al.Metric.Name)
	}
	toMS, _ := fig.Attr("data-to")
	ms, err := strconv.ParseInt(toMS, 10, 64)
	if err != nil {
		t.Fatalf("data-to %q: %v", toMS, err)
	}
	to := time.UnixMilli(ms)
	tok := monitoring.Token{}
	cr, cached, _ := e.store.Credentials(e.ctx, acct.ID)
	if cached != nil {
		tok = *cached
	}
	res, err := e.client.Plot(e.ctx, cr, &tok, monitoring.PlotQuery{EntityID: srv.ID, CheckID: al.CheckID, Metric: al.Metric.Name,
		From: to.Add(-6 * time.Hour), To: to, Resolution: "FULL"})
	if err != nil {
		t.Fatal(err)
	}
	want := res.Series[0].Points
	if got, _ := fig.Find("polyline").Attr("data-points"); got != strconv.Itoa(len(want)) {
		t.Errorf("the line has %s points, the fake served %d", got, len(want))
	}
	if caption := fig.Find("figcaption").Text(); !strings.Contains(caption, "latest "+formatLatest(want[len(want)-1].Value)) {
		t.Errorf("caption %q, the fake's latest value is %v", caption, want[len(want)-1].Value)
	}
	// Thresholds are drawn dashed and labelled; the line is labelled too.
	if fig.Find("line.threshold[stroke-dasharray]").Length() == 0 || !strings.Contains(fig.Find("svg").Text(), "CRIT >") {
		t.Error("no dashed, labelled threshold")
	}

	// Within five minutes nothing is asked again, whoever looks.
	before = e.fake.Counters(acct.Username).Plot
	e.page(page + "/charts")
	e.page(page + "/charts")
	if n := e.fake.Counters(acct.Username).Plot - before; n != 0 {
		t.Errorf("%d plot requests for charts seen a minute ago", n)
	}
	// Another range is another read.
	if e.page(page+"/charts?range=7d").Find("figure[data-metric]").Length() == 0 {
		t.Error("no chart over 7 days")
	}

	// One OK alarm's chart on request.
	for _, a := range srv.Alarms {
		if a.State == monitoring.StateOK && a.Counted() && a.Metric != nil {
			d := e.page(page + "/charts?alarm=" + a.ID)
			if d.Find("[data-alarm-id='"+a.ID+"'] figure[data-metric], [data-alarm-id='"+a.ID+"'] [data-chart-note]").Length() != 1 {
				t.Errorf("no chart for the OK alarm asked for")
			}
			break
		}
	}
}

func formatLatest(v float64) string { return views.ChartValue(v) }

func TestChartsSayWhyThereIsNone(t *testing.T) {
	t.Parallel()
	e, acct, srv := chartEnv(t, 1)
	page := "/accounts/" + strconv.FormatInt(acct.ID, 10) + "/servers/" + srv.ID

	rec := e.get(page + "/charts?range=1y")
	wantStatus(t, rec, http.StatusBadRequest)
	if msg := parse(t, rec).Find("main").Text(); !strings.Contains(msg, `"1y"`) || !strings.Contains(msg, "6h, 24h and 7d") {
		t.Errorf("a bad range says %q", msg)
	}
	wantStatus(t, e.get(page+"/charts?alarm=alNothing"), http.StatusNotFound)

	// A cap of one request an hour: one chart, the others say why not.
	doc := e.page(page + "/charts")
	if doc.Find("figure[data-metric]").Length() != 1 {
		t.Errorf("%d charts under a cap of 1 request an hour", doc.Find("figure[data-metric]").Length())
	}
	if note := doc.Find("[data-chart-note]").First().Text(); !strings.Contains(note, "the most allowed") {
		t.Errorf("the refused chart says %q", note)
	}

	// An alarm not evaluated yet has no data; criteria without a metric
	// have nothing to chart.
	doc.Find("[data-chart-note]").Each(func(_ int, s *goquery.Selection) {
		if strings.TrimSpace(s.Text()) == "" {
			t.Error("an empty note")
		}
	})
}

// Charts cost nothing when they are off.
func TestChartsOff(t *testing.T) {
	t.Parallel()
	e, acct, srv := chartEnv(t, 120)
	e.h.opts.Charts = nil
	doc := e.page("/accounts/" + strconv.FormatInt(acct.ID, 10) + "/servers/" + srv.ID + "/charts")
	if !strings.Contains(doc.Find("#charts").Text(), "turned off") || e.fake.Counters(acct.Username).Plot != 0 {
		t.Error("charts off still read or say nothing")
	}
}

func TestAChartSaysWhenThereIsNoDataOrNoMetric(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	e.h.opts.Charts = charts.New(e.store, e.client, charts.Options{})
	acct := e.addAccount(e.upstream(fakerax.AccountSpec{Username: "quirks", Servers: 40, Alarms: 4}), "")
	e.poll(acct.ID)
	snap, err := e.store.Snapshot(e.ctx, acct.ID)
	if err != nil {
		t.Fatal(err)
	}
	var noMetric, noData struct{ server, alarm string }
	for _, s := range snap.Servers {
		for _, a := range s.Alarms {
			switch {
			case a.Metric == nil && !a.Orphan && noMetric.alarm == "":
				noMetric.server, noMetric.alarm = s.ID, a.ID
			case a.Metric != nil && !a.Evaluated && !a.Orphan && noData.alarm == "":
				noData.server, noData.alarm = s.ID, a.ID
			}
		}
	}
	if noMetric.alarm == "" || noData.alarm == "" {
		t.Fatalf("fixture: no alarm without a metric (%v) or without data (%v)", noMetric, noData)
	}
	note := func(server, alarm string) string {
		doc := e.page("/accounts/" + strconv.FormatInt(acct.ID, 10) + "/servers/" + server + "/charts?alarm=" + alarm)
		if doc.Find("figure[data-metric]").Length() != 0 {
			t.Errorf("alarm %s has a chart", alarm)
		}
		return doc.Find("[data-chart-note]").Text()
	}
	if got := note(noMetric.server, noMetric.alarm); !strings.Contains(got, "criteria name no metric") {
		t.Errorf("criteria without a metric: %q", got)
	}
	if got := note(noData.server, noData.alarm); !strings.Contains(got, "No data for") || !strings.Contains(got, "reported nothing") {
		t.Errorf("a check without data: %q", got)
	}
}
