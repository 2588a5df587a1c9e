package handlers

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"cmdash/monitoring"
)

// The JSON API v1 keeps the routes and shapes of the product it replaces,
// so existing scripts and chat bots keep working: success bodies as they
// were, errors as {"response":"error","message":"…"} with a fitting status.

const maxAPIBody = 64 << 10

// writeJSON encodes v with status.
func writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(v); err != nil {
		http.Error(w, `{"response":"error","message":"Internal error."}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	writeCompressed(w, r, status, buf.Bytes())
}

// envelope is the API's response wrapper.
type envelope struct {
	Response string `json:"response"`
	Message  string `json:"message"`
	Data     any    `json:"data,omitempty"`
}

func apiError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	writeJSON(w, r, status, envelope{Response: "error", Message: msg})
}

func (h *Handler) apiServerError(w http.ResponseWriter, r *http.Request, err error) {
	h.log.Error("api request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	apiError(w, r, http.StatusInternalServerError, "Internal error; it has been logged.")
}

// apiParams reads a form or JSON body (size-limited) into a flat map of
// strings.
func apiParams(w http.ResponseWriter, r *http.Request) (map[string]string, error) {
	out := map[string]string{}
	r.Body = http.MaxBytesReader(w, r.Body, maxAPIBody)
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/json":
		data, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, errors.New("request body too large or unreadable")
		}
		if len(strings.TrimSpace(string(data))) > 0 {
			var raw map[string]any
			if err := json.Unmarshal(data, &raw); err != nil {
				return nil, fmt.Errorf("malformed JSON body: %s", jsonProblem(err))
			}
			for k, v := range raw {
				switch v := v.(type) {
				case string:
					out[k] = v
				case nil:
				case bool, float64:
					out[k] = fmt.Sprint(v)
				default:
					return nil, fmt.Errorf("field %q must be a string", k)
				}
			}
		}
	case "multipart/form-data":
		if err := r.ParseMultipartForm(maxAPIBody); err != nil {
			return nil, errors.New("request body too large or not a form")
		}
		for k := range r.PostForm {
			out[k] = r.PostForm.Get(k)
		}
	default:
		// Read the body ourselves: ParseForm ignores the body of a DELETE,
		// and scripts send DELETE with a form body.
		data, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, errors.New("request body too large or unreadable")
		}
		vals, err := url.ParseQuery(string(data))
		if err != nil {
			return nil, errors.New("request body is not a form (use application/x-www-form-urlencoded or JSON)")
		}
		for k := range vals {
			out[k] = vals.Get(k)
		}
	}
	// DELETE may name its target in the query (?username=…); nothing else
	// is read from the URL, so an API key never lands in an access log.
	if r.Method == http.MethodDelete {
		for k, v := range r.URL.Query() {
			if _, ok := out[k]; !ok && len(v) > 0 && k != "apikey" {
				out[k] = v[0]
			}
		}
	}
	return out, nil
}

func jsonProblem(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("syntax error at byte %d", syn.Offset)
	case errors.As(err, &typ):
		return "expected a JSON object"
	}
	return "unexpected end of input"
}

// apiAccount is an account as the API shows it: never the key.
type apiAccount struct {
	ID       int64          `json:"id"`
	Username string         `json:"username"`
	Alias    string         `json:"alias,omitempty"`
	Status   apiAcctStatus  `json:"status"`
	Poll     *apiPollStatus `json:"poll,omitempty"`
}

type apiAcctStatus struct {
	Enabled bool   `json:"enabled"`
	Message string `json:"message"`
}

type apiPollStatus struct {
	LastPolledAt  *time.Time `json:"last_polled_at,omitempty"`
	LastSuccessAt *time.Time `json:"last_success_at,omitempty"`
	NextPollAt    *time.Time `json:"next_poll_at,omitempty"`
	ErrorKind     string     `json:"error_kind,omitempty"`
	ErrorCount    int        `json:"error_count"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func toAPIAccount(a monitoring.Account) apiAccount {
	msg := "Enabled"
	switch {
	case !a.Enabled:
		msg = "Disabled"
	case a.Status.LastError != "":
		msg = a.Status.LastError
	}
	return apiAccount{
		ID: a.ID, Username: a.Username, Alias: a.Alias,
		Status: apiAcctStatus{Enabled: a.Enabled, Message: msg},
		Poll: &apiPollStatus{
			LastPolledAt: timePtr(a.Status.LastPolledAt), LastSuccessAt: timePtr(a.Status.LastSuccessAt),
			NextPollAt: timePtr(a.Status.NextPollAt), ErrorKind: a.Status.ErrorKind, ErrorCount: a.Status.ErrorCount,
		},
	}
}

func (h *Handler) apiAccountList(w http.ResponseWriter, r *http.Request, status int) {
	accts, err := h.store.ListAccounts(r.Context())
	if err != nil {
		h.apiServerError(w, r, err)
		return
	}
	out := make([]apiAccount, 0, len(accts))
	for _, a := range accts {
		out = append(out, toAPIAccount(a))
	}
	writeJSON(w, r, status, out)
}

// apiListAccounts: GET /api/v1/accounts.
func (h *Handler) apiListAccounts(w http.ResponseWriter, r *http.Request) {
	h.apiAccountList(w, r, http.StatusOK)
}

// apiAddAccount: POST /api/v1/accounts with username, apikey, alias.
func (h *Handler) apiAddAccount(w http.ResponseWriter, r *http.Request) {
	p, err := apiParams(w, r)
	if err != nil {
		apiError(w, r, http.StatusBadRequest, err.Error())
		return
	}
	_, err = h.addAccount(r.Context(), AccountInput{Username: p["username"], APIKey: p["apikey"], Alias: p["alias"]})
	var ae *addAccountError
	if errors.As(err, &ae) {
		msg := ae.Message
		if msg == "" {
			keys := make([]string, 0, len(ae.Fields))
			for k := range ae.Fields {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				msg += fmt.Sprintf("%s: %s ", k, ae.Fields[k])
			}
			msg = strings.TrimSpace(msg)
		}
		apiError(w, r, ae.Status, msg)
		return
	}
	if err != nil {
		h.apiServerError(w, r, err)
		return
	}
	h.apiAccountList(w, r, http.StatusOK)
}

// apiDeleteAccount: DELETE /api/v1/accounts with username, apikey, or both,
// as the original took them: by username alone, by API key alone (every
// account with that key), or by both (the one account with that username,
// only when the key is its key). The key is read only from the body,
// compared in constant time and never logged.
func (h *Handler) apiDeleteAccount(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Has("apikey") {
		apiError(w, r, http.StatusBadRequest, "Send 'apikey' in the request body, never in the URL.")
		return
	}
	p, err := apiParams(w, r)
	if err != nil {
		apiError(w, r, http.StatusBadRequest, err.Error())
		return
	}
	username, key := strings.TrimSpace(p["username"]), strings.TrimSpace(p["apikey"])
	var targets []monitoring.Account
	switch {
	case username == "" && key == "":
		apiError(w, r, http.StatusBadRequest, "Missing 'username' or 'apikey' field.")
		return
	case username != "":
		a, err := h.store.AccountByUsername(r.Context(), username)
		match := err == nil
		if errors.Is(err, monitoring.ErrNotFound) {
			err = nil
		}
		if match && key != "" {
			match, err = h.accountKeyIs(r, a.ID, key)
		}
		if err != nil {
			h.apiServerError(w, r, err)
			return
		}
		if !match {
			msg := "No account with this username."
			if key != "" {
				msg = "No account with this username and API key."
			}
			apiError(w, r, http.StatusNotFound, msg)
			return
		}
		targets = []monitoring.Account{a}
	default:
		accts, err := h.store.ListAccounts(r.Context())
		if err != nil {
			h.apiServerError(w, r, err)
			return
		}
		for _, a := range accts { // every account, so the time says nothing about where a match is
			match, err := h.accountKeyIs(r, a.ID, key)
			if err != nil {
				h.apiServerError(w, r, err)
				return
			}
			if match {
				targets = append(targets, a)
			}
		}
		if len(targets) == 0 {
			apiError(w, r, http.StatusNotFound, "No account with this API key.")
			return
		}
	}
	for _, a := range targets {
		if err := h.store.DeleteAccount(r.Context(), a.ID); err != nil && !errors.Is(err, monitoring.ErrNotFound) {
			h.apiServerError(w, r, err)
			return
		}
		h.forgetAccount(a.Username)
	}
	h.apiAccountList(w, r, http.StatusOK)
}

// accountKeyIs reports whether key is the account's stored API key. The
// comparison takes the same time wherever the keys differ and whatever
// their lengths; an account removed meanwhile matches nothing.
func (h *Handler) accountKeyIs(r *http.Request, id int64, key string) (bool, error) {
	cr, _, err := h.store.Credentials(r.Context(), id)
	if errors.Is(err, monitoring.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	stored, given := sha256.Sum256([]byte(cr.APIKey)), sha256.Sum256([]byte(key))
	return subtle.ConstantTimeCompare(stored[:], given[:]) == 1, nil
}

// The auth check (GET /api/v1/auth) logs in to Identity for the accounts
// whose cached token will not do, a few at a time and each within a bound,
// so that the answer comes well inside the server's 60 s write timeout.
const (
	authConcurrency = 8
	authTimeout     = 20 * time.Second // one login
	authDeadline    = 45 * time.Second // the whole check
	// tokenMargin: a cached token this close to its expiry is renewed, as
	// the poller's client renews it (rackspace.fresh).
	tokenMargin = 10 * time.Minute
)

// How an auth check went for one account.
const (
	loginCached    = "cached"    // the cached token is good for more than tokenMargin: no login
	loginFresh     = "fresh"     // logged in now; the new token is kept for the poller
	loginFailed    = "failed"    // Identity refused or could not be reached (see the message)
	loginDisabled  = "disabled"  // the account is disabled in Settings: not checked
	loginUnchecked = "unchecked" // the check ran out of time before this account
)

// apiAuthAccount is one account's auth status: never its key or token.
type apiAuthAccount struct {
	Username     string        `json:"username"`
	Alias        string        `json:"alias,omitempty"`
	Status       apiAcctStatus `json:"status"`
	Login        string        `json:"login"`
	TokenExpires *time.Time    `json:"token_expires,omitempty"`
}

// apiAuth: GET /api/v1/auth and /api/v1/auth/{username}. Like the
// original, it refreshes the auth information that is out of date: a fresh
// login where the cached token is missing or near expiry, or where the last
// poll found the credentials refused. It answers in the original's envelope
// with each account's resulting status in data. A failed login is that
// account's status, not an error of the call; it does not touch the
// account's poll status (the poller finds out on its own and says so on the
// wall), and nothing the wall shows changes.
func (h *Handler) apiAuth(w http.ResponseWriter, r *http.Request) {
	accts, ok := h.apiAccounts(w, r)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), authDeadline)
	defer cancel()
	out := make([]apiAuthAccount, len(accts))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(authConcurrency, len(accts)) {
		wg.Go(func() {
			for i := range next {
				out[i] = h.checkAuth(ctx, accts[i])
			}
		})
	}
	for i := range accts {
		next <- i
	}
	close(next)
	wg.Wait()
	writeJSON(w, r, http.StatusOK, envelope{Response: "success", Message: "Auth information updated from identity.", Data: out})
}

// checkAuth checks one account's Identity login (see apiAuth).
func (h *Handler) checkAuth(ctx context.Context, a monitoring.Account) apiAuthAccount {
	res := apiAuthAccount{Username: a.Username, Alias: a.Alias}
	failed := func(msg string) apiAuthAccount {
		res.Login, res.Status = loginFailed, apiAcctStatus{Enabled: false, Message: "Error authenticating: " + msg}
		return res
	}
	unchecked := func() apiAuthAccount {
		res.Login, res.Status = loginUnchecked, apiAcctStatus{Enabled: false, Message: "Not checked: the check ran out of time; try again."}
		return res
	}
	if !a.Enabled {
		res.Login, res.Status = loginDisabled, apiAcctStatus{Enabled: false, Message: "Disabled"}
		return res
	}
	if ctx.Err() != nil {
		return unchecked()
	}
	// The account was read before its credentials: a key changed in
	// between makes SaveToken refuse the token, never keep it for the
	// wrong key.
	cr, cached, err := h.store.Credentials(ctx, a.ID)
	if ctx.Err() != nil {
		return unchecked()
	}
	if errors.Is(err, monitoring.ErrNotFound) {
		return failed("the account was removed meanwhile.")
	}
	if err != nil {
		h.log.Error("auth check: reading credentials", "account", a.Username, "err", err)
		return failed("the stored credentials could not be read; the details are in the server log.")
	}
	if cached != nil && cached.ID != "" && cached.Endpoint != "" && h.now().Add(tokenMargin).Before(cached.Expires) &&
		a.Status.ErrorKind != monitoring.KindAuth {
		res.Login, res.Status, res.TokenExpires = loginCached, apiAcctStatus{Enabled: true, Message: "Enabled"}, &cached.Expires
		return res
	}
	lctx, cancel := context.WithTimeout(ctx, authTimeout)
	tok, err := h.checker.Authenticate(lctx, cr)
	cancel()
	if err != nil && ctx.Err() != nil {
		return unchecked() // the whole check's time is up, not this login's
	}
	if err != nil {
		h.log.Info("auth check: login failed", "account", a.Username, "kind", monitoring.ErrorKind(err), "err", err)
		return failed(monitoring.Describe(err))
	}
	// Not kept when the account was removed or re-keyed meanwhile, or the
	// client went away: the poller logs in then, as it would have anyway.
	err = h.store.SaveToken(ctx, a.ID, a.KeyVersion, tok)
	if err != nil && ctx.Err() == nil && !errors.Is(err, monitoring.ErrNotFound) && !errors.Is(err, monitoring.ErrStalePoll) {
		h.log.Error("auth check: keeping the token", "account", a.Username, "err", err)
	}
	res.Login, res.Status, res.TokenExpires = loginFresh, apiAcctStatus{Enabled: true, Message: "Enabled"}, &tok.Expires
	return res
}

// apiMonitor is one account's cached overview.
type apiMonitor struct {
	Status     string `json:"status"` // success, error (last poll failed; values are the last good ones) or pending
	LastUpdate int64  `json:"last_update"`
	Message    string `json:"message,omitempty"`
	Values     any    `json:"values"`
}

type apiServer struct {
	Entity apiEntity       `json:"entity"`
	Alarms []apiAlarmState `json:"alarms"`
}

type apiEntity struct {
	ID      string  `json:"id"`
	Label   string  `json:"label"`
	AgentID *string `json:"agent_id"`
	URI     *string `json:"uri"`
}

type apiAlarmState struct {
	State         string   `json:"state"`
	Status        string   `json:"status"`
	Timestamp     *int64   `json:"timestamp"`
	PreviousState *string  `json:"previous_state"`
	Disabled      bool     `json:"disabled"`
	Alarm         apiRef   `json:"alarm"`
	Check         apiCheck `json:"check"`
	// Disabled is as Rackspace says (the alarm or its check is disabled).
	// Counted is false when the alarm is left out of the counts, for the
	// reason "disabled", or "orphan": a latest state whose alarm is not in
	// the overview (the alarm is gone).
	Counted          bool   `json:"counted"`
	NotCountedReason string `json:"not_counted_reason,omitempty"`
}

type apiRef struct {
	ID    string `json:"id"`
	Label string `json:"label"`
}

type apiCheck struct {
	ID    string `json:"id"`
	Label string `json:"label"`
	Type  string `json:"type"`
}

type apiSmallServer struct {
	ServerName string         `json:"server_name"`
	Hostname   *string        `json:"hostname"`
	ID         string         `json:"id"`
	Status     apiSmallStatus `json:"status"`
}

type apiSmallStatus struct {
	Good    int `json:"good"`
	Warning int `json:"warning"`
	Bad     int `json:"bad"`
}

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func toAPIServer(s *monitoring.Server) apiServer {
	out := apiServer{Entity: apiEntity{ID: s.ID, Label: s.Label, AgentID: strPtr(s.AgentID)}, Alarms: make([]apiAlarmState, 0, len(s.Alarms))}
	if s.ServerUUID != "" {
		u := "https://" + strings.ToLower(s.Region) + ".servers.api.rackspacecloud.com/" + url.PathEscape(s.TenantID) + "/servers/" + s.ServerUUID
		out.Entity.URI = &u
	}
	for _, a := range s.Alarms {
		st := apiAlarmState{
			State: string(a.State), Status: a.Status, Disabled: a.Disabled, Counted: a.Counted(),
			Alarm: apiRef{ID: a.ID, Label: a.Label},
			Check: apiCheck{ID: a.CheckID, Label: a.CheckLabel, Type: a.CheckType},
		}
		switch {
		case a.Orphan:
			st.NotCountedReason = "orphan"
		case a.Disabled:
			st.NotCountedReason = "disabled"
		}
		if !a.Since.IsZero() {
			ms := a.Since.UnixMilli()
			st.Timestamp = &ms
		}
		if a.PreviousState != "" {
			p := string(a.PreviousState)
			st.PreviousState = &p
		}
		out.Alarms = append(out.Alarms, st)
	}
	return out
}

// apiMonitors: GET /api/v1/monitors and /api/v1/monitors/{username}, from
// the cached snapshots (never a live upstream call). ?small gives counts only.
// apiAccounts is the {username} of the path, or every account when the
// path has none; on an unknown username or a failure it answers and
// returns false.
func (h *Handler) apiAccounts(w http.ResponseWriter, r *http.Request) ([]monitoring.Account, bool) {
	username := r.PathValue("username")
	if username == "" {
		accts, err := h.store.ListAccounts(r.Context())
		if err != nil {
			h.apiServerError(w, r, err)
			return nil, false
		}
		return accts, true
	}
	a, err := h.store.AccountByUsername(r.Context(), username)
	if errors.Is(err, monitoring.ErrNotFound) {
		apiError(w, r, http.StatusNotFound, "No account with this username.")
		return nil, false
	}
	if err != nil {
		h.apiServerError(w, r, err)
		return nil, false
	}
	return []monitoring.Account{a}, true
}

func (h *Handler) apiMonitors(w http.ResponseWriter, r *http.Request) {
	accts, ok := h.apiAccounts(w, r)
	if !ok {
		return
	}
	_, small := r.URL.Query()["small"]
	out := make(map[string]apiMonitor, len(accts))
	for _, a := range accts {
		snap, err := h.store.Snapshot(r.Context(), a.ID)
		if err != nil {
			h.apiServerError(w, r, err)
			return
		}
		m := apiMonitor{Status: "success", Message: a.Status.LastError}
		if a.Status.LastError != "" {
			m.Status = "error"
		}
		if snap == nil {
			m.Status, m.Values = "pending", []any{}
			if a.Status.LastError != "" {
				m.Status = "error"
			}
			out[a.Username] = m
			continue
		}
		m.LastUpdate = snap.FetchedAt.Unix()
		if small {
			vals := make([]apiSmallServer, 0, len(snap.Servers))
			for i := range snap.Servers {
				s := &snap.Servers[i]
				vals = append(vals, apiSmallServer{ServerName: s.Label, Hostname: strPtr(s.AgentID), ID: s.ID,
					Status: apiSmallStatus{Good: s.Counts.OK, Warning: s.Counts.Warning, Bad: s.Counts.Critical}})
			}
			m.Values = vals
		} else {
			vals := make([]apiServer, 0, len(snap.Servers))
			for i := range snap.Servers {
				vals = append(vals, toAPIServer(&snap.Servers[i]))
			}
			m.Values = vals
		}
		out[a.Username] = m
	}
	writeJSON(w, r, http.StatusOK, out)
}

// apiServerDetail: GET /api/v1/monitors/{username}/{serverId}.
func (h *Handler) apiServerDetail(w http.ResponseWriter, r *http.Request) {
	a, err := h.store.AccountByUsername(r.Context(), r.PathValue("username"))
	if errors.Is(err, monitoring.ErrNotFound) {
		apiError(w, r, http.StatusNotFound, "No account with this username.")
		return
	}
	if err != nil {
		h.apiServerError(w, r, err)
		return
	}
	id := r.PathValue("server")
	snap, err := h.store.SnapshotServer(r.Context(), a.ID, id)
	if err != nil {
		h.apiServerError(w, r, err)
		return
	}
	if snap != nil {
		for i := range snap.Servers {
			if snap.Servers[i].ID == id {
				writeJSON(w, r, http.StatusOK, envelope{Response: "success", Message: "Server information retrieved successfully.", Data: toAPIServer(&snap.Servers[i])})
				return
			}
		}
	}
	apiError(w, r, http.StatusNotFound, "Server with 'server_id' not found.")
}

// apiFilter is a saved filter with its name.
type apiFilter struct {
	ID     int64  `json:"id"`
	Name   string `json:"name"`
	Filter string `json:"filter"`
}

// filtersEnvelope: data is the list of filter strings, as before; filters
// adds names and ids.
type filtersEnvelope struct {
	envelope
	Filters []apiFilter `json:"filters"`
}

func (h *Handler) apiFilterList(w http.ResponseWriter, r *http.Request, status int, msg string) {
	fs, err := h.store.ListFilters(r.Context())
	if err != nil {
		h.apiServerError(w, r, err)
		return
	}
	data := make([]string, 0, len(fs))
	full := make([]apiFilter, 0, len(fs))
	for _, f := range fs {
		data = append(data, f.Query)
		full = append(full, apiFilter{ID: f.ID, Name: f.Name, Filter: f.Query})
	}
	writeJSON(w, r, status, filtersEnvelope{envelope: envelope{Response: "success", Message: msg, Data: data}, Filters: full})
}

// apiListFilters: GET /api/v1/filters.
func (h *Handler) apiListFilters(w http.ResponseWriter, r *http.Request) {
	h.apiFilterList(w, r, http.StatusOK, "Filters retrieved successfully.")
}

// apiAddFilter: POST /api/v1/filters with filter (and an optional name,
// which defaults to the filter itself).
//
// Saving is idempotent, as it was in the original, whose page saved the
// search box's text again and again: a filter already saved with this name
// and this text answers the list unchanged. Without a name, the text saved
// under any name will do (the original had no names). Only the same name
// with another text is a conflict.
func (h *Handler) apiAddFilter(w http.ResponseWriter, r *http.Request) {
	p, err := apiParams(w, r)
	if err != nil {
		apiError(w, r, http.StatusBadRequest, err.Error())
		return
	}
	name := p["name"]
	named := strings.TrimSpace(name) != ""
	if !named {
		name = p["filter"]
		if len([]rune(name)) > maxFilterName {
			name = string([]rune(name)[:maxFilterName])
		}
	}
	name, query, msg := validateFilter(name, p["filter"])
	if msg != "" {
		if strings.TrimSpace(p["filter"]) == "" {
			msg = "Missing 'filter' field."
		}
		apiError(w, r, http.StatusBadRequest, msg)
		return
	}
	if !named {
		saved, err := h.savedFilter(r, func(f monitoring.Filter) bool { return f.Query == query })
		if err != nil {
			h.apiServerError(w, r, err)
			return
		}
		if saved {
			h.apiFilterList(w, r, http.StatusOK, "Filter already saved; nothing changed.")
			return
		}
	}
	if _, err := h.store.CreateFilter(r.Context(), name, query); errors.Is(err, monitoring.ErrDuplicate) {
		same, err := h.savedFilter(r, func(f monitoring.Filter) bool { return sameFilterName(f.Name, name) && f.Query == query })
		if err != nil {
			h.apiServerError(w, r, err)
			return
		}
		if same {
			h.apiFilterList(w, r, http.StatusOK, "Filter already saved; nothing changed.")
			return
		}
		apiError(w, r, http.StatusConflict, "A saved filter with this name already exists with another filter text.")
		return
	} else if err != nil {
		h.apiServerError(w, r, err)
		return
	}
	h.apiFilterList(w, r, http.StatusOK, "Filter saved.")
}

// savedFilter reports whether a saved filter satisfies match.
func (h *Handler) savedFilter(r *http.Request, match func(monitoring.Filter) bool) (bool, error) {
	fs, err := h.store.ListFilters(r.Context())
	if err != nil {
		return false, err
	}
	for _, f := range fs {
		if match(f) {
			return true, nil
		}
	}
	return false, nil
}

// sameFilterName compares names as the filters table's unique index does
// (SQLite's NOCASE folds ASCII letters only).
func sameFilterName(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// apiDeleteFilter: DELETE /api/v1/filters with filter (its text or its name).
func (h *Handler) apiDeleteFilter(w http.ResponseWriter, r *http.Request) {
	p, err := apiParams(w, r)
	if err != nil {
		apiError(w, r, http.StatusBadRequest, err.Error())
		return
	}
	target := strings.TrimSpace(p["filter"])
	if target == "" {
		apiError(w, r, http.StatusBadRequest, "Missing 'filter' field.")
		return
	}
	fs, err := h.store.ListFilters(r.Context())
	if err != nil {
		h.apiServerError(w, r, err)
		return
	}
	removed := 0
	for _, f := range fs {
		if f.Query == target || strings.EqualFold(f.Name, target) {
			if err := h.store.DeleteFilter(r.Context(), f.ID); err != nil && !errors.Is(err, monitoring.ErrNotFound) {
				h.apiServerError(w, r, err)
				return
			}
			removed++
		}
	}
	if removed == 0 {
		apiError(w, r, http.StatusNotFound, "Filter not found.")
		return
	}
	h.apiFilterList(w, r, http.StatusOK, "Filter deleted.")
}

// apiIndex: GET /api/v1/ lists the routes.
func (h *Handler) apiIndex(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, r, http.StatusOK, map[string]any{
		"response": "success",
		"message":  "Cloud Monitoring Dashboard API v1. Authenticate with the session cookie or 'Authorization: Bearer <token>' (create tokens in Settings).",
		"routes": []string{
			"GET /api/v1/accounts", "POST /api/v1/accounts (username, apikey, alias)", "DELETE /api/v1/accounts (username, apikey or both)",
			"GET /api/v1/auth", "GET /api/v1/auth/{username}",
			"GET /api/v1/monitors[?small]", "GET /api/v1/monitors/{username}[?small]", "GET /api/v1/monitors/{username}/{serverId}",
			"GET /api/v1/filters", "POST /api/v1/filters (filter, name)", "DELETE /api/v1/filters (filter)",
			"GET /api/v1/events[?since=<unix ms>][&limit=<1-1000>][&account=<username>]",
			"GET /api/v1/acks[?all=1][&username=…[&server=…]]", "POST /api/v1/acks (username or account_id, server_id, alarm_id, note, expiry: 1h|4h|24h|recovered)",
			"DELETE /api/v1/acks (id)",
		},
	})
}

// apiNotFound and apiMethodNotAllowed keep the envelope for unknown routes.
func apiNotFound(w http.ResponseWriter, r *http.Request) {
	apiError(w, r, http.StatusNotFound, "No such API route.")
}

func apiMethodNotAllowed(allow ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		apiError(w, r, http.StatusMethodNotAllowed, "Method not allowed.")
	}
}
