package fakerax

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Suppressions mute an account's notifications for a while; they never
// change an alarm's state. The calls:
//
//	GET    /suppressions        paginated, sorted by ID, repeated ?id= filter
//	POST   /suppressions        201, Location and X-Object-ID, no body
//	GET    /suppressions/{id}
//	PUT    /suppressions/{id}   204; once started only end_time may change
//	DELETE /suppressions/{id}   204; an active one ends, as it is removed
//
// The body: {label, entities, checks ("enX:chY"), alarms ("enX:alY"),
// notification_plans, start_time, end_time}, every key optional. Times are
// ms; 0 means "now" at write time (not "open-ended"); a missing time is 0,
// as mimic does. start_time must be 0 or in the future, up to 60 s in the
// past counting as now; end_time 0 or in the future, and not before
// start_time. Each list holds at most 512 items; a label 1 to 255
// characters. Items must look like IDs of their kind; whether the objects
// exist is not checked. Unknown keys are refused. A rule broken answers 400
// badRequest "Validation error for key '…'" with the reason in details.
//
// A suppression is active while start_time <= now < end_time and scheduled
// before; an ended one stays listed until deleted. With
// Fault.SuppressionIDs the overview lists, on each entity, check and alarm,
// the IDs of the active and scheduled suppressions that name it (an alarm
// also by its notification plan); otherwise those lists stay [] as every
// captured sample shows.

const (
	maxSuppressionItems = 512
	maxLabelRunes       = 255
	startGrace          = 60 * time.Second
)

// Suppression is one suppression as the API serves it.
type Suppression struct {
	ID                string // set by the fake; ignored by AddSuppression
	Label             string // "" for none (served null)
	Entities          []string
	Checks            []string // "entityId:checkId"
	Alarms            []string // "entityId:alarmId"
	NotificationPlans []string
	// Start and End: the zero time means now at write time, like the API's
	// 0 (so a zero End ends the suppression at once).
	Start, End time.Time
}

type suppression struct {
	id         string
	label      *string
	lists      [4][]string // by listKeys
	start, end int64       // ms
}

// listKey is one of the body's list keys, with the shape of its items.
type listKey struct {
	key, shape string
	re         *regexp.Regexp
}

// listKeys are the body's lists, in the order of suppression.lists.
var listKeys = [4]listKey{
	{"entities", "entity IDs (en…)", regexp.MustCompile(`^en[A-Za-z0-9]+$`)},
	{"checks", `"entityId:checkId" (en…:ch…)`, regexp.MustCompile(`^en[A-Za-z0-9]+:ch[A-Za-z0-9]+$`)},
	{"alarms", `"entityId:alarmId" (en…:al…)`, regexp.MustCompile(`^en[A-Za-z0-9]+:al[A-Za-z0-9]+$`)},
	{"notification_plans", "notification plan IDs (np…)", regexp.MustCompile(`^np[A-Za-z0-9]+$`)},
}

func (sp *suppression) active(now int64) bool    { return sp.start <= now && now < sp.end }
func (sp *suppression) scheduled(now int64) bool { return now < sp.start }

func (sp *suppression) export() Suppression {
	out := Suppression{ID: sp.id, Start: time.UnixMilli(sp.start).UTC(), End: time.UnixMilli(sp.end).UTC()}
	if sp.label != nil {
		out.Label = *sp.label
	}
	out.Entities, out.Checks, out.Alarms, out.NotificationPlans =
		slices.Clone(sp.lists[0]), slices.Clone(sp.lists[1]), slices.Clone(sp.lists[2]), slices.Clone(sp.lists[3])
	return out
}

type wireSuppression struct {
	ID                string   `json:"id"`
	Label             *string  `json:"label"`
	Entities          []string `json:"entities"`
	Checks            []string `json:"checks"`
	Alarms            []string `json:"alarms"`
	NotificationPlans []string `json:"notification_plans"`
	StartTime         int64    `json:"start_time"`
	EndTime           int64    `json:"end_time"`
}

func (sp *suppression) wire() wireSuppression {
	list := func(l []string) []string {
		if l == nil {
			return []string{}
		}
		return l
	}
	return wireSuppression{ID: sp.id, Label: sp.label, Entities: list(sp.lists[0]), Checks: list(sp.lists[1]),
		Alarms: list(sp.lists[2]), NotificationPlans: list(sp.lists[3]), StartTime: sp.start, EndTime: sp.end}
}

