package fakerax

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Identity v2.0: POST /v2.0/tokens issues a token and the service catalog;
// DELETE /v2.0/tokens (own token) and DELETE /v2.0/tokens/{id} revoke. Faults
// are objects keyed by the fault name.

// identityZone is the offset Identity writes "expires" in.
var identityZone = time.FixedZone("CST", -6*60*60)

const identityTimeFormat = "2006-01-02T15:04:05.000-07:00"

type authRequest struct {
	Auth *struct {
		APIKey *struct {
			Username string `json:"username"`
			APIKey   string `json:"apiKey"`
		} `json:"RAX-KSKEY:apiKeyCredentials"`
		Password *struct {
			Username string `json:"username"`
			Password string `json:"password"`
		} `json:"passwordCredentials"`
		TenantID   *string `json:"tenantId"`
		TenantName *string `json:"tenantName"`
	} `json:"auth"`
}

type endpoint struct {
	Region      string `json:"region,omitempty"`
	TenantID    string `json:"tenantId"`
	PublicURL   string `json:"publicURL"`
	InternalURL string `json:"internalURL,omitempty"`
	VersionID   string `json:"versionId,omitempty"`
	VersionInfo string `json:"versionInfo,omitempty"`
	VersionList string `json:"versionList,omitempty"`
}

type catalogEntry struct {
	Name      string     `json:"name"`
	Type      string     `json:"type"`
	Endpoints []endpoint `json:"endpoints"`
}

type role struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	TenantID    string `json:"tenantId,omitempty"`
}

type tenantRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type accessResponse struct {
	Access struct {
		Token struct {
			ID              string    `json:"id"`
			Expires         string    `json:"expires"`
			Tenant          tenantRef `json:"tenant"`
			AuthenticatedBy []string  `json:"RAX-AUTH:authenticatedBy"`
		} `json:"token"`
		ServiceCatalog []catalogEntry `json:"serviceCatalog,omitempty"`
		User           struct {
			ID            string `json:"id"`
			Name          string `json:"name"`
			Roles         []role `json:"roles"`
			DefaultRegion string `json:"RAX-AUTH:defaultRegion"`
			DomainID      string `json:"RAX-AUTH:domainId"`
		} `json:"user"`
	} `json:"access"`
}

func (s *Server) serveIdentity(w http.ResponseWriter, r *http.Request) {
	// Every answer carries Identity's own time, skewed like its "expires".
	w.Header().Set("Date", s.identityNow().UTC().Format(http.TimeFormat))
	p := strings.TrimSuffix(r.URL.Path, "/")
	switch {
	case p == "/v2.0/tokens" && r.Method == http.MethodPost:
		s.serveLogin(w, r)
	case p == "/v2.0/tokens" && r.Method == http.MethodDelete:
		s.serveRevoke(w, r, r.Header.Get("X-Auth-Token"))
	case strings.HasPrefix(p, "/v2.0/tokens/") && r.Method == http.MethodDelete:
		s.serveRevoke(w, r, strings.TrimPrefix(p, "/v2.0/tokens/"))
	case p == "/v2.0/tokens":
		w.Header().Set("Allow", "POST, DELETE")
		writeIdentityFault(w, http.StatusMethodNotAllowed, "badMethod", "Method Not Allowed", "")
	default:
		writeIdentityFault(w, http.StatusNotFound, "itemNotFound", "Resource not found", "")
	}
}

