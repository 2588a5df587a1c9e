-- +goose Up
-- What a poll reads besides the overview (monitoring.ReadKind):
-- suppressions, changelogs, limits, notification plans. One row per
-- account and kind: when it was last tried, the last good answer (JSON of
-- the domain value; NULL for changelogs, whose entries go to events), and
-- why the last try failed. A failed read leaves data and good_at alone.
CREATE TABLE upstream_reads (
    account_id   INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    kind         TEXT    NOT NULL,
    tried_at     INTEGER NOT NULL,            -- Unix ms
    good_at      INTEGER,                     -- Unix ms of the last good answer
    error        TEXT    NOT NULL DEFAULT '', -- why the last try failed, in words; '' when it did not
    data         BLOB,
    read_through INTEGER,                     -- changelogs: Unix ms the entries are read up to
    PRIMARY KEY (account_id, kind)
) WITHOUT ROWID;

-- Where a change in the history comes from: '' the comparison of two
-- polls, 'changelog' Rackspace's alarm changelog.
ALTER TABLE events ADD COLUMN source TEXT NOT NULL DEFAULT '';
-- Matching a changelog entry with a change already recorded, and the
-- changes of one alarm (flapping).
CREATE INDEX events_alarm_idx ON events (account_id, alarm_id, at);

-- The rate budget's window ("24 hours"), as the upstream last said it.
ALTER TABLE accounts ADD COLUMN ratelimit_window TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE accounts DROP COLUMN ratelimit_window;
DROP INDEX events_alarm_idx;
ALTER TABLE events DROP COLUMN source;
DROP TABLE upstream_reads;
