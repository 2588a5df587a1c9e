package rackspace_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"cmdash/monitoring"
	"cmdash/monitoring/fakerax"
	"cmdash/monitoring/fakerax/fakeraxtest"
	"cmdash/monitoring/rackspace"
)

// sameAsLegacy decodes and reduces body with the Reducer and with the
// encoding/json decoder it replaced, and reports how they differ: the
// servers and metadata of a page read, or the reason (and, for a field of
// the wrong type, the field and types) of a page refused. "" when alike.
func sameAsLegacy(body []byte) string {
	var got pages
	red := rackspace.Reducer{Sink: &got}
	meta, err := red.Page(bytes.NewReader(body))
	want, wantMeta, wantErr := rackspace.LegacyPage(bytes.NewReader(body))
	switch {
	case err == nil && wantErr == nil:
		if got.n != 1 || len(got.servers) != len(want) {
			return fmt.Sprintf("%d pages of %d servers, legacy 1 of %d", got.n, len(got.servers), len(want))
		}
		for i := range want {
			if !reflect.DeepEqual(got.servers[i], want[i]) {
				return fmt.Sprintf("server %d:\n got    %#v\n legacy %#v", i, got.servers[i], want[i])
			}
		}
		if !reflect.DeepEqual(meta, wantMeta) {
			return fmt.Sprintf("metadata %s, legacy %s", metaString(meta), metaString(wantMeta))
		}
		return ""
	case err == nil || wantErr == nil:
		return fmt.Sprintf("error %v, legacy %v", err, wantErr)
	}
	if got.n != 0 {
		return fmt.Sprintf("a refused page handed over %d servers", len(got.servers))
	}
	var bad, wantBad *rackspace.BadResponseError
	if !errors.As(err, &bad) || !errors.As(wantErr, &wantBad) {
		return fmt.Sprintf("error %T %v, legacy %T %v", err, err, wantErr, wantErr)
	}
	if bad.Reason != wantBad.Reason {
		return fmt.Sprintf("reason %q, legacy %q (%v; legacy %v)", bad.Reason, wantBad.Reason, err, wantErr)
	}
	var typ, wantTyp *json.UnmarshalTypeError
	if errors.As(wantErr, &wantTyp) {
		if !errors.As(err, &typ) {
			return fmt.Sprintf("error %v, legacy %v", err, wantErr)
		}
		if typ.Field != wantTyp.Field || typ.Struct != wantTyp.Struct || typ.Value != wantTyp.Value || typ.Type != wantTyp.Type {
			return fmt.Sprintf("type error %q, legacy %q", typ.Error(), wantTyp.Error())
		}
	}
	return ""
}

func metaString(m rackspace.PageMetadata) string {
	s := func(p *string) string {
		if p == nil {
			return "nil"
		}
		return strconv.Quote(*p)
	}
	return fmt.Sprintf("{%d %d %s %s %s}", m.Count, m.Limit, s(m.Marker), s(m.NextMarker), s(m.NextHref))
}

// deeplyNested reports whether body nests more than encoding/json's and
// jsontext's depth limits tell apart: encoding/json allowed 10,000 levels
// within each value it decoded (so 10,002 in all within values), jsontext
// allows 10,000 in all. Brackets within strings count too, which only
// makes this cautious.
func deeplyNested(body []byte) bool {
	depth := 0
	for _, c := range body {
		switch c {
		case '{', '[':
			if depth++; depth >= 9990 {
				return true
			}
		case '}', ']':
			depth--
		}
	}
	return false
}

