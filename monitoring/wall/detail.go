package wall

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"cmdash/monitoring"
)

// The pages that show more than the wall: one server with its alarms,
// acknowledgements and changes, and the timeline of changes across
// accounts. They read the store per request (a server's alarms are not in
// the model) and take from the model what the wall says of the same
// things, so the two never disagree.

// NotFoundError says, in words for a person, what a page asked for that
// is not there.
type NotFoundError struct{ What string }

func (e *NotFoundError) Error() string { return e.What }

// Row is a change on a page: a recorded change, or an acknowledgement made
// or ended (Ack set; At is when, Kind "acked" or "ack_ended").
type Row struct {
	Recent
	Ack *monitoring.Ack
	// Window is the maintenance window a row of kind KindMaintStart or
	// KindMaintEnd tells of.
	Window *monitoring.Suppression
	// Lasted is how long the problem a change to OK ended had lasted (or
	// an acknowledgement, for its end); zero when the change ended none,
	// or it began before the history kept.
	Lasted time.Duration
}

// The kinds of a Row of an acknowledgement.
const (
	KindAcked    monitoring.EventKind = "acked"
	KindAckEnded monitoring.EventKind = "ack_ended"
)

// ServerDetail is what a server's page shows.
type ServerDetail struct {
	AccountID   int64
	AccountName string
	Server      monitoring.Server // its alarms in monitoring.SortAlarms order
	Tile        Tile              // as the wall shows it: acknowledged or not
	Stale       bool
	// DataAt is when the data shown was fetched, set only while Stale (as
	// Section.DataAt).
	DataAt   time.Time
	Error    string // why the last poll failed; "" after a good poll
	Failures int    // consecutive failed polls
	// Acks are the server's acknowledgements in force, and the latest
	// EarlierAcks that ended.
	Acks, EarlierAcks []monitoring.Ack
	// History is the server's latest recorded changes (HistoryShown),
	// newest first.
	History []Row
	// Windows: the maintenance window each alarm is in now, by alarm id;
	// Upcoming: the windows naming the server that open within
	// UpcomingWithin, soonest first.
	Windows  map[string]*monitoring.Suppression
	Upcoming []monitoring.Suppression
	// Flapping: the alarms that changed state FlapChanges times or more
	// within FlapWithin, with how often.
	Flapping map[string]int
	// Blind: why each alarm not watched is not (see monitoring.BlindSpots).
	Blind map[string]monitoring.BlindSpot
}

// An alarm flaps when it changes state FlapChanges times or more within
// FlapWithin.
const (
	FlapChanges = 4
	FlapWithin  = time.Hour
)

// UpcomingWithin is how far ahead the pages list maintenance windows.
const UpcomingWithin = 24 * time.Hour

// How much of a server's past its page shows.
const (
	EarlierAcksShown = 5
	HistoryShown     = 60
)

// Server is the page of serverID of account accountID, with the model it
// agrees with. named: the viewer may see who made and removed
// acknowledgements (signed in). A *NotFoundError says what is missing.
func (s *Service) Server(ctx context.Context, accountID int64, serverID string, named bool) (*ServerDetail, *Model, error) {
	acct, err := s.src.Account(ctx, accountID)
	if errors.Is(err, monitoring.ErrNotFound) {
		return nil, nil, &NotFoundError{"There is no such account."}
	}
	if err != nil {
		return nil, nil, fmt.Errorf("server page: %w", err)
	}
	snap, err := s.src.SnapshotServer(ctx, accountID, serverID)
	if err != nil {
		return nil, nil, fmt.Errorf("server page: %w", err)
	}
	if snap == nil || len(snap.Servers) == 0 || snap.Servers[0].ID != serverID {
		return nil, nil, &NotFoundError{"There is no server with that id in the latest data of " + acct.Name() + "."}
	}
	m, err := s.Current(ctx)
	if err != nil {
		return nil, nil, err
	}
	srv := snap.Servers[0] // this request's copy
	monitoring.SortAlarms(srv.Alarms)
	d := &ServerDetail{
		AccountID: accountID, AccountName: acct.Name(), Server: srv,
		Tile: Tile{ID: srv.ID, Label: srv.Label, Counts: srv.Counts, Worst: srv.Worst},
		// The model may not have the account yet when it was added a
		// moment ago: the account's own status says it then.
		Stale: acct.Status.ErrorCount > 0, Error: acct.Status.LastError, Failures: acct.Status.ErrorCount,
	}
	if sec := m.Section(accountID); sec != nil {
		d.Stale, d.DataAt, d.Error, d.Failures = sec.Stale, sec.DataAt, sec.Error, sec.Failures
		for _, t := range sec.Tiles {
			if t.ID == srv.ID && t.Counts == srv.Counts { // the same data
				d.Tile.Acked, d.Tile.AckedAlarms = t.Acked, t.AckedAlarms
				d.Tile.Maint, d.Tile.Suppressed, d.Tile.Window = t.Maint, t.Suppressed, t.Window
				break
			}
		}
	}
	if d.Stale && d.DataAt.IsZero() {
		d.DataAt = snap.FetchedAt
	}
	if d.Acks, d.EarlierAcks, err = s.serverAcks(ctx, accountID, serverID, named); err != nil {
		return nil, nil, err
	}
	if d.History, err = s.serverHistory(ctx, accountID, serverID, acct.Name()); err != nil {
		return nil, nil, err
	}
	d.Flapping = flapping(d.History, s.now())
	if err := s.serverFacts(ctx, d); err != nil {
		return nil, nil, err
	}
	return d, m, nil
}

