// Package views holds the templ components of every page and fragment, and
// the plain view structs they take.
package views

import (
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"cmdash/monitoring"
)

// Layout is what every full page needs.
type Layout struct {
	Title   string
	Demo    bool
	Nav     []NavAccount
	Filters []monitoring.Filter
	Query   string
	Active  string // "dashboard", "settings" or "account-<id>"
	User    string // signed-in user, empty when none
	Alert   string // an error to show above the page
	Bare    bool   // no navigation (signed-out pages)
}

// NavAccount is an account link in the navigation.
type NavAccount struct {
	ID    int64
	Name  string
	State monitoring.State
}

// Grid is the refreshing part of the dashboard and account pages.
type Grid struct {
	Sections []Section
	Query    string
	// Self is the URL that reloads this grid with the current filter.
	Self         string
	RefreshEvery time.Duration
	SignedIn     bool // show the controls that change state
	Accounts     int  // accounts before filtering
	Matches      int  // tiles shown
	Total        int  // tiles before filtering
	GeneratedAt  time.Time
}

// Section is one account's block on the dashboard.
type Section struct {
	AccountID   int64
	Name        string
	Username    string
	Enabled     bool
	Stale       bool
	Polled      bool // a snapshot exists
	UpdatedAt   time.Time
	UpdatedAgo  string
	Error       string
	ErrorSince  string
	Servers     []Tile
	ServerTotal int               // before filtering
	CanRefresh  bool              // the viewer is signed in
	Counts      monitoring.Counts // alarms of all servers
	Worst       monitoring.State
	// CriticalServers and WarningServers count servers by their worst state.
	CriticalServers int
	WarningServers  int
}

// Tile is one server circle.
type Tile struct {
	ID       string
	Label    string
	Href     string
	Counts   monitoring.Counts
	Worst    monitoring.State
	Segments []Segment
}

// Segment is one arc of a tile's ring, one per counted alarm.
type Segment struct {
	Path  string
	State monitoring.State
}

// ServerPage is one server with its alarms.
type ServerPage struct {
	AccountID   int64
	AccountName string
	Server      monitoring.Server
	Tile        Tile
	FetchedAt   time.Time
	Now         time.Time
	Stale       bool
	Error       string
}

// AccountRow is one account on the settings page.
type AccountRow struct {
	monitoring.Account
	Form AccountForm // the edit form, with errors when it was just submitted
}

// AccountForm is the add or edit form, with what the user typed (never the
// API key) and messages per field.
type AccountForm struct {
	Username string
	Alias    string
	Enabled  bool
	Errors   map[string]string
	// Message is a form-wide error, e.g. what Identity answered.
	Message string
}

// Err returns the message for a field.
func (f AccountForm) Err(field string) string { return f.Errors[field] }

// Settings is the settings page.
type Settings struct {
	Accounts []AccountRow
	Add      AccountForm
	Filters  []monitoring.Filter
	Flash    string
	// EditID marks the account whose edit form was just submitted with errors.
	EditID int64
	Now    time.Time
}

// StateClass is the CSS class for a state.
func StateClass(s monitoring.State) string {
	switch s {
	case monitoring.StateOK:
		return "ok"
	case monitoring.StateWarning:
		return "warning"
	case monitoring.StateCritical:
		return "critical"
	}
	return "unknown"
}

// ringRadius and ringWidth describe the SVG ring in a 100×100 viewBox.
const (
	ringRadius = 42.0
	ringWidth  = 9.0
)

// ringOrder puts problems first, so they start at twelve o'clock.
var ringOrder = []monitoring.State{monitoring.StateCritical, monitoring.StateWarning, monitoring.StateUnknown, monitoring.StateOK}

