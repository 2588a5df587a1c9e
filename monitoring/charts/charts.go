// Package charts reads the metric behind an alarm from Rackspace when
// someone opens a server page, within limits: each chart is kept for a
// while, each account makes only so many such calls an hour, and none
// while its request budget is nearly spent (polling comes first).
package charts

import (
	"context"
	"fmt"
	"sync"
	"time"

	"cmdash/monitoring"
)

// Defaults of Options.
const (
	DefaultCallsPerHour = 120
	DefaultTTL          = 5 * time.Minute
)

// Store gives an account with its credentials and cached token.
type Store interface {
	PollAccount(ctx context.Context, id int64) (monitoring.Account, monitoring.Credentials, *monitoring.Token, error)
}

// Plotter reads a check's metric from Rackspace (rackspace.Client).
type Plotter interface {
	Plot(ctx context.Context, cr monitoring.Credentials, cached *monitoring.Token, q monitoring.PlotQuery) (monitoring.PlotResult, error)
}

// Options bound what charts cost.
type Options struct {
	// CallsPerHour is the most Monitoring requests charts make per account
	// in any hour (DefaultCallsPerHour when 0).
	CallsPerHour int
	// TTL is how long a chart is kept (DefaultTTL when 0).
	TTL time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Chart is an alarm's metric over a range, or why there is none.
type Chart struct {
	Metric monitoring.AlarmMetric
	Range  monitoring.ChartRange
	From   time.Time
	To     time.Time
	Series []monitoring.Series
	// At is when it was read from Rackspace (earlier than now when kept).
	At time.Time
	// Refused says why it was not read: the hourly cap or the budget is
	// spent, the criteria name no metric, the read failed. Empty for a chart.
	Refused string
}

// Empty reports a chart without a single point.
func (c Chart) Empty() bool {
	for _, s := range c.Series {
		if len(s.Points) > 0 {
			return false
		}
	}
	return true
}

// Service reads and keeps charts; it is safe for concurrent use.
type Service struct {
	store   Store
	plotter Plotter
	opts    Options

	mu       sync.Mutex
	kept     map[key]*entry
	calls    map[int64][]time.Time // per account: when each request was made, oldest first
	inFlight map[key]chan struct{}
}

// key is one chart: a check's metric over a range (every zone of it).
type key struct {
	account       int64
	entity, check string
	metric, rng   string
}

type entry struct {
	chart Chart
	until time.Time
}

// New makes a Service.
func New(store Store, plotter Plotter, opts Options) *Service {
	if opts.CallsPerHour <= 0 {
		opts.CallsPerHour = DefaultCallsPerHour
	}
	if opts.TTL <= 0 {
		opts.TTL = DefaultTTL
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Service{store: store, plotter: plotter, opts: opts,
		kept: map[key]*entry{}, calls: map[int64][]time.Time{}, inFlight: map[key]chan struct{}{}}
}

// CallsPerHour is the hourly cap in force.
func (s *Service) CallsPerHour() int { return s.opts.CallsPerHour }

// Chart is the chart of alarm al of entity on account over rng: kept if
// read within the TTL, else read now when the account's cap and budget
// allow. Two asking for the same chart at once make one read.
func (s *Service) Chart(ctx context.Context, account int64, entity string, al monitoring.Alarm, rng monitoring.ChartRange) Chart {
	c := Chart{Range: rng}
	if al.Metric == nil {
		c.Refused = "Its criteria name no metric, so there is nothing to chart."
		return c
	}
	c.Metric = *al.Metric
	k := key{account, entity, al.CheckID, al.Metric.Name, rng.Name}
	for {
		s.mu.Lock()
		now := s.opts.Now()
		if e := s.kept[k]; e != nil && now.Before(e.until) {
			s.mu.Unlock()
			return e.chart
		}
		wait, busy := s.inFlight[k]
		if !busy {
			done := make(chan struct{})
			s.inFlight[k] = done
			s.mu.Unlock()
			c = s.read(ctx, k, al, c)
			s.mu.Lock()
			delete(s.inFlight, k)
			close(done)
			s.mu.Unlock()
			return c
		}
		s.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			c.Refused = "The page stopped waiting for the chart."
			return c
		}
	}
}

// read makes the read for k if the cap and budget allow, and keeps what
// it got (a failure too, for a minute, so a page reloaded does not spend
// the cap on it).
func (s *Service) read(ctx context.Context, k key, al monitoring.Alarm, c Chart) Chart {
	acct, cr, tok, err := s.store.PollAccount(ctx, k.account)
	if err != nil {
		c.Refused = "The account could not be read."
		return c
	}
	if rl := acct.Status.RateLimit; rl.Known && rl.UsedFraction() >= monitoring.SlowAbove {
		c.Refused = fmt.Sprintf("This account has used %.0f %% of its Rackspace request budget: charts wait, polling comes first.", 100*rl.UsedFraction())
		return c
	}
	need := 1
	if al.Remote() {
		need = 4 // the metric list and, usually, three zones
	}
	now := s.opts.Now()
	s.mu.Lock()
	recent := s.recentCalls(k.account, now)
	if len(recent)+need > s.opts.CallsPerHour {
		again := recent[0].Add(time.Hour).Sub(now).Round(time.Minute)
		s.mu.Unlock()
		c.Refused = fmt.Sprintf("Charts of this account have made %d requests to Rackspace in the last hour, the most allowed; more in %s.",
			len(recent), max(again, time.Minute))
		return c
	}
	// Counted before the read: others asking meanwhile see them spent.
	for range need {
		s.calls[k.account] = append(s.calls[k.account], now)
	}
	s.mu.Unlock()

	// To the second: the latest value drawn is the one the alarm just saw.
	c.To = now.Truncate(time.Second)
	c.From = c.To.Add(-k.rngSpan())
	q := monitoring.PlotQuery{EntityID: k.entity, CheckID: k.check, Metric: k.metric, Remote: al.Remote(),
		From: c.From, To: c.To, Resolution: c.Range.Resolution}
	res, err := s.plotter.Plot(ctx, cr, tok, q)
	s.mu.Lock()
	defer s.mu.Unlock()
	// The estimate becomes the count.
	calls := s.calls[k.account]
	calls = calls[:max(len(calls)-need, 0)]
	for range res.Requests {
		calls = append(calls, now)
	}
	s.calls[k.account] = calls
	ttl := s.opts.TTL
	if err != nil {
		c.Refused = "Rackspace did not give the data: " + monitoring.Describe(err)
		ttl = time.Minute
	} else {
		c.Series, c.At = res.Series, now
	}
	s.forgetExpired(now)
	s.kept[k] = &entry{chart: c, until: now.Add(ttl)}
	return c
}

func (k key) rngSpan() time.Duration {
	r, _ := monitoring.ParseChartRange(k.rng)
	return r.Span
}

// recentCalls drops an account's calls older than an hour and returns the
// rest; s.mu is held.
func (s *Service) recentCalls(account int64, now time.Time) []time.Time {
	calls := s.calls[account]
	i := 0
	for i < len(calls) && !calls[i].After(now.Add(-time.Hour)) {
		i++
	}
	calls = calls[i:]
	s.calls[account] = calls
	return calls
}

// forgetExpired drops the charts past their time once there are many;
// s.mu is held.
func (s *Service) forgetExpired(now time.Time) {
	if len(s.kept) < 256 {
		return
	}
	for k, e := range s.kept {
		if !now.Before(e.until) {
			delete(s.kept, k)
		}
	}
}
