package wall

import (
	"cmp"
	"slices"

	"cmdash/monitoring"
)

// View is what one page shows of a model: some or all accounts, filtered.
type View struct {
	Query    Query
	Sections []Section // the shown sections; Tiles holds the matching tiles only
	Accounts int       // accounts in scope before filtering
	Matches  int       // tiles shown
	Total    int       // tiles in scope before filtering
	// Summary counts what is shown: the shown accounts, and the servers
	// among their shown tiles (those of stale accounts apart too).
	Summary Summary
	// Recent are the latest changes in scope that match the query, newest
	// first.
	Recent []Recent
}

// Recent is a recorded change with the name of its account.
type Recent struct {
	monitoring.Event
	Account string
}

// View filters the model by q, for one account (accountID > 0) or all, and
// orders it problems first unless q.Plain. The model is not changed;
// sections whose tiles are filtered or reordered get a new Tiles slice.
func (m *Model) View(q Query, accountID int64) View {
	v := View{Query: q}
	v.Summary.Worst = monitoring.StateOK
	for i := range m.Sections {
		sec := m.Sections[i]
		if accountID > 0 && sec.AccountID != accountID {
			continue
		}
		v.Accounts++
		v.Total += len(sec.Tiles)
		if q.Narrows() {
			sm := q.forSection(&sec)
			tiles := make([]Tile, 0, len(sec.Tiles))
			for j := range sec.Tiles {
				if q.matchesTile(sm, &sec.Tiles[j]) {
					tiles = append(tiles, sec.Tiles[j])
				}
			}
			sec.Tiles = tiles
			sec.Servers, sec.Worst = ServerCounts{}, monitoring.StateOK
			for j := range tiles {
				sec.Servers.addTile(&tiles[j])
				sec.Worst = sec.Worst.Or(tiles[j].Worst)
			}
		}
		if !q.Plain && (sec.Servers.Problems() > 0 || sec.changed()) {
			sec.Tiles = slices.Clone(sec.Tiles)
			slices.SortStableFunc(sec.Tiles, problemsFirst)
		}
		v.Matches += len(sec.Tiles)
		// With a filter, hide accounts with nothing to show.
		if q.Narrows() && len(sec.Tiles) == 0 {
			continue
		}
		v.Summary.add(&sec)
		v.Sections = append(v.Sections, sec)
	}
	if !q.Plain {
		slices.SortStableFunc(v.Sections, troubledFirst)
	}
	for _, e := range m.Recent {
		if accountID > 0 && e.AccountID != accountID {
			continue
		}
		sec := m.Section(e.AccountID)
		if sec == nil {
			continue
		}
		if q.MatchesChange(sec.Name, sec.Username, e.ServerLabel, e.ServerID, e.AlarmLabel, e.From, e.To) {
			v.Recent = append(v.Recent, Recent{Event: e, Account: sec.Name})
		}
	}
	return v
}

// problemsFirst orders tiles by worst state, the quiet ones (acknowledged,
// in maintenance) after the others of their state and a lately changed one before those that did
// not change, then by most problems (more critical alarms, then warning,
// then unknown); equal ones keep their order, which is by label (see
// monitoring.SortServers).
func problemsFirst(a, b Tile) int {
	if c := a.Worst.Compare(b.Worst); c != 0 {
		return -c
	}
	if a.Quiet() != b.Quiet() {
		if a.Quiet() {
			return 1
		}
		return -1
	}
	if ac, bc := a.Change != ChangeNone, b.Change != ChangeNone; ac != bc {
		if ac {
			return -1
		}
		return 1
	}
	if c := cmp.Compare(b.Counts.Critical, a.Counts.Critical); c != 0 {
		return c
	}
	if c := cmp.Compare(b.Counts.Warning, a.Counts.Warning); c != 0 {
		return c
	}
	return cmp.Compare(b.Counts.Unknown, a.Counts.Unknown)
}

// troubledFirst orders sections by their worst server, then by the number
// of servers in that state and the next; an account whose data cannot be
// trusted comes before calm ones. Equal ones keep their order, which is
// by name (see monitoring.AccountOrder).
//
// Servers in hand (acknowledged, in maintenance) count as what they are, someone's known problem: an
// account whose problems are all acknowledged ranks by them only after the
// accounts with problems nobody has taken on.
func troubledFirst(a, b Section) int {
	if c := a.openRank().Compare(b.openRank()); c != 0 {
		return -c
	}
	if c := a.rank().Compare(b.rank()); c != 0 {
		return -c
	}
	ac, bc := a.Servers, b.Servers
	aCrit, aWarn, aUnkn := ac.Open()
	bCrit, bWarn, bUnkn := bc.Open()
	for _, d := range [...]int{
		cmp.Compare(bCrit, aCrit),
		cmp.Compare(bWarn, aWarn),
		cmp.Compare(bUnkn, aUnkn),
		cmp.Compare(bc.Critical, ac.Critical),
		cmp.Compare(bc.Warning, ac.Warning),
	} {
		if d != 0 {
			return d
		}
	}
	return cmp.Compare(bc.Unknown, ac.Unknown)
}

// openRank is the worst state among the section's servers that are not
// in hand (acknowledged, in maintenance); UNKNOWN for untrusted calm data,
// as rank.
func (s *Section) openRank() monitoring.State {
	crit, warn, unkn := s.Servers.Open()
	switch {
	case crit > 0:
		return monitoring.StateCritical
	case warn > 0:
		return monitoring.StateWarning
	case unkn > 0, s.Stale, s.Error != "":
		return monitoring.StateUnknown
	}
	return monitoring.StateOK
}

// changed reports whether a tile of the section carries a change mark.
func (s *Section) changed() bool {
	for i := range s.Tiles {
		if s.Tiles[i].Change != ChangeNone {
			return true
		}
	}
	return false
}

// rank is the section's worst shown state; a stale or failing account with
// calm data ranks as UNKNOWN: nobody knows that it is calm.
func (s *Section) rank() monitoring.State {
	if s.Worst == monitoring.StateOK && (s.Stale || s.Error != "") {
		return monitoring.StateUnknown
	}
	return s.Worst
}