// fieldError is a body the API refuses: key names the offending field.
type fieldError struct{ key, reason string }

func (e *fieldError) Error() string {
	return fmt.Sprintf("fakerax: validation error for key '%s': %s", e.key, e.reason)
}

// supPatch is what a body sets; absent keys are left alone (on create:
// empty lists, no label, times 0).
type supPatch struct {
	hasLabel bool
	label    *string
	hasList  [4]bool
	lists    [4][]string
	hasStart bool
	start    int64
	hasEnd   bool
	end      int64
}

// parseSuppressionBody reads and checks a POST or PUT body's keys and types.
func parseSuppressionBody(body []byte) (supPatch, error) {
	var p supPatch
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil || m == nil {
		return p, &fieldError{"body", "the body must be a JSON object"}
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		raw := m[k]
		switch k {
		case "label":
			p.hasLabel = true
			if string(raw) == "null" {
				break
			}
			var l string
			if json.Unmarshal(raw, &l) != nil {
				return p, &fieldError{k, "label must be a string"}
			}
			p.label = &l
		case "start_time", "end_time":
			n, err := strconv.ParseInt(string(raw), 10, 64)
			if err != nil || n < 0 {
				return p, &fieldError{k, k + " must be a whole number of milliseconds since the epoch, or 0 for now"}
			}
			if k == "start_time" {
				p.hasStart, p.start = true, n
			} else {
				p.hasEnd, p.end = true, n
			}
		default:
			i := slices.IndexFunc(listKeys[:], func(l listKey) bool { return l.key == k })
			if i < 0 {
				return p, &fieldError{k, "unexpected key; allowed: label, entities, checks, alarms, notification_plans, start_time, end_time"}
			}
			p.hasList[i] = true
			if string(raw) == "null" {
				break
			}
			if json.Unmarshal(raw, &p.lists[i]) != nil {
				return p, &fieldError{k, k + " must be an array of strings"}
			}
		}
	}
	return p, p.check()
}

// check applies the rules that do not depend on the clock.
func (p supPatch) check() error {
	if p.label != nil {
		if n := utf8.RuneCountInString(*p.label); n < 1 || n > maxLabelRunes {
			return &fieldError{"label", fmt.Sprintf("label must be 1 to %d characters long, got %d", maxLabelRunes, n)}
		}
	}
	for i, l := range listKeys {
		if len(p.lists[i]) > maxSuppressionItems {
			return &fieldError{l.key, fmt.Sprintf("%s holds at most %d items, got %d", l.key, maxSuppressionItems, len(p.lists[i]))}
		}
		for _, v := range p.lists[i] {
			if !l.re.MatchString(v) {
				return &fieldError{l.key, fmt.Sprintf("%s items are %s, got %q", l.key, l.shape, v)}
			}
		}
	}
	return nil
}

// patchOf is the patch that sets every field of a Go Suppression.
func patchOf(sp Suppression) supPatch {
	p := supPatch{hasLabel: true, hasStart: true, hasEnd: true, hasList: [4]bool{true, true, true, true},
		lists: [4][]string{sp.Entities, sp.Checks, sp.Alarms, sp.NotificationPlans}}
	if sp.Label != "" {
		p.label = &sp.Label
	}
	if !sp.Start.IsZero() {
		p.start = sp.Start.UnixMilli()
	}
	if !sp.End.IsZero() {
		p.end = sp.End.UnixMilli()
	}
	return p
}

// resolveStart turns a start_time into a time: 0 and up to 60 s in the past
// are now; further in the past is refused.
func resolveStart(v, now int64) (int64, error) {
	switch {
	case v == 0:
		return now, nil
	case v < now-startGrace.Milliseconds():
		return 0, &fieldError{"start_time", "start_time must be 0 (now) or in the future"}
	}
	return max(v, now), nil
}

// resolveEnd turns an end_time into a time: 0 is now; the past is refused.
func resolveEnd(v, now int64) (int64, error) {
	switch {
	case v == 0:
		return now, nil
	case v < now:
		return 0, &fieldError{"end_time", "end_time must be 0 (now) or in the future"}
	}
	return v, nil
}

