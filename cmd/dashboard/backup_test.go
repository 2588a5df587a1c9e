package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"cmdash/migrations"
	"cmdash/monitoring"
	"cmdash/monitoring/sqlite"
)

const backupTestSecret = "a test secret long enough"

// newBackupSource creates a migrated database with n accounts.
func newBackupSource(t *testing.T, n int) (string, *sql.DB, *sqlite.Store) {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "live.db")
	db, err := sqlite.OpenDB(ctx, path, migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	sealer, err := sqlite.NewSealer(backupTestSecret)
	if err != nil {
		t.Fatal(err)
	}
	store := sqlite.NewStore(db, sealer)
	for i := range n {
		if _, err := store.CreateAccount(ctx, fmt.Sprintf("acct-%03d", i), fmt.Sprintf("Account %d", i), fmt.Sprintf("key-%03d", i), nil); err != nil {
			t.Fatal(err)
		}
	}
	return path, db, store
}

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestBackupWhileWriting(t *testing.T) {
	ctx := context.Background()
	src, _, store := newBackupSource(t, 50)
	outDir := t.TempDir()
	// A signed-in session: its token must not travel in a backup.
	const sessionToken = "session-token-that-signs-someone-in"
	if _, err := store.DB().ExecContext(ctx, `INSERT INTO sessions (token, data, expiry) VALUES (?, x'00', 9e12)`, sessionToken); err != nil {
		t.Fatal(err)
	}

	// A writer adds and renames accounts all through the backups.
	stop := make(chan struct{})
	started := make(chan struct{})
	var wg sync.WaitGroup
	var writes int
	var writeErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := store.CreateAccount(ctx, fmt.Sprintf("new-%05d", i), strings.Repeat("x", 500), "k-new-"+fmt.Sprint(i), nil); err != nil {
				writeErr = err
				return
			}
			if err := store.UpdateAccount(ctx, 1, monitoring.AccountUpdate{Alias: fmt.Sprintf("renamed %d", i), Enabled: true}); err != nil {
				writeErr = err
				return
			}
			writes++
			if i == 5 {
				close(started)
			}
		}
	}()
	select {
	case <-started:
	case <-time.After(30 * time.Second):
		close(stop)
		wg.Wait()
		t.Fatalf("writer did not start: %v", writeErr)
	}

	var targets []string
	for i := range 3 {
		target := filepath.Join(outDir, fmt.Sprintf("backup-%d.db", i))
		var stdout, stderr bytes.Buffer
		err := run(ctx, []string{"backup", "-db", src, target}, envOf(map[string]string{"DASHBOARD_SECRET": backupTestSecret}), &stdout, &stderr)
		if err != nil {
			close(stop)
			wg.Wait()
			t.Fatalf("backup %d: %v (stderr %q)", i, err, stderr.String())
		}
		out := stdout.String()
		if !strings.Contains(out, target) || !strings.Contains(out, "bytes") {
			t.Errorf("backup output does not name the file and its size: %q", out)
		}
		if !strings.Contains(out, "DASHBOARD_SECRET") {
			t.Errorf("backup output lacks the secret reminder: %q", out)
		}
		targets = append(targets, target)
	}
	close(stop)
	wg.Wait()
	if writeErr != nil {
		t.Fatalf("writer: %v", writeErr)
	}
	t.Logf("%d concurrent writes", writes)

	for _, target := range targets {
		db, err := sql.Open("sqlite", "file:"+target+"?mode=ro")
		if err != nil {
			t.Fatal(err)
		}
		var check string
		if err := db.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
			t.Errorf("%s: integrity_check = %q, %v", target, check, err)
		}
		var n int
		if err := db.QueryRow("SELECT count(*) FROM accounts WHERE username LIKE 'acct-%'").Scan(&n); err != nil || n != 50 {
			t.Errorf("%s: %d original accounts, %v; want 50", target, n, err)
		}
		if err := db.QueryRow("SELECT count(*) FROM accounts WHERE username LIKE 'new-%'").Scan(&n); err != nil || n < 5 {
			t.Errorf("%s: %d accounts from the writer, %v; want at least 5", target, n, err)
		}
		if err := db.QueryRow("SELECT count(*) FROM sessions").Scan(&n); err != nil || n != 0 {
			t.Errorf("%s: %d sessions in the copy, %v; want none", target, n, err)
		}
		db.Close()
		if raw, _ := os.ReadFile(target); bytes.Contains(raw, []byte(sessionToken)) {
			t.Errorf("%s: a session token is left in the file", target)
		}
	}

	// A restored copy works with the same secret: the API keys decrypt.
	restored := targets[len(targets)-1]
	db, err := sqlite.OpenDB(ctx, restored, migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sealer, _ := sqlite.NewSealer(backupTestSecret)
	rs := sqlite.NewStore(db, sealer)
	a, err := rs.AccountByUsername(ctx, "acct-007")
	if err != nil {
		t.Fatal(err)
	}
	creds, _, err := rs.Credentials(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if creds.APIKey != "key-007" {
		t.Errorf("restored API key %q, want key-007", creds.APIKey)
	}
}

func TestBackupRefusesExistingTarget(t *testing.T) {
	src, _, _ := newBackupSource(t, 2)
	target := filepath.Join(t.TempDir(), "exists.db")
	if err := os.WriteFile(target, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"backup", "-db", src, target}, envOf(nil), &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("err = %v, want an already-exists error", err)
	}
	if b, _ := os.ReadFile(target); string(b) != "keep me" {
		t.Errorf("existing target changed: %q", b)
	}

	// An empty existing file is not overwritten either.
	empty := filepath.Join(t.TempDir(), "empty.db")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := run(context.Background(), []string{"backup", "-db", src, empty}, envOf(nil), &stdout, &stderr); err == nil {
		t.Error("backup into an existing empty file succeeded")
	}
	if err := run(context.Background(), []string{"backup", "-db", src, src}, envOf(nil), &stdout, &stderr); err == nil {
		t.Error("backup onto the database itself succeeded")
	}
}

