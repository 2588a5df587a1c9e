package rackspace_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"cmdash/monitoring"
	"cmdash/monitoring/rackspace"
)

// The wire JSON below is written from the upstream facts: the
// documentation's examples (fixed where they are not JSON) and the quirks
// the client libraries' fixtures show.

// rax is a loopback Rackspace: Identity hands out tokens tok1, tok2, …,
// Monitoring answers each call with the handler registered for its path,
// once the token is accepted. It records every Monitoring request.
type rax struct {
	ts *httptest.Server

	mu        sync.Mutex
	logins    int
	rejected  map[string]bool // tokens Monitoring answers 401
	rejectAll bool
	handlers  map[string]func(w http.ResponseWriter, q url.Values, n int) // by path below the endpoint; n counts its calls answered, from 1
	served    map[string]int
	reqs      []*http.Request
}

func newRax(t *testing.T) *rax {
	t.Helper()
	r := &rax{rejected: map[string]bool{}, served: map[string]int{},
		handlers: map[string]func(http.ResponseWriter, url.Values, int){}}
	r.ts = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.ts.Close)
	return r
}

func (r *rax) serve(w http.ResponseWriter, req *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if req.Method == http.MethodPost && req.URL.Path == "/v2.0/tokens" {
		r.mu.Lock()
		r.logins++
		id := fmt.Sprintf("tok%d", r.logins)
		r.mu.Unlock()
		_, _ = w.Write([]byte(`{"access":{"token":{"id":"` + id + `","expires":"2099-01-01T00:00:00.000-06:00","tenant":{"id":"123456"}},` +
			`"serviceCatalog":[{"name":"cloudMonitoring","type":"rax:monitor","endpoints":[{"tenantId":"123456","publicURL":"` + r.endpoint() + `"}]}]}}`))
		return
	}
	path, ok := strings.CutPrefix(req.URL.Path, "/v1.0/123456")
	if !ok || req.Method != http.MethodGet {
		http.NotFound(w, req)
		return
	}
	r.mu.Lock()
	r.reqs = append(r.reqs, req)
	reject := r.rejectAll || r.rejected[req.Header.Get("X-Auth-Token")]
	if !reject {
		r.served[path]++
	}
	n := r.served[path]
	h := r.handlers[path]
	r.mu.Unlock()
	if reject {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"type":"unauthorizedError","code":401,"message":"Unable to authenticate user with credentials provided.","details":"","txnId":".rh-x"}`))
		return
	}
	if h == nil {
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"type":"notFoundError","code":"404","message":"Object does not exist","details":"no such call"}`))
		return
	}
	h(w, req.URL.Query(), n)
}

func (r *rax) endpoint() string { return r.ts.URL + "/v1.0/123456" }

// on serves path with the bodies in turn (the last one again after that),
// each with a rate limit header counting down from 49990.
func (r *rax) on(path string, bodies ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.handlers[path] = func(w http.ResponseWriter, _ url.Values, n int) {
		w.Header().Set("X-Ratelimit-Limit", "50000")
		w.Header().Set("X-Ratelimit-Remaining", strconv.Itoa(49990-n))
		w.Header().Set("X-Ratelimit-Window", "24 hours")
		_, _ = w.Write([]byte(bodies[min(n, len(bodies))-1]))
	}
}

// handle serves path with h.
func (r *rax) handle(path string, h func(w http.ResponseWriter, q url.Values, n int)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.handlers[path] = h
}

// calls lists the Monitoring requests made, as "path?query token".
func (r *rax) calls() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, q := range r.reqs {
		out = append(out, strings.TrimPrefix(q.URL.Path, "/v1.0/123456")+"?"+q.URL.RawQuery+" "+q.Header.Get("X-Auth-Token"))
	}
	return out
}

func (r *rax) loginCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.logins
}

func (r *rax) count(path string) int {
	n := 0
	for _, c := range r.calls() {
		if strings.HasPrefix(c, path+"?") {
			n++
		}
	}
	return n
}

func (r *rax) client() *rackspace.Client {
	c := rackspace.NewClient(r.ts.URL+"/v2.0", r.ts.Client())
	c.Now = func() time.Time { return readAt }
	return c
}

// token is the token the overview fetch used.
func (r *rax) token() monitoring.Token {
	return monitoring.Token{ID: "tok0", TenantID: "123456", Endpoint: r.endpoint(), Expires: readAt.Add(time.Hour)}
}

