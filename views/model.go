// Package views holds the templ components of every page and fragment, and
// the plain view structs they take.
package views

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"

	"cmdash/monitoring"
	"cmdash/monitoring/wall"
	"cmdash/static"
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
	// SignedIn without User: someone is signed in, on a page shared by every
	// signed-in user (the cached wall pages do not name the user).
	SignedIn bool
	Alert    string // an error to show above the page
	Bare     bool   // no navigation (signed-out pages)
	// Build names this version of the markup and static files; every htmx
	// request from the page sends it back (see BuildHeader).
	Build string
	// Icon is the favicon's address; empty for the plain one.
	Icon string
	// Wall marks a page for a wall screen: no navigation at all.
	Wall bool
	// Link marks a page opened with a wall link: not even the brand leads
	// anywhere.
	Link bool
	// Live is the address of the stream that tells the page when what it
	// shows changed (see handlers/live.go); "" when live updates are off.
	Live string
}

// NavAccount is an account link in the navigation.
type NavAccount struct {
	ID    int64
	Name  string
	State monitoring.State
}

// Grid is the refreshing part of the dashboard and account pages.
type Grid struct {
	wall.View
	// Self is the URL that reloads this grid with the current filter.
	Self         string
	RefreshEvery time.Duration
	PollEvery    time.Duration
	CanOperate   bool // show the controls that change state (operators and admins)
	// SaveName is the name typed into a save-filter form that was refused.
	SaveName string
	// Wall is wall mode: all-OK accounts fold to one line and the script
	// sizes the tiles to the screen.
	Wall bool
	// Link marks a page opened with a wall link: no link leads elsewhere.
	Link bool
	// HideRecent leaves out the panel of latest changes (?changes=off).
	HideRecent bool
	// FactsOf is the account of an account's page, which loads what
	// Rackspace says of the account besides the overview
	// (AccountFactsPanel) after itself; 0 on other pages.
	FactsOf int64
}

// TitleCounts words a summary for the start of a page title, e.g.
// "2 CRIT (1 acked) · 5 WARN · " or "All OK · ", so a browser tab or a
// window list tells the state before the name. It counts as the summary
// strip does: the states of the accounts whose data is current, and the
// servers of stale accounts apart ("8 STALE · ").
func TitleCounts(s wall.Summary) string {
	var out string
	add := func(n, acked, maint int, word string) {
		if n > 0 {
			out += strconv.Itoa(n) + " " + word + quietNote(acked, maint) + " · "
		}
	}
	fresh := s.Fresh()
	add(fresh.Critical, fresh.AckedCritical, fresh.MaintCritical, "CRIT")
	add(fresh.Warning, fresh.AckedWarning, fresh.MaintWarning, "WARN")
	add(fresh.Unknown, fresh.AckedUnknown, fresh.MaintUnknown, "UNKN")
	if out == "" && fresh.Total > 0 && s.Stale.Total == 0 {
		out = "All OK · "
	}
	if s.Stale.Total > 0 {
		out += strconv.Itoa(s.Stale.Total) + " STALE · "
	}
	if s.FailingAccounts > 0 {
		out += strconv.Itoa(s.FailingAccounts) + " FAILING · "
	}
	return out
}

// staleTitle says what the servers of stale accounts were when last seen,
// e.g. "Servers of accounts whose data is not current (…); when last
// seen: 3 CRITICAL, 1 OK."
func staleTitle(s wall.Summary) string {
	out := "Servers of accounts whose data is not current (their polls fail, or their data is old): greyed on the wall, and not counted above. When last seen:"
	sep := " "
	for _, c := range []struct {
		n    int
		word string
	}{{s.Stale.Critical, "CRITICAL"}, {s.Stale.Warning, "WARNING"}, {s.Stale.Unknown, "UNKNOWN"}, {s.Stale.OK, "OK"}} {
		if c.n > 0 {
			out += sep + strconv.Itoa(c.n) + " " + c.word
			sep = ", "
		}
	}
	return out + "."
}