// apply makes the patch's changes to a copy of sp (nil: a new one) at now.
func (p supPatch) apply(sp *suppression, now int64) (*suppression, error) {
	if sp == nil {
		sp = &suppression{}
		p.hasStart, p.hasEnd = true, true // a missing time is 0: now
	} else if sp.start <= now {
		return p.applyStarted(sp, now)
	}
	out := *sp
	if p.hasLabel {
		out.label = clonePtr(p.label)
	}
	for i := range p.lists {
		if p.hasList[i] {
			out.lists[i] = slices.Clone(p.lists[i])
		}
	}
	var err error
	if p.hasStart {
		if out.start, err = resolveStart(p.start, now); err != nil {
			return nil, err
		}
	}
	if p.hasEnd {
		if out.end, err = resolveEnd(p.end, now); err != nil {
			return nil, err
		}
	}
	if out.end < out.start {
		return nil, &fieldError{"end_time", "end_time must not be before start_time"}
	}
	return &out, nil
}

// applyStarted changes a suppression that has started: only end_time may
// change; other keys are accepted only with their current values.
func (p supPatch) applyStarted(sp *suppression, now int64) (*suppression, error) {
	const reason = "only end_time can be changed once the suppression has started"
	if p.hasLabel && !equalPtr(p.label, sp.label) {
		return nil, &fieldError{"label", reason}
	}
	for i, l := range listKeys {
		if p.hasList[i] && !slices.Equal(p.lists[i], sp.lists[i]) {
			return nil, &fieldError{l.key, reason}
		}
	}
	if p.hasStart && p.start != sp.start && (p.start != 0 || sp.start != now) {
		return nil, &fieldError{"start_time", reason}
	}
	out := *sp
	if p.hasEnd {
		var err error
		if out.end, err = resolveEnd(p.end, now); err != nil {
			return nil, err
		}
	}
	return &out, nil
}

func equalPtr[T comparable](a, b *T) bool {
	return (a == nil) == (b == nil) && (a == nil || *a == *b)
}

// newSuppressionID is a fresh "sp…" ID for the account, from the seed and
// how many the account has made. s.mu is held.
func (s *Server) newSuppressionID(a *account) string {
	for {
		a.supSeq++
		id := hashID("sp", hashStrings(s.cfg.Seed, "suppression", a.Username, strconv.FormatUint(a.supSeq, 10)))
		if a.sups[id] == nil {
			return id
		}
	}
}

// createSuppression validates and stores a new suppression at now.
func (s *Server) createSuppression(a *account, p supPatch, now time.Time) (string, error) {
	sp, err := p.apply(nil, now.UnixMilli())
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sp.id = s.newSuppressionID(a)
	if a.sups == nil {
		a.sups = map[string]*suppression{}
	}
	a.sups[sp.id] = sp
	return sp.id, nil
}

// errNoSuppression: the account has no suppression by that ID.
var errNoSuppression = errors.New("fakerax: no such suppression")

// AddSuppression validates and stores a suppression as POST /suppressions
// would, at the fake's clock, and returns its ID.
func (s *Server) AddSuppression(username string, sp Suppression) (string, error) {
	s.mu.Lock()
	a := s.byUser[username]
	s.mu.Unlock()
	if a == nil {
		return "", fmt.Errorf("fakerax: no account %q", username)
	}
	p := patchOf(sp)
	if err := p.check(); err != nil {
		return "", err
	}
	return s.createSuppression(a, p, s.cfg.Now())
}

// DeleteSuppression removes a suppression (ending it if active), as DELETE
// /suppressions/{id} does.
func (s *Server) DeleteSuppression(username, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.byUser[username]
	if a == nil {
		return fmt.Errorf("fakerax: no account %q", username)
	}
	if a.sups[id] == nil {
		return fmt.Errorf("%w: %q", errNoSuppression, id)
	}
	delete(a.sups, id)
	return nil
}

// Suppressions lists the account's suppressions sorted by ID, ended ones
// included; nil for an unknown account.
func (s *Server) Suppressions(username string) []Suppression {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.byUser[username]
	if a == nil {
		return nil
	}
	out := []Suppression{}
	for _, id := range slices.Sorted(maps.Keys(a.sups)) {
		out = append(out, a.sups[id].export())
	}
	return out
}

