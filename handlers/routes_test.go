package handlers

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestAMethodAnAddressDoesNotTakeIsA405ThatSaysWhichItDoes(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	tests := []struct {
		path, allow string
	}{
		{"/", "GET, HEAD"},
		{"/wall", "GET, HEAD"},
		{"/settings", "GET, HEAD"},
		{"/filters", "POST"},
		{"/timeline", "GET, HEAD"},
		{"/accounts/1", "GET, HEAD"},
		{"/settings/accounts/1/delete", "GET, HEAD, POST"},
		{"/login", "GET, HEAD, POST"},
		{"/healthz", "GET, HEAD"},
		{"/static/app.css", "GET, HEAD"},
		{"/api/v1/", "GET, HEAD"},
		{"/api/v1/accounts", "GET, HEAD, POST, DELETE"},
		{"/api/v1/monitors/someone", "GET, HEAD"},
		{"/api/v1/acks", "GET, HEAD, POST, DELETE"},
	}
	for _, tt := range tests {
		for _, method := range []string{http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodPost} {
			if strings.Contains(tt.allow, method) {
				continue
			}
			t.Run(method+" "+tt.path, func(t *testing.T) {
				rec := e.do(httptest.NewRequest(method, tt.path, strings.NewReader("")))
				wantStatus(t, rec, http.StatusMethodNotAllowed)
				if got := rec.Header().Get("Allow"); got != tt.allow {
					t.Errorf("Allow %q, want %q", got, tt.allow)
				}
				if strings.HasPrefix(tt.path, "/api/") {
					if env := apiJSON(t, rec); env["response"] != "error" || env["message"] != "Method not allowed." {
						t.Errorf("not the API's error envelope: %v", env)
					}
					return
				}
				if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
					t.Fatalf("Content-Type %q, want the error page", ct)
				}
				doc := parse(t, rec)
				if h1 := strings.TrimSpace(doc.Find("main h1").Text()); h1 != "405" {
					t.Errorf("heading %q, want 405", h1)
				}
				if msg := doc.Find("main p").First().Text(); !strings.Contains(msg, method) {
					t.Errorf("message %q does not name the method", msg)
				}
			})
		}
	}

	t.Run("an address no method takes is still a 404", func(t *testing.T) {
		for _, tt := range []struct{ method, path string }{
			{"PUT", "/no/such/page"}, {"GET", "/no/such/page"}, {"PUT", "/api/v1/nothing"},
			{"GET", "/api/v1/monitors/someone/a-server/more"}, {"POST", "/settings/nothing"},
		} {
			rec := e.do(httptest.NewRequest(tt.method, tt.path, nil))
			if rec.Code != http.StatusNotFound || rec.Header().Get("Allow") != "" {
				t.Errorf("%s %s: status %d, Allow %q; want a 404", tt.method, tt.path, rec.Code, rec.Header().Get("Allow"))
			}
		}
	})
}