var (
	readAt = time.Date(2026, 12, 1, 12, 0, 0, 123456789, time.UTC)
	creds  = monitoring.Credentials{Username: "ops", APIKey: "k"}
	all    = monitoring.Reads{Suppressions: true, Changelogs: true, Limits: true, Plans: true, ChangelogsFrom: readAt.Add(-time.Hour)}
)

// Suppressions in two pages: the first with next_marker and a null
// next_href; the last without a next_marker key at all.
const (
	suppressionsPage1 = `{"values":[
  {"id":"spAAAAA","notification_plans":["npfooBar"],"entities":[],"checks":["en123:ch123"],"alarms":[],"start_time":1378492433027,"end_time":1378496033027},
  {"id":"spBBBBB","label":"kernel upgrade","entities":["enWeb1","enWeb2"],"checks":null,"alarms":["enDb:alRepl"],"notification_plans":null,"start_time":"1764590400000","end_time":"1764597600000"}],
 "metadata":{"count":2,"limit":2,"marker":null,"next_marker":"spCCCCC","next_href":null}}`
	suppressionsPage2 = `{"values":[
  {"id":"spCCCCC","label":null,"start_time":0,"end_time":0},
  {"id":"spDDDDD","entities":["enX"],"start_time":1764597600000,"end_time":1764590400000,"created_at":1764590000000}],
 "metadata":{"count":2,"limit":2,"marker":"spCCCCC","next_href":null}}`
)

// Changelogs in two pages, the second out of order, with the documented
// example, string timestamps, missing previous_state and status, a null
// zone, and entries without an alarm or an entity.
const (
	changelogsPage1 = `{"values":[
  {"id":"4c5e28f0-0b3f-11e1-860d-c55c4705a286","timestamp":1764583200000,"entity_id":"enPhid7noo","alarm_id":"alahf9vuNa","check_id":"chIe7vohba","state":"WARNING","analyzed_by_monitoring_zone_id":"DFW"},
  {"id":"5a628ca0-8ca4-11e3-811c-fb1e1c039d36","timestamp":"1764586800000","entity_id":"enPhid7noo","alarm_id":"alahf9vuNa","check_id":"chIe7vohba","state":"CRITICAL","previous_state":"WARNING","status":"matched return statement on line 6","analyzed_by_monitoring_zone_id":null},
  {"id":"noalarm","timestamp":1764586800001,"entity_id":"enPhid7noo","check_id":"chIe7vohba","state":"OK"}],
 "metadata":{"count":3,"limit":1000,"marker":null,"next_marker":"5a628ca0-8ca4-11e3-811c-fb1e1c039d37","next_href":null}}`
	changelogsPage2 = `{"values":[
  {"id":"6b","timestamp":1764590400000,"entity_id":"enPhid7noo","alarm_id":"alahf9vuNa","check_id":"chIe7vohba","state":"OK","previous_state":"CRITICAL","status":"back to normal","analyzed_by_monitoring_zone_id":"mzord"},
  {"id":"6a","timestamp":1764588600000,"entity_id":"enOther","alarm_id":"alOther","state":"bogus","previous_state":"UNKNOWN"},
  {"id":"noentity","timestamp":1764588600000,"alarm_id":"alOther","state":"OK"}],
 "metadata":{"count":3,"limit":1000,"marker":"5a628ca0-8ca4-11e3-811c-fb1e1c039d37","next_marker":null,"next_href":null}}`
)

const limitsBody = `{"resource":{"checks":150,"alarms":50},
 "rate":{"global":{"limit":50000,"used":500,"window":"24 hours"},
         "test_check":{"limit":500,"used":5,"window":"24 hours"},
         "test_alarm":{"limit":500,"used":2,"window":"24 hours"}}}`

// The libcloud fixture: a null label and null state lists, and metadata
// without next_marker; plus a plan without an id.
const plansBody = `{"values":[
  {"id":"npIXxOAn5","label":"test-notification-plan","critical_state":["ntvJMd0gcG"],"warning_state":["ntvJMd0gcG"],"ok_state":["ntvJMd0gcG"],"metadata":{"cli":"rackmoncli"}},
  {"id":"npQzgFrC02","label":null,"critical_state":null,"warning_state":null,"ok_state":["ntPRYhYaMV"]},
  {"id":"npTechnicalContactsEmail","label":"Technical Contacts - Email","critical_state":[],"warning_state":[],"ok_state":[]},
  {"label":"no id"}],
 "metadata":{"count":4,"limit":100,"marker":null,"next_href":null}}`

