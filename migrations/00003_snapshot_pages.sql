-- +goose Up
-- A snapshot is kept as the pages the upstream served it in, one row each
-- of gzipped JSON servers with a hash of its content: a poll rewrites only
-- the pages whose content changed, and nothing at all when none did (then
-- only snapshots.fetched_at moves). snapshots.data is empty for a snapshot
-- kept this way; a row written before holds the whole snapshot as JSON.
CREATE TABLE snapshot_pages (
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    page       INTEGER NOT NULL,              -- 0, 1, … in the upstream's order
    hash       INTEGER NOT NULL,              -- FNV-1a of the page's servers (monitoring.hashServers)
    data       BLOB    NOT NULL,              -- gzipped JSON array of monitoring.Server
    PRIMARY KEY (account_id, page)
) WITHOUT ROWID;

-- +goose Down
DROP TABLE snapshot_pages;
