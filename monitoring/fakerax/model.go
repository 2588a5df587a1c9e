package fakerax

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// The generated monitoring model. Everything here is a pure function of the
// seed and the account's username and spec; alarm states are additionally a
// function of the clock.
//
// Quirks are tied to an entity's position i in the ID-sorted list and to an
// alarm's position j within its entity, so tests can predict them:
//
//	i%25 == 3            entity has empty checks, alarms and latest_alarm_states
//	i%20 == 9            non-server entity, "uri": null, "agent_id": null, ip_addresses {}
//	i%20 == 19           non-server entity, no "uri" key at all, "agent_id": null
//	i%20 == 14           cloud server without the agent: uri set, "agent_id": null
//	i%40 == 4            non-server entity with an arbitrary (non-server) uri string, "agent_id": null
//	i%11 == 5            an extra latest state whose alarm_id matches no alarm (orphan)
//	i%13 == 7            the first evaluated alarm's latest state carries a check_id matching no check
//	(i+3j)%33 == 16      alarm not evaluated yet: no latest state at all
//	(i+2j)%29 == 13      alarm "disabled": true (its state is frozen)
//	j%3 == 2             alarm has no "disabled" key
//	(i+5j)%41 == 23      the alarm's check is "disabled": true (the alarm's own
//	                     "disabled" stays false or absent; its state is frozen)
//	i%17 == 11           entity "active_suppressions"/"scheduled_suppressions": null
//	(i+j)%23 == 7        check's suppression lists null
//	(i+j)%19 == 12       alarm's suppression lists null (all others: [] unless
//	                     Fault.SuppressionIDs fills them)
//	(i+j)%11 == 5        alarm "label": null
//	(i+j)%17 == 8        alarm has no "label" key
//	(i+j)%6 == 4         latest state has no "status" and no "previous_state"
//
// Each alarm's notification_plan_id is one of the account's plans (plans.go),
// by a hash of the alarm: about 4% the quiet plan, 46% the on-call plan, the
// rest npTechnicalContactsEmail.
//
// Entities without the agent get remote checks only; agent checks have
// "monitoring_zones_poll": null and their states "analyzed_by_monitoring_zone_id": null.

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

type entityKind int

const (
	kindServer        entityKind = iota // cloud server with the monitoring agent
	kindServerNoAgent                   // cloud server, agent not installed
	kindURINull                         // non-server entity, uri null
	kindURIAbsent                       // non-server entity, uri missing
	kindURIOther                        // non-server entity, arbitrary uri string
)

func kindOf(i int) entityKind {
	switch {
	case i%20 == 9:
		return kindURINull
	case i%20 == 19:
		return kindURIAbsent
	case i%20 == 14:
		return kindServerNoAgent
	case i%40 == 4:
		return kindURIOther
	}
	return kindServer
}

func (k entityKind) isServer() bool { return k == kindServer || k == kindServerNoAgent }

func emptyEntity(i int) bool        { return i%25 == 3 }
func orphanAlarmState(i int) bool   { return i%11 == 5 }
func orphanCheckState(i int) bool   { return i%13 == 7 }
func unevaluated(i, j int) bool     { return (i+3*j)%33 == 16 }
func disabledAlarm(i, j int) bool   { return (i+2*j)%29 == 13 }
func disabledCheck(i, j int) bool   { return (i+5*j)%41 == 23 }
func nullEntitySupp(i int) bool     { return i%17 == 11 }
func nullCheckSupp(i, j int) bool   { return (i+j)%23 == 7 }
func nullAlarmSupp(i, j int) bool   { return (i+j)%19 == 12 }
func noDisabledKey(j int) bool      { return j%3 == 2 }
func nullLabel(i, j int) bool       { return (i+j)%11 == 5 }
func nullCriteria(i, j int) bool    { return (i+2*j)%37 == 22 } // documented as nullable; nothing to chart
func absentLabel(i, j int) bool     { return (i+j)%17 == 8 }
func bareState(i, j int) bool       { return (i+j)%6 == 4 }
func entityMetadataNull(i int) bool { return i%3 == 0 }
func entityManaged(i int) bool      { return i%4 == 0 }

// hashStrings mixes the seed and the parts into a well-distributed 64-bit value.
func hashStrings(seed int64, parts ...string) uint64 {
	h := fnv.New64a()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(seed))
	h.Write(b[:])
	for _, p := range parts {
		h.Write([]byte{0})
		h.Write([]byte(p))
	}
	return mix64(h.Sum64())
}