func TestBackupSourceMissing(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "nope.db")
	target := filepath.Join(dir, "out.db")
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"backup", "-db", src, target}, envOf(nil), &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "does not exist") || !strings.Contains(err.Error(), src) {
		t.Fatalf("err = %v, want a does-not-exist error naming %s", err, src)
	}
	for _, p := range []string{src, target, src + "-wal", src + ".key"} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s was created (stat err %v)", p, err)
		}
	}
}

func TestBackupArguments(t *testing.T) {
	ctx := context.Background()
	src, _, _ := newBackupSource(t, 3)
	dir := t.TempDir()

	t.Run("DATABASE_PATH env fallback", func(t *testing.T) {
		target := filepath.Join(dir, "env.db")
		var stdout, stderr bytes.Buffer
		if err := run(ctx, []string{"backup", target}, envOf(map[string]string{"DATABASE_PATH": src}), &stdout, &stderr); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(stdout.String(), "3 account") {
			t.Errorf("output %q does not count 3 accounts", stdout.String())
		}
	})
	t.Run("flag after target wins over env", func(t *testing.T) {
		target := filepath.Join(dir, "after.db")
		var stdout, stderr bytes.Buffer
		env := envOf(map[string]string{"DATABASE_PATH": filepath.Join(dir, "missing.db")})
		if err := run(ctx, []string{"backup", target, "-db", src}, env, &stdout, &stderr); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("key file reminder", func(t *testing.T) {
		if err := os.WriteFile(src+".key", []byte("0123456789abcdef0123456789abcdef\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		target := filepath.Join(dir, "key.db")
		var stdout, stderr bytes.Buffer
		if err := run(ctx, []string{"backup", "-db", src, target}, envOf(nil), &stdout, &stderr); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(stdout.String(), src+".key") {
			t.Errorf("output %q does not name the key file", stdout.String())
		}
	})
	t.Run("usage errors", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		if err := run(ctx, []string{"backup", "-db", src}, envOf(nil), &stdout, &stderr); err == nil || !strings.Contains(err.Error(), "missing target") {
			t.Errorf("no target: err = %v", err)
		}
		if err := run(ctx, []string{"backup", "-db", src, "a.db", "b.db"}, envOf(nil), &stdout, &stderr); err == nil {
			t.Error("two targets accepted")
		}
	})
}
