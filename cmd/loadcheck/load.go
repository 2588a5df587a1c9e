package main

// Load generation and HTTP plumbing: nothing here knows the dashboard's
// internals, only URLs and headers.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// newClient returns a client keeping up to conns connections to a host
// alive, so the measurement is not of its own connection churn, and
// leaving gzip bodies as they came (the request asks for gzip itself).
// It never follows redirects: a redirect is a result to report.
func newClient(conns int) *http.Client {
	return newClientDialing(conns, (&net.Dialer{Timeout: 5 * time.Second}).DialContext)
}

func newClientDialing(conns int, dial func(ctx context.Context, network, addr string) (net.Conn, error)) *http.Client {
	tr := &http.Transport{
		Proxy:               nil, // loopback: never through a proxy
		DialContext:         dial,
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		MaxConnsPerHost:     conns,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
	}
	return &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// refreshHeader is what the wall's grid refresh sends; a non-empty etag
// makes it conditional.
func refreshHeader(etag string) http.Header {
	h := http.Header{}
	h.Set("HX-Request", "true")
	h.Set("Accept-Encoding", "gzip")
	if etag != "" {
		h.Set("If-None-Match", etag)
	}
	return h
}

// response is one response read in full.
type response struct {
	status int
	header http.Header
	body   []byte // as sent: still gzipped when Content-Encoding says so
}

func get(ctx context.Context, c *http.Client, url string, h http.Header) (*response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header = h.Clone()
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: body}, nil
}

// do sends one request and reads the body to the end; the status is 0 on a
// transport error.
func do(ctx context.Context, c *http.Client, url string, h http.Header) int {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0
	}
	req.Header = h.Clone()
	resp, err := c.Do(req)
	if err != nil {
		return 0
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		return 0
	}
	return resp.StatusCode
}

// statuses counts responses by status code; 0 counts transport errors.
type statuses map[int]int

func (s statuses) add(o statuses) {
	for k, v := range o {
		s[k] += v
	}
}

// other counts everything but the wanted codes.
func (s statuses) other(want ...int) int {
	n := 0
	for k, v := range s {
		if !slices.Contains(want, k) {
			n += v
		}
	}
	return n
}

func (s statuses) String() string {
	codes := make([]int, 0, len(s))
	for k := range s {
		codes = append(codes, k)
	}
	slices.Sort(codes)
	var b bytes.Buffer
	for i, k := range codes {
		if i > 0 {
			b.WriteString(", ")
		}
		if k == 0 {
			fmt.Fprintf(&b, "%d transport errors", s[k])
		} else {
			fmt.Fprintf(&b, "%d× %d", s[k], k)
		}
	}
	return b.String()
}

// closedLoop runs workers that each send the next request as soon as the
// previous answer is read, for d, and returns completed requests per second.
func closedLoop(ctx context.Context, c *http.Client, workers int, d time.Duration, url string, h http.Header) (float64, statuses) {
	// Requests still running well after d are cut off, so a round always ends.
	ctx, cancel := context.WithTimeout(ctx, d+5*time.Second)
	defer cancel()
	start := time.Now()
	end := start.Add(d)
	var mu sync.Mutex
	total := statuses{}
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			mine := statuses{}
			for time.Now().Before(end) && ctx.Err() == nil {
				mine[do(ctx, c, url, h)]++
			}
			mu.Lock()
			total.add(mine)
			mu.Unlock()
		})
	}
	wg.Wait()
	n := 0
	for k, v := range total {
		if k != 0 {
			n += v
		}
	}
	return float64(n) / time.Since(start).Seconds(), total
}

// countingConn counts the bytes that cross a connection.
type countingConn struct {
	net.Conn
	read, written *atomic.Int64
}

func (c countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.read.Add(int64(n))
	return n, err
}

func (c countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.written.Add(int64(n))
	return n, err
}

// wire is one exchange as counted on the TCP connection.
type wire struct {
	status        int
	etag          string
	read, written int64 // response bytes (status line, headers, body) and request bytes
}

