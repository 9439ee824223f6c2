package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// fakeClock is a settable clock safe for concurrent use.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func openTest(t testing.TB, opts Options) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "state", "accessbot.db")
	s, err := Open(path, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, path
}

func validRef() ConversationRef {
	return ConversationRef{
		TenantID: "11111111-1111-1111-1111-111111111111", AADObjectID: "aaaaaaaa-0000-0000-0000-000000000001",
		UserID: "29:rita", UserName: "Rita Requester", ConversationID: "a:1xyz",
		ServiceURL: "https://smba.trafficmanager.net/emea/", ChannelID: "msteams",
		BotID: "28:b0770000-0000-4000-8000-000000000001", BotName: "AccessBot", ConversationType: "personal",
	}
}

func TestPutConversationValidation(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t, Options{})
	tests := []struct {
		name   string
		mutate func(*ConversationRef)
		field  string
	}{
		{"missing tenant", func(r *ConversationRef) { r.TenantID = "" }, "tenantId"},
		{"missing aad id", func(r *ConversationRef) { r.AADObjectID = "" }, "aadObjectId"},
		{"missing conversation", func(r *ConversationRef) { r.ConversationID = "" }, "conversationId"},
		{"missing service url", func(r *ConversationRef) { r.ServiceURL = "" }, "serviceUrl"},
		{"relative service url", func(r *ConversationRef) { r.ServiceURL = "/v3/conversations" }, "serviceUrl"},
		{"ftp service url", func(r *ConversationRef) { r.ServiceURL = "ftp://example.com/" }, "serviceUrl"},
		{"nul in tenant", func(r *ConversationRef) { r.TenantID = "a\x00b" }, "tenantId"},
		{"oversized aad id", func(r *ConversationRef) { r.AADObjectID = strings.Repeat("x", maxKeyLen+1) }, "aadObjectId"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ref := validRef()
			tc.mutate(&ref)
			err := s.PutConversation(ctx, ref)
			var ve *ValidationError
			if !errors.As(err, &ve) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("PutConversation error = %v, want a *ValidationError matching ErrInvalid", err)
			}
			if ve.Field != tc.field {
				t.Errorf("field = %q, want %q (error %q)", ve.Field, tc.field, err)
			}
			if !strings.Contains(err.Error(), tc.field) {
				t.Errorf("error %q does not name the field %q", err, tc.field)
			}
		})
	}
	// Nothing was written by the rejected calls.
	refs, err := s.Conversations(ctx, validRef().TenantID)
	if err != nil {
		t.Fatal(err)
	}
	if len(refs) != 0 {
		t.Errorf("rejected writes stored %d references", len(refs))
	}
}

func TestConversations(t *testing.T) {
	ctx := context.Background()
	clock := newClock()
	s, _ := openTest(t, Options{Now: clock.Now})

	if _, err := s.Conversation(ctx, "t1", "u1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Conversation on empty store = %v, want ErrNotFound", err)
	}
	a := validRef()
	b := validRef()
	b.AADObjectID, b.UserID, b.ConversationID = "aaaaaaaa-0000-0000-0000-000000000002", "29:aaron", "a:2"
	other := validRef()
	other.TenantID = "22222222-2222-2222-2222-222222222222"
	// A tenant id that is a prefix of another must not leak into its listing.
	prefixTenant := validRef()
	prefixTenant.TenantID = a.TenantID + "9"
	for _, r := range []ConversationRef{b, a, other, prefixTenant} {
		if err := s.PutConversation(ctx, r); err != nil {
			t.Fatalf("PutConversation %s/%s: %v", r.TenantID, r.AADObjectID, err)
		}
	}
	got, err := s.Conversation(ctx, a.TenantID, a.AADObjectID)
	if err != nil {
		t.Fatal(err)
	}
	want := a
	want.UpdatedAt = clock.Now()
	if got != want {
		t.Errorf("Conversation = %+v\nwant %+v", got, want)
	}

	// Replace: a new conversation id wins.
	a2 := a
	a2.ConversationID = "a:new"
	if err := s.PutConversation(ctx, a2); err != nil {
		t.Fatal(err)
	}
	list, err := s.Conversations(ctx, a.TenantID)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].AADObjectID != a.AADObjectID || list[0].ConversationID != "a:new" ||
		list[1].AADObjectID != b.AADObjectID {
		t.Errorf("Conversations(%s) = %+v, want a (a:new) then b", a.TenantID, list)
	}
	if _, err := s.Conversation(ctx, other.TenantID, b.AADObjectID); !errors.Is(err, ErrNotFound) {
		t.Errorf("cross-tenant lookup = %v, want ErrNotFound", err)
	}
	if _, err := s.Conversations(ctx, ""); !errors.Is(err, ErrInvalid) {
		t.Errorf("Conversations(\"\") = %v, want ErrInvalid", err)
	}
}

