package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"cmdash/monitoring"
)

const wallLinkPrefix = "wl_"

// wallLinkTokenLen is the length of a wall link token: the prefix and 32
// random bytes in unpadded base64url.
var wallLinkTokenLen = len(wallLinkPrefix) + base64.RawURLEncoding.EncodedLen(32)

// wallLinkUseEvery is how often a link's last use is written: a screen asks
// every 20 seconds, and "last used" needs no finer grain than a minute.
const wallLinkUseEvery = time.Minute

// wallLinkEntry is a remembered link and when its use was last written.
type wallLinkEntry struct {
	link    monitoring.WallLink
	written time.Time
}

// CreateWallLink stores a new link with l's name, query, wall mode and
// creator, and returns its token in plain text: the only time it is seen.
func (s *Store) CreateWallLink(ctx context.Context, l monitoring.WallLink) (string, monitoring.WallLink, error) {
	buf := make([]byte, 32)
	if _, err := rand.Read(buf); err != nil {
		return "", monitoring.WallLink{}, fmt.Errorf("generate wall link: %w", err)
	}
	plain := wallLinkPrefix + base64.RawURLEncoding.EncodeToString(buf)
	now := s.now()
	l.ID, l.Prefix, l.CreatedAt, l.LastUsedAt = 0, plain[:len(wallLinkPrefix)+6], fromMS(ms(now)), time.Time{}
	res, err := s.db.ExecContext(ctx, `INSERT INTO wall_links (name, token_hash, prefix, query, wall_mode, created_by, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, l.Name, hashToken(plain), l.Prefix, l.Query, l.WallMode, l.CreatedBy, ms(now))
	if err != nil {
		return "", monitoring.WallLink{}, fmt.Errorf("create wall link: %w", err)
	}
	l.ID, _ = res.LastInsertId()
	return plain, l, nil
}

// WallLinkByToken returns the link a token opens, or ErrNotFound. A screen
// asks every refresh, so links are remembered in memory until one is added
// or revoked, and the use is written at most once a minute per link.
func (s *Store) WallLinkByToken(ctx context.Context, plain string) (monitoring.WallLink, error) {
	if len(plain) != wallLinkTokenLen || plain[:len(wallLinkPrefix)] != wallLinkPrefix {
		return monitoring.WallLink{}, monitoring.ErrNotFound // not one of ours: no need to ask the database
	}
	// Looked up by its SHA-256: a timing difference in the lookup reveals
	// nothing about the token itself.
	key := string(hashToken(plain))
	now := s.now()
	s.mu.Lock()
	e, ok := s.wallLinks[key]
	gen := s.wallLinksGen
	write := ok && now.Sub(e.written) >= wallLinkUseEvery
	if write {
		e.written = now // claimed: parallel refreshes do not write it again
	}
	s.mu.Unlock()
	if !ok {
		l, err := s.wallLinkByHash(ctx, []byte(key))
		if err != nil {
			return l, err
		}
		e, write = &wallLinkEntry{link: l, written: now}, now.Sub(l.LastUsedAt) >= wallLinkUseEvery
		s.mu.Lock()
		if s.wallLinksGen == gen { // not added or revoked since the read began
			if len(s.wallLinks) > 1000 {
				clear(s.wallLinks)
			}
			s.wallLinks[key] = e
		}
		s.mu.Unlock()
	}
	if write && !s.readOnly.Load() {
		// Best effort: a missed write only makes "last used" older.
		_, _ = s.db.ExecContext(ctx, `UPDATE wall_links SET last_used_at = ? WHERE id = ?`, ms(now), e.link.ID)
	}
	return e.link, nil
}

func (s *Store) wallLinkByHash(ctx context.Context, hash []byte) (monitoring.WallLink, error) {
	l, err := scanWallLink(s.db.QueryRowContext(ctx, `SELECT id, name, prefix, query, wall_mode, created_by, created_at, last_used_at
		FROM wall_links WHERE token_hash = ?`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return l, monitoring.ErrNotFound
	}
	if err != nil {
		return l, fmt.Errorf("wall link: %w", err)
	}
	return l, nil
}

// ListWallLinks returns every link (without tokens), oldest first.
func (s *Store) ListWallLinks(ctx context.Context) ([]monitoring.WallLink, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, name, prefix, query, wall_mode, created_by, created_at, last_used_at
		FROM wall_links ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list wall links: %w", err)
	}
	defer rows.Close()
	var out []monitoring.WallLink
	for rows.Next() {
		l, err := scanWallLink(rows)
		if err != nil {
			return nil, fmt.Errorf("list wall links: %w", err)
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

func scanWallLink(row interface{ Scan(...any) error }) (monitoring.WallLink, error) {
	var l monitoring.WallLink
	var created, used int64
	if err := row.Scan(&l.ID, &l.Name, &l.Prefix, &l.Query, &l.WallMode, &l.CreatedBy, &created, &used); err != nil {
		return monitoring.WallLink{}, err
	}
	l.CreatedAt, l.LastUsedAt = fromMS(created), fromMS(used)
	return l, nil
}

// DeleteWallLink revokes a link: its token opens nothing from now on.
func (s *Store) DeleteWallLink(ctx context.Context, id int64) (monitoring.WallLink, error) {
	defer s.wallLinksChanged()
	l, err := scanWallLink(s.db.QueryRowContext(ctx, `DELETE FROM wall_links WHERE id = ?
		RETURNING id, name, prefix, query, wall_mode, created_by, created_at, last_used_at`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return l, monitoring.ErrNotFound
	}
	if err != nil {
		return l, fmt.Errorf("delete wall link: %w", err)
	}
	return l, nil
}

// wallLinksChanged forgets every remembered link.
func (s *Store) wallLinksChanged() {
	s.mu.Lock()
	s.wallLinksGen++
	clear(s.wallLinks)
	s.mu.Unlock()
}
