-- +goose Up
-- Times are Unix milliseconds (UTC); 0 means "never".
-- AUTOINCREMENT: an id is never reused, so nothing keyed by a removed
-- account's id (a poll in flight, a cached snapshot) can reach a new one.
CREATE TABLE accounts (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    username        TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    alias           TEXT    NOT NULL DEFAULT '',
    apikey_sealed   BLOB    NOT NULL,          -- AES-GCM sealed API key
    key_version     INTEGER NOT NULL DEFAULT 1, -- bumped with each new key: a poll with an older key does not record
    enabled         INTEGER NOT NULL DEFAULT 1,
    created_at      INTEGER NOT NULL,
    token_sealed    BLOB,                      -- AES-GCM sealed cached Identity token (JSON)
    last_polled_at  INTEGER NOT NULL DEFAULT 0,
    last_success_at INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT    NOT NULL DEFAULT '',
    error_kind      TEXT    NOT NULL DEFAULT '',
    error_count     INTEGER NOT NULL DEFAULT 0,
    next_poll_at    INTEGER NOT NULL DEFAULT 0,
    ratelimit_limit INTEGER NOT NULL DEFAULT 0,
    ratelimit_used  INTEGER NOT NULL DEFAULT 0
);

-- The latest good snapshot per account; a failed poll never touches it.
CREATE TABLE snapshots (
    account_id INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    fetched_at INTEGER NOT NULL,
    data       BLOB    NOT NULL               -- monitoring.Snapshot as JSON
);

CREATE TABLE filters (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    query      TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);

-- +goose Down
DROP TABLE filters;
DROP TABLE snapshots;
DROP TABLE accounts;
