package handlers

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"cmdash/monitoring"
	"cmdash/monitoring/rackspace"
	"cmdash/views"
)

const maxField = 255

// showSettings renders accounts, the add form and saved filters.
func (h *Handler) showSettings(w http.ResponseWriter, r *http.Request) {
	h.renderSettings(w, r, http.StatusOK, views.Settings{Flash: flashFrom(r)}, 0, views.AccountForm{})
}

func flashFrom(r *http.Request) string {
	switch r.URL.Query().Get("done") {
	case "added":
		return "Account added; its first poll is running."
	case "saved":
		return "Account saved."
	case "removed":
		return "Account removed, with its history and acknowledgements."
	case "filter-removed":
		return "Filter deleted."
	case "link-revoked":
		return "Wall link revoked: its screen shows it at its next refresh."
	}
	return ""
}

// renderSettings fills in accounts and filters; editID/edit carry an edit
// form being re-shown with errors.
func (h *Handler) renderSettings(w http.ResponseWriter, r *http.Request, status int, s views.Settings, editID int64, edit views.AccountForm) {
	accts, err := h.store.ListAccounts(r.Context())
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	for _, a := range accts {
		row := views.AccountRow{Account: a, Form: views.AccountForm{Alias: a.Alias, Enabled: a.Enabled}}
		if a.ID == editID {
			row.Form = edit
		}
		s.Accounts = append(s.Accounts, row)
	}
	s.EditID = editID
	s.Now = h.now()
	if s.Filters, err = h.store.ListFilters(r.Context()); err != nil {
		h.serverError(w, r, err)
		return
	}
	s.Role = currentRole(r)
	if s.Role.Allows(monitoring.Operator) { // a viewer sees no wall links
		if s.WallLinks, err = h.store.ListWallLinks(r.Context()); err != nil {
			h.serverError(w, r, err)
			return
		}
	}
	if len(s.Link.Errors) == 0 && s.Link.Message == "" { // a fresh form, not one being shown again
		s.Link = views.WallLinkForm{WallMode: true}
	}
	h.render(w, r, status, views.SettingsView(h.layout(r, "Settings", "settings"), s))
}

// AccountInput is what the add form and the API take.
type AccountInput struct {
	Username string `json:"username"`
	APIKey   string `json:"apikey"`
	Alias    string `json:"alias"`
}

// validate returns messages per field.
func (in *AccountInput) validate() map[string]string {
	in.Username, in.Alias, in.APIKey = strings.TrimSpace(in.Username), strings.TrimSpace(in.Alias), strings.TrimSpace(in.APIKey)
	errs := map[string]string{}
	switch {
	case in.Username == "":
		errs["username"] = "Enter the Rackspace username."
	case utf8.RuneCountInString(in.Username) > maxField:
		errs["username"] = "The username is longer than 255 characters."
	case strings.ContainsAny(in.Username, " \t\r\n"):
		errs["username"] = "A Rackspace username has no spaces."
	}
	switch {
	case in.APIKey == "":
		errs["apikey"] = "Enter the account's API key."
	case utf8.RuneCountInString(in.APIKey) > maxField:
		errs["apikey"] = "The API key is longer than 255 characters."
	}
	if utf8.RuneCountInString(in.Alias) > maxField {
		errs["alias"] = "The alias is longer than 255 characters."
	}
	checkText(errs, "username", "The username", in.Username)
	checkText(errs, "apikey", "The API key", in.APIKey)
	checkText(errs, "alias", "The alias", in.Alias)
	return errs
}

// addAccountError is a failed add: field messages or a form-wide message,
// with the HTTP status that fits.
type addAccountError struct {
	Status  int
	Fields  map[string]string
	Message string
}

func (e *addAccountError) Error() string {
	if e.Message != "" {
		return e.Message
	}
	for _, m := range e.Fields {
		return m
	}
	return "invalid account"
}