// mix64 is the SplitMix64 finaliser.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// unit maps a hash to [0, 1).
func unit(x uint64) float64 { return float64(x>>11) / (1 << 53) }

type checkKind struct {
	typ        string
	agent      bool
	checkLabel string
	alarmLabel string
	criteria   string
	status     func(state string, x float64) string
	// metrics are what the check reports (metrics.go), the one its alarm
	// tests first.
	metrics []metricBand
}

// metricBand is a metric and where its values lie in each state: an alarm
// in a state reports a value in that state's band, so a series crosses
// the threshold when the state changes.
type metricBand struct {
	name, unit string
	warn, crit float64 // thresholds; crit NaN when only a warning has one
	low, high  float64 // the values it takes
	below      bool    // worse when lower (packet loss, certificate expiry)
	// code, when set, says the value in a state instead (HTTP status codes).
	code func(state string, x float64) float64
}

// value is the metric's value in state at level x in [0, 1).
func (b metricBand) value(state string, x float64) float64 {
	if b.code != nil {
		return b.code(state, x)
	}
	crit := b.crit
	if math.IsNaN(crit) {
		crit = b.high
		if state == "CRITICAL" {
			state = "OK" // no threshold: a critical state comes from another metric
		}
	}
	if b.below {
		switch state {
		case "CRITICAL":
			return b.low + (crit-b.low)*x
		case "WARNING":
			return crit + (b.warn-crit)*x
		}
		return b.warn + (b.high-b.warn)*(0.03+0.97*x)
	}
	switch state {
	case "CRITICAL":
		return crit + (b.high-crit)*x
	case "WARNING":
		return b.warn + (crit-b.warn)*x
	}
	return b.low + (b.warn-b.low)*x*0.97
}

func thresholdCriteria(metric, text string, warn, crit float64, format string) string {
	msg := func(cmp string, th float64) string {
		return strings.ReplaceAll(text, "%v", "#{"+metric+"}") + ", " + cmp + " threshold " + fmt.Sprintf(format, th)
	}
	return fmt.Sprintf("if (metric['%s'] > %v) {\n  return new AlarmStatus(CRITICAL, '%s');\n}\n\n"+
		"if (metric['%s'] > %v) {\n  return new AlarmStatus(WARNING, '%s');\n}\n\n"+
		"return new AlarmStatus(OK, '%s');\n",
		metric, crit, msg("above", crit), metric, warn, msg("above", warn), msg("below", warn))
}

// thresholdStatus words a state with the value its metric has (b.value).
func thresholdStatus(text, valueFormat, thFormat string, b metricBand) func(string, float64) string {
	return func(state string, x float64) string {
		th, cmp := b.warn, "below"
		switch state {
		case "CRITICAL":
			th, cmp = b.crit, "above"
		case "WARNING":
			cmp = "above"
		}
		return strings.ReplaceAll(text, "%v", fmt.Sprintf(valueFormat, b.value(state, x))) + ", " + cmp + " threshold " + fmt.Sprintf(thFormat, th)
	}
}

var (
	bandCPU        = metricBand{name: "usage_average", unit: "percent", warn: 80, crit: 90, low: 1, high: 100}
	bandMemory     = metricBand{name: "mem_used_pct", unit: "percent", warn: 85, crit: 95, low: 20, high: 100}
	bandFilesystem = metricBand{name: "used_pct", unit: "percent", warn: 80, crit: 90, low: 5, high: 100}
	bandLoad       = metricBand{name: "5m", unit: "load", warn: 4, crit: 8, low: 0.01, high: 24}
	bandNetwork    = metricBand{name: "tx_rate_mbps", unit: "Mbps", warn: 700, crit: 900, low: 0.1, high: 1000}
	bandDisk       = metricBand{name: "wait_ms", unit: "milliseconds", warn: 20, crit: 50, low: 0.1, high: 400}
	bandTCP        = metricBand{name: "duration", unit: "milliseconds", warn: 500, crit: 5000, low: 3, high: 30000}
	bandDNS        = metricBand{name: "duration", unit: "milliseconds", warn: 300, crit: 1000, low: 2, high: 5000}
	bandPing       = metricBand{name: "available", unit: "percent", warn: 95, crit: 80, low: 0, high: 100, below: true}
	bandSSL        = metricBand{name: "cert_end_in", unit: "seconds", warn: 2592000, crit: 604800, low: 0, high: 31536000, below: true}
	bandHTTPTime   = metricBand{name: "duration", unit: "milliseconds", warn: 2000, crit: math.NaN(), low: 40, high: 8000}
	bandHTTPCode   = metricBand{name: "code", unit: "status", code: func(state string, x float64) float64 {
		if state != "CRITICAL" {
			return 200
		}
		if x < 0.3 {
			return 404
		}
		return 503
	}}
)

