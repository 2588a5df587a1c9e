package handlers

import (
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"

	"cmdash/monitoring"
	"cmdash/views"
)

// showAccess renders users and API tokens (the "Access" settings page).
func (h *Handler) showAccess(w http.ResponseWriter, r *http.Request) {
	h.renderAccess(w, r, http.StatusOK, views.Access{Flash: accessFlash(r)})
}

func accessFlash(r *http.Request) string {
	switch r.URL.Query().Get("done") {
	case "user-added":
		return "User added."
	case "user-removed":
		return "User removed."
	case "password":
		return "Password changed."
	case "token-revoked":
		return "Token revoked."
	case "role":
		return "Role changed."
	}
	return ""
}

func (h *Handler) renderAccess(w http.ResponseWriter, r *http.Request, status int, a views.Access) {
	var err error
	if a.Users, err = h.store.ListUsers(r.Context()); err != nil {
		h.serverError(w, r, err)
		return
	}
	if a.Tokens, err = h.store.ListAPITokens(r.Context()); err != nil {
		h.serverError(w, r, err)
		return
	}
	a.Me, a.Role = currentUser(r), currentRole(r)
	for _, u := range a.Users {
		if u.Username == a.Me {
			a.HasPassword = u.Origin == monitoring.OriginPassword
		}
	}
	if !a.Role.Allows(monitoring.Admin) {
		a.Users, a.Tokens = nil, nil // an admin's business
	}
	h.render(w, r, status, views.AccessView(h.layout(r, "Users and API tokens", "settings"), a))
}

// createUser adds a user (by a signed-in user).
func (h *Handler) createUser(w http.ResponseWriter, r *http.Request) {
	unread := readForm(w, r)
	username := strings.TrimSpace(r.PostForm.Get("username"))
	password := r.PostForm.Get("password")
	roleName := r.PostForm.Get("role")
	if unread != nil {
		form := views.LoginForm{Username: username, Message: unread.message}
		h.renderAccess(w, r, unread.status, views.Access{NewUser: form, NewUserRole: roleName})
		return
	}
	form := views.LoginForm{Username: username, Errors: validateNewUser(username, password, r.PostForm.Get("confirm"))}
	role, err := monitoring.ParseRole(roleName)
	if err != nil || role == monitoring.NoRole {
		form.Errors["role"] = "Choose a role: viewer, operator or admin."
		roleName = ""
	}
	if len(form.Errors) == 0 {
		if _, err := h.store.CreateUser(r.Context(), username, password, role); errors.Is(err, monitoring.ErrDuplicate) {
			form.Errors["username"] = "This user already exists."
		} else if err != nil {
			h.serverError(w, r, err)
			return
		}
	}
	if len(form.Errors) > 0 {
		h.renderAccess(w, r, http.StatusUnprocessableEntity, views.Access{NewUser: form, NewUserRole: roleName})
		return
	}
	h.log.Info("user added", "username", username, "role", role.String(), "by", principalOf(r).who())
	h.audit(r, monitoring.AuditUserAdded, username, "role "+role.String())
	seeOther(w, r, "/settings/access?done=user-added")
}

// deleteUser removes a user; nobody removes themselves (so one always remains).
func (h *Handler) deleteUser(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		h.notFound(w, r, "There is no such user.")
		return
	}
	me, err := h.store.UserByName(r.Context(), currentUser(r))
	if err == nil && me.ID == id {
		h.renderAccess(w, r, http.StatusUnprocessableEntity, views.Access{Message: "You cannot remove yourself; another user can."})
		return
	}
	gone, err := h.store.DeleteUser(r.Context(), id)
	switch {
	case errors.Is(err, monitoring.ErrNotFound):
		h.notFound(w, r, "There is no such user.")
		return
	case errors.Is(err, monitoring.ErrLastAdmin):
		h.renderAccess(w, r, http.StatusUnprocessableEntity, views.Access{Message: "This is the last admin: make someone else an admin first."})
		return
	case err != nil:
		h.serverError(w, r, err)
		return
	}
	h.audit(r, monitoring.AuditUserRemoved, gone.Username, "was "+gone.Role.String()+", with their API tokens")
	seeOther(w, r, "/settings/access?done=user-removed")
}