// serveSuppressions answers the suppression calls.
func (s *Server) serveSuppressions(w http.ResponseWriter, r *http.Request, m *monReq) {
	id, one := strings.CutPrefix(m.sub, "suppressions/")
	if one && (id == "" || strings.Contains(id, "/")) {
		s.writeMonitoringFault(w, http.StatusNotFound, "notFoundError", 404, "Resource not found", "The requested resource could not be found")
		return
	}
	methods := []string{http.MethodGet, http.MethodHead, http.MethodPost}
	if one {
		methods = []string{http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete}
	}
	if !s.allow(w, r, methods...) || s.injectFault(w, m) {
		return
	}
	if !one {
		if r.Method == http.MethodPost {
			s.postSuppression(w, r, m)
		} else {
			s.listSuppressions(w, r, m)
		}
		return
	}

	s.mu.Lock()
	sp := m.a.sups[id]
	var cur suppression
	if sp != nil {
		cur = *sp
	}
	s.mu.Unlock()
	if sp == nil {
		s.writeMonitoringFault(w, http.StatusNotFound, "notFoundError", "404", "Object does not exist",
			fmt.Sprintf("Object \"Suppression\" with key \"%s\" does not exist", id))
		return
	}
	switch r.Method {
	case http.MethodPut:
		body, ok := s.readBody(w, r)
		if !ok {
			return
		}
		p, err := parseSuppressionBody(body)
		if err == nil {
			sp, err = p.apply(&cur, m.now.UnixMilli())
		}
		if err != nil {
			s.writeValidationFault(w, err)
			return
		}
		s.mu.Lock()
		if m.a.sups[id] != nil { // not deleted meanwhile
			m.a.sups[id] = sp
		}
		s.mu.Unlock()
		setObjectHeaders(w, r, m.a, id)
		w.WriteHeader(http.StatusNoContent)
	case http.MethodDelete:
		s.mu.Lock()
		delete(m.a.sups, id)
		s.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	default:
		writeJSONBody(w, m.f, mustJSON(cur.wire()))
	}
}

func (s *Server) postSuppression(w http.ResponseWriter, r *http.Request, m *monReq) {
	body, ok := s.readBody(w, r)
	if !ok {
		return
	}
	p, err := parseSuppressionBody(body)
	var id string
	if err == nil {
		id, err = s.createSuppression(m.a, p, m.now)
	}
	if err != nil {
		s.writeValidationFault(w, err)
		return
	}
	setObjectHeaders(w, r, m.a, id)
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusCreated)
}

// setObjectHeaders names a written object: Location and X-Object-ID.
func setObjectHeaders(w http.ResponseWriter, r *http.Request, a *account, id string) {
	w.Header().Set("Location", baseURL(r)+"/v1.0/"+a.TenantID+"/suppressions/"+id)
	w.Header().Set("X-Object-ID", id)
}

// readBody reads a request body of at most 1 MiB, or answers 413.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, 1<<20)); err != nil {
		s.writeMonitoringFault(w, http.StatusRequestEntityTooLarge, "requestTooLargeError", 413, "Request too large", "The request body is larger than 1 MiB or could not be read")
		return nil, false
	}
	return buf.Bytes(), true
}

// writeValidationFault answers 400 badRequest for a body the API refuses.
func (s *Server) writeValidationFault(w http.ResponseWriter, err error) {
	var fe *fieldError
	if errors.As(err, &fe) {
		s.writeMonitoringFault(w, http.StatusBadRequest, "badRequest", 400, "Validation error for key '"+fe.key+"'", fe.reason)
		return
	}
	s.writeMonitoringFault(w, http.StatusBadRequest, "badRequest", 400, "Validation error", err.Error())
}

