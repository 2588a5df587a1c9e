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
	t.Parallel()
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
	t.Parallel()
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

// gatedStore lets a test hold a Find or a Delete in the middle.
type gatedStore struct {
	scs.Store
	findEntered, deleteEntered chan struct{}
	findGate, deleteGate       chan struct{}
}

func (g *gatedStore) Find(token string) ([]byte, bool, error) {
	b, ok, err := g.Store.Find(token) // read first, then wait: an old read
	if g.findGate != nil {
		g.findEntered <- struct{}{}
		<-g.findGate
	}
	return b, ok, err
}

func (g *gatedStore) Delete(token string) error {
	if g.deleteGate != nil {
		g.deleteEntered <- struct{}{}
		<-g.deleteGate
	}
	return g.Store.Delete(token)
}

func TestSignOutRacingARefreshLeavesNoSessionBehind(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	data, _ := scs.GobCodec{}.Encode(time.Now().Add(time.Hour), map[string]any{"user": "tester"})
	newStore := func() (*sessionStore, *gatedStore) {
		g := &gatedStore{Store: sqlite3store.NewWithCleanupInterval(e.store.DB(), 0)}
		s := newSessionStore(g, scs.GobCodec{})
		if err := s.Commit("tok", data, time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		clear(s.rows) // as after a restart: the next Find reads the table
		return s, g
	}

	t.Run("a refresh during the sign-out's delete", func(t *testing.T) {
		s, g := newStore()
		g.deleteEntered, g.deleteGate = make(chan struct{}), make(chan struct{})
		done := make(chan error)
		go func() { done <- s.Delete("tok") }()
		<-g.deleteEntered
		_, _, _ = s.Find("tok") // the row is still there
		close(g.deleteGate)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if _, found, _ := s.Find("tok"); found {
			t.Error("the session is still found after signing out")
		}
	})
	t.Run("a refresh that read the row before the sign-out", func(t *testing.T) {
		s, g := newStore()
		entered, gate := make(chan struct{}), make(chan struct{})
		g.findEntered, g.findGate = entered, gate
		found := make(chan bool)
		go func() { _, ok, _ := s.Find("tok"); found <- ok }()
		<-entered // the row is read, not yet kept
		if err := s.Delete("tok"); err != nil {
			t.Fatal(err)
		}
		close(gate)
		<-found
		g.findGate = nil
		if _, ok, _ := s.Find("tok"); ok {
			t.Error("the session read before the sign-out was kept and is still found")
		}
	})
}

func TestASessionStoredBeforeHashingSurvivesTheUpgrade(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	inner := sqlite3store.NewWithCleanupInterval(e.store.DB(), 0)
	data, _ := scs.GobCodec{}.Encode(time.Now().Add(time.Hour), map[string]any{"user": "tester"})
	// As the previous version stored it: keyed by the cookie value itself.
	if err := inner.Commit("old-cookie", data, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	s := newSessionStore(inner, scs.GobCodec{})
	if got, found, err := s.Find("old-cookie"); err != nil || !found || string(got) != string(data) {
		t.Fatalf("the old session was not found: %v %v", found, err)
	}
	var n int
	_ = e.store.DB().QueryRow(`SELECT count(*) FROM sessions WHERE token = 'old-cookie'`).Scan(&n)
	if n != 0 {
		t.Error("the plain token is still in the table after the upgrade")
	}
	if _, found, _ := newSessionStore(inner, scs.GobCodec{}).Find("old-cookie"); !found {
		t.Error("after a restart the upgraded session is not found under its hash")
	}
}
