// Package rackspace speaks the two Rackspace APIs the dashboard polls:
// Identity v2.0 (log in with an API key, pick the Monitoring endpoint from
// the catalog) and Cloud Monitoring v1.0 (walk GET /views/overview; read
// suppressions, alarm changelogs, limits and notification plans, see
// ReadExtras). It reduces what it reads to monitoring types and reports failures as
// typed errors that describe themselves; nothing outside this package needs
// to know the wire format.
package rackspace

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"cmdash/monitoring"
)

// DefaultIdentityURL is Rackspace's one global Identity v2.0 endpoint.
const DefaultIdentityURL = "https://identity.api.rackspacecloud.com/v2.0"

// DefaultMonitoringURL is the documented Monitoring base, used when the
// service catalog has no monitoring entry.
const DefaultMonitoringURL = "https://monitoring.api.rackspacecloud.com/v1.0/"

const (
	// PageLimit is the page size asked of the overview: the documented maximum.
	PageLimit = 1000
	// MaxPages stops a walk that would never end (1000 pages of 1000 entities
	// is far beyond any account).
	MaxPages = 1000
	// defaultMaxBody caps one response body.
	defaultMaxBody = 64 << 20
	// defaultTimeout bounds one request when the caller's context has no
	// deadline of its own.
	defaultTimeout = 30 * time.Second
	// refreshMargin: a cached token is renewed this long before it expires.
	refreshMargin = 10 * time.Minute
	// minTokenReuse: a token is used this long at least, however short its
	// lifetime looks. A lifetime that short is a clock or Identity fault a
	// login per poll would not cure; a 401 from Monitoring still makes a
	// fresh login at once.
	minTokenReuse = time.Minute
)

// fresh reports whether a cached token can still be used at now.
func fresh(t *monitoring.Token, now time.Time) bool {
	if t == nil || t.ID == "" || t.Endpoint == "" {
		return false
	}
	if !t.RenewAt.IsZero() {
		return now.Before(t.RenewAt)
	}
	return now.Add(refreshMargin).Before(t.Expires)
}

// setExpiry places a token Identity issued on this machine's clock. Its
// lifetime is "expires" minus Identity's own time (the answer's Date
// header; without one, our clock stands in), so a clock hours off on
// either side changes nothing. It is renewed refreshMargin before it
// expires (Identity hands out a new token in the last hour), or, when it
// lives less than twice that, half way through its life: never at every
// poll.
func setExpiry(tok *monitoring.Token, identityExpires time.Time, date string, now time.Time) {
	identityNow := now
	if d, err := http.ParseTime(date); err == nil {
		identityNow = d
	}
	life := identityExpires.Sub(identityNow)
	tok.Expires = now.Add(life)
	tok.RenewAt = now.Add(max(life-refreshMargin, life/2, minTokenReuse))
}

// Client talks to Rackspace Identity v2.0 and Cloud Monitoring. It holds no
// per-account state: callers pass the cached token in and store what comes back.
type Client struct {
	identityURL string
	http        *http.Client
	// MaxBody caps every response body, in bytes.
	MaxBody int64
	// Timeout bounds each request.
	Timeout time.Duration
	// Now is the clock (for token freshness).
	Now func() time.Time
	// MonitoringFallback is the Monitoring base, up to the tenant ID, used
	// when Identity's catalog lists no monitoring endpoint
	// (DefaultMonitoringURL unless changed).
	MonitoringFallback string
}

// NewClient returns a client for the given Identity base URL (empty means
// the global endpoint) using hc for every request.
func NewClient(identityURL string, hc *http.Client) *Client {
	if identityURL == "" {
		identityURL = DefaultIdentityURL
	}
	if hc == nil {
		hc = &http.Client{Timeout: defaultTimeout}
	}
	return &Client{
		identityURL: strings.TrimRight(identityURL, "/"),
		http:        hc,
		MaxBody:     defaultMaxBody,
		Timeout:     defaultTimeout,
		Now:         time.Now,

		MonitoringFallback: DefaultMonitoringURL,
	}
}

