package fakerax

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Cloud Monitoring's front door: every request under /v1.0/{tenant}/ is
// counted by kind, slowed or broken by the account's fault (Fault.Only picks
// one kind), authenticated, charged to the account's daily budget and
// answered with the rate-limit headers, then handed to its route:
//
//	GET                 /views/overview            overview.go
//	GET, POST           /suppressions              suppressions.go
//	GET, PUT, DELETE    /suppressions/{id}
//	GET                 /changelogs/alarms         changelog.go
//	GET                 /limits                    rate.go
//	GET                 /notification_plans        plans.go
//	GET                 /notification_plans/{id}
//	GET                 /entities/{e}/checks/{c}/metrics                metrics.go
//	GET                 /entities/{e}/checks/{c}/metrics/{m}/plot
//
// Anything else is a 404 notFoundError of kind "other".

// Route kinds, as Counters counts them and Fault.Only names them.
const (
	RouteOverview          = "overview"
	RouteSuppressions      = "suppressions"
	RouteChangelogs        = "changelogs"
	RouteLimits            = "limits"
	RouteNotificationPlans = "notification_plans"
	RouteMetrics           = "metrics" // a check's metric list
	RoutePlot              = "plot"    // a metric's data points
	RouteOther             = "other"
)

// routeKinds lists the kinds Fault.Only accepts.
var routeKinds = []string{RouteOverview, RouteSuppressions, RouteChangelogs, RouteLimits, RouteNotificationPlans, RouteMetrics, RoutePlot, RouteOther}

const (
	defaultLimit    = 100
	maxLimit        = 1000
	maxFilterValues = 100
)

// monReq is one authenticated Monitoring request on its way to its route.
type monReq struct {
	a    *account
	f    Fault // already narrowed to this route (Fault.forRoute)
	used int   // the budget spent, this request included
	now  time.Time
	sub  string // the path after the tenant, without a trailing slash
}

// routeOf names the kind of the path after the tenant.
func routeOf(sub string) string {
	switch {
	case sub == "views/overview":
		return RouteOverview
	case sub == "suppressions" || strings.HasPrefix(sub, "suppressions/"):
		return RouteSuppressions
	case sub == "changelogs/alarms":
		return RouteChangelogs
	case sub == "limits":
		return RouteLimits
	case sub == "notification_plans" || strings.HasPrefix(sub, "notification_plans/"):
		return RouteNotificationPlans
	}
	if _, _, _, plot, ok := metricRoute(sub); ok {
		if plot {
			return RoutePlot
		}
		return RouteMetrics
	}
	return RouteOther
}

// count adds one request of the kind.
func (c *Counters) count(kind string) {
	switch kind {
	case RouteOverview:
		c.Overview++
	case RouteSuppressions:
		c.Suppressions++
	case RouteChangelogs:
		c.Changelogs++
	case RouteLimits:
		c.Limits++
	case RouteNotificationPlans:
		c.NotificationPlans++
	case RouteMetrics:
		c.Metrics++
	case RoutePlot:
		c.Plot++
	default:
		c.Other++
	}
}

// forRoute is the part of the fault that applies to a Monitoring request of
// the kind: with Only set to another kind, the failures (status, slowness,
// broken bodies, failing page) are dropped; the spelling quirks
// (RemainingHeader, ReplyAfter, StringTimestamps, SuppressionIDs) stay, as
// they describe the whole account.
func (f Fault) forRoute(kind string) Fault {
	if f.Only == "" || f.Only == kind {
		return f
	}
	f.MonitoringStatus, f.RetryAfter, f.Slow, f.NonJSON, f.Truncated, f.FailPage = 0, 0, 0, false, false, 0
	return f
}

func (s *Server) serveMonitoring(w http.ResponseWriter, r *http.Request) {
	tenant, sub, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/v1.0/"), "/")
	sub = strings.TrimSuffix(sub, "/")
	kind := routeOf(sub)

	s.mu.Lock()
	a := s.byTenant[tenant]
	var f Fault
	if a != nil {
		f = s.faults[a.Username]
		a.counters.count(kind)
	}
	s.mu.Unlock()
	f = f.forRoute(kind)

	if !s.sleep(r.Context(), f.Slow) {
		return
	}
	now := s.cfg.Now()
	tokenID := r.Header.Get("X-Auth-Token")
	s.mu.Lock()
	tok := s.tokens[tokenID]
	var t token
	if tok != nil {
		t = *tok
	}
	s.mu.Unlock()
	authed := tokenID != "" && tok != nil && now.Before(t.expires) && t.tenant == tenant && a != nil

	// Only an authenticated request spends the account's budget; the others
	// still tell where it stands.
	var b budget
	if authed {
		b = s.spend(a, now)
	} else if a != nil {
		b = s.peekBudget(a, now)
	}
	if a != nil {
		setRateHeaders(w.Header(), f.RemainingHeader, b.limit, b.used)
	}

	switch {
	case tokenID == "":
		s.writeMonitoringFault(w, http.StatusUnauthorized, "unauthorizedError", 401, "No auth token supplied", "Please provide the X-Auth-Token header")
		return
	case tok == nil || !now.Before(t.expires):
		s.writeMonitoringFault(w, http.StatusUnauthorized, "unauthorizedError", 401, "Unable to authenticate user with credentials provided.", "Invalid authentication token. Please renew.")
		return
	case t.tenant != tenant || a == nil:
		s.writeMonitoringFault(w, http.StatusForbidden, "forbiddenError", "403", "Forbidden",
			map[string]any{"reason": "The token is not valid for this tenant", "tenantId": tenant})
		return
	case b.spent:
		s.writeBudgetSpent(w, f, b, now)
		return
	}

	m := &monReq{a: a, f: f, used: b.used, now: now, sub: sub}
	switch kind {
	case RouteOverview:
		if s.allow(w, r, http.MethodGet, http.MethodHead) {
			s.serveOverview(w, r, m)
		}
	case RouteLimits:
		if s.allow(w, r, http.MethodGet, http.MethodHead) {
			s.serveLimits(w, r, m)
		}
	case RouteSuppressions:
		s.serveSuppressions(w, r, m)
	case RouteChangelogs:
		if s.allow(w, r, http.MethodGet, http.MethodHead) {
			s.serveChangelog(w, r, m)
		}
	case RouteNotificationPlans:
		if s.allow(w, r, http.MethodGet, http.MethodHead) {
			s.serveNotificationPlans(w, r, m)
		}
	case RouteMetrics, RoutePlot:
		s.serveMetrics(w, r, m)
	default:
		s.writeMonitoringFault(w, http.StatusNotFound, "notFoundError", 404, "Resource not found", "The requested resource could not be found")
	}
}

