package handlers

import (
	"cmdash/monitoring"
	"fmt"
	"unicode"
)

// passwordProblem says what a new password may not hold: control
// characters, which no keyboard types into a password field and which some
// clients and password managers drop or mangle, so the password would
// later fail to match. Anything printable is allowed, bidirectional
// characters included: a password is never shown.
func passwordProblem(field, s string) string {
	for _, r := range s {
		if unicode.IsControl(r) {
			return fmt.Sprintf("%s contains a control character (U+%04X); use printable characters only.", field, r)
		}
	}
	return ""
}

// checkText puts text's problem, if any, as field's message, unless the
// field has a message already.
func checkText(errs map[string]string, field, label, text string) {
	if _, ok := errs[field]; ok {
		return
	}
	if p := monitoring.TextProblem(label, text); p != "" {
		errs[field] = p
	}
}
