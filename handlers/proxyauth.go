package handlers

import (
	"errors"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"unicode"

	"cmdash/monitoring"
)

// proxyUser is the user a sign-in proxy (oauth2-proxy, Authelia…) names in
// Options.ProxyHeader, believed only when the request comes straight from
// one of Options.TrustedProxies: anyone else could send the header too.
func (h *Handler) proxyUser(r *http.Request) (string, bool) {
	if h.opts.ProxyHeader == "" {
		return "", false
	}
	name := strings.TrimSpace(r.Header.Get(h.opts.ProxyHeader))
	if name == "" {
		return "", false
	}
	if !h.trustedPeer(r) {
		if h.proxyWarned.CompareAndSwap(false, true) {
			h.log.Warn("ignored a sign-in header from an address not in the trusted proxies (said once)",
				"header", h.opts.ProxyHeader, "from", peerAddr(r))
		}
		return "", false
	}
	return name, true
}

// trustedPeer reports whether the request's direct peer (never a
// forwarded-for header) is a trusted proxy.
func (h *Handler) trustedPeer(r *http.Request) bool {
	ip, err := netip.ParseAddr(peerAddr(r))
	if err != nil {
		return false
	}
	ip = ip.Unmap()
	for _, p := range h.opts.TrustedProxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// peerAddr is the address of whoever opened the connection.
func peerAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// proxyAccount is the user the proxy vouches for, created with
// Options.ProxyRole when first seen; a refusal is the sentence that tells
// them why they may not come in (empty when they may).
func (h *Handler) proxyAccount(r *http.Request, name string) (u monitoring.User, refusal string) {
	if len(name) > 255 || strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return monitoring.User{}, "The sign-in proxy sent a user name this dashboard cannot take."
	}
	u, created, err := h.store.ExternalUser(r.Context(), name, monitoring.OriginProxy, h.opts.ProxyRole)
	if errors.Is(err, monitoring.ErrNotFound) {
		return u, "Your sign-in proxy vouches for " + name + ", but this dashboard has no such user and creates none: an admin can add one."
	}
	if err != nil {
		h.log.Error("proxy sign-in", "err", err)
		return u, "Signing in failed on our side; it has been logged."
	}
	if created {
		h.log.Info("user added at first sign-in through the proxy", "username", u.Username, "role", u.Role.String())
		h.auditAs(r, u.Username, monitoring.AuditUserAdded, u.Username, "role "+u.Role.String()+", at their first sign-in through the sign-in proxy")
	}
	return u, ""
}