var (
	kindCPU = checkKind{
		typ: "agent.cpu", agent: true, checkLabel: "CPU", alarmLabel: "CPU usage",
		criteria: thresholdCriteria("usage_average", "CPU usage is %v%", 80, 90, "%.0f%%"),
		status:   thresholdStatus("CPU usage is %v%", "%.1f", "%.0f%%", bandCPU),
		metrics:  []metricBand{bandCPU},
	}
	kindMemory = checkKind{
		typ: "agent.memory", agent: true, checkLabel: "Memory", alarmLabel: "Memory usage",
		criteria: thresholdCriteria("mem_used_pct", "Memory usage is %v%", 85, 95, "%.0f%%"),
		status:   thresholdStatus("Memory usage is %v%", "%.1f", "%.0f%%", bandMemory),
		metrics:  []metricBand{bandMemory},
	}
	kindFilesystem = checkKind{
		typ: "agent.filesystem", agent: true, checkLabel: "Filesystem /", alarmLabel: "Filesystem usage /",
		criteria: thresholdCriteria("used_pct", "Disk usage on / is %v%", 80, 90, "%.0f%%"),
		status:   thresholdStatus("Disk usage on / is %v%", "%.1f", "%.0f%%", bandFilesystem),
		metrics:  []metricBand{bandFilesystem},
	}
	kindLoad = checkKind{
		typ: "agent.load_average", agent: true, checkLabel: "Load Average", alarmLabel: "Load average",
		criteria: thresholdCriteria("5m", "5 minute load average is %v", 4, 8, "%.2f"),
		status:   thresholdStatus("5 minute load average is %v", "%.2f", "%.2f", bandLoad),
		metrics:  []metricBand{bandLoad},
	}
	kindNetwork = checkKind{
		typ: "agent.network", agent: true, checkLabel: "Network eth0", alarmLabel: "Network transmit rate eth0",
		criteria: thresholdCriteria("tx_rate_mbps", "Transmit rate on eth0 is %v Mbps", 700, 900, "%.0f Mbps"),
		status:   thresholdStatus("Transmit rate on eth0 is %v Mbps", "%.1f", "%.0f Mbps", bandNetwork),
		metrics:  []metricBand{bandNetwork},
	}
	kindDisk = checkKind{
		typ: "agent.disk", agent: true, checkLabel: "Disk /dev/xvda1", alarmLabel: "Disk I/O wait /dev/xvda1",
		criteria: thresholdCriteria("wait_ms", "Disk I/O wait on /dev/xvda1 is %v ms", 20, 50, "%.0f ms"),
		status:   thresholdStatus("Disk I/O wait on /dev/xvda1 is %v ms", "%.1f", "%.0f ms", bandDisk),
		metrics:  []metricBand{bandDisk},
	}
	kindPing = checkKind{
		typ: "remote.ping", checkLabel: "Ping", alarmLabel: "Ping packet loss",
		criteria: "if (metric['available'] < 80) {\n  return new AlarmStatus(CRITICAL, 'Packet loss is greater than 20%');\n}\n\n" +
			"if (metric['available'] < 95) {\n  return new AlarmStatus(WARNING, 'Packet loss is greater than 5%');\n}\n\n" +
			"return new AlarmStatus(OK, 'Packet loss is normal');\n",
		status: func(state string, _ float64) string {
			switch state {
			case "CRITICAL":
				return "Packet loss is greater than 20%"
			case "WARNING":
				return "Packet loss is greater than 5%"
			}
			return "Packet loss is normal"
		},
		metrics: []metricBand{bandPing},
	}
	kindHTTP = checkKind{
		typ: "remote.http", checkLabel: "Website", alarmLabel: "HTTP status",
		criteria: "if (metric['code'] regex '4[0-9][0-9]') {\n  return new AlarmStatus(CRITICAL, 'HTTP server responding with 4xx status');\n}\n\n" +
			"if (metric['code'] regex '5[0-9][0-9]') {\n  return new AlarmStatus(CRITICAL, 'HTTP server responding with 5xx status');\n}\n\n" +
			"if (metric['duration'] > 2000) {\n  return new AlarmStatus(WARNING, 'HTTP response time is #{duration} ms, above threshold 2000 ms');\n}\n\n" +
			"return new AlarmStatus(OK, 'HTTP server is functioning normally');\n",
		status: func(state string, x float64) string {
			switch state {
			case "CRITICAL":
				if x < 0.3 {
					return "HTTP server responding with 4xx status"
				}
				return "HTTP server responding with 5xx status"
			case "WARNING":
				return fmt.Sprintf("HTTP response time is %d ms, above threshold 2000 ms", 2000+int(x*6000))
			}
			return "HTTP server is functioning normally"
		},
		metrics: []metricBand{bandHTTPCode, bandHTTPTime},
	}
	kindSSL = checkKind{
		typ: "remote.ssl", checkLabel: "SSL certificate", alarmLabel: "SSL certificate expiry",
		criteria: "if (metric['cert_end_in'] < 604800) {\n  return new AlarmStatus(CRITICAL, 'Certificate expires in less than 7 days');\n}\n\n" +
			"if (metric['cert_end_in'] < 2592000) {\n  return new AlarmStatus(WARNING, 'Certificate expires in less than 30 days');\n}\n\n" +
			"return new AlarmStatus(OK, 'Certificate is valid');\n",
		status: func(state string, _ float64) string {
			switch state {
			case "CRITICAL":
				return "Certificate expires in less than 7 days"
			case "WARNING":
				return "Certificate expires in less than 30 days"
			}
			return "Certificate is valid"
		},
		metrics: []metricBand{bandSSL},
	}
	kindTCP = checkKind{
		typ: "remote.tcp", checkLabel: "SSH port", alarmLabel: "TCP connection",
		criteria: "if (metric['duration'] > 5000) {\n  return new AlarmStatus(CRITICAL, 'Connection time is #{duration} ms, above threshold 5000 ms');\n}\n\n" +
			"if (metric['duration'] > 500) {\n  return new AlarmStatus(WARNING, 'Connection time is #{duration} ms, above threshold 500 ms');\n}\n\n" +
			"return new AlarmStatus(OK, 'Connection time is #{duration} ms, below threshold 500 ms');\n",
		status:  thresholdStatus("Connection time is %v ms", "%.0f", "%.0f ms", bandTCP),
		metrics: []metricBand{bandTCP},
	}
	kindDNS = checkKind{
		typ: "remote.dns", checkLabel: "DNS A record", alarmLabel: "DNS resolution",
		criteria: "if (metric['duration'] > 1000) {\n  return new AlarmStatus(CRITICAL, 'DNS resolution took #{duration} ms, above threshold 1000 ms');\n}\n\n" +
			"if (metric['duration'] > 300) {\n  return new AlarmStatus(WARNING, 'DNS resolution took #{duration} ms, above threshold 300 ms');\n}\n\n" +
			"return new AlarmStatus(OK, 'DNS resolution took #{duration} ms, below threshold 300 ms');\n",
		status:  thresholdStatus("DNS resolution took %v ms", "%.0f", "%.0f ms", bandDNS),
		metrics: []metricBand{bandDNS},
	}

	// agentKinds cycles over the alarms of an entity running the agent;
	// remoteKinds over those of an entity without it.
	agentKinds  = []*checkKind{&kindCPU, &kindMemory, &kindFilesystem, &kindLoad, &kindPing, &kindHTTP, &kindNetwork, &kindDisk}
	remoteKinds = []*checkKind{&kindHTTP, &kindPing, &kindSSL, &kindTCP, &kindDNS}
)