// serveAll registers the four calls with their documented answers.
func serveAll(r *rax) {
	r.on("/suppressions", suppressionsPage1, suppressionsPage2)
	r.on("/changelogs/alarms", changelogsPage1, changelogsPage2)
	r.on("/limits", limitsBody)
	r.handle("/notification_plans", func(w http.ResponseWriter, _ url.Values, _ int) {
		_, _ = w.Write([]byte(plansBody)) // no rate limit headers
	})
}

func ms(v int64) time.Time { return time.UnixMilli(v).UTC() }

func TestReadExtrasReadsWhatRackspaceKnows(t *testing.T) {
	t.Parallel()
	r := newRax(t)
	serveAll(r)
	ex, meta := r.client().ReadExtras(context.Background(), creds, r.token(), all)

	for name, rd := range map[string]struct {
		done bool
		err  error
	}{
		"suppressions": {ex.Suppressions.Done, ex.Suppressions.Err}, "changelogs": {ex.Changelogs.Done, ex.Changelogs.Err},
		"limits": {ex.Limits.Done, ex.Limits.Err}, "plans": {ex.Plans.Done, ex.Plans.Err},
	} {
		if !rd.done || rd.err != nil {
			t.Errorf("%s: done %v, err %v", name, rd.done, rd.err)
		}
	}

	t.Run("suppressions, through a last page without next_marker", func(t *testing.T) {
		want := []monitoring.Suppression{
			{ID: "spAAAAA", Start: ms(1378492433027), End: ms(1378496033027), Entities: []string{}, Checks: []string{"en123:ch123"}, Alarms: []string{}, NotificationPlans: []string{"npfooBar"}},
			{ID: "spBBBBB", Label: "kernel upgrade", Start: ms(1764590400000), End: ms(1764597600000), Entities: []string{"enWeb1", "enWeb2"}, Alarms: []string{"enDb:alRepl"}},
			// 0 is the epoch, not "now" nor "open-ended".
			{ID: "spCCCCC", Start: time.Unix(0, 0).UTC(), End: time.Unix(0, 0).UTC()},
			// Ending before it starts: kept, callers decide.
			{ID: "spDDDDD", Start: ms(1764597600000), End: ms(1764590400000), Entities: []string{"enX"}},
		}
		if !reflect.DeepEqual(ex.Suppressions.Value, want) {
			t.Errorf("got\n%+v\nwant\n%+v", ex.Suppressions.Value, want)
		}
		if s := ex.Suppressions.Value; len(s) == 4 && (s[0].Start.Location() != time.UTC || s[2].Start.IsZero()) {
			t.Errorf("times not in UTC, or a 0 read as no time: %v %v", s[0].Start, s[2].Start)
		}
	})

	t.Run("changelogs, oldest first, entries without alarm or entity skipped", func(t *testing.T) {
		want := monitoring.Changelog{Through: ms(readAt.UnixMilli()), Entries: []monitoring.ChangelogEntry{
			{ID: "4c5e28f0-0b3f-11e1-860d-c55c4705a286", At: ms(1764583200000), EntityID: "enPhid7noo", CheckID: "chIe7vohba", AlarmID: "alahf9vuNa", State: monitoring.StateWarning},
			{ID: "5a628ca0-8ca4-11e3-811c-fb1e1c039d36", At: ms(1764586800000), EntityID: "enPhid7noo", CheckID: "chIe7vohba", AlarmID: "alahf9vuNa",
				State: monitoring.StateCritical, PreviousState: monitoring.StateWarning, Status: "matched return statement on line 6"},
			{ID: "6a", At: ms(1764588600000), EntityID: "enOther", AlarmID: "alOther", State: monitoring.StateUnknown, PreviousState: monitoring.StateUnknown},
			{ID: "6b", At: ms(1764590400000), EntityID: "enPhid7noo", CheckID: "chIe7vohba", AlarmID: "alahf9vuNa",
				State: monitoring.StateOK, PreviousState: monitoring.StateCritical, Status: "back to normal"},
		}}
		if !reflect.DeepEqual(ex.Changelogs.Value, want) {
			t.Errorf("got\n%+v\nwant\n%+v", ex.Changelogs.Value, want)
		}
	})

	t.Run("limits: the global budget and the resources", func(t *testing.T) {
		want := monitoring.Limits{
			Rate:      monitoring.RateLimit{Limit: 50000, Used: 500, Remaining: 49500, Window: "24 hours", Known: true},
			Resources: map[string]int{"checks": 150, "alarms": 50},
		}
		if !reflect.DeepEqual(ex.Limits.Value, want) {
			t.Errorf("got %+v, want %+v", ex.Limits.Value, want)
		}
	})

	t.Run("notification plans, null labels and lists read as none", func(t *testing.T) {
		want := []monitoring.NotificationPlan{
			{ID: "npIXxOAn5", Label: "test-notification-plan", Critical: []string{"ntvJMd0gcG"}, Warning: []string{"ntvJMd0gcG"}, OK: []string{"ntvJMd0gcG"}},
			{ID: "npQzgFrC02", OK: []string{"ntPRYhYaMV"}},
			{ID: "npTechnicalContactsEmail", Label: "Technical Contacts - Email", Critical: []string{}, Warning: []string{}, OK: []string{}},
		}
		if !reflect.DeepEqual(ex.Plans.Value, want) {
			t.Errorf("got\n%+v\nwant\n%+v", ex.Plans.Value, want)
		}
	})

	t.Run("the requests: in order, paged by marker, with the token", func(t *testing.T) {
		from, to := readAt.Add(-time.Hour).UnixMilli(), readAt.UnixMilli()
		want := []string{
			"/suppressions?limit=1000 tok0",
			"/suppressions?limit=1000&marker=spCCCCC tok0",
			fmt.Sprintf("/changelogs/alarms?from=%d&limit=1000&to=%d tok0", from, to),
			fmt.Sprintf("/changelogs/alarms?from=%d&limit=1000&marker=5a628ca0-8ca4-11e3-811c-fb1e1c039d37&to=%d tok0", from, to),
			"/limits? tok0",
			"/notification_plans?limit=1000 tok0",
		}
		if got := r.calls(); !reflect.DeepEqual(got, want) {
			t.Errorf("calls\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, req := range r.reqs {
			if req.Header.Get("Accept") != "application/json" {
				t.Errorf("%s: Accept %q", req.URL, req.Header.Get("Accept"))
			}
		}
	})

	t.Run("meta: the same token, no login, the last rate limit stated", func(t *testing.T) {
		want := rackspace.ExtrasMeta{Token: r.token(), Requests: 6,
			// /limits was the last answer with headers: its first call.
			RateLimit: monitoring.RateLimit{Limit: 50000, Used: 11, Remaining: 49989, Window: "24 hours", Known: true}}
		if meta != want {
			t.Errorf("meta %+v, want %+v", meta, want)
		}
	})
}

func TestReadExtrasMakesOnlyTheReadsAskedFor(t *testing.T) {
	t.Parallel()
	r := newRax(t)
	serveAll(r)
	c := r.client()
	ex, meta := c.ReadExtras(context.Background(), creds, r.token(), monitoring.Reads{})
	if !reflect.DeepEqual(ex, monitoring.Extras{}) || meta.Requests != 0 || len(r.calls()) != 0 {
		t.Errorf("nothing asked, but got %+v after %v", ex, r.calls())
	}
	ex, _ = c.ReadExtras(context.Background(), creds, r.token(), monitoring.Reads{Limits: true})
	if !ex.Limits.Done || ex.Limits.Err != nil || ex.Suppressions.Done || ex.Changelogs.Done || ex.Plans.Done {
		t.Errorf("limits asked, got %+v", ex)
	}
	if got := r.calls(); len(got) != 1 || got[0] != "/limits? tok0" {
		t.Errorf("calls %v", got)
	}
}

func TestChangelogsAskNoFurtherBackThanRackspaceKeeps(t *testing.T) {
	t.Parallel()
	to := readAt.UnixMilli()
	retention := rackspace.ChangelogRetention.Milliseconds()
	tests := []struct {
		name string
		from time.Time
		want int64
	}{
		{"never read: the whole retention", time.Time{}, to - retention},
		{"last read 40 days ago: the retention", readAt.AddDate(0, 0, -40), to - retention},
		{"last read an hour ago: from then", readAt.Add(-time.Hour), to - time.Hour.Milliseconds()},
		{"a from after now: nothing", readAt.Add(time.Hour), to},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRax(t)
			var q url.Values
			r.handle("/changelogs/alarms", func(w http.ResponseWriter, got url.Values, _ int) {
				q = got
				_, _ = w.Write([]byte(`{"values":[],"metadata":{"next_marker":null}}`))
			})
			ex, _ := r.client().ReadExtras(context.Background(), creds, r.token(), monitoring.Reads{Changelogs: true, ChangelogsFrom: tt.from})
			if ex.Changelogs.Err != nil {
				t.Fatal(ex.Changelogs.Err)
			}
			if q.Get("from") != strconv.FormatInt(tt.want, 10) || q.Get("to") != strconv.FormatInt(to, 10) || q.Get("limit") != "1000" {
				t.Errorf("query %v, want from=%d to=%d limit=1000", q, tt.want, to)
			}
			if !ex.Changelogs.Value.Through.Equal(ms(to)) || ex.Changelogs.Value.Entries != nil {
				t.Errorf("changelog %+v, want none through %v", ex.Changelogs.Value, ms(to))
			}
		})
	}
}

