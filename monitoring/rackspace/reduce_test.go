package rackspace_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"cmdash/monitoring"
	"cmdash/monitoring/fakerax"
	"cmdash/monitoring/fakerax/fakeraxtest"
	"cmdash/monitoring/rackspace"
)

// quirky is an overview page with every oddity the sources document.
const quirky = `{"values":[
 {"entity":{"id":"enA","label":null,"uri":null,"agent_id":null,"metadata":null,"ip_addresses":{},"managed":false,"created_at":1416625774775,"extra":{"x":1}},
  "checks":[{"id":"ch1","label":"cpu","type":"agent.cpu","details":{"a":1},"monitoring_zones_poll":null,"disabled":false},
            {"id":"ch2","label":"web","type":"remote.http","details":{},"disabled":true}],
  "alarms":[{"id":"al1","label":"High CPU","check_id":"ch1"},
            {"id":"al2","label":null,"check_id":"ch1","disabled":null},
            {"id":"al3","check_id":"ch2"},
            {"id":"al4","label":"Never evaluated","check_id":"ch1","disabled":false},
            {"id":"al5","label":"Odd state","check_id":"chGone"}],
  "latest_alarm_states":[
    {"timestamp":1321898988000,"entity_id":"enA","alarm_id":"al1","check_id":"ch1","status":"cpu 95%","state":"CRITICAL","previous_state":"OK"},
    {"timestamp":1321898000000,"entity_id":"enA","alarm_id":"al1","check_id":"ch1","status":"an older state listed twice","state":"OK"},
    {"timestamp":1321898988,"entity_id":"enA","alarm_id":"al2","check_id":"chTwo","state":"WARNING","analyzed_by_monitoring_zone_id":null},
    {"timestamp":1321898988000,"entity_id":"enA","alarm_id":"al3","check_id":"ch2","state":"CRITICAL"},
    {"timestamp":"1321898988000","entity_id":"enA","alarm_id":"al5","check_id":"chGone","state":"PENDING","status":"?"},
    {"timestamp":1321898988000,"entity_id":"enA","alarm_id":"alGone","check_id":"ch1","state":"CRITICAL","status":"from a deleted alarm"}]},
 {"entity":{"id":"enB","label":"web-01","uri":"https://dfw.servers.api.rackspacecloud.com/123456/servers/1b62e690-7745-4bbf-9ee8-7fcd361db227","agent_id":"1b62e690-7745-4bbf-9ee8-7fcd361db227"},
  "checks":[],"alarms":[],"latest_alarm_states":[]}],
 "metadata":{"count":2,"limit":1000,"marker":null,"next_marker":null,"next_href":null}}`