// serverFacts adds what Rackspace knows of the server besides its
// alarms: its maintenance windows, and the alarms nobody watches.
func (s *Service) serverFacts(ctx context.Context, d *ServerDetail) error {
	sups, err := s.src.AccountSuppressions(ctx, d.AccountID)
	if err != nil {
		return fmt.Errorf("server page: %w", err)
	}
	plans, err := s.src.Plans(ctx, d.AccountID)
	if err != nil {
		return fmt.Errorf("server page: %w", err)
	}
	now := s.now()
	for i := range d.Server.Alarms {
		a := &d.Server.Alarms[i]
		if w := monitoring.WindowFor(sups, d.Server.ID, a, now); w != nil {
			if d.Windows == nil {
				d.Windows = map[string]*monitoring.Suppression{}
			}
			d.Windows[a.ID] = w
		}
	}
	d.Upcoming = upcoming(sups, now, func(w *monitoring.Suppression) bool {
		for i := range d.Server.Alarms {
			if w.Names(d.Server.ID, &d.Server.Alarms[i]) {
				return true
			}
		}
		return slices.Contains(w.Entities, d.Server.ID)
	})
	for _, b := range monitoring.BlindSpots([]monitoring.Server{d.Server}, plans) {
		if b.AlarmID != "" {
			if d.Blind == nil {
				d.Blind = map[string]monitoring.BlindSpot{}
			}
			d.Blind[b.AlarmID] = b
		}
	}
	return nil
}

// upcoming are the windows of sups that keep accepts and open after now,
// within UpcomingWithin, soonest first.
func upcoming(sups []monitoring.Suppression, now time.Time, keep func(*monitoring.Suppression) bool) []monitoring.Suppression {
	var out []monitoring.Suppression
	for i := range sups {
		w := &sups[i]
		if w.Start.After(now) && w.Start.Before(now.Add(UpcomingWithin)) && keep(w) {
			out = append(out, *w)
		}
	}
	slices.SortFunc(out, func(a, b monitoring.Suppression) int { return a.Start.Compare(b.Start) })
	return out
}

// flapping counts the state changes of each alarm within FlapWithin of now
// in rows, and keeps the alarms with FlapChanges or more.
func flapping(rows []Row, now time.Time) map[string]int {
	var n map[string]int
	for _, r := range rows {
		if r.Kind != monitoring.EventState || r.AlarmID == "" || r.At.Before(now.Add(-FlapWithin)) {
			continue
		}
		if n == nil {
			n = map[string]int{}
		}
		n[r.AlarmID]++
	}
	for id, c := range n {
		if c < FlapChanges {
			delete(n, id)
		}
	}
	return n
}

// serverAcks are a server's acknowledgements in force, and the latest that
// ended.
func (s *Service) serverAcks(ctx context.Context, accountID int64, serverID string, named bool) (active, earlier []monitoring.Ack, err error) {
	active, err = s.src.Acks(ctx, monitoring.AckQuery{AccountID: accountID, ServerID: serverID})
	if err != nil {
		return nil, nil, fmt.Errorf("server page: %w", err)
	}
	recent, err := s.src.Acks(ctx, monitoring.AckQuery{AccountID: accountID, ServerID: serverID,
		IncludeEnded: true, Limit: len(active) + EarlierAcksShown})
	if err != nil {
		return nil, nil, fmt.Errorf("server page: %w", err)
	}
	for _, a := range recent {
		if !a.Active() && len(earlier) < EarlierAcksShown {
			earlier = append(earlier, a)
		}
	}
	if !named {
		anonymous(active)
		anonymous(earlier)
	}
	return active, earlier, nil
}

// anonymous leaves out who made and removed acknowledgements, for a viewer
// who is not signed in (a public dashboard, a wall link): the names are the
// dashboard's users.
func anonymous(acks []monitoring.Ack) {
	for i := range acks {
		acks[i].CreatedBy, acks[i].EndedBy = "", ""
	}
}

// serverHistory is the server's latest recorded changes, newest first, a
// recovery with how long its problem lasted.
func (s *Service) serverHistory(ctx context.Context, accountID int64, serverID, account string) ([]Row, error) {
	evs, _, err := s.src.Events(ctx, monitoring.EventQuery{AccountID: accountID, ServerID: serverID, Limit: HistoryShown})
	if err != nil {
		return nil, fmt.Errorf("server page: %w", err)
	}
	rows := make([]Row, len(evs))
	for i, e := range evs {
		rows[i] = Row{Recent: Recent{Event: e, Account: account}}
	}
	if err := s.lasted(ctx, rows); err != nil {
		return nil, err
	}
	slices.SortStableFunc(rows, func(a, b Row) int { return b.At.Compare(a.At) })
	return rows, nil
}