func TestReadExtrasLogsInOnceOnA401AndRetriesThatCall(t *testing.T) {
	t.Parallel()
	t.Run("an expired token: one login, the call again, the rest with the new token", func(t *testing.T) {
		r := newRax(t)
		serveAll(r)
		r.rejected["tok0"] = true
		ex, meta := r.client().ReadExtras(context.Background(), creds, r.token(), all)
		for _, err := range []error{ex.Suppressions.Err, ex.Changelogs.Err, ex.Limits.Err, ex.Plans.Err} {
			if err != nil {
				t.Errorf("read failed: %v", err)
			}
		}
		if len(ex.Suppressions.Value) != 4 || len(ex.Plans.Value) != 3 {
			t.Errorf("data lost: %d suppressions, %d plans", len(ex.Suppressions.Value), len(ex.Plans.Value))
		}
		if meta.LoggedIn != 1 || meta.Token.ID != "tok1" || meta.Token.Endpoint != r.endpoint() || r.loginCount() != 1 {
			t.Errorf("meta %+v after %d logins, want one login and tok1", meta, r.loginCount())
		}
		calls := r.calls()
		if calls[0] != "/suppressions?limit=1000 tok0" || calls[1] != "/suppressions?limit=1000 tok1" || len(calls) != 7 {
			t.Errorf("calls %v", calls)
		}
		for _, c := range calls[1:] {
			if !strings.HasSuffix(c, " tok1") {
				t.Errorf("%s not made with the new token", c)
			}
		}
	})
	t.Run("a 401 on a later page repeats that page only", func(t *testing.T) {
		r := newRax(t)
		serveAll(r)
		r.handle("/suppressions", func(w http.ResponseWriter, q url.Values, n int) {
			if q.Get("marker") == "" {
				_, _ = w.Write([]byte(suppressionsPage1))
				r.mu.Lock() // not held while a handler runs
				r.rejected["tok0"] = true
				r.mu.Unlock()
				return
			}
			_, _ = w.Write([]byte(suppressionsPage2))
		})
		ex, meta := r.client().ReadExtras(context.Background(), creds, r.token(), monitoring.Reads{Suppressions: true})
		if ex.Suppressions.Err != nil || len(ex.Suppressions.Value) != 4 || meta.LoggedIn != 1 {
			t.Fatalf("got %+v, meta %+v", ex.Suppressions, meta)
		}
		want := []string{"/suppressions?limit=1000 tok0", "/suppressions?limit=1000&marker=spCCCCC tok0", "/suppressions?limit=1000&marker=spCCCCC tok1"}
		if got := r.calls(); !reflect.DeepEqual(got, want) {
			t.Errorf("calls %v, want %v", got, want)
		}
	})
	t.Run("a 401 that persists: one login for all, each read refused", func(t *testing.T) {
		r := newRax(t)
		serveAll(r)
		r.rejectAll = true
		ex, meta := r.client().ReadExtras(context.Background(), creds, r.token(), all)
		for _, err := range []error{ex.Suppressions.Err, ex.Changelogs.Err, ex.Limits.Err, ex.Plans.Err} {
			var auth *rackspace.AuthError
			if !errors.As(err, &auth) {
				t.Errorf("err %v, want refused", err)
			}
		}
		if r.loginCount() != 1 || meta.LoggedIn != 1 || meta.Token.ID != "tok1" {
			t.Errorf("%d logins, meta %+v", r.loginCount(), meta)
		}
		// The refused call again after the login, the others once each.
		if n := len(r.calls()); n != 5 {
			t.Errorf("%d calls: %v", n, r.calls())
		}
	})
	t.Run("no token yet: the one login first", func(t *testing.T) {
		r := newRax(t)
		serveAll(r)
		ex, meta := r.client().ReadExtras(context.Background(), creds, monitoring.Token{}, monitoring.Reads{Limits: true, Plans: true})
		if ex.Limits.Err != nil || ex.Plans.Err != nil || meta.LoggedIn != 1 || meta.Token.ID != "tok1" {
			t.Errorf("got %+v, meta %+v", ex, meta)
		}
	})
}

