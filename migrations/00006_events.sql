-- +goose Up
-- The history: what changed between an account's successive polls, one row
-- per change (monitoring.Event). Labels are copied into each row, so the
-- history of a server or alarm that is gone still reads. States are what
-- the tile counted: '' when it counted nothing (the alarm was absent or
-- disabled). Rows are pruned by age and count (monitoring.Retention).
--
-- AUTOINCREMENT: an id is never reused, so a client's cursor, or a later
-- row that refers to an event (an acknowledgement), never lands on another
-- event after pruning.
CREATE TABLE events (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id   INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    recorded_at  INTEGER NOT NULL,            -- Unix ms when the poll that saw it was stored; ascends with id
    at           INTEGER NOT NULL,            -- Unix ms when it happened: the upstream's time of a state change, else the poll's
    kind         TEXT    NOT NULL,            -- state, alarm_added, alarm_removed, server_added, server_removed, disabled, enabled
    server_id    TEXT    NOT NULL,
    server_label TEXT    NOT NULL,
    alarm_id     TEXT    NOT NULL DEFAULT '', -- '' for a server's own events
    alarm_label  TEXT    NOT NULL DEFAULT '',
    from_state   TEXT    NOT NULL DEFAULT '',
    to_state     TEXT    NOT NULL DEFAULT '',
    status       TEXT    NOT NULL DEFAULT ''  -- the upstream's status text of the new state
);
-- Newest (or oldest) first across accounts, a time range, and pruning.
CREATE INDEX events_recorded_idx ON events (recorded_at);
-- One account's history, in order (and the cascade when it is removed).
CREATE INDEX events_account_idx ON events (account_id, recorded_at);
-- One server's history.
CREATE INDEX events_server_idx ON events (account_id, server_id, recorded_at);

-- +goose Down
DROP INDEX events_server_idx;
DROP INDEX events_account_idx;
DROP INDEX events_recorded_idx;
DROP TABLE events;