func (s *Server) serveLogin(w http.ResponseWriter, r *http.Request) {
	var req authRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req); err != nil || req.Auth == nil {
		writeIdentityFault(w, http.StatusBadRequest, "badRequest", "Invalid json request body", "")
		return
	}
	auth := req.Auth
	var username, secret, method string
	switch {
	case auth.APIKey != nil && auth.Password != nil:
		writeIdentityFault(w, http.StatusBadRequest, "badRequest", "Invalid json request body", "")
		return
	case auth.APIKey != nil:
		username, secret, method = auth.APIKey.Username, auth.APIKey.APIKey, "APIKEY"
		if secret == "" {
			writeIdentityFault(w, http.StatusBadRequest, "badRequest", "Expecting apiKey", "")
			return
		}
	case auth.Password != nil:
		username, secret, method = auth.Password.Username, auth.Password.Password, "PASSWORD"
		if secret == "" {
			writeIdentityFault(w, http.StatusBadRequest, "badRequest", "Expecting password", "")
			return
		}
	default:
		writeIdentityFault(w, http.StatusBadRequest, "badRequest", "Invalid json request body", "")
		return
	}
	if username == "" {
		writeIdentityFault(w, http.StatusBadRequest, "badRequest", "Expecting username", "")
		return
	}
	if auth.TenantID != nil && auth.TenantName != nil {
		writeIdentityFault(w, http.StatusBadRequest, "badRequest", "Invalid request. Specify tenantId OR tenantName, not both.", "")
		return
	}

	s.mu.Lock()
	a := s.byUser[username]
	f := s.faults[username]
	if a != nil {
		a.counters.Identity++
	}
	s.mu.Unlock()

	if f.Only != "" {
		f.Slow = 0 // narrowed to one Monitoring route
	}
	if !s.sleep(r.Context(), f.Slow) {
		return
	}
	if f.IdentityStatus != 0 {
		writeIdentityStatus(w, f, s.identityNow())
		return
	}
	if a == nil || secret != a.APIKey {
		writeIdentityFault(w, http.StatusUnauthorized, "unauthorized", "Unable to authenticate user with credentials provided.", "")
		return
	}
	if (auth.TenantID != nil && *auth.TenantID != a.TenantID) || (auth.TenantName != nil && *auth.TenantName != a.TenantID) {
		t := auth.TenantID
		if t == nil {
			t = auth.TenantName
		}
		writeIdentityFault(w, http.StatusUnauthorized, "unauthorized",
			fmt.Sprintf("Tenant with Name/Id: '%s' is not valid for User '%s' (id: '%s')", *t, a.Username, userID(s.cfg.Seed, a.Username)), "")
		return
	}

	now := s.cfg.Now()
	expires := now.Add(s.cfg.TokenTTL)
	s.mu.Lock()
	var id string
	for {
		s.logins++
		n := strconv.FormatUint(s.logins, 10)
		id = fmt.Sprintf("%016x%016x", hashStrings(s.cfg.Seed, "token", a.Username, n), hashStrings(s.cfg.Seed, "token2", a.Username, n))
		if s.tokens[id] == nil {
			break
		}
	}
	if len(s.tokens) > 4096 {
		for k, t := range s.tokens {
			if !now.Before(t.expires) {
				delete(s.tokens, k)
			}
		}
	}
	s.tokens[id] = &token{username: a.Username, tenant: a.TenantID, expires: expires}
	s.mu.Unlock()

	var resp accessResponse
	acc := &resp.Access
	acc.Token.ID = id
	acc.Token.Expires = expires.Add(s.cfg.IdentityClock).In(identityZone).Format(identityTimeFormat)
	acc.Token.Tenant = tenantRef{ID: a.TenantID, Name: a.TenantID}
	acc.Token.AuthenticatedBy = []string{method}
	if r.URL.Query().Get("include_endpoints") != "false" {
		acc.ServiceCatalog = serviceCatalog(baseURL(r), a.TenantID, s.cfg.Seed)
		if f.NoMonitoringEndpoint {
			acc.ServiceCatalog = slices.DeleteFunc(acc.ServiceCatalog, func(e catalogEntry) bool { return e.Type == "rax:monitor" })
		}
	}
	acc.User.ID = userID(s.cfg.Seed, a.Username)
	acc.User.Name = a.Username
	acc.User.Roles = []role{
		{ID: "3", Name: "identity:user-admin", Description: "User Admin Role."},
		{ID: "6", Name: "compute:default", Description: "A Role that allows a user access to keystone Service methods", TenantID: a.TenantID},
	}
	acc.User.DefaultRegion = []string{"DFW", "ORD", "IAD"}[hashStrings(s.cfg.Seed, "region", a.Username)%3]
	acc.User.DomainID = a.TenantID
	writeJSON(w, http.StatusOK, "application/json", resp)
}

// identityNow is the time on Identity's clock (see Config.IdentityClock).
func (s *Server) identityNow() time.Time { return s.cfg.Now().Add(s.cfg.IdentityClock) }

func userID(seed int64, username string) string {
	return strconv.FormatUint(10000000+hashStrings(seed, "user", username)%90000000, 10)
}

