package handlers

import (
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"cmdash/monitoring"
	"cmdash/views"
)

// showDashboard renders every account; for htmx, only the grid.
func (h *Handler) showDashboard(w http.ResponseWriter, r *http.Request) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	accts, err := h.store.ListAccounts(r.Context())
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	grid, err := h.buildGrid(r, accts, q, selfURL("/", q))
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	w.Header().Set("Vary", "HX-Request")
	if isHTMX(r) {
		h.render(w, r, http.StatusOK, views.GridView(grid))
		return
	}
	h.render(w, r, http.StatusOK, views.Dashboard(h.layout(r, "Dashboard", "dashboard"), "All accounts", "/", grid))
}

// showAccount renders one account alone.
func (h *Handler) showAccount(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		h.notFound(w, r, "There is no such account.")
		return
	}
	acct, err := h.store.Account(r.Context(), id)
	if errors.Is(err, monitoring.ErrNotFound) {
		h.notFound(w, r, "There is no such account.")
		return
	}
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	path := "/accounts/" + strconv.FormatInt(id, 10)
	grid, err := h.buildGrid(r, []monitoring.Account{acct}, q, selfURL(path, q))
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	w.Header().Set("Vary", "HX-Request")
	if isHTMX(r) {
		h.render(w, r, http.StatusOK, views.GridView(grid))
		return
	}
	h.render(w, r, http.StatusOK, views.Dashboard(h.layout(r, acct.Name(), "account-"+strconv.FormatInt(id, 10)), acct.Name(), path, grid))
}

// showServer renders one server's alarms.
func (h *Handler) showServer(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	serverID := r.PathValue("server")
	if !ok || serverID == "" || len(serverID) > 255 {
		h.notFound(w, r, "There is no such server.")
		return
	}
	acct, err := h.store.Account(r.Context(), id)
	if errors.Is(err, monitoring.ErrNotFound) {
		h.notFound(w, r, "There is no such account.")
		return
	}
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	snap, err := h.store.Snapshot(r.Context(), id)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	var srv *monitoring.Server
	if snap != nil {
		for i := range snap.Servers {
			if snap.Servers[i].ID == serverID {
				srv = &snap.Servers[i]
				break
			}
		}
	}
	if srv == nil {
		h.notFound(w, r, "There is no server with that id in the latest data of "+acct.Name()+".")
		return
	}
	now := h.now()
	page := views.ServerPage{
		AccountID: id, AccountName: acct.Name(), Server: *srv, Tile: tile(id, srv),
		FetchedAt: snap.FetchedAt, Now: now, Stale: h.stale(acct, snap, now), Error: acct.Status.LastError,
	}
	h.render(w, r, http.StatusOK, views.ServerView(h.layout(r, srv.Label, "account-"+strconv.FormatInt(id, 10)), page))
}

// refreshAccount asks the poller to poll an account now.
func (h *Handler) refreshAccount(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		h.notFound(w, r, "There is no such account.")
		return
	}
	if err := h.poller.RefreshNow(r.Context(), id); errors.Is(err, monitoring.ErrNotFound) {
		h.notFound(w, r, "There is no such account.")
		return
	} else if err != nil {
		h.serverError(w, r, err)
		return
	}
	back := "/"
	if ref, err := url.Parse(r.Referer()); err == nil && ref.Host == r.Host {
		back = safeNext(ref.RequestURI())
	}
	seeOther(w, r, back)
}

