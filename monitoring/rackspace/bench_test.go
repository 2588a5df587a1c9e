package rackspace_test

import (
	"bytes"
	"fmt"
	"testing"
)

// BenchmarkDecodeReduceAsServed: one overview page of 1,000 servers × 10
// alarms shaped as Rackspace's captured responses are: entity, every check
// and every alarm carry active_suppressions and scheduled_suppressions
// (empty, as in every sample), every alarm a notification_plan_id. The
// sub-benchmarks compare the page without those lists, with them empty
// (the common case) and with two suppressions on everything.
func BenchmarkDecodeReduceAsServed(b *testing.B) {
	for _, bc := range []struct{ name, lists string }{
		{"lists=absent", ""},
		{"lists=empty", "[]"},
		{"lists=two", `["spB",{"id":"spA"}]`},
	} {
		b.Run(bc.name, func(b *testing.B) {
			benchDecode(b, servedOverviewPage(1000, 10, bc.lists), 1000)
		})
	}
}

// servedOverviewPage writes an overview page of servers × alarms (one check
// per alarm, every third alarm WARNING) in the shape of the captured
// responses, with suppressions as the value of every active_suppressions;
// "" leaves out active_suppressions and scheduled_suppressions.
func servedOverviewPage(servers, alarms int, suppressions string) []byte {
	lists := func() string {
		if suppressions == "" {
			return ""
		}
		return `,"active_suppressions":` + suppressions + `,"scheduled_suppressions":[]`
	}()
	var buf bytes.Buffer
	buf.WriteString(`{"values":[`)
	for s := range servers {
		if s > 0 {
			buf.WriteByte(',')
		}
		en := fmt.Sprintf("en%06d", s)
		fmt.Fprintf(&buf, `{"entity":{"id":%q,"label":"web-%04d","ip_addresses":{"access_ip0_v6":"2001:4800:7812:514:be76:4eff:fe04:%x","access_ip1_v4":"104.130.%d.%d"},"metadata":null,"managed":false,`+
			`"uri":"https://dfw.servers.api.rackspacecloud.com/123456/servers/1b62e690-7745-4bbf-9ee8-%012d","agent_id":"1b62e690-7745-4bbf-9ee8-%012d",`+
			`"created_at":1416625774775,"updated_at":1416625774775%s},"checks":[`,
			en, s, s, s/256, s%256, s, s, lists)
		for a := range alarms {
			if a > 0 {
				buf.WriteByte(',')
			}
			fmt.Fprintf(&buf, `{"id":"ch%06d%02d","label":"check %d","type":"remote.http","details":{"url":"http://www.example.com/%d","method":"GET"},`+
				`"monitoring_zones_poll":["mzdfw","mzord","mziad"],"timeout":30,"period":60,"target_alias":"default","target_hostname":"","target_resolver":"",`+
				`"disabled":false,"metadata":{},"created_at":1416625774775,"updated_at":1416625774775%s}`,
				s, a, a, a, lists)
		}
		buf.WriteString(`],"alarms":[`)
		for a := range alarms {
			if a > 0 {
				buf.WriteByte(',')
			}
			fmt.Fprintf(&buf, `{"id":"al%06d%02d","label":"alarm %d","check_id":"ch%06d%02d","criteria":"if (metric['code'] != '200') { return new AlarmStatus(CRITICAL); } return new AlarmStatus(OK);",`+
				`"notification_plan_id":"npTechnicalContactsEmail","disabled":false,"metadata":{},"created_at":1416625774775,"updated_at":1416625774775%s}`,
				s, a, a, s, a, lists)
		}
		buf.WriteString(`],"latest_alarm_states":[`)
		for a := range alarms {
			if a > 0 {
				buf.WriteByte(',')
			}
			state, prev := "OK", "WARNING"
			if a%3 == 0 {
				state, prev = "WARNING", "OK"
			}
			fmt.Fprintf(&buf, `{"timestamp":%d,"entity_id":%q,"alarm_id":"al%06d%02d","check_id":"ch%06d%02d","status":"matched return statement on line 1",`+
				`"state":%q,"previous_state":%q,"analyzed_by_monitoring_zone_id":"mzdfw"}`,
				1416625774775+int64(s*alarms+a), en, s, a, s, a, state, prev)
		}
		buf.WriteString(`]}`)
	}
	buf.WriteString(`],"metadata":{"count":` + fmt.Sprint(servers) + `,"limit":1000,"marker":null,"next_marker":null,"next_href":null}}`)
	return buf.Bytes()
}
