package sqlite_test

import (
	"database/sql"
	"errors"
	"path/filepath"
	"testing"

	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite"

	"cmdash/migrations"
	"cmdash/monitoring"
	"cmdash/monitoring/sqlite"
)

// Users who existed before roles did may do everything after the
// upgrade, as before: nobody loses access; their tokens act as they do.
func TestEveryUserBeforeRolesIsAnAdminAfter(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "old.db")
	old, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	prov, err := goose.NewProvider(goose.DialectSQLite3, old, migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := prov.UpTo(ctx, 8); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"first", "second"} {
		if _, err := old.ExecContext(ctx, `INSERT INTO users (username, password_hash, created_at) VALUES (?, 'x', 0)`, name); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := old.ExecContext(ctx, `INSERT INTO api_tokens (user_id, name, token_hash, prefix, created_at) VALUES (2, 'bot', x'00', 'cmd_', 0)`); err != nil {
		t.Fatal(err)
	}
	old.Close()

	db, err := sqlite.OpenDB(ctx, path, migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s := sqlite.NewStore(db, nil)
	users, err := s.ListUsers(ctx)
	if err != nil || len(users) != 2 {
		t.Fatalf("users %+v, %v", users, err)
	}
	for _, u := range users {
		if u.Role != monitoring.Admin || u.Origin != monitoring.OriginPassword {
			t.Errorf("%s is a %v signing in by %q after the upgrade, want an admin with a password", u.Username, u.Role, u.Origin)
		}
	}
	tokens, _ := s.ListAPITokens(ctx)
	if len(tokens) != 1 || tokens[0].Role != monitoring.NoRole {
		t.Errorf("tokens %+v, want one acting with its owner's role", tokens)
	}

	// The last admin cannot be demoted or removed; with two, one can.
	if _, err := s.SetRole(ctx, users[0].ID, monitoring.Viewer); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetRole(ctx, users[1].ID, monitoring.Operator); !errors.Is(err, monitoring.ErrLastAdmin) {
		t.Errorf("demoting the last admin: %v", err)
	}
	if _, err := s.DeleteUser(ctx, users[1].ID); !errors.Is(err, monitoring.ErrLastAdmin) {
		t.Errorf("removing the last admin: %v", err)
	}
	if _, err := s.SetRole(ctx, 999, monitoring.Viewer); !errors.Is(err, monitoring.ErrNotFound) {
		t.Errorf("an unknown user: %v", err)
	}
}

func TestAUserWithoutAPasswordCannotSignInWithOne(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db, err := sqlite.OpenDB(ctx, filepath.Join(t.TempDir(), "x.db"), migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s := sqlite.NewStore(db, nil)
	u, created, err := s.ExternalUser(ctx, "sso@example.com", monitoring.OriginOIDC, monitoring.Operator)
	if err != nil || !created || u.Role != monitoring.Operator {
		t.Fatalf("%+v %v %v", u, created, err)
	}
	if _, err := s.Authenticate(ctx, "sso@example.com", ""); !errors.Is(err, monitoring.ErrBadPassword) {
		t.Errorf("an empty password signs in a password-less user: %v", err)
	}
	// Seen again: the same user, with the role an admin gave.
	if _, err := s.SetRole(ctx, u.ID, monitoring.Admin); err != nil {
		t.Fatal(err)
	}
	again, created, err := s.ExternalUser(ctx, "sso@example.com", monitoring.OriginOIDC, monitoring.Viewer)
	if err != nil || created || again.Role != monitoring.Admin {
		t.Errorf("seen again: %+v %v %v", again, created, err)
	}
	if _, _, err := s.ExternalUser(ctx, "stranger@example.com", monitoring.OriginProxy, monitoring.NoRole); !errors.Is(err, monitoring.ErrNotFound) {
		t.Errorf("with no role to give: %v", err)
	}
}