var (
	regions  = []string{"dfw", "ord", "iad", "lon", "syd", "hkg"}
	zones    = []string{"mzdfw", "mziad", "mzord", "mzlon", "mzsyd", "mzhkg"}
	roles    = []string{"web", "db", "lb", "app", "cache", "worker", "api", "mq", "search", "mail"}
	sites    = []string{"www.example.com", "api.example.com", "shop.example.com", "status.example.net", "vpn.example.org", "blog.example.com", "cdn.example.net", "mail.example.org"}
	epochMin = time.Date(2014, 1, 6, 0, 0, 0, 0, time.UTC).UnixMilli()
)

const day = int64(24 * time.Hour / time.Millisecond)

type check struct {
	id, label string
	kind      *checkKind
	zones     []string // nil for agent checks
}

type alarm struct {
	id            string
	label         *string
	check         int // index into the entity's checks; -1 for an orphan state
	disabled      bool
	checkDisabled bool   // its check is disabled: no observations, the state is frozen
	plan          string // notification_plan_id
	unevaluated   bool
	bare          bool   // the latest state omits status and previous_state
	stateCheckID  string // check_id reported by the latest state
	kind          *checkKind
	zones         []string
	key           uint64 // per-alarm hash driving its states
	fixedTS       int64  // timestamp of the frozen state, in ms
}

