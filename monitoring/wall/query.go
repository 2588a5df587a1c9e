package wall

import (
	"strings"
	"unicode/utf8"

	"cmdash/monitoring"
)

// MaxQuery is the longest filter the wall takes, in characters. It is the
// limit of a saved filter's and a wall link's text too, so that a filter
// that can be saved can be opened, and the other way round.
const MaxQuery = 255

// QueryTooLong reports whether a filter is longer than MaxQuery characters.
func QueryTooLong(text string) bool {
	return len(text) > MaxQuery && utf8.RuneCountInString(text) > MaxQuery
}

// Query is a parsed filter. Its words must all be found, and its excluded
// words (-word) none, in a server's names: its account's name and
// username, its label and id, and the labels of its alarms and checks.
// state:<state> terms keep the servers in one of the named states, and
// is:problem those not OK.
//
// Problems come first (accounts with problems, and within an account the
// worst servers); sort:name keeps the plain order (accounts by name,
// servers by label), and so does Plain, set from a URL parameter or a
// setting. sort:worst, once needed for problems first, is still
// understood.
//
// A word the language does not understand (state:purple, is:ok, sort:size,
// -state:ok) makes the query match nothing, rather than be read as
// something it does not say, and Hint says why.
type Query struct {
	Text  string // as typed, trimmed
	Plain bool   // keep the plain order
	// Hint words what was not understood, for the page to show beside the
	// filter; "" when everything was.
	Hint    string
	words   []string // lower case
	not     []string // excluded words, lower case, without the '-'
	states  map[monitoring.State]bool
	problem bool
	bad     bool // a word was not understood: nothing matches
}

// The keywords' values, as the hints list them.
const (
	statesHint = "state:critical, state:warning, state:unknown or state:ok"
	sortsHint  = "sort:name or sort:worst"
)

// ParseQuery reads the filter language. It never fails: what it does not
// understand makes the query match nothing and is put into words in Hint.
func ParseQuery(text string) Query {
	q := Query{Text: strings.TrimSpace(text)}
	for _, typed := range strings.Fields(q.Text) {
		w := strings.ToLower(typed)
		excluded := len(w) > 1 && w[0] == '-'
		if excluded {
			w = w[1:]
		}
		key, value, keyword := strings.Cut(w, ":")
		if keyword {
			switch key {
			case "state", "is", "sort":
			default:
				keyword = false // a word with a colon in it, as labels may have
			}
		}
		switch {
		case !keyword && excluded:
			q.not = append(q.not, w)
		case !keyword:
			q.words = append(q.words, w)
		case excluded && key == "sort":
			q.refuse(typed, "cannot be excluded: use "+sortsHint)
		case excluded:
			q.refuse(typed, "cannot be excluded, only a word can: name the states to show instead, "+statesHint)
		case key == "state":
			st := monitoring.State(strings.ToUpper(value))
			switch st {
			case monitoring.StateOK, monitoring.StateWarning, monitoring.StateCritical, monitoring.StateUnknown:
				if q.states == nil {
					q.states = map[monitoring.State]bool{}
				}
				q.states[st] = true
			default:
				q.refuse(typed, "is not a state: use "+statesHint)
			}
		case key == "is":
			if value != "problem" {
				q.refuse(typed, "is not understood: use is:problem, or "+statesHint)
				break
			}
			q.problem = true
		case key == "sort":
			switch value {
			case "worst":
				q.Plain = false
			case "name":
				q.Plain = true
			default:
				q.refuse(typed, "is not an order: use "+sortsHint)
			}
		}
	}
	return q
}

// refuse marks the query as matching nothing because of a word it does
// not understand, and words the first such word in Hint.
func (q *Query) refuse(word, why string) {
	if !q.bad {
		q.Hint = "“" + word + "” " + why + "."
	}
	q.bad = true
}

// Narrows reports whether the query hides anything (sorting alone does not).
func (q Query) Narrows() bool {
	return len(q.words) > 0 || len(q.not) > 0 || q.states != nil || q.problem || q.bad
}

// sectionMatch is what a query makes of one account's names: the words
// left for each tile to hold (those the names do not), and whether an
// excluded word rules out every tile.
type sectionMatch struct {
	words    []string
	excluded bool
}

// forSection matches the account's names once for all its tiles.
func (q Query) forSection(s *Section) sectionMatch {
	if len(q.words) == 0 && len(q.not) == 0 {
		return sectionMatch{}
	}
	names := strings.ToLower(s.Name + " " + s.Username)
	for _, w := range q.not {
		if strings.Contains(names, w) {
			return sectionMatch{excluded: true}
		}
	}
	var m sectionMatch
	for _, w := range q.words {
		if !strings.Contains(names, w) {
			m.words = append(m.words, w)
		}
	}
	return m
}

// matchesTile reports whether a tile of a section (matched by forSection)
// is shown.
func (q Query) matchesTile(sm sectionMatch, t *Tile) bool {
	switch {
	case q.bad, sm.excluded:
		return false
	case q.states != nil && !q.states[t.Worst]:
		return false
	case q.problem && t.Worst == monitoring.StateOK:
		return false
	case len(sm.words) == 0 && len(q.not) == 0:
		return true
	}
	names := strings.ToLower(t.Label + " " + t.ID)
	has := func(w string) bool { return strings.Contains(names, w) || strings.Contains(t.terms, w) }
	for _, w := range sm.words {
		if !has(w) {
			return false
		}
	}
	for _, w := range q.not {
		if has(w) {
			return false
		}
	}
	return true
}

// MatchesChange reports whether a recorded change matches the query, by
// the same rules as a tile: words (and excluded words) in the account's
// names or the server's label or id, or for an alarm's change the alarm's
// label, and states, where a change matches a state it came from or went
// to (a CRITICAL that resolved is still a CRITICAL to someone looking for
// them).
func (q Query) MatchesChange(account, username, server, serverID, alarm string, from, to monitoring.State) bool {
	if q.bad {
		return false
	}
	if q.states != nil && !q.states[from] && !q.states[to] {
		return false
	}
	if q.problem && (from == "" || from == monitoring.StateOK) && (to == "" || to == monitoring.StateOK) {
		return false
	}
	if len(q.words) == 0 && len(q.not) == 0 {
		return true
	}
	hay := strings.ToLower(account + " " + username + " " + server + " " + serverID + " " + alarm)
	for _, w := range q.words {
		if !strings.Contains(hay, w) {
			return false
		}
	}
	for _, w := range q.not {
		if strings.Contains(hay, w) {
			return false
		}
	}
	return true
}
