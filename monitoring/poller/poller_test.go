package poller_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"cmdash/monitoring"
	"cmdash/monitoring/fakerax"
	"cmdash/monitoring/fakerax/fakeraxtest"
	"cmdash/monitoring/poller"
	"cmdash/monitoring/rackspace"
	"cmdash/monitoring/sqlite/sqlitetest"
)

func TestPollKeepsTheLastGoodSnapshotThroughFailures(t *testing.T) {
	t.Parallel()
	f := sqlitetest.NewPolled(t, fakerax.Config{Accounts: 1, Servers: 12, Alarms: 4, Seed: 4}, 30*time.Second)
	ctx := context.Background()
	id := f.IDs["account1"]

	if err := f.Poller.Poll(ctx, id); err != nil {
		t.Fatalf("first poll: %v", err)
	}
	snap, _ := f.Store.Snapshot(ctx, id)
	if snap == nil || len(snap.Servers) != 12 {
		t.Fatalf("the first poll did not fill a snapshot: %+v", snap)
	}
	good := snap.FetchedAt

	steps := []struct {
		name  string
		fault fakerax.Fault
		words string
	}{
		{"a 503 keeps the snapshot and says Rackspace is unavailable", fakerax.Fault{MonitoringStatus: 503}, "unavailable"},
		{"throttling says so", fakerax.Fault{MonitoringStatus: 429, RetryAfter: 120 * time.Second}, "rate limiting"},
		{"an unreadable body says so", fakerax.Fault{Truncated: true}, "could not read"},
	}
	for i, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			f.Fake.SetFault("account1", st.fault)
			if err := f.Poller.Poll(ctx, id); err == nil {
				t.Fatal("poll succeeded under a fault")
			}
			a, _ := f.Store.Account(ctx, id)
			if a.Status.ErrorCount != i+1 || !strings.Contains(a.Status.LastError, st.words) {
				t.Errorf("status = %+v", a.Status)
			}
			if wait := a.Status.NextPollAt.Sub(a.Status.LastPolledAt); wait < 30*time.Second {
				t.Errorf("no back-off: next poll in %s", wait)
			}
			if st.fault.RetryAfter > 0 && a.Status.NextPollAt.Sub(a.Status.LastPolledAt) < st.fault.RetryAfter {
				t.Errorf("Retry-After %s not honoured", st.fault.RetryAfter)
			}
			s, _ := f.Store.Snapshot(ctx, id)
			if s == nil || !s.FetchedAt.Equal(good) || len(s.Servers) != 12 {
				t.Errorf("the failure touched the last good snapshot")
			}
		})
	}

	t.Run("recovery clears the error", func(t *testing.T) {
		f.Fake.ClearFault("account1")
		if err := f.Poller.Poll(ctx, id); err != nil {
			t.Fatalf("poll after recovery: %v", err)
		}
		a, _ := f.Store.Account(ctx, id)
		if a.Status.ErrorCount != 0 || a.Status.LastError != "" {
			t.Errorf("status after recovery = %+v", a.Status)
		}
	})
}

func TestBackoffDoublesAndHonoursRetryAfter(t *testing.T) {
	t.Parallel()
	const (
		refused = monitoring.KindAuth
		down    = monitoring.KindUnavailable
	)
	tests := []struct {
		n     int
		retry time.Duration
		kind  string
		want  time.Duration
	}{
		{1, 0, refused, 30 * time.Second},
		{2, 0, refused, time.Minute},
		{3, 0, refused, 2 * time.Minute},
		{10, 0, refused, 10 * time.Minute},
		{1, 5 * time.Minute, monitoring.KindThrottled, 5 * time.Minute},
		{1, 365 * 24 * time.Hour, monitoring.KindThrottled, time.Hour}, // a hostile Retry-After is capped
		// Rackspace itself failing: back within two intervals of its recovery.
		{1, 0, down, 30 * time.Second},
		{2, 0, down, time.Minute},
		{10, 0, down, time.Minute},
		{10, 0, monitoring.KindBadResponse, time.Minute},
		{10, 3 * time.Minute, down, 3 * time.Minute}, // unless it asks for longer
	}
	for _, tt := range tests {
		if got := poller.Backoff(30*time.Second, tt.n, tt.retry, tt.kind); got != tt.want {
			t.Errorf("Backoff(30s, %d, %s, %s) = %s, want %s", tt.n, tt.retry, tt.kind, got, tt.want)
		}
	}
	if got := poller.Backoff(20*time.Minute, 1, 0, refused); got != 20*time.Minute {
		t.Errorf("with a 20 min interval a failure retries after %s, sooner than a success would", got)
	}
}