// addAccount validates, checks the credentials against Identity, and
// stores the account. Shared by the settings form and the API.
func (h *Handler) addAccount(ctx context.Context, in AccountInput) (monitoring.Account, error) {
	if errs := in.validate(); len(errs) > 0 {
		return monitoring.Account{}, &addAccountError{Status: http.StatusBadRequest, Fields: errs}
	}
	if _, err := h.store.AccountByUsername(ctx, in.Username); err == nil {
		return monitoring.Account{}, &addAccountError{Status: http.StatusConflict,
			Fields: map[string]string{"username": "This account is already on the dashboard."}}
	} else if !errors.Is(err, monitoring.ErrNotFound) {
		return monitoring.Account{}, err
	}
	tok, err := h.checkCredentials(ctx, in.Username, in.APIKey)
	if err != nil {
		return monitoring.Account{}, err
	}
	acct, err := h.store.CreateAccount(ctx, in.Username, in.Alias, in.APIKey, &tok)
	if errors.Is(err, monitoring.ErrDuplicate) {
		return acct, &addAccountError{Status: http.StatusConflict,
			Fields: map[string]string{"username": "This account is already on the dashboard."}}
	}
	if err != nil {
		return acct, err
	}
	h.poller.Wake()
	return acct, nil
}

// checkCredentials logs in to Identity; a refusal becomes a form message.
func (h *Handler) checkCredentials(ctx context.Context, username, apiKey string) (monitoring.Token, error) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	tok, err := h.checker.Authenticate(ctx, monitoring.Credentials{Username: username, APIKey: apiKey})
	if err == nil {
		return tok, nil
	}
	h.log.Info("credential check failed", "username", username, "kind", monitoring.ErrorKind(err), "err", err)
	status := http.StatusBadGateway
	msg := "Could not check the credentials with Rackspace Identity: " + monitoring.Describe(err)
	var auth *rackspace.AuthError
	var forb *rackspace.ForbiddenError
	switch {
	case errors.As(err, &auth):
		status = http.StatusBadRequest
		msg = "Rackspace Identity rejected this username and API key: " + auth.Message
	case errors.As(err, &forb):
		status = http.StatusBadRequest
		msg = "Rackspace Identity refused this account: " + forb.Message
	}
	return tok, &addAccountError{Status: status, Message: msg}
}

// createAccount handles the add form.
func (h *Handler) createAccount(w http.ResponseWriter, r *http.Request) {
	unread := readForm(w, r)
	in := AccountInput{Username: r.PostForm.Get("username"), APIKey: r.PostForm.Get("apikey"), Alias: r.PostForm.Get("alias")}
	if unread != nil {
		form := views.AccountForm{Username: strings.TrimSpace(in.Username), Alias: strings.TrimSpace(in.Alias), Message: unread.message}
		h.renderSettings(w, r, unread.status, views.Settings{Add: form}, 0, views.AccountForm{})
		return
	}
	acct, err := h.addAccount(r.Context(), in)
	var ae *addAccountError
	if errors.As(err, &ae) {
		form := views.AccountForm{Username: strings.TrimSpace(in.Username), Alias: strings.TrimSpace(in.Alias), Errors: ae.Fields, Message: ae.Message}
		h.renderSettings(w, r, http.StatusUnprocessableEntity, views.Settings{Add: form}, 0, views.AccountForm{})
		return
	}
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	h.auditAccountAdded(r, acct)
	seeOther(w, r, "/settings?done=added")
}

// auditAccountAdded records an account added (by the form or the API).
func (h *Handler) auditAccountAdded(r *http.Request, a monitoring.Account) {
	detail := ""
	if a.Alias != "" {
		detail = "alias " + quoted(a.Alias, maxField)
	}
	h.audit(r, monitoring.AuditAccountAdded, a.Username, detail)
}

