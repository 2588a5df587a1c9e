package views

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