type entity struct {
	id, label string
	kind      entityKind
	uri       *string
	agentID   *string
	checks    []check
	alarms    []alarm
	orphan    *alarm // latest state whose alarm matches no alarm of the entity

	// The wire objects, kept to re-render those a suppression names
	// (Fault.SuppressionIDs), and their pre-rendered JSON.
	we        wireEntity
	wc        []wireCheck
	wa        []wireAlarm
	raw       json.RawMessage // the entity object
	rawChecks json.RawMessage
	rawAlarms json.RawMessage
}

type wireEntity struct {
	ID          string            `json:"id"`
	Label       string            `json:"label"`
	IPAddresses map[string]string `json:"ip_addresses"`
	Metadata    json.RawMessage   `json:"metadata"`
	Managed     bool              `json:"managed"`
	URI         json.RawMessage   `json:"uri,omitempty"`
	AgentID     *string           `json:"agent_id"`
	CreatedAt   int64             `json:"created_at"`
	UpdatedAt   int64             `json:"updated_at"`
	Active      json.RawMessage   `json:"active_suppressions"`
	Scheduled   json.RawMessage   `json:"scheduled_suppressions"`
}

type wireCheck struct {
	ID                  string            `json:"id"`
	Label               string            `json:"label"`
	Type                string            `json:"type"`
	Details             map[string]any    `json:"details"`
	MonitoringZonesPoll []string          `json:"monitoring_zones_poll"`
	Timeout             int               `json:"timeout"`
	Period              int               `json:"period"`
	TargetAlias         *string           `json:"target_alias"`
	TargetHostname      *string           `json:"target_hostname"`
	TargetResolver      *string           `json:"target_resolver"`
	Disabled            bool              `json:"disabled"`
	Metadata            map[string]string `json:"metadata"`
	CreatedAt           int64             `json:"created_at"`
	UpdatedAt           int64             `json:"updated_at"`
	Active              json.RawMessage   `json:"active_suppressions"`
	Scheduled           json.RawMessage   `json:"scheduled_suppressions"`
}

type wireAlarm struct {
	ID                 string            `json:"id"`
	Label              json.RawMessage   `json:"label,omitempty"`
	CheckID            string            `json:"check_id"`
	Criteria           json.RawMessage   `json:"criteria"`
	NotificationPlanID string            `json:"notification_plan_id"`
	Disabled           *bool             `json:"disabled,omitempty"`
	Metadata           map[string]string `json:"metadata"`
	CreatedAt          int64             `json:"created_at"`
	UpdatedAt          int64             `json:"updated_at"`
	Active             json.RawMessage   `json:"active_suppressions"`
	Scheduled          json.RawMessage   `json:"scheduled_suppressions"`
}

var (
	emptyList = json.RawMessage(`[]`)
	nullJSON  = json.RawMessage(`null`)
)

// suppressionLists is the default of an object's active_suppressions and
// scheduled_suppressions: empty arrays, or null for the quirky few.
func suppressionLists(null bool) (active, scheduled json.RawMessage) {
	if null {
		return nullJSON, nullJSON
	}
	return emptyList, emptyList
}