// IconFor is the favicon for a worst state.
func IconFor(s monitoring.State) string {
	return static.URL("favicon-" + StateClass(s) + ".svg")
}

// StateWord is the short word a problem tile carries, so that its state
// reads without colour.
func StateWord(s monitoring.State) string {
	switch s {
	case monitoring.StateCritical:
		return "CRIT"
	case monitoring.StateWarning:
		return "WARN"
	case monitoring.StateUnknown:
		return "UNKN"
	}
	return "OK"
}

// Calm reports whether a section folds to one line in wall mode: it has
// servers, all OK, and data that can be trusted.
func Calm(s wall.Section) bool {
	return s.Polled && !s.Troubled() && len(s.Tiles) > 0
}

// TileHref is the server page of a tile.
func TileHref(accountID int64, t wall.Tile) string {
	return "/accounts/" + strconv.FormatInt(accountID, 10) + "/servers/" + url.PathEscape(t.ID)
}

// ServerPage is one server with its alarms (in monitoring.SortAlarms order). Like
// Grid it holds no time that changes by itself, so its markup changes only
// when what it shows does.
type ServerPage struct {
	// History is the server's latest recorded changes, newest first.
	History     []TimelineRow
	AccountID   int64
	AccountName string
	Server      monitoring.Server
	Tile        wall.Tile
	// Self is the URL that reloads the refreshing part (ServerFragment).
	Self         string
	RefreshEvery time.Duration
	PollEvery    time.Duration
	Stale        bool
	// DataAt is when the data shown was fetched, set only while Stale (as
	// wall.Section.DataAt: fresh data is fetched anew at every poll).
	DataAt   time.Time
	Error    string // why the last poll failed; "" after a good poll
	Failures int    // consecutive failed polls
	Acks     ServerAcks
	// What Rackspace says besides the alarms (see wall.ServerDetail):
	// each alarm's maintenance window, the windows to come, flapping
	// alarms and alarms nobody watches, by alarm id.
	Windows  map[string]*monitoring.Suppression
	Upcoming []monitoring.Suppression
	Flapping map[string]int
	Blind    map[string]monitoring.BlindSpot
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
	// Role is what the reader may do: the forms an admin or an operator
	// uses are left out for the others.
	Role     monitoring.Role
	Accounts []AccountRow
	Add      AccountForm
	Filters  []monitoring.Filter
	Flash    string
	// EditID marks the account whose edit form was just submitted with errors.
	EditID int64
	Now    time.Time
	// WallLinks are the wall links; Link is the new-link form, NewLinkURL
	// the address of a link just made (shown once).
	WallLinks  []monitoring.WallLink
	Link       WallLinkForm
	NewLinkURL string
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
		return fmt.Sprintf("%d\u00a0s ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d\u00a0min ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d\u00a0h ago", int(d.Hours()))
	}
	return fmt.Sprintf("%d\u00a0days ago", int(d.Hours()/24))
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

func ms(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) }

// timesInARow words consecutive failures after the first.
func timesInARow(n int) string {
	if n <= 1 {
		return ""
	}
	return " " + strconv.Itoa(n) + " times in a row"
}

func seconds(d time.Duration) string {
	if d <= 0 {
		d = 20 * time.Second
	}
	if d < time.Second {
		return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
	}
	return strconv.Itoa(int(d.Seconds())) + "s"
}

