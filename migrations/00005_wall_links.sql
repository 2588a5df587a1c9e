-- +goose Up
-- Wall links: read-only addresses for wall screens (/w/<token>). Like API
-- tokens, only a SHA-256 of the token is stored.
--
-- A link is not a user's credential: it opens the wall and nothing else,
-- and a screen should not go dark because the person who set it up left.
-- So created_by is the creator's name as it was, not a reference that
-- would remove the link with the user.
--
-- Revoking deletes the row: nothing reads a revoked link, and its hash can
-- never match again (the log records who revoked which link).
CREATE TABLE wall_links (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT    NOT NULL,
    token_hash   BLOB    NOT NULL UNIQUE,
    prefix       TEXT    NOT NULL,            -- first characters, to recognise it in the list
    query        TEXT    NOT NULL DEFAULT '', -- the filter the link shows; empty for everything
    wall_mode    INTEGER NOT NULL DEFAULT 1,  -- open as /wall (no chrome, calm accounts folded)
    created_by   TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL DEFAULT 0   -- written at most once a minute per link
);

-- +goose Down
DROP TABLE wall_links;