func TestReduceHandlesEveryDocumentedQuirk(t *testing.T) {
	t.Parallel()
	var got pages
	red := rackspace.Reducer{Sink: &got}
	if _, err := red.Page(strings.NewReader(quirky)); err != nil {
		t.Fatalf("decode: %v", err)
	}
	if got.n != 1 || len(got.servers) != 2 {
		t.Fatalf("%d pages of %d servers in all, want 1 of 2", got.n, len(got.servers))
	}
	var a, b monitoring.Server
	for _, s := range got.servers {
		if s.ID == "enA" {
			a = s
		} else {
			b = s
		}
	}
	if a.Label != "enA" {
		t.Errorf("a null label falls back to the id, got %q", a.Label)
	}
	alarms := map[string]monitoring.Alarm{}
	for _, al := range a.Alarms {
		alarms[al.ID] = al
	}
	tests := []struct {
		name string
		ok   bool
	}{
		{"a CRITICAL state is kept with status, previous state and a millisecond time",
			alarms["al1"].State == monitoring.StateCritical && alarms["al1"].Status == "cpu 95%" &&
				alarms["al1"].PreviousState == monitoring.StateOK && alarms["al1"].Since.Equal(time.UnixMilli(1321898988000))},
		{"a timestamp below 1e11 is seconds", alarms["al2"].Since.Equal(time.Unix(1321898988, 0))},
		{"a null alarm label falls back to the check's", alarms["al2"].Label == "cpu alarm"},
		{"a state naming another check is matched by alarm id", alarms["al2"].State == monitoring.StateWarning && alarms["al2"].CheckLabel == "cpu"},
		{"an alarm on a disabled check is disabled", alarms["al3"].Disabled},
		{"an alarm with no state is UNKNOWN, not evaluated", alarms["al4"].State == monitoring.StateUnknown && !alarms["al4"].Evaluated},
		{"a state outside OK/WARNING/CRITICAL is UNKNOWN", alarms["al5"].State == monitoring.StateUnknown && alarms["al5"].Evaluated},
		{"a state whose alarm is missing is kept as an orphan", alarms["alGone"].Orphan && alarms["alGone"].State == monitoring.StateCritical},
		{"the cloud server link parts come from uri", b.Region == "DFW" && b.TenantID == "123456" && b.ServerUUID == "1b62e690-7745-4bbf-9ee8-7fcd361db227"},
		{"the uri itself is kept as sent", b.URI == "https://dfw.servers.api.rackspacecloud.com/123456/servers/1b62e690-7745-4bbf-9ee8-7fcd361db227" && a.URI == ""},
		{"an entity with no alarms is OK with 0/0", b.Worst == monitoring.StateOK && b.Counts.Total == 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !tt.ok {
				t.Errorf("failed; alarms: %+v", a.Alarms)
			}
		})
	}
	want := monitoring.Counts{OK: 0, Warning: 1, Critical: 1, Unknown: 2, Total: 4, Excluded: 2}
	if a.Counts != want {
		t.Errorf("counts = %+v, want %+v (disabled and orphan alarms are not counted)", a.Counts, want)
	}
	if a.Worst != monitoring.StateCritical {
		t.Errorf("worst = %s", a.Worst)
	}
}

func TestDecodeRefusesWhatIsNotAnOverview(t *testing.T) {
	t.Parallel()
	for name, body := range map[string]string{
		"html":        "<html><body>Service Unavailable</body></html>",
		"truncated":   quirky[:len(quirky)/2],
		"error shape": `{"type":"internalError","code":"500","message":"boom"}`,
		"wrong type":  `{"values":[{"entity":{"id":42}}]}`,
		"empty":       ``,
	} {
		t.Run(name, func(t *testing.T) {
			var got pages
			red := rackspace.Reducer{Sink: &got}
			_, err := red.Page(strings.NewReader(body))
			var bad *rackspace.BadResponseError
			if !errors.As(err, &bad) {
				t.Fatalf("err = %v, want bad response", err)
			}
			if got.n != 0 {
				t.Errorf("a refused page handed over %d servers", len(got.servers))
			}
		})
	}
}

func TestParseServerURI(t *testing.T) {
	t.Parallel()
	tests := []struct{ uri, region, tenant, uuid string }{
		{"https://ord.servers.api.rackspacecloud.com/654321/servers/ABCDEF01-7745-4bbf-9ee8-7fcd361db227", "ORD", "654321", "abcdef01-7745-4bbf-9ee8-7fcd361db227"},
		{"http://ffo.com/uri/bar/12312", "", "", ""},
		{"", "", "", ""},
		{"::not a url", "", "", ""},
		{"https://dfw.servers.api.rackspacecloud.com/123/servers/", "", "", ""},
	}
	for _, tt := range tests {
		r, te, u := rackspace.ParseServerURI(tt.uri)
		if r != tt.region || te != tt.tenant || u != tt.uuid {
			t.Errorf("ParseServerURI(%q) = %q %q %q", tt.uri, r, te, u)
		}
	}
}