// auditAccountEdited records what an edit changed: the alias and the key
// (never the key itself) as an edit, polling as disabled or enabled.
func (h *Handler) auditAccountEdited(r *http.Request, before monitoring.Account, u monitoring.AccountUpdate) {
	var changed []string
	switch {
	case u.Alias == before.Alias:
	case before.Alias == "":
		changed = append(changed, "alias set to "+quoted(u.Alias, maxField))
	case u.Alias == "":
		changed = append(changed, "alias "+quoted(before.Alias, maxField)+" removed")
	default:
		changed = append(changed, "alias "+quoted(before.Alias, maxField)+" → "+quoted(u.Alias, maxField))
	}
	if u.APIKey != nil {
		changed = append(changed, "API key replaced")
	}
	if len(changed) > 0 {
		h.audit(r, monitoring.AuditAccountEdited, before.Username, strings.Join(changed, "; "))
	}
	switch {
	case before.Enabled && !u.Enabled:
		h.audit(r, monitoring.AuditAccountDisabled, before.Username, "not polled until enabled again")
	case !before.Enabled && u.Enabled:
		h.audit(r, monitoring.AuditAccountEnabled, before.Username, "")
	}
}

// updateAccount handles an account's edit form: alias, new key (blank
// keeps the old one) and enabled.
func (h *Handler) updateAccount(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		h.notFound(w, r, "There is no such account.")
		return
	}
	unread := readForm(w, r)
	acct, err := h.store.Account(r.Context(), id)
	if errors.Is(err, monitoring.ErrNotFound) {
		h.notFound(w, r, "There is no such account.")
		return
	}
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	alias := strings.TrimSpace(r.PostForm.Get("alias"))
	key := strings.TrimSpace(r.PostForm.Get("apikey"))
	enabled := r.PostForm.Get("enabled") != ""
	form := views.AccountForm{Alias: alias, Enabled: enabled, Errors: map[string]string{}}
	if unread != nil {
		form.Message = unread.message
		h.renderSettings(w, r, unread.status, views.Settings{}, id, form)
		return
	}
	if utf8.RuneCountInString(alias) > maxField {
		form.Errors["alias"] = "The alias is longer than 255 characters."
	}
	if utf8.RuneCountInString(key) > maxField {
		form.Errors["apikey"] = "The API key is longer than 255 characters."
	}
	checkText(form.Errors, "alias", "The alias", alias)
	checkText(form.Errors, "apikey", "The API key", key)
	if len(form.Errors) > 0 {
		h.renderSettings(w, r, http.StatusUnprocessableEntity, views.Settings{}, id, form)
		return
	}
	u := monitoring.AccountUpdate{Alias: alias, Enabled: enabled}
	if key != "" {
		tok, err := h.checkCredentials(r.Context(), acct.Username, key)
		var ae *addAccountError
		if errors.As(err, &ae) {
			form.Message = ae.Message
			h.renderSettings(w, r, http.StatusUnprocessableEntity, views.Settings{}, id, form)
			return
		}
		u.APIKey, u.Token = &key, &tok
	}
	if err := h.store.UpdateAccount(r.Context(), id, u); err != nil {
		if errors.Is(err, monitoring.ErrNotFound) {
			h.notFound(w, r, "There is no such account.")
			return
		}
		h.serverError(w, r, err)
		return
	}
	h.auditAccountEdited(r, acct, u)
	h.poller.Wake()
	seeOther(w, r, "/settings?done=saved")
}

// confirmDeleteAccount asks before removing (works without JavaScript).
func (h *Handler) confirmDeleteAccount(w http.ResponseWriter, r *http.Request) {
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
	h.render(w, r, http.StatusOK, views.ConfirmDelete(h.layout(r, "Remove account", "settings"), views.AccountRow{Account: acct}))
}

// deleteAccount removes an account after confirmation.
func (h *Handler) deleteAccount(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		h.notFound(w, r, "There is no such account.")
		return
	}
	acct, err := h.store.Account(r.Context(), id)
	if err == nil {
		err = h.store.DeleteAccount(r.Context(), id)
	}
	if errors.Is(err, monitoring.ErrNotFound) {
		h.notFound(w, r, "There is no such account.")
		return
	} else if err != nil {
		h.serverError(w, r, err)
		return
	}
	h.forgetAccount(acct.Username)
	h.audit(r, monitoring.AuditAccountRemoved, acct.Username, "")
	seeOther(w, r, "/settings?done=removed")
}

// forgetAccount drops what the process still holds about a removed account.
func (h *Handler) forgetAccount(username string) {
	if h.opts.Metrics != nil {
		h.opts.Metrics.ForgetAccount(username)
	}
}
