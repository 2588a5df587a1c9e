package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"cmdash/monitoring"
)

// The history: every successful poll compares the account's new snapshot
// with the one stored before it and records each change as an Event, in
// the transaction that stores the snapshot.
//
// The comparison is exact and touches only what changed. Pages whose hash
// is unchanged hold the same servers before and after, so only the pages
// that changed (including pages added or gone) can hold a change, and the
// comparison is between the servers of the old versions of those pages and
// the servers of their new versions, matched by server id and then alarm
// id — not page by page. That union is enough: entity ids are unique in an
// overview walk, so a server that moved from page i to page j is missing
// from the new page i and new on page j, which makes both pages change and
// puts the server on both sides. A server on an unchanged page is on the
// same page, unchanged, on both sides. When the stored hashes are not known
// (a snapshot stored whole, from before pages), every page counts as
// changed and the same comparison still finds only real changes.
//
// The comparison streams: the builder reads the old version of a page when
// the new one arrives and matches servers as it goes, so it holds the
// servers not matched yet (in the usual case, part of one page) rather
// than the account. Old pages are read outside the write transaction; the
// transaction checks that the stored pages are still the ones compared.

// SetRetention sets the history's bounds (DefaultRetention until set).
// With Off bounds polls record nothing and PruneEvents removes everything.
func (s *Store) SetRetention(r monitoring.Retention) { s.retention.Store(&r) }

// Retention returns the history's bounds.
func (s *Store) Retention() monitoring.Retention {
	if r := s.retention.Load(); r != nil {
		return *r
	}
	return monitoring.DefaultRetention
}

// histAlarm is what the comparison keeps of an alarm.
type histAlarm struct {
	id, label, status string
	state             monitoring.State
	since             time.Time
	disabled          bool
}

// counted is the state the tile counts for the alarm, "" when none.
func (a *histAlarm) counted() monitoring.State {
	if a.disabled {
		return ""
	}
	return a.state
}

// histServer is what the comparison keeps of a server. Orphan states are
// left out: a state whose alarm is gone is no alarm.
type histServer struct {
	label  string
	worst  monitoring.State // the worst counted state, "" when nothing counts
	alarms []histAlarm
}

func toHist(srv *monitoring.Server) histServer {
	h := histServer{label: srv.Label, alarms: make([]histAlarm, 0, len(srv.Alarms))}
	for i := range srv.Alarms {
		a := &srv.Alarms[i]
		if a.Orphan {
			continue
		}
		h.alarms = append(h.alarms, histAlarm{id: a.ID, label: a.Label, status: a.Status, state: a.State, since: a.Since, disabled: a.Disabled})
		if !a.Disabled {
			h.worst = h.worst.Or(a.State)
		}
	}
	return h
}

// errSnapshotMoved: the stored pages are not those the poll compared with.
// One poll of an account runs at a time, so this means something else
// wrote the account's snapshot meanwhile; the poll is not stored.
var errSnapshotMoved = errors.New("the stored snapshot changed while the poll ran")

// differ compares a poll's changed pages with their stored versions (see
// the top of this file).
type differ struct {
	// load reads stored page i: its hash and gzipped servers.
	load   func(i int) (int64, []byte, error)
	stored []int64 // the hashes the builder compared with
	old    map[string]histServer
	new    map[string]histServer
	events []monitoring.Event // At is zero where it is to be the poll's time
	err    error              // the comparison gave up: this poll records nothing
}

// newDiffer starts the comparison of a poll of account id with the stored
// snapshot, or returns nil when there is none (a first poll, or an account
// added again: nothing to compare with, nothing to record).
func (s *Store) newDiffer(ctx context.Context, id int64, stored []int64) (*differ, error) {
	// Stored pages mean a stored snapshot; without them, there may be none,
	// or one stored whole.
	var whole []byte
	if len(stored) == 0 {
		err := s.db.QueryRowContext(ctx, `SELECT data FROM snapshots WHERE account_id = ?`, id).Scan(&whole)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("snapshot %d: %w", id, err)
		}
	}
	d := &differ{stored: stored, old: map[string]histServer{}, new: map[string]histServer{}}
	d.load = func(i int) (int64, []byte, error) {
		var hash int64
		var data []byte
		err := s.db.QueryRowContext(ctx, `SELECT hash, data FROM snapshot_pages WHERE account_id = ? AND page = ?`, id, i).Scan(&hash, &data)
		return hash, data, err
	}
	if len(whole) > 0 { // stored whole, before pages: every new page counts as changed
		if _, err := decodeWhole(whole, d.addWhole); err != nil {
			d.fail(fmt.Errorf("stored snapshot: %w", err))
		}
	}
	return d, nil
}

