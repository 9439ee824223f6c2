package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/accessbot/accessbot/internal/testkit"
)

func ids(items []OutboxItem) string {
	s := ""
	for _, it := range items {
		s += fmt.Sprintf("%s#%d ", it.Kind, it.Attempts)
	}
	return s
}

func TestOutboxLeaseExpiryAndDeadLetter(t *testing.T) {
	ctx := context.Background()
	clock := testkit.NewClock()
	s, path := openTest(t, Options{Now: clock.Now, MaxAttempts: 3})

	type payload struct{ To string }
	a, err := s.Enqueue(ctx, "a", payload{"rita"}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Enqueue(ctx, "b", payload{"aaron"}, clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Enqueue(ctx, "later", payload{"patti"}, clock.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if a >= b {
		t.Errorf("ids not in enqueue order: %s, %s", a, b)
	}

	got, err := s.Lease(ctx, 10, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if ids(got) != "a#1 b#1 " || string(got[0].Payload) != `{"To":"rita"}` {
		t.Fatalf("first lease = %s %s, want a#1 b#1 with payload", ids(got), got[0].Payload)
	}
	if got, _ := s.Lease(ctx, 10, time.Minute); len(got) != 0 {
		t.Fatalf("leased items were handed out again: %s", ids(got))
	}

	// A crash (no Complete/Fail) re-delivers after the lease, and the outbox survives a restart.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(path, Options{Now: clock.Now, MaxAttempts: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	clock.Advance(61 * time.Second)
	got, _ = s.Lease(ctx, 1, time.Minute)
	if ids(got) != "a#2 " {
		t.Fatalf("lease after expiry (max 1) = %s, want a#2", ids(got))
	}
	if err := s.Complete(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := s.Complete(ctx, a); !errors.Is(err, ErrNotFound) {
		t.Errorf("Complete twice = %v, want ErrNotFound", err)
	}

	got, _ = s.Lease(ctx, 10, time.Minute)
	if ids(got) != "b#2 " {
		t.Fatalf("lease = %s, want b#2", ids(got))
	}
	retry := clock.Now().Add(10 * time.Minute)
	if err := s.Fail(ctx, b, errors.New("429 too many requests"), retry); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Lease(ctx, 10, time.Minute); len(got) != 0 {
		t.Fatalf("failed item due before retryAt: %s", ids(got))
	}
	clock.Advance(time.Hour) // "later" and b are both due now
	got, _ = s.Lease(ctx, 10, time.Minute)
	if ids(got) != "b#3 later#1 " || got[0].LastError != "429 too many requests" {
		t.Fatalf("lease = %s (last error %q), want b#3 later#1", ids(got), got[0].LastError)
	}
	// Third attempt of b fails: MaxAttempts reached, dead-lettered.
	if err := s.Fail(ctx, b, errors.New("503"), clock.Now()); err != nil {
		t.Fatal(err)
	}
	// "later" fails permanently on its first attempt.
	if err := s.Fail(ctx, got[1].ID, fmt.Errorf("user left the tenant: %w", ErrPermanent), clock.Now()); err != nil {
		t.Fatal(err)
	}
	dead, err := s.DeadLetters(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ids(dead) != "b#3 later#1 " || dead[0].LastError != "503" {
		t.Fatalf("dead letters = %s (%+v), want b#3 later#1", ids(dead), dead)
	}
	if pending, _ := s.Pending(ctx); len(pending) != 0 {
		t.Errorf("pending after dead-lettering = %s", ids(pending))
	}
	if err := s.Fail(ctx, b, errors.New("x"), clock.Now()); !errors.Is(err, ErrNotFound) {
		t.Errorf("Fail on dead-lettered item = %v, want ErrNotFound", err)
	}
}

func TestOutboxLeaseExpiredOnLastAttempt(t *testing.T) {
	ctx := context.Background()
	clock := testkit.NewClock()
	s, _ := openTest(t, Options{Now: clock.Now, MaxAttempts: 2})
	id, err := s.Enqueue(ctx, "poison", map[string]int{"n": 1}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	for attempt := 1; attempt <= 2; attempt++ {
		got, _ := s.Lease(ctx, 1, time.Minute)
		if len(got) != 1 || got[0].Attempts != attempt {
			t.Fatalf("attempt %d: lease = %s", attempt, ids(got))
		}
		clock.Advance(2 * time.Minute) // the handler "crashes": lease expires
	}
	if got, _ := s.Lease(ctx, 1, time.Minute); len(got) != 0 {
		t.Fatalf("item leased beyond MaxAttempts: %s", ids(got))
	}
	dead, _ := s.DeadLetters(ctx)
	if len(dead) != 1 || dead[0].ID != id || dead[0].Attempts != 2 {
		t.Fatalf("dead letters = %+v, want the poison item after 2 attempts", dead)
	}
}

func TestOutboxValidation(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t, Options{})
	tests := []struct {
		name  string
		call  func() error
		field string
	}{
		{"enqueue without kind", func() error { _, err := s.Enqueue(ctx, "", 1, time.Time{}); return err }, "kind"},
		{"lease max 0", func() error { _, err := s.Lease(ctx, 0, time.Minute); return err }, "max"},
		{"lease without duration", func() error { _, err := s.Lease(ctx, 1, 0); return err }, "leaseFor"},
		{"complete without id", func() error { return s.Complete(ctx, "") }, "id"},
		{"fail without cause", func() error { return s.Fail(ctx, "0000000000000001", nil, time.Time{}) }, "cause"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var ve *ValidationError
			if err := tc.call(); !errors.As(err, &ve) || ve.Field != tc.field {
				t.Fatalf("error = %v, want validation error on %s", err, tc.field)
			}
		})
	}
	if _, err := s.Enqueue(ctx, "x", make(chan int), time.Time{}); err == nil {
		t.Error("Enqueue accepted a payload JSON cannot encode")
	}
	if p, _ := s.Pending(ctx); len(p) != 0 {
		t.Errorf("rejected calls enqueued %d items", len(p))
	}
}

// TestOutboxUnreadableItemDoesNotBlockTheQueue: one record that no longer decodes (a bug, a hand edit, a
// half-migrated file) is moved to the dead letters; the items behind it are still delivered.
func TestOutboxUnreadableItemDoesNotBlockTheQueue(t *testing.T) {
	ctx := context.Background()
	clock := testkit.NewClock()
	s, _ := openTest(t, Options{Now: clock.Now})
	bad, err := s.Enqueue(ctx, "send", "first", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	good, err := s.Enqueue(ctx, "send", "second", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketOutbox).Put([]byte(bad), []byte(`{"item":{"id":`))
	}); err != nil {
		t.Fatal(err)
	}

	items, err := s.Lease(ctx, 10, time.Minute)
	if err != nil {
		t.Fatalf("Lease with one unreadable item: %v", err)
	}
	if len(items) != 1 || items[0].ID != good {
		t.Fatalf("leased %s, want only %s", ids(items), good)
	}
	dead, err := s.DeadLetters(ctx)
	if err != nil {
		t.Fatalf("DeadLetters: %v", err)
	}
	if len(dead) != 1 || dead[0].ID != bad || !strings.Contains(dead[0].LastError, "unreadable") {
		t.Fatalf("dead letters = %+v, want %s marked unreadable", dead, bad)
	}
	pending, err := s.Pending(ctx)
	if err != nil {
		t.Fatalf("Pending after the unreadable item was moved: %v", err)
	}
	if len(pending) != 1 || pending[0].ID != good {
		t.Fatalf("pending = %s, want only %s", ids(pending), good)
	}
}
