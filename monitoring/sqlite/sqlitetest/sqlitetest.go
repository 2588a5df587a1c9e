// Package sqlitetest opens real, migrated SQLite stores in a test's temp
// dir, and wires them to the fake Rackspace and a poller, for the tests of
// every package that needs stored data.
package sqlitetest

import (
	"context"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"cmdash/migrations"
	"cmdash/monitoring/fakerax"
	"cmdash/monitoring/fakerax/fakeraxtest"
	"cmdash/monitoring/poller"
	"cmdash/monitoring/rackspace"
	"cmdash/monitoring/sqlite"
)

// Secret is the secret the stores seal API keys with.
const Secret = "a test secret that is long enough"

// Open opens a migrated SQLite file in a temp dir, closed at the test's
// end, and returns its store and path. Passwords are hashed at bcrypt's
// least cost: tests sign in often, and the production cost proves
// nothing there (a test of package sqlite holds the production cost).
func Open(t testing.TB) (*sqlite.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "test.db")
	db, err := sqlite.OpenDB(context.Background(), path, migrations.FS)
	if err != nil {
		t.Fatalf("OpenDB: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	sealer, err := sqlite.NewSealer(Secret)
	if err != nil {
		t.Fatal(err)
	}
	store := sqlite.NewStore(db, sealer)
	store.SetPasswordCost(bcrypt.MinCost)
	return store, path
}

// Polled is a store, the fake with accounts, and a poller wired to both.
type Polled struct {
	Store  *sqlite.Store
	Fake   *fakerax.Server
	Poller *poller.Poller
	IDs    map[string]int64 // account ids by username
}

// NewPolled starts the fake with cfg and adds each of its accounts to a
// new store; the poller polls them every interval once it runs.
func NewPolled(t *testing.T, cfg fakerax.Config, interval time.Duration) *Polled {
	t.Helper()
	store, _ := Open(t)
	fake, ts := fakeraxtest.NewServer(t, cfg)
	client := rackspace.NewClient(fake.IdentityURL(ts.URL), &http.Client{Timeout: 10 * time.Second})
	p := poller.New(store, client, poller.Config{Interval: interval, Concurrency: 4})
	f := &Polled{Store: store, Fake: fake, Poller: p, IDs: map[string]int64{}}
	for _, a := range fake.Accounts() {
		acct, err := store.CreateAccount(context.Background(), a.Username, "", a.APIKey, nil)
		if err != nil {
			t.Fatal(err)
		}
		f.IDs[a.Username] = acct.ID
	}
	return f
}

// Clock is a clock tests move by hand, shared by the fake and the client.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock stopped at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}
