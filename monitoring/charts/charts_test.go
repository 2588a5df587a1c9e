package charts

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"cmdash/monitoring"
)

type oneAccount struct{ acct monitoring.Account }

func (o *oneAccount) PollAccount(context.Context, int64) (monitoring.Account, monitoring.Credentials, *monitoring.Token, error) {
	return o.acct, monitoring.Credentials{Username: o.acct.Username}, nil, nil
}

// countingPlotter answers every plot with one point per zone, counting the
// requests a real read would make.
type countingPlotter struct {
	mu       sync.Mutex
	requests int
	fail     error
}

func (p *countingPlotter) Plot(_ context.Context, _ monitoring.Credentials, _ *monitoring.Token, q monitoring.PlotQuery) (monitoring.PlotResult, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n, zones := 1, []string{""}
	if q.Remote {
		n, zones = 4, []string{"mzdfw", "mziad", "mzord"}
	}
	p.requests += n
	if p.fail != nil {
		return monitoring.PlotResult{Requests: 1}, p.fail
	}
	var res monitoring.PlotResult
	for _, z := range zones {
		res.Series = append(res.Series, monitoring.Series{Zone: z, Points: []monitoring.Point{{At: q.To.Add(-time.Minute), Value: 42}}})
	}
	res.Requests = n
	return res, nil
}

func TestChartsAreKeptAndCapped(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	p := &countingPlotter{}
	s := New(&oneAccount{monitoring.Account{ID: 1, Username: "acme"}}, p, Options{CallsPerHour: 10, Now: clock})
	disk := monitoring.Alarm{ID: "al1", CheckID: "ch1", CheckType: "agent.filesystem", Metric: &monitoring.AlarmMetric{Name: "used_pct"}}
	ctx := context.Background()
	six := monitoring.ChartRanges[0]

	c := s.Chart(ctx, 1, "en1", disk, six)
	if c.Refused != "" || len(c.Series) != 1 || p.requests != 1 {
		t.Fatalf("first chart: %+v, %d requests", c, p.requests)
	}
	// Within five minutes: kept, no request.
	now = now.Add(4 * time.Minute)
	if c := s.Chart(ctx, 1, "en1", disk, six); c.Refused != "" || p.requests != 1 {
		t.Errorf("a second view within 5 min made a request (%d)", p.requests)
	}
	// Another range is another chart; after five minutes it is read again.
	s.Chart(ctx, 1, "en1", disk, monitoring.ChartRanges[1])
	now = now.Add(2 * time.Minute)
	s.Chart(ctx, 1, "en1", disk, six)
	if p.requests != 3 {
		t.Errorf("%d requests, want 3", p.requests)
	}

	// The cap: a remote chart costs 4; 3 + 4 = 7 fits, another 4 does not.
	ping := monitoring.Alarm{ID: "al2", CheckID: "ch2", CheckType: "remote.ping", Metric: &monitoring.AlarmMetric{Name: "available"}}
	if c := s.Chart(ctx, 1, "en1", ping, six); c.Refused != "" || len(c.Series) != 3 {
		t.Fatalf("remote chart: %+v", c)
	}
	other := ping
	other.CheckID = "ch3"
	c = s.Chart(ctx, 1, "en1", other, six)
	if !strings.Contains(c.Refused, "7 requests to Rackspace in the last hour") || p.requests != 7 {
		t.Errorf("over the cap: %q, %d requests", c.Refused, p.requests)
	}
	// An hour after the first calls, room again.
	now = now.Add(55 * time.Minute)
	if c := s.Chart(ctx, 1, "en1", other, six); c.Refused != "" {
		t.Errorf("an hour later: %q", c.Refused)
	}
}

func TestNoChartWithoutAMetricOrBudget(t *testing.T) {
	t.Parallel()
	p := &countingPlotter{}
	store := &oneAccount{monitoring.Account{ID: 1}}
	store.acct.Status.RateLimit = monitoring.RateLimit{Known: true, Limit: 50000, Used: 45000}
	s := New(store, p, Options{})
	ctx := context.Background()
	if c := s.Chart(ctx, 1, "en1", monitoring.Alarm{CheckID: "ch1"}, monitoring.ChartRanges[0]); !strings.Contains(c.Refused, "name no metric") {
		t.Errorf("no metric: %q", c.Refused)
	}
	al := monitoring.Alarm{CheckID: "ch1", Metric: &monitoring.AlarmMetric{Name: "x"}}
	if c := s.Chart(ctx, 1, "en1", al, monitoring.ChartRanges[0]); !strings.Contains(c.Refused, "90 % of its Rackspace request budget") || p.requests != 0 {
		t.Errorf("budget nearly spent: %q, %d requests", c.Refused, p.requests)
	}
	store.acct.Status.RateLimit.Used = 100
	p.fail = errors.New("boom")
	if c := s.Chart(ctx, 1, "en1", al, monitoring.ChartRanges[0]); !strings.HasPrefix(c.Refused, "Rackspace did not give the data") {
		t.Errorf("a failed read: %q", c.Refused)
	}
	// A failure is kept for a minute: a reload does not spend the cap on it.
	s.Chart(ctx, 1, "en1", al, monitoring.ChartRanges[0])
	if p.requests != 1 {
		t.Errorf("%d requests after a failure and a reload, want 1", p.requests)
	}
}

func TestTwoPagesAskingAtOnceMakeOneRead(t *testing.T) {
	t.Parallel()
	p := &countingPlotter{}
	s := New(&oneAccount{monitoring.Account{ID: 1}}, p, Options{})
	al := monitoring.Alarm{CheckID: "ch1", Metric: &monitoring.AlarmMetric{Name: "x"}}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() { s.Chart(context.Background(), 1, "en1", al, monitoring.ChartRanges[0]) })
	}
	wg.Wait()
	if p.requests != 1 {
		t.Errorf("%d requests for one chart asked 8 times at once", p.requests)
	}
}