func ptr[T any](v T) *T { return &v }

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// buildEntities generates an account's entities, sorted by ID.
func buildEntities(seed int64, username, tenant string, servers, alarmsPer int, labels []string, plans accountPlans) []*entity {
	rng := rand.New(rand.NewPCG(uint64(seed), hashStrings(seed, "entities", username)))
	used := map[string]bool{}
	newID := func(prefix string) string {
		for {
			b := []byte(prefix)
			for range 8 {
				b = append(b, base62[rng.IntN(len(base62))])
			}
			if id := string(b); !used[id] {
				used[id] = true
				return id
			}
		}
	}
	uuid := func() string {
		var b [16]byte
		binary.LittleEndian.PutUint64(b[:8], rng.Uint64())
		binary.LittleEndian.PutUint64(b[8:], rng.Uint64())
		b[6] = b[6]&0x0f | 0x40
		b[8] = b[8]&0x3f | 0x80
		return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
	}

	ids := make([]string, servers)
	for i := range ids {
		ids[i] = newID("en")
	}
	slices.Sort(ids)

	out := make([]*entity, len(ids))
	serverCount, siteCount := 0, 0
	for i, id := range ids {
		e := &entity{id: id, kind: kindOf(i)}
		created := epochMin + rng.Int64N(5*365*day)
		updated := created + rng.Int64N(400*day)
		region := regions[rng.IntN(len(regions))]
		var host string // what remote checks target on non-server entities
		ips := map[string]string{}
		if e.kind.isServer() {
			role := roles[serverCount%len(roles)]
			n := serverCount/len(roles) + 1
			serverCount++
			switch rng.IntN(4) {
			case 0:
				e.label = fmt.Sprintf("%s-%02d.prod.example.com", role, n)
			case 1:
				e.label = fmt.Sprintf("%s-%02d", role, n)
			case 2:
				e.label = fmt.Sprintf("%s%d.%s.example.net", role, n, region)
			default:
				e.label = fmt.Sprintf("%s-%02d.staging.example.com", role, n)
			}
			v4 := fmt.Sprintf("%d.%d.%d.%d", []int{104, 162, 166, 23}[rng.IntN(4)], 130+rng.IntN(20), rng.IntN(256), 1+rng.IntN(254))
			v6 := fmt.Sprintf("2001:4800:7818:104:be76:4eff:fe%02x:%04x", rng.IntN(256), rng.IntN(65536))
			if rng.IntN(3) == 0 {
				ips["access_ip0_v6"] = v6
				ips["access_ip1_v4"] = v4
			} else {
				ips["public0_v4"] = v4
				ips["public1_v6"] = v6
				ips["private0_v4"] = fmt.Sprintf("10.%d.%d.%d", 176+rng.IntN(40), rng.IntN(256), 1+rng.IntN(254))
			}
			server := uuid()
			e.uri = ptr(fmt.Sprintf("https://%s.servers.api.rackspacecloud.com/%s/servers/%s", region, tenant, server))
			if e.kind == kindServer {
				e.agentID = ptr(server)
			}
		} else {
			site := sites[siteCount%len(sites)]
			if k := siteCount / len(sites); k > 0 {
				name, rest, _ := strings.Cut(site, ".")
				site = fmt.Sprintf("%s%d.%s", name, k+1, rest)
			}
			siteCount++
			e.label, host = site, site
			if e.kind != kindURINull {
				ips["default"] = fmt.Sprintf("%d.%d.%d.%d", 198, 51, rng.IntN(256), 1+rng.IntN(254))
			}
			if e.kind == kindURIOther {
				e.uri = ptr(fmt.Sprintf("http://ffo.com/uri/bar/%d", 10000+rng.IntN(90000)))
			}
		}

		if i < len(labels) {
			e.label = labels[i]
		}

		we := wireEntity{
			ID: e.id, Label: e.label, IPAddresses: ips, Managed: entityManaged(i),
			AgentID: e.agentID, CreatedAt: created, UpdatedAt: updated,
		}
		we.Active, we.Scheduled = suppressionLists(nullEntitySupp(i))
		if !entityMetadataNull(i) {
			we.Metadata = json.RawMessage(`{}`)
		}
		switch {
		case e.uri != nil:
			we.URI = mustJSON(*e.uri)
		case e.kind == kindURINull:
			we.URI = json.RawMessage(`null`)
		}
		e.we, e.raw = we, mustJSON(we)

		if !emptyEntity(i) {
			kinds := remoteKinds
			if e.agentID != nil {
				kinds = agentKinds
			}
			wchecks := make([]wireCheck, 0, alarmsPer)
			walarms := make([]wireAlarm, 0, alarmsPer)
			for j := range alarmsPer {
				k := kinds[j%len(kinds)]
				cCreated := created + rng.Int64N(30*day)
				c := check{id: newID("ch"), label: k.checkLabel, kind: k}
				wc := wireCheck{
					ID: c.id, Type: k.typ, Details: map[string]any{}, Timeout: 30, Period: 60, Disabled: disabledCheck(i, j),
					Metadata: map[string]string{}, CreatedAt: cCreated, UpdatedAt: cCreated + rng.Int64N(90*day),
				}
				wc.Active, wc.Scheduled = suppressionLists(nullCheckSupp(i, j))
				if !k.agent {
					start := rng.IntN(len(zones))
					for z := range 3 {
						c.zones = append(c.zones, zones[(start+z)%len(zones)])
					}
					slices.Sort(c.zones)
					wc.Period = []int{60, 120, 300}[rng.IntN(3)]
					if host != "" {
						wc.TargetHostname = ptr(host)
						wc.TargetResolver = ptr("IPv4")
					} else {
						alias := "public0_v4"
						if _, ok := ips[alias]; !ok {
							alias = "access_ip1_v4"
						}
						wc.TargetAlias = ptr(alias)
					}
				}
				wc.MonitoringZonesPoll = c.zones
				target := host
				if target == "" {
					target = e.label
				}
				switch k.typ {
				case "agent.filesystem":
					wc.Details["target"] = "/"
				case "agent.network":
					wc.Details["target"] = "eth0"
				case "agent.disk":
					wc.Details["target"] = "/dev/xvda1"
				case "remote.http":
					url := "https://" + target + []string{"/", "/health", "/login"}[j/len(kinds)%3]
					wc.Details = map[string]any{"url": url, "method": "GET", "follow_redirects": true, "include_body": false}
					c.label = "HTTP " + url
				case "remote.ping":
					wc.Details["count"] = 5
				case "remote.ssl":
					wc.Details["port"] = 443
				case "remote.tcp":
					wc.Details = map[string]any{"port": 22, "banner_match": "SSH-2.0"}
				case "remote.dns":
					wc.Details = map[string]any{"port": 53, "query": target, "record_type": "A"}
				}
				if round := j / len(kinds); round > 0 {
					c.label = fmt.Sprintf("%s (%d)", c.label, round+1)
				}
				wc.Label = c.label
				e.checks = append(e.checks, c)
				wchecks = append(wchecks, wc)

				aCreated := cCreated + rng.Int64N(day)
				a := alarm{
					id: newID("al"), check: j, kind: k, zones: c.zones, stateCheckID: c.id,
					disabled: disabledAlarm(i, j), checkDisabled: disabledCheck(i, j), unevaluated: unevaluated(i, j), bare: bareState(i, j),
					fixedTS: aCreated + rng.Int64N(60*day),
				}
				a.key = hashStrings(seed, "alarm", username, a.id)
				a.plan = plans.pick(seed, username, a.id)
				wa := wireAlarm{
					ID: a.id, CheckID: c.id, Criteria: mustJSON(k.criteria), NotificationPlanID: a.plan,
					Metadata: map[string]string{}, CreatedAt: aCreated, UpdatedAt: aCreated + rng.Int64N(90*day),
				}
				wa.Active, wa.Scheduled = suppressionLists(nullAlarmSupp(i, j))
				if nullCriteria(i, j) {
					wa.Criteria = nullJSON
				}
				switch {
				case nullLabel(i, j):
					wa.Label = json.RawMessage(`null`)
				case absentLabel(i, j):
				default:
					label := k.alarmLabel
					if round := j / len(kinds); round > 0 {
						label = fmt.Sprintf("%s (%d)", label, round+1)
					}
					if i < len(labels) {
						label = labels[i]
					}
					a.label = ptr(label)
					wa.Label = mustJSON(label)
				}
				if !noDisabledKey(j) || a.disabled {
					wa.Disabled = ptr(a.disabled)
				}
				e.alarms = append(e.alarms, a)
				walarms = append(walarms, wa)
			}
			e.wc, e.wa = wchecks, walarms
			e.rawChecks = mustJSON(wchecks)
			e.rawAlarms = mustJSON(walarms)

			if orphanCheckState(i) {
				for j := range e.alarms {
					if !e.alarms[j].unevaluated {
						e.alarms[j].stateCheckID = newID("ch")
						break
					}
				}
			}
			if orphanAlarmState(i) && len(e.checks) > 0 {
				o := &alarm{
					id: newID("al"), check: -1, kind: e.checks[0].kind, zones: e.checks[0].zones,
					stateCheckID: e.checks[0].id, fixedTS: created + rng.Int64N(60*day),
				}
				o.key = hashStrings(seed, "alarm", username, o.id)
				e.orphan = o
			}
		} else {
			e.rawChecks = json.RawMessage(`[]`)
			e.rawAlarms = json.RawMessage(`[]`)
		}
		out[i] = e
	}
	return out
}