func TestAThrottledReadStopsTheReadsAfterIt(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		path    string // the call throttled
		status  int
		typ     string
		header  string
		wait    time.Duration
		done    int // reads answered before it
		calls   int
		message string
	}{
		{"429 rateLimitReached with Retry-After on changelogs", "/changelogs/alarms", 429, "rateLimitReached", "Retry-After", 7 * time.Second, 1, 3, "changelogs: rackspace is rate limiting"},
		{"400 limitReached with Reply-After on suppressions", "/suppressions", 400, "limitReached", "Reply-After", 9 * time.Second, 0, 1, "suppressions: rackspace is rate limiting"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRax(t)
			serveAll(r)
			r.handle(tt.path, func(w http.ResponseWriter, _ url.Values, _ int) {
				w.Header().Set(tt.header, strconv.Itoa(int(tt.wait/time.Second)))
				w.Header().Set("X-Ratelimit-Limit", "50000")
				w.Header().Set("X-Ratelimit-Remaining", "0")
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(`{"type":"` + tt.typ + `","code":` + strconv.Itoa(tt.status) + `,"message":"Limit has been reached. Please wait before trying again.","details":""}`))
			})
			ex, meta := r.client().ReadExtras(context.Background(), creds, r.token(), all)
			errs := []error{ex.Suppressions.Err, ex.Changelogs.Err, ex.Limits.Err, ex.Plans.Err}
			var first *rackspace.ThrottledError
			for i, err := range errs {
				if i < tt.done {
					if err != nil {
						t.Errorf("read %d before the throttled one: %v", i, err)
					}
					continue
				}
				var thr *rackspace.ThrottledError
				if !errors.As(err, &thr) || monitoring.RetryAfter(err) != tt.wait || monitoring.ErrorKind(err) != monitoring.KindThrottled {
					t.Fatalf("read %d: err %v, want throttled for %s", i, err, tt.wait)
				}
				if first == nil {
					first = thr
				} else if thr != first {
					t.Errorf("read %d got another error than the throttled read's", i)
				}
				if !strings.Contains(err.Error(), tt.message) {
					t.Errorf("read %d: %q does not say %q", i, err, tt.message)
				}
			}
			if !ex.Suppressions.Done || !ex.Changelogs.Done || !ex.Limits.Done || !ex.Plans.Done {
				t.Errorf("a read asked for is not Done: %+v", ex)
			}
			if got := r.calls(); len(got) != tt.calls {
				t.Errorf("calls %v, want %d: none after the throttled one", got, tt.calls)
			}
			if !meta.RateLimit.Known || meta.RateLimit.Remaining != 0 {
				t.Errorf("rate limit %+v, want the spent budget of the throttled answer", meta.RateLimit)
			}
		})
	}
}

