package handlers_test

import (
	"encoding/json"
	"testing"

	"cmdash/handlers"
	"cmdash/monitoring/fakerax"
)

func TestAPITellsDisabledAlarmsFromOrphanStates(t *testing.T) {
	t.Parallel()
	// 14 servers × 3 alarms: the fake serves disabled alarms (entity 9,
	// alarm 2) and a latest state whose alarm is gone (entity 5).
	a := newApp(t, handlers.Options{}, fakerax.AccountSpec{Username: "quirks", Servers: 14, Alarms: 3})
	c := a.signedIn()
	type alarmJSON struct {
		Disabled bool                `json:"disabled"`
		Counted  *bool               `json:"counted"`
		Reason   *string             `json:"not_counted_reason"`
		Alarm    struct{ ID string } `json:"alarm"`
	}
	type serverJSON struct {
		Entity struct{ ID string } `json:"entity"`
		Alarms []alarmJSON         `json:"alarms"`
	}
	m := decode[map[string]struct {
		Values []serverJSON `json:"values"`
	}](t, a.do(c, "GET", "/api/v1/monitors/quirks", nil, nil))

	upstream := map[string]map[string]fakerax.Alarm{} // entity → alarm id → alarm
	for _, e := range a.fake.Entities("quirks") {
		upstream[e.ID] = map[string]fakerax.Alarm{}
		for _, al := range e.Alarms {
			upstream[e.ID][al.ID] = al
		}
	}
	check := func(t *testing.T, s serverJSON) (disabled, orphans int) {
		t.Helper()
		for _, got := range s.Alarms {
			up, known := upstream[s.Entity.ID][got.Alarm.ID]
			wantCounted, wantReason := true, ""
			switch {
			case !known:
				orphans++
				wantCounted, wantReason = false, "orphan"
			case up.Disabled:
				disabled++
				wantCounted, wantReason = false, "disabled"
			}
			if got.Disabled != (known && up.Disabled) {
				t.Errorf("%s/%s: disabled %v, Rackspace says %v (known alarm: %v)", s.Entity.ID, got.Alarm.ID, got.Disabled, up.Disabled, known)
			}
			if got.Counted == nil || *got.Counted != wantCounted {
				t.Errorf("%s/%s: counted %v, want %v", s.Entity.ID, got.Alarm.ID, got.Counted, wantCounted)
			}
			reason := ""
			if got.Reason != nil {
				reason = *got.Reason
			}
			if reason != wantReason {
				t.Errorf("%s/%s: not_counted_reason %q, want %q", s.Entity.ID, got.Alarm.ID, reason, wantReason)
			}
		}
		return disabled, orphans
	}

	var disabled, orphans int
	orphanServer := ""
	for _, s := range m["quirks"].Values {
		d, o := check(t, s)
		disabled, orphans = disabled+d, orphans+o
		if o > 0 {
			orphanServer = s.Entity.ID
		}
	}
	if disabled == 0 || orphans == 0 {
		t.Fatalf("the fake served %d disabled alarms and %d orphan states; the test needs both", disabled, orphans)
	}

	t.Run("one server says the same", func(t *testing.T) {
		resp := a.do(c, "GET", "/api/v1/monitors/quirks/"+orphanServer, nil, nil)
		env := decode[struct {
			Data json.RawMessage `json:"data"`
		}](t, resp)
		var s serverJSON
		if err := json.Unmarshal(env.Data, &s); err != nil {
			t.Fatal(err)
		}
		if _, o := check(t, s); o == 0 {
			t.Error("no orphan state on the server that has one")
		}
	})
}
