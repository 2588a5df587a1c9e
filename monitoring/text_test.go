package monitoring_test

import (
	"testing"

	"cmdash/monitoring"
)

func TestTextProblemNamesTheCharacter(t *testing.T) {
	tests := []struct {
		name, text, says string
	}{
		{"plain text passes", "Production (EU) — web", ""},
		{"accents and other scripts pass", "Zoë · 東京 · Москва", ""},
		{"right-to-left text with its marks passes", "שלום\u200F 2", ""},
		{"an emoji joined by ZWJ passes", "team 👩\u200D💻", ""},
		{"NUL is a control character", "a\x00b", "The name contains a control character (U+0000)."},
		{"an ANSI escape is a control character", "\x1b[31mred", "The name contains a control character (U+001B)."},
		{"a tab is a control character", "a\tb", "The name contains a control character (U+0009)."},
		{"DEL is a control character", "a\x7fb", "The name contains a control character (U+007F)."},
		{"a C1 control is a control character", "a\u0085b", "The name contains a control character (U+0085)."},
		{"a line separator is refused", "a\u2028b", "The name contains a line or paragraph separator (U+2028)."},
		{"a right-to-left override is refused", "admin\u202Enimda", "The name contains a bidirectional override (U+202E), which can make one name look like another."},
		{"an isolate is refused", "a\u2066b\u2069", "The name contains a bidirectional override (U+2066), which can make one name look like another."},
		{"bytes that are not UTF-8 are refused", "a\xffb", "The name contains bytes that are not UTF-8 text."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := monitoring.TextProblem("The name", tt.text); got != tt.says {
				t.Errorf("TextProblem(%q) = %q, want %q", tt.text, got, tt.says)
			}
		})
	}
}