func TestAFailingReadLeavesTheOthersDone(t *testing.T) {
	t.Parallel()
	r := newRax(t)
	serveAll(r)
	r.handle("/limits", func(w http.ResponseWriter, _ url.Values, _ int) {
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(`{"type":"internalError","code":500,"message":"boom","details":""}`))
	})
	r.handle("/changelogs/alarms", func(w http.ResponseWriter, _ url.Values, _ int) {
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`{"type":"forbiddenError","code":403,"message":"no role","details":""}`))
	})
	ex, meta := r.client().ReadExtras(context.Background(), creds, r.token(), all)
	var un *rackspace.UnavailableError
	if !errors.As(ex.Limits.Err, &un) || un.Status != 500 || !strings.Contains(ex.Limits.Err.Error(), "limits: ") {
		t.Errorf("limits: %v, want unavailable 500 naming the read", ex.Limits.Err)
	}
	var fb *rackspace.ForbiddenError
	if !errors.As(ex.Changelogs.Err, &fb) {
		t.Errorf("changelogs: %v, want forbidden", ex.Changelogs.Err)
	}
	if ex.Suppressions.Err != nil || len(ex.Suppressions.Value) != 4 || ex.Plans.Err != nil || len(ex.Plans.Value) != 3 {
		t.Errorf("the other reads: %+v", ex)
	}
	if meta.Requests != 5 || meta.LoggedIn != 0 {
		t.Errorf("meta %+v", meta)
	}
}

