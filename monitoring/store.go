package monitoring

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver, pure Go
)

// Store errors.
var (
	ErrNotFound  = errors.New("not found")
	ErrDuplicate = errors.New("already exists")
	// ErrStalePoll: the account got a new API key while the poll ran with
	// the old one; its outcome is not recorded.
	ErrStalePoll = errors.New("poll used a replaced API key")
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
	prov, err := goose.NewProvider(goose.DialectSQLite3, db, migrationsFS)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("migrations: %w", err)
	}
	if _, err := prov.Up(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate %s: %w", path, err)
	}
	return db, nil
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

// Account is a Rackspace account as the dashboard knows it. It never holds
// the API key.
type Account struct {
	ID       int64
	Username string
	Alias    string
	Enabled  bool
	// KeyVersion changes with every new API key; a poll records its outcome
	// only if the key it used is still the account's key.
	KeyVersion int64
	CreatedAt  time.Time
	Status     PollStatus
}

// Name is what the dashboard calls the account: its alias, else its username.
func (a Account) Name() string {
	if strings.TrimSpace(a.Alias) != "" {
		return a.Alias
	}
	return a.Username
}

// PollStatus is the poller's bookkeeping for one account.
type PollStatus struct {
	LastPolledAt  time.Time
	LastSuccessAt time.Time
	LastError     string
	ErrorKind     string
	ErrorCount    int
	NextPollAt    time.Time
	RateLimit     RateLimit
}

// Filter is a saved search.
type Filter struct {
	ID        int64
	Name      string
	Query     string
	CreatedAt time.Time
}

// Store is the dashboard's SQLite storage.
type Store struct {
	db     *sql.DB
	sealer *Sealer
	now    func() time.Time

	mu       sync.Mutex
	cache    map[int64]*Snapshot // summaries of the latest snapshots, by account
	users    map[string]User     // remembered UserByName answers
	pages    map[int64][]int64   // hashes of the stored snapshot pages, by account
	usersGen uint64              // advances with every write to users

	wallLinks    map[string]*wallLinkEntry // remembered wall links, by token hash
	wallLinksGen uint64                    // advances with every link added or revoked

	// gen advances with every change the pages show: a stored poll, an
	// account or a saved filter added, changed or removed.
	gen atomic.Uint64

	retention atomic.Pointer[Retention] // the history's bounds; nil: DefaultRetention
}

// Generation is a number that advances whenever what the pages show may
// have changed; equal numbers mean nothing changed in between.
func (s *Store) Generation() uint64 { return s.gen.Load() }

func (s *Store) changed() { s.gen.Add(1) }

