-- +goose Up
-- Every user who exists now may do everything, as before: nobody loses access.
ALTER TABLE users ADD COLUMN role TEXT NOT NULL DEFAULT 'admin';
-- How the user signs in: 'password', or 'proxy' / 'oidc' for users created
-- at their first sign-in through a proxy or an OpenID provider (no password).
ALTER TABLE users ADD COLUMN origin TEXT NOT NULL DEFAULT 'password';
-- A token acts with its owner's role, or the narrower one named here.
ALTER TABLE api_tokens ADD COLUMN role TEXT NOT NULL DEFAULT '';

-- Who changed what: never a key, a password or a token.
CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    at         INTEGER NOT NULL,         -- unix ms
    actor      TEXT    NOT NULL,         -- user name, "token NAME (user)", "wall link NAME", or "" for nobody
    actor_kind TEXT    NOT NULL,         -- user, token, wall link, anonymous, system
    address    TEXT    NOT NULL DEFAULT '',
    action     TEXT    NOT NULL,         -- e.g. account.added, signin.failed
    target     TEXT    NOT NULL DEFAULT '',
    detail     TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_at_idx ON audit_log (at);
CREATE INDEX audit_log_actor_idx ON audit_log (actor, at);

-- +goose Down
DROP INDEX audit_log_actor_idx;
DROP INDEX audit_log_at_idx;
DROP TABLE audit_log;
ALTER TABLE api_tokens DROP COLUMN role;
ALTER TABLE users DROP COLUMN origin;
ALTER TABLE users DROP COLUMN role;