// TestReduceMatchesTheFake checks the counting rule against the fake's own
// model, for every quirk the fake serves.
func TestReduceMatchesTheFake(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	fake, ts := fakeraxtest.NewServer(t, fakerax.Config{Seed: 99, Now: func() time.Time { return now }, ChangeEvery: time.Minute})
	acct := fake.AddAccount(fakerax.AccountSpec{Username: "quirks", Servers: 120, Alarms: 7, WarningShare: 0.1, CriticalShare: 0.05})
	_, fetched, err := fetch(context.Background(), rackspace.NewClient(fake.IdentityURL(ts.URL), ts.Client()),
		monitoring.Credentials{Username: acct.Username, APIKey: acct.APIKey}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]monitoring.Server{}
	for _, s := range fetched.servers {
		got[s.ID] = s
	}
	for _, e := range fake.Entities("quirks") {
		var want monitoring.Counts
		for _, a := range e.Alarms {
			if a.Disabled {
				want.Excluded++
				continue
			}
			want.Total++
			switch a.State {
			case "OK":
				want.OK++
			case "WARNING":
				want.Warning++
			case "CRITICAL":
				want.Critical++
			default:
				want.Unknown++
			}
		}
		g := got[e.ID].Counts
		g.Excluded -= countOrphans(got[e.ID])
		if g != want {
			t.Errorf("entity %s: counts %+v, fake says %+v", e.ID, g, want)
		}
	}
}

func countOrphans(s monitoring.Server) int {
	n := 0
	for _, a := range s.Alarms {
		if a.Orphan {
			n++
		}
	}
	return n
}

// FuzzDecodeOverview: whatever the upstream sends, decoding and reducing
// never panic, a decoded page reduces to consistent counts, and the page
// is read (or refused, for the same reason) as the encoding/json decoder
// read it.
func FuzzDecodeOverview(f *testing.F) {
	f.Add([]byte(quirky))
	for _, body := range oddPages {
		f.Add([]byte(body))
	}
	seeds, _ := filepath.Glob("testdata/overview/*.json")
	for _, p := range seeds {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// Past 9,990 levels of nesting the depth limits differ (see
		// deeplyNested).
		if !deeplyNested(data) {
			if diff := sameAsLegacy(data); diff != "" {
				t.Fatalf("unlike the encoding/json decoder: %s", diff)
			}
		}
		var got pages
		red := rackspace.Reducer{Sink: &got}
		if _, err := red.Page(bytes.NewReader(data)); err != nil {
			if got.n != 0 {
				t.Fatalf("a refused page handed over %d servers", len(got.servers))
			}
			return
		}
		for _, s := range got.servers {
			c := s.Counts
			if c.OK+c.Warning+c.Critical+c.Unknown != c.Total || c.Total+c.Excluded != len(s.Alarms) {
				t.Fatalf("inconsistent counts %+v for %d alarms", c, len(s.Alarms))
			}
		}
		if _, err := json.Marshal(got.servers); err != nil {
			t.Fatalf("servers do not encode: %v", err)
		}
	})
}

// BenchmarkDecodeReduce: one overview page of 1,000 servers × 10 alarms,
// as the fake serves it, decoded and reduced to servers as FetchInto does,
// handed to a sink that only counts them.
func BenchmarkDecodeReduce(b *testing.B) {
	benchDecode(b, fakeOverviewPage(b, 1000, 10), 1000)
}

// benchDecode decodes and reduces body, a last page of servers servers,
// as FetchInto does, into a sink that only counts them.
func benchDecode(b *testing.B, body []byte, servers int) {
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		var n serverCount
		red := rackspace.Reducer{Sink: &n}
		meta, err := red.Page(bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		if int(n) != servers || meta.NextMarker != nil {
			b.Fatalf("%d servers, next marker %v", n, meta.NextMarker)
		}
	}
}

// serverCount is a monitoring.PageSink that counts the servers.
type serverCount int

func (n *serverCount) Page(servers []monitoring.Server) { *n += serverCount(len(servers)) }

// fakeOverviewPage is the body of one overview page from the fake, with its
// quirks (unevaluated alarms, orphan states, nullable fields).
func fakeOverviewPage(tb testing.TB, servers, alarms int) []byte {
	tb.Helper()
	fake, ts := fakeraxtest.NewServer(tb, fakerax.Config{Seed: 1000, ChangeEvery: time.Minute})
	acct := fake.AddAccount(fakerax.AccountSpec{Username: "bench", Servers: servers, Alarms: alarms, WarningShare: 0.05, CriticalShare: 0.02})
	tok, err := rackspace.NewClient(fake.IdentityURL(ts.URL), ts.Client()).
		Authenticate(context.Background(), monitoring.Credentials{Username: acct.Username, APIKey: acct.APIKey})
	if err != nil {
		tb.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodGet, tok.Endpoint+"/views/overview?limit="+strconv.Itoa(rackspace.PageLimit), nil)
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("X-Auth-Token", tok.ID)
	resp, err := ts.Client().Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		tb.Fatalf("overview: %d %v", resp.StatusCode, err)
	}
	return body
}