// wireBytes sends one request on a fresh connection and counts the bytes the
// server writes for it, as read from the socket.
func wireBytes(ctx context.Context, url string, h http.Header) (wire, error) {
	var read, written atomic.Int64
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	c := newClientDialing(1, func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dialer.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return countingConn{Conn: conn, read: &read, written: &written}, nil
	})
	defer c.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	resp, err := get(ctx, c, url, h)
	if err != nil {
		return wire{}, err
	}
	return wire{status: resp.status, etag: resp.header.Get("ETag"), read: read.Load(), written: written.Load()}, nil
}

// openResult is what an open-loop run saw.
type openResult struct {
	sent                          int
	sendRate, achieved            float64 // started and answered (200/304) per second
	p50, p90, p99, max            time.Duration
	codes                         statuses
	conditional, etagRefreshFails int
}

// openLoop starts rate requests per second for d on a fixed schedule,
// whether or not earlier ones have been answered, and measures each one's
// latency from its scheduled start, so a stalled server shows as latency
// instead of as fewer requests. A share conditional of them carry the
// current ETag, which refresh fetches anew every second.
func openLoop(ctx context.Context, c *http.Client, url string, rate int, d time.Duration, conditional float64, refresh func(context.Context) (string, error)) openResult {
	interval := time.Second / time.Duration(rate)
	n := int(d / interval)
	// Requests still running 2 s after the schedule ends are cut off (and
	// counted as errors), so the run always ends.
	ctx, cancel := context.WithTimeout(ctx, d+2*time.Second)
	defer cancel()

	var etag atomic.Pointer[string]
	res := openResult{sent: n, codes: statuses{}}
	if tag, err := refresh(ctx); err == nil {
		etag.Store(&tag)
	}
	stopRefresh := make(chan struct{})
	refreshDone := make(chan int)
	go func() {
		fails := 0
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-stopRefresh:
				refreshDone <- fails
				return
			case <-t.C:
				if tag, err := refresh(ctx); err == nil {
					etag.Store(&tag)
				} else {
					fails++
				}
			}
		}
	}()

	lat := make([]time.Duration, n)
	codes := make([]int, n)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		at := start.Add(time.Duration(i) * interval)
		if wait := time.Until(at); wait > 0 {
			time.Sleep(wait) // oversleeping only makes the next ones start at once
		}
		tag := ""
		// Spread the conditional share evenly over the schedule.
		if p := etag.Load(); p != nil && *p != "" && int(float64(i+1)*conditional) > int(float64(i)*conditional) {
			tag = *p
			res.conditional++
		}
		wg.Go(func() {
			codes[i] = do(ctx, c, url, refreshHeader(tag))
			lat[i] = time.Since(at)
		})
	}
	res.sendRate = float64(n) / time.Since(start).Seconds()
	wg.Wait()
	elapsed := time.Since(start)
	close(stopRefresh)
	res.etagRefreshFails = <-refreshDone

	answered := 0
	for _, code := range codes {
		res.codes[code]++
		if code == http.StatusOK || code == http.StatusNotModified {
			answered++
		}
	}
	res.achieved = float64(answered) / elapsed.Seconds()
	slices.Sort(lat)
	res.p50, res.p90, res.p99 = percentile(lat, 0.50), percentile(lat, 0.90), percentile(lat, 0.99)
	if n > 0 {
		res.max = lat[n-1]
	}
	return res
}

// percentile is the nearest-rank percentile of sorted durations.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// staticHandler answers every request with ref's body from memory through
// http.ServeContent, with ref's Content-Type, Content-Encoding and ETag, so
// it answers If-None-Match with 304 as a static file server would.
func staticHandler(ref *response) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, k := range []string{"Content-Type", "Content-Encoding", "ETag"} {
			if v := ref.header.Get(k); v != "" {
				w.Header().Set(k, v)
			}
		}
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(ref.body))
	})
}

// serveLoopback serves h on 127.0.0.1 at a free port.
func serveLoopback(h http.Handler) (baseURL string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Printf("loopback server: %v\n", err)
		}
	}()
	return "http://" + ln.Addr().String(), func() { srv.Close(); <-done }, nil
}
