package wall

import (
	"strings"

	"cmdash/monitoring"
)

// Query is a parsed filter: words that must all appear in the account name,
// username or server label/id, plus state:<state> and is:problem terms.
// Problems come first (accounts with problems, and within an account the
// worst servers); sort:name keeps the plain order (accounts by name, servers
// by label), and so does Plain, set from a URL parameter or a setting.
// sort:worst, once needed for problems first, is still understood.
type Query struct {
	Text    string // as typed, trimmed
	Plain   bool   // keep the plain order
	words   []string
	states  map[monitoring.State]bool
	problem bool
}

// ParseQuery reads the filter language. It never fails: an unknown state
// word (state:purple) matches nothing rather than UNKNOWN.
func ParseQuery(text string) Query {
	q := Query{Text: strings.TrimSpace(text)}
	for _, w := range strings.Fields(strings.ToLower(q.Text)) {
		switch {
		case strings.HasPrefix(w, "state:"):
			if q.states == nil {
				q.states = map[monitoring.State]bool{}
			}
			switch st := strings.ToUpper(strings.TrimPrefix(w, "state:")); st {
			case "OK", "WARNING", "CRITICAL", "UNKNOWN":
				q.states[monitoring.State(st)] = true
			default:
				q.states["no such state"] = true
			}
		case w == "is:problem":
			q.problem = true
		case w == "sort:worst":
			q.Plain = false
		case w == "sort:name":
			q.Plain = true
		default:
			q.words = append(q.words, w)
		}
	}
	return q
}

// Narrows reports whether the query hides anything (sorting alone does not).
func (q Query) Narrows() bool { return len(q.words) > 0 || q.states != nil || q.problem }

// matchesAccount: every word appears in the account's names.
func (q Query) matchesAccount(s *Section) bool {
	if len(q.words) == 0 {
		return true
	}
	hay := strings.ToLower(s.Name + " " + s.Username)
	for _, w := range q.words {
		if !strings.Contains(hay, w) {
			return false
		}
	}
	return true
}

func (q Query) matchesTile(s *Section, t *Tile, accountMatches bool) bool {
	if q.states != nil && !q.states[t.Worst] {
		return false
	}
	if q.problem && t.Worst == monitoring.StateOK {
		return false
	}
	if accountMatches {
		return true
	}
	hay := strings.ToLower(s.Name + " " + s.Username + " " + t.Label + " " + t.ID)
	for _, w := range q.words {
		if !strings.Contains(hay, w) {
			return false
		}
	}
	return true
}

// MatchesChange reports whether a recorded change matches the query, by
// the same rules as a tile: words in the account's names or the server's
// label or id (or, for an alarm's change, the alarm's label), and states,
// where a change matches a state it came from or went to (a CRITICAL that
// resolved is still a CRITICAL to someone looking for them).
func (q Query) MatchesChange(account, username, server, serverID, alarm string, from, to monitoring.State) bool {
	if q.states != nil && !q.states[from] && !q.states[to] {
		return false
	}
	if q.problem && (from == "" || from == monitoring.StateOK) && (to == "" || to == monitoring.StateOK) {
		return false
	}
	hay := strings.ToLower(account + " " + username + " " + server + " " + serverID + " " + alarm)
	for _, w := range q.words {
		if !strings.Contains(hay, w) {
			return false
		}
	}
	return true
}