func (d *differ) fail(err error) {
	if d.err == nil {
		d.err = err
	}
	d.old, d.new, d.events = nil, nil, nil
}

// page compares page i, which changed, with its stored version.
func (d *differ) page(i int, servers []monitoring.Server) {
	if d.err != nil {
		return
	}
	d.loadOld(i)
	for j := range servers {
		if d.err != nil {
			return
		}
		d.addNew(&servers[j])
	}
}

// loadOld reads stored page i (if there is one) into the old side.
func (d *differ) loadOld(i int) {
	if d.err != nil || i >= len(d.stored) {
		return
	}
	hash, data, err := d.load(i)
	if err == nil && hash != d.stored[i] {
		err = errSnapshotMoved
	}
	if err == nil {
		err = decodeStoredPage(data, d.addStored)
	}
	if err != nil {
		d.fail(fmt.Errorf("stored page %d: %w", i, err))
	}
}

// storedServer is what the comparison reads of a stored server: the fields
// it needs and no others (no status, times or checks), so that reading an
// old page allocates and assigns little beyond them.
type storedServer struct {
	ID     string        `json:"id"`
	Label  string        `json:"label"`
	Alarms []storedAlarm `json:"alarms"`
}

type storedAlarm struct {
	ID       string           `json:"id"`
	Label    string           `json:"label"`
	State    monitoring.State `json:"state"`
	Disabled bool             `json:"disabled"`
	Orphan   bool             `json:"orphan"`
}

// hist is what the comparison keeps of a stored server (see toHist).
func (st *storedServer) hist() histServer {
	h := histServer{label: st.Label, alarms: make([]histAlarm, 0, len(st.Alarms))}
	for i := range st.Alarms {
		a := &st.Alarms[i]
		if a.Orphan {
			continue
		}
		h.alarms = append(h.alarms, histAlarm{id: a.ID, label: a.Label, state: a.State, disabled: a.Disabled})
		if !a.Disabled {
			h.worst = h.worst.Or(a.State)
		}
	}
	return h
}

// addStored takes a server of a stored page.
func (d *differ) addStored(st *storedServer) {
	d.addOld(st.ID, st.hist())
}

// addWhole takes a server of a snapshot stored whole (decodeWhole's keep).
func (d *differ) addWhole(srv *monitoring.Server) bool {
	d.addOld(srv.ID, toHist(srv))
	return false
}

// addOld takes a stored server: matched with a new one already seen, or
// kept until one comes.
func (d *differ) addOld(id string, o histServer) {
	if d.err != nil {
		return
	}
	if n, ok := d.new[id]; ok {
		delete(d.new, id)
		d.compare(id, &o, &n)
	} else if _, dup := d.old[id]; !dup {
		d.old[id] = o
	}
}

func (d *differ) addNew(srv *monitoring.Server) {
	if o, ok := d.old[srv.ID]; ok {
		delete(d.old, srv.ID)
		n := toHist(srv)
		d.compare(srv.ID, &o, &n)
	} else if _, dup := d.new[srv.ID]; !dup {
		d.new[srv.ID] = toHist(srv)
	}
}

