// Package fakerax is a faithful fake of the two Rackspace APIs the dashboard
// uses: Identity v2.0 token issue (POST /v2.0/tokens) and Cloud Monitoring's
// calls under /v1.0/{tenant}/ (monitoring.go lists them): the overview,
// suppressions, alarm changelogs, notification plans and limits, quirks
// included (nullable and missing fields, alarms without a state, states
// whose alarm or check is missing, next_href null while next_marker is set,
// next_marker missing on a last page, both fault shapes, string or numeric
// fault codes, rate-limit headers and a daily request budget).
//
// Everything it serves is deterministic from Config.Seed and the clock.
// Faults are injected per account (SetFault), for every Monitoring route or
// one (Fault.Only), to exercise the client's error handling; admin routes
// under /_fake/ do the same over HTTP.
package fakerax

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// AccountSpec describes one account. Zero Servers or Alarms mean none: an
// account added with AddAccount is taken literally.
type AccountSpec struct {
	Username, APIKey, TenantID string  // empty APIKey/TenantID are derived from the seed and the username
	Servers                    int     // entities in this account
	Alarms                     int     // alarms per entity (each alarm on its own check)
	WarningShare               float64 // share of evaluated alarm states that are WARNING (e.g. 0.05)
	CriticalShare              float64 // share that are CRITICAL (e.g. 0.02)
	// Labels, when set, replace the labels of the first entities (in ID
	// order) and of their alarms, e.g. to serve hostile markup.
	Labels []string
	// RateLimit is the account's Monitoring requests per 24 hours; 0 takes
	// Config.RateLimit.
	RateLimit int
}

// Config shapes the generated scenario.
type Config struct {
	Accounts                    int              // generated accounts "account1".."accountN"; 0 is allowed
	Servers                     int              // entities per generated account (default 10 when 0)
	Alarms                      int              // alarms per entity (default 5 when 0)
	WarningShare, CriticalShare float64          // for generated accounts (defaults 0.05 / 0.02 when both 0)
	Latency                     time.Duration    // added to every Identity and Monitoring request
	Seed                        int64            // everything generated derives from it
	ChangeEvery                 time.Duration    // 0: states never change; otherwise each alarm may change once per period, staggered per alarm
	TokenTTL                    time.Duration    // default 24h
	Now                         func() time.Time // clock; default time.Now
	// IdentityClock is how far Identity's clock is ahead of Now (negative:
	// behind), as its "expires" and Date header show. A token still lives
	// TokenTTL of Now's time: Monitoring asks Identity, so the skew is only
	// in what the client is told.
	IdentityClock time.Duration
	// RateLimit is each account's Monitoring requests per 24 hours (default
	// 50,000, as documented); AccountSpec.RateLimit overrides it.
	RateLimit int
}

// Account is what a client needs to log in.
type Account struct{ Username, APIKey, TenantID string }