// lasted sets how long the problem each recovery in rows ended had lasted.
func (s *Service) lasted(ctx context.Context, rows []Row) error {
	evs := make([]monitoring.Event, len(rows))
	for i := range rows {
		evs[i] = rows[i].Event
	}
	starts, err := s.src.ProblemStarts(ctx, evs)
	if err != nil {
		return fmt.Errorf("problem starts: %w", err)
	}
	for i := range rows {
		if at, ok := starts[rows[i].ID]; ok && rows[i].At.After(at) {
			rows[i].Lasted = rows[i].At.Sub(at)
		}
	}
	return nil
}

// Timeline bounds: the page shows at most TimelineRows changes, looking
// through at most timelineScan of the newest to find them (a narrow filter
// over a long history shows what the newest hold and says more exist).
const (
	TimelineRows = 200
	timelineScan = 5000
)

// Timeline is the timeline page: recorded changes across accounts and
// acknowledgements made and ended, newest first.
type Timeline struct {
	Rows      []Row
	More      bool // older matching changes exist beyond those shown
	Recording bool // history is kept at all
}

// Timeline is the timeline of what q matches, with the model it agrees
// with. named: as for Server.
func (s *Service) Timeline(ctx context.Context, q Query, named bool) (*Timeline, *Model, error) {
	m, err := s.Current(ctx)
	if err != nil {
		return nil, nil, err
	}
	t := &Timeline{Recording: !s.src.Retention().Off()}
	if q.bad {
		return t, m, nil // a word not understood matches nothing: no need to look
	}
	var before time.Time
	for scanned := 0; scanned < timelineScan && len(t.Rows) < TimelineRows; {
		evs, more, err := s.src.Events(ctx, monitoring.EventQuery{Before: before, Limit: monitoring.MaxEventLimit})
		if err != nil {
			return nil, nil, fmt.Errorf("timeline: %w", err)
		}
		for _, e := range evs {
			sec := m.Section(e.AccountID)
			if sec == nil || !q.MatchesChange(sec.Name, sec.Username, e.ServerLabel, e.ServerID, e.AlarmLabel, e.From, e.To) {
				continue
			}
			if len(t.Rows) == TimelineRows {
				t.More = true
				break
			}
			t.Rows = append(t.Rows, Row{Recent: Recent{Event: e, Account: sec.Name}})
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
	ackRows, err := s.ackRows(ctx, m, q, since, named)
	if err != nil {
		return nil, nil, err
	}
	t.Rows = append(t.Rows, ackRows...)
	winRows, err := s.windowRows(ctx, m, q, since)
	if err != nil {
		return nil, nil, err
	}
	t.Rows = append(t.Rows, winRows...)
	// Shown by when each change happened (the upstream's time), newest
	// first; they were read in the order polls recorded them.
	slices.SortStableFunc(t.Rows, func(a, b Row) int { return b.At.Compare(a.At) })
	if len(t.Rows) > TimelineRows {
		t.Rows, t.More = t.Rows[:TimelineRows], true
	}
	if err := s.lasted(ctx, t.Rows); err != nil {
		return nil, nil, err
	}
	return t, m, nil
}

// ackRows are the timeline's rows for acknowledgements made or ended since
// a time (zero: all kept) that match q.
func (s *Service) ackRows(ctx context.Context, m *Model, q Query, since time.Time, named bool) ([]Row, error) {
	acks, err := s.src.Acks(ctx, monitoring.AckQuery{IncludeEnded: true, Since: since, Limit: TimelineRows})
	if err != nil {
		return nil, fmt.Errorf("timeline: %w", err)
	}
	if !named {
		anonymous(acks)
	}
	var out []Row
	for i := range acks {
		a := &acks[i]
		sec := m.Section(a.AccountID)
		if sec == nil || !q.MatchesChange(sec.Name, sec.Username, a.ServerLabel, a.ServerID, a.AlarmLabel, a.StateAtAck, a.StateAtAck) {
			continue
		}
		row := func(kind monitoring.EventKind, at time.Time) Row {
			e := monitoring.Event{AccountID: a.AccountID, At: at, RecordedAt: at, Kind: kind, ServerID: a.ServerID,
				ServerLabel: a.ServerLabel, AlarmID: a.AlarmID, AlarmLabel: a.AlarmLabel, From: a.StateAtAck, To: a.StateAtAck}
			return Row{Recent: Recent{Event: e, Account: sec.Name}, Ack: a}
		}
		if !a.CreatedAt.Before(since) {
			out = append(out, row(KindAcked, a.CreatedAt))
		}
		if !a.Active() {
			end := row(KindAckEnded, a.EndedAt)
			end.Lasted = a.EndedAt.Sub(a.CreatedAt)
			out = append(out, end)
		}
	}
	return out, nil
}
