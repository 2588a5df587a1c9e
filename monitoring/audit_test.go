package monitoring

import (
	"slices"
	"testing"
)

func TestAuditActionsNameAKindOrOneAction(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		ok   bool
	}{
		{"account", []string{AuditAccountAdded, AuditAccountEdited, AuditAccountDisabled, AuditAccountEnabled, AuditAccountRemoved}, true},
		{"signin", []string{AuditSignInSucceeded, AuditSignInFailed, AuditSignOut}, true},
		{"wall_link.revoked", []string{AuditWallLinkRevoked}, true},
		{"signout", []string{AuditSignOut}, true},
		{"acc", nil, false},
		{"account.", nil, false},
	} {
		got, ok := AuditActions(tc.in)
		if ok != tc.ok || !slices.Equal(got, tc.want) {
			t.Errorf("AuditActions(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestClipAuditCutsLongTextsOnly(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"  short  ", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"ünïcödé tëxt", 7, "ünïcödé…"},
		{"a b c", 2, "a…"},
	} {
		if got := ClipAudit(tc.in, tc.n); got != tc.want {
			t.Errorf("ClipAudit(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}
