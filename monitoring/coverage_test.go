package monitoring

import "testing"

func TestBlindSpots(t *testing.T) {
	t.Parallel()
	plans := []NotificationPlan{
		{ID: "npLoud", Critical: []string{"ntPager"}},
		{ID: "npQuiet", Warning: []string{"ntMail"}}, // nobody on CRITICAL
		{ID: TechnicalContactsPlan},                  // empty lists, but it e-mails the contacts
	}
	servers := []Server{
		{ID: "en1", Label: "web-1", Alarms: []Alarm{
			{ID: "al1", Label: "ping", NotificationPlanID: "npLoud"},
			{ID: "al2", Label: "disk", NotificationPlanID: "npQuiet"},
			{ID: "al3", Label: "cpu", NotificationPlanID: TechnicalContactsPlan},
			{ID: "al4", Label: "load", NotificationPlanID: "npLoud", Disabled: true},
			{ID: "al5", Label: "http", NotificationPlanID: "npLoud", Disabled: true, CheckDisabled: true},
			{ID: "al6", Label: "mystery", NotificationPlanID: "npGone"}, // not judged
		}},
		{ID: "en2", Label: "bare"},
		{ID: "en3", Label: "orphans only", Alarms: []Alarm{{ID: "al9", Orphan: true}}},
	}
	got := BlindSpots(servers, plans)
	want := []struct {
		server, alarm string
		why           BlindReason
	}{
		{"en1", "al2", BlindQuietPlan},
		{"en1", "al5", BlindCheckDisabled},
		{"en1", "al4", BlindAlarmDisabled},
		{"en2", "", BlindNoAlarms},
		{"en3", "", BlindNoAlarms},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d blind spots %+v, want %d", len(got), got, len(want))
	}
	for i, w := range want {
		if g := got[i]; g.ServerID != w.server || g.AlarmID != w.alarm || g.Reason != w.why {
			t.Errorf("%d: %s/%s %s, want %s/%s %s", i, g.ServerID, g.AlarmID, g.Reason, w.server, w.alarm, w.why)
		}
	}
	if got[0].Plan == nil || got[0].Plan.ID != "npQuiet" || got[0].Words() == "" {
		t.Errorf("quiet plan spot %+v does not name its plan", got[0])
	}
	if spots := BlindSpots(servers[:1], nil); len(spots) != 2 {
		t.Errorf("without plans: %d spots, want the 2 disabled ones only", len(spots))
	}
	if r, _ := BlindSpotOf(&servers[0].Alarms[0], plans); r != "" {
		t.Errorf("a loud alarm is blind: %s", r)
	}
}

func TestRateLimitPollEvery(t *testing.T) {
	t.Parallel()
	const interval = 30_000_000_000 // 30 s
	tests := []struct {
		rl     RateLimit
		slowed bool
		want   string
	}{
		{RateLimit{}, false, "30s"},
		{RateLimit{Known: true, Limit: 50000, Used: 40000, Remaining: 10000}, false, "30s"}, // 80 %: the rest lasts anyway
		{RateLimit{Known: true, Limit: 50000, Used: 47500, Remaining: 2500}, true, "43.2s"},
		{RateLimit{Known: true, Limit: 50000, Used: 49900, Remaining: 100, Window: "24 hours"}, true, "18m0s"},
		{RateLimit{Known: true, Limit: 50000, Used: 50000, Remaining: 0}, true, "24h0m0s"},
		{RateLimit{Known: true, Limit: 500, Used: 490, Remaining: 10, Window: "1 hour"}, true, "7m30s"},
	}
	for _, tt := range tests {
		every, slowed := tt.rl.PollEvery(interval, 1.25)
		if slowed != tt.slowed || every.String() != tt.want {
			t.Errorf("%+v: every %s (slowed %v), want %s (%v)", tt.rl, every, slowed, tt.want, tt.slowed)
		}
	}
}