// TestDecoderReadsPagesAsEncodingJSONDid: the streaming decoder reads
// every page as the encoding/json decoder did, to the last server field,
// the metadata and the reason a page is refused.
func TestDecoderReadsPagesAsEncodingJSONDid(t *testing.T) {
	t.Parallel()
	bodies := map[string][]byte{"quirky": []byte(quirky)}
	files, _ := filepath.Glob("testdata/overview/*.json")
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		bodies[filepath.Base(p)] = data
	}
	for _, lists := range []string{"", "[]", `["spB",{"id":"spA"}]`} {
		bodies["served, lists "+lists] = servedOverviewPage(20, 4, lists)
	}
	bodies["the fake"] = fakePage(t, fakerax.AccountSpec{Servers: 60, Alarms: 6, WarningShare: 0.1, CriticalShare: 0.05}, nil)
	bodies["the fake, with suppressions"] = fakePage(t, fakerax.AccountSpec{Servers: 30, Alarms: 4, WarningShare: 0.2, CriticalShare: 0.1},
		func(s *fakerax.Server, a fakerax.Account) {
			ents := s.Entities(a.Username)
			end := time.Now().Add(time.Hour)
			for _, sp := range []fakerax.Suppression{
				{Entities: []string{ents[0].ID, ents[3].ID}, End: end},
				{Checks: []string{ents[1].ID + ":" + ents[1].Alarms[0].CheckID}, End: end},
				{Alarms: []string{ents[2].ID + ":" + ents[2].Alarms[1].ID, ents[0].ID + ":" + ents[0].Alarms[0].ID}, End: end},
			} {
				if _, err := s.AddSuppression(a.Username, sp); err != nil {
					t.Fatal(err)
				}
			}
			s.SetFault(a.Username, fakerax.Fault{SuppressionIDs: true})
		})
	for k, v := range oddPages {
		bodies[k] = []byte(v)
	}
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if diff := sameAsLegacy(body); diff != "" {
				t.Fatalf("%s\nbody: %.300s", diff, body)
			}
		})
	}
}

// TestDecoderRefusesBrokenPagesAsEncodingJSONDid: every prefix of a page
// (a body cut short anywhere), and the page with any one byte replaced by
// a character that matters to JSON, is read or refused as before, and
// refused for the same reason.
func TestDecoderRefusesBrokenPagesAsEncodingJSONDid(t *testing.T) {
	t.Parallel()
	body := quirky + "\n"
	for i := range len(body) {
		if diff := sameAsLegacy([]byte(body[:i])); diff != "" {
			t.Fatalf("cut after %d bytes: %s\nbody: %s", i, diff, body[:i])
		}
	}
	for i := range len(body) {
		for _, c := range []byte(`{}[]",:0n\ x` + "\x00\xff") {
			b := []byte(body)
			b[i] = c
			if diff := sameAsLegacy(b); diff != "" {
				t.Fatalf("byte %d replaced by %q: %s\nbody: %s", i, c, diff, b)
			}
		}
	}
}

