package rackspace

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"time"

	"cmdash/monitoring"
)

// What Rackspace knows besides the overview, read after it with the same
// token: GET /suppressions, /changelogs/alarms, /limits and
// /notification_plans. Each read stands alone: one failing leaves the
// others to be made, except that a throttled answer (the budget is spent)
// or the caller's cancellation stops the rest.

// ChangelogRetention is how far back Rackspace keeps alarm changelogs: a
// read never asks for more.
const ChangelogRetention = 30 * 24 * time.Hour

// ExtrasMeta is what ReadExtras did besides reading.
type ExtrasMeta struct {
	// Token is the token finally used: the one passed in, or a new one
	// when a 401 made ReadExtras log in again (LoggedIn is then 1).
	Token    monitoring.Token
	LoggedIn int
	// RateLimit is the budget the last answer stating one stated (not
	// Known when none did).
	RateLimit monitoring.RateLimit
	// Requests is how many Monitoring requests were made, every page and
	// every retry counted.
	Requests int
}

// ReadExtras makes the reads reads asks for, in the order of
// monitoring.ReadKinds, with tok (the token the overview fetch just used),
// and fills the matching Extras; a read not asked for is not Done. A 401
// on any request makes one login with cr for the whole ReadExtras, and
// that request is made again once with the new token; a token without an
// ID or endpoint is replaced by that login before the first request.
//
// A read that fails has Err and leaves the others to be made, except: a
// throttled answer stops the reads after it, each of which gets that
// error; so does the cancellation of ctx, each getting ctx's error.
func (c *Client) ReadExtras(ctx context.Context, cr monitoring.Credentials, tok monitoring.Token, reads monitoring.Reads) (monitoring.Extras, ExtrasMeta) {
	var ex monitoring.Extras
	s := &session{c: c, cr: cr, meta: ExtrasMeta{Token: tok}}
	var stop error // once set, the remaining reads are not made and get it
	if reads.Suppressions {
		readOne(ctx, &ex.Suppressions, monitoring.ReadSuppressions, &stop, func() ([]monitoring.Suppression, error) {
			return s.suppressions(ctx)
		})
	}
	if reads.Changelogs {
		readOne(ctx, &ex.Changelogs, monitoring.ReadChangelogs, &stop, func() (monitoring.Changelog, error) {
			return s.changelogs(ctx, reads.ChangelogsFrom)
		})
	}
	if reads.Limits {
		readOne(ctx, &ex.Limits, monitoring.ReadLimits, &stop, func() (monitoring.Limits, error) {
			return s.limits(ctx)
		})
	}
	if reads.Plans {
		readOne(ctx, &ex.Plans, monitoring.ReadPlans, &stop, func() ([]monitoring.NotificationPlan, error) {
			return s.plans(ctx)
		})
	}
	return ex, s.meta
}

// readOne makes one read into r unless an earlier one stopped the rest,
// and says when this one stops them.
func readOne[T any](ctx context.Context, r *monitoring.Read[T], kind monitoring.ReadKind, stop *error, read func() (T, error)) {
	r.Done = true
	if *stop == nil && ctx.Err() != nil {
		*stop = ctx.Err()
	}
	if *stop != nil {
		r.Err = fmt.Errorf("%s: not read: %w", readName(kind), *stop)
		return
	}
	v, err := read()
	if err != nil {
		r.Err = namedError(kind, err)
		var thr *ThrottledError
		switch {
		case ctx.Err() != nil:
			*stop = ctx.Err()
		case errors.As(err, &thr):
			*stop = r.Err
		}
		return
	}
	r.Value = v
}

// readName is how a read is named in its errors.
func readName(kind monitoring.ReadKind) string {
	if kind == monitoring.ReadPlans {
		return "notification plans"
	}
	return string(kind)
}

// namedError names the read an error came from: in a bad response's
// reason, which the page shows; in the text of any other.
func namedError(kind monitoring.ReadKind, err error) error {
	if bad, ok := err.(*BadResponseError); ok {
		return &BadResponseError{Reason: readName(kind) + ": " + bad.Reason, Err: bad.Err}
	}
	return fmt.Errorf("%s: %w", readName(kind), err)
}

// session is one ReadExtras: the token in use, and whether it has logged
// in again yet.
type session struct {
	c        *Client
	cr       monitoring.Credentials
	meta     ExtrasMeta
	relogin  bool  // the one login is spent
	loginErr error // why it failed, if it did
}

