package handlers

import (
	"fmt"
	"unicode"
	"unicode/utf8"
)

// textProblem says what makes typed-in text unfit to be stored and shown
// as a name, or "" when nothing does: bytes that are not UTF-8, control
// characters (NUL, the ESC of terminal escapes, line breaks, tabs) and line
// or paragraph separators, which have no place in a one-line name, and the
// bidirectional formatting characters that reorder what follows them, so
// that one name displays as another ("admin\u202Enimda" shows as
// "adminadmin"). The marks U+200E, U+200F and U+061C stay allowed: they
// cannot reverse a run of text, and right-to-left names use them.
//
// field is how the message names the text, e.g. "The alias".
func textProblem(field, s string) string {
	if !utf8.ValidString(s) {
		return field + " contains bytes that are not UTF-8 text."
	}
	for _, r := range s {
		switch {
		case unicode.IsControl(r):
			return fmt.Sprintf("%s contains a control character (U+%04X).", field, r)
		case r == '\u2028' || r == '\u2029':
			return fmt.Sprintf("%s contains a line or paragraph separator (U+%04X).", field, r)
		case bidiFormatting(r):
			return fmt.Sprintf("%s contains a bidirectional override (U+%04X), which can make one name look like another.", field, r)
		}
	}
	return ""
}

// bidiFormatting: the explicit embeddings, overrides and isolates
// (LRE RLE PDF LRO RLO, LRI RLI FSI PDI).
func bidiFormatting(r rune) bool {
	return ('\u202A' <= r && r <= '\u202E') || ('\u2066' <= r && r <= '\u2069')
}

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
	if p := textProblem(label, text); p != "" {
		errs[field] = p
	}
}