// TestReduceReadsPlansDisabledChecksAndActiveSuppressions: the element type
// of active_suppressions is undocumented, so every shape is read or
// ignored, never a failed page; an alarm's suppressions are those of the
// alarm, its check and its entity together.
func TestReduceReadsPlansDisabledChecksAndActiveSuppressions(t *testing.T) {
	t.Parallel()
	body, err := os.ReadFile("testdata/overview/active-suppressions.json")
	if err != nil {
		t.Fatal(err)
	}
	var got pages
	red := rackspace.Reducer{Sink: &got}
	if _, err := red.Page(bytes.NewReader(body)); err != nil {
		t.Fatalf("decode: %v", err)
	}
	alarms := map[string]monitoring.Alarm{}
	for _, s := range got.servers {
		for _, a := range s.Alarms {
			alarms[a.ID] = a
		}
	}
	if len(alarms) != 7 {
		t.Fatalf("got alarms %v, want 7", alarms)
	}
	tests := []struct {
		alarm     string
		plan      string
		supp      []string
		disabled  bool
		checkDown bool
	}{
		// Strings and objects, repeats across alarm, check and entity
		// once; numbers, nulls, objects without a string id, empty IDs
		// and nested lists skipped.
		{"alMixed", "npOps", []string{"spAlarm", "spCheck", "spEntity", "spShared"}, false, false},
		// A check's list that is not a list, and the alarm's null: the entity's alone.
		{"alOff", "", []string{"spEntity", "spShared"}, true, true},
		// An alarm disabled by itself is not disabled by its check; an
		// object where a list belongs is ignored.
		{"alSelfOff", monitoring.TechnicalContactsPlan, []string{"spEntity", "spShared"}, true, false},
		// An orphan state: what is active on its check and entity.
		{"alGone", "", []string{"spCheck", "spEntity", "spShared"}, false, false},
		// Empty lists everywhere: none, and nil rather than empty.
		{"alQ", monitoring.TechnicalContactsPlan, nil, false, false},
		// A plan that is not a string is none; an escaped one is read.
		{"alNum", "", nil, false, false},
		{"alEsc", "npOps", nil, false, false},
	}
	for _, tt := range tests {
		a := alarms[tt.alarm]
		if a.NotificationPlanID != tt.plan {
			t.Errorf("%s: plan %q, want %q", tt.alarm, a.NotificationPlanID, tt.plan)
		}
		if !slices.Equal(a.Suppressions, tt.supp) || (tt.supp == nil) != (a.Suppressions == nil) {
			t.Errorf("%s: suppressions %#v, want %#v", tt.alarm, a.Suppressions, tt.supp)
		}
		if a.Disabled != tt.disabled || a.CheckDisabled != tt.checkDown {
			t.Errorf("%s: disabled %v, check disabled %v; want %v, %v", tt.alarm, a.Disabled, a.CheckDisabled, tt.disabled, tt.checkDown)
		}
	}
}

// TestEachAlarmOwnsItsSuppressions: alarms sharing an entity's
// suppressions do not share the slice, so changing one changes no other.
func TestEachAlarmOwnsItsSuppressions(t *testing.T) {
	t.Parallel()
	var got pages
	red := rackspace.Reducer{Sink: &got}
	if _, err := red.Page(bytes.NewReader(servedOverviewPage(2, 3, `["spB","spA"]`))); err != nil {
		t.Fatal(err)
	}
	first := got.servers[0].Alarms
	first[0].Suppressions[0] = "changed"
	for _, s := range got.servers {
		for _, a := range s.Alarms[1:] {
			if !slices.Equal(a.Suppressions, []string{"spA", "spB"}) {
				t.Errorf("%s: suppressions %v", a.ID, a.Suppressions)
			}
		}
	}
}
