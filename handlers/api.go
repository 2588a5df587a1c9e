package handlers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// The JSON API v1 keeps the routes and shapes of the product it replaces,
// so existing scripts and chat bots keep working: success bodies as they
// were, errors as {"response":"error","message":"…"} with a fitting status.
//
// Each resource has its file (api_accounts.go, api_auth.go, api_monitors.go,
// api_filters.go, api_events.go, api_acks.go; the audit log's is audit.go,
// beside its page); this one holds what they share: the envelope, reading
// a request's parameters, and the answers to errors and to routes that do
// not exist.

// maxAPIBody caps an API request body.
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

// apiError answers an error in the envelope.
func apiError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	writeJSON(w, r, status, envelope{Response: "error", Message: msg})
}

// apiServerError logs a failure on our side and answers a plain 500 in the
// envelope; the detail stays in the log.
func (h *Handler) apiServerError(w http.ResponseWriter, r *http.Request, err error) {
	h.log.Error("api request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	apiError(w, r, http.StatusInternalServerError, "Internal error; it has been logged.")
}

// apiParams reads a route's parameters from a form or JSON body
// (size-limited): fields, the names the route reads, each as a string. A
// JSON string, number or boolean is taken as its text and null as absent;
// any other value of a field the route reads is refused, naming that field
// (the first such in the body), while fields the route does not read are
// ignored whatever they hold. When the body cannot be read it answers 400
// and returns false.
func apiParams(w http.ResponseWriter, r *http.Request, fields ...string) (map[string]string, bool) {
	p, err := readAPIParams(w, r, fields)
	var pe *paramError
	switch {
	case errors.As(err, &pe):
		apiFieldErr(w, r, http.StatusBadRequest, pe.field, pe.msg)
		return nil, false
	case err != nil:
		apiError(w, r, http.StatusBadRequest, err.Error())
		return nil, false
	}
	return p, true
}

// paramError is a parameter that cannot be read: field names it.
type paramError struct{ field, msg string }

func (e *paramError) Error() string { return e.msg }

// readAPIParams reads the parameters apiParams answers.
func readAPIParams(w http.ResponseWriter, r *http.Request, fields []string) (map[string]string, error) {
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
			names, values, err := jsonMembers(data)
			if err != nil {
				return nil, fmt.Errorf("malformed JSON body: %s", jsonProblem(err))
			}
			for _, k := range names {
				if !slices.Contains(fields, k) {
					continue
				}
				notString := &paramError{field: k, msg: fmt.Sprintf("field %q must be a string", k)}
				var v any
				if err := json.Unmarshal(values[k], &v); err != nil {
					return nil, notString // such as a number too large for a float64
				}
				switch v := v.(type) {
				case string:
					out[k] = v
				case nil:
				case bool, float64:
					out[k] = fmt.Sprint(v)
				default:
					return nil, notString
				}
			}
		}
	case "multipart/form-data":
		if err := r.ParseMultipartForm(maxAPIBody); err != nil {
			return nil, errors.New("request body too large or not a form")
		}
		for _, k := range fields {
			if r.PostForm.Has(k) {
				out[k] = r.PostForm.Get(k)
			}
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
		for _, k := range fields {
			if vals.Has(k) {
				out[k] = vals.Get(k)
			}
		}
	}
	// DELETE may name its target in the query (?username=…); nothing else
	// is read from the URL, so an API key never lands in an access log.
	if r.Method == http.MethodDelete {
		q := r.URL.Query()
		for _, k := range fields {
			if _, ok := out[k]; !ok && q.Has(k) && k != "apikey" {
				out[k] = q.Get(k)
			}
		}
	}
	return out, nil
}

// jsonMembers reads a JSON object: its members' names in the order the
// body gives them, and their values. A name given twice keeps its last
// value, as json.Unmarshal does; a body that is not an object is an error.
func jsonMembers(data []byte) ([]string, map[string]json.RawMessage, error) {
	var values map[string]json.RawMessage
	if err := json.Unmarshal(data, &values); err != nil {
		return nil, nil, err
	}
	names, seen := make([]string, 0, len(values)), make(map[string]bool, len(values))
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, values, nil // null: no members
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, err
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, nil, err
		}
		if name := tok.(string); !seen[name] {
			names, seen[name] = append(names, name), true
		}
	}
	return names, values, nil
}

// jsonProblem says what is wrong with a body that is not a JSON object,
// without quoting it.
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

// apiFieldError is an error about one field of the request.
type apiFieldError struct {
	envelope
	Field string `json:"field"`
}

// apiFieldErr answers an error about one field of the request, naming it.
func apiFieldErr(w http.ResponseWriter, r *http.Request, status int, field, msg string) {
	writeJSON(w, r, status, apiFieldError{envelope: envelope{Response: "error", Message: msg}, Field: field})
}

// timePtr is t as an optional JSON time: null when zero.
func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// strPtr is s as an optional JSON string: null when empty.
func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
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
			"GET /api/v1/audit[?since=<RFC 3339>][&until=<RFC 3339>][&limit=<1-1000>][&actor=<user>][&action=<action or kind>]",
		},
	})
}

// apiNotFound answers an API route that does not exist, in the envelope.
func apiNotFound(w http.ResponseWriter, r *http.Request) {
	apiError(w, r, http.StatusNotFound, "No such API route.")
}

// apiMethodNotAllowed answers an API route that exists for other methods,
// in the envelope.
func apiMethodNotAllowed(allow ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		apiError(w, r, http.StatusMethodNotAllowed, "Method not allowed.")
	}
}
