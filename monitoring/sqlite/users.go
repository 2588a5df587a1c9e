package sqlite

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"

	"golang.org/x/crypto/bcrypt"

	"cmdash/monitoring"
)

// dummyHash is compared against when the user does not exist, so both
// failures take the same time. It is a bcrypt hash at bcrypt.DefaultCost,
// the cost of every stored password, written out rather than computed at
// package init, which added about 60 ms to every start (and every test
// binary). Whether a password matches it does not matter: the sign-in
// fails either way.
var dummyHash = []byte("$2a$10$oFODx6CKJJ81X92CiBq9xOPj.2ddFSYPUY0R2E49G1Tcgqadgm7tS")

// hashPassword hashes a password at the store's cost (bcrypt.DefaultCost
// unless SetPasswordCost changed it).
func (s *Store) hashPassword(password string) ([]byte, error) {
	return bcrypt.GenerateFromPassword([]byte(password), s.passwordCost())
}

func (s *Store) passwordCost() int {
	if c := s.cost.Load(); c != 0 {
		return int(c)
	}
	return bcrypt.DefaultCost
}

// dummy is the hash an unknown user's password is compared against: one
// of the cost of every stored password.
func (s *Store) dummy() []byte {
	if d := s.cheapDummy.Load(); d != nil {
		return *d
	}
	return dummyHash
}

// SetPasswordCost hashes passwords stored from now on at cost instead of
// bcrypt.DefaultCost: for tests only, which sign in many times and gain
// nothing from a slow hash. Production never calls it.
func (s *Store) SetPasswordCost(cost int) {
	d, err := bcrypt.GenerateFromPassword([]byte("not a password"), cost)
	if err != nil {
		panic(fmt.Sprintf("password cost %d: %v", cost, err))
	}
	s.cheapDummy.Store(&d)
	s.cost.Store(int32(cost))
}

// CountUsers returns how many users exist.
func (s *Store) CountUsers(ctx context.Context) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM users`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count users: %w", err)
	}
	return n, nil
}

// ListUsers returns every user by name.
func (s *Store) ListUsers(ctx context.Context) ([]monitoring.User, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, username, created_at FROM users ORDER BY lower(username)`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var out []monitoring.User
	for rows.Next() {
		var u monitoring.User
		var created int64
		if err := rows.Scan(&u.ID, &u.Username, &created); err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		u.CreatedAt = fromMS(created)
		out = append(out, u)
	}
	return out, rows.Err()
}

// CreateUser adds a user with a bcrypt-hashed password.
func (s *Store) CreateUser(ctx context.Context, username, password string) (monitoring.User, error) {
	defer s.usersChanged()
	hash, err := s.hashPassword(password)
	if err != nil {
		return monitoring.User{}, fmt.Errorf("hash password: %w", err)
	}
	now := s.now()
	res, err := s.db.ExecContext(ctx, `INSERT INTO users (username, password_hash, created_at) VALUES (?, ?, ?)`, username, string(hash), ms(now))
	if err != nil {
		if isUniqueViolation(err) {
			return monitoring.User{}, monitoring.ErrDuplicate
		}
		return monitoring.User{}, fmt.Errorf("create user: %w", err)
	}
	id, _ := res.LastInsertId()
	return monitoring.User{ID: id, Username: username, CreatedAt: fromMS(ms(now))}, nil
}