// oddPages are pages with the syntax and shapes encoding/json gave a
// meaning to, each read as it read them.
var oddPages = map[string]string{
	"names in any case":         `{"VALUES":[{"Entity":{"ID":"en1","LaBeL":"web","URI":"u","Agent_ID":"ag"},"CHECKS":[{"Id":"ch1","TYPE":"t","Disabled":true}],"Alarms":[{"iD":"al1","Check_Id":"ch1","Notification_Plan_ID":"np"}],"Latest_Alarm_States":[{"Alarm_ID":"al1","STATE":"ok","Timestamp":5}]}],"MetaData":{"COUNT":1}}`,
	"names folded":              `{"valueſ":[{"entity":{"id":"en1","label":"x"},"checKs":[{"id":"ch1","label":"K"}],"alarms":[{"id":"al1","check_id":"ch1"}],"latest_alarm_ſtates":[{"alarm_id":"al1","ſtate":"CRITICAL"}]}]}`,
	"names escaped":             `{"\u0076alues":[{"entity":{"i\u0064":"en1","\u006cabel":"a\"b"},"alarms":[{"\u0069d":"al\u00e9"}]}]}`,
	"dotless i is not i":        `{"values":[{"entity":{"ıd":"en1","İd":"en2","id":"en3"}}]}`,
	"repeated names":            `{"values":[{"entity":{"id":"a","id":"b","label":"x","label":null},"entity":{"uri":"u"},"checks":[{"id":"c1","label":"one"},{"id":"c2","label":"two"}],"checks":[{"id":"c3"}],"alarms":[{"id":"al","check_id":"c3"},{"id":"al2","check_id":"c2"}]}],"values":[{"entity":{"id":"z"}}],"metadata":{"count":1},"metadata":{"limit":2}}`,
	"a list read over lists":    `{"values":[{"checks":[{"id":"c1","label":"one"},{"id":"c2","label":"two"}],"checks":[{"id":"c3"}],"checks":[{"id":"c4"},{"id":"c5"}],"alarms":[{"id":"a4","check_id":"c4"},{"id":"a5","check_id":"c5"}]}]}`,
	"an empty list drops":       `{"values":[{"checks":[{"id":"c1","label":"one"}],"checks":[],"checks":[{"id":"c2"}],"alarms":[{"id":"a","check_id":"c2"}]}]}`,
	"a null list drops":         `{"values":[{"checks":[{"id":"c1","label":"one"}],"checks":null,"checks":[{"id":"c2"}],"alarms":[{"id":"a","check_id":"c2"}]}]}`,
	"null elements":             `{"values":[null,{"entity":{"id":"e"},"checks":[null,{"id":"c"}],"alarms":[null,{"id":"a"}],"latest_alarm_states":[null,{"alarm_id":"a","state":"OK"}]}]}`,
	"null over a value":         `{"values":[{"checks":[{"id":"c1","label":"one"}],"checks":[null],"alarms":[{"id":"a","check_id":"c1"}]}]}`,
	"null states":               `{"values":[{"alarms":[{"id":"a","label":"x"}],"latest_alarm_states":[{"alarm_id":"a","state":"OK","previous_state":"WARNING","previous_state":null,"status":"s","status":null}]}]}`,
	"alarm id null after a str": `{"values":[{"latest_alarm_states":[{"alarm_id":"a","alarm_id":null,"state":"OK"},{"alarm_id":"","state":"CRITICAL"}]}]}`,
	"empty alarm ids":           `{"values":[{"alarms":[{"check_id":"c"}],"checks":[{}],"latest_alarm_states":[{"alarm_id":"","state":"WARNING"},{"state":"OK"}]}]}`,
	"strange strings":           "{\"values\":[{\"entity\":{\"id\":\"e\xff\xfe\",\"label\":\"\\ud800\\u0041 \\udc00\",\"uri\":\"\xed\xa0\x80\",\"agent_id\":\"\\u00e9\\/\\b\"},\"alarms\":[{\"id\":\"a\",\"notification_plan_id\":\"np\xff\"},{\"id\":\"b\",\"notification_plan_id\":\"np\\u00ff\xff\"}]}]}",
	"flags spelled":             `{"values":[{"checks":[{"id":"c1","disabled":"TRUE"},{"id":"c2","disabled":1},{"id":"c3","disabled":"0"},{"id":"c4","disabled":" true "},{"id":"c5","disabled":""}],"alarms":[{"id":"a1","check_id":"c1"},{"id":"a2","check_id":"c2","disabled":"false"},{"id":"a3","check_id":"c3","disabled":"1"},{"id":"a4","check_id":"c4"},{"id":"a5","check_id":"c5","disabled":null}]}]}`,
	"a flag of no spelling":     `{"values":[{"alarms":[{"id":"a1","disabled":"yes"}]}],"metadata":{"count":"x"}}`,
	"a flag then cut short":     `{"values":[{"alarms":[{"id":"a1","disabled":{}}]},{"entity":`,
	"a flag then a broken one":  `{"values":[{"alarms":[{"id":"a1","disabled":[1]}],"x":tru}]}`,
	"a flag then a bad one":     `{"values":[{"alarms":[{"id":"a1","disabled":"maybe"}]},{"x":tru}]}`,
	"a flag saying EOF":         `{"values":[{"alarms":[{"id":"a1","disabled":"unexpected EOF"}]}]}`,
	"type error then flag":      `{"values":[{"entity":{"id":5},"alarms":[{"id":"a1","disabled":"no way"}]}]}`,
	"flag after a type error":   `{"values":[{"entity":{"id":5}},{"alarms":[{"id":"a1","disabled":"no way"}]}]}`,
	"timestamps spelled":        `{"values":[{"alarms":[{"id":"a"},{"id":"b"},{"id":"c"},{"id":"d"},{"id":"e"},{"id":"f"},{"id":"g"}],"latest_alarm_states":[{"alarm_id":"a","timestamp":"1321898988000","state":"OK"},{"alarm_id":"b","timestamp":1.5e12},{"alarm_id":"c","timestamp":null},{"alarm_id":"d","timestamp":"null"},{"alarm_id":"e","timestamp":0},{"alarm_id":"f","timestamp":253402300799999},{"alarm_id":"g","timestamp":"\"12\"x"}]}]}`,
	"a timestamp too late":      `{"values":[{"latest_alarm_states":[{"alarm_id":"a","timestamp":20000000000000000}]}]}`,
	"a negative timestamp":      `{"values":[{"latest_alarm_states":[{"alarm_id":"a","timestamp":-1}]}]}`,
	"a timestamp object":        `{"values":[{"latest_alarm_states":[{"alarm_id":"a","timestamp":{"ms":1}}]}]}`,
	"older state listed later":  `{"values":[{"alarms":[{"id":"a"}],"latest_alarm_states":[{"alarm_id":"a","timestamp":2000,"state":"OK"},{"alarm_id":"a","timestamp":1000,"state":"CRITICAL"},{"alarm_id":"o","timestamp":1,"state":"OK"},{"alarm_id":"o","timestamp":1,"state":"WARNING"}]}]}`,
	"plans of any type":         `{"values":[{"alarms":[{"id":"a","notification_plan_id":5},{"id":"b","notification_plan_id":{"id":"np"}},{"id":"c","notification_plan_id":"npTechnicalContactsEmail"},{"id":"d","notification_plan_id":"np","notification_plan_id":null},{"id":"e","notification_plan_id":"np\n"}]}]}`,
	"suppressions of any shape": `{"values":[{"entity":{"id":"e","active_suppressions":[" sp1 ",{"ID":"sp2"},{"id":"sp3","id":null},{"Id":"sp4","iD":"sp5"},"\u00a0sp6\u2003",{"ıd":"no"}]},"checks":[{"id":"c","active_suppressions":[[],{},null]}],"alarms":[{"id":"a","check_id":"c","active_suppressions":["sp1","sp1"]},{"id":"b","active_suppressions":[ ]},{"id":"c2","active_suppressions":[ "x" ]}]}]}`,
	"criteria of any shape":     `{"values":[{"alarms":[{"id":"a","criteria":"if (metric['5m'] > 8) { return new AlarmStatus(CRITICAL); }"},{"id":"b","criteria":null},{"id":"c","criteria":5},{"id":"d","criteria":{"x":1}},{"id":"e","criteria":"if (metric[\"used\"] > 9) { return new AlarmStatus(WARNING); }","Criteria":null},{"id":"f","criteria":"bad\ud800"}],"latest_alarm_states":[{"alarm_id":"a","state":"CRITICAL"},{"alarm_id":"e","state":"WARNING"}]}]}`,
	"criteria over a list":      `{"values":[{"alarms":[{"id":"a","criteria":"if (metric['x'] < 3) { return new AlarmStatus(CRITICAL); }"}],"alarms":[{"id":"b"}],"latest_alarm_states":[{"alarm_id":"b","state":"CRITICAL"}]}]}`,
	"wrong types":               `{"values":[{"entity":{"id":true}}]}`,
	"wrong type: entity":        `{"values":[{"entity":[]}]}`,
	"wrong type: checks":        `{"values":[{"checks":{}}]}`,
	"wrong type: a check":       `{"values":[{"checks":["c"]}]}`,
	"wrong type: alarms":        `{"values":[{"alarms":"none"}]}`,
	"wrong type: a state":       `{"values":[{"latest_alarm_states":[5]}]}`,
	"wrong type: alarm id":      `{"values":[{"latest_alarm_states":[{"alarm_id":5}]}]}`,
	"wrong type: prev state":    `{"values":[{"latest_alarm_states":[{"previous_state":false}]}]}`,
	"wrong type: a value":       `{"values":[{"entity":{"id":"e"}},"x"]}`,
	"wrong type: values":        `{"values":{"entity":{}}}`,
	"wrong type: values scalar": `{"values":"none"}`,
	"wrong type: metadata":      `{"values":[],"metadata":[]}`,
	"wrong type: count":         `{"values":[],"metadata":{"count":1.5,"limit":"x"}}`,
	"wrong type: marker":        `{"values":[],"metadata":{"next_marker":5}}`,
	"wrong type then cut short": `{"values":[{"entity":{"id":5}}],"metadata":{"count":`,
	"wrong type then not JSON":  `{"values":[{"entity":{"id":5}}],"metadata":{"count":x}}`,
	"wrong type then no values": `{"metadata":{"count":"x"}}`,
	"two wrong types":           `{"values":[{"checks":[{"label":1}],"entity":{"uri":2}}]}`,
	"a huge number in values":   `{"values":1e400}`,
	"a huge number nested":      `{"values":{"a":[1,{"b":1e999}]}}`,
	"a huge number in a value":  `{"values":[{"x":1e400,"entity":{"id":"e"}}]}`,
	"a huge number elsewhere":   `{"x":1e400,"values":[]}`,
	"a huge number alone":       `1e400`,
	"a number alone":            `12`,
	"a number and text":         `12x`,
	"a number, space and text":  `12 x`,
	"a string and text":         `"a"x`,
	"null alone":                `null`,
	"null and text":             `nullx`,
	"null, space and text":      "null\tx",
	"an array":                  `[{"values":[]}]`,
	"an array cut short":        `[`,
	"values null":               `{"values":null,"metadata":{"next_marker":"m"}}`,
	"metadata null":             `{"values":[],"metadata":null}`,
	"metadata first":            `{"metadata":{"count":0,"next_marker":"en9"},"values":[]}`,
	"no values":                 `{"metadata":{}}`,
	"text after the page":       `{"values":[]} trailing`,
	"a second page after":       `{"values":[]}{"values":[`,
	"spaces everywhere":         " \n{ \"values\" : [ { \"entity\" : { \"id\" : \"e\" } , \"alarms\" : [ { \"id\" : \"a\" , \"disabled\" : true } ] } ] , \"metadata\" : { } } \r\n",
	"a byte order mark":         "\ufeff{\"values\":[]}",
	"control character":         "{\"values\":[{\"entity\":{\"id\":\"a\tb\"}}]}",
	"bad escape":                `{"values":[{"entity":{"id":"a\qb"}}]}`,
	"a comma too many":          `{"values":[],}`,
	"a missing comma":           `{"values":[] "metadata":{}}`,
	"a value cut short":         `{"values":[{"entity":{"id":"e"}`,
	"a name cut short":          `{"values":[{"ent`,
	"empty":                     ``,
	"only space":                "  \n",
}

// fakePage is the body of the first overview page of an account of the
// fake, after setup (if any) has had its way with the account.
func fakePage(tb testing.TB, spec fakerax.AccountSpec, setup func(*fakerax.Server, fakerax.Account)) []byte {
	tb.Helper()
	fake, ts := fakeraxtest.NewServer(tb, fakerax.Config{Seed: 1000, ChangeEvery: time.Minute})
	spec.Username = "page"
	acct := fake.AddAccount(spec)
	if setup != nil {
		setup(fake, acct)
	}
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
	if !strings.Contains(string(body), `"values"`) {
		tb.Fatalf("not an overview page: %.200s", body)
	}
	return body
}

// BenchmarkDecodeReduceLegacy is BenchmarkDecodeReduce with the
// encoding/json decoder and reducer the streaming decoder replaced, for
// comparing the two in one run.
func BenchmarkDecodeReduceLegacy(b *testing.B) {
	body := fakeOverviewPage(b, 1000, 10)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		servers, meta, err := rackspace.LegacyPage(bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		if len(servers) != 1000 || meta.NextMarker != nil {
			b.Fatalf("%d servers, next marker %v", len(servers), meta.NextMarker)
		}
	}
}