// Fault makes one account's requests misbehave. The zero Fault is no fault.
type Fault struct {
	IdentityStatus   int           // identity POST answers this status in the keyed fault shape: 400 badRequest, 401 unauthorized, 403 userDisabled, 413 overLimit, 500 serviceFault, 503 serviceUnavailable
	MonitoringStatus int           // Monitoring answers this status in the Monitoring fault shape: 400 limitReached, 401 unauthorizedError, 403 forbiddenError, 404 notFoundError, 413 requestTooLargeError, 429 rateLimitReached, 500 internalError, 503 systemFailureError
	RetryAfter       time.Duration // on 413/429/400-limitReached: header with whole seconds (rounded up)
	ReplyAfter       bool          // spell that header "Reply-After" (the docs' typo) instead of "Retry-After"; a spent budget then answers 400 limitReached
	Slow             time.Duration // extra delay for this account's requests (cut short when the request context ends)
	NonJSON          bool          // Monitoring answers 200 with an HTML error page body
	Truncated        bool          // Monitoring answers 200 with the JSON cut off halfway
	FailPage         int           // the Nth page (1-based, by position) of an overview, suppressions or notification plans walk answers 500 internalError (not the changelog, whose pages follow time)
	RemainingHeader  bool          // send X-Ratelimit-Remaining instead of X-RateLimit-Used
	// Only narrows the Monitoring failures above (MonitoringStatus with
	// RetryAfter, Slow, NonJSON, Truncated, FailPage) to one kind of route:
	// RouteOverview, RouteSuppressions, RouteChangelogs, RouteLimits,
	// RouteNotificationPlans, RouteMetrics, RoutePlot or RouteOther. Empty: every route, and Slow
	// delays logins too. Identity faults and the spelling quirks
	// (RemainingHeader, ReplyAfter, StringTimestamps, SuppressionIDs) are
	// not narrowed.
	Only string
	// SuppressionIDs fills each overview entity's, check's and alarm's
	// active_suppressions and scheduled_suppressions with the IDs of the
	// suppressions that name it (by default they stay [], as every
	// captured sample shows).
	SuppressionIDs bool
	// StringTimestamps serves changelog timestamps as quoted strings
	// ("1391412327018"), as the docs' sample shows.
	StringTimestamps bool
	// NoMonitoringEndpoint: Identity's catalog for the account lists no
	// Cloud Monitoring service (neither cloudMonitoring nor any rax:monitor
	// entry), so a client must fall back to the documented address.
	NoMonitoringEndpoint bool
}

// Entity is one entity as the overview serves it.
type Entity struct {
	ID, Label    string
	URI, AgentID *string // nil when served null or absent
	Alarms       []Alarm // in served order; orphan states are not alarms
}

// Alarm is one alarm with its latest state as the overview serves it.
type Alarm struct {
	ID         string
	Label      *string // nil when served null or absent
	CheckID    string  // the alarm's check_id (its latest state may report another, see the quirks)
	CheckLabel string
	CheckType  string
	// Disabled: the alarm or its check is disabled (its state is frozen),
	// as a client should count it. CheckDisabled tells the second case,
	// where the alarm's own "disabled" is false or absent.
	Disabled           bool
	CheckDisabled      bool
	NotificationPlanID string    // the alarm's notification_plan_id
	State              string    // "OK", "WARNING", "CRITICAL" or "" when the alarm has not been evaluated yet
	Status             string    // "" when not evaluated or when the state carries no status
	Since              time.Time // the state's timestamp; zero when not evaluated
	// PreviousState is "" when not evaluated or when the state carries no previous_state.
	PreviousState string
}

// Counters counts the requests seen for an account, by kind. Monitoring
// requests count on the account's tenant whether or not they are
// authenticated or answered well.
type Counters struct {
	Identity          int // POST /v2.0/tokens naming the account
	Overview          int // /views/overview
	Suppressions      int // /suppressions and /suppressions/{id}, any method
	Changelogs        int // /changelogs/alarms
	Limits            int // /limits
	NotificationPlans int // /notification_plans and /notification_plans/{id}
	Metrics           int // /entities/{e}/checks/{c}/metrics
	Plot              int // /entities/{e}/checks/{c}/metrics/{metric}/plot
	Other             int // any other path under the tenant
}

type account struct {
	Account
	warn, crit float64
	entities   []*entity // sorted by ID
	byID       map[string]int
	byURI      map[string]int
	counters   Counters
	plans      accountPlans
	// sups are the account's suppressions by ID; supSeq counts those made,
	// to derive the next ID.
	sups   map[string]*suppression
	supSeq uint64
	// added is when the account was added: its changelog starts there.
	// forcedLog logs every SetState that changed something, oldest first; it
	// is only appended to, so a reader may keep a copy of the slice.
	added     time.Time
	forcedLog []forcedEvent
	// The daily request budget (rate.go): its limit, the start of the open
	// window (zero: none open) and the requests counted in it.
	rateLimit int
	rateStart time.Time
	rateUsed  int
	// forced holds states set with SetState, by entity id + "/" + alarm id.
	// It is replaced, never changed, so a page render reads it without the
	// lock; nil when nothing is forced (the common case costs one load).
	forced atomic.Pointer[map[string]alarmState]
}

