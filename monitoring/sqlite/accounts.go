package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"cmdash/monitoring"
)

func keyAAD(username string) []byte { return []byte("apikey:" + strings.ToLower(username)) }

func tokenAAD(username string) []byte { return []byte("token:" + strings.ToLower(username)) }

const accountCols = `id, username, alias, enabled, key_version, created_at, last_polled_at, last_success_at,
	last_error, error_kind, error_count, next_poll_at, ratelimit_limit, ratelimit_used, ratelimit_window`

// scanAccount reads a row of accountCols, and then into more, when given.
func scanAccount(row interface{ Scan(...any) error }, more ...any) (monitoring.Account, error) {
	var a monitoring.Account
	var created, polled, success, next int64
	err := row.Scan(append([]any{&a.ID, &a.Username, &a.Alias, &a.Enabled, &a.KeyVersion, &created, &polled, &success,
		&a.Status.LastError, &a.Status.ErrorKind, &a.Status.ErrorCount, &next,
		&a.Status.RateLimit.Limit, &a.Status.RateLimit.Used, &a.Status.RateLimit.Window}, more...)...)
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

// ListAccounts returns every account in monitoring.AccountOrder: by name,
// numbers in it by their value ("Customer 6" before "Customer 10"), which
// SQLite's collations cannot do.
func (s *Store) ListAccounts(ctx context.Context) ([]monitoring.Account, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+accountCols+` FROM accounts ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	defer rows.Close()
	var out []monitoring.Account
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
	monitoring.SortAccounts(out)
	return out, nil
}

// Account returns one account by id.
func (s *Store) Account(ctx context.Context, id int64) (monitoring.Account, error) {
	a, err := scanAccount(s.db.QueryRowContext(ctx, `SELECT `+accountCols+` FROM accounts WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return a, monitoring.ErrNotFound
	}
	if err != nil {
		return a, fmt.Errorf("account %d: %w", id, err)
	}
	return a, nil
}

// AccountByUsername returns one account by username (case-insensitive).
func (s *Store) AccountByUsername(ctx context.Context, username string) (monitoring.Account, error) {
	a, err := scanAccount(s.db.QueryRowContext(ctx, `SELECT `+accountCols+` FROM accounts WHERE username = ?`, username))
	if errors.Is(err, sql.ErrNoRows) {
		return a, monitoring.ErrNotFound
	}
	if err != nil {
		return a, fmt.Errorf("account %q: %w", username, err)
	}
	return a, nil
}

// CreateAccount adds an account, due for its first poll at once. tok, when
// not nil, is the token the credential check obtained, kept for reuse.
func (s *Store) CreateAccount(ctx context.Context, username, alias, apiKey string, tok *monitoring.Token) (monitoring.Account, error) {
	now := s.now()
	tokSealed, err := s.sealToken(username, tok)
	if err != nil {
		return monitoring.Account{}, fmt.Errorf("create account: %w", err)
	}
	res, err := s.db.ExecContext(ctx, `INSERT INTO accounts (username, alias, apikey_sealed, token_sealed, created_at, next_poll_at)
		VALUES (?, ?, ?, ?, ?, ?)`, username, alias, s.sealer.Seal([]byte(apiKey), keyAAD(username)), tokSealed, ms(now), ms(now))
	if err != nil {
		if isUniqueViolation(err) {
			return monitoring.Account{}, monitoring.ErrDuplicate
		}
		return monitoring.Account{}, fmt.Errorf("create account: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return monitoring.Account{}, fmt.Errorf("create account: %w", err)
	}
	s.mu.Lock()
	delete(s.cache, id)
	delete(s.pages, id)
	s.mu.Unlock()
	s.changed()
	return s.Account(ctx, id)
}

// UpdateAccount applies u. A new key drops the cached token and makes the
// account due at once.
func (s *Store) UpdateAccount(ctx context.Context, id int64, u monitoring.AccountUpdate) error {
	a, err := s.Account(ctx, id)
	if err != nil {
		return err
	}
	var res sql.Result
	if u.APIKey != nil {
		var tokSealed []byte
		if tokSealed, err = s.sealToken(a.Username, u.Token); err != nil {
			return fmt.Errorf("update account %d: %w", id, err)
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
		return monitoring.ErrNotFound
	}
	s.changed()
	return nil
}

// DeleteAccount removes an account with its snapshot, its history and its
// acknowledgements.
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
		return monitoring.ErrNotFound
	}
	return nil
}

