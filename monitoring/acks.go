package monitoring

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Acknowledgements. A signed-in user acknowledges a problem server, or one
// of its problem alarms, with a note and an end: in 1, 4 or 24 hours, or
// when it recovers. The wall keeps showing an acknowledged problem, muted,
// and counts it apart. An acknowledgement ends by itself:
//
//   - when its time is up ("expired", at its expiry; no write is needed:
//     every read treats an acknowledgement past its expiry as ended then);
//   - at the first stored poll that finds the alarm OK again, or every
//     alarm of the server ("recovered");
//   - at the first stored poll that finds it worse than when acknowledged,
//     by the order CRITICAL > WARNING > UNKNOWN > OK ("worse");
//   - at the first stored poll without the server or the alarm, or with the
//     alarm no longer counted, e.g. disabled ("gone": nobody can tell
//     whether it recovered);
//
// and a user may remove it ("removed"). Ended acknowledgements are kept as
// the history, until PruneAcks drops them.
//
// Because alarm acknowledgements end at the poll that sees their alarm
// recover, worsen or leave the counts, an active one always stands for a
// counted alarm that is not OK: the wall counts them against a server's
// problem alarms without knowing its alarms.

// How an acknowledgement ended (Ack.EndReason).
const (
	AckExpired   = "expired"
	AckRecovered = "recovered"
	AckWorse     = "worse"
	AckGone      = "gone"
	AckRemoved   = "removed"
)

// AckUntilRecovered is the expiry of an acknowledgement that lasts until
// the problem recovers (or gets worse).
const AckUntilRecovered = "recovered"

// ackExpiries are the ends a user may choose, by the words the forms and
// the API use; 0 lasts until it recovers.
var ackExpiries = map[string]time.Duration{
	"1h": time.Hour, "4h": 4 * time.Hour, "24h": 24 * time.Hour, AckUntilRecovered: 0,
}

// AckExpiries lists the expiry words CreateAck takes, shortest first.
var AckExpiries = []string{"1h", "4h", "24h", AckUntilRecovered}

// MaxAckNote is the longest note, in characters.
const MaxAckNote = 500

// Ack is one acknowledgement, active or ended.
type Ack struct {
	ID          int64
	AccountID   int64
	ServerID    string
	ServerLabel string // as it was when acknowledged
	AlarmID     string // "" when the whole server is acknowledged
	AlarmLabel  string
	Note        string
	CreatedBy   string
	CreatedAt   time.Time
	ExpiresAt   time.Time // zero: until it recovers
	// StateAtAck is the server's worst state, or the alarm's state, when
	// it was acknowledged: getting worse than this ends it.
	StateAtAck State
	EndedAt    time.Time // zero while active
	EndReason  string    // one of the Ack… reasons once ended
	EndedBy    string    // who removed it (AckRemoved only)
}

// Active reports whether the acknowledgement holds (as of when it was read).
func (a Ack) Active() bool { return a.EndedAt.IsZero() }

// WholeServer reports whether the acknowledgement is for the server rather
// than one alarm.
func (a Ack) WholeServer() bool { return a.AlarmID == "" }

// AckInput is a new acknowledgement as a user asks for it.
type AckInput struct {
	AccountID int64
	ServerID  string
	AlarmID   string // "" for the whole server
	Note      string
	Expiry    string // one of AckExpiries
	By        string // the signed-in user
}

// AckErrorKind says how an acknowledgement was refused.
type AckErrorKind int

const (
	// AckInvalid: the input itself is wrong (an empty note, an unknown expiry).
	AckInvalid AckErrorKind = iota
	// AckUnknown: there is no such account, server or alarm.
	AckUnknown
	// AckConflict: there is nothing to acknowledge (it is OK or not
	// counted), or it is acknowledged already.
	AckConflict
)

// AckError is input CreateAck refuses: the field at fault ("account",
// "server", "alarm", "note" or "expiry"), what kind of refusal, and a
// message for a person.
type AckError struct {
	Field   string
	Kind    AckErrorKind
	Message string
}

