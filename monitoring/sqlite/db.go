package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver, pure Go

	"cmdash/monitoring"
)

// OpenDB opens (creating if needed) the SQLite file at path and applies the
// migrations in migrationsFS.
//
// The file holds sealed keys and live sessions: it is created readable by
// its owner only (SQLite gives its -wal and -shm files the same mode), and
// an existing file readable by others is made private.
func OpenDB(ctx context.Context, path string, migrationsFS fs.FS) (*sql.DB, error) {
	if err := privateFile(path); err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return OpenPrimary(ctx, path, migrationsFS)
}

// OpenReplica opens an existing database that another process writes (a
// LiteFS replica): nothing is created, changed or migrated. The handle is
// the same as OpenDB's, so that the process can take over writing after a
// promotion (see Migrate).
func OpenReplica(ctx context.Context, path string) (*sql.DB, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return open(ctx, path)
}

// OpenPrimary opens (creating if needed) and migrates a database whose
// files belong to the file system that holds them: a LiteFS mount, whose
// modes are its own. Otherwise as OpenDB.
func OpenPrimary(ctx context.Context, path string, migrationsFS fs.FS) (*sql.DB, error) {
	db, err := open(ctx, path)
	if err != nil {
		return nil, err
	}
	if err := Migrate(ctx, db, migrationsFS); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate %s: %w", path, err)
	}
	return db, nil
}

func open(ctx context.Context, path string) (*sql.DB, error) {
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() +
		"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return db, nil
}

// Migrate applies the migrations in migrationsFS that the database lacks.
func Migrate(ctx context.Context, db *sql.DB, migrationsFS fs.FS) error {
	prov, err := goose.NewProvider(goose.DialectSQLite3, db, migrationsFS)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	if _, err := prov.Up(ctx); err != nil {
		return err
	}
	return nil
}

// privateFile creates path with mode 0600 when it does not exist, and takes
// group and other permissions off an existing file and its -wal and -shm.
func privateFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	f.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		st, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if st.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(p, st.Mode().Perm()&0o700); err != nil {
				return err
			}
		}
	}
	return nil
}

// Store is the dashboard's SQLite storage.
type Store struct {
	db     *sql.DB
	sealer *Sealer
	now    func() time.Time

	mu       sync.Mutex
	cache    map[int64]*monitoring.Snapshot // summaries of the latest snapshots, by account
	users    map[string]monitoring.User     // remembered UserByName answers
	pages    map[int64][]int64              // hashes of the stored snapshot pages, by account
	usersGen uint64                         // advances with every write to users

	wallLinks    map[string]*wallLinkEntry // remembered wall links, by token hash
	wallLinksGen uint64                    // advances with every link added or revoked
	outsideGen   uint64                    // advances when another process changed the database (see Follow)
	onRefresh    []func()                  // see OnRefresh

	// gen advances with every change the pages show: a stored poll (with
	// the acknowledgements it settled), an account, a saved filter or an
	// acknowledgement added, changed or removed.
	gen      atomic.Uint64
	onChange atomic.Pointer[func()] // told when gen advances (see OnChange)

	retention atomic.Pointer[monitoring.Retention] // the history's bounds; nil: DefaultRetention

	readOnly atomic.Bool // see SetReadOnly

	cost       atomic.Int32           // bcrypt cost of new passwords; 0: bcrypt.DefaultCost
	cheapDummy atomic.Pointer[[]byte] // the dummy hash at that cost, when set
}

// Generation is a number that advances whenever what the pages show may
// have changed; equal numbers mean nothing changed in between.
func (s *Store) Generation() uint64 { return s.gen.Load() }

func (s *Store) changed() {
	s.gen.Add(1)
	if f := s.onChange.Load(); f != nil {
		(*f)()
	}
}

// OnChange has f called, after the write, whenever the generation advances
// (see Generation): a wall model waiting to rebuild (wall.Service.Wake). f
// must not block.
func (s *Store) OnChange(f func()) { s.onChange.Store(&f) }

// NewStore wraps an opened, migrated database.
func NewStore(db *sql.DB, sealer *Sealer) *Store {
	return &Store{db: db, sealer: sealer, now: time.Now, cache: map[int64]*monitoring.Snapshot{}, users: map[string]monitoring.User{},
		pages: map[int64][]int64{}, wallLinks: map[string]*wallLinkEntry{}}
}

// DB exposes the handle for health checks and sessions.
func (s *Store) DB() *sql.DB { return s.db }

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	return s.db.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

// nullBytes binds nil as NULL.
func nullBytes(b []byte) any {
	if b == nil {
		return nil
	}
	return b
}

// nullString binds "" as NULL.
func nullString(v string) any {
	if v == "" {
		return nil
	}
	return v
}