type authRequest struct {
	Auth struct {
		APIKey struct {
			Username string `json:"username"`
			APIKey   string `json:"apiKey"`
		} `json:"RAX-KSKEY:apiKeyCredentials"`
	} `json:"auth"`
}

type authResponse struct {
	Access struct {
		Token struct {
			ID      string `json:"id"`
			Expires string `json:"expires"`
			Tenant  struct {
				ID string `json:"id"`
			} `json:"tenant"`
		} `json:"token"`
		ServiceCatalog []struct {
			Name      string `json:"name"`
			Type      string `json:"type"`
			Endpoints []struct {
				PublicURL string `json:"publicURL"`
				TenantID  string `json:"tenantId"`
			} `json:"endpoints"`
		} `json:"serviceCatalog"`
	} `json:"access"`
}

// Authenticate logs in with an API key and returns the token, tenant and
// Monitoring endpoint.
func (c *Client) Authenticate(ctx context.Context, cr monitoring.Credentials) (monitoring.Token, error) {
	var body authRequest
	body.Auth.APIKey.Username = cr.Username
	body.Auth.APIKey.APIKey = cr.APIKey
	buf, err := json.Marshal(body)
	if err != nil {
		return monitoring.Token{}, fmt.Errorf("encode auth request: %w", err)
	}
	ctx, cancel := c.bound(ctx)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.identityURL+"/tokens", bytes.NewReader(buf))
	if err != nil {
		return monitoring.Token{}, fmt.Errorf("build auth request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	data, resp, err := c.do(req)
	if err != nil {
		return monitoring.Token{}, err
	}
	if resp.StatusCode != http.StatusOK {
		return monitoring.Token{}, statusError(resp, data)
	}
	var ar authResponse
	if err := json.Unmarshal(data, &ar); err != nil {
		return monitoring.Token{}, &BadResponseError{Reason: "identity: " + describeJSONError(err), Err: err}
	}
	tok := monitoring.Token{ID: ar.Access.Token.ID, TenantID: ar.Access.Token.Tenant.ID}
	if tok.ID == "" {
		return monitoring.Token{}, &BadResponseError{Reason: "identity: no token in response"}
	}
	expires, err := time.Parse(time.RFC3339Nano, ar.Access.Token.Expires)
	if err != nil {
		return monitoring.Token{}, &BadResponseError{Reason: "identity: unreadable token expiry", Err: err}
	}
	setExpiry(&tok, expires, resp.Header.Get("Date"), c.Now())
	tok.Endpoint = pickMonitoringEndpoint(&ar)
	if tok.Endpoint == "" && tok.TenantID != "" {
		tok.Endpoint = strings.TrimRight(c.MonitoringFallback, "/") + "/" + url.PathEscape(tok.TenantID)
		tok.FallbackEndpoint = true
	}
	if tok.Endpoint == "" {
		return monitoring.Token{}, &BadResponseError{Reason: "identity: no tenant and no monitoring endpoint"}
	}
	return tok, nil
}

// pickMonitoringEndpoint: the catalog entry named cloudMonitoring; else the
// first of type rax:monitor; else "" (the caller falls back to the
// documented address with the tenant ID).
func pickMonitoringEndpoint(ar *authResponse) string {
	cat := ar.Access.ServiceCatalog
	first := func(match func(name, typ string) bool) string {
		for _, s := range cat {
			if match(s.Name, s.Type) {
				for _, e := range s.Endpoints {
					if e.PublicURL != "" {
						return strings.TrimRight(e.PublicURL, "/")
					}
				}
			}
		}
		return ""
	}
	if u := first(func(n, _ string) bool { return n == "cloudMonitoring" }); u != "" {
		return u
	}
	hasNamed := false
	for _, s := range cat {
		if s.Name == "cloudMonitoring" {
			hasNamed = true
		}
	}
	if !hasNamed {
		return first(func(_, t string) bool { return t == "rax:monitor" })
	}
	return ""
}

// FetchInto reads every page of GET /views/overview for one account and
// hands its servers to sink a page at a time, as each page is read whole
// (poller.Fetcher); nothing else keeps them. It reuses cached when
// fresh and logs in otherwise; a 401 from Monitoring makes it log in once
// more and retry that page once, never more. On failure the result still
// carries the token, and sink has had the pages read so far.
func (c *Client) FetchInto(ctx context.Context, cr monitoring.Credentials, cached *monitoring.Token, sink monitoring.PageSink) (monitoring.FetchResult, error) {
	var res monitoring.FetchResult
	if fresh(cached, c.Now()) {
		res.Token = *cached
	} else {
		tok, err := c.Authenticate(ctx, cr)
		if err != nil {
			return res, err
		}
		res.Token, res.LoggedIn = tok, 1
	}

	red := Reducer{Sink: sink}
	reauthed := false
	var marker string
	seen := map[string]bool{}
	for {
		if res.Pages >= MaxPages {
			return res, &BadResponseError{Reason: fmt.Sprintf("more than %d overview pages", MaxPages)}
		}
		meta, rl, answered, err := c.overviewPage(ctx, &red, res.Token, marker)
		var auth *AuthError
		if errors.As(err, &auth) && !reauthed {
			reauthed = true
			tok, lerr := c.Authenticate(ctx, cr)
			if lerr != nil {
				return res, lerr
			}
			res.Token, res.Answered = tok, false
			res.LoggedIn++
			meta, rl, answered, err = c.overviewPage(ctx, &red, res.Token, marker)
		}
		if answered && !errors.As(err, &auth) {
			res.Answered = true
		}
		if err != nil {
			if !answered && ctx.Err() == nil {
				res.Unreached = true
				if res.Token.FallbackEndpoint {
					err = &NoMonitoringEndpointError{URL: res.Token.Endpoint, Err: err}
				}
			}
			return res, err
		}
		res.Pages++
		res.RateLimit = rl
		next := deref(meta.NextMarker)
		if next == "" {
			return res, nil
		}
		if seen[next] || next == marker {
			return res, &BadResponseError{Reason: "overview paging repeats marker " + strconv.Quote(next)}
		}
		seen[next] = true
		marker = next
	}
}

// overviewPage reads one page into red, decoding the body as it arrives.
// answered says whether the endpoint sent an HTTP answer at all.
func (c *Client) overviewPage(ctx context.Context, red *Reducer, tok monitoring.Token, marker string) (_ PageMetadata, _ monitoring.RateLimit, answered bool, _ error) {
	q := url.Values{"limit": {strconv.Itoa(PageLimit)}}
	if marker != "" {
		q.Set("marker", marker)
	}
	ctx, cancel := c.bound(ctx)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, tok.Endpoint+"/views/overview?"+q.Encode(), nil)
	if err != nil {
		return PageMetadata{}, monitoring.RateLimit{}, false, &BadResponseError{Reason: "unusable monitoring endpoint", Err: err}
	}
	req.Header.Set("X-Auth-Token", tok.ID)
	req.Header.Set("Accept", "application/json")
	resp, err := c.send(req)
	if err != nil {
		return PageMetadata{}, monitoring.RateLimit{}, false, err
	}
	defer resp.Body.Close()
	rl := ParseRateLimit(resp.Header)
	if resp.StatusCode != http.StatusOK {
		data, err := c.readBody(resp)
		if err != nil {
			return PageMetadata{}, rl, true, err
		}
		return PageMetadata{}, rl, true, statusError(resp, data)
	}
	body := c.capBody(resp)
	meta, err := red.Page(body)
	if err == nil {
		// Read what follows the JSON (usually a newline) so an oversized
		// or broken body is still noticed and the connection can be reused.
		_, _ = io.Copy(io.Discard, body)
	}
	if berr := body.failure(); berr != nil {
		return PageMetadata{}, rl, true, berr
	}
	if err != nil {
		return PageMetadata{}, rl, true, err
	}
	return meta, rl, true, nil
}