type token struct {
	username, tenant string
	expires          time.Time
}

// Server is the fake; it implements http.Handler and is safe for concurrent use.
type Server struct {
	cfg       Config
	closed    chan struct{}
	closeOnce sync.Once

	mu       sync.Mutex
	accounts []*account
	byUser   map[string]*account
	byTenant map[string]*account
	faults   map[string]Fault
	tokens   map[string]*token
	logins   uint64
	txns     uint64
}

// New builds a fake with cfg.Accounts generated accounts.
func New(cfg Config) *Server {
	if cfg.Servers == 0 {
		cfg.Servers = 10
	}
	if cfg.Alarms == 0 {
		cfg.Alarms = 5
	}
	if cfg.WarningShare == 0 && cfg.CriticalShare == 0 {
		cfg.WarningShare, cfg.CriticalShare = 0.05, 0.02
	}
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = 24 * time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.RateLimit <= 0 {
		cfg.RateLimit = defaultRateLimit
	}
	s := &Server{
		cfg:      cfg,
		closed:   make(chan struct{}),
		byUser:   map[string]*account{},
		byTenant: map[string]*account{},
		faults:   map[string]Fault{},
		tokens:   map[string]*token{},
	}
	for i := 1; i <= cfg.Accounts; i++ {
		s.AddAccount(AccountSpec{
			Username:      fmt.Sprintf("account%d", i),
			Servers:       cfg.Servers,
			Alarms:        cfg.Alarms,
			WarningShare:  cfg.WarningShare,
			CriticalShare: cfg.CriticalShare,
		})
	}
	return s
}

// Close makes delayed requests (Latency, Slow) proceed at once, now and later.
func (s *Server) Close() { s.closeOnce.Do(func() { close(s.closed) }) }

// IdentityURL is the Identity base URL for a server at base.
func (s *Server) IdentityURL(base string) string { return strings.TrimRight(base, "/") + "/v2.0" }

// AddAccount adds an account and returns its credentials. An empty Username
// gets the next free "accountN"; a Username already present replaces that
// account (its tokens are revoked, its counters and budget reset).
func (s *Server) AddAccount(spec AccountSpec) Account {
	s.mu.Lock()
	defer s.mu.Unlock()
	seed := s.cfg.Seed
	if spec.Username == "" {
		for n := len(s.accounts) + 1; ; n++ {
			if u := fmt.Sprintf("account%d", n); s.byUser[u] == nil {
				spec.Username = u
				break
			}
		}
	}
	if spec.APIKey == "" {
		spec.APIKey = fmt.Sprintf("%016x%016x", hashStrings(seed, "apikey", spec.Username), hashStrings(seed, "apikey2", spec.Username))
	}
	if spec.TenantID == "" {
		for n := 0; ; n++ {
			t := strconv.FormatUint(100000+hashStrings(seed, "tenant", spec.Username, strconv.Itoa(n))%9000000, 10)
			if o := s.byTenant[t]; o == nil || o.Username == spec.Username {
				spec.TenantID = t
				break
			}
		}
	} else if o := s.byTenant[spec.TenantID]; o != nil && o.Username != spec.Username {
		panic(fmt.Sprintf("fakerax: tenant %s already belongs to %s", spec.TenantID, o.Username))
	}
	a := &account{
		Account:   Account{Username: spec.Username, APIKey: spec.APIKey, TenantID: spec.TenantID},
		warn:      spec.WarningShare,
		crit:      spec.CriticalShare,
		byID:      map[string]int{},
		byURI:     map[string]int{},
		rateLimit: spec.RateLimit,
		added:     s.cfg.Now(),
	}
	if a.rateLimit <= 0 {
		a.rateLimit = s.cfg.RateLimit
	}
	a.plans = buildPlans(seed, a.Username)
	a.entities = buildEntities(seed, a.Username, a.TenantID, max(spec.Servers, 0), max(spec.Alarms, 0), spec.Labels, a.plans)
	for i, e := range a.entities {
		a.byID[e.id] = i
		if e.uri != nil {
			a.byURI[*e.uri] = i
		}
	}
	if old := s.byUser[a.Username]; old != nil {
		for i := range s.accounts {
			if s.accounts[i] == old {
				s.accounts[i] = a
			}
		}
		delete(s.byTenant, old.TenantID)
		s.revokeLocked(a.Username)
	} else {
		s.accounts = append(s.accounts, a)
	}
	s.byUser[a.Username] = a
	s.byTenant[a.TenantID] = a
	return a.Account
}