// tileTitle words a tile for a tooltip: its full name and counts, each of
// its problems with its status and since when, and its acknowledgement
// (who made it only for a named viewer, one signed in).
func tileTitle(t wall.Tile, named bool) string {
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
	switch {
	case t.Maint:
		s += " — in maintenance"
	case t.Suppressed > 0:
		s += " — " + strconv.Itoa(t.Suppressed) + " of " + strconv.Itoa(t.Counts.Problems()) + " problem alarms in maintenance"
	}
	switch {
	case t.Acked:
		s += " — acknowledged"
	case t.AckedAlarms > 0:
		s += " — " + strconv.Itoa(t.AckedAlarms) + " of " + strconv.Itoa(t.Counts.Problems()) + " problem alarms acknowledged"
	}
	for _, a := range t.Problems {
		s += "\n" + string(a.State) + " " + a.Label
		if a.Status != "" {
			s += ": " + a.Status
		}
		if !a.Since.IsZero() {
			s += " (since " + Stamp(a.Since) + ")"
		}
		if w := t.Windows[a.ID]; w != nil {
			s += " [maintenance: " + WindowWords(w) + "]"
		}
	}
	if more := t.Counts.Problems() - len(t.Problems); more > 0 && len(t.Problems) > 0 {
		s += "\n… and " + strconv.Itoa(more) + " more"
	}
	for _, f := range t.Flapping {
		s += "\nFlapping: " + f.AlarmLabel + " changed state " + strconv.Itoa(f.Changes) + " times in the last hour"
	}
	if a := t.Ack; a != nil && (t.Acked || t.AckedAlarms > 0) {
		s += "\nAcknowledged"
		if named {
			s += " by " + a.CreatedBy
		}
		if a.ExpiresAt.IsZero() {
			s += " until it recovers"
		} else {
			s += " until " + Stamp(a.ExpiresAt)
		}
		s += ": " + a.Note
	}
	return s
}

// tileLabel is what a tile calls its server: the label without the
// domain its account's heading says, or the whole label.
func tileLabel(t wall.Tile) string {
	if t.Short != "" {
		return t.Short
	}
	return t.Label
}

// ClockUTC is a time of day in UTC, to the minute ("14:05 UTC"); the
// browser's script words it in the viewer's zone.
func ClockUTC(t time.Time) string { return t.UTC().Format("15:04") + " UTC" }

// tileTitleAttr is a tile's tooltip: in full for a problem tile; for an
// OK one only its full name, when the tile shows it shortened (an all-OK
// tile says all else it has to say, and thousands of them are sent on
// every change).
func tileTitleAttr(t wall.Tile, named bool) templ.Attributes {
	switch {
	case t.Worst != monitoring.StateOK:
		return templ.Attributes{"title": tileTitle(t, named)}
	case tileLabel(t) != t.Label:
		return templ.Attributes{"title": t.Label}
	}
	return nil
}

// BuildHeader is the request header that carries the page's Build: a
// page loaded before an upgrade asks for fragments it cannot show, and the
// server answers those with a reload.
const BuildHeader = "X-Dashboard-Build"

func buildHeader(build string) string {
	b, _ := json.Marshal(map[string]string{BuildHeader: build})
	return string(b)
}

// isoTime is a machine-readable time for <time datetime>, to the second.
func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// LoginForm is the sign-in, setup or password form with what was typed
// (never a password) and messages.
type LoginForm struct {
	Username string
	Next     string
	Message  string
	Errors   map[string]string
	// SSO names the single sign-on provider on its button; "" shows none.
	SSO string
	// NoPassword hides the password form (password sign-in is off).
	NoPassword bool
}

// SSOURL starts single sign-on, coming back to Next.
func (f LoginForm) SSOURL() templ.SafeURL {
	if f.Next == "" || f.Next == "/" {
		return "/auth/oidc"
	}
	return templ.SafeURL("/auth/oidc?next=" + url.QueryEscape(f.Next))
}

// Err returns the message for a field.
func (f LoginForm) Err(field string) string { return f.Errors[field] }

// Access is the users and tokens page.
type Access struct {
	Me string
	// Role is what the reader may do: only an admin manages users and
	// tokens; everyone else sees their own role and password form.
	Role monitoring.Role
	// HasPassword: the reader signs in with a password (not through a
	// proxy or an OpenID provider), so can change it here.
	HasPassword bool
	NewUserRole string // the role chosen in a refused new-user form
	TokenRole   string // the role chosen in a refused token form
	Users       []monitoring.User
	Tokens      []monitoring.APIToken
	NewUser     LoginForm
	Password    LoginForm
	NewToken    string // shown once, right after creation
	TokenError  string
	TokenName   string // the name typed into a refused token form
	Flash       string
	Message     string
}