// frozen: the alarm or its check is disabled, so nothing evaluates it.
func (a *alarm) frozen() bool { return a.disabled || a.checkDisabled }

// alarmState is one evaluated state of an alarm.
type alarmState struct {
	state, previous, status string
	timestamp               int64 // ms
	zone                    *string
}

// maxLookback bounds how many periods back the start of the current state is
// searched for.
const maxLookback = 256

func pickState(h uint64, warn, crit float64) string {
	u := unit(h)
	switch {
	case u < crit:
		return "CRITICAL"
	case u < crit+warn:
		return "WARNING"
	}
	return "OK"
}

// stateOf derives the alarm's latest state at now. With a change period each
// alarm gets a state per period, its periods shifted by a per-alarm offset so
// alarms change at different moments; the reported timestamp is when the
// current state began (the period it changed in) and previous_state is the
// state before that. Without a period, for disabled alarms (or alarms on a
// disabled check), and when the shares allow only one state, the state is
// frozen.
func stateOf(a *alarm, now time.Time, every time.Duration, warn, crit float64) alarmState {
	st, _ := stateAt(a, now, every, warn, crit)
	return st
}

// stateAt is stateOf with the level in [0, 1) its state began with (what
// its status and its metric's value derive from).
func stateAt(a *alarm, now time.Time, every time.Duration, warn, crit float64) (alarmState, float64) {
	var st alarmState
	var x uint64
	if !a.changes(every, warn, crit) {
		h := mix64(a.key ^ golden)
		st.state = pickState(h, warn, crit)
		st.previous = "OK"
		if st.state == "OK" {
			st.previous = []string{"WARNING", "CRITICAL"}[a.key>>63]
		}
		st.timestamp = a.fixedTS
		x = mix64(h)
	} else {
		p, off := a.periods(every)
		b := floorDiv(now.UnixMilli()+off, p)
		cur, _ := a.periodState(b, warn, crit)
		start := b
		prev := cur
		for range maxLookback {
			s, _ := a.periodState(start-1, warn, crit)
			if s != cur {
				prev = s
				break
			}
			start--
		}
		if prev == cur {
			prev = "OK"
			if cur == "OK" {
				prev = []string{"WARNING", "CRITICAL"}[a.key>>63]
			}
		}
		st.state, st.previous = cur, prev
		st.timestamp = start*p - off
		_, h := a.periodState(start, warn, crit)
		x = mix64(h)
	}
	a.describe(&st, x)
	return st, unit(x)
}