// get makes GET {endpoint}{path}?{q} and hands a 200's body to decode,
// which must read it as far as it needs. A 401 logs in again (once per
// session) and makes the request once more.
func (s *session) get(ctx context.Context, path string, q url.Values, decode func(io.Reader) error) error {
	if s.meta.Token.ID == "" || s.meta.Token.Endpoint == "" {
		if s.relogin {
			return cmp.Or(s.loginErr, error(&BadResponseError{Reason: "no token to read with"}))
		}
		if err := s.login(ctx); err != nil {
			return err
		}
	}
	err := s.try(ctx, path, q, decode)
	var auth *AuthError
	if errors.As(err, &auth) && !s.relogin {
		if err := s.login(ctx); err != nil {
			return err
		}
		err = s.try(ctx, path, q, decode)
	}
	return err
}

func (s *session) login(ctx context.Context) error {
	s.relogin = true
	tok, err := s.c.Authenticate(ctx, s.cr)
	if err != nil {
		s.loginErr = err
		return err
	}
	s.meta.Token = tok
	s.meta.LoggedIn++
	return nil
}

// try makes the request once.
func (s *session) try(ctx context.Context, path string, q url.Values, decode func(io.Reader) error) error {
	ctx, cancel := s.c.bound(ctx)
	defer cancel()
	u := s.meta.Token.Endpoint + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return &BadResponseError{Reason: "unusable monitoring endpoint", Err: err}
	}
	req.Header.Set("X-Auth-Token", s.meta.Token.ID)
	req.Header.Set("Accept", "application/json")
	s.meta.Requests++
	resp, err := s.c.send(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if rl := ParseRateLimit(resp.Header); rl.Known {
		s.meta.RateLimit = rl
	}
	if resp.StatusCode != http.StatusOK {
		data, err := s.c.readBody(resp)
		if err != nil {
			return err
		}
		return statusError(resp, data)
	}
	body := s.c.capBody(resp)
	err = decode(body)
	if err == nil {
		// Read what follows the JSON so an oversized or broken body is
		// still noticed and the connection can be reused.
		_, _ = io.Copy(io.Discard, body)
	}
	if berr := body.failure(); berr != nil {
		return berr
	}
	return err
}

// decodeObject decodes one JSON object from r into v; what is not one
// is a *BadResponseError.
func decodeObject(r io.Reader, v any) error {
	err := json.NewDecoder(r).Decode(v)
	var typ *json.UnmarshalTypeError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, io.EOF):
		return &BadResponseError{Reason: "empty body", Err: err}
	case errors.As(err, &typ) && typ.Field == "":
		return &BadResponseError{Reason: "body is not a JSON object", Err: err}
	}
	return badJSON(err, "")
}

// listPage is one page of a list call: {"values":[…],"metadata":{…}}.
type listPage[W any] struct {
	Values   listValues[W] `json:"values"`
	Metadata *PageMetadata `json:"metadata"`
}

// listValues remembers whether "values" was there at all: an object
// without it is not a list (an error served with 200, another call).
type listValues[W any] struct {
	items   []W
	present bool
}

// UnmarshalJSON implements json.Unmarshaler.
func (v *listValues[W]) UnmarshalJSON(data []byte) error {
	v.present = true
	return json.Unmarshal(data, &v.items)
}

