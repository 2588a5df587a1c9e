package handlers

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"cmdash/monitoring"
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

// A filter is at most wall.MaxQuery (255) characters wherever it is read:
// longer is a 400 that says so, and never shows the filter back.
func TestAFilterTooLongIsRefusedWithoutShowingItBack(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	up := e.upstream(fakerax.AccountSpec{Username: "longq", Servers: 3, Alarms: 2})
	a := e.addAccount(up, "")
	e.poll(a.ID)
	const marker = "zq9"
	long := func(n int) string { return marker + strings.Repeat("x", n-len(marker)) }
	pages := []string{"/", "/accounts/" + idStr(a.ID), "/wall", "/timeline"}

	refused := func(t *testing.T, rec *httptest.ResponseRecorder) {
		t.Helper()
		wantStatus(t, rec, http.StatusBadRequest)
		if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Errorf("Content-Type %q, want the HTML error page", ct)
		}
		body := rec.Body.String()
		if !strings.Contains(parse(t, rec).Find("main").Text(), "The filter is longer than 255 characters.") {
			t.Errorf("the page does not say the filter is too long and its limit:\n%s", body)
		}
		if strings.Contains(body, marker) || len(body) > 20<<10 {
			t.Errorf("the filter is shown back (%d bytes of page)", len(body))
		}
	}
	for _, path := range pages {
		for _, n := range []int{256, 100 << 10} {
			t.Run(fmt.Sprintf("GET %s with a filter of %d characters", path, n), func(t *testing.T) {
				refused(t, e.get(path+"?q="+url.QueryEscape(long(n))))
			})
		}
		t.Run("GET "+path+" for htmx with a filter too long", func(t *testing.T) {
			refused(t, e.getHTMX(path+"?q="+url.QueryEscape(long(300))))
		})
		t.Run("GET "+path+" with a filter of 255 characters", func(t *testing.T) {
			wantStatus(t, e.get(path+"?q="+url.QueryEscape(long(255))), http.StatusOK)
		})
		t.Run("GET "+path+" counts characters, not bytes", func(t *testing.T) {
			wantStatus(t, e.get(path+"?q="+url.QueryEscape(strings.Repeat("é", 255))), http.StatusOK)
		})
	}
	t.Run("a wall link does not read ?q= at all", func(t *testing.T) {
		plain, _, err := e.store.CreateWallLink(e.ctx, monitoring.WallLink{Name: "TV", Query: "longq"})
		if err != nil {
			t.Fatal(err)
		}
		wantStatus(t, e.anonymous(httptest.NewRequest(http.MethodGet, "/w/"+plain+"?q="+long(300), nil)), http.StatusOK)
	})
	t.Run("saving a filter too long", func(t *testing.T) {
		refused(t, e.post("/filters", url.Values{"name": {"Long"}, "query": {long(256)}}))
		if fs, _ := e.store.ListFilters(e.ctx); len(fs) != 0 {
			t.Errorf("%d filters saved", len(fs))
		}
	})
	t.Run("saving a filter too long in a form too large to read", func(t *testing.T) {
		// Fields go in name order: the query is kept, then "zz" is one
		// too many.
		rec := e.post("/filters", url.Values{"name": {"Long"}, "query": {long(60 << 10)}, "zz": {strings.Repeat("y", 10<<10)}})
		wantStatus(t, rec, http.StatusRequestEntityTooLarge)
		if strings.Contains(rec.Body.String(), marker) {
			t.Error("the form shown again shows the filter back")
		}
	})
	t.Run("saving a filter of 255 characters", func(t *testing.T) {
		wantStatus(t, e.post("/filters", url.Values{"name": {"Longest"}, "query": {long(255)}}), http.StatusSeeOther)
	})
	t.Run("saving a filter too long through the API", func(t *testing.T) {
		req := httptest.NewRequest(http.MethodPost, "/api/v1/filters", strings.NewReader(url.Values{"filter": {long(256)}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := e.do(req)
		wantStatus(t, rec, http.StatusBadRequest)
		var env struct{ Response, Message string }
		if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil || env.Response != "error" || env.Message != "The filter is longer than 255 characters." {
			t.Errorf("envelope %+v (%v)", env, err)
		}
		if strings.Contains(rec.Body.String(), marker) {
			t.Error("the filter is shown back")
		}
	})
}