// NewStore wraps an opened, migrated database.
func NewStore(db *sql.DB, sealer *Sealer) *Store {
	return &Store{db: db, sealer: sealer, now: time.Now, cache: map[int64]*Snapshot{}, users: map[string]User{},
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

func keyAAD(username string) []byte   { return []byte("apikey:" + strings.ToLower(username)) }
func tokenAAD(username string) []byte { return []byte("token:" + strings.ToLower(username)) }

const accountCols = `id, username, alias, enabled, key_version, created_at, last_polled_at, last_success_at,
	last_error, error_kind, error_count, next_poll_at, ratelimit_limit, ratelimit_used`

func scanAccount(row interface{ Scan(...any) error }) (Account, error) {
	var a Account
	var created, polled, success, next int64
	err := row.Scan(&a.ID, &a.Username, &a.Alias, &a.Enabled, &a.KeyVersion, &created, &polled, &success,
		&a.Status.LastError, &a.Status.ErrorKind, &a.Status.ErrorCount, &next,
		&a.Status.RateLimit.Limit, &a.Status.RateLimit.Used)
	if err != nil {
		return a, err
	}
	a.CreatedAt, a.Status.LastPolledAt, a.Status.LastSuccessAt, a.Status.NextPollAt =
		fromMS(created), fromMS(polled), fromMS(success), fromMS(next)
	if a.Status.RateLimit.Limit > 0 {
		a.Status.RateLimit.Known = true
		a.Status.RateLimit.Remaining = max(a.Status.RateLimit.Limit-a.Status.RateLimit.Used, 0)
	}
	return a, nil
}

// ListAccounts returns every account, by display name.
func (s *Store) ListAccounts(ctx context.Context) ([]Account, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+accountCols+` FROM accounts
		ORDER BY lower(CASE WHEN alias <> '' THEN alias ELSE username END), id`)
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	defer rows.Close()
	var out []Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, fmt.Errorf("list accounts: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	return out, nil
}

// Account returns one account by id.
func (s *Store) Account(ctx context.Context, id int64) (Account, error) {
	a, err := scanAccount(s.db.QueryRowContext(ctx, `SELECT `+accountCols+` FROM accounts WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return a, ErrNotFound
	}
	if err != nil {
		return a, fmt.Errorf("account %d: %w", id, err)
	}
	return a, nil
}

// AccountByUsername returns one account by username (case-insensitive).
func (s *Store) AccountByUsername(ctx context.Context, username string) (Account, error) {
	a, err := scanAccount(s.db.QueryRowContext(ctx, `SELECT `+accountCols+` FROM accounts WHERE username = ?`, username))
	if errors.Is(err, sql.ErrNoRows) {
		return a, ErrNotFound
	}
	if err != nil {
		return a, fmt.Errorf("account %q: %w", username, err)
	}
	return a, nil
}

// CreateAccount adds an account, due for its first poll at once. tok, when
// not nil, is the token the credential check obtained, kept for reuse.
func (s *Store) CreateAccount(ctx context.Context, username, alias, apiKey string, tok *Token) (Account, error) {
	now := s.now()
	var tokSealed []byte
	if tok != nil {
		raw, err := json.Marshal(tok)
		if err != nil {
			return Account{}, fmt.Errorf("create account: %w", err)
		}
		tokSealed = s.sealer.Seal(raw, tokenAAD(username))
	}
	res, err := s.db.ExecContext(ctx, `INSERT INTO accounts (username, alias, apikey_sealed, token_sealed, created_at, next_poll_at)
		VALUES (?, ?, ?, ?, ?, ?)`, username, alias, s.sealer.Seal([]byte(apiKey), keyAAD(username)), tokSealed, ms(now), ms(now))
	if err != nil {
		if isUniqueViolation(err) {
			return Account{}, ErrDuplicate
		}
		return Account{}, fmt.Errorf("create account: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return Account{}, fmt.Errorf("create account: %w", err)
	}
	s.mu.Lock()
	delete(s.cache, id)
	delete(s.pages, id)
	s.mu.Unlock()
	s.changed()
	return s.Account(ctx, id)
}

// AccountUpdate changes an account; a nil APIKey keeps the old key.
type AccountUpdate struct {
	Alias   string
	APIKey  *string
	Enabled bool
	// Token replaces the cached token (set with a new key).
	Token *Token
}

// UpdateAccount applies u. A new key drops the cached token and makes the
// account due at once.
func (s *Store) UpdateAccount(ctx context.Context, id int64, u AccountUpdate) error {
	a, err := s.Account(ctx, id)
	if err != nil {
		return err
	}
	var res sql.Result
	if u.APIKey != nil {
		var tokSealed []byte
		if u.Token != nil {
			raw, _ := json.Marshal(u.Token)
			tokSealed = s.sealer.Seal(raw, tokenAAD(a.Username))
		}
		res, err = s.db.ExecContext(ctx, `UPDATE accounts SET alias = ?, enabled = ?, apikey_sealed = ?, token_sealed = ?,
			key_version = key_version + 1, next_poll_at = ?, error_count = 0, last_error = '', error_kind = '' WHERE id = ?`,
			u.Alias, u.Enabled, s.sealer.Seal([]byte(*u.APIKey), keyAAD(a.Username)), tokSealed, ms(s.now()), id)
	} else {
		res, err = s.db.ExecContext(ctx, `UPDATE accounts SET alias = ?, enabled = ?,
			next_poll_at = CASE WHEN enabled = 0 AND ? THEN ? ELSE next_poll_at END WHERE id = ?`,
			u.Alias, u.Enabled, u.Enabled, ms(s.now()), id)
	}
	if err != nil {
		return fmt.Errorf("update account %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	s.changed()
	return nil
}

// DeleteAccount removes an account with its snapshot.
func (s *Store) DeleteAccount(ctx context.Context, id int64) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM accounts WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("delete account %d: %w", id, err)
	}
	s.mu.Lock()
	delete(s.cache, id)
	delete(s.pages, id)
	s.mu.Unlock()
	s.changed()
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// Credentials returns the decrypted credentials and the cached token (nil
// when none or unreadable).
func (s *Store) Credentials(ctx context.Context, id int64) (Credentials, *Token, error) {
	var cr Credentials
	var keySealed, tokSealed []byte
	err := s.db.QueryRowContext(ctx, `SELECT username, apikey_sealed, token_sealed FROM accounts WHERE id = ?`, id).
		Scan(&cr.Username, &keySealed, &tokSealed)
	if errors.Is(err, sql.ErrNoRows) {
		return cr, nil, ErrNotFound
	}
	if err != nil {
		return cr, nil, fmt.Errorf("credentials %d: %w", id, err)
	}
	key, err := s.sealer.Open(keySealed, keyAAD(cr.Username))
	if err != nil {
		return cr, nil, fmt.Errorf("credentials of %s: %w", cr.Username, err)
	}
	cr.APIKey = string(key)
	var tok *Token
	if len(tokSealed) > 0 {
		if raw, err := s.sealer.Open(tokSealed, tokenAAD(cr.Username)); err == nil {
			var t Token
			if json.Unmarshal(raw, &t) == nil {
				tok = &t
			}
		}
	}
	return cr, tok, nil
}

// SaveToken keeps a token obtained outside a poll (an auth check asked for
// through the API) for the account's next poll. It is kept only while the
// account still has the key it was obtained with, keyVersion; otherwise
// ErrStalePoll. Nothing the pages show changes, so the generation stays.
func (s *Store) SaveToken(ctx context.Context, id, keyVersion int64, tok Token) error {
	username, err := s.username(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return err
	}
	if err != nil {
		return fmt.Errorf("save token: %w", err)
	}
	sealed, err := s.sealToken(username, &tok)
	if err != nil {
		return fmt.Errorf("save token: %w", err)
	}
	// The username is in the condition because the token was sealed for it.
	res, err := s.db.ExecContext(ctx, `UPDATE accounts SET token_sealed = ? WHERE id = ? AND username = ? AND key_version = ?`,
		sealed, id, username, keyVersion)
	if err != nil {
		return fmt.Errorf("save token: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return s.whyNotSaved(ctx, id)
	}
	return nil
}

// DueAccounts returns the enabled accounts whose next poll is at or before now.
func (s *Store) DueAccounts(ctx context.Context, now time.Time) ([]int64, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id FROM accounts WHERE enabled = 1 AND next_poll_at <= ? ORDER BY next_poll_at, id`, ms(now))
	if err != nil {
		return nil, fmt.Errorf("due accounts: %w", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("due accounts: %w", err)
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// NextDue returns when the next enabled account is due (zero when none).
func (s *Store) NextDue(ctx context.Context) (time.Time, error) {
	var next sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT min(next_poll_at) FROM accounts WHERE enabled = 1`).Scan(&next)
	if err != nil {
		return time.Time{}, fmt.Errorf("next due: %w", err)
	}
	if !next.Valid {
		return time.Time{}, nil
	}
	return time.UnixMilli(next.Int64), nil
}

// SetNextPoll reschedules an account.
func (s *Store) SetNextPoll(ctx context.Context, id int64, at time.Time) error {
	res, err := s.db.ExecContext(ctx, `UPDATE accounts SET next_poll_at = ? WHERE id = ?`, ms(at), id)
	if err != nil {
		return fmt.Errorf("schedule account %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// PollSuccess is what a good poll records.
type PollSuccess struct {
	KeyVersion int64 // the key the poll used; 0 skips the check
	// Built is the snapshot as a SnapshotBuilder made it; when nil,
	// Snapshot is stored instead.
	Built     *BuiltSnapshot
	Snapshot  Snapshot
	Token     Token
	RateLimit RateLimit
	PolledAt  time.Time
	NextPoll  time.Time
}

// NewSnapshotBuilder starts the snapshot of a poll of account id: it knows
// the stored pages, so that only changed pages are encoded, and compares
// those with their stored versions to find the poll's changes (unless the
// history is off, or nothing is stored yet).
func (s *Store) NewSnapshotBuilder(ctx context.Context, id int64) (*SnapshotBuilder, error) {
	stored, err := s.pageHashes(ctx, id)
	if err != nil {
		return nil, err
	}
	b := &SnapshotBuilder{stored: stored}
	if !s.Retention().Off() {
		if b.hist, err = s.newDiffer(ctx, id, stored); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// pageHashes returns the hashes of an account's stored pages, remembered
// after the first read.
func (s *Store) pageHashes(ctx context.Context, id int64) ([]int64, error) {
	s.mu.Lock()
	h, ok := s.pages[id]
	s.mu.Unlock()
	if ok {
		return h, nil
	}
	rows, err := s.db.QueryContext(ctx, `SELECT hash FROM snapshot_pages WHERE account_id = ? ORDER BY page`, id)
	if err != nil {
		return nil, fmt.Errorf("snapshot pages %d: %w", id, err)
	}
	defer rows.Close()
	h = []int64{}
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("snapshot pages %d: %w", id, err)
		}
		h = append(h, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("snapshot pages %d: %w", id, err)
	}
	s.mu.Lock()
	if _, ok := s.pages[id]; !ok {
		s.pages[id] = h
	}
	s.mu.Unlock()
	return h, nil
}

// SavePollSuccess stores the snapshot, the token in use and a clean status,
// in one transaction. Many polls finish at once and SQLite has one writer,
// so everything that can happen outside the transaction does: the snapshot
// is encoded and the token sealed first, and the transaction only writes.
//
// Only the pages whose content changed are written. A poll that brought
// exactly the data of the one before (the usual case: states change far
// less often than accounts are polled) only moves the snapshot's time.
//
// The changes the builder found between the stored snapshot and this one
// are recorded in the same transaction (see Event), once it has checked
// that the stored pages are still those the builder compared with.
func (s *Store) SavePollSuccess(ctx context.Context, id int64, p PollSuccess) error {
	built := p.Built
	if built == nil {
		b, err := s.NewSnapshotBuilder(ctx, id)
		if err != nil {
			return fmt.Errorf("save poll: %w", err)
		}
		b.Page(p.Snapshot.Servers)
		built = b.Finish(p.Snapshot.FetchedAt)
	}
	if built.err != nil {
		return built.err
	}
	stored, err := s.pageHashes(ctx, id)
	if err != nil {
		return fmt.Errorf("save poll: %w", err)
	}
	same := built.unchanged(stored)
	username, err := s.username(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return ErrNotFound // removed while polling
	}
	if err != nil {
		return fmt.Errorf("save poll: %w", err)
	}
	tokSealed, err := s.sealToken(username, &p.Token)
	if err != nil {
		return fmt.Errorf("save poll: %w", err)
	}

	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("save poll: %w", err)
	}
	defer tx.Rollback()
	committed := false
	defer func() {
		if !committed { // what is stored is not known for sure: read it again next time
			s.mu.Lock()
			delete(s.pages, id)
			s.mu.Unlock()
		}
	}()
	// The username is in the condition because the token was sealed for it.
	res, err := tx.ExecContext(ctx, `UPDATE accounts SET token_sealed = ?, last_polled_at = ?, last_success_at = ?,
		last_error = '', error_kind = '', error_count = 0, next_poll_at = ?, ratelimit_limit = ?, ratelimit_used = ?
		WHERE id = ? AND username = ? AND (? = 0 OR key_version = ?)`, tokSealed, ms(p.PolledAt), ms(p.PolledAt), ms(p.NextPoll),
		p.RateLimit.Limit, p.RateLimit.Used, id, username, p.KeyVersion, p.KeyVersion)
	if err != nil {
		return fmt.Errorf("save poll: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		_ = tx.Rollback()
		return s.whyNotSaved(ctx, id)
	}
	if built.compared && !same {
		now, err := storedHashes(ctx, tx, id)
		if err != nil {
			return fmt.Errorf("save poll: %w", err)
		}
		if !slices.Equal(now, built.base) {
			return fmt.Errorf("save poll: %w", errSnapshotMoved)
		}
		// Read inside the transaction: it follows the commit order.
		if err := insertEvents(ctx, tx, id, s.now(), built.events); err != nil {
			return err
		}
	}
	for i, pg := range built.pages {
		if pg.data == nil {
			continue
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO snapshot_pages (account_id, page, hash, data) VALUES (?, ?, ?, ?)
			ON CONFLICT (account_id, page) DO UPDATE SET hash = excluded.hash, data = excluded.data`, id, i, pg.hash, pg.data); err != nil {
			return fmt.Errorf("save snapshot: %w", err)
		}
	}
	if len(built.pages) < len(stored) {
		if _, err := tx.ExecContext(ctx, `DELETE FROM snapshot_pages WHERE account_id = ? AND page >= ?`, id, len(built.pages)); err != nil {
			return fmt.Errorf("save snapshot: %w", err)
		}
	}
	// An empty data column says the snapshot is in snapshot_pages.
	if _, err := tx.ExecContext(ctx, `INSERT INTO snapshots (account_id, fetched_at, data) VALUES (?, ?, x'')
		ON CONFLICT (account_id) DO UPDATE SET fetched_at = excluded.fetched_at, data = x''`,
		id, ms(built.FetchedAt)); err != nil {
		return fmt.Errorf("save snapshot: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("save poll: %w", err)
	}
	committed = true
	s.mu.Lock()
	s.pages[id] = built.hashes()
	if cur := s.cache[id]; same && cur != nil {
		moved := *cur // shared with readers: a copy with the new time
		moved.FetchedAt = built.FetchedAt
		s.cache[id] = &moved
	} else {
		s.cache[id] = built.summary
	}
	s.mu.Unlock()
	s.changed()
	return nil
}

// username is an account's username (which never changes), or ErrNotFound.
func (s *Store) username(ctx context.Context, id int64) (string, error) {
	var username string
	err := s.db.QueryRowContext(ctx, `SELECT username FROM accounts WHERE id = ?`, id).Scan(&username)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	return username, err
}

// sealToken encodes and seals tok for the account; nil stays nil.
func (s *Store) sealToken(username string, tok *Token) ([]byte, error) {
	if tok == nil {
		return nil, nil
	}
	raw, err := json.Marshal(tok)
	if err != nil {
		return nil, fmt.Errorf("encode token: %w", err)
	}
	return s.sealer.Seal(raw, tokenAAD(username)), nil
}

// whyNotSaved tells why a poll's update matched no row: the account is gone
// (ErrNotFound) or has another key now (ErrStalePoll).
func (s *Store) whyNotSaved(ctx context.Context, id int64) error {
	if _, err := s.username(ctx, id); errors.Is(err, ErrNotFound) {
		return ErrNotFound
	}
	return ErrStalePoll
}

// PollFailure is what a failed poll records. The snapshot is left alone.
type PollFailure struct {
	KeyVersion int64  // the key the poll used; 0 skips the check
	Message    string // in words a person can act on
	Kind       string
	PolledAt   time.Time
	NextPoll   time.Time
	// Token, when not nil, is a token obtained before the failure, kept so
	// the next poll need not log in again.
	Token *Token
	// ForgetToken drops the stored token (when Token is nil), so the next
	// poll logs in afresh.
	ForgetToken bool
}

// SavePollFailure records a failed poll in one statement; the snapshot is
// left alone. The status and the token are one UPDATE under the key-version
// check: a poll made with a replaced key stores neither, and a key replaced
// at any moment never ends up with the old key's token.
func (s *Store) SavePollFailure(ctx context.Context, id int64, f PollFailure) error {
	var username string
	var tokSealed []byte
	if f.Token != nil {
		var err error
		if username, err = s.username(ctx, id); err != nil {
			if errors.Is(err, ErrNotFound) {
				return err
			}
			return fmt.Errorf("save poll failure: %w", err)
		}
		if tokSealed, err = s.sealToken(username, f.Token); err != nil {
			return fmt.Errorf("save poll failure: %w", err)
		}
	}
	// A NULL token keeps the one stored unless it is to be forgotten; the
	// username condition only applies with a token, which was sealed for it.
	res, err := s.db.ExecContext(ctx, `UPDATE accounts SET last_polled_at = ?, last_error = ?, error_kind = ?,
		error_count = error_count + 1, next_poll_at = ?,
		token_sealed = CASE WHEN ? IS NULL AND ? THEN NULL ELSE COALESCE(?, token_sealed) END
		WHERE id = ? AND (? = 0 OR key_version = ?) AND (? IS NULL OR username = ?)`,
		ms(f.PolledAt), f.Message, f.Kind, ms(f.NextPoll), nullBytes(tokSealed), f.ForgetToken, nullBytes(tokSealed),
		id, f.KeyVersion, f.KeyVersion, nullString(username), username)
	if err != nil {
		return fmt.Errorf("save poll failure: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return s.whyNotSaved(ctx, id)
	}
	s.changed()
	return nil
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

// Snapshot returns the latest good snapshot of an account with every
// alarm, read from the database (the server page, the API), or nil when it
// has never been polled successfully.
func (s *Store) Snapshot(ctx context.Context, id int64) (*Snapshot, error) {
	return s.snapshot(ctx, id, func(*Server) bool { return true })
}

// SnapshotServer is Snapshot with one server at most: the one with
// serverID, when the latest snapshot has it.
func (s *Store) SnapshotServer(ctx context.Context, id int64, serverID string) (*Snapshot, error) {
	return s.snapshot(ctx, id, func(srv *Server) bool { return srv.ID == serverID })
}

// snapshot reads an account's stored snapshot, keeping the servers keep
// accepts (and as keep leaves them), in the wall's order.
func (s *Store) snapshot(ctx context.Context, id int64, keep func(*Server) bool) (*Snapshot, error) {
	// One statement, so the time and the pages are of the same poll.
	rows, err := s.db.QueryContext(ctx, `SELECT s.fetched_at, s.data, p.data FROM snapshots s
		LEFT JOIN snapshot_pages p ON p.account_id = s.account_id WHERE s.account_id = ? ORDER BY p.page`, id)
	if err != nil {
		return nil, fmt.Errorf("snapshot %d: %w", id, err)
	}
	defer rows.Close()
	var snap *Snapshot
	for rows.Next() {
		var fetched int64
		var whole, page []byte
		if err := rows.Scan(&fetched, &whole, &page); err != nil {
			return nil, fmt.Errorf("snapshot %d: %w", id, err)
		}
		if snap == nil {
			snap = &Snapshot{Servers: []Server{}}
		}
		snap.FetchedAt = fromMS(fetched)
		switch {
		case len(whole) > 0: // written before pages
			old, err := decodeWhole(whole, keep)
			if err != nil {
				return nil, fmt.Errorf("snapshot %d: %w", id, err)
			}
			snap.Servers = append(snap.Servers, old.Servers...)
		case page != nil:
			if snap.Servers, err = decodePage(page, keep, snap.Servers); err != nil {
				return nil, fmt.Errorf("snapshot %d: %w", id, err)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("snapshot %d: %w", id, err)
	}
	if snap != nil {
		sortServers(snap.Servers)
	}
	return snap, nil
}

// summaryOf keeps of a server what the wall shows: its id, label, counts
// and worst state, without the alarms.
func summaryOf(srv *Server) Server {
	return Server{ID: srv.ID, Label: srv.Label, Counts: srv.Counts, Worst: srv.Worst}
}

// Summary returns the wall's part of an account's latest snapshot (see
// summaryOf), kept in memory, or nil when there is none. Summaries are
// shared: callers must not modify them.
func (s *Store) Summary(ctx context.Context, id int64) (*Snapshot, error) {
	s.mu.Lock()
	sum, ok := s.cache[id]
	s.mu.Unlock()
	if ok {
		return sum, nil
	}
	sum, err := s.snapshot(ctx, id, func(srv *Server) bool {
		*srv = summaryOf(srv)
		return true
	})
	if err != nil || sum == nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur, ok := s.cache[id]; ok && !cur.FetchedAt.Before(sum.FetchedAt) {
		return cur, nil // a poll saved a newer one meanwhile
	}
	s.cache[id] = sum
	return sum, nil
}

// Summaries returns the summary of every account that has a snapshot,
// keyed by account id (see Summary).
func (s *Store) Summaries(ctx context.Context) (map[int64]*Snapshot, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT account_id FROM snapshots`)
	if err != nil {
		return nil, fmt.Errorf("snapshots: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("snapshots: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("snapshots: %w", err)
	}
	out := make(map[int64]*Snapshot, len(ids))
	for _, id := range ids {
		sum, err := s.Summary(ctx, id)
		if err != nil {
			return nil, err
		}
		if sum != nil {
			out[id] = sum
		}
	}
	return out, nil
}

// ListFilters returns the saved filters by name.
func (s *Store) ListFilters(ctx context.Context) ([]Filter, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, name, query, created_at FROM filters ORDER BY lower(name), id`)
	if err != nil {
		return nil, fmt.Errorf("list filters: %w", err)
	}
	defer rows.Close()
	var out []Filter
	for rows.Next() {
		var f Filter
		var created int64
		if err := rows.Scan(&f.ID, &f.Name, &f.Query, &created); err != nil {
			return nil, fmt.Errorf("list filters: %w", err)
		}
		f.CreatedAt = fromMS(created)
		out = append(out, f)
	}
	return out, rows.Err()
}

// CreateFilter saves a query under a name.
func (s *Store) CreateFilter(ctx context.Context, name, query string) (Filter, error) {
	now := s.now()
	res, err := s.db.ExecContext(ctx, `INSERT INTO filters (name, query, created_at) VALUES (?, ?, ?)`, name, query, ms(now))
	if err != nil {
		if isUniqueViolation(err) {
			return Filter{}, ErrDuplicate
		}
		return Filter{}, fmt.Errorf("create filter: %w", err)
	}
	id, _ := res.LastInsertId()
	s.changed()
	return Filter{ID: id, Name: name, Query: query, CreatedAt: fromMS(ms(now))}, nil
}

// DeleteFilter removes a saved filter by id.
func (s *Store) DeleteFilter(ctx context.Context, id int64) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM filters WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("delete filter: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	s.changed()
	return nil
}

func isUniqueViolation(err error) bool {
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// ClearTokens forgets every cached Identity token (e.g. when the upstream
// that issued them is known to be gone).
func (s *Store) ClearTokens(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE accounts SET token_sealed = NULL`); err != nil {
		return fmt.Errorf("clear tokens: %w", err)
	}
	return nil
}