// compare records the changes between the old and new versions of a server.
func (d *differ) compare(serverID string, o, n *histServer) {
	ev := func(kind monitoring.EventKind, a *histAlarm, from, to monitoring.State) *monitoring.Event {
		d.events = append(d.events, monitoring.Event{Kind: kind, ServerID: serverID, ServerLabel: n.label,
			AlarmID: a.id, AlarmLabel: a.label, From: from, To: to})
		return &d.events[len(d.events)-1]
	}
	matched := make([]bool, len(o.alarms))
	for j := range n.alarms {
		na := &n.alarms[j]
		k := -1
		for i := range o.alarms { // a server has a handful of alarms
			if !matched[i] && o.alarms[i].id == na.id {
				k = i
				break
			}
		}
		if k < 0 {
			ev(monitoring.EventAlarmAdded, na, "", na.counted()).Status = na.status
			continue
		}
		matched[k] = true
		oa := &o.alarms[k]
		switch {
		case !oa.disabled && na.disabled:
			ev(monitoring.EventDisabled, na, oa.state, "")
		case oa.disabled && !na.disabled:
			ev(monitoring.EventEnabled, na, "", na.state).Status = na.status
		case !na.disabled && oa.state != na.state:
			e := ev(monitoring.EventState, na, oa.state, na.state)
			e.Status, e.At = na.status, na.since
		}
	}
	for i := range o.alarms {
		if !matched[i] {
			oa := &o.alarms[i]
			ev(monitoring.EventAlarmRemoved, oa, oa.counted(), "")
		}
	}
}

// finish compares the stored pages past the new last page (gone), then
// records the servers left unmatched as gone or new, and returns the
// events in a stable order: by server id, a server's own event first, then
// by alarm id. Events without a time get polledAt; none is later than it.
func (d *differ) finish(pages int, polledAt time.Time) ([]monitoring.Event, error) {
	for i := pages; i < len(d.stored); i++ {
		d.loadOld(i)
	}
	if d.err != nil {
		return nil, d.err
	}
	for id, o := range d.old {
		d.events = append(d.events, monitoring.Event{Kind: monitoring.EventServerRemoved, ServerID: id, ServerLabel: o.label, From: o.worst})
	}
	for id, n := range d.new {
		d.events = append(d.events, monitoring.Event{Kind: monitoring.EventServerAdded, ServerID: id, ServerLabel: n.label, To: n.worst})
	}
	d.old, d.new = nil, nil
	for i := range d.events {
		if e := &d.events[i]; e.At.IsZero() || e.At.After(polledAt) {
			e.At = polledAt
		}
	}
	slices.SortFunc(d.events, func(a, b monitoring.Event) int {
		return cmp.Or(cmp.Compare(a.ServerID, b.ServerID), cmp.Compare(a.AlarmID, b.AlarmID))
	})
	return d.events, nil
}