// setUserRole changes a user's role; the last admin keeps theirs.
func (h *Handler) setUserRole(w http.ResponseWriter, r *http.Request) {
	unread := readForm(w, r)
	id, ok := pathID(r, "id")
	if !ok {
		h.notFound(w, r, "There is no such user.")
		return
	}
	if unread != nil {
		h.renderAccess(w, r, unread.status, views.Access{Message: unread.message})
		return
	}
	role, err := monitoring.ParseRole(r.PostForm.Get("role"))
	if err != nil || role == monitoring.NoRole {
		h.renderAccess(w, r, http.StatusUnprocessableEntity, views.Access{Message: "Choose a role: viewer, operator or admin."})
		return
	}
	before, err := h.store.SetRole(r.Context(), id, role)
	switch {
	case errors.Is(err, monitoring.ErrNotFound):
		h.notFound(w, r, "There is no such user.")
		return
	case errors.Is(err, monitoring.ErrLastAdmin):
		h.renderAccess(w, r, http.StatusUnprocessableEntity, views.Access{Message: "This is the last admin: make someone else an admin first."})
		return
	case err != nil:
		h.serverError(w, r, err)
		return
	}
	if before.Role != role {
		h.audit(r, monitoring.AuditUserRoleChanged, before.Username, before.Role.String()+" → "+role.String())
	}
	seeOther(w, r, "/settings/access?done=role")
}

// changePassword lets the signed-in user change their own password.
func (h *Handler) changePassword(w http.ResponseWriter, r *http.Request) {
	unread := readForm(w, r)
	me := currentUser(r)
	form := views.LoginForm{Errors: map[string]string{}}
	if unread != nil {
		form.Message = unread.message
		h.renderAccess(w, r, unread.status, views.Access{Password: form})
		return
	}
	if _, err := h.store.Authenticate(r.Context(), me, r.PostForm.Get("current")); err != nil {
		form.Errors["current"] = "That is not your current password."
	} else {
		for k, v := range validatePassword(r.PostForm.Get("password"), r.PostForm.Get("confirm")) {
			form.Errors[k] = v
		}
	}
	if len(form.Errors) > 0 {
		h.renderAccess(w, r, http.StatusUnprocessableEntity, views.Access{Password: form})
		return
	}
	if err := h.store.SetPassword(r.Context(), me, r.PostForm.Get("password")); err != nil {
		h.serverError(w, r, err)
		return
	}
	h.audit(r, monitoring.AuditUserPasswordChanged, me, "their other sessions ended")
	// The new password bumped the session epoch, which ends every other
	// session of this user; this one signs in again under the new epoch.
	if err := h.signIn(r, me); err != nil {
		h.serverError(w, r, err)
		return
	}
	seeOther(w, r, "/settings/access?done=password")
}

// createToken makes an API token and shows it once.
func (h *Handler) createToken(w http.ResponseWriter, r *http.Request) {
	unread := readForm(w, r)
	name := strings.TrimSpace(r.PostForm.Get("name"))
	msg := monitoring.TextProblem("The token name", name)
	if name == "" || utf8.RuneCountInString(name) > 64 {
		msg = "Name the token (up to 64 characters), e.g. “chat bot”."
	}
	status := http.StatusUnprocessableEntity
	roleName := r.PostForm.Get("role")
	role, err := monitoring.ParseRole(roleName)
	if msg == "" && err != nil {
		msg, roleName = "Choose what the token acts as: your role, viewer, operator or admin.", ""
	}
	if unread != nil {
		msg, status = unread.message, unread.status
	}
	if msg != "" {
		h.renderAccess(w, r, status, views.Access{TokenError: msg, TokenName: name, TokenRole: roleName})
		return
	}
	me, err := h.store.UserByName(r.Context(), currentUser(r))
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	plain, _, err := h.store.CreateAPIToken(r.Context(), me.ID, name, role)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	h.log.Info("api token created", "name", name, "by", me.Username)
	acts := "acts as its owner's role"
	if role != monitoring.NoRole {
		acts = "acts as " + role.String() + " at most"
	}
	h.audit(r, monitoring.AuditTokenCreated, tokenTarget(name, me.Username), acts)
	h.renderAccess(w, r, http.StatusOK, views.Access{NewToken: plain, Flash: "Token created. Copy it now: it is not shown again."})
}

// deleteToken revokes an API token.
func (h *Handler) deleteToken(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		h.notFound(w, r, "There is no such token.")
		return
	}
	tok, err := h.store.DeleteAPIToken(r.Context(), id)
	if errors.Is(err, monitoring.ErrNotFound) {
		h.notFound(w, r, "There is no such token.")
		return
	} else if err != nil {
		h.serverError(w, r, err)
		return
	}
	h.audit(r, monitoring.AuditTokenRevoked, tokenTarget(tok.Name, tok.Username), "")
	seeOther(w, r, "/settings/access?done=token-revoked")
}

// tokenTarget names an API token in the audit log as an actor is named
// (see principal.who): never by any part of its secret.
func tokenTarget(name, owner string) string { return "token " + name + " (" + owner + ")" }
