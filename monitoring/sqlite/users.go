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
	rows, err := s.db.QueryContext(ctx, `SELECT id, username, created_at, role, origin FROM users ORDER BY lower(username)`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var out []monitoring.User
	for rows.Next() {
		var u monitoring.User
		var created int64
		var role string
		if err := rows.Scan(&u.ID, &u.Username, &created, &role, &u.Origin); err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		u.CreatedAt, u.Role = fromMS(created), roleOf(role)
		out = append(out, u)
	}
	return out, rows.Err()
}

// roleOf reads a stored role; anything unknown may do nothing.
func roleOf(s string) monitoring.Role {
	r, _ := monitoring.ParseRole(s)
	return r
}

// CreateUser adds a user with a bcrypt-hashed password and a role.
func (s *Store) CreateUser(ctx context.Context, username, password string, role monitoring.Role) (monitoring.User, error) {
	if role == monitoring.NoRole {
		return monitoring.User{}, errors.New("create user: no role")
	}
	defer s.usersChanged()
	hash, err := s.hashPassword(password)
	if err != nil {
		return monitoring.User{}, fmt.Errorf("hash password: %w", err)
	}
	return s.insertUser(ctx, username, string(hash), role, monitoring.OriginPassword)
}

func (s *Store) insertUser(ctx context.Context, username, hash string, role monitoring.Role, origin string) (monitoring.User, error) {
	now := s.now()
	res, err := s.db.ExecContext(ctx, `INSERT INTO users (username, password_hash, created_at, role, origin) VALUES (?, ?, ?, ?, ?)`,
		username, hash, ms(now), role.String(), origin)
	if err != nil {
		if isUniqueViolation(err) {
			return monitoring.User{}, monitoring.ErrDuplicate
		}
		return monitoring.User{}, fmt.Errorf("create user: %w", err)
	}
	id, _ := res.LastInsertId()
	return monitoring.User{ID: id, Username: username, CreatedAt: fromMS(ms(now)), SessionEpoch: 1, Role: role, Origin: origin}, nil
}

// ExternalUser is the user a proxy or an OpenID provider vouched for,
// created with role (and no password: origin says how they sign in) when
// first seen. created tells whether it was. A user who exists keeps the
// role they have: an admin changes it in Settings.
func (s *Store) ExternalUser(ctx context.Context, username, origin string, role monitoring.Role) (u monitoring.User, created bool, err error) {
	u, err = s.UserByName(ctx, username)
	if !errors.Is(err, monitoring.ErrNotFound) {
		return u, false, err
	}
	if role == monitoring.NoRole {
		return u, false, monitoring.ErrNotFound
	}
	defer s.usersChanged()
	u, err = s.insertUser(ctx, username, "", role, origin)
	if errors.Is(err, monitoring.ErrDuplicate) { // created meanwhile by another request
		u, err = s.userByName(ctx, username)
		return u, false, err
	}
	return u, err == nil, err
}

// SetRole changes a user's role; the last admin keeps theirs. It returns
// the user as they were before, with the role they had.
func (s *Store) SetRole(ctx context.Context, id int64, role monitoring.Role) (monitoring.User, error) {
	if role == monitoring.NoRole {
		return monitoring.User{}, errors.New("set role: no role")
	}
	defer s.usersChanged()
	// An immediate transaction: no other write comes between the role
	// read and the one that replaces it.
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return monitoring.User{}, fmt.Errorf("set role: %w", err)
	}
	defer tx.Rollback()
	var before monitoring.User
	var old string
	err = tx.QueryRowContext(ctx, `SELECT id, username, role FROM users WHERE id = ?`, id).Scan(&before.ID, &before.Username, &old)
	if errors.Is(err, sql.ErrNoRows) {
		return monitoring.User{}, monitoring.ErrNotFound
	}
	if err != nil {
		return monitoring.User{}, fmt.Errorf("set role: %w", err)
	}
	before.Role = roleOf(old)
	// One statement, so that two admins demoting each other at once cannot
	// both succeed.
	res, err := tx.ExecContext(ctx, `UPDATE users SET role = ? WHERE id = ?
		AND (? = 'admin' OR role <> 'admin' OR (SELECT count(*) FROM users WHERE role = 'admin') > 1)`,
		role.String(), id, role.String())
	if err != nil {
		return before, fmt.Errorf("set role: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return before, monitoring.ErrLastAdmin
	}
	if err := tx.Commit(); err != nil {
		return before, fmt.Errorf("set role: %w", err)
	}
	return before, nil
}

