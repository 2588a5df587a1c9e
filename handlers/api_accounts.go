package handlers

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"cmdash/monitoring"
)

// apiAccount is an account as the API shows it: never the key.
type apiAccount struct {
	ID       int64          `json:"id"`
	Username string         `json:"username"`
	Alias    string         `json:"alias,omitempty"`
	Status   apiAcctStatus  `json:"status"`
	Poll     *apiPollStatus `json:"poll,omitempty"`
	// Rate is the request budget as Rackspace last said it; null when
	// not known yet.
	Rate *apiRate `json:"rate"`
}

// apiRate is an account's request budget: used of limit within window.
type apiRate struct {
	Limit  int    `json:"limit"`
	Used   int    `json:"used"`
	Window string `json:"window"`
}

// apiAcctStatus is an account's status as the original showed it:
// enabled or not, and a message (Enabled, Disabled, or what went wrong).
type apiAcctStatus struct {
	Enabled bool   `json:"enabled"`
	Message string `json:"message"`
}

// apiPollStatus is how polling the account goes.
type apiPollStatus struct {
	LastPolledAt  *time.Time `json:"last_polled_at,omitempty"`
	LastSuccessAt *time.Time `json:"last_success_at,omitempty"`
	NextPollAt    *time.Time `json:"next_poll_at,omitempty"`
	ErrorKind     string     `json:"error_kind,omitempty"`
	ErrorCount    int        `json:"error_count"`
}

// toAPIAccount is an account as the API shows it.
func toAPIAccount(a monitoring.Account) apiAccount {
	msg := "Enabled"
	switch {
	case !a.Enabled:
		msg = "Disabled"
	case a.Status.LastError != "":
		msg = a.Status.LastError
	}
	out := apiAccount{
		ID: a.ID, Username: a.Username, Alias: a.Alias,
		Status: apiAcctStatus{Enabled: a.Enabled, Message: msg},
		Poll: &apiPollStatus{
			LastPolledAt: timePtr(a.Status.LastPolledAt), LastSuccessAt: timePtr(a.Status.LastSuccessAt),
			NextPollAt: timePtr(a.Status.NextPollAt), ErrorKind: a.Status.ErrorKind, ErrorCount: a.Status.ErrorCount,
		},
	}
	if rl := a.Status.RateLimit; rl.Known {
		out.Rate = &apiRate{Limit: rl.Limit, Used: rl.Used, Window: rl.Window}
	}
	return out
}

// apiAccountList answers every account with status: the accounts routes
// answer the whole list, after a change too, as the original did.
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
	p, ok := apiParams(w, r, "username", "apikey", "alias")
	if !ok {
		return
	}
	acct, err := h.addAccount(r.Context(), AccountInput{Username: p["username"], APIKey: p["apikey"], Alias: p["alias"]})
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
	h.auditAccountAdded(r, acct)
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
	p, ok := apiParams(w, r, "username", "apikey")
	if !ok {
		return
	}
	username, key := strings.TrimSpace(p["username"]), strings.TrimSpace(p["apikey"])
	var targets []monitoring.Account
	switch {
	case username == "" && key == "":
		apiError(w, r, http.StatusBadRequest, "Missing 'username' or 'apikey' field.")
		return
	case username != "":
		notFound := noAccountNamed
		if key != "" {
			notFound = "No account with this username and API key."
		}
		a, ok := h.apiAccountNamed(w, r, username, "", notFound)
		if !ok {
			return
		}
		if key != "" {
			match, err := h.accountKeyIs(r, a.ID, key)
			if err != nil {
				h.apiServerError(w, r, err)
				return
			}
			if !match {
				apiError(w, r, http.StatusNotFound, notFound)
				return
			}
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
		err := h.store.DeleteAccount(r.Context(), a.ID)
		if err != nil && !errors.Is(err, monitoring.ErrNotFound) {
			h.apiServerError(w, r, err)
			return
		}
		h.forgetAccount(a.Username)
		if err == nil { // not removed meanwhile by someone else
			h.audit(r, monitoring.AuditAccountRemoved, a.Username, "")
		}
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
	a, ok := h.apiAccountNamed(w, r, username, "", noAccountNamed)
	if !ok {
		return nil, false
	}
	return []monitoring.Account{a}, true
}

// noAccountNamed is the API's answer to a username that is no account's.
const noAccountNamed = "No account with this username."

// apiAccountNamed is the account called username. When there is none it
// answers 404 saying notFound (and naming field, when set); when the
// lookup fails it answers 500; either way ok is false.
func (h *Handler) apiAccountNamed(w http.ResponseWriter, r *http.Request, username, field, notFound string) (monitoring.Account, bool) {
	a, err := h.store.AccountByUsername(r.Context(), username)
	switch {
	case errors.Is(err, monitoring.ErrNotFound) && field != "":
		apiFieldErr(w, r, http.StatusNotFound, field, notFound)
	case errors.Is(err, monitoring.ErrNotFound):
		apiError(w, r, http.StatusNotFound, notFound)
	case err != nil:
		h.apiServerError(w, r, err)
	default:
		return a, true
	}
	return a, false
}
