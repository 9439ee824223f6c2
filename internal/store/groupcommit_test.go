package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/accessbot/accessbot/internal/testkit"
)

// TestGroupCommitIsolatesAFailingWriter: many concurrent writers share commits; the one whose function
// fails (or panics) gets its own error and writes nothing, every other write is durable (visible after
// reopening).
func TestGroupCommitIsolatesAFailingWriter(t *testing.T) {
	s, path := openTest(t, Options{})
	ctx := context.Background()
	boom := errors.New("boom")
	const writers = 40
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.batch(ctx, "test write", func(tx *bbolt.Tx) error {
				if i == 7 {
					return boom
				}
				if i == 9 {
					panic("bad page")
				}
				b, err := tx.CreateBucketIfNotExists([]byte("grouptest"))
				if err != nil {
					return err
				}
				return b.Put(fmt.Appendf(nil, "k%02d", i), []byte("v"))
			})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		switch i {
		case 7:
			if !errors.Is(err, boom) {
				t.Errorf("writer 7: err %v, want boom", err)
			}
		case 9:
			if err == nil || !strings.Contains(err.Error(), "panic in write transaction: bad page") {
				t.Errorf("writer 9: err %v, want the panic as an error", err)
			}
		default:
			if err != nil {
				t.Errorf("writer %d: err %v", i, err)
			}
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	n := 0
	_ = s2.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket([]byte("grouptest")).ForEach(func(k, _ []byte) error {
			if string(k) == "k07" || string(k) == "k09" {
				t.Errorf("the failed writer's change %s was committed", k)
			}
			n++
			return nil
		})
	})
	if n != writers-2 {
		t.Errorf("%d keys after reopening, want %d", n, writers-2)
	}
}

// TestPutConversationSkipsUnchanged: remembering the same reference again (only UpdatedAt differs) starts
// no write transaction; a changed field does.
func TestPutConversationSkipsUnchanged(t *testing.T) {
	observe, writes := countWrites("put conversation")
	s, _ := openTest(t, Options{Observe: observe})
	ctx := context.Background()
	ref := validRef()
	for i, tc := range []struct {
		edit       func(*ConversationRef)
		wantWrites int64
	}{
		{func(*ConversationRef) {}, 1},
		{func(r *ConversationRef) { r.UpdatedAt = r.UpdatedAt.Add(1e9) }, 1},
		{func(r *ConversationRef) { r.Locale = "de-DE" }, 2},
		{func(r *ConversationRef) {}, 2},
		{func(r *ConversationRef) { r.ServiceURL = "https://smba.trafficmanager.net/amer/" }, 3},
	} {
		tc.edit(&ref)
		if err := s.PutConversation(ctx, ref); err != nil {
			t.Fatal(err)
		}
		if got := writes.Load(); got != tc.wantWrites {
			t.Fatalf("step %d: %d writes, want %d", i, got, tc.wantWrites)
		}
		if stored, err := s.Conversation(ctx, ref.TenantID, ref.AADObjectID); err != nil || stored.Locale != ref.Locale || stored.ServiceURL != ref.ServiceURL {
			t.Fatalf("step %d: stored %+v, %v", i, stored, err)
		}
	}
}

