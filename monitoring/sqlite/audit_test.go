package sqlite_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"cmdash/monitoring"
	"cmdash/monitoring/sqlite"
	"cmdash/monitoring/sqlite/sqlitetest"
)

// auditActions lists the actions of entries, in their order.
func auditActions(es []monitoring.AuditEntry) []string {
	out := make([]string, 0, len(es))
	for _, e := range es {
		out = append(out, e.Action)
	}
	return out
}

func record(t *testing.T, store *sqlite.Store, e monitoring.AuditEntry) {
	t.Helper()
	if err := store.RecordAudit(context.Background(), e); err != nil {
		t.Fatal(err)
	}
}

func TestAuditLogKeepsEntriesAndSelectsThem(t *testing.T) {
	t.Parallel()
	store, _ := sqlitetest.Open(t)
	ctx := context.Background()
	base := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	entries := []monitoring.AuditEntry{
		{At: base, Actor: "alice", ActorKind: monitoring.ActorUser, Address: "192.0.2.1", Action: monitoring.AuditAccountAdded, Target: "ops-prod", Detail: `alias "Production"`},
		{At: base.Add(time.Minute), Actor: "token bot (alice)", ActorKind: monitoring.ActorToken, Address: "192.0.2.2", Action: monitoring.AuditFilterSaved, Target: "criticals"},
		{At: base.Add(2 * time.Minute), Actor: "bob", ActorKind: monitoring.ActorUser, Action: monitoring.AuditAccountRemoved, Target: "ops-prod"},
		{At: base.Add(3 * time.Minute), Actor: "token alice (bob)", ActorKind: monitoring.ActorToken, Action: monitoring.AuditAckCreated},
		{At: base.Add(4 * time.Minute), ActorKind: monitoring.ActorAnonymous, Address: "198.51.100.7", Action: monitoring.AuditSignInFailed, Target: "alice"},
		{At: base.Add(5 * time.Minute), Actor: "alice", ActorKind: monitoring.ActorUser, Action: monitoring.AuditSignOut},
	}
	for _, e := range entries {
		record(t, store, e)
	}

	all, err := store.AuditLog(ctx, monitoring.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != len(entries) {
		t.Fatalf("%d entries, want %d", len(all), len(entries))
	}
	first := all[len(all)-1]
	if first.ID == 0 || !first.At.Equal(base) || first.Actor != "alice" || first.ActorKind != "user" || first.Address != "192.0.2.1" ||
		first.Action != "account.added" || first.Target != "ops-prod" || first.Detail != `alias "Production"` {
		t.Errorf("the first entry came back as %+v", first)
	}

	for _, tc := range []struct {
		name string
		q    monitoring.AuditQuery
		want []string
	}{
		{"everything, the newest first", monitoring.AuditQuery{},
			[]string{"signout", "signin.failed", "ack.created", "account.removed", "filter.saved", "account.added"}},
		{"a user's own actions and their tokens', not a token named after them", monitoring.AuditQuery{Actor: "alice"},
			[]string{"signout", "filter.saved", "account.added"}},
		{"a kind of action", monitoring.AuditQuery{Action: "account"}, []string{"account.removed", "account.added"}},
		{"sign-ins and sign-outs are one kind", monitoring.AuditQuery{Action: "signin"}, []string{"signout", "signin.failed"}},
		{"one action", monitoring.AuditQuery{Action: "account.removed"}, []string{"account.removed"}},
		{"an action that does not exist selects nothing", monitoring.AuditQuery{Action: "acc"}, []string{}},
		{"since and until are both inclusive", monitoring.AuditQuery{Since: base.Add(time.Minute), Until: base.Add(3 * time.Minute)},
			[]string{"ack.created", "account.removed", "filter.saved"}},
		{"limit keeps the newest", monitoring.AuditQuery{Limit: 2}, []string{"signout", "signin.failed"}},
		{"filters together", monitoring.AuditQuery{Actor: "alice", Action: "account", Since: base}, []string{"account.added"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := store.AuditLog(ctx, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if a := auditActions(got); strings.Join(a, " ") != strings.Join(tc.want, " ") {
				t.Errorf("got %v, want %v", a, tc.want)
			}
		})
	}
}

func TestAuditEntriesAreClippedAndTimedWhenNotSaid(t *testing.T) {
	t.Parallel()
	store, _ := sqlitetest.Open(t)
	before := time.Now().Add(-time.Second)
	record(t, store, monitoring.AuditEntry{ActorKind: monitoring.ActorAnonymous, Action: monitoring.AuditSignInFailed,
		Target: strings.Repeat("x", 5000)})
	got, err := store.AuditLog(context.Background(), monitoring.AuditQuery{})
	if err != nil || len(got) != 1 {
		t.Fatalf("%v %v", got, err)
	}
	if got[0].At.Before(before) {
		t.Errorf("at %v, want now", got[0].At)
	}
	if n := len([]rune(got[0].Target)); n > 501 || !strings.HasSuffix(got[0].Target, "…") {
		t.Errorf("a 5,000-character target is kept as %d characters", n)
	}
}

func TestAuditLogIsPrunedWithTheHistorysBounds(t *testing.T) {
	t.Parallel()
	store, _ := sqlitetest.Open(t)
	ctx := context.Background()
	now := time.Now()
	// Five entries 40 days old, then ten of today.
	for i := range 15 {
		at := now.Add(-time.Duration(15-i) * time.Minute)
		if i < 5 {
			at = now.Add(-40 * 24 * time.Hour).Add(time.Duration(i) * time.Minute)
		}
		record(t, store, monitoring.AuditEntry{At: at, Actor: "alice", ActorKind: monitoring.ActorUser, Action: monitoring.AuditFilterSaved, Target: string(rune('a' + i))})
	}
	store.SetRetention(monitoring.Retention{MaxAge: 30 * 24 * time.Hour, MaxRows: 8})
	n, err := store.PruneAudit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	left, _ := store.AuditLog(ctx, monitoring.AuditQuery{Limit: 100})
	if n != 7 || len(left) != 8 || left[len(left)-1].Target != "h" {
		t.Errorf("pruned %d, kept %d down to %q; want 7 pruned (5 by age, 2 by count) and the newest 8 kept", n, len(left), left[len(left)-1].Target)
	}
	if n, _ := store.PruneAudit(ctx); n != 0 {
		t.Errorf("a second round pruned %d", n)
	}

	t.Run("with the history off, the default bounds keep the audit log", func(t *testing.T) {
		store.SetRetention(monitoring.Retention{})
		if n, err := store.PruneAudit(ctx); err != nil || n != 0 {
			t.Errorf("pruned %d (%v), want nothing", n, err)
		}
		if r := store.AuditRetention(); r != monitoring.DefaultRetention {
			t.Errorf("audit retention %+v", r)
		}
	})
}
