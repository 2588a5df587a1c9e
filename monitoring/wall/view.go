package wall

import (
	"sort"
	"strings"

	"cmdash/monitoring"
)

// Query is a parsed filter: words that must all appear in the account name,
// username or server label/id, plus state:<state> and is:problem terms, and
// sort:worst for problems first.
type Query struct {
	Text       string // as typed, trimmed
	words      []string
	states     map[monitoring.State]bool
	problem    bool
	worstFirst bool
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
			q.worstFirst = true
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

// View is what one page shows of a model: some or all accounts, filtered.
type View struct {
	Query    Query
	Sections []Section // the shown sections; Tiles holds the matching tiles only
	Accounts int       // accounts in scope before filtering
	Matches  int       // tiles shown
	Total    int       // tiles in scope before filtering
}

// View filters the model by q, for one account (accountID > 0) or all.
// The model is not changed; sections whose tiles are filtered get a new
// Tiles slice.
func (m *Model) View(q Query, accountID int64) View {
	v := View{Query: q}
	for i := range m.Sections {
		sec := m.Sections[i]
		if accountID > 0 && sec.AccountID != accountID {
			continue
		}
		v.Accounts++
		v.Total += len(sec.Tiles)
		if q.Narrows() || q.worstFirst {
			accountMatches := q.matchesAccount(&sec)
			tiles := make([]Tile, 0, len(sec.Tiles))
			for j := range sec.Tiles {
				if q.matchesTile(&sec, &sec.Tiles[j], accountMatches) {
					tiles = append(tiles, sec.Tiles[j])
				}
			}
			if q.worstFirst {
				sort.SliceStable(tiles, func(i, j int) bool { return tiles[i].Worst.Worse(tiles[j].Worst) })
			}
			sec.Tiles = tiles
		}
		v.Matches += len(sec.Tiles)
		// With a filter, hide accounts with nothing to show.
		if q.Narrows() && len(sec.Tiles) == 0 {
			continue
		}
		v.Sections = append(v.Sections, sec)
	}
	return v
}
