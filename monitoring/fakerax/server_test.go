package fakerax

import (
	"net/http/httptest"
	"testing"
)

// newTestServer starts the fake on loopback for this package's own tests
// (fakeraxtest.NewServer, which other packages use, imports this one).
func newTestServer(tb testing.TB, cfg Config) (*Server, *httptest.Server) {
	tb.Helper()
	s := New(cfg)
	ts := httptest.NewServer(s)
	tb.Cleanup(ts.Close)
	tb.Cleanup(s.Close)
	return s, ts
}