func TestProcessedAndPrune(t *testing.T) {
	ctx := context.Background()
	clock := newClock()
	s, path := openTest(t, Options{Now: clock.Now})

	if _, ok, err := s.Processed(ctx, "act-1"); err != nil || ok {
		t.Fatalf("Processed(unknown) = ok %v err %v, want false nil", ok, err)
	}
	resp := []byte(`{"statusCode":200,"type":"application/vnd.microsoft.card.adaptive"}`)
	if err := s.MarkProcessed(ctx, "act-1", resp); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkProcessed(ctx, "act-2", nil); err != nil {
		t.Fatal(err)
	}
	got, ok, err := s.Processed(ctx, "act-1")
	if err != nil || !ok || string(got) != string(resp) {
		t.Fatalf("Processed(act-1) = %q %v %v, want stored response", got, ok, err)
	}
	got, ok, err = s.Processed(ctx, "act-2")
	if err != nil || !ok || got != nil {
		t.Fatalf("Processed(act-2) = %q %v %v, want nil response, ok", got, ok, err)
	}
	if err := s.MarkProcessed(ctx, "", nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("MarkProcessed(\"\") = %v, want ErrInvalid", err)
	}

	clock.Advance(47 * time.Hour)
	if err := s.MarkProcessed(ctx, "act-3", nil); err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * time.Hour) // act-1, act-2 are 49h old; act-3 is 2h old
	n, err := s.PruneProcessed(ctx, DefaultProcessedTTL)
	if err != nil || n != 2 {
		t.Fatalf("PruneProcessed = %d, %v; want 2 pruned", n, err)
	}
	for key, want := range map[string]bool{"act-1": false, "act-2": false, "act-3": true} {
		if _, ok, err := s.Processed(ctx, key); err != nil || ok != want {
			t.Errorf("after prune Processed(%s) = %v, %v; want %v", key, ok, err, want)
		}
	}
	if _, err := s.PruneProcessed(ctx, 0); !errors.Is(err, ErrInvalid) {
		t.Errorf("PruneProcessed(0) = %v, want ErrInvalid", err)
	}

	// Open does not prune: maintenance does, once, at its start (TestPingAndMaintenance), so the ids are not
	// walked twice when a process starts.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	clock.Advance(47 * time.Hour)
	s2, err := Open(path, Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if _, ok, _ := s2.Processed(ctx, "act-3"); !ok {
		t.Error("Open pruned act-3 (49h old): pruning is maintenance's")
	}
}