// requestTimeout is what a request's own deadline records as the cause
// when it passes, so the error can say how long the request was given.
type requestTimeout struct{ after time.Duration }

func (e *requestTimeout) Error() string { return "timed out after " + roundWait(e.after).String() }

// sentAtKey keys the time a request was started in its context.
type sentAtKey struct{}

// bound bounds one request (and the reading of its answer) by c.Timeout,
// and notes when it started.
func (c *Client) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx = context.WithValue(ctx, sentAtKey{}, time.Now())
	return context.WithTimeoutCause(ctx, c.Timeout, &requestTimeout{after: c.Timeout})
}

// send sends req; the caller closes the body.
func (c *Client) send(req *http.Request) (*http.Response, error) {
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, c.noAnswer(req.Context(), 0, scrubURLError(err))
	}
	return resp, nil
}

// noAnswer words a request that got no answer (status 0), or whose answer
// broke off after its status line: the caller's own cancellation as it is
// (not the upstream's fault); a deadline as a timeout saying how long the
// request was given (c.Timeout, the http.Client's Timeout, or the time it
// ran when the caller's deadline cut it off); anything else (refused,
// reset, no such host) as unreachable.
func (c *Client) noAnswer(ctx context.Context, status int, err error) error {
	var own *requestTimeout
	switch {
	case errors.As(context.Cause(ctx), &own):
		return &UnavailableError{Status: status, TimedOut: own.after, Err: err}
	case errors.Is(ctx.Err(), context.Canceled):
		return ctx.Err()
	case errors.Is(ctx.Err(), context.DeadlineExceeded) || isTimeout(err):
		return &UnavailableError{Status: status, TimedOut: c.ran(ctx), Err: err}
	}
	return &UnavailableError{Status: status, Err: err}
}