// Accounts lists the accounts in creation order.
func (s *Server) Accounts() []Account {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Account, len(s.accounts))
	for i, a := range s.accounts {
		out[i] = a.Account
	}
	return out
}

// SetFault makes the named account's requests misbehave until ClearFault. The
// account need not exist: Identity faults then apply to logins naming it.
func (s *Server) SetFault(username string, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[username] = f
}

// ClearFault removes the account's fault.
func (s *Server) ClearFault(username string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.faults, username)
}

// RevokeTokens invalidates every token issued so far for the account; a fresh
// login works.
func (s *Server) RevokeTokens(username string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revokeLocked(username)
}

func (s *Server) revokeLocked(username string) {
	for id, t := range s.tokens {
		if t.username == username {
			delete(s.tokens, id)
		}
	}
}

// Counters reports the requests seen for the account.
func (s *Server) Counters(username string) Counters {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.byUser[username]; a != nil {
		return a.counters
	}
	return Counters{}
}

// Entities is the account's model as the overview would serve it now, sorted
// by ID. It is nil for an unknown account.
func (s *Server) Entities(username string) []Entity {
	s.mu.Lock()
	a := s.byUser[username]
	s.mu.Unlock()
	if a == nil {
		return nil
	}
	now := s.cfg.Now()
	out := make([]Entity, 0, len(a.entities))
	for _, e := range a.entities {
		ent := Entity{ID: e.id, Label: e.label, URI: clonePtr(e.uri), AgentID: clonePtr(e.agentID), Alarms: make([]Alarm, 0, len(e.alarms))}
		for j := range e.alarms {
			al := &e.alarms[j]
			c := e.checks[al.check]
			x := Alarm{ID: al.id, Label: clonePtr(al.label), CheckID: c.id, CheckLabel: c.label, CheckType: c.kind.typ,
				Disabled: al.frozen(), CheckDisabled: al.checkDisabled, NotificationPlanID: al.plan}
			if !al.unevaluated {
				st := s.stateOf(a, e, al, now)
				x.State = st.state
				x.Since = time.UnixMilli(st.timestamp).UTC()
				if !al.bare {
					x.Status, x.PreviousState = st.status, st.previous
				}
			}
			ent.Alarms = append(ent.Alarms, x)
		}
		out = append(out, ent)
	}
	return out
}

func (s *Server) stateOf(a *account, e *entity, al *alarm, now time.Time) alarmState {
	if f := a.forced.Load(); f != nil {
		if st, ok := (*f)[e.id+"/"+al.id]; ok {
			return st
		}
	}
	return stateOf(al, now, s.cfg.ChangeEvery, a.warn, a.crit)
}

