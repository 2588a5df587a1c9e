package views

import "cmdash/monitoring"

// navAccountActive reports whether the page is one of the navigation's
// accounts, so that the folded account menu shows where the page is.
func navAccountActive(l Layout) bool {
	for _, a := range l.Nav {
		if l.Active == "account-"+id64(a.ID) {
			return true
		}
	}
	return false
}

// roleCan says what a role may do, all of it.
func roleCan(r monitoring.Role) string {
	switch r {
	case monitoring.Operator:
		return monitoring.Viewer.Can() + ", and " + r.Can()
	case monitoring.Admin:
		return "do everything"
	}
	return r.Can()
}

// originNote says how a user without a password signs in.
func originNote(origin string) string {
	switch origin {
	case monitoring.OriginProxy:
		return " · through the sign-in proxy"
	case monitoring.OriginOIDC:
		return " · with single sign-on"
	}
	return ""
}

// tokenRoleNote names a token's narrower role.
func tokenRoleNote(r monitoring.Role) string {
	if r == monitoring.NoRole {
		return ""
	}
	return ", acts as " + r.String()
}

// orDefault is s, or def when s is empty.
func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