func TestBadAnswersAreBadResponsesNamingTheCall(t *testing.T) {
	t.Parallel()
	html := "<html><body>Service Unavailable</body></html>"
	tests := []struct {
		name   string
		path   string
		reads  monitoring.Reads
		bodies []string
		reason string
	}{
		{"non-JSON suppressions", "/suppressions", monitoring.Reads{Suppressions: true}, []string{html}, "suppressions: body is not JSON"},
		{"a truncated second page", "/suppressions", monitoring.Reads{Suppressions: true},
			[]string{suppressionsPage1, suppressionsPage2[:len(suppressionsPage2)/2]}, "suppressions: body truncated"},
		{"an empty 200", "/notification_plans", monitoring.Reads{Plans: true}, []string{""}, "notification plans: empty body"},
		{"an error served with 200", "/notification_plans", monitoring.Reads{Plans: true},
			[]string{`{"type":"internalError","code":"500","message":"boom"}`}, "notification plans: no values"},
		{"a list that is not an object", "/notification_plans", monitoring.Reads{Plans: true}, []string{`[]`}, "notification plans: body is not a JSON object"},
		{"values that are not a list", "/notification_plans", monitoring.Reads{Plans: true}, []string{`{"values":{"id":"np1"}}`}, "notification plans: unexpected field type for values"},
		{"a time that is not one", "/suppressions", monitoring.Reads{Suppressions: true},
			[]string{`{"values":[{"id":"sp1","start_time":"soon","end_time":0}],"metadata":{}}`}, "suppressions: unexpected field type for values.start_time"},
		{"paging that repeats a marker", "/changelogs/alarms", monitoring.Reads{Changelogs: true},
			[]string{`{"values":[],"metadata":{"next_marker":"a"}}`, `{"values":[],"metadata":{"next_marker":"b"}}`, `{"values":[],"metadata":{"next_marker":"a"}}`},
			`changelogs: paging repeats marker "a"`},
		{"paging that comes back to where it started", "/suppressions", monitoring.Reads{Suppressions: true},
			[]string{`{"values":[],"metadata":{"next_marker":"a"}}`}, `suppressions: paging repeats marker "a"`},
		{"limits that are not an object", "/limits", monitoring.Reads{Limits: true}, []string{`"50000"`}, "limits: body is not a JSON object"},
		{"limits without limits", "/limits", monitoring.Reads{Limits: true}, []string{`{"type":"internalError"}`}, "limits: no rate and no resource"},
		{"truncated limits", "/limits", monitoring.Reads{Limits: true}, []string{limitsBody[:40]}, "limits: body truncated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRax(t)
			r.on(tt.path, tt.bodies...)
			ex, _ := r.client().ReadExtras(context.Background(), creds, r.token(), tt.reads)
			err := cmpOr(ex.Suppressions.Err, ex.Changelogs.Err, ex.Limits.Err, ex.Plans.Err)
			var bad *rackspace.BadResponseError
			if !errors.As(err, &bad) || !strings.HasPrefix(bad.Reason, tt.reason) {
				t.Fatalf("err %v, want a bad response for %q", err, tt.reason)
			}
			if d := monitoring.Describe(err); !strings.Contains(d, "("+tt.reason) {
				t.Errorf("described as %q", d)
			}
			if ex.Suppressions.Value != nil || ex.Changelogs.Value.Entries != nil || ex.Plans.Value != nil {
				t.Errorf("a failed read kept a part: %+v", ex)
			}
		})
	}
}