func TestASnapshotThatCannotBeStoredBacksOff(t *testing.T) {
	t.Parallel()
	f := sqlitetest.NewPolled(t, fakerax.Config{Accounts: 1, Servers: 3, Alarms: 2, Seed: 12}, 30*time.Second)
	ctx := context.Background()
	id := f.IDs["account1"]
	if _, err := f.Store.DB().ExecContext(ctx, `CREATE TRIGGER no_room BEFORE INSERT ON snapshots BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END`); err != nil {
		t.Fatal(err)
	}
	if err := f.Poller.Poll(ctx, id); err == nil {
		t.Fatal("poll reported success though the snapshot was not stored")
	}
	a, _ := f.Store.Account(ctx, id)
	if a.Status.ErrorCount != 1 || !strings.Contains(a.Status.LastError, "internal error") {
		t.Errorf("status = %+v, want the storage failure recorded", a.Status)
	}
	if strings.Contains(a.Status.LastError, "disk is full") {
		t.Errorf("the database's own words reached the page: %q", a.Status.LastError)
	}
	if due, _ := f.Store.DueAccounts(ctx, time.Now()); len(due) != 0 {
		t.Error("the account is due again at once: the poller would hammer Rackspace")
	}
	_, tok, _ := f.Store.Credentials(ctx, id)
	if tok == nil {
		t.Error("the token of the failed save was dropped; the next poll logs in again")
	}
}

func TestAPollWithAReplacedKeyIsNotRecorded(t *testing.T) {
	t.Parallel()
	f := sqlitetest.NewPolled(t, fakerax.Config{Accounts: 1, Servers: 3, Alarms: 2, Seed: 13}, 30*time.Second)
	ctx := context.Background()
	id := f.IDs["account1"]
	old, _ := f.Store.Account(ctx, id)
	key := "a-new-key-typed-in-settings"
	if err := f.Store.UpdateAccount(ctx, id, monitoring.AccountUpdate{APIKey: &key, Enabled: true}); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	err := f.Store.SavePollFailure(ctx, id, monitoring.PollFailure{KeyVersion: old.KeyVersion, Message: "rejected", PolledAt: now, NextPoll: now.Add(time.Hour)})
	if !errors.Is(err, monitoring.ErrStalePoll) {
		t.Fatalf("failure with the old key: err = %v, want ErrStalePoll", err)
	}
	err = f.Store.SaveSnapshot(ctx, id, monitoring.Snapshot{FetchedAt: now}, monitoring.PollSuccess{KeyVersion: old.KeyVersion, PolledAt: now, NextPoll: now.Add(time.Hour)})
	if !errors.Is(err, monitoring.ErrStalePoll) {
		t.Fatalf("success with the old key: err = %v, want ErrStalePoll", err)
	}
	a, _ := f.Store.Account(ctx, id)
	if a.Status.ErrorCount != 0 || a.Status.NextPollAt.After(now) {
		t.Errorf("the stale poll changed the status: %+v", a.Status)
	}
}

