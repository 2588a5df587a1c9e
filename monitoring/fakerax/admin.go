package fakerax

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"
)

// Admin routes for driving the fake by hand (cmd/fakerax's -h lists them
// too, and its test keeps that list in step with the cases below):
//
//	GET  /_fake/accounts                        accounts with their credentials
//	POST /_fake/accounts?username=&api_key=&tenant_id=&servers=&alarms=&warning=&critical=&rate_limit=
//	POST /_fake/fault?username=&identity_status=&monitoring_status=&retry_after=&reply_after=
//	                  &slow=&non_json=&truncated=&fail_page=&remaining_header=&no_monitoring_endpoint=
//	                  &only=&suppression_ids=&string_timestamps=&rate_used=
//	                                            rate_used= also spends that much of the budget
//	POST /_fake/clear?username=                 remove the account's fault
//	POST /_fake/revoke?username=                revoke the account's tokens
//	POST /_fake/state?username=&entity=&alarm=&state=
//	                                            force an alarm's state (state= empty: back to generated),
//	                                            recorded in the changelog at the fake's clock
//	GET  /_fake/counters?username=              requests seen, by kind
//	GET  /_fake/entities?username=              the model as served now
//
// Durations take Go syntax ("1.5s") or whole seconds; booleans "1" or "true".
func (s *Server) serveAdmin(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	user := q.Get("username")
	route := r.Method + " " + r.URL.Path
	switch route {
	case "GET /_fake/accounts":
		type acct struct {
			Username string `json:"username"`
			APIKey   string `json:"api_key"`
			TenantID string `json:"tenant_id"`
		}
		var out []acct
		for _, a := range s.Accounts() {
			out = append(out, acct(a))
		}
		writeJSON(w, http.StatusOK, "application/json", out)
		return
	case "POST /_fake/accounts":
		spec := AccountSpec{Username: user, APIKey: q.Get("api_key"), TenantID: q.Get("tenant_id"),
			Servers: s.cfg.Servers, Alarms: s.cfg.Alarms, WarningShare: s.cfg.WarningShare, CriticalShare: s.cfg.CriticalShare}
		var err error
		spec.Servers, err = intParam(q, "servers", spec.Servers, err)
		spec.Alarms, err = intParam(q, "alarms", spec.Alarms, err)
		spec.WarningShare, err = floatParam(q, "warning", spec.WarningShare, err)
		spec.CriticalShare, err = floatParam(q, "critical", spec.CriticalShare, err)
		spec.RateLimit, err = intParam(q, "rate_limit", 0, err)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		a := s.AddAccount(spec)
		writeJSON(w, http.StatusOK, "application/json", map[string]string{"username": a.Username, "api_key": a.APIKey, "tenant_id": a.TenantID})
		return
	}
	if user == "" {
		http.Error(w, "username is required", http.StatusBadRequest)
		return
	}
	switch route {
	case "POST /_fake/fault":
		var f Fault
		var err error
		f.IdentityStatus, err = intParam(q, "identity_status", 0, err)
		f.MonitoringStatus, err = intParam(q, "monitoring_status", 0, err)
		f.RetryAfter, err = durationParam(q, "retry_after", err)
		f.ReplyAfter, err = boolParam(q, "reply_after", err)
		f.Slow, err = durationParam(q, "slow", err)
		f.NonJSON, err = boolParam(q, "non_json", err)
		f.Truncated, err = boolParam(q, "truncated", err)
		f.FailPage, err = intParam(q, "fail_page", 0, err)
		f.RemainingHeader, err = boolParam(q, "remaining_header", err)
		f.NoMonitoringEndpoint, err = boolParam(q, "no_monitoring_endpoint", err)
		f.SuppressionIDs, err = boolParam(q, "suppression_ids", err)
		f.StringTimestamps, err = boolParam(q, "string_timestamps", err)
		f.Only = q.Get("only")
		if err == nil && f.Only != "" && !slices.Contains(routeKinds, f.Only) {
			err = fmt.Errorf("only: %q is none of %v", f.Only, routeKinds)
		}
		used, err := intParam(q, "rate_used", -1, err)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if used >= 0 {
			if err := s.SetRateUsed(user, used); err != nil {
				http.Error(w, err.Error(), http.StatusNotFound)
				return
			}
		}
		s.SetFault(user, f)
		writeJSON(w, http.StatusOK, "application/json", f)
	case "POST /_fake/clear":
		s.ClearFault(user)
		w.WriteHeader(http.StatusNoContent)
	case "POST /_fake/state":
		if err := s.SetState(user, q.Get("entity"), q.Get("alarm"), q.Get("state")); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case "POST /_fake/revoke":
		s.RevokeTokens(user)
		w.WriteHeader(http.StatusNoContent)
	case "GET /_fake/counters":
		c := s.Counters(user)
		writeJSON(w, http.StatusOK, "application/json", map[string]int{
			"identity": c.Identity, "overview": c.Overview, "suppressions": c.Suppressions, "changelogs": c.Changelogs,
			"limits": c.Limits, "notification_plans": c.NotificationPlans, "metrics": c.Metrics, "plot": c.Plot, "other": c.Other,
		})
	case "GET /_fake/entities":
		ents := s.Entities(user)
		if ents == nil {
			http.Error(w, "unknown username", http.StatusNotFound)
			return
		}
		b, err := json.MarshalIndent(ents, "", "  ")
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		writeBody(w, http.StatusOK, "application/json", b)
	default:
		http.Error(w, "unknown admin route "+route, http.StatusNotFound)
	}
}

func intParam(q url.Values, key string, def int, err error) (int, error) {
	v := q.Get(key)
	if err != nil || v == "" {
		return def, err
	}
	n, e := strconv.Atoi(v)
	if e != nil {
		return def, fmt.Errorf("%s: %v", key, e)
	}
	return n, nil
}

func floatParam(q url.Values, key string, def float64, err error) (float64, error) {
	v := q.Get(key)
	if err != nil || v == "" {
		return def, err
	}
	n, e := strconv.ParseFloat(v, 64)
	if e != nil {
		return def, fmt.Errorf("%s: %v", key, e)
	}
	return n, nil
}

func boolParam(q url.Values, key string, err error) (bool, error) {
	v := q.Get(key)
	if err != nil || v == "" {
		return false, err
	}
	b, e := strconv.ParseBool(v)
	if e != nil {
		return false, fmt.Errorf("%s: %v", key, e)
	}
	return b, nil
}

func durationParam(q url.Values, key string, err error) (time.Duration, error) {
	v := q.Get(key)
	if err != nil || v == "" {
		return 0, err
	}
	if n, e := strconv.Atoi(v); e == nil {
		return time.Duration(n) * time.Second, nil
	}
	d, e := time.ParseDuration(v)
	if e != nil {
		return 0, fmt.Errorf("%s: %v", key, e)
	}
	return d, nil
}
