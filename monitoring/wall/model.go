// Package wall is the read model of the wall: what the dashboard, account
// and navigation show, built from accounts, snapshots and saved filters.
//
// It is its own package, pure and free of HTTP, SQL and HTML, so that the
// rules of the wall (counts, worst states, staleness, the filter language)
// live in one place, are table-tested on their own, and are computed once
// per change of the data rather than once per request. Handlers parse a
// request, ask the current Model for a View, and render it.
//
// The model's input comes through one interface, Source. Whatever the wall
// shows beyond the snapshots (acknowledgements, change marks, the latest
// changes) is an Overlay: a small type in its own file that loads its part
// of the Input and puts it on the freshly built model, listed once in
// newOverlays and tested alone.
package wall

import (
	"reflect"
	"time"

	"cmdash/monitoring"
)

// Input is everything a Model is built from: the snapshots' part, and what
// each overlay loads.
type Input struct {
	Accounts  []monitoring.Account           // in display order
	Snapshots map[int64]*monitoring.Snapshot // by account id; missing or nil: never polled
	Filters   []monitoring.Filter
	Recent    []monitoring.Event // the latest recorded changes, newest first
	// Acks are the acknowledgements in force (see monitoring.Ack); those
	// past their expiry at the time of the build are left out.
	Acks []monitoring.Ack
	// Windows are the maintenance windows of each account, by account id
	// (see Maintenance).
	Windows map[int64][]monitoring.Suppression
	// Flapping are the alarms that flap (see Flapping).
	Flapping []monitoring.Flap
}

// Options are the settings the rules depend on.
type Options struct {
	// PollInterval: an account whose data is older than three intervals is
	// stale even when no poll failed.
	PollInterval time.Duration
	// ChangeWindow is how long a tile stays marked after its worst state
	// changed (DefaultChangeWindow when zero).
	ChangeWindow time.Duration
	// OldAfter is how long a CRITICAL server goes unacknowledged before
	// its tile is marked old (DefaultOldAfter when zero; see Ageing).
	OldAfter time.Duration
	// OnError hears what Watch could not do (a rebuild that failed).
	OnError func(error)
}

// staleAfter is how many poll intervals old data may be before it is stale.
const staleAfter = 3

// Model is one immutable build of the wall. Callers must not modify it.
type Model struct {
	// Version identifies what the model shows: two models with the same
	// version show the same thing. It advances only when that changes.
	Version  uint64
	Sections []Section // every account, in display order
	Summary  Summary
	Filters  []monitoring.Filter
	Recent   []monitoring.Event // the latest changes, newest first (at most RecentShown)

	// validUntil is when a time-dependent fact (an account turning stale,
	// an acknowledgement expiring) changes; zero when none will.
	validUntil time.Time
}

// Summary counts across every account (of a model) or every shown account
// (of a View).
type Summary struct {
	Accounts        int
	FailingAccounts int // the last poll failed
	StaleAccounts   int
	// Servers counts every server. Stale counts those of stale accounts
	// among them: their states are the last known, not today's, so what
	// the wall says is current leaves them out (see Fresh).
	Servers ServerCounts
	Stale   ServerCounts
	// Worst is the worst state of all, the last known of stale accounts
	// included: a CRITICAL server whose account stopped answering is
	// still the likeliest thing to be on fire.
	Worst monitoring.State
	// OldestData is when the oldest shown data was fetched, set only when
	// some account is stale (fresh data carries no time; see Section.DataAt).
	OldestData time.Time
}

// add counts one section in, its servers too.
func (s *Summary) add(sec *Section) {
	s.Accounts++
	if sec.Error != "" {
		s.FailingAccounts++
	}
	s.Servers.plus(sec.Servers)
	if sec.Stale {
		s.StaleAccounts++
		s.Stale.plus(sec.Servers)
		if !sec.DataAt.IsZero() && (s.OldestData.IsZero() || sec.DataAt.Before(s.OldestData)) {
			s.OldestData = sec.DataAt
		}
	}
	s.Worst = s.Worst.Or(sec.Worst)
}