func TestASlowAccountDoesNotDelayTheOthers(t *testing.T) {
	t.Parallel()
	f := sqlitetest.NewPolled(t, fakerax.Config{Accounts: 3, Servers: 5, Alarms: 3, Seed: 8}, 30*time.Second)
	f.Fake.SetFault("account1", fakerax.Fault{Slow: 20 * time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = f.Poller.Run(ctx) }()
	defer func() { cancel(); wg.Wait() }()

	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		s2, _ := f.Store.Snapshot(ctx, f.IDs["account2"])
		s3, _ := f.Store.Snapshot(ctx, f.IDs["account3"])
		if s2 != nil && s3 != nil {
			s1, _ := f.Store.Snapshot(ctx, f.IDs["account1"])
			if s1 != nil {
				t.Fatal("the slow account finished first; the test proves nothing")
			}
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("the other accounts were not polled while one account was slow")
}

func TestRunPollsNewAccountsAndStopsOnCancel(t *testing.T) {
	t.Parallel()
	f := sqlitetest.NewPolled(t, fakerax.Config{Accounts: 1, Servers: 3, Alarms: 2, Seed: 9}, 30*time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = f.Poller.Run(ctx); close(done) }()

	a := f.Fake.AddAccount(fakerax.AccountSpec{Username: "late", Servers: 2, Alarms: 1})
	acct, err := f.Store.CreateAccount(context.Background(), a.Username, "", a.APIKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	f.Poller.Wake()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if s, _ := f.Store.Snapshot(context.Background(), acct.ID); s != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("an account added while running was not polled")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

func TestATokenFromAFailedPollIsKept(t *testing.T) {
	t.Parallel()
	f := sqlitetest.NewPolled(t, fakerax.Config{Accounts: 1, Servers: 2, Alarms: 1, Seed: 14}, 30*time.Second)
	ctx := context.Background()
	id := f.IDs["account1"]
	f.Fake.SetFault("account1", fakerax.Fault{MonitoringStatus: 503})
	if err := f.Poller.Poll(ctx, id); err == nil {
		t.Fatal("poll succeeded under a fault")
	}
	if _, tok, _ := f.Store.Credentials(ctx, id); tok == nil {
		t.Fatal("the login made before the failure was thrown away")
	}
	f.Fake.ClearFault("account1")
	before := f.Fake.Counters("account1").Identity
	if err := f.Poller.Poll(ctx, id); err != nil {
		t.Fatal(err)
	}
	if got := f.Fake.Counters("account1").Identity - before; got != 0 {
		t.Errorf("the recovery poll logged in %d times; the kept token should serve", got)
	}
}

func TestATokenWhoseEndpointGivesNoAnswerIsDropped(t *testing.T) {
	t.Parallel()
	f := sqlitetest.NewPolled(t, fakerax.Config{Accounts: 1, Servers: 2, Alarms: 1, Seed: 15}, 30*time.Second)
	ctx := context.Background()
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()
	up := f.Fake.Accounts()[0]
	// A valid token pinned to an address where nothing answers, as a
	// failed poll used to store one.
	tok := &monitoring.Token{ID: "pinned", TenantID: up.TenantID, Endpoint: gone.URL + "/v1.0/" + up.TenantID,
		Expires: time.Now().Add(20 * time.Hour), RenewAt: time.Now().Add(19 * time.Hour)}
	id := f.IDs[up.Username]
	if err := f.Store.UpdateAccount(ctx, id, monitoring.AccountUpdate{APIKey: &up.APIKey, Enabled: true, Token: tok}); err != nil {
		t.Fatal(err)
	}
	if err := f.Poller.Poll(ctx, id); err == nil {
		t.Fatal("a poll at a dead address succeeded")
	}
	if _, got, _ := f.Store.Credentials(ctx, id); got != nil {
		t.Fatalf("the token of the unreachable endpoint is still stored: %+v", got)
	}
	if err := f.Poller.Poll(ctx, id); err != nil {
		t.Fatalf("the next poll did not log in afresh: %v", err)
	}
	if c := f.Fake.Counters(up.Username); c.Identity != 1 || c.Overview != 1 {
		t.Errorf("counters %+v, want one login and one overview request", c)
	}
}

func TestRefreshNowDuringAPollPollsAgainWhenItEnds(t *testing.T) {
	t.Parallel()
	f := sqlitetest.NewPolled(t, fakerax.Config{Accounts: 1, Servers: 2, Alarms: 1, Seed: 16}, 30*time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	id := f.IDs["account1"]
	f.Fake.SetFault("account1", fakerax.Fault{Slow: 400 * time.Millisecond})
	done := make(chan struct{})
	go func() { defer close(done); _ = f.Poller.Run(ctx) }()
	defer func() { cancel(); <-done }()

	eventually := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}
	eventually("the first poll to log in", func() bool { return f.Fake.Counters("account1").Identity > 0 })
	if err := f.Poller.RefreshNow(ctx, id); err != nil {
		t.Fatal(err)
	}
	if s, _ := f.Store.Snapshot(ctx, id); s != nil {
		t.Fatal("the first poll ended before the refresh; the test proves nothing")
	}
	// The first poll schedules the next one 30 s away; the refresh asked
	// for during it must not wait for that.
	eventually("a second poll", func() bool { return f.Fake.Counters("account1").Overview >= 2 })
}

// budgetStub serves Identity and one empty overview page with the given
// rate-limit headers.
func budgetStub(t *testing.T, limit, used int) *httptest.Server {
	t.Helper()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Method == http.MethodPost {
			fmt.Fprintf(w, `{"access":{"token":{"id":"tok","expires":"2099-01-01T00:00:00.000-06:00","tenant":{"id":"1"}},
				"serviceCatalog":[{"name":"cloudMonitoring","type":"rax:monitor","endpoints":[{"publicURL":"%s/v1.0/1"}]}]}}`, srv.URL)
			return
		}
		w.Header().Set("X-RateLimit-Limit", strconv.Itoa(limit))
		w.Header().Set("X-RateLimit-Used", strconv.Itoa(used))
		fmt.Fprint(w, `{"values":[],"metadata":{"count":0,"limit":1000,"marker":null,"next_marker":null,"next_href":null}}`)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestPollSlowsDownNearTheDailyBudget(t *testing.T) {
	t.Parallel()
	const interval = 30 * time.Second
	for _, tt := range []struct {
		used     int
		min, max time.Duration
	}{
		// 95 % of 50,000 spent: the 2,500 left must last a day at 1.25
		// requests a poll, one poll every 43.2 s (±10 % jitter).
		{used: 47500, min: 43200 * time.Millisecond * 9 / 10, max: 43200 * time.Millisecond * 11 / 10},
		// 80 % spent: the 10,000 left last a day at the usual pace.
		{used: 40000, min: interval * 9 / 10, max: interval * 11 / 10},
		{used: 5000, min: interval * 9 / 10, max: interval * 11 / 10},
	} {
		store, _ := sqlitetest.Open(t)
		stub := budgetStub(t, 50000, tt.used)
		p := poller.New(store, rackspace.NewClient(stub.URL, stub.Client()), poller.Config{Interval: interval})
		a, err := store.CreateAccount(context.Background(), "u", "", "k", nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Poll(context.Background(), a.ID); err != nil {
			t.Fatal(err)
		}
		got, _ := store.Account(context.Background(), a.ID)
		if wait := got.Status.NextPollAt.Sub(got.Status.LastPolledAt); wait < tt.min || wait > tt.max {
			t.Errorf("%d%% of the budget used: next poll in %s, want %s to %s", tt.used, wait, tt.min, tt.max)
		}
	}
}

func TestASkewedClockOrAShortLivedTokenDoesNotMeanALoginPerPoll(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		identityClock time.Duration // Identity's clock ahead of ours
		ttl           time.Duration
		every         time.Duration
		polls         int
		maxLogins     int
	}{
		{"this machine's clock a day and an hour ahead of Identity's", -25 * time.Hour, 24 * time.Hour, 10 * time.Second, 60, 1},
		{"this machine's clock inside the renewal margin ahead", -23*time.Hour - 55*time.Minute, 24 * time.Hour, 10 * time.Second, 60, 1},
		// Hourly over 30 hours: the token is renewed before it runs out,
		// not used until Monitoring refuses it.
		{"this machine's clock a day behind Identity's", 24 * time.Hour, 24 * time.Hour, time.Hour, 30, 2},
		// 10 minutes of polls, a login half way through each 4-minute token.
		{"tokens that live less than the renewal margin", 0, 4 * time.Minute, 10 * time.Second, 60, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := sqlitetest.NewClock(time.Date(2026, 5, 4, 12, 0, 0, 0, time.UTC))
			store, _ := sqlitetest.Open(t)
			fake, ts := fakeraxtest.NewServer(t, fakerax.Config{Now: clock.Now, IdentityClock: tt.identityClock, TokenTTL: tt.ttl})
			up := fake.AddAccount(fakerax.AccountSpec{Username: "skewed", Servers: 2, Alarms: 1})
			client := rackspace.NewClient(fake.IdentityURL(ts.URL), ts.Client())
			client.Now = clock.Now
			p := poller.New(store, client, poller.Config{Interval: tt.every})
			a, err := store.CreateAccount(t.Context(), up.Username, "", up.APIKey, nil)
			if err != nil {
				t.Fatal(err)
			}
			for i := range tt.polls {
				if err := p.Poll(t.Context(), a.ID); err != nil {
					t.Fatalf("poll %d: %v", i+1, err)
				}
				clock.Advance(tt.every)
			}
			c := fake.Counters(up.Username)
			if c.Identity > tt.maxLogins {
				t.Errorf("%d polls logged in %d times, want at most %d", tt.polls, c.Identity, tt.maxLogins)
			}
			if c.Overview != tt.polls {
				t.Errorf("%d overview requests for %d polls: a token was used after it expired", c.Overview, tt.polls)
			}
		})
	}
}

func TestARecoveryIsLoggedAsASentence(t *testing.T) {
	t.Parallel()
	clock := sqlitetest.NewClock(time.Date(2026, 5, 4, 12, 0, 0, 0, time.UTC))
	store, _ := sqlitetest.Open(t)
	fake, ts := fakeraxtest.NewServer(t, fakerax.Config{Now: clock.Now})
	up := fake.AddAccount(fakerax.AccountSpec{Username: "flaky", Servers: 2, Alarms: 1})
	client := rackspace.NewClient(fake.IdentityURL(ts.URL), ts.Client())
	client.Now = clock.Now
	var logs bytes.Buffer
	p := poller.New(store, client, poller.Config{Interval: 30 * time.Second, Now: clock.Now,
		Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	a, err := store.CreateAccount(t.Context(), up.Username, "", up.APIKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Poll(t.Context(), a.ID); err != nil {
		t.Fatal(err)
	}
	fake.SetFault(up.Username, fakerax.Fault{MonitoringStatus: 503})
	for range 5 {
		clock.Advance(144 * time.Second) // five of them: 12 minutes
		if err := p.Poll(t.Context(), a.ID); err == nil {
			t.Fatal("poll succeeded under a fault")
		}
	}
	fake.ClearFault(up.Username)
	if err := p.Poll(t.Context(), a.ID); err != nil {
		t.Fatal(err)
	}

	var line struct {
		Msg        string
		Account    string
		Failures   int
		FailingFor string `json:"failing_for"`
	}
	for l := range strings.Lines(logs.String()) {
		if strings.Contains(l, "polled again") {
			if err := json.Unmarshal([]byte(l), &line); err != nil {
				t.Fatal(err)
			}
		}
	}
	want := "polled again after 5 failures, 12 min"
	if line.Msg != want || line.Account != "flaky" || line.Failures != 5 || line.FailingFor != "12m0s" {
		t.Errorf("recovery logged as %+v, want %q with account flaky, 5 failures, failing for 12m0s\n%s", line, want, logs.String())
	}
}

func TestHowLongIsSaidInWords(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0 s"},
		{45*time.Second + 300*time.Millisecond, "45 s"},
		{59*time.Second + 600*time.Millisecond, "1 min"},
		{12*time.Minute + 20*time.Second, "12 min"},
		{59*time.Minute + 45*time.Second, "1 h"},
		{2*time.Hour + 5*time.Minute, "2 h 5 min"},
		{23*time.Hour + 59*time.Minute + 50*time.Second, "1 d"},
		{3*24*time.Hour + 4*time.Hour + 10*time.Minute, "3 d 4 h"},
	} {
		if got := poller.HumanDuration(tt.d); got != tt.want {
			t.Errorf("HumanDuration(%s) = %q, want %q", tt.d, got, tt.want)
		}
	}
}