func TestCards(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t, Options{})
	base := CardRef{Key: "req-1", Kind: "approval", TenantID: "t", AADObjectID: "u1", ConversationID: "c1",
		ServiceURL: "https://smba.example/", ActivityID: "act-1"}

	bad := []struct {
		name   string
		mutate func(*CardRef)
		field  string
	}{
		{"no key", func(c *CardRef) { c.Key = "" }, "key"},
		{"no kind", func(c *CardRef) { c.Kind = "" }, "kind"},
		{"no conversation", func(c *CardRef) { c.ConversationID = "" }, "conversationId"},
		{"no activity", func(c *CardRef) { c.ActivityID = "" }, "activityId"},
		{"bad service url", func(c *CardRef) { c.ServiceURL = "smba" }, "serviceUrl"},
		{"nul in aad", func(c *CardRef) { c.AADObjectID = "\x00" }, "aadObjectId"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			c := base
			tc.mutate(&c)
			var ve *ValidationError
			if err := s.PutCard(ctx, c); !errors.As(err, &ve) || ve.Field != tc.field {
				t.Fatalf("PutCard = %v, want validation error on %s", err, tc.field)
			}
		})
	}

	upd := base
	upd.ActivityID = "act-1b" // same key+kind+recipient: upsert
	status := base
	status.Kind, status.ActivityID = "status", "act-2"
	u2 := base
	u2.AADObjectID, u2.ActivityID = "u2", "act-3"
	otherReq := base
	otherReq.Key = "req-10" // shares the "req-1" prefix but not the separator
	for _, c := range []CardRef{base, upd, status, u2, otherReq} {
		if err := s.PutCard(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Cards(ctx, "req-1")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range got {
		ids = append(ids, c.Kind+"/"+c.AADObjectID+"="+c.ActivityID)
	}
	if want := "approval/u1=act-1b,approval/u2=act-3,status/u1=act-2"; strings.Join(ids, ",") != want {
		t.Errorf("Cards(req-1) = %s, want %s", strings.Join(ids, ","), want)
	}
	if got, err := s.Cards(ctx, "req-unknown"); err != nil || len(got) != 0 {
		t.Errorf("Cards(unknown) = %v, %v; want empty", got, err)
	}
}

func TestDialogs(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t, Options{})
	type dialog struct {
		Step    string `json:"step"`
		Package string `json:"package"`
	}
	var out dialog
	if err := s.Dialog(ctx, "conv-1", &out); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Dialog(missing) = %v, want ErrNotFound", err)
	}
	in := dialog{Step: "justification", Package: "eeeeeeee-0000-0000-0000-000000000002"}
	if err := s.PutDialog(ctx, "conv-1", in); err != nil {
		t.Fatal(err)
	}
	if err := s.Dialog(ctx, "conv-1", &out); err != nil || out != in {
		t.Fatalf("Dialog = %+v, %v; want %+v", out, err, in)
	}
	if err := s.PutDialog(ctx, "conv-1", make(chan int)); err == nil {
		t.Error("PutDialog accepted a value JSON cannot encode")
	}
	if err := s.DeleteDialog(ctx, "conv-1"); err != nil {
		t.Fatal(err)
	}
	if err := s.Dialog(ctx, "conv-1", &out); !errors.Is(err, ErrNotFound) {
		t.Errorf("Dialog after delete = %v, want ErrNotFound", err)
	}
	if err := s.DeleteDialog(ctx, "conv-1"); err != nil {
		t.Errorf("DeleteDialog(missing) = %v, want nil", err)
	}
}