// TestEveryWriteJoinsTheGroupCommit: while one commit is in progress, the store's other writes (a dialog, an
// audit entry, an outbox item, a record, a request) queue for the next shared commit instead of each waiting for
// bbolt's write lock to commit (and fsync) alone.
func TestEveryWriteJoinsTheGroupCommit(t *testing.T) {
	s, _ := openTest(t, Options{})
	ctx := context.Background()
	release := holdCommit(t, s)
	writes := []func() error{
		func() error { return s.PutDialog(ctx, "dialog-1", map[string]string{"step": "1"}) },
		func() error {
			_, err := s.AppendAudit(ctx, AuditEntry{Action: "test", Mode: "system", ActorName: "rita", Outcome: "ok"})
			return err
		},
		func() error {
			_, err := s.Enqueue(ctx, "notice", map[string]string{"to": "rita"}, time.Time{})
			return err
		},
		func() error { return s.Put(ctx, "things", "k", map[string]int{"n": 1}) },
		func() error {
			_, err := s.CreateRequest(ctx, Request{ID: "req-group", Kind: KindTracked, State: "new"})
			return err
		},
	}
	errs := make(chan error, len(writes))
	for _, w := range writes {
		go func() { errs <- w() }()
	}
	waitQueued(t, s, len(writes))
	release()
	for range writes {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// TestGroupCommitFreesTheFirstWriter: the writer that commits first returns once its own transaction is
// committed, even while the writers that queued meanwhile are still being committed; it does not keep
// committing for them (a turn would otherwise wait for as long as others keep writing).
func TestGroupCommitFreesTheFirstWriter(t *testing.T) {
	s, _ := openTest(t, Options{})
	ctx := context.Background()
	firstIn, releaseFirst := make(chan struct{}), make(chan struct{})
	secondIn, releaseSecond := make(chan struct{}), make(chan struct{})
	defer close(releaseSecond)
	firstDone := make(chan error, 1)
	go func() {
		firstDone <- s.batch(ctx, "first", func(*bbolt.Tx) error {
			close(firstIn)
			<-releaseFirst
			return nil
		})
	}()
	<-firstIn
	secondDone := make(chan error, 1)
	var once sync.Once
	go func() {
		secondDone <- s.batch(ctx, "second", func(*bbolt.Tx) error {
			once.Do(func() { close(secondIn) })
			<-releaseSecond
			return nil
		})
	}()
	waitQueued(t, s, 1)
	close(releaseFirst)
	<-secondIn // the second group's commit has started (and is held)
	select {
	case err := <-firstDone:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the first writer is still committing the second writer's group")
	}
	select {
	case err := <-secondDone:
		t.Fatalf("the second write returned before its commit: %v", err)
	default:
	}
}

// countWrites returns an Options.Observe that counts the write transactions named op (every write transaction,
// each a group commit with its fdatasyncs, when op is ""), and the count.
func countWrites(op string) (func(ctx context.Context, op string, write bool) func(error), *atomic.Int64) {
	n := new(atomic.Int64)
	return func(_ context.Context, name string, write bool) func(error) {
		if write && (op == "" || name == op) {
			n.Add(1)
		}
		return func(error) {}
	}, n
}

// holdCommit starts a write that holds the store's commit until the returned release is called (at the
// latest when t ends, before the store closes), so writers started meanwhile queue for the next group.
func holdCommit(t *testing.T, s *Store) (release func()) {
	t.Helper()
	leading, held := make(chan struct{}), make(chan struct{})
	release = sync.OnceFunc(func() { close(held) })
	t.Cleanup(release)
	go func() {
		_ = s.batch(context.Background(), "hold the commit", func(*bbolt.Tx) error {
			close(leading)
			<-held
			return nil
		})
	}()
	<-leading
	return release
}

// waitQueued waits until n writers are queued for the next group commit.
func waitQueued(t *testing.T, s *Store, n int) {
	t.Helper()
	testkit.Eventually(t, fmt.Sprintf("%d writers queued", n), func() bool {
		s.group.mu.Lock()
		defer s.group.mu.Unlock()
		return len(s.group.pending) >= n
	})
}

// TestRerunWriteLogsOnce: a write whose group is retried (another member failed, so its function runs twice)
// logs what it did once, after the commit: an outbox item dead-lettered by Fail, with the cause under "err".
func TestRerunWriteLogsOnce(t *testing.T) {
	var logs testkit.LogBuffer
	s, _ := openTest(t, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	ctx := context.Background()
	id, err := s.Enqueue(ctx, "notice", map[string]string{"to": "rita"}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Lease(ctx, 1, time.Minute); err != nil {
		t.Fatal(err)
	}
	release := holdCommit(t, s)
	failed := make(chan error, 1)
	go func() { failed <- s.Fail(ctx, id, fmt.Errorf("user left the tenant: %w", ErrPermanent), time.Time{}) }()
	waitQueued(t, s, 1)
	boom := make(chan error, 1)
	go func() { boom <- s.batch(ctx, "fail the group", func(*bbolt.Tx) error { return errors.New("boom") }) }()
	waitQueued(t, s, 2) // the group: Fail, then a member that fails it, so Fail's function runs again
	release()
	if err := <-failed; err != nil {
		t.Fatal(err)
	}
	if err := <-boom; err == nil {
		t.Fatal("the failing member succeeded: the group was not retried")
	}
	if n := strings.Count(logs.String(), "outbox item dead-lettered"); n != 1 {
		t.Fatalf("dead-lettered logged %d times, want once:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), `err="user left the tenant`) {
		t.Fatalf("the cause is not logged under err:\n%s", logs.String())
	}
}