func (e *AckError) Error() string { return e.Field + ": " + e.Message }

// noteProblem says what makes a note unfit, or "" when nothing does. The
// handlers refuse more (bidirectional overrides, line separators) with
// their own words before a note gets here.
func noteProblem(note string) string {
	switch {
	case note == "":
		return "Write a note: what is being done about it, or why it can wait."
	case !utf8.ValidString(note):
		return "The note contains bytes that are not UTF-8 text."
	case utf8.RuneCountInString(note) > MaxAckNote:
		return fmt.Sprintf("The note is longer than %d characters.", MaxAckNote)
	}
	for _, r := range note {
		if unicode.IsControl(r) {
			return fmt.Sprintf("The note contains a control character (U+%04X).", r)
		}
	}
	return ""
}

// SetClock replaces the store's clock (tests).
func (s *Store) SetClock(now func() time.Time) { s.now = now }

const ackCols = `id, account_id, server_id, server_label, alarm_id, alarm_label, note, created_by, created_at,
	expires_at, state_at_ack, ended_at, end_reason, ended_by`

// scanAck reads a row; one past its expiry at now reads as ended then.
func scanAck(row interface{ Scan(...any) error }, now time.Time) (Ack, error) {
	var a Ack
	var created int64
	var expires, ended sql.NullInt64
	var state string
	err := row.Scan(&a.ID, &a.AccountID, &a.ServerID, &a.ServerLabel, &a.AlarmID, &a.AlarmLabel, &a.Note, &a.CreatedBy,
		&created, &expires, &state, &ended, &a.EndReason, &a.EndedBy)
	if err != nil {
		return a, err
	}
	a.CreatedAt, a.StateAtAck = fromMS(created), State(state)
	if expires.Valid {
		a.ExpiresAt = fromMS(expires.Int64)
	}
	switch {
	case ended.Valid:
		a.EndedAt = fromMS(ended.Int64)
	case expires.Valid && !now.Before(a.ExpiresAt):
		a.EndedAt, a.EndReason = a.ExpiresAt, AckExpired
	}
	return a, nil
}