const golden = 0x9e3779b97f4a7c15

// changes reports whether the alarm's state follows its periods: there is
// a period, the alarm and its check are enabled, and the shares allow more
// than one state.
func (a *alarm) changes(every time.Duration, warn, crit float64) bool {
	single := crit >= 1 || warn+crit <= 0 || (crit <= 0 && warn >= 1) // only one state is possible
	return every > 0 && !a.frozen() && !single
}

// periods is the alarm's period in ms and its offset: period b runs from
// b*p-off to (b+1)*p-off.
func (a *alarm) periods(every time.Duration) (p, off int64) {
	p = max(every.Milliseconds(), 1)
	return p, int64(a.key % uint64(p))
}

// periodState is the alarm's state in period b and the hash behind it.
func (a *alarm) periodState(b int64, warn, crit float64) (string, uint64) {
	h := mix64(a.key ^ uint64(b)*golden)
	return pickState(h, warn, crit), h
}

// describe sets the state's status and zone from x, the mixed hash of the
// period the state began in.
func (a *alarm) describe(st *alarmState, x uint64) {
	st.status = a.kind.status(st.state, unit(x))
	if len(a.zones) > 0 {
		st.zone = &a.zones[int(x%uint64(len(a.zones)))]
	}
}

// floorDiv is x/y rounded toward minus infinity (y > 0).
func floorDiv(x, y int64) int64 {
	q := x / y
	if x%y != 0 && x < 0 {
		q--
	}
	return q
}