// plural picks the word for n.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// requestTimeout gives up on a refresh that has not answered within most
// of an interval, so a server that stopped answering (rather than refusing)
// is noticed before the next refresh is due.
func requestTimeout(every time.Duration) string {
	if every <= 0 {
		every = 20 * time.Second
	}
	return `{"timeout":` + strconv.FormatInt((every*3/4).Milliseconds(), 10) + `}`
}

// wallModeURL is wall mode with the filter q.
func wallModeURL(q string) string {
	if q == "" {
		return "/wall"
	}
	return "/wall?q=" + url.QueryEscape(q)
}

// ChangeWord is the mark of a lately changed tile, in words.
func ChangeWord(c wall.Change) string {
	switch c {
	case wall.ChangeWorse:
		return "NEW"
	case wall.ChangeResolved:
		return "RESOLVED"
	}
	return ""
}

// Timeline is the timeline page: recorded changes, newest first.
type Timeline struct {
	Query string
	// Hint says what in Query was not understood (see wall.Query.Hint).
	Hint         string
	Rows         []TimelineRow
	More         bool // older matching changes exist beyond those shown
	Recording    bool // history is kept at all
	Self         string
	RefreshEvery time.Duration
}

// TimelineRow is one change on the timeline or a server's page (see
// wall.Row), with the address of its server's page.
type TimelineRow struct {
	wall.Row
	Href string // the server's page
}

// TimelineRows are rows with their servers' addresses.
func TimelineRows(rows []wall.Row) []TimelineRow {
	out := make([]TimelineRow, len(rows))
	for i, r := range rows {
		out[i] = TimelineRow{Row: r, Href: TileHref(r.AccountID, wall.Tile{ID: r.ServerID})}
		if r.Window != nil { // a maintenance window names no one server: its account's page lists it
			out[i].Href = "/accounts/" + strconv.FormatInt(r.AccountID, 10) + "/rackspace"
		}
	}
	return out
}

// Span words a duration for "after 13 min": it never changes by itself,
// so the page's bytes do not either.
func Span(d time.Duration) string {
	switch {
	case d < time.Minute:
		return strconv.Itoa(int(d.Seconds())) + " s"
	case d < time.Hour:
		return strconv.Itoa(int(d.Minutes())) + " min"
	case d < 48*time.Hour:
		h := int(d.Hours())
		if m := int(d.Minutes()) % 60; m > 0 {
			return strconv.Itoa(h) + " h " + strconv.Itoa(m) + " min"
		}
		return strconv.Itoa(h) + " h"
	}
	return strconv.Itoa(int(d.Hours()/24)) + " days"
}

func stateClassOf(s string) string { return StateClass(monitoring.State(s)) }

// timelineURL is the timeline with the filter q.
func timelineURL(q string) string {
	if q == "" {
		return "/timeline"
	}
	return "/timeline?q=" + url.QueryEscape(q)
}

// alarmHistory is one alarm's rows on the server page (the server's own
// changes under AlarmID "").
type alarmHistory struct {
	AlarmID string
	Label   string
	Rows    []TimelineRow
}

// historyByAlarm groups the server's history by alarm, in the order of the
// page's alarms table, then alarms no longer there, then the server's own.
func historyByAlarm(p ServerPage) []alarmHistory {
	by := map[string]*alarmHistory{}
	var order []string
	for _, row := range p.History {
		g := by[row.AlarmID]
		if g == nil {
			label := row.AlarmLabel
			if row.AlarmID == "" {
				label = "The server itself"
			}
			g = &alarmHistory{AlarmID: row.AlarmID, Label: label}
			by[row.AlarmID] = g
			order = append(order, row.AlarmID)
		}
		g.Rows = append(g.Rows, row)
	}
	out := make([]alarmHistory, 0, len(by))
	for _, a := range p.Server.Alarms {
		if g := by[a.ID]; g != nil {
			out = append(out, *g)
			delete(by, a.ID)
		}
	}
	for _, id := range order {
		if g := by[id]; g != nil && id != "" {
			out = append(out, *g)
		}
	}
	if g := by[""]; g != nil {
		out = append(out, *g)
	}
	return out
}