func (s *Server) listSuppressions(w http.ResponseWriter, r *http.Request, m *monReq) {
	want := r.URL.Query()["id"]
	s.mu.Lock()
	var list []wireSuppression
	for id, sp := range m.a.sups {
		if len(want) == 0 || slices.Contains(want, id) {
			list = append(list, sp.wire())
		}
	}
	s.mu.Unlock()
	slices.SortFunc(list, func(x, y wireSuppression) int { return strings.Compare(x.ID, y.ID) })
	ids := make([]string, len(list))
	for i, sp := range list {
		ids[i] = sp.ID
	}
	start, end, meta, ok := s.idPage(w, r, m, ids)
	if !ok {
		return
	}
	page := list[start:end]
	if page == nil {
		page = []wireSuppression{}
	}
	writeJSONBody(w, m.f, mustJSON(struct {
		Values   []wireSuppression `json:"values"`
		Metadata listMetadata      `json:"metadata"`
	}{page, meta}))
}

// supIndex maps the objects the account's active and scheduled
// suppressions name to their IDs, for the overview's lists. Keys: "e:"+en,
// "c:"+en:ch, "a:"+en:al, "p:"+np.
type supIndex struct{ active, scheduled map[string][]string }

// suppressionIndex is the index at now; nil when nothing is active or
// scheduled.
func (s *Server) suppressionIndex(a *account, now time.Time) *supIndex {
	ms := now.UnixMilli()
	s.mu.Lock()
	defer s.mu.Unlock()
	var ix *supIndex
	for _, id := range slices.Sorted(maps.Keys(a.sups)) {
		sp := a.sups[id]
		var into map[string][]string
		switch {
		case sp.active(ms):
			if ix == nil {
				ix = &supIndex{active: map[string][]string{}, scheduled: map[string][]string{}}
			}
			into = ix.active
		case sp.scheduled(ms):
			if ix == nil {
				ix = &supIndex{active: map[string][]string{}, scheduled: map[string][]string{}}
			}
			into = ix.scheduled
		default:
			continue
		}
		for i, prefix := range []string{"e:", "c:", "a:", "p:"} {
			for _, v := range sp.lists[i] {
				if k := prefix + v; !slices.Contains(into[k], id) {
					into[k] = append(into[k], id)
				}
			}
		}
	}
	return ix
}

// lists are the active and scheduled IDs naming any of keys, sorted; nil
// when none do.
func (ix *supIndex) lists(keys ...string) (active, scheduled []string) {
	for _, k := range keys {
		active = append(active, ix.active[k]...)
		scheduled = append(scheduled, ix.scheduled[k]...)
	}
	slices.Sort(active)
	slices.Sort(scheduled)
	return slices.Compact(active), slices.Compact(scheduled)
}

// fill sets an object's two lists when any suppression names it, and
// reports whether it did.
func fill(active, scheduled []string, dstActive, dstScheduled *json.RawMessage) bool {
	if len(active) == 0 && len(scheduled) == 0 {
		return false
	}
	if active == nil {
		active = []string{}
	}
	if scheduled == nil {
		scheduled = []string{}
	}
	*dstActive, *dstScheduled = mustJSON(active), mustJSON(scheduled)
	return true
}

// render is the entity's three objects with the suppression lists filled
// in; those no suppression names keep their pre-rendered JSON.
func (ix *supIndex) render(e *entity) (raw, rawChecks, rawAlarms json.RawMessage) {
	raw, rawChecks, rawAlarms = e.raw, e.rawChecks, e.rawAlarms
	we := e.we
	if act, sch := ix.lists("e:" + e.id); fill(act, sch, &we.Active, &we.Scheduled) {
		raw = mustJSON(we)
	}
	var wc []wireCheck
	for j, c := range e.wc {
		act, sch := ix.lists("c:" + e.id + ":" + c.ID)
		if len(act)+len(sch) == 0 {
			continue
		}
		if wc == nil {
			wc = slices.Clone(e.wc)
		}
		fill(act, sch, &wc[j].Active, &wc[j].Scheduled)
	}
	if wc != nil {
		rawChecks = mustJSON(wc)
	}
	var wa []wireAlarm
	for j, al := range e.wa {
		act, sch := ix.lists("a:"+e.id+":"+al.ID, "p:"+al.NotificationPlanID)
		if len(act)+len(sch) == 0 {
			continue
		}
		if wa == nil {
			wa = slices.Clone(e.wa)
		}
		fill(act, sch, &wa[j].Active, &wa[j].Scheduled)
	}
	if wa != nil {
		rawAlarms = mustJSON(wa)
	}
	return raw, rawChecks, rawAlarms
}
