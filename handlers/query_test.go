package handlers

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"cmdash/monitoring/fakerax"
)

// TestFilterWordsMatchAlarmsAndExclude drives the filter language through
// the real routes: what the fake serves, polled and stored.
func TestFilterWordsMatchAlarmsAndExclude(t *testing.T) {
	t.Parallel()
	d := newTwoAccounts(t)
	all := append(d.fake.Entities(d.alphaUp.Username), d.fake.Entities(d.bravoUp.Username)...)
	// A check's label that some servers' alarms have and others' do not.
	var word string
	for _, e := range all {
		for _, a := range e.Alarms {
			if w := strings.ToLower(a.CheckLabel); w != "" && !strings.Contains(strings.ToLower(e.Label), w) {
				word = w
				break
			}
		}
		if word != "" {
			break
		}
	}
	has := func(e fakerax.Entity) bool {
		if strings.Contains(strings.ToLower(e.Label+" "+e.ID), word) {
			return true
		}
		for _, a := range e.Alarms {
			label := ""
			if a.Label != nil {
				label = *a.Label
			}
			if strings.Contains(strings.ToLower(label+"\n"+a.CheckLabel), word) {
				return true
			}
		}
		return false
	}
	var with, without []string
	for _, e := range all {
		if has(e) {
			with = append(with, e.ID)
		} else {
			without = append(without, e.ID)
		}
	}
	if word == "" || len(with) == 0 || len(without) == 0 {
		t.Fatalf("the scenario has no check label that splits the servers (%q: %d with, %d without)", word, len(with), len(without))
	}
	shown := func(q string) []string {
		doc := d.page("/?order=name&q=" + url.QueryEscape(q))
		if h := doc.Find(".filter-hint"); h.Length() != 0 {
			t.Errorf("%q: hint %q for a filter it understands", q, h.Text())
		}
		ids := tileIDs(doc.Find("#grid"))
		slices.Sort(ids)
		return ids
	}
	slices.Sort(with)
	slices.Sort(without)
	if got := shown(strings.ToUpper(word)); !slices.Equal(got, with) {
		t.Errorf("%q: tiles\n got %v\nwant %v (the servers with an alarm or check of that label)", word, got, with)
	}
	if got := shown("-" + word); !slices.Equal(got, without) {
		t.Errorf("-%s: tiles\n got %v\nwant %v (the others)", word, got, without)
	}
}

func TestAFilterWordNotUnderstoodIsNamedBesideTheFilter(t *testing.T) {
	t.Parallel()
	d := newTwoAccounts(t)
	const want = "“state:bogus” is not a state: use state:critical, state:warning, state:unknown or state:ok."
	for _, path := range []string{"/?q=web+state:bogus", "/accounts/" + idStr(d.alpha.ID) + "?q=state:bogus", "/wall?q=state:bogus"} {
		t.Run(path, func(t *testing.T) {
			doc := d.page(path)
			hint := doc.Find("#grid .filter-hint")
			if !strings.Contains(hint.Text(), want) {
				t.Errorf("hint %q, want %q in it", hint.Text(), want)
			}
			if doc.Find("#grid .strip").Length() != 1 || doc.Find("#grid li.tile").Length() != 0 {
				t.Error("the grid is not rendered, or shows servers for a filter it does not understand")
			}
		})
	}
	t.Run("the grid a search swaps in carries the hint", func(t *testing.T) {
		rec := d.getHTMX("/?q=sort:size")
		wantStatus(t, rec, http.StatusOK)
		if got := parse(t, rec).Find("#grid .filter-hint").Text(); !strings.Contains(got, "“sort:size” is not an order") {
			t.Errorf("hint %q", got)
		}
	})
	t.Run("the timeline says it too", func(t *testing.T) {
		doc := d.page("/timeline?q=is:acked")
		if got := doc.Find("#timeline .filter-hint").Text(); !strings.Contains(got, "“is:acked” is not understood") {
			t.Errorf("hint %q", got)
		}
	})
	t.Run("a filter it understands has no hint", func(t *testing.T) {
		for _, path := range []string{"/?q=state:critical", "/timeline?q=-web"} {
			if n := d.page(path).Find(".filter-hint").Length(); n != 0 {
				t.Errorf("%s: %d hints", path, n)
			}
		}
	})
}
