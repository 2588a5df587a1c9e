package handlers

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"cmdash/monitoring"
)

// logLines collects JSON log lines, written from any goroutine.
type logLines struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logLines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// requests are the access-log lines logged so far.
func (l *logLines) requests(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.Lines(l.String()) {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if m["msg"] == "request" {
			out = append(out, m)
		}
	}
	return out
}

// accessLogged is a handler set on a test database whose log, at level,
// is collected.
func accessLogged(t *testing.T, level slog.Level, opts Options) (*Handler, *testEnv, *logLines) {
	t.Helper()
	e := newTestEnv(t)
	logs := &logLines{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: level}))
	opts.PollInterval = pollInterval
	return newHandler(e.store, e.poller, e.client, log, opts), e, logs
}

func serve(h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// only returns the one line logged, failing unless there is exactly one.
func only(t *testing.T, lines []map[string]any) map[string]any {
	t.Helper()
	if len(lines) != 1 {
		t.Fatalf("%d access-log lines, want 1: %v", len(lines), lines)
	}
	return lines[0]
}

func TestAWallLinkIsLoggedByItsNameAndNeverByItsToken(t *testing.T) {
	h, e, logs := accessLogged(t, slog.LevelDebug, Options{AccessLog: true})
	token, _, err := e.store.CreateWallLink(e.ctx, monitoring.WallLink{Name: "Hall TV", WallMode: true})
	if err != nil {
		t.Fatal(err)
	}
	routes := h.Routes()
	rec := serve(routes, httptest.NewRequest(http.MethodGet, "/w/"+token+"?order=severity", nil))
	wantStatus(t, rec, http.StatusOK)
	line := only(t, logs.requests(t))
	if line["who"] != "wall link Hall TV" || line["path"] != "/w/…" || line["method"] != "GET" || line["level"] != "INFO" {
		t.Errorf("logged %v, want GET /w/… by wall link Hall TV at INFO", line)
	}

	// A revoked or mistyped link is nobody, and its token is not logged
	// either.
	serve(routes, httptest.NewRequest(http.MethodGet, "/w/"+token+"x", nil))
	serve(routes, httptest.NewRequest(http.MethodPost, "/w/"+token, nil))
	for _, line := range logs.requests(t)[1:] {
		if line["who"] != "-" || line["path"] != "/w/…" {
			t.Errorf("logged %v, want /w/… by -", line)
		}
	}
	secret := strings.TrimPrefix(token, "wl_")
	if out := logs.String(); strings.Contains(out, secret) {
		t.Errorf("the log holds the wall link's token:\n%s", out)
	}
}

func TestTheAccessLogRecordsStatusBytesAndWho(t *testing.T) {
	h, _, logs := accessLogged(t, slog.LevelInfo, Options{AccessLog: true})
	tests := []struct {
		name   string
		serve  http.HandlerFunc
		status int
		bytes  float64
		who    string
	}{
		{"a status and a body are logged as sent", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusCreated)
			_, _ = w.Write([]byte("hello"))
		}, http.StatusCreated, 5, "-"},
		{"a body without WriteHeader is a 200", func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte("abc"))
			_, _ = w.Write([]byte("de"))
		}, http.StatusOK, 5, "-"},
		{"nothing written at all is a 200 of no bytes", func(w http.ResponseWriter, r *http.Request) {}, http.StatusOK, 0, "-"},
		{"an interim 103 is not the status", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusEarlyHints)
			w.WriteHeader(http.StatusNoContent)
		}, http.StatusNoContent, 0, "-"},
		{"who the handler names is logged", func(w http.ResponseWriter, r *http.Request) {
			setWho(r, "alice")
			http.Error(w, "no", http.StatusForbidden)
		}, http.StatusForbidden, 3, "alice"},
		{"a flush reaches the writer beneath", func(w http.ResponseWriter, r *http.Request) {
			if err := http.NewResponseController(w).Flush(); err != nil {
				t.Errorf("flush through the access log: %v", err)
			}
			_, _ = w.Write([]byte("x"))
		}, http.StatusOK, 1, "-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(logs.requests(t))
			serve(h.accessLog(tt.serve), httptest.NewRequest(http.MethodPost, "/anything?q=secret+filter", nil))
			line := only(t, logs.requests(t)[before:])
			if line["status"] != float64(tt.status) || line["bytes"] != tt.bytes || line["who"] != tt.who {
				t.Errorf("logged %v, want status %d, %v bytes, who %q", line, tt.status, tt.bytes, tt.who)
			}
			if line["method"] != "POST" || line["path"] != "/anything" || line["duration"] == "" {
				t.Errorf("logged %v, want POST /anything (no query) and a duration", line)
			}
		})
	}

	t.Run("the bytes of a compressed page are those sent", func(t *testing.T) {
		before := len(logs.requests(t))
		req := httptest.NewRequest(http.MethodGet, "/static/app.css", nil)
		req.Header.Set("Accept-Encoding", "gzip")
		serve(h.Routes(), req)
		req = httptest.NewRequest(http.MethodGet, "/login", nil)
		req.Header.Set("Accept-Encoding", "gzip")
		rec := serve(h.Routes(), req)
		if rec.Header().Get("Content-Encoding") != "gzip" {
			t.Fatal("the sign-in page was not compressed")
		}
		line := only(t, logs.requests(t)[before:]) // the static file is at debug level
		if line["bytes"] != float64(rec.Body.Len()) || line["status"] != float64(rec.Code) {
			t.Errorf("logged %v, sent %d with %d bytes", line, rec.Code, rec.Body.Len())
		}
	})

	t.Run("setWho without the access log does nothing", func(t *testing.T) {
		setWho(httptest.NewRequest(http.MethodGet, "/", nil), "alice")
	})
}

