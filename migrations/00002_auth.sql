-- +goose Up
CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    username      TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT    NOT NULL,          -- bcrypt
    session_epoch INTEGER NOT NULL DEFAULT 1, -- bumped by a password change: older sessions stop working
    created_at    INTEGER NOT NULL
);

-- scs session store (github.com/alexedwards/scs/sqlite3store).
CREATE TABLE sessions (
    token  TEXT PRIMARY KEY,
    data   BLOB NOT NULL,
    expiry REAL NOT NULL
);
CREATE INDEX sessions_expiry_idx ON sessions (expiry);

-- API tokens for scripts: only a SHA-256 of the token is stored.
CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    token_hash   BLOB    NOT NULL UNIQUE,
    prefix       TEXT    NOT NULL,           -- first characters, to recognise it in the list
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL DEFAULT 0
);

-- +goose Down
DROP TABLE api_tokens;
DROP INDEX sessions_expiry_idx;
DROP TABLE sessions;
DROP TABLE users;
