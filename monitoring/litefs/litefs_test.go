package litefs

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// mount fakes LiteFS's files in a directory, as a replica connected to
// "node-a" would show them.
func mount(t *testing.T) (dir string, set func(name, content string)) {
	t.Helper()
	dir = t.TempDir()
	set = func(name, content string) {
		t.Helper()
		p := filepath.Join(dir, name)
		if content == "" {
			if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			return
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	set(".lag", "+0000000012\n")
	set(".primary", "node-a\n")
	set("d.db-pos", "0000000000000003/8ee6b5b2f291f48a\n")
	return dir, set
}

func TestRoleLagAndPositionAreReadAsLiteFSWritesThem(t *testing.T) {
	dir, set := mount(t)
	n := At(filepath.Join(dir, "d.db"))
	if !n.Mounted() || At(filepath.Join(t.TempDir(), "d.db")).Mounted() {
		t.Fatal("Mounted: want true for the mount, false for a plain directory")
	}
	if r, err := n.Role(); err != nil || r.Primary || r.PrimaryHost != "node-a" {
		t.Errorf("replica: Role = %+v, %v", r, err)
	}
	if lag, err := n.Lag(); err != nil || lag != 12*time.Millisecond {
		t.Errorf("Lag = %v, %v", lag, err)
	}
	if p, err := n.Position(); err != nil || p.TXID != 3 || p.String() != "0000000000000003/8ee6b5b2f291f48a" {
		t.Errorf("Position = %+v, %v", p, err)
	}
	// Lost its primary: no .primary, and the lag grows. Still a replica.
	set(".primary", "")
	set(".lag", "+0000004000\n")
	if r, err := n.Role(); err != nil || r.Primary || r.PrimaryHost != "" {
		t.Errorf("replica without a primary: Role = %+v, %v", r, err)
	}
	set(".lag", "+0000000000\n")
	if r, err := n.Role(); err != nil || !r.Primary {
		t.Errorf("primary: Role = %+v, %v", r, err)
	}
	for _, bad := range []string{"nonsense", "1/2/3", "zz/00"} {
		if _, err := ParsePosition(bad); err == nil {
			t.Errorf("ParsePosition(%q) took it", bad)
		}
	}
}

func TestWatchTakesPrimaryOnlyWhenItLasts(t *testing.T) {
	dir, set := mount(t)
	n := At(filepath.Join(dir, "d.db"))
	var mu sync.Mutex
	var got []Role
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		n.Watch(ctx, 5*time.Millisecond, func(r Role) { mu.Lock(); got = append(got, r); mu.Unlock() })
	}()
	roles := func() []Role { mu.Lock(); defer mu.Unlock(); return append([]Role(nil), got...) }
	waitFor := func(what string, ok func([]Role) bool) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			if ok(roles()) {
				return
			}
		}
		t.Fatalf("%s: roles seen %+v", what, roles())
	}
	waitFor("the first role, at once", func(r []Role) bool { return len(r) == 1 && r[0].PrimaryHost == "node-a" })
	// The primary is away: LiteFS removes .primary between attempts to
	// reach it. Still a replica of node-a, and nothing to report.
	set(".primary", "")
	set(".lag", "+0000004000\n")
	time.Sleep(50 * time.Millisecond)
	set(".primary", "node-a\n")
	time.Sleep(50 * time.Millisecond)
	if r := roles(); len(r) != 1 {
		t.Fatalf("a replica retrying its primary reported %+v", r)
	}
	set(".primary", "")
	set(".lag", "+0000000000\n")
	waitFor("promoted", func(r []Role) bool { return len(r) == 2 && r[1].Primary })
	set(".primary", "node-b\n")
	waitFor("demoted at once", func(r []Role) bool { return len(r) == 3 && r[2].PrimaryHost == "node-b" })
	cancel()
	<-done
}
