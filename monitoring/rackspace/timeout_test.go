package rackspace_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"cmdash/monitoring"
	"cmdash/monitoring/rackspace"
)

// slowServer logs in at once and hands out a Monitoring endpoint on the
// same server, whose overview answers as overview says.
func slowServer(t *testing.T, overview http.HandlerFunc) *httptest.Server {
	t.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			_, _ = w.Write([]byte(`{"access":{"token":{"id":"t","expires":"2099-01-01T00:00:00.000-06:00","tenant":{"id":"1"}},"serviceCatalog":[{"name":"cloudMonitoring","type":"rax:monitor","endpoints":[{"publicURL":"http://` + r.Host + `/v1.0/1"}]}]}}`))
			return
		}
		overview(w, r)
	}))
	t.Cleanup(ts.Close)
	return ts
}

// stall waits until the client goes away (or 5s, which no test waits for).
func stall(r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-time.After(5 * time.Second):
	}
}

func TestATimeoutSaysItTimedOutAndAfterHowLong(t *testing.T) {
	t.Parallel()
	silent := func(w http.ResponseWriter, r *http.Request) { stall(r) }
	halfway := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100000")
		_, _ = w.Write([]byte(`{"values":[{"entity":{"id":"enA"},"checks":[],"alarms":[],"latest_alarm_states":[]},`))
		w.(http.Flusher).Flush()
		stall(r)
	}
	tests := []struct {
		name     string
		handler  http.HandlerFunc
		timeout  time.Duration // Client.Timeout
		httpTime time.Duration // the http.Client's Timeout
		status   int
		after    time.Duration
		words    string
	}{
		{"no answer within Client.Timeout", silent, 150 * time.Millisecond, 0, 0, 150 * time.Millisecond,
			"Rackspace did not answer within 150ms (timed out); retrying."},
		{"a body not whole within Client.Timeout", halfway, 150 * time.Millisecond, 0, 200, 150 * time.Millisecond,
			"Rackspace did not finish answering within 150ms (timed out); retrying."},
		{"no answer within the http.Client's Timeout", silent, 30 * time.Second, 150 * time.Millisecond, 0, 150 * time.Millisecond,
			"Rackspace did not answer within 150ms (timed out); retrying."},
		{"a body not whole within the http.Client's Timeout", halfway, 30 * time.Second, 150 * time.Millisecond, 200, 150 * time.Millisecond,
			"Rackspace did not finish answering within 150ms (timed out); retrying."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ts := slowServer(t, tt.handler)
			c := rackspace.NewClient(ts.URL, &http.Client{Timeout: tt.httpTime})
			c.Timeout = tt.timeout
			start := time.Now()
			_, _, err := fetch(context.Background(), c, monitoring.Credentials{Username: "u", APIKey: "k"}, nil)
			if took := time.Since(start); took > 3*time.Second {
				t.Errorf("the fetch took %s: nothing cut it off", took)
			}
			var un *rackspace.UnavailableError
			if !errors.As(err, &un) {
				t.Fatalf("err = %T %v, want unavailable", err, err)
			}
			if un.TimedOut != tt.after || un.Status != tt.status {
				t.Errorf("timed out after %s with status %d, want %s and %d", un.TimedOut, un.Status, tt.after, tt.status)
			}
			if !strings.Contains(err.Error(), "timed out after "+tt.after.String()) || strings.Contains(err.Error(), "context deadline exceeded") {
				t.Errorf("logged as %q", err)
			}
			if got := monitoring.Describe(err); got != tt.words {
				t.Errorf("described as %q, want %q", got, tt.words)
			}
			if monitoring.ErrorKind(err) != monitoring.KindUnavailable {
				t.Errorf("kind %q", monitoring.ErrorKind(err))
			}
		})
	}
}

func TestTheCallersDeadlineIsATimeoutOfTheTimeTheRequestRan(t *testing.T) {
	t.Parallel()
	ts := slowServer(t, func(w http.ResponseWriter, r *http.Request) { stall(r) })
	c := rackspace.NewClient(ts.URL, nil) // 30s of its own
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, _, err := fetch(ctx, c, monitoring.Credentials{Username: "u", APIKey: "k"}, nil)
	var un *rackspace.UnavailableError
	if !errors.As(err, &un) {
		t.Fatalf("err = %T %v, want unavailable", err, err)
	}
	// The login came first, so the overview ran a little less than 300ms.
	if un.TimedOut <= 0 || un.TimedOut > 300*time.Millisecond || !strings.Contains(err.Error(), "timed out after ") {
		t.Errorf("timed out after %s (%v), want at most the caller's 300ms", un.TimedOut, err)
	}
}

func TestARefusedConnectionIsNotATimeoutAndCancellingIsNeither(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, err = rackspace.NewClient("http://"+addr+"/v2.0", nil).Authenticate(context.Background(), monitoring.Credentials{Username: "u", APIKey: "k"})
	var un *rackspace.UnavailableError
	if !errors.As(err, &un) || un.TimedOut != 0 || un.Status != 0 {
		t.Fatalf("err = %#v, want unreachable, not timed out", err)
	}
	if d := monitoring.Describe(err); strings.Contains(d, "timed out") || !strings.Contains(d, "could not be reached") {
		t.Errorf("described as %q", d)
	}

	ts := slowServer(t, func(w http.ResponseWriter, r *http.Request) { stall(r) })
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	_, _, err = fetch(ctx, rackspace.NewClient(ts.URL, nil), monitoring.Credentials{Username: "u", APIKey: "k"}, nil)
	if !errors.Is(err, context.Canceled) || errors.As(err, &un) {
		t.Errorf("err = %T %v, want the caller's cancellation as it is", err, err)
	}
}
