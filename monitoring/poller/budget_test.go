package poller_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"cmdash/monitoring/fakerax"
	"cmdash/monitoring/fakerax/fakeraxtest"
	"cmdash/monitoring/poller"
	"cmdash/monitoring/rackspace"
	"cmdash/monitoring/sqlite/sqlitetest"
)

// TestRequestsPerAccountPerDay counts, against the fake's counters, the
// requests one account of one overview page costs over six hours of polls
// every 30 s on a simulated clock (every read besides the overview comes
// round in whole hours, so a day is four times as many): at most 3,600 a
// day, 7.2 % of Rackspace's 50,000.
func TestRequestsPerAccountPerDay(t *testing.T) {
	t.Parallel()
	clock := sqlitetest.NewClock(time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC))
	store, _ := sqlitetest.Open(t)
	fake, ts := fakeraxtest.NewServer(t, fakerax.Config{Accounts: 1, Servers: 5, Alarms: 3, Seed: 11, Now: clock.Now})
	client := rackspace.NewClient(fake.IdentityURL(ts.URL), &http.Client{Timeout: 10 * time.Second})
	client.Now = clock.Now
	const interval = 30 * time.Second
	p := poller.New(store, client, poller.Config{Interval: interval, Now: clock.Now})
	a := fake.Accounts()[0]
	acct, err := store.CreateAccount(context.Background(), a.Username, "", a.APIKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	const polls = 6 * 3600 / 30
	for range polls {
		if err := p.Poll(context.Background(), acct.ID); err != nil {
			t.Fatal(err)
		}
		clock.Advance(interval)
	}
	c := fake.Counters(a.Username)
	monitoring := c.Overview + c.Suppressions + c.Changelogs + c.Limits + c.NotificationPlans + c.Other
	perDay := 4 * (monitoring + c.Identity)
	t.Logf("six hours: %d overview, %d suppressions, %d changelogs, %d limits, %d notification plans, %d other, %d logins: %d a day (%.1f %% of 50,000)",
		c.Overview, c.Suppressions, c.Changelogs, c.Limits, c.NotificationPlans, c.Other, c.Identity, perDay, float64(perDay)/500)
	if c.Overview != polls {
		t.Errorf("%d overview reads in %d polls", c.Overview, polls)
	}
	if perDay > 3600 {
		t.Errorf("%d requests a day, want at most 3,600", perDay)
	}
	if c.Suppressions < 6*12 || c.Changelogs < 6*12 || c.Limits < 6 || c.NotificationPlans < 6 {
		t.Errorf("reads besides the overview too rare: %+v", c)
	}
}
