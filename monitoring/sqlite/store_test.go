package sqlite_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"cmdash/migrations"
	"cmdash/monitoring"
	"cmdash/monitoring/sqlite"
	"cmdash/monitoring/sqlite/sqlitetest"
)

func TestAccountsRoundTripWithTheKeySealed(t *testing.T) {
	t.Parallel()
	store, path := sqlitetest.Open(t)
	ctx := context.Background()
	const key = "0123456789abcdef0123456789abcdef"
	a, err := store.CreateAccount(ctx, "ops-prod", "Production", key, nil)
	if err != nil {
		t.Fatal(err)
	}
	if a.Name() != "Production" || !a.Enabled || a.Status.NextPollAt.IsZero() {
		t.Errorf("new account = %+v", a)
	}
	if _, err := store.CreateAccount(ctx, "OPS-PROD", "", "x", nil); !errors.Is(err, monitoring.ErrDuplicate) {
		t.Errorf("duplicate username (other case) err = %v, want ErrDuplicate", err)
	}
	cr, tok, err := store.Credentials(ctx, a.ID)
	if err != nil || cr.APIKey != key || cr.Username != "ops-prod" || tok != nil {
		t.Fatalf("Credentials = %+v %v %v", cr, tok, err)
	}

	newKey := "fedcba9876543210fedcba9876543210"
	if err := store.UpdateAccount(ctx, a.ID, monitoring.AccountUpdate{Alias: "", APIKey: &newKey, Enabled: false}); err != nil {
		t.Fatal(err)
	}
	if err := store.UpdateAccount(ctx, a.ID, monitoring.AccountUpdate{Alias: "Prod", Enabled: true}); err != nil {
		t.Fatal(err)
	}
	cr, _, _ = store.Credentials(ctx, a.ID)
	if cr.APIKey != newKey {
		t.Errorf("a nil key in an update must keep the last key; got %q", cr.APIKey)
	}

	// The key must not be in the database files as plain text.
	if _, err := store.DB().ExecContext(ctx, "PRAGMA wal_checkpoint(FULL)"); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{path, path + "-wal"} {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		if bytes.Contains(data, []byte(key)) || bytes.Contains(data, []byte(newKey)) {
			t.Errorf("%s contains an API key in plain text", filepath.Base(f))
		}
	}

	if err := store.DeleteAccount(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Account(ctx, a.ID); !errors.Is(err, monitoring.ErrNotFound) {
		t.Errorf("deleted account err = %v", err)
	}
}

func TestAccountsAreListedByNameNumbersByValue(t *testing.T) {
	t.Parallel()
	store, _ := sqlitetest.Open(t)
	ctx := context.Background()
	for _, a := range [][2]string{{"cust10", "Customer 10"}, {"cust6", "Customer 6"}, {"web2", ""}, {"WEB10", ""}} {
		if _, err := store.CreateAccount(ctx, a[0], a[1], "k", nil); err != nil {
			t.Fatal(err)
		}
	}
	accts, err := store.ListAccounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range accts {
		got = append(got, a.Name())
	}
	if want := []string{"Customer 6", "Customer 10", "web2", "WEB10"}; !slices.Equal(got, want) {
		t.Errorf("accounts %q, want %q", got, want)
	}
}

func TestAWrongSecretCannotReadKeys(t *testing.T) {
	t.Parallel()
	store, path := sqlitetest.Open(t)
	ctx := context.Background()
	a, err := store.CreateAccount(ctx, "u1", "", "secret-key-value", nil)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.OpenDB(ctx, path, migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	other, _ := sqlite.NewSealer("another secret, also long enough")
	if _, _, err := sqlite.NewStore(db, other).Credentials(ctx, a.ID); err == nil {
		t.Fatal("credentials decrypted with the wrong secret")
	}
}

func TestSnapshotsSurviveAReopen(t *testing.T) {
	t.Parallel()
	store, path := sqlitetest.Open(t)
	ctx := context.Background()
	a, _ := store.CreateAccount(ctx, "u1", "", "k", nil)
	now := time.Now().Truncate(time.Millisecond).UTC()
	snap := monitoring.Snapshot{FetchedAt: now, Servers: []monitoring.Server{{ID: "enA", Label: "web", Worst: monitoring.StateOK,
		Alarms: []monitoring.Alarm{{ID: "al1", Label: "cpu", State: monitoring.StateOK, Evaluated: true}},
		Counts: monitoring.Counts{OK: 1, Total: 1}}}}
	tok := monitoring.Token{ID: "tok", TenantID: "1", Endpoint: "http://x/v1.0/1", Expires: now.Add(time.Hour)}
	if err := store.SaveSnapshot(ctx, a.ID, snap, monitoring.PollSuccess{Fetched: monitoring.FetchResult{Token: tok}, PolledAt: now, NextPoll: now.Add(30 * time.Second)}); err != nil {
		t.Fatal(err)
	}

	db, err := sqlite.OpenDB(ctx, path, migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sealer, _ := sqlite.NewSealer(sqlitetest.Secret)
	fresh := sqlite.NewStore(db, sealer) // no in-memory cache
	got, err := fresh.Snapshot(ctx, a.ID)
	if err != nil || got == nil {
		t.Fatalf("snapshot after reopen: %v %v", got, err)
	}
	if !got.FetchedAt.Equal(now) || len(got.Servers) != 1 || got.Servers[0].Alarms[0].Label != "cpu" {
		t.Errorf("snapshot = %+v", got)
	}
	_, gotTok, _ := fresh.Credentials(ctx, a.ID)
	if gotTok == nil || gotTok.ID != "tok" || !gotTok.Expires.Equal(tok.Expires) {
		t.Errorf("cached token after reopen = %+v, want it stored so a restart need not log in", gotTok)
	}
}

func TestAFailedPollKeepsTheSnapshotAndCountsErrors(t *testing.T) {
	t.Parallel()
	store, _ := sqlitetest.Open(t)
	ctx := context.Background()
	a, _ := store.CreateAccount(ctx, "u1", "", "k", nil)
	now := time.Now()
	snap := monitoring.Snapshot{FetchedAt: now, Servers: []monitoring.Server{{ID: "enA", Label: "web"}}}
	if err := store.SaveSnapshot(ctx, a.ID, snap, monitoring.PollSuccess{PolledAt: now, NextPoll: now}); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 2; i++ {
		if err := store.SavePollFailure(ctx, a.ID, monitoring.PollFailure{Message: "down", Kind: "unavailable", PolledAt: now, NextPoll: now.Add(time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := store.Account(ctx, a.ID)
	if got.Status.ErrorCount != 2 || got.Status.LastError != "down" || got.Status.LastSuccessAt.IsZero() {
		t.Errorf("status = %+v", got.Status)
	}
	s, _ := store.Snapshot(ctx, a.ID)
	if s == nil || len(s.Servers) != 1 {
		t.Errorf("snapshot lost after failures: %+v", s)
	}
	due, _ := store.DueAccounts(ctx, now)
	if len(due) != 0 {
		t.Errorf("a backed-off account is due: %v", due)
	}
}

func TestAFailedPollKeepsReplacesOrForgetsTheToken(t *testing.T) {
	t.Parallel()
	store, _ := sqlitetest.Open(t)
	ctx := context.Background()
	a, _ := store.CreateAccount(ctx, "u1", "", "k", &monitoring.Token{ID: "first", Endpoint: "http://x/v1.0/1"})
	now := time.Now()
	fail := monitoring.PollFailure{Message: "down", Kind: "unavailable", PolledAt: now, NextPoll: now.Add(time.Minute)}
	if err := store.SavePollFailure(ctx, a.ID, fail); err != nil {
		t.Fatal(err)
	}
	if _, tok, _ := store.Credentials(ctx, a.ID); tok == nil || tok.ID != "first" {
		t.Fatalf("a failure without a token dropped the stored one: %+v", tok)
	}
	fail.Token = &monitoring.Token{ID: "second", Endpoint: "http://x/v1.0/1"}
	if err := store.SavePollFailure(ctx, a.ID, fail); err != nil {
		t.Fatal(err)
	}
	if _, tok, _ := store.Credentials(ctx, a.ID); tok == nil || tok.ID != "second" {
		t.Fatalf("the token of the failed poll was not kept: %+v", tok)
	}
	fail.Token, fail.ForgetToken = nil, true
	if err := store.SavePollFailure(ctx, a.ID, fail); err != nil {
		t.Fatal(err)
	}
	if _, tok, _ := store.Credentials(ctx, a.ID); tok != nil {
		t.Fatalf("a failure that forgets the token kept %+v", tok)
	}
}

func TestAFailureWithAReplacedKeyStoresNeitherItsStatusNorItsToken(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	newKey := "a-new-key-typed-in-settings"
	stale := &monitoring.Token{ID: "stale", Endpoint: "http://x/v1.0/1"}
	t.Run("a failure saved with the old key version changes nothing", func(t *testing.T) {
		store, _ := sqlitetest.Open(t)
		a, _ := store.CreateAccount(ctx, "u1", "", "k", &monitoring.Token{ID: "first", Endpoint: "http://x/v1.0/1"})
		if err := store.UpdateAccount(ctx, a.ID, monitoring.AccountUpdate{APIKey: &newKey, Enabled: true,
			Token: &monitoring.Token{ID: "current", Endpoint: "http://x/v1.0/1"}}); err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		err := store.SavePollFailure(ctx, a.ID, monitoring.PollFailure{KeyVersion: a.KeyVersion, Message: "down",
			Kind: "unavailable", PolledAt: now, NextPoll: now.Add(time.Hour), Token: stale})
		if !errors.Is(err, monitoring.ErrStalePoll) {
			t.Fatalf("err = %v, want ErrStalePoll", err)
		}
		got, _ := store.Account(ctx, a.ID)
		if got.Status.ErrorCount != 0 || got.Status.LastError != "" || got.Status.NextPollAt.After(now) {
			t.Errorf("the stale failure was recorded: %+v", got.Status)
		}
		if _, tok, _ := store.Credentials(ctx, a.ID); tok == nil || tok.ID != "current" {
			t.Errorf("token = %+v, want the new key's token kept", tok)
		}
	})
	t.Run("a key replaced the moment the failure is written does not get the old key's token", func(t *testing.T) {
		store, _ := sqlitetest.Open(t)
		a, _ := store.CreateAccount(ctx, "u1", "", "k", nil)
		// The trigger is a new key saved right after the failure's status
		// lands: what settings would do in the gap if the status and the
		// token were two writes.
		if _, err := store.DB().ExecContext(ctx, `CREATE TRIGGER rekey_after_failure AFTER UPDATE OF last_error ON accounts
			WHEN NEW.last_error <> '' BEGIN
			UPDATE accounts SET key_version = key_version + 1, token_sealed = NULL WHERE id = NEW.id; END`); err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		err := store.SavePollFailure(ctx, a.ID, monitoring.PollFailure{KeyVersion: a.KeyVersion, Message: "down",
			Kind: "unavailable", PolledAt: now, NextPoll: now.Add(time.Hour), Token: stale})
		if err != nil {
			t.Fatalf("the failure, saved before the new key, was not recorded: %v", err)
		}
		if _, tok, _ := store.Credentials(ctx, a.ID); tok != nil {
			t.Errorf("the old key's token %q is stored under the new key", tok.ID)
		}
	})
}

func TestAPollOfARemovedAccountIsNotRecorded(t *testing.T) {
	t.Parallel()
	store, _ := sqlitetest.Open(t)
	ctx := context.Background()
	a, _ := store.CreateAccount(ctx, "u1", "", "k", nil)
	if err := store.DeleteAccount(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tok := &monitoring.Token{ID: "t"}
	if err := store.SaveSnapshot(ctx, a.ID, monitoring.Snapshot{FetchedAt: now}, monitoring.PollSuccess{PolledAt: now}); !errors.Is(err, monitoring.ErrNotFound) {
		t.Errorf("success: err = %v, want ErrNotFound", err)
	}
	for _, tk := range []*monitoring.Token{nil, tok} {
		if err := store.SavePollFailure(ctx, a.ID, monitoring.PollFailure{Message: "x", PolledAt: now, Token: tk}); !errors.Is(err, monitoring.ErrNotFound) {
			t.Errorf("failure (token %v): err = %v, want ErrNotFound", tk != nil, err)
		}
	}
	if s, _ := store.Snapshot(ctx, a.ID); s != nil {
		t.Error("a snapshot was stored for a removed account")
	}
}

func TestFilters(t *testing.T) {
	t.Parallel()
	store, _ := sqlitetest.Open(t)
	ctx := context.Background()
	f, err := store.CreateFilter(ctx, "Prod DBs", "prod db")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.CreateFilter(ctx, "prod dbs", "x"); !errors.Is(err, monitoring.ErrDuplicate) {
		t.Errorf("duplicate name err = %v", err)
	}
	list, _ := store.ListFilters(ctx)
	if len(list) != 1 || list[0].Query != "prod db" {
		t.Errorf("filters = %+v", list)
	}
	if gone, err := store.DeleteFilter(ctx, f.ID); err != nil || gone.Name != "Prod DBs" || gone.Query != "prod db" {
		t.Fatalf("delete returned %+v, %v", gone, err)
	}
	if _, err := store.DeleteFilter(ctx, f.ID); !errors.Is(err, monitoring.ErrNotFound) {
		t.Errorf("second delete err = %v", err)
	}
}

func TestKeyFileIsCreatedOnceWithMode0600(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "db.key")
	s1, created, err := sqlite.LoadOrCreateKeyFile(path)
	if err != nil || !created {
		t.Fatalf("first: %v %v", created, err)
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v", st.Mode().Perm())
	}
	s2, created, err := sqlite.LoadOrCreateKeyFile(path)
	if err != nil || created || s1 != s2 {
		t.Errorf("second load: created=%v same=%v err=%v", created, s1 == s2, err)
	}
}

func TestTheWallKeepsSummariesInMemoryAndAlarmsInTheDatabase(t *testing.T) {
	t.Parallel()
	store, _ := sqlitetest.Open(t)
	ctx := context.Background()
	a, _ := store.CreateAccount(ctx, "u1", "", "k", nil)
	gen := store.Generation()
	now := time.Now().Truncate(time.Millisecond).UTC()
	snap := monitoring.Snapshot{FetchedAt: now, Servers: []monitoring.Server{{ID: "enA", Label: "web", AgentID: "agent", Worst: monitoring.StateWarning,
		Alarms: []monitoring.Alarm{{ID: "al1", Label: "cpu", CheckLabel: "CPU check", State: monitoring.StateWarning, Status: "load 9", Evaluated: true},
			{ID: "al2", Label: "ping", State: monitoring.StateOK, Evaluated: true}},
		Counts: monitoring.Counts{Warning: 1, OK: 1, Total: 2}}}}
	if err := store.SaveSnapshot(ctx, a.ID, snap, monitoring.PollSuccess{PolledAt: now, NextPoll: now.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if store.Generation() == gen {
		t.Error("a stored poll did not advance the generation")
	}
	sums, err := store.Summaries(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sum := sums[a.ID]
	if sum == nil || len(sum.Servers) != 1 {
		t.Fatalf("summary %+v", sum)
	}
	if s := sum.Servers[0]; s.ID != "enA" || s.Label != "web" || s.Worst != monitoring.StateWarning || s.Counts.Warning != 1 || s.AgentID != "" ||
		len(s.Alarms) != 1 || s.Alarms[0].Label != "cpu" || s.Alarms[0].Status != "load 9" || s.Terms != "cpu\ncpu check\nping\n" {
		t.Errorf("summary server %+v, want id, label, counts, worst state, the problem alarm alone and the alarms' terms", s)
	}
	full, err := store.Snapshot(ctx, a.ID)
	if err != nil || full == nil || len(full.Servers[0].Alarms) != 2 || full.Servers[0].AgentID != "agent" {
		t.Errorf("full snapshot %+v, %v: want the alarms and details from the database", full, err)
	}
}

func TestAnUnknownUserAndAWrongPasswordFailAlike(t *testing.T) {
	t.Parallel()
	store, _ := sqlitetest.Open(t)
	ctx := context.Background()
	if _, err := store.CreateUser(ctx, "ops", "correct horse battery", monitoring.Admin); err != nil {
		t.Fatal(err)
	}
	for _, try := range [][2]string{{"ops", "wrong password"}, {"nobody", "correct horse battery"}} {
		if _, err := store.Authenticate(ctx, try[0], try[1]); !errors.Is(err, monitoring.ErrBadPassword) {
			t.Errorf("Authenticate(%q): err = %v, want ErrBadPassword", try[0], err)
		}
	}
	if u, err := store.Authenticate(ctx, "ops", "correct horse battery"); err != nil || u.Username != "ops" {
		t.Errorf("the right password: %+v %v", u, err)
	}
}

func TestAnUnchangedPollMovesTheTimeWithoutRewritingTheSnapshot(t *testing.T) {
	t.Parallel()
	store, _ := sqlitetest.Open(t)
	ctx := context.Background()
	a, _ := store.CreateAccount(ctx, "u1", "", "k", nil)
	t0 := time.Now().Truncate(time.Millisecond).UTC()
	snapAt := func(at time.Time, state monitoring.State) monitoring.Snapshot {
		return monitoring.Snapshot{FetchedAt: at, Servers: []monitoring.Server{{ID: "enA", Label: "web", Worst: state,
			Alarms: []monitoring.Alarm{{ID: "al1", Label: "cpu", State: state, Evaluated: true}}, Counts: monitoring.Counts{OK: 1, Total: 1}}}}
	}
	save := func(s monitoring.Snapshot) {
		t.Helper()
		if err := store.SaveSnapshot(ctx, a.ID, s, monitoring.PollSuccess{PolledAt: s.FetchedAt, NextPoll: s.FetchedAt.Add(time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	rowData := func() string {
		t.Helper()
		var data string
		if err := store.DB().QueryRowContext(ctx, `SELECT group_concat(hex(data), '/') FROM snapshot_pages WHERE account_id = ?`, a.ID).Scan(&data); err != nil {
			t.Fatal(err)
		}
		return data
	}
	save(snapAt(t0, monitoring.StateOK))
	first := rowData()

	save(snapAt(t0.Add(time.Minute), monitoring.StateOK))
	if rowData() != first {
		t.Error("an unchanged poll rewrote the snapshot")
	}
	full, err := store.Snapshot(ctx, a.ID)
	if err != nil || !full.FetchedAt.Equal(t0.Add(time.Minute)) {
		t.Errorf("snapshot fetched at %v (%v), want the second poll's time", full.FetchedAt, err)
	}
	sum, _ := store.Summary(ctx, a.ID)
	if !sum.FetchedAt.Equal(t0.Add(time.Minute)) {
		t.Errorf("summary fetched at %v, want the second poll's time", sum.FetchedAt)
	}

	save(snapAt(t0.Add(2*time.Minute), monitoring.StateCritical))
	full, _ = store.Snapshot(ctx, a.ID)
	if rowData() == first || full.Servers[0].Alarms[0].State != monitoring.StateCritical {
		t.Error("a changed poll was not written")
	}
}

func TestSnapshotsAreStoredInCompressedPagesAndReadOneServerAtATime(t *testing.T) {
	t.Parallel()
	store, _ := sqlitetest.Open(t)
	ctx := context.Background()
	a, _ := store.CreateAccount(ctx, "u1", "", "k", nil)
	now := time.Now().Truncate(time.Millisecond).UTC()
	snap := monitoring.Snapshot{FetchedAt: now}
	for i := range 200 {
		snap.Servers = append(snap.Servers, monitoring.Server{ID: fmt.Sprintf("en%03d", i), Label: fmt.Sprintf("web-%03d", i), Worst: monitoring.StateOK,
			Counts: monitoring.Counts{OK: 2, Total: 2}, Alarms: []monitoring.Alarm{
				{ID: "al1", Label: "cpu", State: monitoring.StateOK, Status: "fine", Evaluated: true, Since: now},
				{ID: "al2", Label: "disk", State: monitoring.StateOK, Status: "fine", Evaluated: true, Since: now},
			}})
	}
	if err := store.SaveSnapshot(ctx, a.ID, snap, monitoring.PollSuccess{PolledAt: now, NextPoll: now.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	var data []byte
	if err := store.DB().QueryRowContext(ctx, `SELECT data FROM snapshot_pages WHERE account_id = ?`, a.ID).Scan(&data); err != nil {
		t.Fatal(err)
	}
	plain, _ := json.Marshal(snap)
	if !bytes.HasPrefix(data, []byte{0x1f, 0x8b}) || len(data) > len(plain)/4 {
		t.Errorf("stored %d bytes for %d of JSON, want it gzipped", len(data), len(plain))
	}
	full, err := store.Snapshot(ctx, a.ID)
	if err != nil || len(full.Servers) != 200 || full.Servers[199].Alarms[1].Label != "disk" || !full.Servers[0].Alarms[0].Since.Equal(now) {
		t.Fatalf("read back: %v", err)
	}
	one, err := store.SnapshotServer(ctx, a.ID, "en042")
	if err != nil || len(one.Servers) != 1 || one.Servers[0].Label != "web-042" || len(one.Servers[0].Alarms) != 2 {
		t.Errorf("one server: %+v, %v", one, err)
	}
	if none, _ := store.SnapshotServer(ctx, a.ID, "nope"); none == nil || len(none.Servers) != 0 {
		t.Errorf("an unknown server: %+v", none)
	}

	t.Run("a snapshot stored whole as JSON, as before pages, is still read", func(t *testing.T) {
		if _, err := store.DB().ExecContext(ctx, `DELETE FROM snapshot_pages WHERE account_id = ?`, a.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := store.DB().ExecContext(ctx, `UPDATE snapshots SET data = ? WHERE account_id = ?`, plain, a.ID); err != nil {
			t.Fatal(err)
		}
		old, err := store.Snapshot(ctx, a.ID)
		if err != nil || len(old.Servers) != 200 || old.Servers[5].Alarms[0].Status != "fine" {
			t.Errorf("plain row: %v", err)
		}
	})
}

func TestOnlyChangedPagesAreWritten(t *testing.T) {
	t.Parallel()
	store, _ := sqlitetest.Open(t)
	ctx := context.Background()
	a, _ := store.CreateAccount(ctx, "u1", "", "k", nil)
	page := func(from, n int, state monitoring.State) []monitoring.Server {
		var out []monitoring.Server
		for i := from; i < from+n; i++ {
			// Labels descend, so the stored order is not the wall's.
			out = append(out, monitoring.Server{ID: fmt.Sprintf("en%03d", i), Label: fmt.Sprintf("host-%03d", 999-i), Worst: state,
				Counts: monitoring.Counts{Total: 1}, Alarms: []monitoring.Alarm{{ID: "al", Label: "ping", State: state, Evaluated: true}}})
		}
		return out
	}
	poll := func(pages ...[]monitoring.Server) {
		t.Helper()
		w, err := store.BeginPoll(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range pages {
			w.Page(p)
		}
		now := time.Now()
		if _, err := w.Save(ctx, monitoring.PollSuccess{PolledAt: now, NextPoll: now.Add(time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	stored := func() []string {
		t.Helper()
		rows, err := store.DB().QueryContext(ctx, `SELECT hex(data) FROM snapshot_pages WHERE account_id = ? ORDER BY page`, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var d string
			_ = rows.Scan(&d)
			out = append(out, d)
		}
		return out
	}
	poll(page(0, 3, monitoring.StateOK), page(3, 3, monitoring.StateOK), page(6, 2, monitoring.StateOK))
	first := stored()
	if len(first) != 3 {
		t.Fatalf("%d pages stored, want 3", len(first))
	}

	poll(page(0, 3, monitoring.StateOK), page(3, 3, monitoring.StateCritical), page(6, 2, monitoring.StateOK))
	second := stored()
	if second[0] != first[0] || second[2] != first[2] || second[1] == first[1] {
		t.Error("want only the changed middle page rewritten")
	}
	snap, err := store.Snapshot(ctx, a.ID)
	if err != nil || len(snap.Servers) != 8 {
		t.Fatalf("snapshot: %v", err)
	}
	if snap.Servers[0].Label != "host-992" || snap.Servers[7].Label != "host-999" {
		t.Errorf("servers read back as %s … %s, want the wall's order by label", snap.Servers[0].Label, snap.Servers[7].Label)
	}
	crit := 0
	for _, s := range snap.Servers {
		if s.Worst == monitoring.StateCritical {
			crit++
		}
	}
	if crit != 3 {
		t.Errorf("%d critical servers read back, want 3", crit)
	}
	sum, _ := store.Summary(ctx, a.ID)
	if len(sum.Servers) != 8 || sum.Servers[0].Label != "host-992" || sum.Servers[0].Alarms != nil {
		t.Errorf("summary %+v", sum.Servers[0])
	}

	poll(page(0, 3, monitoring.StateOK))
	if got := stored(); len(got) != 1 || got[0] != first[0] {
		t.Errorf("after the account shrank to one page: %d pages stored", len(got))
	}
	if snap, _ := store.Snapshot(ctx, a.ID); len(snap.Servers) != 3 {
		t.Errorf("%d servers after shrinking, want 3", len(snap.Servers))
	}
}

func TestTheDatabaseFilesAreReadableByTheirOwnerOnly(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	check := func(t *testing.T, path string) {
		t.Helper()
		db, err := sqlite.OpenDB(context.Background(), path, migrations.FS)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Exec(`INSERT INTO filters (name, query, created_at) VALUES ('x', 'y', 0)`); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{path, path + "-wal", path + "-shm"} {
			st, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if perm := st.Mode().Perm(); perm&0o077 != 0 {
				t.Errorf("%s has mode %v, want no access for group or others", filepath.Base(p), perm)
			}
		}
	}
	t.Run("a new database", func(t *testing.T) { check(t, filepath.Join(dir, "new.db")) })
	t.Run("an existing world-readable database is made private", func(t *testing.T) {
		path := filepath.Join(dir, "old.db")
		if err := os.WriteFile(path, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		check(t, path)
	})
}

func TestUserChangesSayWhatTheyReplacedOrRemoved(t *testing.T) {
	t.Parallel()
	store, _ := sqlitetest.Open(t)
	ctx := context.Background()
	admin, err := store.CreateUser(ctx, "root", "the admin's password", monitoring.Admin)
	if err != nil {
		t.Fatal(err)
	}
	u, err := store.CreateUser(ctx, "carol", "carol's password", monitoring.Viewer)
	if err != nil {
		t.Fatal(err)
	}
	if before, err := store.SetRole(ctx, u.ID, monitoring.Operator); err != nil || before.Username != "carol" || before.Role != monitoring.Viewer {
		t.Errorf("SetRole returned %+v, %v; want carol as the viewer she was", before, err)
	}
	if _, err := store.SetRole(ctx, admin.ID, monitoring.Viewer); !errors.Is(err, monitoring.ErrLastAdmin) {
		t.Errorf("demoting the last admin: %v", err)
	}
	if _, err := store.SetRole(ctx, 9999, monitoring.Viewer); !errors.Is(err, monitoring.ErrNotFound) {
		t.Errorf("an unknown user's role: %v", err)
	}

	_, tok, err := store.CreateAPIToken(ctx, u.ID, "bot", monitoring.Viewer)
	if err != nil {
		t.Fatal(err)
	}
	if gone, err := store.DeleteAPIToken(ctx, tok.ID); err != nil || gone.Name != "bot" || gone.Username != "carol" || gone.Role != monitoring.Viewer {
		t.Errorf("DeleteAPIToken returned %+v, %v", gone, err)
	}
	if _, err := store.DeleteAPIToken(ctx, tok.ID); !errors.Is(err, monitoring.ErrNotFound) {
		t.Errorf("second revoke: %v", err)
	}

	if gone, err := store.DeleteUser(ctx, u.ID); err != nil || gone.Username != "carol" || gone.Role != monitoring.Operator {
		t.Errorf("DeleteUser returned %+v, %v", gone, err)
	}
	if _, err := store.DeleteUser(ctx, u.ID); !errors.Is(err, monitoring.ErrNotFound) {
		t.Errorf("second removal: %v", err)
	}
	if _, err := store.DeleteUser(ctx, admin.ID); !errors.Is(err, monitoring.ErrLastAdmin) {
		t.Errorf("removing the last admin: %v", err)
	}
}