func (s *Store) queryAcks(ctx context.Context, now time.Time, query string, args ...any) ([]Ack, error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Ack
	for rows.Next() {
		a, err := scanAck(rows, now)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// unexpired is the SQL condition of an acknowledgement that has not ended,
// given the time as its one parameter.
const unexpired = `ended_at IS NULL AND (expires_at IS NULL OR expires_at > ?)`

// CreateAck records an acknowledgement after checking it against the
// account's latest data: the server must be in it and not OK; an alarm must
// be one of the server's counted alarms and not OK; the note is required
// (at most MaxAckNote characters, no control characters) and the expiry one
// of AckExpiries. A target acknowledged already is refused. Refusals are
// *AckError.
func (s *Store) CreateAck(ctx context.Context, in AckInput) (Ack, error) {
	note := strings.TrimSpace(in.Note)
	if p := noteProblem(note); p != "" {
		return Ack{}, &AckError{Field: "note", Kind: AckInvalid, Message: p}
	}
	lasts, ok := ackExpiries[in.Expiry]
	if !ok {
		return Ack{}, &AckError{Field: "expiry", Kind: AckInvalid,
			Message: "Choose when the acknowledgement ends: in 1 hour, 4 hours or 24 hours, or when it recovers."}
	}
	if in.By == "" {
		return Ack{}, errors.New("create acknowledgement: no user")
	}
	if _, err := s.Account(ctx, in.AccountID); errors.Is(err, ErrNotFound) {
		return Ack{}, &AckError{Field: "account", Kind: AckUnknown, Message: "There is no such account."}
	} else if err != nil {
		return Ack{}, fmt.Errorf("create acknowledgement: %w", err)
	}
	// The target is checked against the latest snapshot outside the write
	// transaction (decoding it may take a while, and polls wait for the
	// writer), and the transaction makes sure that snapshot is still the
	// latest: a poll stored in between may have ended the problem, and its
	// settling would not have seen this acknowledgement. Then it checks again.
	for attempt := 0; ; attempt++ {
		snap, err := s.SnapshotServer(ctx, in.AccountID, in.ServerID)
		if err != nil {
			return Ack{}, fmt.Errorf("create acknowledgement: %w", err)
		}
		a, err := ackTarget(snap, in)
		if err != nil {
			return Ack{}, err
		}
		a.Note, a.CreatedBy = note, in.By
		a.CreatedAt = fromMS(ms(s.now()))
		if lasts > 0 {
			a.ExpiresAt = a.CreatedAt.Add(lasts)
		}
		err = s.insertAck(ctx, &a, snap.FetchedAt)
		if errors.Is(err, errAckTargetMoved) {
			if attempt < 2 {
				continue
			}
			return Ack{}, &AckError{Field: "server", Kind: AckConflict,
				Message: "The server's data kept changing while it was being acknowledged; try again."}
		}
		if err != nil {
			return Ack{}, err
		}
		s.changed()
		return a, nil
	}
}

// errAckTargetMoved: a poll stored another snapshot since the target was
// checked.
var errAckTargetMoved = errors.New("create acknowledgement: the account's data changed")

// insertAck stores a, unless the account's snapshot is no longer the one
// fetched at fetchedAt or the target has an active acknowledgement.
func (s *Store) insertAck(ctx context.Context, a *Ack, fetchedAt time.Time) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("create acknowledgement: %w", err)
	}
	defer tx.Rollback()
	var fetched int64
	err = tx.QueryRowContext(ctx, `SELECT fetched_at FROM snapshots WHERE account_id = ?`, a.AccountID).Scan(&fetched)
	if errors.Is(err, sql.ErrNoRows) || err == nil && fetched != ms(fetchedAt) {
		return errAckTargetMoved
	}
	if err != nil {
		return fmt.Errorf("create acknowledgement: %w", err)
	}
	var by string
	err = tx.QueryRowContext(ctx, `SELECT created_by FROM acks WHERE account_id = ? AND server_id = ? AND alarm_id = ? AND `+unexpired+` LIMIT 1`,
		a.AccountID, a.ServerID, a.AlarmID, ms(a.CreatedAt)).Scan(&by)
	switch {
	case err == nil:
		field, what := "server", "This server"
		if a.AlarmID != "" {
			field, what = "alarm", "This alarm"
		}
		return &AckError{Field: field, Kind: AckConflict,
			Message: what + " is acknowledged already (by " + by + "); remove that acknowledgement first to change it."}
	case !errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("create acknowledgement: %w", err)
	}
	var expires any
	if !a.ExpiresAt.IsZero() {
		expires = ms(a.ExpiresAt)
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO acks (account_id, server_id, server_label, alarm_id, alarm_label, note,
		created_by, created_at, expires_at, state_at_ack) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.AccountID, a.ServerID, a.ServerLabel, a.AlarmID, a.AlarmLabel, a.Note, a.CreatedBy, ms(a.CreatedAt), expires, string(a.StateAtAck))
	if err != nil {
		return fmt.Errorf("create acknowledgement: %w", err)
	}
	if a.ID, err = res.LastInsertId(); err != nil {
		return fmt.Errorf("create acknowledgement: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("create acknowledgement: %w", err)
	}
	return nil
}

// ackTarget finds what in acknowledges in snap (the account's latest data,
// nil when never polled): the labels and the state it has now.
func ackTarget(snap *Snapshot, in AckInput) (Ack, error) {
	a := Ack{AccountID: in.AccountID, ServerID: in.ServerID, AlarmID: in.AlarmID}
	var srv *Server
	if snap != nil {
		for i := range snap.Servers {
			if snap.Servers[i].ID == in.ServerID {
				srv = &snap.Servers[i]
				break
			}
		}
	}
	if srv == nil {
		return a, &AckError{Field: "server", Kind: AckUnknown, Message: "There is no server with this id in the account's latest data."}
	}
	a.ServerLabel = srv.Label
	if in.AlarmID == "" {
		if srv.Worst == StateOK {
			return a, &AckError{Field: "server", Kind: AckConflict, Message: "This server is OK: there is nothing to acknowledge."}
		}
		a.StateAtAck = srv.Worst
		return a, nil
	}
	for _, al := range srv.Alarms {
		if al.ID != in.AlarmID {
			continue
		}
		switch {
		case !al.Counted():
			return a, &AckError{Field: "alarm", Kind: AckConflict,
				Message: "This alarm is not counted (disabled, or not in the overview): there is nothing to acknowledge."}
		case al.State == StateOK:
			return a, &AckError{Field: "alarm", Kind: AckConflict, Message: "This alarm is OK: there is nothing to acknowledge."}
		}
		a.AlarmLabel, a.StateAtAck = al.Label, al.State
		return a, nil
	}
	return a, &AckError{Field: "alarm", Kind: AckUnknown, Message: "This server has no alarm with this id."}
}

// ActiveAcks returns every acknowledgement in force now, oldest first. The
// wall reads it on every rebuild: it is one query on an index of the
// active rows.
func (s *Store) ActiveAcks(ctx context.Context) ([]Ack, error) {
	now := s.now()
	out, err := s.queryAcks(ctx, now, `SELECT `+ackCols+` FROM acks WHERE `+unexpired+` ORDER BY id`, ms(now))
	if err != nil {
		return nil, fmt.Errorf("active acknowledgements: %w", err)
	}
	return out, nil
}

// AckQuery selects acknowledgements for Acks.
type AckQuery struct {
	AccountID    int64  // 0: every account
	ServerID     string // "": every server (of AccountID)
	IncludeEnded bool   // the history too, not only those in force
	// Since, when set, keeps those in force at Since or later: active
	// ones, and those that ended at Since or after.
	Since time.Time
	Limit int // 0: all
}

// Acks returns the acknowledgements q selects, newest first.
func (s *Store) Acks(ctx context.Context, q AckQuery) ([]Ack, error) {
	now := s.now()
	var where []string
	var args []any
	if q.AccountID > 0 {
		where, args = append(where, "account_id = ?"), append(args, q.AccountID)
	}
	if q.ServerID != "" {
		where, args = append(where, "server_id = ?"), append(args, q.ServerID)
	}
	if !q.IncludeEnded {
		where, args = append(where, unexpired), append(args, ms(now))
	}
	if !q.Since.IsZero() {
		where = append(where, "(ended_at >= ? OR ended_at IS NULL AND (expires_at IS NULL OR expires_at >= ?))")
		args = append(args, ms(q.Since), ms(q.Since))
	}
	query := `SELECT ` + ackCols + ` FROM acks`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	query += ` ORDER BY created_at DESC, id DESC`
	if q.Limit > 0 {
		query += fmt.Sprintf(" LIMIT %d", q.Limit)
	}
	out, err := s.queryAcks(ctx, now, query, args...)
	if err != nil {
		return nil, fmt.Errorf("acknowledgements: %w", err)
	}
	return out, nil
}

// Ack returns one acknowledgement, active or ended.
func (s *Store) Ack(ctx context.Context, id int64) (Ack, error) {
	a, err := scanAck(s.db.QueryRowContext(ctx, `SELECT `+ackCols+` FROM acks WHERE id = ?`, id), s.now())
	if errors.Is(err, sql.ErrNoRows) {
		return a, ErrNotFound
	}
	if err != nil {
		return a, fmt.Errorf("acknowledgement %d: %w", id, err)
	}
	return a, nil
}

// EndAck removes an acknowledgement by hand: it ends now, "removed" by by.
// ErrNotFound when there is no such acknowledgement in force.
func (s *Store) EndAck(ctx context.Context, id int64, by string) error {
	now := ms(s.now())
	res, err := s.db.ExecContext(ctx, `UPDATE acks SET ended_at = ?, end_reason = ?, ended_by = ? WHERE id = ? AND `+unexpired,
		now, AckRemoved, by, id, now)
	if err != nil {
		return fmt.Errorf("end acknowledgement %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	s.changed()
	return nil
}

// SettleAcks ends the account's acknowledgements that snap (its latest
// data, with the alarms of at least every acknowledged server) shows are
// over: recovered, worse, or gone. Those past their expiry at now are
// written as expired at their expiry. A nil snap settles expiry only.
func (s *Store) SettleAcks(ctx context.Context, accountID int64, snap *Snapshot, now time.Time) error {
	acks, err := s.queryAcks(ctx, now, `SELECT `+ackCols+` FROM acks WHERE account_id = ? AND ended_at IS NULL`, accountID)
	if err != nil {
		return fmt.Errorf("settle acknowledgements: %w", err)
	}
	type ending struct {
		id     int64
		at     time.Time
		reason string
	}
	var ends []ending
	for _, a := range acks {
		switch {
		case !a.Active(): // expired
			ends = append(ends, ending{a.ID, a.EndedAt, a.EndReason})
		case snap != nil:
			if reason := ackOutcome(snap, a); reason != "" {
				ends = append(ends, ending{a.ID, now, reason})
			}
		}
	}
	if len(ends) == 0 {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("settle acknowledgements: %w", err)
	}
	defer tx.Rollback()
	for _, e := range ends {
		if _, err := tx.ExecContext(ctx, `UPDATE acks SET ended_at = ?, end_reason = ? WHERE id = ? AND ended_at IS NULL`,
			ms(e.at), e.reason, e.id); err != nil {
			return fmt.Errorf("settle acknowledgements: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("settle acknowledgements: %w", err)
	}
	s.changed()
	return nil
}

// ackOutcome is why a ends by snap, or "" when it holds.
func ackOutcome(snap *Snapshot, a Ack) string {
	var srv *Server
	for i := range snap.Servers {
		if snap.Servers[i].ID == a.ServerID {
			srv = &snap.Servers[i]
			break
		}
	}
	if srv == nil {
		return AckGone
	}
	st := srv.Worst
	if !a.WholeServer() {
		found := false
		for _, al := range srv.Alarms {
			if al.ID == a.AlarmID {
				if !al.Counted() {
					return AckGone
				}
				st, found = al.State, true
				break
			}
		}
		if !found {
			return AckGone
		}
	}
	switch {
	case st == StateOK:
		return AckRecovered
	case st.Worse(a.StateAtAck):
		return AckWorse
	}
	return ""
}

// settleAcksAfterPoll settles the account's acknowledgements against the
// snapshot a poll just stored. It reads the acknowledged servers' alarms
// back only when the account has an acknowledgement that has not ended
// (one indexed query otherwise).
func (s *Store) settleAcksAfterPoll(ctx context.Context, accountID int64, now time.Time) error {
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT server_id FROM acks WHERE ended_at IS NULL AND account_id = ?`, accountID)
	if err != nil {
		return fmt.Errorf("settle acknowledgements: %w", err)
	}
	servers := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return fmt.Errorf("settle acknowledgements: %w", err)
		}
		servers[id] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("settle acknowledgements: %w", err)
	}
	if len(servers) == 0 {
		return nil
	}
	snap, err := s.snapshot(ctx, accountID, func(srv *Server) bool { return servers[srv.ID] })
	if err != nil {
		return fmt.Errorf("settle acknowledgements: %w", err)
	}
	return s.SettleAcks(ctx, accountID, snap, now)
}

// PruneAcks drops acknowledgements that ended before before (the history's
// age limit); those in force are kept however old.
func (s *Store) PruneAcks(ctx context.Context, before time.Time) error {
	b := ms(before)
	if _, err := s.db.ExecContext(ctx, `DELETE FROM acks WHERE ended_at < ? OR ended_at IS NULL AND expires_at < ?`, b, b); err != nil {
		return fmt.Errorf("prune acknowledgements: %w", err)
	}
	return nil
}