// Fresh counts the servers of the accounts whose data is current: the
// states the wall can vouch for.
func (s Summary) Fresh() ServerCounts {
	c := s.Servers
	c.minus(s.Stale)
	return c
}

// ServerCounts counts servers by their worst state. An acknowledged
// server (Tile.Acked) counts in its state and once more in the Acked count
// of that state.
type ServerCounts struct {
	Critical int
	Warning  int
	Unknown  int
	OK       int
	Total    int

	AckedCritical int
	AckedWarning  int
	AckedUnknown  int

	// In maintenance (Tile.Maint), counted like the acknowledged; a tile
	// both is counted here only.
	MaintCritical int
	MaintWarning  int
	MaintUnknown  int
}

func (c *ServerCounts) add(s monitoring.State) {
	c.Total++
	switch s {
	case monitoring.StateCritical:
		c.Critical++
	case monitoring.StateWarning:
		c.Warning++
	case monitoring.StateUnknown:
		c.Unknown++
	default:
		c.OK++
	}
}

// addTile counts a tile, and its maintenance or acknowledgement apart.
func (c *ServerCounts) addTile(t *Tile) {
	c.add(t.Worst)
	crit, warn, unkn := &c.AckedCritical, &c.AckedWarning, &c.AckedUnknown
	switch {
	case t.Maint:
		crit, warn, unkn = &c.MaintCritical, &c.MaintWarning, &c.MaintUnknown
	case !t.Acked:
		return
	}
	switch t.Worst {
	case monitoring.StateCritical:
		*crit++
	case monitoring.StateWarning:
		*warn++
	case monitoring.StateUnknown:
		*unkn++
	}
}

func (c *ServerCounts) plus(o ServerCounts) { c.addScaled(o, 1) }

func (c *ServerCounts) minus(o ServerCounts) { c.addScaled(o, -1) }

func (c *ServerCounts) addScaled(o ServerCounts, k int) {
	c.Critical += k * o.Critical
	c.Warning += k * o.Warning
	c.Unknown += k * o.Unknown
	c.OK += k * o.OK
	c.Total += k * o.Total
	c.AckedCritical += k * o.AckedCritical
	c.AckedWarning += k * o.AckedWarning
	c.AckedUnknown += k * o.AckedUnknown
	c.MaintCritical += k * o.MaintCritical
	c.MaintWarning += k * o.MaintWarning
	c.MaintUnknown += k * o.MaintUnknown
}

// Acked is how many servers with problems are acknowledged.
func (c ServerCounts) Acked() int { return c.AckedCritical + c.AckedWarning + c.AckedUnknown }

// Maint is how many servers with problems are in maintenance.
func (c ServerCounts) Maint() int { return c.MaintCritical + c.MaintWarning + c.MaintUnknown }

// Open are the servers of each problem state neither acknowledged nor in
// maintenance: what needs someone.
func (c ServerCounts) Open() (critical, warning, unknown int) {
	return c.Critical - c.AckedCritical - c.MaintCritical, c.Warning - c.AckedWarning - c.MaintWarning,
		c.Unknown - c.AckedUnknown - c.MaintUnknown
}

// Problems is how many servers are not OK.
func (c ServerCounts) Problems() int { return c.Critical + c.Warning + c.Unknown }

// Section is one account.
type Section struct {
	AccountID int64
	Name      string
	Username  string
	Enabled   bool
	Polled    bool // a snapshot exists
	Stale     bool // the last poll failed, or the data is older than three intervals
	// DataAt is when the shown data was fetched. It is set only while the
	// section is stale: fresh data changes with every poll, and the page
	// must not change when nothing a person sees did.
	DataAt   time.Time
	Error    string // why the last poll failed, in words; "" after a good poll
	Failures int    // consecutive failed polls
	Counts   monitoring.Counts
	Servers  ServerCounts
	Worst    monitoring.State
	Tiles    []Tile // every server, in the snapshot's order (by label)
	// Suffix is the domain most of its servers' labels share (see
	// sharedSuffix), said once in the heading; "" when none is.
	Suffix string
}