// insertEvents writes a poll's events in tx, all recorded at recordedAt,
// or a millisecond after the newest recorded so far when that is not
// earlier: each poll's events get a recorded_at of their own, so a reader
// that saw one poll's and asks for those recorded after it (since is
// exclusive) cannot miss a second poll committed in the same millisecond.
// source says where they come from; a state change the comparison found
// that the changelog already brought is left out (see knownChange).
func insertEvents(ctx context.Context, tx *sql.Tx, accountID int64, recordedAt time.Time, events []monitoring.Event, source string) error {
	if len(events) == 0 {
		return nil
	}
	at := ms(recordedAt)
	var last sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT max(recorded_at) FROM events`).Scan(&last); err != nil {
		return fmt.Errorf("record changes: %w", err)
	}
	if last.Valid && at <= last.Int64 {
		at = last.Int64 + 1
	}
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO events (account_id, recorded_at, at, kind, server_id, server_label,
		alarm_id, alarm_label, from_state, to_state, status, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("record changes: %w", err)
	}
	defer stmt.Close()
	for i := range events {
		e := &events[i]
		if source == sourcePolls && e.Kind == monitoring.EventState && e.AlarmID != "" {
			known, err := knownChange(ctx, tx, accountID, e.AlarmID, e.To, e.At, sourceChangelog)
			if err != nil {
				return fmt.Errorf("record changes: %w", err)
			}
			if known {
				continue
			}
		}
		if _, err := stmt.ExecContext(ctx, accountID, at, min(ms(e.At), at), string(e.Kind), e.ServerID, e.ServerLabel,
			e.AlarmID, e.AlarmLabel, string(e.From), string(e.To), e.Status, source); err != nil {
			return fmt.Errorf("record changes: %w", err)
		}
	}
	return nil
}

// storedHashes reads an account's page hashes in tx.
func storedHashes(ctx context.Context, tx *sql.Tx, id int64) ([]int64, error) {
	rows, err := tx.QueryContext(ctx, `SELECT hash FROM snapshot_pages WHERE account_id = ? ORDER BY page`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var h int64
		if err := rows.Scan(&h); err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// Events returns the events q selects, ordered by RecordedAt then ID (see
// q.Oldest), and whether more follow in that order.
//
// An answer never ends partway through a millisecond of RecordedAt, so
// paging by the last event's RecordedAt (Since, or Before) neither skips
// nor repeats an event: when Limit would cut through a millisecond's
// events, the answer ends before them; when they alone are more than
// Limit (one poll's many changes), it holds all of them.
func (s *Store) Events(ctx context.Context, q monitoring.EventQuery) ([]monitoring.Event, bool, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = monitoring.DefaultEventLimit
	}
	limit = min(limit, monitoring.MaxEventLimit)
	where, args := eventWhere(q)
	dir := "DESC"
	if q.Oldest {
		dir = "ASC"
	}
	evs, err := s.queryEvents(ctx, where+` ORDER BY recorded_at `+dir+`, id `+dir+` LIMIT ?`, append(args, limit+1)...)
	if err != nil {
		return nil, false, err
	}
	if len(evs) <= limit {
		return evs, false, nil
	}
	last := evs[limit-1].RecordedAt
	if !evs[limit].RecordedAt.Equal(last) {
		return evs[:limit], true, nil
	}
	n := limit
	for n > 0 && evs[n-1].RecordedAt.Equal(last) {
		n--
	}
	if n > 0 {
		return evs[:n], true, nil
	}
	// One millisecond holds more than limit events: all of it, and whether
	// anything follows it.
	evs, err = s.queryEvents(ctx, where+` AND recorded_at = ? ORDER BY id `+dir, append(args, ms(last))...)
	if err != nil {
		return nil, false, err
	}
	cmpOp := "<"
	if q.Oldest {
		cmpOp = ">"
	}
	var more bool
	if err := s.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM events `+where+` AND recorded_at `+cmpOp+` ?)`,
		append(args, ms(last))...).Scan(&more); err != nil {
		return nil, false, fmt.Errorf("events: %w", err)
	}
	return evs, more, nil
}

// where is q's filter as a WHERE clause (always one, so more can be ANDed).
func eventWhere(q monitoring.EventQuery) (string, []any) {
	w, args := `WHERE 1`, []any{}
	if q.AccountID != 0 {
		w += ` AND account_id = ?`
		args = append(args, q.AccountID)
	}
	if q.ServerID != "" {
		w += ` AND server_id = ?`
		args = append(args, q.ServerID)
	}
	if q.AlarmID != "" {
		w += ` AND alarm_id = ?`
		args = append(args, q.AlarmID)
	}
	if !q.Since.IsZero() {
		w += ` AND recorded_at > ?`
		args = append(args, q.Since.UnixMilli())
	}
	if !q.Before.IsZero() {
		w += ` AND recorded_at < ?`
		args = append(args, q.Before.UnixMilli())
	}
	return w, args
}

func (s *Store) queryEvents(ctx context.Context, tail string, args ...any) ([]monitoring.Event, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, account_id, recorded_at, at, kind, server_id, server_label,
		alarm_id, alarm_label, from_state, to_state, status, source FROM events `+tail, args...)
	if err != nil {
		return nil, fmt.Errorf("events: %w", err)
	}
	defer rows.Close()
	evs := []monitoring.Event{}
	for rows.Next() {
		var e monitoring.Event
		var recorded, at int64
		var kind, from, to, source string
		if err := rows.Scan(&e.ID, &e.AccountID, &recorded, &at, &kind, &e.ServerID, &e.ServerLabel,
			&e.AlarmID, &e.AlarmLabel, &from, &to, &e.Status, &source); err != nil {
			return nil, fmt.Errorf("events: %w", err)
		}
		e.RecordedAt, e.At = time.UnixMilli(recorded).UTC(), time.UnixMilli(at).UTC()
		e.Kind, e.From, e.To = monitoring.EventKind(kind), monitoring.State(from), monitoring.State(to)
		e.FromChangelog = source == sourceChangelog
		evs = append(evs, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("events: %w", err)
	}
	return evs, nil
}