// Ring cuts a circle into one arc per counted alarm, CRITICAL first from
// twelve o'clock clockwise, then WARNING, UNKNOWN and OK, with a thin gap
// between arcs.
func Ring(alarms []monitoring.Alarm) []Segment {
	n := 0
	for _, a := range alarms {
		if a.Counted() {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	paths := ringPaths(n)
	segs := make([]Segment, 0, n)
	for _, st := range ringOrder {
		for _, a := range alarms {
			if a.Counted() && a.State == st {
				segs = append(segs, Segment{Path: paths[len(segs)], State: st})
			}
		}
	}
	return segs
}

// ringCache holds the arc paths of rings of up to 64 segments: the geometry
// depends only on the segment count, and a wall page draws tens of
// thousands of arcs.
var ringCache = func() [][]string {
	c := make([][]string, 65)
	for n := 1; n < len(c); n++ {
		c[n] = computeRingPaths(n)
	}
	return c
}()

func ringPaths(n int) []string {
	if n < len(ringCache) {
		return ringCache[n]
	}
	return computeRingPaths(n)
}

func computeRingPaths(n int) []string {
	if n == 1 {
		// A full circle cannot be one arc command: draw two halves.
		r := ringRadius
		return []string{fmt.Sprintf("M50 %s A%s %s 0 1 1 50 %s A%s %s 0 1 1 50 %s",
			f(50-r), f(r), f(r), f(50+r), f(r), f(r), f(50-r))}
	}
	span := 360.0 / float64(n)
	gap := math.Min(4.0, span*0.3)
	out := make([]string, n)
	for i := range out {
		out[i] = arc(float64(i)*span+gap/2, float64(i+1)*span-gap/2)
	}
	return out
}

// SegClass is the CSS class of a ring segment.
func SegClass(s monitoring.State) string {
	switch s {
	case monitoring.StateOK:
		return "seg seg-ok"
	case monitoring.StateWarning:
		return "seg seg-warning"
	case monitoring.StateCritical:
		return "seg seg-critical"
	}
	return "seg seg-unknown"
}

// arc is an SVG path along the ring from start to end degrees (0 = twelve
// o'clock, clockwise).
func arc(start, end float64) string {
	x1, y1 := polar(start)
	x2, y2 := polar(end)
	large := 0
	if end-start > 180 {
		large = 1
	}
	return "M" + f(x1) + " " + f(y1) + " A" + f(ringRadius) + " " + f(ringRadius) + " 0 " +
		strconv.Itoa(large) + " 1 " + f(x2) + " " + f(y2)
}

func polar(deg float64) (float64, float64) {
	rad := (deg - 90) * math.Pi / 180
	return 50 + ringRadius*math.Cos(rad), 50 + ringRadius*math.Sin(rad)
}

func f(v float64) string {
	s := strconv.FormatFloat(v, 'f', 2, 64)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	if s == "-0" || s == "" {
		return "0"
	}
	return s
}

// Ago words a duration for "updated 12 s ago".
func Ago(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	switch {
	case d < 0:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%d s ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d.Hours()))
	}
	return fmt.Sprintf("%d days ago", int(d.Hours()/24))
}

// Stamp is an absolute time for tables and tooltips.
func Stamp(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// Fraction is the centre text of a tile.
func Fraction(c monitoring.Counts) string {
	return strconv.Itoa(c.OK) + "/" + strconv.Itoa(c.Total)
}

func itoa(n int) string { return strconv.Itoa(n) }

func id64(n int64) string { return strconv.FormatInt(n, 10) }

func urlQuery(s string) string { return url.QueryEscape(s) }

func boolStr(b bool) string { return strconv.FormatBool(b) }

func seconds(d time.Duration) string {
	if d <= 0 {
		d = 20 * time.Second
	}
	if d < time.Second {
		return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
	}
	return strconv.Itoa(int(d.Seconds())) + "s"
}

func tileTitle(t Tile) string {
	s := t.Label + " — " + Fraction(t.Counts) + " OK"
	if t.Counts.Critical > 0 {
		s += ", " + strconv.Itoa(t.Counts.Critical) + " critical"
	}
	if t.Counts.Warning > 0 {
		s += ", " + strconv.Itoa(t.Counts.Warning) + " warning"
	}
	if t.Counts.Unknown > 0 {
		s += ", " + strconv.Itoa(t.Counts.Unknown) + " unknown"
	}
	return s
}

// LoginForm is the sign-in, setup or password form with what was typed
// (never a password) and messages.
type LoginForm struct {
	Username string
	Next     string
	Message  string
	Errors   map[string]string
}

// Err returns the message for a field.
func (f LoginForm) Err(field string) string { return f.Errors[field] }

// Access is the users and tokens page.
type Access struct {
	Me         string
	Users      []monitoring.User
	Tokens     []monitoring.APIToken
	NewUser    LoginForm
	Password   LoginForm
	NewToken   string // shown once, right after creation
	TokenError string
	Flash      string
	Message    string
}
