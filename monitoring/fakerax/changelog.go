package fakerax

import (
	"cmp"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Alarm changelogs: GET /changelogs/alarms, a time-series collection of
// every state change the overview shows, oldest first.
//
// Parameters: from and to (ms; to defaults to now, from to now-7d; entries
// older than 30 days are gone), limit and marker (the UUID of the first
// entry of the page), reverse (newest first) and entityId (repeatable; an
// unknown one is 404). Entries: id (a version-1 UUID whose time is the
// entry's), timestamp (ms; a quoted string with Fault.StringTimestamps, as
// the docs' sample shows), entity_id, alarm_id, check_id (what the latest
// state reports), state, previous_state, status and
// analyzed_by_monitoring_zone_id (a zone, or null for agent checks).
//
// The changelog starts when the account was added. For each evaluated
// alarm (and orphan state) it holds:
//
//   - the change that began the state the alarm was in when the account was
//     added (at that state's timestamp, so usually a little earlier);
//   - every change of the generated states since: with Config.ChangeEvery,
//     each period b whose state differs from period b-1, at the period's
//     start. These are derived from the same function as the overview, for
//     the requested window only, so nothing is stored;
//   - every state forced with SetState (or POST /_fake/state), at the fake's
//     clock, and the change back to the generated state when it is cleared
//     (if the state differs); generated changes while forced are not.
//
// So the last entry of an alarm at or before t has the state the overview
// shows at t.

const (
	changelogRetention = 30 * 24 * time.Hour
	changelogWindow    = 7 * 24 * time.Hour
	maxChunk           = int64(24 * time.Hour / time.Millisecond) // widest slice of time swept at once
)

// forcedEvent is one SetState that forced or released an alarm.
type forcedEvent struct {
	al    *alarm
	at    int64       // ms
	clear bool        // the alarm went back to its generated states
	entry *alarmState // the change it made; nil when the state stayed the same
	seq   int         // its position in the account's log, for the entry's ID
}

// change is one changelog entry.
type change struct {
	id    string
	ts    int64
	e     *entity
	al    *alarm
	state alarmState
}

func (c *change) before(d *change) bool {
	return c.ts < d.ts || c.ts == d.ts && c.id < d.id
}

// history is what one alarm's changelog is made of.
type history struct {
	e      *entity
	al     *alarm
	init   change        // the change behind the state current when the account was added
	forced []forcedEvent // its SetState events, oldest first
	spans  [][2]int64    // [forced at, released at] (math.MaxInt64 while forced)
	// With changing states: the period, the alarm's offset and the period
	// the account was added in; gen is false when the state never changes.
	gen          bool
	p, off, bAdd int64
}

// histories gathers the histories of the entities' evaluated alarms and
// orphan states.
func (s *Server) histories(a *account, ents []*entity) []history {
	s.mu.Lock()
	log := a.forcedLog
	added := a.added
	s.mu.Unlock()
	byAlarm := map[*alarm][]forcedEvent{}
	for _, ev := range log {
		byAlarm[ev.al] = append(byAlarm[ev.al], ev)
	}
	every := s.cfg.ChangeEvery
	var out []history
	add := func(e *entity, al *alarm) {
		h := history{e: e, al: al, forced: byAlarm[al]}
		st := stateOf(al, added, every, a.warn, a.crit)
		h.init = change{id: s.changeID(a, al, "init", st.timestamp), ts: st.timestamp, e: e, al: al, state: st}
		if al.changes(every, a.warn, a.crit) {
			h.gen = true
			h.p, h.off = al.periods(every)
			h.bAdd = floorDiv(added.UnixMilli()+h.off, h.p)
		}
		for _, ev := range h.forced {
			switch n := len(h.spans); {
			case !ev.clear && (n == 0 || h.spans[n-1][1] != math.MaxInt64):
				h.spans = append(h.spans, [2]int64{ev.at, math.MaxInt64})
			case ev.clear && n > 0:
				h.spans[n-1][1] = ev.at
			}
		}
		out = append(out, h)
	}
	for _, e := range ents {
		for j := range e.alarms {
			if !e.alarms[j].unevaluated {
				add(e, &e.alarms[j])
			}
		}
		if e.orphan != nil {
			add(e, e.orphan)
		}
	}
	return out
}

// forcedAt reports whether the alarm was forced at t (a generated change
// then does not show).
func (h *history) forcedAt(t int64) bool {
	for _, sp := range h.spans {
		if sp[0] <= t && t <= sp[1] {
			return true
		}
	}
	return false
}

// collect appends the alarm's changes with lo <= timestamp <= hi.
func (s *Server) collect(a *account, h *history, lo, hi int64, out []change) []change {
	if h.init.ts >= lo && h.init.ts <= hi {
		out = append(out, h.init)
	}
	for _, ev := range h.forced {
		if ev.entry != nil && ev.at >= lo && ev.at <= hi {
			tag := "forced " + strconv.Itoa(ev.seq)
			out = append(out, change{id: s.changeID(a, h.al, tag, ev.at), ts: ev.at, e: h.e, al: h.al, state: *ev.entry})
		}
	}
	if !h.gen {
		return out
	}
	// Period b begins at b*p-off; only those after the account was added.
	first := max(floorDiv(lo+h.off+h.p-1, h.p), h.bAdd+1)
	last := floorDiv(hi+h.off, h.p)
	if first > last {
		return out
	}
	prev, _ := h.al.periodState(first-1, a.warn, a.crit)
	for b := first; b <= last; b++ {
		cur, x := h.al.periodState(b, a.warn, a.crit)
		if cur != prev {
			if t := b*h.p - h.off; !h.forcedAt(t) {
				st := alarmState{state: cur, previous: prev, timestamp: t}
				h.al.describe(&st, mix64(x))
				out = append(out, change{id: s.changeID(a, h.al, "period "+strconv.FormatInt(b, 10), t), ts: t, e: h.e, al: h.al, state: st})
			}
		}
		prev = cur
	}
	return out
}

// sweep lists up to n changes within [lo, hi], oldest first (newest first
// when reverse), from start on when it is not nil (the marker: the entries
// before it, or after it in reverse, are skipped). It sweeps time in
// slices, widening them while they are sparse, so a page costs about what
// it holds.
func (s *Server) sweep(a *account, hs []history, lo, hi int64, reverse bool, start *change, n int) []change {
	step := hi - lo + 1
	if s.cfg.ChangeEvery > 0 {
		step = min(max(s.cfg.ChangeEvery.Milliseconds(), 1), step)
	}
	var out, batch []change
	for lo <= hi && len(out) < n {
		from, to := lo, min(hi, lo+step-1)
		if reverse {
			from, to = max(lo, hi-step+1), hi
			hi = from - 1
		} else {
			lo = to + 1
		}
		batch = batch[:0]
		for i := range hs {
			batch = s.collect(a, &hs[i], from, to, batch)
		}
		slices.SortFunc(batch, func(x, y change) int {
			c := cmp.Or(cmp.Compare(x.ts, y.ts), strings.Compare(x.id, y.id))
			if reverse {
				c = -c
			}
			return c
		})
		for _, c := range batch {
			if start != nil && (!reverse && c.before(start) || reverse && start.before(&c)) {
				continue
			}
			out = append(out, c)
			if len(out) == n {
				break
			}
		}
		if len(batch) < n {
			step = min(step*2, maxChunk)
		}
	}
	return out
}

// uuidEpoch is 1970-01-01 in 100 ns steps since 1582-10-15, a version-1
// UUID's epoch.
const uuidEpoch = 0x01B21DD213814000

// changeID is the entry's version-1 UUID: its time is ts (plus a sub-ms
// part), its clock sequence and node a hash of the account, the alarm and
// what made the change.
func (s *Server) changeID(a *account, al *alarm, tag string, ts int64) string {
	h := hashStrings(s.cfg.Seed, "change", a.Username, al.id, tag)
	t := uint64(ts)*10000 + uuidEpoch + h%10000
	node := h>>16&0xffffffffffff | 0x010000000000 // a random node has the multicast bit set
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", uint32(t), uint16(t>>32), uint16(t>>48)&0x0fff|0x1000, uint16(h>>2)&0x3fff|0x8000, node)
}

// changeIDTime is the ms time of a version-1 UUID.
func changeIDTime(id string) (int64, bool) {
	p := strings.Split(id, "-")
	if len(p) != 5 || len(p[0]) != 8 || len(p[1]) != 4 || len(p[2]) != 4 || len(p[3]) != 4 || len(p[4]) != 12 || p[2][0] != '1' {
		return 0, false
	}
	low, e1 := strconv.ParseUint(p[0], 16, 32)
	mid, e2 := strconv.ParseUint(p[1], 16, 16)
	hi, e3 := strconv.ParseUint(p[2], 16, 16)
	_, e4 := strconv.ParseUint(p[3]+p[4], 16, 64)
	if e1 != nil || e2 != nil || e3 != nil || e4 != nil {
		return 0, false
	}
	t := (hi&0x0fff)<<48 | mid<<32 | low
	if t < uuidEpoch {
		return 0, false
	}
	return int64((t - uuidEpoch) / 10000), true
}

// AlarmChange is one changelog entry.
type AlarmChange struct {
	ID                         string
	Time                       time.Time
	EntityID, AlarmID, CheckID string
	State, PreviousState       string
	Status                     string
	Zone                       string // "" when served null
}

// AlarmChanges is the account's changelog between from and to (within the
// last 30 days and not after now), oldest first; nil for an unknown
// account.
func (s *Server) AlarmChanges(username string, from, to time.Time) []AlarmChange {
	s.mu.Lock()
	a := s.byUser[username]
	s.mu.Unlock()
	if a == nil {
		return nil
	}
	now := s.cfg.Now()
	lo := max(from.UnixMilli(), now.Add(-changelogRetention).UnixMilli())
	hi := min(to.UnixMilli(), now.UnixMilli())
	out := []AlarmChange{}
	for _, c := range s.sweep(a, s.histories(a, a.entities), lo, hi, false, nil, math.MaxInt) {
		x := AlarmChange{ID: c.id, Time: time.UnixMilli(c.ts).UTC(), EntityID: c.e.id, AlarmID: c.al.id, CheckID: c.al.stateCheckID,
			State: c.state.state, PreviousState: c.state.previous, Status: c.state.status}
		if c.state.zone != nil {
			x.Zone = *c.state.zone
		}
		out = append(out, x)
	}
	return out
}

type wireChange struct {
	ID            string  `json:"id"`
	Timestamp     any     `json:"timestamp"`
	EntityID      string  `json:"entity_id"`
	AlarmID       string  `json:"alarm_id"`
	CheckID       string  `json:"check_id"`
	State         string  `json:"state"`
	PreviousState string  `json:"previous_state"`
	Status        string  `json:"status"`
	AnalyzedBy    *string `json:"analyzed_by_monitoring_zone_id"`
}

// msParam reads a ms time parameter, def when absent; a bad one answers 400.
func (s *Server) msParam(w http.ResponseWriter, q url.Values, key string, def int64) (int64, bool) {
	v := q.Get(key)
	if v == "" {
		return def, true
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		s.writeMonitoringFault(w, http.StatusBadRequest, "badRequest", 400, "Validation error for key '"+key+"'", key+" must be a time in milliseconds since the epoch")
		return 0, false
	}
	return n, true
}

// serveChangelog answers GET /changelogs/alarms.
func (s *Server) serveChangelog(w http.ResponseWriter, r *http.Request, m *monReq) {
	if s.injectFault(w, m) {
		return
	}
	a, q, now := m.a, r.URL.Query(), m.now.UnixMilli()
	limit, ok := s.limitParam(w, q)
	if !ok {
		return
	}
	to, ok := s.msParam(w, q, "to", now)
	if !ok {
		return
	}
	from, ok := s.msParam(w, q, "from", to-changelogWindow.Milliseconds())
	if !ok {
		return
	}
	if from > to {
		s.writeMonitoringFault(w, http.StatusBadRequest, "badRequest", 400, "Validation error for key 'from'", "from must not be after to")
		return
	}
	reverse := false
	if v := q.Get("reverse"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			s.writeMonitoringFault(w, http.StatusBadRequest, "badRequest", 400, "Validation error for key 'reverse'", "reverse must be true or false")
			return
		}
		reverse = b
	}
	ents := a.entities
	if ids := q["entityId"]; len(ids) > 0 {
		ents = nil
		for _, id := range ids {
			i, ok := a.byID[id]
			if !ok {
				s.writeMonitoringFault(w, http.StatusNotFound, "notFoundError", "404", "Object does not exist",
					fmt.Sprintf("Object \"Entity\" with key \"%s\" does not exist", id))
				return
			}
			if !slices.Contains(ents, a.entities[i]) {
				ents = append(ents, a.entities[i])
			}
		}
	}
	lo := max(from, now-changelogRetention.Milliseconds())
	hi := min(to, now)
	var start *change
	var marker *string
	if mk := q.Get("marker"); mk != "" {
		ts, ok := changeIDTime(mk)
		if !ok {
			s.writeMonitoringFault(w, http.StatusBadRequest, "badRequest", 400, "Validation error for key 'marker'", "marker must be the id of a changelog entry")
			return
		}
		marker, start = &mk, &change{ts: ts, id: mk}
		if reverse {
			hi = min(hi, ts)
		} else {
			lo = max(lo, ts)
		}
	}
	list := s.sweep(a, s.histories(a, ents), lo, hi, reverse, start, limit+1)
	meta := listMetadata{Limit: limit, Marker: marker}
	if len(list) > limit {
		next := list[limit].id
		meta.NextMarker, meta.NextHref = &next, nextHref(r, next)
		list = list[:limit]
	}
	meta.Count = len(list)
	values := make([]wireChange, len(list))
	for i, c := range list {
		var ts any = c.ts
		if m.f.StringTimestamps {
			ts = strconv.FormatInt(c.ts, 10)
		}
		values[i] = wireChange{ID: c.id, Timestamp: ts, EntityID: c.e.id, AlarmID: c.al.id, CheckID: c.al.stateCheckID,
			State: c.state.state, PreviousState: c.state.previous, Status: c.state.status, AnalyzedBy: c.state.zone}
	}
	writeJSONBody(w, m.f, mustJSON(struct {
		Values   []wireChange `json:"values"`
		Metadata listMetadata `json:"metadata"`
	}{values, meta}))
}
