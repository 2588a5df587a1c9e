package handlers

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"cmdash/monitoring"
)

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
