package main

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/alexedwards/scs/sqlite3store"

	"cmdash/handlers"
	"cmdash/migrations"
	"cmdash/monitoring/litefs"
	"cmdash/monitoring/sqlite"
)

// roleEvery is how often a node in a LiteFS cluster looks at its role, and
// a replica at its database, for changes.
const roleEvery = 250 * time.Millisecond

// cluster is the dashboard's part in a LiteFS cluster (handlers.Cluster):
// which node writes, and how far this one has come.
type cluster struct {
	node  *litefs.Node
	store *sqlite.Store
	role  atomic.Pointer[litefs.Role]
}

// clusterOption is c as the handlers take it: nil outside a cluster.
func clusterOption(c *cluster) handlers.Cluster {
	if c == nil {
		return nil
	}
	return c
}

func (c *cluster) Replica() (string, bool) {
	r := c.role.Load()
	return r.PrimaryHost, !r.Primary
}

func (c *cluster) Position() (uint64, error) {
	p, err := c.node.Position()
	return p.TXID, err
}

// CatchUp waits for the local database to reach txid, then has the store
// read it afresh (its own look at the database may be up to roleEvery away).
func (c *cluster) CatchUp(ctx context.Context, txid uint64) error {
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for {
		if p, err := c.node.Position(); err == nil && p.TXID >= txid {
			c.store.Refresh()
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

func (c *cluster) Lag() time.Duration {
	lag, err := c.node.Lag()
	if err != nil {
		return 0
	}
	return lag
}

// openClustered opens the database in a LiteFS mount as the node's role
// allows: the primary creates and migrates it; a replica waits for the
// primary's copy to arrive and only reads it. The mount's files are LiteFS's:
// their modes are not changed.
func openClustered(ctx context.Context, node *litefs.Node, path string, log *slog.Logger) (*sql.DB, litefs.Role, error) {
	role, err := node.Role()
	if err != nil {
		return nil, role, err
	}
	if role.Primary {
		db, err := sqlite.OpenPrimary(ctx, path, migrations.FS)
		return db, role, err
	}
	for waited := false; ; waited = true {
		db, err := sqlite.OpenReplica(ctx, path)
		if err == nil {
			return db, role, nil
		}
		if !waited {
			log.Info("replica: waiting for the primary's database to arrive", "db", path, "primary", role.PrimaryHost)
		}
		select {
		case <-ctx.Done():
			return nil, role, fmt.Errorf("replica: no database from the primary yet: %w", err)
		case <-time.After(roleEvery):
		}
	}
}

// writerWork is what only the node that writes the database runs: history
// pruning, expired-session cleanup and the poller. It returns when ctx ends
// and all of it has stopped.
type writerWork func(ctx context.Context)

// newWriterWork gathers the writer's work over one database.
func newWriterWork(store *sqlite.Store, runPoller func(context.Context) error, log *slog.Logger) writerWork {
	return func(ctx context.Context) {
		sessions := sqlite3store.NewWithCleanupInterval(store.DB(), 10*time.Minute)
		defer sessions.StopCleanup()
		pruned := make(chan struct{})
		go func() {
			defer close(pruned)
			sqlite.RunRetention(ctx, store, log)
		}()
		_ = runPoller(ctx)
		<-pruned
	}
}

// followRole runs the writer's work while the node is the primary and has
// the store follow the replicated database while it is a replica, until ctx
// ends. A promoted node migrates the database first; a demoted one takes no
// more writes at once and then waits for its poller to stop. Never two
// pollers on one database: LiteFS lets only the primary write, and this node
// stops writing as soon as it sees itself demoted.
func followRole(ctx context.Context, c *cluster, work writerWork, log *slog.Logger) {
	var stop context.CancelFunc = func() {}
	done := make(chan struct{})
	close(done)
	running := false // whether the writer's work is what runs now
	started := false
	c.node.Watch(ctx, roleEvery, func(r litefs.Role) {
		if !r.Primary {
			// Requests that write go to the new primary from now on.
			c.store.SetReadOnly(true)
			c.role.Store(&r)
		}
		log.Info("litefs role", "role", r.String())
		if started && running == r.Primary {
			return // a replica whose primary moved: it follows on as it was
		}
		started, running = true, r.Primary
		stop()
		<-done
		if r.Primary {
			if err := sqlite.Migrate(ctx, c.store.DB(), migrations.FS); err != nil {
				// LiteFS made this node the primary all the same: it polls,
				// and the error says what to mend.
				log.Error("promoted to primary, but the migrations failed", "err", err)
			}
			c.store.SetReadOnly(false)
			c.role.Store(&r)
		}
		c.store.Refresh()
		rctx, cancel := context.WithCancel(ctx)
		stop, done = cancel, make(chan struct{})
		go func() {
			defer close(done)
			if r.Primary {
				work(rctx)
				return
			}
			c.store.Follow(rctx, roleEvery, func(err error) {
				log.Error("replica: following the database, trying again", "err", err)
			})
		}()
	})
	stop()
	<-done
}
