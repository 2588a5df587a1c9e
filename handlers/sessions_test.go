package handlers

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/alexedwards/scs/sqlite3store"
	"github.com/alexedwards/scs/v2"

	"cmdash/monitoring/fakerax"
)

// countingStore counts the reads that reach the database.
type countingStore struct {
	scs.Store
	finds int
}

func (c *countingStore) Find(token string) ([]byte, bool, error) {
	c.finds++
	return c.Store.Find(token)
}

func TestSessionStore(t *testing.T) {
	e := newTestEnv(t)
	db := e.store.DB()
	inner := &countingStore{Store: sqlite3store.NewWithCleanupInterval(db, 0)}
	s := newSessionStore(inner, scs.GobCodec{})
	data, err := scs.GobCodec{}.Encode(time.Now().Add(time.Hour), map[string]any{"user": "tester"})
	if err != nil {
		t.Fatal(err)
	}
	const token = "the-cookie-value"
	if err := s.Commit(token, data, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}

	t.Run("the table holds a hash of the token, never the token", func(t *testing.T) {
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM sessions WHERE token = ?`, token).Scan(&n); err != nil || n != 0 {
			t.Errorf("%d rows keyed by the plain token (%v)", n, err)
		}
		if err := db.QueryRow(`SELECT count(*) FROM sessions WHERE token = ?`, hashSessionToken(token)).Scan(&n); err != nil || n != 1 {
			t.Errorf("%d rows keyed by the hash, want 1 (%v)", n, err)
		}
	})
	t.Run("a committed session is read from memory", func(t *testing.T) {
		for range 5 {
			got, found, err := s.Find(token)
			if err != nil || !found || string(got) != string(data) {
				t.Fatalf("find: %v %v", found, err)
			}
		}
		if inner.finds != 0 {
			t.Errorf("%d database reads, want 0", inner.finds)
		}
	})
	t.Run("after a restart the session is read once from the table, then from memory", func(t *testing.T) {
		fresh := newSessionStore(inner, scs.GobCodec{})
		for range 3 {
			if _, found, err := fresh.Find(token); err != nil || !found {
				t.Fatalf("find after restart: %v %v", found, err)
			}
		}
		if inner.finds != 1 {
			t.Errorf("%d database reads, want 1", inner.finds)
		}
	})
	t.Run("an unknown token finds nothing", func(t *testing.T) {
		if _, found, _ := s.Find("someone-else"); found {
			t.Error("found a session for an unknown token")
		}
	})
	t.Run("a deleted session is gone from memory and table", func(t *testing.T) {
		if err := s.Delete(token); err != nil {
			t.Fatal(err)
		}
		if _, found, _ := s.Find(token); found {
			t.Error("found after delete")
		}
		if _, found, _ := newSessionStore(inner, scs.GobCodec{}).Find(token); found {
			t.Error("still in the table after delete")
		}
	})
	t.Run("an expired session is not served from memory", func(t *testing.T) {
		if err := s.Commit("short", data, time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		s.now = func() time.Time { return time.Now().Add(2 * time.Hour) }
		t.Cleanup(func() { s.now = time.Now })
		if _, found, _ := s.Find("short"); found {
			t.Error("an expired session was found")
		}
	})
}

func TestSignedInWallRefreshNeedsNoDatabase(t *testing.T) {
	e := newTestEnv(t)
	a := e.addAccount(e.upstream(fakerax.AccountSpec{Username: "mem", Servers: 2, Alarms: 2}), "")
	e.poll(a.ID)
	routes := e.h.Routes()
	form := url.Values{"username": {testUser}, "password": {testPassword}}
	rec := e.anonymous(formRequest("/login", form))
	cookies := rec.Result().Cookies()
	if len(cookies) == 0 {
		t.Fatalf("no session cookie (status %d)", rec.Code)
	}
	get := func() *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Header.Set("HX-Request", "true")
		for _, c := range cookies {
			req.AddCookie(c)
		}
		rec := httptest.NewRecorder()
		routes.ServeHTTP(rec, req)
		return rec
	}
	wantStatus(t, get(), http.StatusOK)
	// With the database gone, a signed-in refresh of an unchanged wall
	// still answers: session, user and page all come from memory.
	if err := e.store.DB().Close(); err != nil {
		t.Fatal(err)
	}
	rec = get()
	wantStatus(t, rec, http.StatusOK)
	if parse(t, rec).Find("form.refresh").Length() == 0 {
		t.Error("the refresh is not the signed-in grid")
	}
}
