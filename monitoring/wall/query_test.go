package wall

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"cmdash/monitoring"
)

// termsFixture: "Customer 6" with a database whose disk is critical and a
// web server whose load is high, and "Customer 10" with a calm web server
// and a mail server; each alarm on a check of its own label.
func termsFixture() Input {
	withAlarms := func(id, label string, alarms ...monitoring.Alarm) monitoring.Server {
		s := monitoring.Server{ID: id, Label: label, Alarms: alarms}
		s.Tally()
		return monitoring.SummaryOf(&s)
	}
	alarm := func(label, check string, st monitoring.State) monitoring.Alarm {
		return monitoring.Alarm{ID: "al-" + label, Label: label, CheckLabel: check, State: st, Evaluated: true}
	}
	return Input{
		Accounts: []monitoring.Account{
			{ID: 1, Username: "cust6", Alias: "Customer 6", Enabled: true},
			{ID: 2, Username: "cust10", Alias: "Customer 10", Enabled: true},
		},
		Snapshots: map[int64]*monitoring.Snapshot{
			1: {FetchedAt: t0, Servers: []monitoring.Server{
				withAlarms("en1", "db-1", alarm("Disk usage", "Check /var", crit), alarm("Ping", "ping", ok)),
				withAlarms("en2", "web-1", alarm("Load average", "Load", warn), alarm("HTTP", "Homepage", ok)),
			}},
			2: {FetchedAt: t0, Servers: []monitoring.Server{
				withAlarms("en3", "web-2", alarm("HTTP", "Homepage", ok)),
				withAlarms("en4", "mail-1", alarm("SMTP", "Port 25", ok), alarm("Disk usage", "Check /", ok)),
			}},
		},
	}
}

func TestQueryWords(t *testing.T) {
	t.Parallel()
	m := Build(termsFixture(), t0, Options{})
	tests := []struct {
		name  string
		query string
		want  []string // tile ids, plain order
	}{
		{"a word matches an alarm's label", "disk", []string{"en1", "en4"}},
		{"a word matches a check's label", "homepage", []string{"en2", "en3"}},
		{"a word matches part of a label, case aside", "/VAR", []string{"en1"}},
		{"every word must match, each in any of the names", "customer disk", []string{"en1", "en4"}},
		{"words may match a server's names and its alarms together", "web load", []string{"en2"}},
		{"a word that matches nothing shows nothing", "cpu", nil},
		{"-word leaves out the servers it matches", "-web", []string{"en1", "en4"}},
		{"-word matches alarm labels too", "-disk", []string{"en2", "en3"}},
		{"-word matching an account's name leaves out its servers", "-cust6", []string{"en3", "en4"}},
		{"words and excluded words together", "customer -http", []string{"en1", "en4"}},
		{"an excluded word with a state", "state:ok -mail", []string{"en3"}},
		{"a lone dash is a word", "-", []string{"en1", "en2", "en3", "en4"}},
		{"a word with a colon that is no keyword is a word", "port", []string{"en4"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := ParseQuery(tt.query)
			q.Plain = true
			if q.Hint != "" {
				t.Errorf("hint %q for a query it understands", q.Hint)
			}
			var got []string
			for _, s := range m.View(q, 0).Sections {
				got = append(got, tileIDs(s.Tiles)...)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("tiles %v, want %v", got, tt.want)
			}
		})
	}
}

func TestQueryHints(t *testing.T) {
	t.Parallel()
	m := Build(termsFixture(), t0, Options{})
	tests := []struct {
		query string
		hint  string
	}{
		{"state:bogus", "“state:bogus” is not a state: use state:critical, state:warning, state:unknown or state:ok."},
		{"web State:Crit", "“State:Crit” is not a state: use state:critical, state:warning, state:unknown or state:ok."},
		{"state:", "“state:” is not a state: use state:critical, state:warning, state:unknown or state:ok."},
		{"is:ok", "“is:ok” is not understood: use is:problem, or state:critical, state:warning, state:unknown or state:ok."},
		{"sort:size", "“sort:size” is not an order: use sort:name or sort:worst."},
		{"-state:ok", "“-state:ok” cannot be excluded, only a word can: name the states to show instead, state:critical, state:warning, state:unknown or state:ok."},
		{"-sort:name", "“-sort:name” cannot be excluded: use sort:name or sort:worst."},
		{"is:bogus state:bogus", "“is:bogus” is not understood: use is:problem, or state:critical, state:warning, state:unknown or state:ok."},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			q := ParseQuery(tt.query)
			if q.Hint != tt.hint {
				t.Errorf("hint\n %q\nwant\n %q", q.Hint, tt.hint)
			}
			// What it does not understand matches nothing, tiles and
			// changes alike, rather than something it does not say.
			v := m.View(q, 0)
			if v.Matches != 0 || len(v.Sections) != 0 {
				t.Errorf("%d tiles in %d sections shown, want none", v.Matches, len(v.Sections))
			}
			if q.MatchesChange("Customer 6", "cust6", "web-1", "en2", "Load average", ok, crit) {
				t.Error("a change matches")
			}
			if v.Query.Text != tt.query || v.Total != 4 {
				t.Errorf("the view lost the query %q or its scope (%d servers)", v.Query.Text, v.Total)
			}
		})
	}
	for _, query := range []string{"", "state:critical state:ok", "is:problem", "sort:name", "sort:worst", "-web", "http://example"} {
		if h := ParseQuery(query).Hint; h != "" {
			t.Errorf("%q: hint %q, want none", query, h)
		}
	}
}

func TestAnExcludedWordExcludesChangesToo(t *testing.T) {
	t.Parallel()
	tests := []struct {
		query string
		want  bool
	}{
		{"-staging", true},
		{"-production", false}, // the account's name
		{"-acme", false},       // its username
		{"-db", false},         // the server's label
		{"-en2", false},        // its id
		{"-disk", false},       // the alarm's label
		{"-web", true},
		{"db -web", true},
		{"db -disk", false},
		{"state:critical -disk", false},
		{"state:critical -cpu", true},
	}
	for _, tt := range tests {
		got := ParseQuery(tt.query).MatchesChange("Production", "acme-prod", "db-1", "en2", "Disk usage", ok, crit)
		if got != tt.want {
			t.Errorf("%q: %v, want %v", tt.query, got, tt.want)
		}
	}
}

func TestQueryTooLong(t *testing.T) {
	t.Parallel()
	tests := []struct {
		text string
		want bool
	}{
		{"", false},
		{strings.Repeat("a", MaxQuery), false},
		{strings.Repeat("a", MaxQuery+1), true},
		{strings.Repeat("é", MaxQuery), false}, // characters, not bytes
		{strings.Repeat("é", MaxQuery+1), true},
	}
	for _, tt := range tests {
		if got := QueryTooLong(tt.text); got != tt.want {
			t.Errorf("%d bytes, %d characters: %v, want %v", len(tt.text), utf8.RuneCountInString(tt.text), got, tt.want)
		}
	}
}