// buildGrid turns accounts and their snapshots into sections of tiles,
// keeping only servers that match q.
func (h *Handler) buildGrid(r *http.Request, accts []monitoring.Account, q, self string) (views.Grid, error) {
	now := h.now()
	m := parseQuery(q)
	g := views.Grid{Query: q, Self: self, RefreshEvery: h.opts.RefreshInterval, GeneratedAt: now, SignedIn: currentUser(r) != "", Accounts: len(accts)}
	for _, a := range accts {
		snap, err := h.store.Snapshot(r.Context(), a.ID)
		if err != nil {
			return g, err
		}
		sec := views.Section{
			AccountID: a.ID, Name: a.Name(), Username: a.Username, Enabled: a.Enabled,
			Error: a.Status.LastError, Worst: monitoring.StateOK, CanRefresh: g.SignedIn,
		}
		if a.Status.LastError != "" && a.Status.ErrorCount > 1 {
			sec.ErrorSince = " " + strconv.Itoa(a.Status.ErrorCount) + " times in a row"
		}
		if snap != nil {
			sec.Polled = true
			sec.UpdatedAt = snap.FetchedAt
			sec.UpdatedAgo = views.Ago(now, snap.FetchedAt)
			sec.ServerTotal = len(snap.Servers)
			sec.Stale = h.stale(a, snap, now)
			accountMatches := m.matchesAccount(a)
			for i := range snap.Servers {
				s := &snap.Servers[i]
				sec.Counts.Plus(s.Counts)
				switch s.Worst {
				case monitoring.StateCritical:
					sec.CriticalServers++
				case monitoring.StateWarning:
					sec.WarningServers++
				}
				if s.Worst.Worse(sec.Worst) {
					sec.Worst = s.Worst
				}
				if !m.matchesServer(a, s, accountMatches) {
					continue
				}
				sec.Servers = append(sec.Servers, tile(a.ID, s))
			}
			if m.worstFirst {
				sort.SliceStable(sec.Servers, func(i, j int) bool { return sec.Servers[i].Worst.Worse(sec.Servers[j].Worst) })
			}
		} else {
			sec.Stale = a.Status.ErrorCount > 0
		}
		g.Total += sec.ServerTotal
		g.Matches += len(sec.Servers)
		// With a filter, hide accounts with nothing to show.
		if !m.empty() && len(sec.Servers) == 0 {
			continue
		}
		g.Sections = append(g.Sections, sec)
	}
	return g, nil
}

// stale: the last poll failed, or the data is older than three intervals.
func (h *Handler) stale(a monitoring.Account, snap *monitoring.Snapshot, now time.Time) bool {
	if a.Status.ErrorCount > 0 {
		return true
	}
	return snap != nil && now.Sub(snap.FetchedAt) > 3*h.opts.PollInterval
}

func tile(accountID int64, s *monitoring.Server) views.Tile {
	return views.Tile{
		ID: s.ID, Label: s.Label, Counts: s.Counts, Worst: s.Worst,
		Href:     "/accounts/" + strconv.FormatInt(accountID, 10) + "/servers/" + url.PathEscape(s.ID),
		Segments: views.Ring(s.Alarms),
	}
}

func selfURL(path, q string) string {
	if q == "" {
		return path
	}
	return path + "?q=" + url.QueryEscape(q)
}

func pathID(r *http.Request, name string) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	return id, err == nil && id > 0
}

// query is a parsed filter: words that must all appear in the account name,
// username or server label/id, plus state:<state> and is:problem terms, and
// sort:worst for problems first.
type query struct {
	words      []string
	states     map[monitoring.State]bool
	problem    bool
	worstFirst bool // sort:worst puts CRITICAL tiles first, then WARNING, UNKNOWN, OK
}

func parseQuery(q string) query {
	var m query
	for _, w := range strings.Fields(strings.ToLower(q)) {
		switch {
		case strings.HasPrefix(w, "state:"):
			if m.states == nil {
				m.states = map[monitoring.State]bool{}
			}
			// An unknown state word matches nothing (rather than UNKNOWN).
			switch st := strings.ToUpper(strings.TrimPrefix(w, "state:")); st {
			case "OK", "WARNING", "CRITICAL", "UNKNOWN":
				m.states[monitoring.State(st)] = true
			default:
				m.states["no such state"] = true
			}
		case w == "is:problem":
			m.problem = true
		case w == "sort:worst":
			m.worstFirst = true
		default:
			m.words = append(m.words, w)
		}
	}
	return m
}

// empty: nothing narrows the tiles (sorting alone does not).
func (m query) empty() bool { return len(m.words) == 0 && m.states == nil && !m.problem }

// matchesAccount: every word appears in the account's names.
func (m query) matchesAccount(a monitoring.Account) bool {
	if len(m.words) == 0 {
		return true
	}
	hay := strings.ToLower(a.Alias + " " + a.Username)
	for _, w := range m.words {
		if !strings.Contains(hay, w) {
			return false
		}
	}
	return true
}

func (m query) matchesServer(a monitoring.Account, s *monitoring.Server, accountMatches bool) bool {
	if m.states != nil && !m.states[s.Worst] {
		return false
	}
	if m.problem && s.Worst == monitoring.StateOK {
		return false
	}
	if accountMatches {
		return true
	}
	hay := strings.ToLower(a.Alias + " " + a.Username + " " + s.Label + " " + s.ID)
	for _, w := range m.words {
		if !strings.Contains(hay, w) {
			return false
		}
	}
	return true
}
