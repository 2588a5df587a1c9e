-- +goose Up
-- Acknowledgements: a signed-in user's "we know, we are on it" for a
-- problem server or one of its alarms. Times are Unix milliseconds.
-- Ended rows are kept: they are the acknowledgement history, pruned with
-- the alarm history. An acknowledgement whose expires_at has passed is
-- ended ('expired', at expires_at) wherever it is read, written or not.
CREATE TABLE acks (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id   INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    server_id    TEXT    NOT NULL,
    server_label TEXT    NOT NULL,              -- as it was when acknowledged
    alarm_id     TEXT    NOT NULL DEFAULT '',   -- '' acknowledges the whole server
    alarm_label  TEXT    NOT NULL DEFAULT '',
    note         TEXT    NOT NULL,
    created_by   TEXT    NOT NULL,              -- the user's name
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER,                       -- NULL: until it recovers
    state_at_ack TEXT    NOT NULL,              -- the server's worst state, or the alarm's, when acknowledged
    ended_at     INTEGER,                       -- NULL while active
    end_reason   TEXT    NOT NULL DEFAULT '',   -- expired, recovered, worse, gone, removed
    ended_by     TEXT    NOT NULL DEFAULT ''    -- who removed it by hand
);
-- The wall reads the active ones (ended_at IS NULL) on every rebuild, the
-- poller an account's after every poll; pruning reads by ended_at.
CREATE INDEX acks_open_idx ON acks (ended_at, account_id);
-- A server page lists its server's, newest first.
CREATE INDEX acks_server_idx ON acks (account_id, server_id, created_at);

-- +goose Down
DROP INDEX acks_server_idx;
DROP INDEX acks_open_idx;
DROP TABLE acks;