// WindowWords says what a maintenance window is and until when, e.g.
// "Planned reboot, until 14:30 UTC" (or "… until an end Rackspace did not
// say" for a window known by its ID alone).
func WindowWords(w *monitoring.Suppression) string {
	if w.End.IsZero() {
		return w.Title() + ", end not known"
	}
	return w.Title() + ", until " + Stamp(w.End)
}

// windowScope says what a maintenance window names, e.g. "2 servers, 1
// check".
func windowScope(w monitoring.Suppression) string {
	var parts []string
	add := func(n int, one, many string) {
		if n == 1 {
			parts = append(parts, "1 "+one)
		} else if n > 1 {
			parts = append(parts, strconv.Itoa(n)+" "+many)
		}
	}
	add(len(w.Entities), "server", "servers")
	add(len(w.Checks), "check", "checks")
	add(len(w.Alarms), "alarm", "alarms")
	add(len(w.NotificationPlans), "notification plan", "notification plans")
	if len(parts) == 0 {
		return "names nothing"
	}
	return "names " + strings.Join(parts, ", ")
}

// percent words a share, e.g. "83 %".
func percent(f float64) string { return strconv.Itoa(int(f*100+0.5)) + "\u00a0%" }

// Every words a poll interval for a person: "43 s", "18 min", "2 h 30 min".
func Every(d time.Duration) string {
	switch {
	case d < time.Minute:
		return strconv.Itoa(int(d.Round(time.Second).Seconds())) + " s"
	case d < time.Hour:
		return strconv.Itoa(int(d.Round(time.Minute).Minutes())) + " min"
	}
	d = d.Round(time.Minute)
	h, m := int(d.Hours()), int(d.Minutes())%60
	if m == 0 {
		return strconv.Itoa(h) + " h"
	}
	return strconv.Itoa(h) + " h " + strconv.Itoa(m) + " min"
}

// WholeWindow is the maintenance window every alarm of the server is in,
// when it is one and the same (the page then says it once); nil otherwise.
func (p ServerPage) WholeWindow() *monitoring.Suppression {
	var w *monitoring.Suppression
	for _, a := range p.Server.Alarms {
		aw := p.Windows[a.ID]
		if aw == nil || w != nil && aw.ID != w.ID {
			return nil
		}
		w = aw
	}
	return w
}

// thousands writes n with thousands separated: "50,000".
func thousands(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		return "-" + s
	}
	return s
}

// BlindGroup is the blind spots of one reason.
type BlindGroup struct {
	Reason  monitoring.BlindReason
	Heading string
	Spots   []monitoring.BlindSpot
}

// blindGroups groups blind spots by reason, the worst blindness first.
func blindGroups(spots []monitoring.BlindSpot) []BlindGroup {
	order := []struct {
		r         monitoring.BlindReason
		one, many string
	}{
		{monitoring.BlindQuietPlan, "alarm whose notification plan tells nobody of CRITICAL", "alarms whose notification plan tells nobody of CRITICAL"},
		{monitoring.BlindNoAlarms, "server without a single alarm", "servers without a single alarm"},
		{monitoring.BlindCheckDisabled, "alarm on a disabled check", "alarms on disabled checks"},
		{monitoring.BlindAlarmDisabled, "disabled alarm", "disabled alarms"},
	}
	var out []BlindGroup
	for _, o := range order {
		g := BlindGroup{Reason: o.r}
		for _, b := range spots {
			if b.Reason == o.r {
				g.Spots = append(g.Spots, b)
			}
		}
		if len(g.Spots) > 0 {
			g.Heading = plural(len(g.Spots), o.one, o.many)
			out = append(out, g)
		}
	}
	return out
}
