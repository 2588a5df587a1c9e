package handlers

import (
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"cmdash/monitoring"
)

// alarmRank is where an alarm belongs on the server page, the first
// element mattering most: counted before not, worst state first, then the
// label, case aside, then the id.
func alarmRank(a monitoring.Alarm) (uncounted bool, state int, label, id string) {
	order := map[monitoring.State]int{"CRITICAL": 0, "WARNING": 1, "UNKNOWN": 2, "OK": 3}
	return !a.Counted(), order[a.State], strings.ToLower(a.Label), a.ID
}

func rankLess(a, b monitoring.Alarm) bool {
	au, as, al, ai := alarmRank(a)
	bu, bs, bl, bi := alarmRank(b)
	switch {
	case au != bu:
		return !au
	case as != bs:
		return as < bs
	case al != bl:
		return al < bl
	}
	return ai < bi
}

func TestServerPageListsAlarmsWorstFirst(t *testing.T) {
	d := newTwoAccounts(t)
	mixed := 0
	for _, ent := range d.fake.Entities(d.alphaUp.Username) {
		snap, err := d.store.SnapshotServer(d.ctx, d.alpha.ID, ent.ID)
		if err != nil || snap == nil || len(snap.Servers) != 1 {
			t.Fatalf("server %s in the store: %v", ent.ID, err)
		}
		byID := map[string]monitoring.Alarm{}
		states := map[monitoring.State]bool{}
		uncounted := false
		for _, a := range snap.Servers[0].Alarms {
			byID[a.ID] = a
			states[a.State] = true
			uncounted = uncounted || !a.Counted()
		}
		if len(states) >= 3 || len(states) >= 2 && uncounted {
			mixed++
		}
		doc := d.page("/accounts/" + idStr(d.alpha.ID) + "/servers/" + url.PathEscape(ent.ID))
		var rows []monitoring.Alarm
		doc.Find("[data-alarm-id]").Each(func(_ int, s *goquery.Selection) {
			rows = append(rows, byID[s.AttrOr("data-alarm-id", "")])
		})
		if len(rows) != len(byID) {
			t.Fatalf("server %s: %d rows, want %d", ent.ID, len(rows), len(byID))
		}
		for i := 1; i < len(rows); i++ {
			if !rankLess(rows[i-1], rows[i]) {
				t.Errorf("server %s: %s (%s %q, counted %v) is listed before %s (%s %q, counted %v)", ent.ID,
					rows[i-1].ID, rows[i-1].State, rows[i-1].Label, rows[i-1].Counted(),
					rows[i].ID, rows[i].State, rows[i].Label, rows[i].Counted())
			}
		}
	}
	if mixed < 3 {
		t.Fatalf("only %d servers mix states or have uncounted alarms; the scenario does not test the order", mixed)
	}
}