// SetState forces an alarm's latest state ("OK", "WARNING" or "CRITICAL")
// from now on, as if it had just changed: its timestamp is now, its
// previous state what it was. An empty alarmID means the entity's first
// alarm; an empty state lets the alarm follow its generated states again.
// The changelog records both, at the fake's clock.
// It fails for an unknown account, entity or alarm, an orphan or
// unevaluated alarm, or another state word.
func (s *Server) SetState(username, entityID, alarmID, state string) error {
	switch state {
	case "", "OK", "WARNING", "CRITICAL":
	default:
		return fmt.Errorf("fakerax: state %q is not OK, WARNING or CRITICAL", state)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.byUser[username]
	if a == nil {
		return fmt.Errorf("fakerax: no account %q", username)
	}
	i, ok := a.byID[entityID]
	if !ok {
		return fmt.Errorf("fakerax: account %q has no entity %q", username, entityID)
	}
	e := a.entities[i]
	var al *alarm
	for j := range e.alarms {
		if alarmID == "" || e.alarms[j].id == alarmID {
			al = &e.alarms[j]
			break
		}
	}
	if al == nil || al.unevaluated {
		return fmt.Errorf("fakerax: entity %q has no evaluated alarm %q", entityID, alarmID)
	}
	now := s.cfg.Now()
	key := e.id + "/" + al.id
	cur := s.stateOf(a, e, al, now)
	next := map[string]alarmState{}
	if old := a.forced.Load(); old != nil {
		maps.Copy(next, *old)
	}
	// Each change is logged for the changelog, at the fake's clock.
	ev := forcedEvent{al: al, at: now.UnixMilli(), seq: len(a.forcedLog)}
	switch _, wasForced := next[key]; {
	case state == "" && wasForced:
		delete(next, key)
		ev.clear = true
		if g := stateOf(al, now, s.cfg.ChangeEvery, a.warn, a.crit); g.state != cur.state {
			ev.entry = &alarmState{state: g.state, previous: cur.state, status: g.status, timestamp: ev.at, zone: g.zone}
		}
		a.forcedLog = append(a.forcedLog, ev)
	case state != "" && state != cur.state:
		st := alarmState{state: state, previous: cur.state, timestamp: now.UnixMilli(), zone: cur.zone}
		st.status = al.kind.status(state, 0.5)
		next[key] = st
		ev.entry = &st
		a.forcedLog = append(a.forcedLog, ev)
	}
	if len(next) == 0 {
		a.forced.Store(nil)
	} else {
		a.forced.Store(&next)
	}
	return nil
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// sleep waits d unless the request ends first (false) or the server closes.
func (s *Server) sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.closed:
		return ctx.Err() == nil
	case <-ctx.Done():
		return false
	}
}

// ServeHTTP routes Identity (/v2.0/…), Monitoring (/v1.0/{tenant}/…), the
// second rax:monitor service (/control/…, 404 to everything) and the admin
// routes (/_fake/…, not delayed by Latency).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	if strings.HasPrefix(p, "/_fake/") {
		s.serveAdmin(w, r)
		return
	}
	if s.cfg.Latency <= 0 {
		s.route(w, r)
		return
	}
	// Latency is how long an answer takes, its making included: the
	// answer is made at once and held until then, as a remote service's
	// work happens on its own machines, not while the client waits on its
	// own CPU.
	start := time.Now()
	held := &heldResponse{header: http.Header{}}
	s.route(held, r)
	if !s.sleep(r.Context(), s.cfg.Latency-time.Since(start)) {
		return
	}
	maps.Copy(w.Header(), held.header)
	w.WriteHeader(cmp.Or(held.code, http.StatusOK))
	_, _ = w.Write(held.body.Bytes())
}

// heldResponse is an answer made but not yet sent (see Latency).
type heldResponse struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (h *heldResponse) Header() http.Header { return h.header }

func (h *heldResponse) WriteHeader(code int) {
	if h.code == 0 {
		h.code = code
	}
}

func (h *heldResponse) Write(p []byte) (int, error) {
	h.WriteHeader(http.StatusOK)
	return h.body.Write(p)
}

// route answers an Identity or Monitoring request.
func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case p == "/v2.0" || strings.HasPrefix(p, "/v2.0/"):
		s.serveIdentity(w, r)
	case strings.HasPrefix(p, "/v1.0/"):
		s.serveMonitoring(w, r)
	case strings.HasPrefix(p, "/control/"):
		s.writeMonitoringFault(w, http.StatusNotFound, "notFoundError", 404, "Resource not found", "The requested resource could not be found")
	default:
		http.NotFound(w, r)
	}
}

func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