func (s *Store) userByID(ctx context.Context, id int64) (monitoring.User, error) {
	var name string
	err := s.db.QueryRowContext(ctx, `SELECT username FROM users WHERE id = ?`, id).Scan(&name)
	if errors.Is(err, sql.ErrNoRows) {
		return monitoring.User{}, monitoring.ErrNotFound
	}
	if err != nil {
		return monitoring.User{}, fmt.Errorf("user: %w", err)
	}
	return s.userByName(ctx, name)
}

// CreateFirstUser adds a user only while there is none, atomically.
// created is false when a user already existed.
func (s *Store) CreateFirstUser(ctx context.Context, username, password string) (created bool, err error) {
	defer s.usersChanged()
	hash, err := s.hashPassword(password)
	if err != nil {
		return false, fmt.Errorf("hash password: %w", err)
	}
	res, err := s.db.ExecContext(ctx, `INSERT INTO users (username, password_hash, created_at, role)
		SELECT ?, ?, ?, 'admin' WHERE NOT EXISTS (SELECT 1 FROM users)`, username, string(hash), ms(s.now()))
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

// DeleteUser removes a user and their API tokens; the last admin stays.
// It returns the user removed.
func (s *Store) DeleteUser(ctx context.Context, id int64) (monitoring.User, error) {
	defer s.usersChanged()
	var u monitoring.User
	var role string
	err := s.db.QueryRowContext(ctx, `DELETE FROM users WHERE id = ?
		AND (role <> 'admin' OR (SELECT count(*) FROM users WHERE role = 'admin') > 1)
		RETURNING id, username, role`, id).Scan(&u.ID, &u.Username, &role)
	if errors.Is(err, sql.ErrNoRows) {
		if _, err := s.userByID(ctx, id); err != nil {
			return u, err
		}
		return u, monitoring.ErrLastAdmin
	}
	if err != nil {
		return u, fmt.Errorf("delete user: %w", err)
	}
	u.Role = roleOf(role)
	return u, nil
}

// Authenticate checks a username and password.
func (s *Store) Authenticate(ctx context.Context, username, password string) (monitoring.User, error) {
	var u monitoring.User
	var hash, role string
	var created int64
	err := s.db.QueryRowContext(ctx, `SELECT id, username, password_hash, created_at, session_epoch, role, origin FROM users WHERE username = ?`, username).
		Scan(&u.ID, &u.Username, &hash, &created, &u.SessionEpoch, &role, &u.Origin)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && hash == "") {
		// No such user, or one who signs in elsewhere (no password): the
		// same work and the same answer.
		_ = bcrypt.CompareHashAndPassword(s.dummy(), []byte(password))
		return monitoring.User{}, monitoring.ErrBadPassword
	}
	if err != nil {
		return monitoring.User{}, fmt.Errorf("authenticate: %w", err)
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil {
		return monitoring.User{}, monitoring.ErrBadPassword
	}
	u.CreatedAt, u.Role = fromMS(created), roleOf(role)
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
	var role string
	err := s.db.QueryRowContext(ctx, `SELECT id, username, created_at, session_epoch, role, origin FROM users WHERE username = ?`, username).
		Scan(&u.ID, &u.Username, &created, &u.SessionEpoch, &role, &u.Origin)
	if errors.Is(err, sql.ErrNoRows) {
		return u, monitoring.ErrNotFound
	}
	if err != nil {
		return u, fmt.Errorf("user: %w", err)
	}
	u.CreatedAt, u.Role = fromMS(created), roleOf(role)
	return u, nil
}

const tokenPrefix = "cmd_"

func hashToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// CreateAPIToken makes a new random token for a user, acting with role at
// most (NoRole: the owner's), and returns it in plain text: the only time
// it is seen.
func (s *Store) CreateAPIToken(ctx context.Context, userID int64, name string, role monitoring.Role) (string, monitoring.APIToken, error) {
	buf := make([]byte, 32)
	if _, err := rand.Read(buf); err != nil {
		return "", monitoring.APIToken{}, fmt.Errorf("generate token: %w", err)
	}
	plain := tokenPrefix + base64.RawURLEncoding.EncodeToString(buf)
	now := s.now()
	t := monitoring.APIToken{UserID: userID, Name: name, Prefix: plain[:len(tokenPrefix)+6], CreatedAt: fromMS(ms(now)), Role: role}
	res, err := s.db.ExecContext(ctx, `INSERT INTO api_tokens (user_id, name, token_hash, prefix, created_at, role) VALUES (?, ?, ?, ?, ?, ?)`,
		userID, name, hashToken(plain), t.Prefix, ms(now), tokenRole(role))
	if err != nil {
		return "", monitoring.APIToken{}, fmt.Errorf("create token: %w", err)
	}
	t.ID, _ = res.LastInsertId()
	return plain, t, nil
}

// tokenRole is how a token's role is stored: "" for its owner's.
func tokenRole(r monitoring.Role) string {
	if r == monitoring.NoRole {
		return ""
	}
	return r.String()
}

// APITokenUser returns the user a bearer token belongs to, with the Role
// the token acts with (the narrower of its own and its owner's), and the
// token (without its secret).
func (s *Store) APITokenUser(ctx context.Context, plain string) (monitoring.User, monitoring.APIToken, error) {
	// Looked up by its SHA-256: a timing difference in the lookup reveals
	// nothing about the token itself.
	var u monitoring.User
	var t monitoring.APIToken
	var userRole, role string
	err := s.db.QueryRowContext(ctx, `SELECT t.id, t.name, t.role, u.id, u.username, u.role FROM api_tokens t JOIN users u ON u.id = t.user_id
		WHERE t.token_hash = ?`, hashToken(plain)).Scan(&t.ID, &t.Name, &role, &u.ID, &u.Username, &userRole)
	if errors.Is(err, sql.ErrNoRows) {
		return u, t, monitoring.ErrNotFound
	}
	if err != nil {
		return u, t, fmt.Errorf("token: %w", err)
	}
	u.Role = roleOf(userRole)
	t.UserID, t.Username, t.Role = u.ID, u.Username, u.Role
	if role != "" {
		t.Role = monitoring.Narrower(u.Role, roleOf(role))
	}
	if !s.readOnly.Load() { // a replica does not record it
		_, _ = s.db.ExecContext(ctx, `UPDATE api_tokens SET last_used_at = ? WHERE id = ?`, ms(s.now()), t.ID)
	}
	return u, t, nil
}

// ListAPITokens returns every token (without secrets).
func (s *Store) ListAPITokens(ctx context.Context) ([]monitoring.APIToken, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT t.id, t.user_id, u.username, t.name, t.prefix, t.created_at, t.last_used_at, t.role
		FROM api_tokens t JOIN users u ON u.id = t.user_id ORDER BY t.created_at, t.id`)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	defer rows.Close()
	var out []monitoring.APIToken
	for rows.Next() {
		var t monitoring.APIToken
		var created, used int64
		var role string
		if err := rows.Scan(&t.ID, &t.UserID, &t.Username, &t.Name, &t.Prefix, &created, &used, &role); err != nil {
			return nil, fmt.Errorf("list tokens: %w", err)
		}
		t.CreatedAt, t.LastUsedAt, t.Role = fromMS(created), fromMS(used), roleOf(role)
		out = append(out, t)
	}
	return out, rows.Err()
}

// DeleteAPIToken revokes a token and returns it (without its secret).
func (s *Store) DeleteAPIToken(ctx context.Context, id int64) (monitoring.APIToken, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return monitoring.APIToken{}, fmt.Errorf("delete token: %w", err)
	}
	defer tx.Rollback()
	var t monitoring.APIToken
	var created, used int64
	var role string
	err = tx.QueryRowContext(ctx, `SELECT t.id, t.user_id, u.username, t.name, t.prefix, t.created_at, t.last_used_at, t.role
		FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.id = ?`, id).
		Scan(&t.ID, &t.UserID, &t.Username, &t.Name, &t.Prefix, &created, &used, &role)
	if errors.Is(err, sql.ErrNoRows) {
		return t, monitoring.ErrNotFound
	}
	if err != nil {
		return t, fmt.Errorf("delete token: %w", err)
	}
	t.CreatedAt, t.LastUsedAt, t.Role = fromMS(created), fromMS(used), roleOf(role)
	if _, err := tx.ExecContext(ctx, `DELETE FROM api_tokens WHERE id = ?`, id); err != nil {
		return t, fmt.Errorf("delete token: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return t, fmt.Errorf("delete token: %w", err)
	}
	return t, nil
}