// serviceCatalog lists a second rax:monitor service before cloudMonitoring,
// as some real catalogs do; only cloudMonitoring is the one to poll.
func serviceCatalog(base, tenant string, seed int64) []catalogEntry {
	compute := make([]endpoint, 0, 5)
	files := make([]endpoint, 0, 5)
	filesTenant := fmt.Sprintf("MossoCloudFS_%016x", hashStrings(seed, "files", tenant))
	for _, reg := range []string{"DFW", "ORD", "IAD", "SYD", "HKG"} {
		r := strings.ToLower(reg)
		compute = append(compute, endpoint{
			Region: reg, TenantID: tenant,
			PublicURL:   fmt.Sprintf("https://%s.servers.api.rackspacecloud.com/v2/%s", r, tenant),
			VersionID:   "2",
			VersionInfo: fmt.Sprintf("https://%s.servers.api.rackspacecloud.com/v2", r),
			VersionList: fmt.Sprintf("https://%s.servers.api.rackspacecloud.com/", r),
		})
		files = append(files, endpoint{
			Region: reg, TenantID: filesTenant,
			PublicURL:   fmt.Sprintf("https://storage101.%s1.clouddrive.com/v1/%s", r, filesTenant),
			InternalURL: fmt.Sprintf("https://snet-storage101.%s1.clouddrive.com/v1/%s", r, filesTenant),
		})
	}
	return []catalogEntry{
		{Name: "cloudMonitoringControl", Type: "rax:monitor", Endpoints: []endpoint{{TenantID: tenant, PublicURL: base + "/control/v1.0/" + tenant}}},
		{Name: "cloudFiles", Type: "object-store", Endpoints: files},
		{Name: "cloudMonitoring", Type: "rax:monitor", Endpoints: []endpoint{{TenantID: tenant, PublicURL: base + "/v1.0/" + tenant}}},
		{Name: "cloudServersOpenStack", Type: "compute", Endpoints: compute},
	}
}

func (s *Server) serveRevoke(w http.ResponseWriter, r *http.Request, target string) {
	caller := r.Header.Get("X-Auth-Token")
	now := s.cfg.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	ct := s.tokens[caller]
	if caller == "" || ct == nil || !now.Before(ct.expires) {
		writeIdentityFault(w, http.StatusUnauthorized, "unauthorized", "No valid token provided. Please use the 'X-Auth-Token' header with a valid token.", "")
		return
	}
	tt := s.tokens[target]
	if tt == nil || tt.username != ct.username {
		writeIdentityFault(w, http.StatusNotFound, "itemNotFound", "Token not found.", "")
		return
	}
	delete(s.tokens, target)
	w.WriteHeader(http.StatusNoContent)
}

// writeIdentityStatus answers an injected Identity fault.
func writeIdentityStatus(w http.ResponseWriter, f Fault, now time.Time) {
	status := f.IdentityStatus
	switch status {
	case http.StatusBadRequest:
		writeIdentityFault(w, status, "badRequest", "Invalid json request body", "")
	case http.StatusUnauthorized:
		writeIdentityFault(w, status, "unauthorized", "Unable to authenticate user with credentials provided.", "")
	case http.StatusForbidden:
		writeIdentityFault(w, status, "userDisabled", "User disabled", "")
	case http.StatusNotFound:
		writeIdentityFault(w, status, "itemNotFound", "Item not found.", "Error Details...")
	case http.StatusRequestEntityTooLarge:
		body := map[string]any{"code": status, "message": "Too many requests", "details": "Rate limit exceeded. Typically, the request can be resubmitted in a few seconds."}
		if f.RetryAfter > 0 {
			setRetryAfter(w.Header(), f)
			body["retryAt"] = now.Add(f.RetryAfter).In(identityZone).Format(identityTimeFormat)
		}
		writeJSON(w, status, "application/json", map[string]any{"overLimit": body})
	case http.StatusInternalServerError:
		writeIdentityFault(w, status, "serviceFault", "Service Fault", "")
	case http.StatusServiceUnavailable:
		writeIdentityFault(w, status, "serviceUnavailable", "Service Unavailable", "")
	default:
		writeIdentityFault(w, status, "identityFault", http.StatusText(status), "")
	}
}

func writeIdentityFault(w http.ResponseWriter, status int, key, message, details string) {
	body := map[string]any{"code": status, "message": message}
	if details != "" {
		body["details"] = details
	}
	writeJSON(w, status, "application/json", map[string]any{key: body})
}

// setRetryAfter writes the fault's delay in whole seconds, rounded up.
func setRetryAfter(h http.Header, f Fault) {
	if f.RetryAfter <= 0 {
		return
	}
	secs := int64((f.RetryAfter + time.Second - 1) / time.Second)
	name := "Retry-After"
	if f.ReplyAfter {
		name = "Reply-After"
	}
	h.Set(name, strconv.FormatInt(secs, 10))
}

func writeJSON(w http.ResponseWriter, status int, contentType string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	writeBody(w, status, contentType, b)
}

func writeBody(w http.ResponseWriter, status int, contentType string, b []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}
