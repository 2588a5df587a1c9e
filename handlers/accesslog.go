package handlers

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// accessKey keys the request's accessRecord in its context.
type accessKey struct{}

// accessRecord is what the access log learns while a request is served:
// only the handler that recognises the caller knows who it is.
type accessRecord struct {
	who string
}

// setWho names who made r for its access-log line: "token <owner>", the
// signed-in user's name, "wall link <name>". Without the access log it does
// nothing.
func setWho(r *http.Request, who string) {
	if rec, ok := r.Context().Value(accessKey{}).(*accessRecord); ok {
		rec.who = who
	}
}

// accessLog writes one line per request once it is answered: method, path
// (a wall link's token masked), status, bytes, duration and who. The health
// check and static files, asked for all the time by probes and every page,
// are logged at debug level only. The query string is left out: it holds
// filter text, nothing an operator needs to follow a request.
func (h *Handler) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start, path := time.Now(), r.URL.Path
		rec := &accessRecord{who: "-"}
		cw := &countingWriter{ResponseWriter: w}
		next.ServeHTTP(cw, r.WithContext(context.WithValue(r.Context(), accessKey{}, rec)))
		level := slog.LevelInfo
		if path == "/healthz" || strings.HasPrefix(path, "/static/") {
			level = slog.LevelDebug
		}
		h.log.LogAttrs(r.Context(), level, "request",
			slog.String("method", r.Method), slog.String("path", logPath(path)),
			slog.Int("status", cw.statusCode()), slog.Int64("bytes", cw.bytes),
			slog.String("duration", time.Since(start).Round(time.Microsecond).String()),
			slog.String("who", rec.who))
	})
}

// countingWriter notes a response's status and counts the bytes of its
// body as sent (after compression).
type countingWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *countingWriter) WriteHeader(code int) {
	// 1xx responses are interim: the final status follows.
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *countingWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// statusCode is the status sent: 200 when the handler wrote nothing at all,
// as net/http then sends.
func (w *countingWriter) statusCode() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

// Unwrap lets http.ResponseController reach the underlying writer (to
// flush, or set deadlines).
func (w *countingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
