// Package fakeraxtest starts the fake Rackspace for tests. It is separate
// from fakerax so the dashboard binary, which embeds the fake for its demo
// mode, does not link net/http/httptest or testing.
package fakeraxtest

import (
	"net/http/httptest"
	"testing"

	"cmdash/monitoring/fakerax"
)

// NewServer starts the fake on loopback; both are closed when the test ends.
func NewServer(tb testing.TB, cfg fakerax.Config) (*fakerax.Server, *httptest.Server) {
	tb.Helper()
	s := fakerax.New(cfg)
	ts := httptest.NewServer(s)
	tb.Cleanup(ts.Close)
	tb.Cleanup(s.Close) // runs first: pending delays end before the listener closes
	return s, ts
}