func TestRecords(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t, Options{})
	type rec struct{ N int }

	for _, name := range []string{"", "Requests", "1abc", "a/b", "kv/x", strings.Repeat("a", 64), "a b"} {
		var ve *ValidationError
		if err := s.Put(ctx, name, "k", rec{1}); !errors.As(err, &ve) || ve.Field != "bucket" {
			t.Errorf("Put(bucket %q) = %v, want validation error on bucket", name, err)
		}
	}
	// A user bucket named like a core bucket is separate from it.
	if err := s.Put(ctx, "audit", "k", rec{1}); err != nil {
		t.Fatalf("Put(audit bucket): %v", err)
	}
	if entries, err := s.Audit(ctx, AuditQuery{}); err != nil || len(entries) != 0 {
		t.Fatalf("user bucket \"audit\" leaked into the audit log: %v %v", entries, err)
	}

	var out rec
	if err := s.Get(ctx, "requests", "r1", &out); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get from missing bucket = %v, want ErrNotFound", err)
	}
	for i, k := range []string{"user1/r2", "user1/r1", "user2/r3", "user10/r4"} {
		if err := s.Put(ctx, "requests", k, rec{i}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Get(ctx, "requests", "user1/r1", &out); err != nil || out.N != 1 {
		t.Fatalf("Get = %+v, %v; want N=1", out, err)
	}
	var keys []string
	err := s.List(ctx, "requests", "user1/", func(key string, raw []byte) error {
		var r rec
		if err := json.Unmarshal(raw, &r); err != nil {
			return err
		}
		keys = append(keys, fmt.Sprintf("%s=%d", key, r.N))
		// fn runs outside the transaction, so writing from it must not deadlock.
		return s.Put(ctx, "seen", key, r)
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(keys, ","); got != "user1/r1=1,user1/r2=0" {
		t.Errorf("List(user1/) = %s", got)
	}
	stop := errors.New("stop")
	calls := 0
	err = s.List(ctx, "requests", "", func(string, []byte) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("List with failing fn = %v after %d calls, want stop after 1", err, calls)
	}
	if err := s.List(ctx, "nothing-here", "", func(string, []byte) error { return stop }); err != nil {
		t.Errorf("List(missing bucket) = %v, want nil", err)
	}
	if err := s.Delete(ctx, "requests", "user1/r1"); err != nil {
		t.Fatal(err)
	}
	if err := s.Get(ctx, "requests", "user1/r1", &out); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get after Delete = %v, want ErrNotFound", err)
	}
}

func TestMigrations(t *testing.T) {
	ctx := context.Background()
	// next is a migration one version past the shipped ones, as a future build would add.
	next := len(Migrations()) + 1
	v2 := Migration{Version: next, Name: "add reminders bucket", Apply: func(tx *bbolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists([]byte("reminders"))
		return err
	}}

	t.Run("fresh file gets latest version", func(t *testing.T) {
		s, _ := openTest(t, Options{})
		v, err := s.SchemaVersion()
		if err != nil || v != len(Migrations()) {
			t.Fatalf("SchemaVersion = %d, %v; want %d", v, err, len(Migrations()))
		}
	})

	t.Run("upgrade runs only pending migrations and keeps data", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "a.db")
		s, err := Open(path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.PutConversation(ctx, validRef()); err != nil {
			t.Fatal(err)
		}
		s.Close()
		v1Runs := 0
		migs := Migrations()
		orig := migs[0].Apply
		migs[0].Apply = func(tx *bbolt.Tx) error { v1Runs++; return orig(tx) }
		s, err = Open(path, Options{Migrations: append(migs, v2)})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if v, _ := s.SchemaVersion(); v != next {
			t.Errorf("SchemaVersion = %d, want %d", v, next)
		}
		if v1Runs != 0 {
			t.Errorf("migration 1 ran %d times on an up-to-date file", v1Runs)
		}
		if err := s.db.View(func(tx *bbolt.Tx) error {
			if tx.Bucket([]byte("reminders")) == nil {
				return errors.New("reminders bucket missing")
			}
			return nil
		}); err != nil {
			t.Error(err)
		}
		if _, err := s.Conversation(ctx, validRef().TenantID, validRef().AADObjectID); err != nil {
			t.Errorf("data lost in migration: %v", err)
		}
	})

	t.Run("newer file is refused", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "b.db")
		s, err := Open(path, Options{Migrations: append(Migrations(), v2)})
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		_, err = Open(path, Options{})
		if !errors.Is(err, ErrSchemaTooNew) || !strings.Contains(err.Error(), fmt.Sprintf("schema version %d", next)) {
			t.Fatalf("Open(newer file) = %v, want ErrSchemaTooNew naming version %d", err, next)
		}
		// The refusal changed nothing: the newer build still opens it at the newer version.
		s, err = Open(path, Options{Migrations: append(Migrations(), v2)})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if v, _ := s.SchemaVersion(); v != next {
			t.Errorf("SchemaVersion after refusal = %d, want %d", v, next)
		}
	})

	t.Run("failing migration rolls back everything", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "c.db")
		boom := Migration{Version: next, Name: "boom", Apply: func(tx *bbolt.Tx) error {
			if _, err := tx.CreateBucketIfNotExists([]byte("half-done")); err != nil {
				return err
			}
			return errors.New("disk says no")
		}}
		if _, err := Open(path, Options{Migrations: append(Migrations(), boom)}); err == nil ||
			!strings.Contains(err.Error(), fmt.Sprintf("migration %d (boom)", next)) {
			t.Fatalf("Open with failing migration = %v, want error naming migration %d", err, next)
		}
		db, err := bbolt.Open(path, 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if err := db.View(func(tx *bbolt.Tx) error {
			if v, _ := readVersion(tx); v != 0 {
				return fmt.Errorf("schema_version = %d after rollback, want 0", v)
			}
			if tx.Bucket([]byte("half-done")) != nil || tx.Bucket(bucketAudit) != nil {
				return errors.New("buckets of the failed transaction were kept")
			}
			return nil
		}); err != nil {
			t.Error(err)
		}
	})

	bad := []struct {
		name string
		migs []Migration
		want string
	}{
		{"empty list", []Migration{}, "at least one"},
		{"gap", append(Migrations(), Migration{Version: next + 1, Name: "x", Apply: v2.Apply}), fmt.Sprintf("expected %d", next)},
		{"nil apply", []Migration{{Version: 1, Name: "x"}}, "no Apply"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Open(filepath.Join(t.TempDir(), "d.db"), Options{Migrations: tc.migs})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Open = %v, want error containing %q", err, tc.want)
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	if _, err := Open("", Options{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("Open(\"\") = %v, want ErrInvalid", err)
	}
	_, path := openTest(t, Options{})
	_, err := Open(path, Options{Timeout: 20 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "locked by another process") {
		t.Errorf("second Open of a locked file = %v, want lock error", err)
	}
}

func TestClosedStore(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "x.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.PutConversation(context.Background(), validRef()); err == nil {
		t.Error("PutConversation on a closed store succeeded")
	}
}

func TestCancelledContextWritesNothing(t *testing.T) {
	s, _ := openTest(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.PutConversation(ctx, validRef()); !errors.Is(err, context.Canceled) {
		t.Fatalf("PutConversation(cancelled) = %v, want context.Canceled", err)
	}
	if _, err := s.Conversation(context.Background(), validRef().TenantID, validRef().AADObjectID); !errors.Is(err, ErrNotFound) {
		t.Errorf("cancelled write was stored: %v", err)
	}
}

func TestAudit(t *testing.T) {
	ctx := context.Background()
	clock := newClock()
	s, _ := openTest(t, Options{Now: clock.Now})

	for _, tc := range []struct {
		name  string
		e     AuditEntry
		field string
	}{
		{"no action", AuditEntry{Mode: ModeSystem}, "action"},
		{"no mode", AuditEntry{Action: "request.create"}, "mode"},
		{"bad mode", AuditEntry{Action: "request.create", Mode: "root"}, "mode"},
	} {
		var ve *ValidationError
		if _, err := s.AppendAudit(ctx, tc.e); !errors.As(err, &ve) || ve.Field != tc.field {
			t.Errorf("%s: AppendAudit = %v, want validation error on %s", tc.name, err, tc.field)
		}
	}

	entries := []AuditEntry{
		{ActorID: "rita", Action: "request.create", Mode: ModeDelegated, PackageID: "p1", SubjectID: "rita"},
		{ActorID: "aaron", Action: "approval.approve", Mode: ModeDelegated, PackageID: "p1", SubjectID: "rita",
			Details: map[string]string{"stage": "1"}},
		{ActorID: "patti", Action: "approval.approve", Mode: ModeBrokered, PackageID: "p3", SubjectID: "gus"},
		{ActorID: "adele", Action: "assignment.remove", Mode: ModeAdmin, PackageID: "p1", SubjectID: "megan"},
		{Action: "outbox.deadletter", Mode: ModeSystem, Time: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	for i, e := range entries {
		e.Seq = 999 // ignored
		seq, err := s.AppendAudit(ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		if seq != uint64(i+1) {
			t.Fatalf("entry %d got seq %d, want %d", i, seq, i+1)
		}
		clock.Advance(time.Minute)
	}
	start := newClock().Now()

	tests := []struct {
		name string
		q    AuditQuery
		want []uint64
	}{
		{"all newest first", AuditQuery{}, []uint64{5, 4, 3, 2, 1}},
		{"by subject", AuditQuery{SubjectID: "rita"}, []uint64{2, 1}},
		{"by package", AuditQuery{PackageID: "p1"}, []uint64{4, 2, 1}},
		{"by actor", AuditQuery{ActorID: "patti"}, []uint64{3}},
		{"package and actor", AuditQuery{PackageID: "p1", ActorID: "aaron"}, []uint64{2}},
		{"since", AuditQuery{Since: start.Add(2 * time.Minute)}, []uint64{4, 3}},
		{"limit", AuditQuery{Limit: 2}, []uint64{5, 4}},
		{"no match", AuditQuery{SubjectID: "nobody"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.Audit(ctx, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			var seqs []uint64
			for _, e := range got {
				seqs = append(seqs, e.Seq)
			}
			if fmt.Sprint(seqs) != fmt.Sprint(tc.want) {
				t.Errorf("Audit(%+v) seqs = %v, want %v", tc.q, seqs, tc.want)
			}
		})
	}
	got, _ := s.Audit(ctx, AuditQuery{ActorID: "aaron"})
	if len(got) != 1 || got[0].Details["stage"] != "1" || !got[0].Time.Equal(start.Add(time.Minute)) ||
		got[0].Action != "approval.approve" {
		t.Errorf("stored entry = %+v", got)
	}
	got, _ = s.Audit(ctx, AuditQuery{Limit: 1})
	if len(got) != 1 || !got[0].Time.Equal(entries[4].Time) {
		t.Errorf("explicit Time not kept: %+v", got)
	}
	for _, l := range []int{-1, MaxAuditLimit + 1} {
		if _, err := s.Audit(ctx, AuditQuery{Limit: l}); !errors.Is(err, ErrInvalid) {
			t.Errorf("Audit(limit %d) = %v, want ErrInvalid", l, err)
		}
	}
	// Default limit is 50.
	for i := 0; i < 60; i++ {
		if _, err := s.AppendAudit(ctx, AuditEntry{Action: "x", Mode: ModeSystem}); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := s.Audit(ctx, AuditQuery{}); len(got) != 50 || got[0].Seq != 65 {
		t.Errorf("default query returned %d entries, first seq %d; want 50 starting at 65", len(got), got[0].Seq)
	}
}

func BenchmarkAppendAudit(b *testing.B) {
	s, _ := openTest(b, Options{})
	ctx := context.Background()
	e := AuditEntry{ActorID: "aaaaaaaa-0000-0000-0000-000000000002", Action: "approval.approve", Mode: ModeDelegated,
		RequestID: "req", PackageID: "eeeeeeee-0000-0000-0000-000000000001", SubjectID: "aaaaaaaa-0000-0000-0000-000000000001"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.AppendAudit(ctx, e); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPutConversation(b *testing.B) {
	s, _ := openTest(b, Options{})
	ctx := context.Background()
	ref := validRef()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		ref.AADObjectID = fmt.Sprintf("user-%d", i%1000)
		i++
		if err := s.PutConversation(ctx, ref); err != nil {
			b.Fatal(err)
		}
	}
}

func TestConcurrentWriters(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t, Options{})
	const workers, each = 4, 15
	var wg sync.WaitGroup
	seqs := make(chan uint64, workers*each)
	errs := make(chan error, workers*each*2)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				seq, err := s.AppendAudit(ctx, AuditEntry{Action: "x", Mode: ModeSystem, ActorID: fmt.Sprint(w)})
				if err != nil {
					errs <- err
					continue
				}
				seqs <- seq
				ref := validRef()
				ref.AADObjectID = fmt.Sprintf("w%d-%d", w, i)
				if err := s.PutConversation(ctx, ref); err != nil {
					errs <- err
				}
				if _, err := s.Conversations(ctx, ref.TenantID); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(seqs)
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	seen := map[uint64]bool{}
	for seq := range seqs {
		if seen[seq] {
			t.Fatalf("audit seq %d handed out twice", seq)
		}
		seen[seq] = true
	}
	if len(seen) != workers*each {
		t.Errorf("%d distinct seqs, want %d", len(seen), workers*each)
	}
	refs, err := s.Conversations(ctx, validRef().TenantID)
	if err != nil || len(refs) != workers*each {
		t.Errorf("Conversations = %d refs, %v; want %d", len(refs), err, workers*each)
	}
}

func TestPingAndMaintenance(t *testing.T) {
	clock := newClock()
	s, err := Open(filepath.Join(t.TempDir(), "m.db"), Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(context.Background()); err != nil {
		t.Fatalf("Ping on open store = %v", err)
	}
	if err := s.MarkProcessed(context.Background(), "old", nil); err != nil {
		t.Fatal(err)
	}
	clock.Advance(DefaultProcessedTTL + time.Minute)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.RunMaintenance(ctx, Maintenance{Every: time.Hour}) }()
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for {
		_, ok, err := s.Processed(context.Background(), "old")
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("RunMaintenance did not prune the expired id")
		}
		<-tick.C
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("RunMaintenance = %v after cancel, want nil", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(context.Background()); err == nil {
		t.Error("Ping on a closed store succeeded")
	}
}

// TestObserveSeesEveryTransaction: the Observe hook (metrics and trace spans) is called for read and write
// transactions with the operation's name, and its end func gets the transaction's error.
func TestObserveSeesEveryTransaction(t *testing.T) {
	type call struct {
		op    string
		write bool
		err   bool
	}
	var mu sync.Mutex
	var calls []call
	st, _ := openTest(t, Options{Observe: func(_ context.Context, op string, write bool) func(error) {
		return func(err error) {
			mu.Lock()
			defer mu.Unlock()
			calls = append(calls, call{op, write, err != nil})
		}
	}})
	ctx := context.Background()
	if err := st.Put(ctx, "flags", "k", map[string]int{"v": 1}); err != nil {
		t.Fatal(err)
	}
	var out map[string]int
	if err := st.Get(ctx, "flags", "k", &out); err != nil {
		t.Fatal(err)
	}
	_ = st.Get(ctx, "flags", "missing", &out)
	if err := st.Put(ctx, "flags", "", 1); err == nil {
		t.Fatal("an empty key was accepted")
	}
	mu.Lock()
	defer mu.Unlock()
	want := []call{{"put record flags", true, false}, {"get record flags", false, false}, {"get record flags", false, false}}
	if !slices.Equal(calls, want) {
		t.Fatalf("calls = %+v, want %+v (not found is an answer, not a failure; refused input starts no transaction)", calls, want)
	}
}
