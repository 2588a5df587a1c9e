package handlers

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"cmdash/monitoring"
	"cmdash/views"
)

// checkAck checks what the store leaves to the handlers: an alarm id of a
// sane length (the note's rules are the store's, monitoring.NoteProblem).
// errs gets the field messages.
func checkAck(in monitoring.AckInput, errs map[string]string) {
	if len(in.AlarmID) > 255 {
		errs["alarm"] = "This server has no alarm with this id."
	}
}

// createAck acknowledges a server or one of its alarms (the server page's
// form). A refusal shows the page again with the message beside the field
// and what was typed kept.
func (h *Handler) createAck(w http.ResponseWriter, r *http.Request) {
	unread := readForm(w, r)
	notFound := func(what string) { h.notFound(w, r, what) }
	id, ok := pathID(r, "id")
	serverID := r.PathValue("server")
	if !ok || serverID == "" || len(serverID) > 255 {
		notFound("There is no such server.")
		return
	}
	user := currentUser(r)
	form := views.AckForm{Alarm: r.PostForm.Get("alarm"), Note: r.PostForm.Get("note"), Expiry: r.PostForm.Get("expiry"),
		Errors: map[string]string{}}
	in := monitoring.AckInput{AccountID: id, ServerID: serverID, AlarmID: form.Alarm, Note: form.Note, Expiry: form.Expiry, By: user}
	status := http.StatusUnprocessableEntity
	if unread != nil {
		form.Message, status = unread.message, unread.status
	} else if checkAck(in, form.Errors); form.Errors["alarm"] != "" {
		form.Alarm = "" // not worth showing back
	}
	if unread == nil && len(form.Errors) == 0 {
		a, err := h.store.CreateAck(r.Context(), in)
		var ae *monitoring.AckError
		switch {
		case errors.As(err, &ae) && ae.Field == "account":
			notFound("There is no such account.")
			return
		case errors.As(err, &ae) && ae.Field == "server" && ae.Kind == monitoring.AckUnknown:
			notFound(ae.Message)
			return
		case errors.As(err, &ae) && ae.Field == "server":
			form.Errors["alarm"] = ae.Message // the server is the first choice of that field
		case errors.As(err, &ae):
			form.Errors[ae.Field] = ae.Message
		case err != nil:
			h.serverError(w, r, err)
			return
		default:
			h.auditAck(r, monitoring.AuditAckCreated, a, "")
			seeOther(w, r, "/accounts/"+strconv.FormatInt(id, 10)+"/servers/"+url.PathEscape(serverID))
			return
		}
	}
	sp, m, ok := h.serverPage(w, r, notFound)
	if !ok {
		return
	}
	sp.Acks.Form = form
	h.render(w, r, status, views.ServerView(h.serverLayout(m, sp, user), sp))
}

// maxAuditNote is how much of an acknowledgement's note the audit log
// quotes.
const maxAuditNote = 200

// auditAck records an acknowledgement made or removed: its account (named
// by account, or looked up when ""), server and alarm, and its note; for
// one made, how long it holds too.
func (h *Handler) auditAck(r *http.Request, action string, a monitoring.Ack, account string) {
	if account == "" {
		if acct, err := h.store.Account(context.WithoutCancel(r.Context()), a.AccountID); err == nil {
			account = acct.Username
		} else {
			account = "account " + strconv.FormatInt(a.AccountID, 10)
		}
	}
	target := account + " / " + cmp.Or(a.ServerLabel, a.ServerID)
	if !a.WholeServer() {
		target += " / " + cmp.Or(a.AlarmLabel, a.AlarmID)
	}
	detail := "note " + quoted(a.Note, maxAuditNote)
	if action == monitoring.AuditAckCreated {
		if a.ExpiresAt.IsZero() {
			detail += ", until it recovers"
		} else {
			detail += ", until " + a.ExpiresAt.UTC().Format("2006-01-02 15:04 UTC")
		}
	}
	h.audit(r, action, target, detail)
}

// deleteAck removes an acknowledgement (the server page's Remove button)
// and goes back to its server's page. One that ended meanwhile is not an
// error: the page then shows how it ended.
func (h *Handler) deleteAck(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		h.notFound(w, r, "There is no such acknowledgement.")
		return
	}
	a, err := h.store.Ack(r.Context(), id)
	if errors.Is(err, monitoring.ErrNotFound) {
		h.notFound(w, r, "There is no such acknowledgement.")
		return
	}
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	switch err := h.store.EndAck(r.Context(), id, currentUser(r)); {
	case errors.Is(err, monitoring.ErrNotFound): // it ended meanwhile: nothing removed
	case err != nil:
		h.serverError(w, r, err)
		return
	default:
		h.auditAck(r, monitoring.AuditAckRemoved, a, "")
	}
	seeOther(w, r, "/accounts/"+strconv.FormatInt(a.AccountID, 10)+"/servers/"+url.PathEscape(a.ServerID))
}