// Troubled reports whether the account needs a look: a server not OK, or
// data that cannot be trusted (stale, failing).
func (s *Section) Troubled() bool {
	return s.Servers.Problems() > 0 || s.Stale || s.Error != ""
}

// Tile is one server.
type Tile struct {
	ID    string
	Label string
	// Short is the label without its section's Suffix: what the tile says.
	Short  string
	Counts monitoring.Counts
	Worst  monitoring.State
	// Change is how its worst state changed within the change window, and
	// ChangedAt when that was seen; zero when it did not.
	Change    Change
	ChangedAt time.Time
	// Acked: a problem server that is acknowledged as a whole, or each of
	// whose problem alarms is. It is shown muted and counted apart.
	Acked bool
	// AckedAlarms is how many of its problem alarms are acknowledged one
	// by one.
	AckedAlarms int
	// Ack is the acknowledgement the tile tells of (who, why, until when):
	// the server's own, else the latest of its alarms'; nil when none.
	Ack *monitoring.Ack
	// Maint: a problem server each of whose problem alarms is in a
	// maintenance window (see Maintenance). It is shown muted, marked
	// MAINT, and counted apart.
	Maint bool
	// Suppressed is how many of its problem alarms are in maintenance,
	// Windows the window of each by alarm id (nil when none), and Window
	// the one the tile tells of: the one that ends last.
	Suppressed int
	Windows    map[string]*monitoring.Suppression
	Window     *monitoring.Suppression
	// Flapping are its alarms that flap (see Flapping).
	Flapping []monitoring.Flap
	// Problems are its problem alarms, what is wrong, in
	// monitoring.ProblemOrder, those in maintenance last (at most
	// monitoring.ShownProblems).
	Problems []monitoring.Alarm
	// Since is when the server's worst state began, as far as its alarms
	// tell (the oldest of its alarms in that state); zero when it is OK or
	// the time is not known.
	Since time.Time
	// Old: a CRITICAL server, not acknowledged, CRITICAL for longer than
	// Options.OldAfter (see Ageing).
	Old bool
	// terms are what the filter matches besides the names (see
	// monitoring.Server.Terms).
	terms string
}

// Problem reports whether the server is not OK.
func (t *Tile) Problem() bool { return t.Worst != monitoring.StateOK }

// Quiet reports whether the server's problems are in hand: acknowledged,
// or in maintenance. A quiet tile is muted and never sounds.
func (t *Tile) Quiet() bool { return t.Acked || t.Maint }

// Run is a stretch of a ring: Count alarms of one State.
type Run struct {
	State monitoring.State
	Count int
}

// RingOrder is the order of a ring's segments from twelve o'clock,
// clockwise: problems first.
var RingOrder = [...]monitoring.State{monitoring.StateCritical, monitoring.StateWarning, monitoring.StateUnknown, monitoring.StateOK}

// Ring is the tile's ring as runs of one state each, in RingOrder, one
// segment per counted alarm; empty runs are left out.
func (t Tile) Ring() []Run {
	return ring(t.Counts)
}

func ring(c monitoring.Counts) []Run {
	out := make([]Run, 0, 4)
	for _, st := range RingOrder {
		if n := countOf(c, st); n > 0 {
			out = append(out, Run{State: st, Count: n})
		}
	}
	return out
}

func countOf(c monitoring.Counts, st monitoring.State) int {
	switch st {
	case monitoring.StateCritical:
		return c.Critical
	case monitoring.StateWarning:
		return c.Warning
	case monitoring.StateUnknown:
		return c.Unknown
	}
	return c.OK
}

// Build makes the model of in at now, with every overlay and nothing
// before it to compare with (so no change marks). It is pure: the same
// input, time and options give the same model (Version is left zero; see
// Service).
func Build(in Input, now time.Time, opts Options) *Model {
	return build(&in, nil, now, opts, newOverlays(opts))
}