// Credentials returns the decrypted credentials and the cached token (nil
// when none or unreadable).
func (s *Store) Credentials(ctx context.Context, id int64) (monitoring.Credentials, *monitoring.Token, error) {
	_, cr, tok, err := s.PollAccount(ctx, id)
	return cr, tok, err
}

// PollAccount is what a poll of account id starts from, read in one go:
// the account, its credentials, and its cached token (nil when there is
// none, or it does not open).
func (s *Store) PollAccount(ctx context.Context, id int64) (monitoring.Account, monitoring.Credentials, *monitoring.Token, error) {
	var keySealed, tokSealed []byte
	a, err := scanAccount(s.db.QueryRowContext(ctx, `SELECT `+accountCols+`, apikey_sealed, token_sealed FROM accounts WHERE id = ?`, id),
		&keySealed, &tokSealed)
	if errors.Is(err, sql.ErrNoRows) {
		return a, monitoring.Credentials{}, nil, monitoring.ErrNotFound
	}
	if err != nil {
		return a, monitoring.Credentials{}, nil, fmt.Errorf("credentials %d: %w", id, err)
	}
	cr := monitoring.Credentials{Username: a.Username}
	key, err := s.sealer.Open(keySealed, keyAAD(cr.Username))
	if err != nil {
		return a, cr, nil, fmt.Errorf("credentials of %s: %w", cr.Username, err)
	}
	cr.APIKey = string(key)
	var tok *monitoring.Token
	if len(tokSealed) > 0 {
		if raw, err := s.sealer.Open(tokSealed, tokenAAD(cr.Username)); err == nil {
			var t monitoring.Token
			if json.Unmarshal(raw, &t) == nil {
				tok = &t
			}
		}
	}
	return a, cr, tok, nil
}

// SaveToken keeps a token obtained outside a poll (an auth check asked for
// through the API) for the account's next poll. It is kept only while the
// account still has the key it was obtained with, keyVersion; otherwise
// ErrStalePoll. Nothing the pages show changes, so the generation stays.
func (s *Store) SaveToken(ctx context.Context, id, keyVersion int64, tok monitoring.Token) error {
	if s.readOnly.Load() {
		return nil // a replica does not poll: the primary keeps its own tokens
	}
	username, err := s.username(ctx, id)
	if errors.Is(err, monitoring.ErrNotFound) {
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
		return monitoring.ErrNotFound
	}
	return nil
}

// username is an account's username (which never changes), or ErrNotFound.
func (s *Store) username(ctx context.Context, id int64) (string, error) {
	var username string
	err := s.db.QueryRowContext(ctx, `SELECT username FROM accounts WHERE id = ?`, id).Scan(&username)
	if errors.Is(err, sql.ErrNoRows) {
		return "", monitoring.ErrNotFound
	}
	return username, err
}

// sealToken encodes and seals tok for the account; nil stays nil.
func (s *Store) sealToken(username string, tok *monitoring.Token) ([]byte, error) {
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
	if _, err := s.username(ctx, id); errors.Is(err, monitoring.ErrNotFound) {
		return monitoring.ErrNotFound
	}
	return monitoring.ErrStalePoll
}

// ClearTokens forgets every cached Identity token (e.g. when the upstream
// that issued them is known to be gone).
func (s *Store) ClearTokens(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE accounts SET token_sealed = NULL`); err != nil {
		return fmt.Errorf("clear tokens: %w", err)
	}
	return nil
}
