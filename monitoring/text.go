package monitoring

import (
	"fmt"
	"unicode"
	"unicode/utf8"
)

// TextProblem says what makes typed-in text unfit to be stored and shown
// as a name, or "" when nothing does: bytes that are not UTF-8, control
// characters (NUL, the ESC of terminal escapes, line breaks, tabs) and line
// or paragraph separators, which have no place in a one-line name, and the
// bidirectional formatting characters that reorder what follows them, so
// that one name displays as another ("admin\u202Enimda" shows as
// "adminadmin"). The marks U+200E, U+200F and U+061C stay allowed: they
// cannot reverse a run of text, and right-to-left names use them.
//
// field is how the message names the text, e.g. "The alias".
func TextProblem(field, s string) string {
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