// build makes the model of in at now: the sections of the snapshots, then
// each overlay in turn (prev is the model before, nil for the first), then
// the counts, which overlays may change (an acknowledged server counts
// apart).
func build(in *Input, prev *Model, now time.Time, opts Options, overlays []Overlay) *Model {
	m := &Model{Sections: make([]Section, 0, len(in.Accounts)), Filters: in.Filters}
	for _, a := range in.Accounts {
		sec, deadline := buildSection(a, in.Snapshots[a.ID], now, opts.PollInterval)
		m.Sections = append(m.Sections, sec)
		m.until(deadline)
	}
	for _, o := range overlays {
		o.Apply(in, prev, m, now)
	}
	for i := range m.Sections {
		for j := range m.Sections[i].Tiles {
			if t := &m.Sections[i].Tiles[j]; len(t.Problems) > monitoring.ShownProblems {
				t.Problems = t.Problems[:monitoring.ShownProblems:monitoring.ShownProblems]
			}
		}
	}
	m.Summary.Worst = monitoring.StateOK
	for i := range m.Sections {
		sec := &m.Sections[i]
		for j := range sec.Tiles {
			sec.Servers.addTile(&sec.Tiles[j])
		}
		m.Summary.add(sec)
	}
	return m
}

// until makes the model valid until deadline at most; a zero deadline
// changes nothing.
func (m *Model) until(deadline time.Time) {
	if !deadline.IsZero() && (m.validUntil.IsZero() || deadline.Before(m.validUntil)) {
		m.validUntil = deadline
	}
}

// buildSection returns the account's section and when it will turn stale
// by age alone (zero when it already is, or has no data).
func buildSection(a monitoring.Account, snap *monitoring.Snapshot, now time.Time, interval time.Duration) (Section, time.Time) {
	sec := Section{
		AccountID: a.ID, Name: a.Name(), Username: a.Username, Enabled: a.Enabled,
		Error: a.Status.LastError, Failures: a.Status.ErrorCount, Worst: monitoring.StateOK,
	}
	if snap == nil {
		sec.Stale = a.Status.ErrorCount > 0
		return sec, time.Time{}
	}
	sec.Polled = true
	labels := make([]string, len(snap.Servers))
	for i := range snap.Servers {
		labels[i] = snap.Servers[i].Label
	}
	sec.Suffix = sharedSuffix(labels)
	sec.Tiles = make([]Tile, len(snap.Servers))
	for i := range snap.Servers {
		s := &snap.Servers[i]
		t := &sec.Tiles[i]
		*t = Tile{ID: s.ID, Label: s.Label, Short: shortLabel(s.Label, sec.Suffix), Counts: s.Counts, Worst: s.Worst,
			Problems: s.Alarms, terms: s.Terms}
		if len(s.Alarms) > 0 && s.Alarms[0].State == s.Worst {
			t.Since = s.Alarms[0].Since // the oldest of the worst
		}
		sec.Counts.Plus(s.Counts)
		sec.Worst = sec.Worst.Or(s.Worst)
	}
	var deadline time.Time
	turnsStale := snap.FetchedAt.Add(staleAfter * interval)
	switch {
	case a.Status.ErrorCount > 0:
		sec.Stale = true
	case interval > 0 && now.After(turnsStale):
		sec.Stale = true
	case interval > 0:
		deadline = turnsStale.Add(time.Nanosecond) // the first instant now.After holds
	}
	if sec.Stale {
		sec.DataAt = snap.FetchedAt
	}
	return sec, deadline
}

// Section returns the account's section, or nil when there is none.
func (m *Model) Section(accountID int64) *Section {
	for i := range m.Sections {
		if m.Sections[i].AccountID == accountID {
			return &m.Sections[i]
		}
	}
	return nil
}

// ValidAt reports whether the model still holds at now: no account has
// turned stale by age, and no acknowledgement expired, since it was built.
func (m *Model) ValidAt(now time.Time) bool {
	return m.validUntil.IsZero() || now.Before(m.validUntil)
}

// sameShown reports whether two models show the same thing.
func (m *Model) sameShown(o *Model) bool {
	return reflect.DeepEqual(m.Summary, o.Summary) && reflect.DeepEqual(m.Sections, o.Sections) &&
		reflect.DeepEqual(m.Filters, o.Filters) && reflect.DeepEqual(m.Recent, o.Recent)
}
