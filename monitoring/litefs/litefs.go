// Package litefs tells the dashboard where it stands when its database lives
// in a LiteFS mount (github.com/superfly/litefs): primary or replica, which
// node is the primary, and how far the local copy has come.
//
// LiteFS shows this as files in its mount, beside the database:
//   - ".primary" names the primary, on a replica connected to it; there is
//     none on the primary, nor on a replica that has lost its primary;
//   - ".lag" is how long ago, in milliseconds, the replica last heard from
//     the primary ("+0000000000" on the primary);
//   - "<name>-pos" is the database's position, "TXID/CHECKSUM" in hex.
package litefs

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Role is a node's place in the cluster.
type Role struct {
	Primary bool
	// PrimaryHost names the primary, as LiteFS knows it (its lease's
	// hostname); empty on the primary itself.
	PrimaryHost string
}

func (r Role) String() string {
	if r.Primary {
		return "primary"
	}
	return "replica of " + r.PrimaryHost
}

// Node is one database in a LiteFS mount.
type Node struct {
	dir  string // the mount directory (or the database's directory)
	name string // the database's file name
}

// At describes the database at dbPath as a LiteFS node, whether or not it
// is in a LiteFS mount (see Mounted).
func At(dbPath string) *Node {
	return &Node{dir: filepath.Dir(dbPath), name: filepath.Base(dbPath)}
}

// Mounted reports whether the database's directory is a LiteFS mount (it
// has a ".lag" file).
func (n *Node) Mounted() bool {
	_, err := os.Stat(filepath.Join(n.dir, ".lag"))
	return err == nil
}

// Role reads the node's role: a replica when ".primary" names a primary or
// when the node has not heard from one lately (a replica that lost its
// primary has no ".primary" either, but its lag grows).
func (n *Node) Role() (Role, error) {
	b, err := os.ReadFile(filepath.Join(n.dir, ".primary"))
	if err == nil {
		host := strings.TrimSpace(string(b))
		if host == "" {
			return Role{}, errors.New("litefs role: .primary names no host")
		}
		return Role{PrimaryHost: host}, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return Role{}, fmt.Errorf("litefs role: %w", err)
	}
	lag, err := n.Lag()
	if err != nil {
		return Role{}, err
	}
	return Role{Primary: lag == 0}, nil
}

// Lag reads how long ago the node last heard from the primary: 0 on the
// primary.
func (n *Node) Lag() (time.Duration, error) {
	b, err := os.ReadFile(filepath.Join(n.dir, ".lag"))
	if err != nil {
		return 0, fmt.Errorf("litefs lag: %w", err)
	}
	ms, err := strconv.ParseInt(strings.TrimPrefix(strings.TrimSpace(string(b)), "+"), 10, 64)
	if err != nil || ms < 0 {
		return 0, fmt.Errorf("litefs lag %q: not a number of milliseconds", b)
	}
	return time.Duration(ms) * time.Millisecond, nil
}

// Position is how far a database has come: the ID of the last transaction
// applied, 0 before the first.
type Position struct {
	TXID     uint64
	Checksum uint64
}

// Position reads the database's "-pos" file.
func (n *Node) Position() (Position, error) {
	b, err := os.ReadFile(filepath.Join(n.dir, n.name+"-pos"))
	if err != nil {
		return Position{}, fmt.Errorf("litefs position: %w", err)
	}
	return ParsePosition(string(b))
}

// ParsePosition reads "TXID/CHECKSUM", both hexadecimal.
func ParsePosition(s string) (Position, error) {
	tx, sum, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return Position{}, fmt.Errorf("litefs position %q: want TXID/CHECKSUM", s)
	}
	var p Position
	var err error
	if p.TXID, err = strconv.ParseUint(tx, 16, 64); err != nil {
		return Position{}, fmt.Errorf("litefs position %q: %w", s, err)
	}
	if p.Checksum, err = strconv.ParseUint(sum, 16, 64); err != nil {
		return Position{}, fmt.Errorf("litefs position %q: %w", s, err)
	}
	return p, nil
}

// String writes the position as LiteFS does.
func (p Position) String() string { return fmt.Sprintf("%016x/%016x", p.TXID, p.Checksum) }

// Watch calls f with the node's role at once and then on every change,
// looking every interval until ctx ends.
//
// A replica that has lost its primary has no ".primary" between attempts
// to reach it again (LiteFS writes the file for each attempt and removes it
// when the attempt fails): it keeps the last primary it knew rather than
// flapping between "replica of X" and "replica of nobody". A node becomes
// primary only when it has looked like one twice in a row, so that a
// moment's reading never starts a poller; it becomes a replica at once. A
// role that cannot be read (a moment's error) keeps the last one.
func (n *Node) Watch(ctx context.Context, every time.Duration, f func(Role)) {
	var last, seen Role
	first := true
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if r, err := n.Role(); err == nil {
			if !r.Primary && r.PrimaryHost == "" && !last.Primary {
				r.PrimaryHost = last.PrimaryHost
			}
			switch {
			case first && !r.Primary:
				first, last = false, r
				f(r)
			case r == last && !first:
			case r.Primary && seen != r:
				// Look again before taking it.
			default:
				first, last = false, r
				f(r)
			}
			seen = r
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
