package rackspace_test

import (
	"net/http"
	"testing"

	"cmdash/monitoring"
	"cmdash/monitoring/rackspace"
)

func TestParseRateLimitReadsEitherCountInAnyCase(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		h    http.Header // raw maps: keys exactly as written, not canonicalised
		want monitoring.RateLimit
	}{
		{"the documented spelling, with Used",
			http.Header{"X-RateLimit-Limit": {"50000"}, "X-RateLimit-Used": {"500"}, "X-RateLimit-Window": {"24 hours"}},
			monitoring.RateLimit{Limit: 50000, Used: 500, Remaining: 49500, Window: "24 hours", Known: true}},
		{"the real answers' spelling, with Remaining",
			http.Header{"X-Ratelimit-Limit": {"50000"}, "X-Ratelimit-Remaining": {"49947"}, "X-Ratelimit-Window": {"24 hours"}, "X-Ratelimit-Type": {"global"}},
			monitoring.RateLimit{Limit: 50000, Used: 53, Remaining: 49947, Window: "24 hours", Known: true}},
		{"lower and upper case keys",
			http.Header{"x-ratelimit-limit": {" 500 "}, "X-RATELIMIT-REMAINING": {"495"}, "x-RateLimit-window": {"24 hours"}},
			monitoring.RateLimit{Limit: 500, Used: 5, Remaining: 495, Window: "24 hours", Known: true}},
		{"both counts are taken as sent",
			http.Header{"x-ratelimit-limit": {"100"}, "x-ratelimit-used": {"10"}, "x-ratelimit-remaining": {"89"}},
			monitoring.RateLimit{Limit: 100, Used: 10, Remaining: 89, Known: true}},
		{"more used than the limit leaves none remaining",
			http.Header{"X-Ratelimit-Limit": {"100"}, "X-Ratelimit-Used": {"120"}},
			monitoring.RateLimit{Limit: 100, Used: 120, Remaining: 0, Known: true}},
		{"no limit is not known", http.Header{"x-ratelimit-used": {"10"}}, monitoring.RateLimit{}},
		{"a limit alone is not known", http.Header{"x-ratelimit-limit": {"10"}}, monitoring.RateLimit{}},
		{"numbers that are not numbers are not known",
			http.Header{"x-ratelimit-limit": {"lots"}, "x-ratelimit-used": {"-1"}}, monitoring.RateLimit{}},
		{"no headers", http.Header{}, monitoring.RateLimit{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := rackspace.ParseRateLimit(tt.h); got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}