// ran is how long the request of ctx was given before a deadline other
// than its own cut it off: the http.Client's Timeout once that has
// passed; else up to the caller's deadline when that passed; else
// (another timeout of the transport) the time since it started.
func (c *Client) ran(ctx context.Context) time.Duration {
	start, ok := ctx.Value(sentAtKey{}).(time.Time)
	if !ok {
		return c.Timeout
	}
	d := time.Since(start)
	if deadline, ok := ctx.Deadline(); ok && ctx.Err() != nil {
		d = deadline.Sub(start)
	}
	// The http.Client puts its Timeout on the request's context as a
	// deadline from when it sent it, a little after start: a wait that
	// long or longer is its Timeout.
	if hc := c.http.Timeout; hc > 0 && d >= hc {
		return hc
	}
	return max(roundWait(d), time.Millisecond)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// roundWait rounds a duration for reading: whole seconds from 10s, tenths
// of a second from 1s, milliseconds below.
func roundWait(d time.Duration) time.Duration {
	switch {
	case d >= 10*time.Second:
		return d.Round(time.Second)
	case d >= time.Second:
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Millisecond)
}

// do sends req and reads the whole answer, at most MaxBody bytes: for the
// small bodies of Identity and of faults.
func (c *Client) do(req *http.Request) ([]byte, *http.Response, error) {
	resp, err := c.send(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	data, err := c.readBody(resp)
	return data, resp, err
}

func (c *Client) readBody(resp *http.Response) ([]byte, error) {
	body := c.capBody(resp)
	data, _ := io.ReadAll(body)
	if err := body.failure(); err != nil {
		return nil, err
	}
	return data, nil
}

// cappedBody reads a response body up to a cap and remembers why it stopped.
type cappedBody struct {
	r      io.Reader // the body, limited to max+1 bytes
	max    int64
	n      int64
	status int
	err    error // a read error other than EOF
	c      *Client
	ctx    context.Context // the request's
}

func (c *Client) capBody(resp *http.Response) *cappedBody {
	ctx := context.Background()
	if resp.Request != nil {
		ctx = resp.Request.Context()
	}
	return &cappedBody{r: io.LimitReader(resp.Body, c.MaxBody+1), max: c.MaxBody, status: resp.StatusCode, c: c, ctx: ctx}
}

var errBodyTooLarge = errors.New("body too large")

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	n, err := b.r.Read(p)
	b.n += int64(n)
	switch {
	case b.n > b.max:
		b.err = errBodyTooLarge
		return n, b.err
	case err != nil && err != io.EOF:
		b.err = err
	}
	return n, err
}

// failure is the error the body's reading itself ran into: the connection
// broke or a deadline passed (unavailable, see noAnswer) or the body passed
// the cap (a bad response); nil when the body read cleanly so far.
func (b *cappedBody) failure() error {
	switch {
	case b.err == nil:
		return nil
	case errors.Is(b.err, errBodyTooLarge):
		return &BadResponseError{Reason: fmt.Sprintf("body larger than %d bytes", b.max)}
	}
	return b.c.noAnswer(b.ctx, b.status, fmt.Errorf("reading body: %w", scrubURLError(b.err)))
}

// scrubURLError drops the request URL from a transport error; it is long and
// adds nothing a person can act on.
func scrubURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// statusError turns a non-200 answer into one of the typed errors.
func statusError(resp *http.Response, body []byte) error {
	f := parseFault(body)
	msg := f.Message
	if msg == "" {
		msg = http.StatusText(resp.StatusCode)
	}
	st := resp.StatusCode
	throttled := st == http.StatusRequestEntityTooLarge || st == http.StatusTooManyRequests ||
		(st == http.StatusBadRequest && (f.Type == "limitReached" || f.Type == "rateLimitReached"))
	switch {
	case throttled:
		return &ThrottledError{Status: st, Type: f.Type, Message: msg, Wait: retryAfter(resp.Header)}
	case st == http.StatusUnauthorized:
		return &AuthError{Status: st, Message: msg}
	case st == http.StatusForbidden:
		return &ForbiddenError{Status: st, Type: f.Type, Message: msg}
	case st >= 500:
		return &UnavailableError{Status: st, Err: errors.New(msg)}
	}
	return &APIError{Status: st, Type: f.Type, Message: msg, Details: f.Details}
}

// retryAfter reads Retry-After (or the documented misspelling Reply-After)
// as seconds, or as an HTTP date.
func retryAfter(h http.Header) time.Duration {
	for _, name := range []string{"Retry-After", "Reply-After"} {
		v := strings.TrimSpace(header(h, name))
		if v == "" {
			continue
		}
		if n, err := strconv.Atoi(v); err == nil && n >= 0 {
			return time.Duration(min(n, 86400)) * time.Second // a day at most: no overflow
		}
		if t, err := http.ParseTime(v); err == nil {
			if d := time.Until(t); d > 0 {
				return d
			}
		}
	}
	return 0
}

// header is h's first value for name, whatever the case of the key: the
// documentation spells X-RateLimit-*, the real service X-Ratelimit-*, and
// an http.Header filled by hand need not be canonical.
func header(h http.Header, name string) string {
	if v := h.Get(name); v != "" {
		return v
	}
	for k, vs := range h {
		if len(vs) > 0 && strings.EqualFold(k, name) {
			return vs[0]
		}
	}
	return ""
}

// ParseRateLimit reads X-RateLimit-Limit with -Used, -Remaining or both
// (the documentation names -Used, real answers carry -Remaining), and
// -Window, in any case. Without the limit and one of the others it is
// not Known.
func ParseRateLimit(h http.Header) monitoring.RateLimit {
	var rl monitoring.RateLimit
	atoi := func(name string) (int, bool) {
		n, err := strconv.Atoi(strings.TrimSpace(header(h, name)))
		return n, err == nil && n >= 0
	}
	limit, okL := atoi("X-RateLimit-Limit")
	used, okU := atoi("X-RateLimit-Used")
	rem, okR := atoi("X-RateLimit-Remaining")
	if !okL || (!okU && !okR) {
		return rl
	}
	rl.Known, rl.Limit, rl.Window = true, limit, strings.TrimSpace(header(h, "X-RateLimit-Window"))
	switch {
	case okU && okR:
		rl.Used, rl.Remaining = used, rem
	case okU:
		rl.Used, rl.Remaining = used, max(limit-used, 0)
	default:
		rl.Remaining, rl.Used = rem, max(limit-rem, 0)
	}
	return rl
}