// listAll reads every page of a list call: limit=PageLimit with q, then
// marker=next_marker until next_marker is null or missing (some answers
// leave the key out on the last page; next_href is not used). Each item
// is converted by conv, which may drop it. A marker seen before, or more
// than MaxPages pages, is a bad response. On error nothing is returned: a
// part of a list would read as the whole.
func listAll[W, T any](ctx context.Context, s *session, path string, q url.Values, conv func(*W) (T, bool)) ([]T, error) {
	var out []T
	var marker string
	seen := map[string]bool{}
	for pages := 0; ; pages++ {
		if pages >= MaxPages {
			return nil, &BadResponseError{Reason: fmt.Sprintf("more than %d pages", MaxPages)}
		}
		pq := url.Values{"limit": {strconv.Itoa(PageLimit)}}
		for k, v := range q {
			pq[k] = v
		}
		if marker != "" {
			pq.Set("marker", marker)
		}
		var page listPage[W]
		err := s.get(ctx, path, pq, func(r io.Reader) error {
			page = listPage[W]{}
			if err := decodeObject(r, &page); err != nil {
				return err
			}
			if !page.Values.present {
				return &BadResponseError{Reason: "no values"}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		for i := range page.Values.items {
			if t, ok := conv(&page.Values.items[i]); ok {
				out = append(out, t)
			}
		}
		var next string
		if page.Metadata != nil {
			next = deref(page.Metadata.NextMarker)
		}
		if next == "" {
			return out, nil
		}
		if seen[next] || next == marker {
			return nil, &BadResponseError{Reason: "paging repeats marker " + strconv.Quote(next)}
		}
		seen[next] = true
		marker = next
	}
}

// EpochMillis is a time the API documents in milliseconds since the epoch
// and nothing else: a number or a string of one. Unlike Millis it never
// takes a small value for seconds, and 0 is the epoch itself (the API
// resolves the 0 a client may write to a time; a 0 read back is not given
// a meaning of its own). null or a missing key is the zero time.
type EpochMillis struct{ time.Time }

// UnmarshalJSON implements json.Unmarshaler.
func (m *EpochMillis) UnmarshalJSON(data []byte) error {
	m.Time = time.Time{}
	s := string(data)
	if s == "null" {
		return nil
	}
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
	}
	notTime := &json.UnmarshalTypeError{Value: fmt.Sprintf("%.30q", s), Type: reflect.TypeFor[EpochMillis]()}
	ms, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil || f != f || f > 1e16 || f < -1e16 {
			return notTime
		}
		ms = int64(f)
	}
	if ms > 1e16 || ms < -1e16 {
		return notTime
	}
	m.Time = time.UnixMilli(ms).UTC()
	return nil
}

// wireSuppression is one item of GET /suppressions.
type wireSuppression struct {
	ID                string      `json:"id"`
	Label             string      `json:"label"`
	Entities          []string    `json:"entities"`
	Checks            []string    `json:"checks"`
	Alarms            []string    `json:"alarms"`
	NotificationPlans []string    `json:"notification_plans"`
	StartTime         EpochMillis `json:"start_time"`
	EndTime           EpochMillis `json:"end_time"`
}

// suppressions reads every suppression, as Rackspace has it: one that
// ended, or ends before it starts, is kept; callers decide.
func (s *session) suppressions(ctx context.Context) ([]monitoring.Suppression, error) {
	return listAll(ctx, s, "/suppressions", nil, func(w *wireSuppression) (monitoring.Suppression, bool) {
		return monitoring.Suppression{
			ID: w.ID, Label: w.Label, Start: w.StartTime.Time, End: w.EndTime.Time,
			Entities: w.Entities, Checks: w.Checks, Alarms: w.Alarms, NotificationPlans: w.NotificationPlans,
		}, true
	})
}

// wireChangelog is one item of GET /changelogs/alarms.
// analyzed_by_monitoring_zone_id (a zone, or null) is not read.
type wireChangelog struct {
	ID            string  `json:"id"`
	Timestamp     Millis  `json:"timestamp"`
	EntityID      string  `json:"entity_id"`
	CheckID       string  `json:"check_id"`
	AlarmID       string  `json:"alarm_id"`
	State         string  `json:"state"`
	PreviousState *string `json:"previous_state"`
	Status        string  `json:"status"`
}

// changelogs reads the alarm changelogs from from (at most
// ChangelogRetention back) to the client's now, oldest first; Through is
// that now, to the millisecond the request named.
func (s *session) changelogs(ctx context.Context, from time.Time) (monitoring.Changelog, error) {
	toMs := s.c.Now().UnixMilli()
	fromMs := min(max(from.UnixMilli(), toMs-ChangelogRetention.Milliseconds()), toMs)
	q := url.Values{"from": {strconv.FormatInt(fromMs, 10)}, "to": {strconv.FormatInt(toMs, 10)}}
	entries, err := listAll(ctx, s, "/changelogs/alarms", q, func(w *wireChangelog) (monitoring.ChangelogEntry, bool) {
		if w.AlarmID == "" || w.EntityID == "" {
			return monitoring.ChangelogEntry{}, false
		}
		e := monitoring.ChangelogEntry{
			ID: w.ID, At: w.Timestamp.Time, EntityID: w.EntityID, CheckID: w.CheckID, AlarmID: w.AlarmID,
			State: monitoring.ParseState(w.State), Status: w.Status,
		}
		if w.PreviousState != nil {
			e.PreviousState = monitoring.ParseState(*w.PreviousState)
		}
		return e, true
	})
	if err != nil {
		return monitoring.Changelog{}, err
	}
	slices.SortStableFunc(entries, func(a, b monitoring.ChangelogEntry) int { return a.At.Compare(b.At) })
	return monitoring.Changelog{Entries: entries, Through: time.UnixMilli(toMs).UTC()}, nil
}

// wireRate is one budget of /limits: {limit, used, window}.
type wireRate struct {
	Limit  json.RawMessage `json:"limit"`
	Used   json.RawMessage `json:"used"`
	Window json.RawMessage `json:"window"`
}

// limits reads GET /limits: {"resource":{name:count},"rate":{name:{limit,
// used,window}}}, keeping the global request budget (not Known when the
// answer has none) and the resource limits. The documentation names the
// resources "resource"; "resources" is read too. Counts may be numbers or
// strings of digits; a part of another shape is left out.
func (s *session) limits(ctx context.Context) (monitoring.Limits, error) {
	var top map[string]json.RawMessage
	err := s.get(ctx, "/limits", nil, func(r io.Reader) error {
		top = nil
		return decodeObject(r, &top)
	})
	if err != nil {
		return monitoring.Limits{}, err
	}
	rate, hasRate := top["rate"]
	if _, ok := top["resource"]; !ok && !hasRate {
		if _, ok := top["resources"]; !ok {
			return monitoring.Limits{}, &BadResponseError{Reason: "no rate and no resource"}
		}
	}
	var l monitoring.Limits
	for _, key := range []string{"resources", "resource"} {
		var m map[string]json.RawMessage
		if json.Unmarshal(top[key], &m) != nil {
			continue
		}
		for k, v := range m {
			if n, ok := count(v); ok {
				if l.Resources == nil {
					l.Resources = map[string]int{}
				}
				l.Resources[k] = n
			}
		}
	}
	var rates map[string]json.RawMessage
	var g wireRate
	if json.Unmarshal(rate, &rates) == nil && json.Unmarshal(rates["global"], &g) == nil {
		limit, okL := count(g.Limit)
		used, okU := count(g.Used)
		if okL && okU {
			var window string
			_ = json.Unmarshal(g.Window, &window)
			l.Rate = monitoring.RateLimit{Limit: limit, Used: used, Remaining: max(limit-used, 0), Window: window, Known: true}
		}
	}
	return l, nil
}

// count reads a non-negative count sent as a number or a string of one.
func count(raw json.RawMessage) (int, bool) {
	var n json.Number
	if len(raw) == 0 || json.Unmarshal(raw, &n) != nil {
		return 0, false
	}
	v, err := strconv.Atoi(n.String())
	return v, err == nil && v >= 0
}

// wirePlan is one item of GET /notification_plans; label and the state
// lists may be null.
type wirePlan struct {
	ID       string   `json:"id"`
	Label    string   `json:"label"`
	Critical []string `json:"critical_state"`
	Warning  []string `json:"warning_state"`
	OK       []string `json:"ok_state"`
}

// plans reads every notification plan; one without an ID names nothing
// an alarm could point at and is dropped.
func (s *session) plans(ctx context.Context) ([]monitoring.NotificationPlan, error) {
	return listAll(ctx, s, "/notification_plans", nil, func(w *wirePlan) (monitoring.NotificationPlan, bool) {
		return monitoring.NotificationPlan{ID: w.ID, Label: w.Label, Critical: w.Critical, Warning: w.Warning, OK: w.OK}, w.ID != ""
	})
}

// ReadBesides is ReadExtras for a fetch that just succeeded (the poller's
// Fetcher): it reads with res's token and puts what it read into res, with
// a new login and the budget its answers showed.
func (c *Client) ReadBesides(ctx context.Context, cr monitoring.Credentials, reads monitoring.Reads, res *monitoring.FetchResult) {
	ex, meta := c.ReadExtras(ctx, cr, res.Token, reads)
	res.Extras = ex
	if meta.LoggedIn > 0 {
		res.Token = meta.Token
		res.LoggedIn += meta.LoggedIn
	}
	if meta.RateLimit.Known {
		res.RateLimit = meta.RateLimit
	}
}
