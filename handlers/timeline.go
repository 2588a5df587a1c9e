package handlers

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/a-h/templ"

	"cmdash/monitoring"
	"cmdash/monitoring/wall"
	"cmdash/views"
)

// Timeline bounds: the page shows at most timelineRows changes, looking
// through at most timelineScan of the newest to find them (a narrow filter
// over a long history shows what the newest hold and says more exist).
const (
	timelineRows = 200
	timelineScan = 5000
)

// showTimeline lists recorded changes across accounts, newest first,
// filtered by the wall's filter language; for htmx, the list alone. Like the
// server page it is rendered per request (a few hundred rows) and answered
// 304 when its bytes did not change.
func (h *Handler) showTimeline(w http.ResponseWriter, r *http.Request) {
	fragment := isHTMX(r) && r.Header.Get("HX-History-Restore-Request") != "true"
	if fragment && h.fromOtherBuild(r) {
		reload(w)
		return
	}
	m, err := h.wall.Current(r.Context())
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	text := strings.TrimSpace(r.URL.Query().Get("q"))
	q := wall.ParseQuery(text)
	t := views.Timeline{Query: text, Self: "/timeline", RefreshEvery: h.opts.RefreshInterval,
		Recording: !h.store.Retention().Off()}
	if text != "" {
		t.Self += "?q=" + url.QueryEscape(text)
	}
	var before time.Time
	for scanned := 0; scanned < timelineScan && len(t.Rows) < timelineRows; {
		evs, more, err := h.store.Events(r.Context(), monitoring.EventQuery{Before: before, Limit: monitoring.MaxEventLimit})
		if err != nil {
			h.serverError(w, r, err)
			return
		}
		for _, e := range evs {
			sec := m.Section(e.AccountID)
			if sec == nil || !q.MatchesChange(sec.Name, sec.Username, e.ServerLabel, e.ServerID, e.AlarmLabel, e.From, e.To) {
				continue
			}
			if len(t.Rows) == timelineRows {
				t.More = true
				break
			}
			rec := wall.Recent{Event: e, Account: sec.Name}
			t.Rows = append(t.Rows, views.TimelineRow{Recent: rec, Href: views.TileHref(e.AccountID, wall.Tile{ID: e.ServerID})})
		}
		scanned += len(evs)
		if !more || len(evs) == 0 {
			break
		}
		if scanned >= timelineScan {
			t.More = true
		}
		before = evs[len(evs)-1].RecordedAt
	}
	// Acknowledgements made and ended are on the timeline too: as many as
	// the changes shown go back (all of them when the changes are few).
	var since time.Time
	if t.More && len(t.Rows) > 0 {
		since = t.Rows[len(t.Rows)-1].RecordedAt
	}
	ackRows, err := h.ackRows(r, m, q, since)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	t.Rows = append(t.Rows, ackRows...)
	// Shown by when each change happened (the upstream's time), newest
	// first; they were read in the order polls recorded them.
	slices.SortStableFunc(t.Rows, func(a, b views.TimelineRow) int { return b.At.Compare(a.At) })
	if len(t.Rows) > timelineRows {
		t.Rows, t.More = t.Rows[:timelineRows], true
	}
	evs := make([]monitoring.Event, len(t.Rows))
	for i := range t.Rows {
		evs[i] = t.Rows[i].Event
	}
	starts, err := h.store.ProblemStarts(r.Context(), evs)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	for i := range t.Rows {
		if at, ok := starts[t.Rows[i].ID]; ok && t.Rows[i].At.After(at) {
			t.Rows[i].Lasted = t.Rows[i].At.Sub(at)
		}
	}

	var c templ.Component = views.TimelineFragment(t)
	if !fragment {
		l := h.modelLayout(m, "Timeline", "timeline", "")
		l.User = currentUser(r)
		c = views.TimelineView(l, t)
	}
	h.renderValidated(w, r, c)
}

// ackRows are the timeline's rows for acknowledgements made or ended since
// a time (zero: all kept) that match the query.
func (h *Handler) ackRows(r *http.Request, m *wall.Model, q wall.Query, since time.Time) ([]views.TimelineRow, error) {
	acks, err := h.store.Acks(r.Context(), monitoring.AckQuery{IncludeEnded: true, Since: since, Limit: timelineRows})
	if err != nil {
		return nil, err
	}
	if currentUser(r) == "" {
		anonymous(acks)
	}
	var out []views.TimelineRow
	for i := range acks {
		a := &acks[i]
		sec := m.Section(a.AccountID)
		if sec == nil || !q.MatchesChange(sec.Name, sec.Username, a.ServerLabel, a.ServerID, a.AlarmLabel, a.StateAtAck, a.StateAtAck) {
			continue
		}
		row := func(kind monitoring.EventKind, at time.Time) views.TimelineRow {
			e := monitoring.Event{AccountID: a.AccountID, At: at, RecordedAt: at, Kind: kind, ServerID: a.ServerID,
				ServerLabel: a.ServerLabel, AlarmID: a.AlarmID, AlarmLabel: a.AlarmLabel, From: a.StateAtAck, To: a.StateAtAck}
			return views.TimelineRow{Recent: wall.Recent{Event: e, Account: sec.Name}, Ack: a,
				Href: views.TileHref(a.AccountID, wall.Tile{ID: a.ServerID})}
		}
		if !a.CreatedAt.Before(since) {
			out = append(out, row("acked", a.CreatedAt))
		}
		if !a.Active() {
			end := row("ack_ended", a.EndedAt)
			end.Lasted = a.EndedAt.Sub(a.CreatedAt)
			out = append(out, end)
		}
	}
	return out, nil
}