// allow answers 405 methodNotAllowedError unless the request's method is
// one of methods.
func (s *Server) allow(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	if slices.Contains(methods, r.Method) {
		return true
	}
	w.Header().Set("Allow", strings.Join(methods, ", "))
	s.writeMonitoringFault(w, http.StatusMethodNotAllowed, "methodNotAllowedError", 405, "Method not allowed", "Method "+r.Method+" is not allowed on this resource")
	return false
}

// injectFault answers the route's injected failure, if any: an error status
// or an HTML page in place of the JSON. It reports whether it answered.
func (s *Server) injectFault(w http.ResponseWriter, m *monReq) bool {
	switch {
	case m.f.MonitoringStatus != 0:
		s.writeInjectedFault(w, m.f, m.a.rateLimit, m.used)
	case m.f.NonJSON:
		writeBody(w, http.StatusOK, "text/html; charset=iso-8859-1", []byte(htmlErrorPage))
	default:
		return false
	}
	return true
}

// writeJSONBody answers 200 with a rendered JSON body, cut in half when the
// fault says Truncated.
func writeJSONBody(w http.ResponseWriter, f Fault, body []byte) {
	if f.Truncated {
		body = body[:len(body)/2]
	}
	writeBody(w, http.StatusOK, "application/json; charset=UTF-8", body)
}

// limitParam reads ?limit= (default 100, 1 to 1000); out of range or not a
// number answers 400 invalidLimit and reports false.
func (s *Server) limitParam(w http.ResponseWriter, q url.Values) (int, bool) {
	v, ok := q["limit"]
	if !ok {
		return defaultLimit, true
	}
	n, err := strconv.Atoi(v[0])
	if err != nil || n < 1 || n > maxLimit {
		s.writeMonitoringFault(w, http.StatusBadRequest, "invalidLimit", "400", "Validation error for key 'limit'",
			map[string]any{"key": "limit", "value": v[0], "reason": fmt.Sprintf("Limit must be an integer between 1 and %d", maxLimit)})
		return 0, false
	}
	return n, true
}

// listMetadata is the "metadata" object of a paginated collection.
type listMetadata struct {
	Count      int     `json:"count"`
	Limit      int     `json:"limit"`
	Marker     *string `json:"marker"`
	NextMarker *string `json:"next_marker"`
	NextHref   *string `json:"next_href"`
}

// lastPageMetadata is listMetadata without the next_marker key, as some
// answers (the libcloud fixtures) leave it out on the last page.
type lastPageMetadata struct {
	Count    int     `json:"count"`
	Limit    int     `json:"limit"`
	Marker   *string `json:"marker"`
	NextHref *string `json:"next_href"`
}

// nextHref is the request's own URL with marker set to next; the other
// parameters, limit included, are kept.
func nextHref(r *http.Request, next string) *string {
	q := r.URL.Query()
	q.Set("marker", next)
	href := baseURL(r) + r.URL.Path + "?" + q.Encode()
	return &href
}

// idPage picks one page of ids (sorted) for the query's limit and marker:
// the marker is the ID of the page's first item (a marker between IDs
// starts at the next one). It answers 400 for a bad limit and the fault's
// FailPage, and reports false when it has answered.
func (s *Server) idPage(w http.ResponseWriter, r *http.Request, m *monReq, ids []string) (start, end int, meta listMetadata, ok bool) {
	q := r.URL.Query()
	limit, ok := s.limitParam(w, q)
	if !ok {
		return 0, 0, meta, false
	}
	meta.Limit = limit
	if mk := q.Get("marker"); mk != "" {
		meta.Marker = &mk
		start, _ = slices.BinarySearch(ids, mk)
	}
	if m.f.FailPage > 0 && start/limit+1 == m.f.FailPage {
		s.writeMonitoringFault(w, http.StatusInternalServerError, "internalError", 500, "Internal error", "An unexpected error occurred while processing the request")
		return 0, 0, meta, false
	}
	end = min(start+limit, len(ids))
	meta.Count = end - start
	if end < len(ids) {
		next := ids[end]
		meta.NextMarker = &next
		meta.NextHref = nextHref(r, next)
	}
	return start, end, meta, true
}