func TestHealthChecksAndStaticFilesAreLoggedOnlyAtDebugLevel(t *testing.T) {
	quiet := []string{"/healthz", "/static/app.css"}
	t.Run("at info level they are left out", func(t *testing.T) {
		h, _, logs := accessLogged(t, slog.LevelInfo, Options{AccessLog: true})
		for _, path := range append(quiet, "/login") {
			serve(h.Routes(), httptest.NewRequest(http.MethodGet, path, nil))
		}
		if line := only(t, logs.requests(t)); line["path"] != "/login" {
			t.Errorf("logged %v, want only /login", line)
		}
	})
	t.Run("at debug level they are logged as debug", func(t *testing.T) {
		h, _, logs := accessLogged(t, slog.LevelDebug, Options{AccessLog: true})
		for _, path := range quiet {
			serve(h.Routes(), httptest.NewRequest(http.MethodGet, path, nil))
		}
		lines := logs.requests(t)
		if len(lines) != len(quiet) {
			t.Fatalf("logged %v, want a line for each of %v", lines, quiet)
		}
		for i, line := range lines {
			if line["path"] != quiet[i] || line["level"] != "DEBUG" || line["status"] != float64(http.StatusOK) {
				t.Errorf("logged %v, want %s at DEBUG with 200", line, quiet[i])
			}
		}
	})
}

func TestTheAccessLogIsOffWhenNotAskedFor(t *testing.T) {
	h, _, logs := accessLogged(t, slog.LevelDebug, Options{})
	for _, path := range []string{"/", "/login", "/healthz", "/nope"} {
		serve(h.Routes(), httptest.NewRequest(http.MethodGet, path, nil))
	}
	if lines := logs.requests(t); len(lines) != 0 {
		t.Errorf("logged %v without AccessLog", lines)
	}
}

func TestTheAccessLogNamesTheSignedInUserAndTheToken(t *testing.T) {
	h, e, logs := accessLogged(t, slog.LevelInfo, Options{AccessLog: true})
	routes := h.Routes()
	req := httptest.NewRequest(http.MethodGet, "/api/v1/accounts", nil)
	req.Header.Set("Authorization", "Bearer "+e.token)
	wantStatus(t, serve(routes, req), http.StatusOK)
	line := only(t, logs.requests(t))
	if want := "token handlers tests (" + testUser + ")"; line["who"] != want {
		t.Errorf("logged who %v, want %q", line["who"], want)
	}
	if strings.Contains(logs.String(), e.token) {
		t.Errorf("the log holds the API token:\n%s", logs.String())
	}
}
