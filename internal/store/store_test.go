package store

import (
	"context"
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