func cmpOr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

func TestEndlessPagingStopsAtMaxPages(t *testing.T) {
	t.Parallel()
	r := newRax(t)
	r.handle("/notification_plans", func(w http.ResponseWriter, _ url.Values, n int) {
		fmt.Fprintf(w, `{"values":[{"id":"np%d"}],"metadata":{"next_marker":"np%d"}}`, n, n+1)
	})
	ex, _ := r.client().ReadExtras(context.Background(), creds, r.token(), monitoring.Reads{Plans: true})
	var bad *rackspace.BadResponseError
	if !errors.As(ex.Plans.Err, &bad) || bad.Reason != fmt.Sprintf("notification plans: more than %d pages", rackspace.MaxPages) {
		t.Fatalf("err %v", ex.Plans.Err)
	}
	if n := r.count("/notification_plans"); n != rackspace.MaxPages {
		t.Errorf("%d pages read, want %d", n, rackspace.MaxPages)
	}
}

func TestLimitsWithoutAGlobalBudgetLeaveTheRateUnknown(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body string
		want monitoring.Limits
	}{
		{"no global", `{"resource":{"checks":1000,"alarms":10000},"rate":{"test_check":{"limit":500,"used":5,"window":"24 hours"}}}`,
			monitoring.Limits{Resources: map[string]int{"checks": 1000, "alarms": 10000}}},
		{"a null rate and counts as strings", `{"resources":{"checks":"1000","alarms":"x"},"rate":null}`,
			monitoring.Limits{Resources: map[string]int{"checks": 1000}}},
		{"a global without used", `{"rate":{"global":{"limit":50000,"window":"24 hours"}}}`, monitoring.Limits{}},
		{"a global in strings and no resources", `{"rate":{"global":{"limit":"50000","used":"4","window":null}}}`,
			monitoring.Limits{Rate: monitoring.RateLimit{Limit: 50000, Used: 4, Remaining: 49996, Known: true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRax(t)
			r.on("/limits", tt.body)
			ex, _ := r.client().ReadExtras(context.Background(), creds, r.token(), monitoring.Reads{Limits: true})
			if ex.Limits.Err != nil || !reflect.DeepEqual(ex.Limits.Value, tt.want) {
				t.Errorf("got %+v (%v), want %+v", ex.Limits.Value, ex.Limits.Err, tt.want)
			}
		})
	}
}

func TestCancellingStopsEveryRead(t *testing.T) {
	t.Parallel()
	r := newRax(t)
	serveAll(r)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r.handle("/changelogs/alarms", func(w http.ResponseWriter, _ url.Values, _ int) {
		cancel()
		time.Sleep(50 * time.Millisecond) // the client gives up meanwhile
		_, _ = w.Write([]byte(changelogsPage2))
	})
	ex, _ := r.client().ReadExtras(ctx, creds, r.token(), all)
	if ex.Suppressions.Err != nil {
		t.Errorf("suppressions, read before: %v", ex.Suppressions.Err)
	}
	for i, err := range []error{ex.Changelogs.Err, ex.Limits.Err, ex.Plans.Err} {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("read %d: err %v, want cancelled", i+1, err)
		}
	}
	if r.count("/limits") != 0 || r.count("/notification_plans") != 0 {
		t.Errorf("calls after the cancellation: %v", r.calls())
	}
}

func TestASlowReadTimesOutAndTheNextIsMade(t *testing.T) {
	t.Parallel()
	r := newRax(t)
	serveAll(r)
	r.handle("/limits", func(w http.ResponseWriter, _ url.Values, _ int) { time.Sleep(400 * time.Millisecond) })
	c := r.client()
	c.Timeout = 150 * time.Millisecond
	ex, _ := c.ReadExtras(context.Background(), creds, r.token(), monitoring.Reads{Limits: true, Plans: true})
	var un *rackspace.UnavailableError
	if !errors.As(ex.Limits.Err, &un) || un.TimedOut != 150*time.Millisecond || !strings.Contains(ex.Limits.Err.Error(), "limits: rackspace did not answer: timed out after 150ms") {
		t.Errorf("limits: %v", ex.Limits.Err)
	}
	if ex.Plans.Err != nil || len(ex.Plans.Value) != 3 {
		t.Errorf("plans: %+v", ex.Plans)
	}
}
