package sqlite

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cmdash/migrations"
	"cmdash/monitoring"
)

func openWallLinkStore(t *testing.T) *Store {
	t.Helper()
	db, err := OpenDB(context.Background(), filepath.Join(t.TempDir(), "links.db"), migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	sealer, err := NewSealer("a test secret that is long enough")
	if err != nil {
		t.Fatal(err)
	}
	return NewStore(db, sealer)
}

func TestWallLinksAreStoredHashedAndOpenWhatTheySay(t *testing.T) {
	t.Parallel()
	s := openWallLinkStore(t)
	ctx := context.Background()
	plain, l, err := s.CreateWallLink(ctx, monitoring.WallLink{Name: "Hall TV", Query: "state:critical", WallMode: true, CreatedBy: "ann"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(plain, "wl_") || len(plain) != 46 || !strings.HasPrefix(plain, l.Prefix) || len(l.Prefix) != 9 {
		t.Errorf("token %q with prefix %q: want wl_ and 43 base64url characters, the prefix its first 9", plain, l.Prefix)
	}

	var hash []byte
	var row string
	if err := s.db.QueryRowContext(ctx, `SELECT token_hash, name || prefix || query || created_by FROM wall_links WHERE id = ?`, l.ID).Scan(&hash, &row); err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256([]byte(plain)); !bytes.Equal(hash, sum[:]) {
		t.Error("the stored hash is not the token's SHA-256")
	}
	if strings.Contains(row, plain) || bytes.Contains(hash, []byte(plain)) {
		t.Error("the plain token is stored")
	}

	got, err := s.WallLinkByToken(ctx, plain)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != l.ID || got.Name != "Hall TV" || got.Query != "state:critical" || !got.WallMode || got.CreatedBy != "ann" {
		t.Errorf("link = %+v", got)
	}
	other := plain[:len(plain)-1] + "A" // the same shape, another token
	if other == plain {
		other = plain[:len(plain)-1] + "B"
	}
	for _, bad := range []string{"", "wl_", plain[:len(plain)-1], plain + "A", "cm" + plain[2:], other, strings.ToUpper(plain)} {
		if _, err := s.WallLinkByToken(ctx, bad); !errors.Is(err, monitoring.ErrNotFound) {
			t.Errorf("token %q: err %v, want ErrNotFound", bad, err)
		}
	}

	links, err := s.ListWallLinks(ctx)
	if err != nil || len(links) != 1 || links[0].Name != "Hall TV" || links[0].LastUsedAt.IsZero() {
		t.Errorf("ListWallLinks = %+v, %v; want the link, used", links, err)
	}
}

func TestAWallLinksLastUseIsWrittenAtMostOnceAMinute(t *testing.T) {
	t.Parallel()
	s := openWallLinkStore(t)
	ctx := context.Background()
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	now := t0
	s.now = func() time.Time { return now }
	plain, l, err := s.CreateWallLink(ctx, monitoring.WallLink{Name: "TV", CreatedBy: "ann"})
	if err != nil {
		t.Fatal(err)
	}
	lastUsed := func() time.Time {
		t.Helper()
		var v int64
		if err := s.db.QueryRowContext(ctx, `SELECT last_used_at FROM wall_links WHERE id = ?`, l.ID).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return fromMS(v)
	}
	if !lastUsed().IsZero() {
		t.Fatal("a new link has been used")
	}
	for _, tt := range []struct {
		after time.Duration
		want  time.Duration // the use recorded, after t0
	}{
		{0, 0},
		{20 * time.Second, 0},
		{59 * time.Second, 0},
		{60 * time.Second, 60 * time.Second},
		{100 * time.Second, 60 * time.Second},
		{125 * time.Second, 125 * time.Second},
	} {
		now = t0.Add(tt.after)
		if _, err := s.WallLinkByToken(ctx, plain); err != nil {
			t.Fatal(err)
		}
		if got := lastUsed(); !got.Equal(t0.Add(tt.want)) {
			t.Errorf("after a use at +%s: last use recorded at +%s, want +%s", tt.after, got.Sub(t0), tt.want)
		}
	}
}

func TestARevokedWallLinkOpensNothingAtOnce(t *testing.T) {
	t.Parallel()
	s := openWallLinkStore(t)
	ctx := context.Background()
	plain, l, err := s.CreateWallLink(ctx, monitoring.WallLink{Name: "TV", CreatedBy: "ann"})
	if err != nil {
		t.Fatal(err)
	}
	keep, _, err := s.CreateWallLink(ctx, monitoring.WallLink{Name: "Other TV", CreatedBy: "ann"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.WallLinkByToken(ctx, plain); err != nil {
		t.Fatal(err)
	}
	// Remembered: a refresh does not ask the database.
	if _, err := s.db.ExecContext(ctx, `UPDATE wall_links SET name = 'renamed behind the store' WHERE id = ?`, l.ID); err != nil {
		t.Fatal(err)
	}
	if got, err := s.WallLinkByToken(ctx, plain); err != nil || got.Name != "TV" {
		t.Errorf("second lookup = %q, %v; want the remembered link", got.Name, err)
	}

	gone, err := s.DeleteWallLink(ctx, l.ID)
	if err != nil || gone.ID != l.ID {
		t.Fatalf("DeleteWallLink = %+v, %v", gone, err)
	}
	if _, err := s.WallLinkByToken(ctx, plain); !errors.Is(err, monitoring.ErrNotFound) {
		t.Errorf("revoked link: err %v, want ErrNotFound", err)
	}
	if _, err := s.DeleteWallLink(ctx, l.ID); !errors.Is(err, monitoring.ErrNotFound) {
		t.Errorf("revoking twice: err %v, want ErrNotFound", err)
	}
	if _, err := s.WallLinkByToken(ctx, keep); err != nil {
		t.Errorf("the other link: %v", err)
	}
	if links, _ := s.ListWallLinks(ctx); len(links) != 1 || links[0].Name != "Other TV" {
		t.Errorf("links after revoking = %+v", links)
	}
}