// CreateFirstUser adds a user only while there is none, atomically.
// created is false when a user already existed.
func (s *Store) CreateFirstUser(ctx context.Context, username, password string) (created bool, err error) {
	defer s.usersChanged()
	hash, err := s.hashPassword(password)
	if err != nil {
		return false, fmt.Errorf("hash password: %w", err)
	}
	res, err := s.db.ExecContext(ctx, `INSERT INTO users (username, password_hash, created_at)
		SELECT ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM users)`, username, string(hash), ms(s.now()))
	if err != nil {
		return false, fmt.Errorf("create first user: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// SetPassword replaces a user's password.
func (s *Store) SetPassword(ctx context.Context, username, password string) error {
	defer s.usersChanged()
	hash, err := s.hashPassword(password)
	if err != nil {
		return fmt.Errorf("hash password: %w", err)
	}
	res, err := s.db.ExecContext(ctx, `UPDATE users SET password_hash = ?, session_epoch = session_epoch + 1 WHERE username = ?`, string(hash), username)
	if err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return monitoring.ErrNotFound
	}
	return nil
}

// DeleteUser removes a user and their API tokens.
func (s *Store) DeleteUser(ctx context.Context, id int64) error {
	defer s.usersChanged()
	res, err := s.db.ExecContext(ctx, `DELETE FROM users WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("delete user: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return monitoring.ErrNotFound
	}
	return nil
}

// Authenticate checks a username and password.
func (s *Store) Authenticate(ctx context.Context, username, password string) (monitoring.User, error) {
	var u monitoring.User
	var hash string
	var created int64
	err := s.db.QueryRowContext(ctx, `SELECT id, username, password_hash, created_at, session_epoch FROM users WHERE username = ?`, username).
		Scan(&u.ID, &u.Username, &hash, &created, &u.SessionEpoch)
	if errors.Is(err, sql.ErrNoRows) {
		_ = bcrypt.CompareHashAndPassword(s.dummy(), []byte(password))
		return monitoring.User{}, monitoring.ErrBadPassword
	}
	if err != nil {
		return monitoring.User{}, fmt.Errorf("authenticate: %w", err)
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil {
		return monitoring.User{}, monitoring.ErrBadPassword
	}
	u.CreatedAt = fromMS(created)
	return u, nil
}

// UserByName returns a user. Users are read on every signed-in request, so
// the answers are remembered until a user is added, changed or removed.
func (s *Store) UserByName(ctx context.Context, username string) (monitoring.User, error) {
	s.mu.Lock()
	u, ok := s.users[username]
	gen := s.usersGen
	s.mu.Unlock()
	if ok {
		return u, nil
	}
	u, err := s.userByName(ctx, username)
	if err == nil {
		s.mu.Lock()
		if s.usersGen == gen { // no write since the read began
			if len(s.users) > 1000 {
				clear(s.users)
			}
			s.users[username] = u
		}
		s.mu.Unlock()
	}
	return u, err
}

// usersChanged forgets every remembered user.
func (s *Store) usersChanged() {
	s.mu.Lock()
	s.usersGen++
	clear(s.users)
	s.mu.Unlock()
}

func (s *Store) userByName(ctx context.Context, username string) (monitoring.User, error) {
	var u monitoring.User
	var created int64
	err := s.db.QueryRowContext(ctx, `SELECT id, username, created_at, session_epoch FROM users WHERE username = ?`, username).
		Scan(&u.ID, &u.Username, &created, &u.SessionEpoch)
	if errors.Is(err, sql.ErrNoRows) {
		return u, monitoring.ErrNotFound
	}
	if err != nil {
		return u, fmt.Errorf("user: %w", err)
	}
	u.CreatedAt = fromMS(created)
	return u, nil
}

const tokenPrefix = "cmd_"

func hashToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// CreateAPIToken makes a new random token for a user and returns it in
// plain text: the only time it is seen.
func (s *Store) CreateAPIToken(ctx context.Context, userID int64, name string) (string, monitoring.APIToken, error) {
	buf := make([]byte, 32)
	if _, err := rand.Read(buf); err != nil {
		return "", monitoring.APIToken{}, fmt.Errorf("generate token: %w", err)
	}
	plain := tokenPrefix + base64.RawURLEncoding.EncodeToString(buf)
	now := s.now()
	t := monitoring.APIToken{UserID: userID, Name: name, Prefix: plain[:len(tokenPrefix)+6], CreatedAt: fromMS(ms(now))}
	res, err := s.db.ExecContext(ctx, `INSERT INTO api_tokens (user_id, name, token_hash, prefix, created_at) VALUES (?, ?, ?, ?, ?)`,
		userID, name, hashToken(plain), t.Prefix, ms(now))
	if err != nil {
		return "", monitoring.APIToken{}, fmt.Errorf("create token: %w", err)
	}
	t.ID, _ = res.LastInsertId()
	return plain, t, nil
}

// APITokenUser returns the user a bearer token belongs to.
func (s *Store) APITokenUser(ctx context.Context, plain string) (monitoring.User, error) {
	// Looked up by its SHA-256: a timing difference in the lookup reveals
	// nothing about the token itself.
	var u monitoring.User
	var id int64
	err := s.db.QueryRowContext(ctx, `SELECT t.id, u.id, u.username FROM api_tokens t JOIN users u ON u.id = t.user_id
		WHERE t.token_hash = ?`, hashToken(plain)).Scan(&id, &u.ID, &u.Username)
	if errors.Is(err, sql.ErrNoRows) {
		return u, monitoring.ErrNotFound
	}
	if err != nil {
		return u, fmt.Errorf("token: %w", err)
	}
	_, _ = s.db.ExecContext(ctx, `UPDATE api_tokens SET last_used_at = ? WHERE id = ?`, ms(s.now()), id)
	return u, nil
}

// ListAPITokens returns every token (without secrets).
func (s *Store) ListAPITokens(ctx context.Context) ([]monitoring.APIToken, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT t.id, t.user_id, u.username, t.name, t.prefix, t.created_at, t.last_used_at
		FROM api_tokens t JOIN users u ON u.id = t.user_id ORDER BY t.created_at, t.id`)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	defer rows.Close()
	var out []monitoring.APIToken
	for rows.Next() {
		var t monitoring.APIToken
		var created, used int64
		if err := rows.Scan(&t.ID, &t.UserID, &t.Username, &t.Name, &t.Prefix, &created, &used); err != nil {
			return nil, fmt.Errorf("list tokens: %w", err)
		}
		t.CreatedAt, t.LastUsedAt = fromMS(created), fromMS(used)
		out = append(out, t)
	}
	return out, rows.Err()
}

// DeleteAPIToken revokes a token.
func (s *Store) DeleteAPIToken(ctx context.Context, id int64) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM api_tokens WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("delete token: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return monitoring.ErrNotFound
	}
	return nil
}
