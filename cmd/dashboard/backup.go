package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// runBackup is "dashboard backup [-db FILE] TARGET": a consistent copy of the
// database with VACUUM INTO, safe while the server runs (it reads one
// snapshot of the WAL database and waits out writers with busy_timeout).
func runBackup(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	flags := flag.NewFlagSet("dashboard backup", flag.ContinueOnError)
	flags.SetOutput(stderr)
	defDB := strings.TrimSpace(getenv("DATABASE_PATH"))
	if defDB == "" {
		defDB = "dashboard.db"
	}
	dbPath := flags.String("db", defDB, "SQLite database file to back up (DATABASE_PATH)")
	flags.Usage = func() {
		fmt.Fprintln(flags.Output(), "usage: dashboard backup [-db FILE] TARGET")
		fmt.Fprintln(flags.Output(), "\nWrites a consistent copy of the database to TARGET, which must not exist.\nSafe while the dashboard is running.")
		flags.PrintDefaults()
	}

	// Flags may come before or after the target.
	var target string
	rest := args
	for {
		if err := flags.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return errHelp
			}
			return err
		}
		rest = flags.Args()
		if len(rest) == 0 {
			break
		}
		if target != "" {
			return fmt.Errorf("backup: unexpected argument %q (one target file)", rest[0])
		}
		target, rest = rest[0], rest[1:]
	}
	if target == "" {
		flags.Usage()
		return errors.New("backup: missing target file (dashboard backup [-db FILE] TARGET)")
	}
	src := *dbPath
	if src == "" {
		return errors.New("backup: -db / DATABASE_PATH: empty database path")
	}

	st, err := os.Stat(src)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("backup: database %s does not exist (set -db or DATABASE_PATH)", src)
		}
		return fmt.Errorf("backup: %w", err)
	}
	if st.IsDir() {
		return fmt.Errorf("backup: database %s is a directory", src)
	}
	absSrc, err := filepath.Abs(src)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	absTarget, err := filepath.Abs(target)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if absSrc == absTarget {
		return errors.New("backup: target is the database itself")
	}

	// Claim the target first: O_EXCL never overwrites, and VACUUM INTO
	// accepts an empty file.
	f, err := os.OpenFile(absTarget, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("backup: %s already exists; not overwriting it (choose a new file name)", target)
		}
		return fmt.Errorf("backup: create %s: %w", target, err)
	}
	f.Close()
	ok := false
	defer func() {
		if !ok {
			os.Remove(absTarget)
		}
	}()

	if err := vacuumInto(ctx, absSrc, absTarget); err != nil {
		return fmt.Errorf("backup of %s: %w", src, err)
	}
	if err := dropSessions(ctx, absTarget); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	// VACUUM INTO does not sync its output.
	if err := syncFile(absTarget); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	accounts, err := checkBackup(ctx, absTarget)
	if err != nil {
		return fmt.Errorf("backup: the copy failed its check: %w", err)
	}
	out, err := os.Stat(absTarget)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	ok = true

	what := ""
	if accounts >= 0 {
		what = fmt.Sprintf(", %d account(s)", accounts)
	}
	fmt.Fprintf(stdout, "Backed up %s to %s (%s, %d bytes%s; integrity ok)\n",
		src, target, humanBytes(out.Size()), out.Size(), what)
	fmt.Fprintln(stdout, keyReminder(src, getenv))
	return nil
}

// sqliteDSN is a modernc.org/sqlite DSN for an existing file: mode=rw never
// creates it, and nothing here changes the journal mode or migrates.
func sqliteDSN(path string) string {
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?mode=rw&_pragma=busy_timeout(10000)"
}

// vacuumInto copies src into the (empty) file target with one statement,
// which reads a single consistent snapshot.
func vacuumInto(ctx context.Context, src, target string) error {
	db, err := sql.Open("sqlite", sqliteDSN(src))
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, "VACUUM INTO ?", target); err != nil {
		return err
	}
	return db.Close()
}

// dropSessions empties the copy's session table: a session token there is
// a sign-in, and a backup travels further than the live database. VACUUM
// then rewrites the file so the deleted rows leave no trace in free pages.
func dropSessions(ctx context.Context, path string) error {
	db, err := sql.Open("sqlite", sqliteDSN(path))
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'sessions'`).Scan(&n); err != nil {
		return fmt.Errorf("dropping sessions from the copy: %w", err)
	}
	if n == 0 {
		return db.Close()
	}
	if _, err := db.ExecContext(ctx, `DELETE FROM sessions`); err != nil {
		return fmt.Errorf("dropping sessions from the copy: %w", err)
	}
	if _, err := db.ExecContext(ctx, `VACUUM`); err != nil {
		return fmt.Errorf("compacting the copy: %w", err)
	}
	return db.Close()
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// checkBackup runs integrity_check on the copy and counts its accounts (-1
// when it has no accounts table).
func checkBackup(ctx context.Context, path string) (int, error) {
	db, err := sql.Open("sqlite", sqliteDSN(path))
	if err != nil {
		return 0, err
	}
	defer db.Close()
	var res string
	if err := db.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&res); err != nil {
		return 0, err
	}
	if res != "ok" {
		return 0, fmt.Errorf("integrity_check: %s", res)
	}
	n := -1
	var has int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'accounts'").Scan(&has); err != nil {
		return 0, err
	}
	if has == 1 {
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM accounts").Scan(&n); err != nil {
			return 0, err
		}
	}
	return n, db.Close()
}

// keyReminder says what a restore needs besides the file: API keys in it
// are encrypted with DASHBOARD_SECRET or the key file beside the database.
func keyReminder(src string, getenv func(string) string) string {
	if strings.TrimSpace(getenv("DASHBOARD_SECRET")) != "" {
		return "Note: API keys in the backup are encrypted with DASHBOARD_SECRET; a restore needs the same DASHBOARD_SECRET."
	}
	keyPath := src + ".key"
	if _, err := os.Stat(keyPath); err == nil {
		return fmt.Sprintf("Note: unless the server sets DASHBOARD_SECRET, API keys in the backup are encrypted with the key file %s, which is not in the backup: keep a copy of it; a restore needs the same key file.", keyPath)
	}
	return fmt.Sprintf("Note: API keys in the backup are encrypted with the server's DASHBOARD_SECRET or, when that is not set, its key file %s; a restore needs the same one.", keyPath)
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
