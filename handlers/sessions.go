package handlers

import (
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"time"

	"github.com/alexedwards/scs/v2"
)

// sessionStore sits in front of the database's session table. It keys rows
// by a hash of the session token, so the file never holds a token a reader
// could present as a cookie, and it remembers what it read or wrote, so a
// signed-in wall refresh costs a map lookup rather than a query. Nothing
// else changes the table behind its back (the expiry cleanup only removes
// rows that are already expired), except on a LiteFS replica, whose store
// calls Forget whenever the primary's writes arrive.
type sessionStore struct {
	inner scs.Store
	codec scs.Codec // reads a row's expiry out of its data
	now   func() time.Time

	mu   sync.Mutex
	rows map[string]cachedSession // by hashed token
	// writes counts commits, deletes and forgets: a read from the table is
	// kept only if none happened while it ran, so a sign-out racing a
	// refresh cannot leave the signed-out session in memory.
	writes uint64

	// readOnly, when set and true, means the table cannot be written (a
	// LiteFS replica): old sessions are not moved and deletes only forget.
	readOnly func() bool
}

// Forget drops every remembered row: the table changed behind the cache.
func (s *sessionStore) Forget() {
	s.mu.Lock()
	s.writes++
	clear(s.rows)
	s.mu.Unlock()
}

func (s *sessionStore) writable() bool { return s.readOnly == nil || !s.readOnly() }

type cachedSession struct {
	data   []byte
	expiry time.Time
}

// maxCachedSessions bounds the memory the cache may take; past it, the
// cache starts over (the table still has every session).
const maxCachedSessions = 10000

func newSessionStore(inner scs.Store, codec scs.Codec) *sessionStore {
	return &sessionStore{inner: inner, codec: codec, now: time.Now, rows: map[string]cachedSession{}}
}

func hashSessionToken(token string) string {
	sum := sha256.Sum256([]byte("session:" + token))
	return hex.EncodeToString(sum[:])
}

// Find implements scs.Store.
func (s *sessionStore) Find(token string) ([]byte, bool, error) {
	key := hashSessionToken(token)
	s.mu.Lock()
	row, ok := s.rows[key]
	writes := s.writes
	s.mu.Unlock()
	if ok {
		if s.now().Before(row.expiry) {
			return row.data, true, nil
		}
		s.mu.Lock()
		delete(s.rows, key)
		s.mu.Unlock()
		return nil, false, nil
	}
	data, found, err := s.inner.Find(key)
	if err == nil && !found && s.writable() {
		data, found, err = s.upgrade(token, key)
	}
	if err != nil || !found {
		return nil, found, err
	}
	// Find does not say when the row expires, but the data holds the
	// deadline scs committed it with.
	expiry := s.now().Add(time.Minute)
	if deadline, _, err := s.codec.Decode(data); err == nil {
		expiry = deadline
	}
	s.mu.Lock()
	if s.writes == writes {
		s.remember(key, cachedSession{data: data, expiry: expiry})
	}
	s.mu.Unlock()
	return data, true, nil
}

// upgrade moves a session stored under its plain token (as versions before
// hashing did) to its hashed key, so nobody, wall screens included, is
// signed out by the upgrade.
func (s *sessionStore) upgrade(token, key string) ([]byte, bool, error) {
	data, found, err := s.inner.Find(token)
	if err != nil || !found {
		return nil, false, err
	}
	deadline, _, err := s.codec.Decode(data)
	if err != nil {
		return nil, false, nil // unreadable: as good as gone
	}
	if err := s.inner.Commit(key, data, deadline); err != nil {
		return nil, false, err
	}
	if err := s.inner.Delete(token); err != nil {
		return nil, false, err
	}
	return data, true, nil
}

// Commit implements scs.Store.
func (s *sessionStore) Commit(token string, b []byte, expiry time.Time) error {
	key := hashSessionToken(token)
	err := s.inner.Commit(key, b, expiry)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writes++
	delete(s.rows, key)
	if err != nil {
		return err
	}
	s.remember(key, cachedSession{data: b, expiry: expiry})
	return nil
}

// Delete implements scs.Store.
func (s *sessionStore) Delete(token string) error {
	key := hashSessionToken(token)
	// The row goes first: a Find meanwhile reads it, but sees the count
	// move and does not keep it. A replica leaves the row to the primary
	// (whoever is signed out there is signed out here when it arrives).
	var err error
	if s.writable() {
		err = s.inner.Delete(key)
	}
	s.mu.Lock()
	s.writes++
	delete(s.rows, key)
	s.mu.Unlock()
	return err
}

// remember keeps a row; s.mu is held.
func (s *sessionStore) remember(key string, row cachedSession) {
	if len(s.rows) >= maxCachedSessions {
		clear(s.rows)
	}
	s.rows[key] = row
}

// memoCodec decodes each distinct session blob once: gob builds a decoder
// per call, which made a signed-in refresh several times dearer than a
// public one. Values are copied out, since scs changes the map it gets.
type memoCodec struct {
	inner scs.Codec

	mu   sync.Mutex
	seen map[string]decodedSession
}

type decodedSession struct {
	deadline time.Time
	values   map[string]any
}

func newMemoCodec(inner scs.Codec) *memoCodec {
	return &memoCodec{inner: inner, seen: map[string]decodedSession{}}
}

// Encode implements scs.Codec.
func (c *memoCodec) Encode(deadline time.Time, values map[string]any) ([]byte, error) {
	return c.inner.Encode(deadline, values)
}

// Decode implements scs.Codec.
func (c *memoCodec) Decode(b []byte) (time.Time, map[string]any, error) {
	c.mu.Lock()
	d, ok := c.seen[string(b)]
	c.mu.Unlock()
	if !ok {
		deadline, values, err := c.inner.Decode(b)
		if err != nil {
			return deadline, values, err
		}
		d = decodedSession{deadline: deadline, values: values}
		c.mu.Lock()
		if len(c.seen) >= maxCachedSessions {
			clear(c.seen)
		}
		c.seen[string(b)] = d
		c.mu.Unlock()
	}
	values := make(map[string]any, len(d.values))
	for k, v := range d.values {
		values[k] = v
	}
	return d.deadline, values, nil
}
