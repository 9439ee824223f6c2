package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// eventually polls cond until it holds or a 10s deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

func ids(items []OutboxItem) string {
	s := ""
	for _, it := range items {
		s += fmt.Sprintf("%s#%d ", it.Kind, it.Attempts)
	}
	return s
}

func TestOutboxLeaseExpiryAndDeadLetter(t *testing.T) {
	ctx := context.Background()
	clock := newClock()
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
	clock := newClock()
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

func TestWorkerBackoff(t *testing.T) {
	w := NewOutboxWorker(nil, nil, WorkerOptions{BaseBackoff: time.Second, MaxBackoff: 10 * time.Second})
	tests := []struct {
		attempt  int
		min, max time.Duration
	}{
		{1, 500 * time.Millisecond, time.Second},
		{2, time.Second, 2 * time.Second},
		{3, 2 * time.Second, 4 * time.Second},
		{4, 4 * time.Second, 8 * time.Second},
		{5, 5 * time.Second, 10 * time.Second},
		{60, 5 * time.Second, 10 * time.Second},
	}
	for _, tc := range tests {
		seen := map[time.Duration]bool{}
		for range 200 {
			d := w.backoff(tc.attempt)
			if d < tc.min || d > tc.max {
				t.Fatalf("backoff(%d) = %s, want within [%s, %s]", tc.attempt, d, tc.min, tc.max)
			}
			seen[d] = true
		}
		if len(seen) < 2 {
			t.Errorf("backoff(%d) has no jitter: always %v", tc.attempt, seen)
		}
	}
}

func TestWorkerDeliverSchedulesRetry(t *testing.T) {
	ctx := context.Background()
	clock := newClock()
	s, _ := openTest(t, Options{Now: clock.Now})
	w := NewOutboxWorker(s, func(context.Context, OutboxItem) error { return errors.New("connector 502") },
		WorkerOptions{BaseBackoff: time.Minute, MaxBackoff: time.Hour})
	if _, err := s.Enqueue(ctx, "send", "x", time.Time{}); err != nil {
		t.Fatal(err)
	}
	items, err := s.Lease(ctx, 1, time.Minute)
	if err != nil || len(items) != 1 {
		t.Fatalf("Lease = %v, %v", items, err)
	}
	w.deliver(ctx, items[0])
	pending, _ := s.Pending(ctx)
	if len(pending) != 1 {
		t.Fatalf("pending = %d items, want 1", len(pending))
	}
	it := pending[0]
	earliest, latest := clock.Now().Add(30*time.Second), clock.Now().Add(time.Minute)
	if it.NotBefore.Before(earliest) || it.NotBefore.After(latest) || it.LastError != "connector 502" {
		t.Errorf("after failure NotBefore=%s LastError=%q, want within [%s, %s] and the cause", it.NotBefore, it.LastError, earliest, latest)
	}
}

func TestOutboxWorkerRun(t *testing.T) {
	clock := newClock()
	s, _ := openTest(t, Options{Now: clock.Now, MaxAttempts: 3})

	var mu sync.Mutex
	calls := map[string]int{}
	handle := func(ctx context.Context, it OutboxItem) error {
		mu.Lock()
		calls[it.Kind]++
		n := calls[it.Kind]
		mu.Unlock()
		switch it.Kind {
		case "flaky":
			if n < 3 {
				return fmt.Errorf("attempt %d: 503", n)
			}
			return nil
		case "broken":
			return errors.New("always 500")
		case "gone":
			return fmt.Errorf("404: %w", ErrPermanent)
		case "panics":
			panic("bad payload")
		}
		return nil
	}
	count := func(kind string) int {
		mu.Lock()
		defer mu.Unlock()
		return calls[kind]
	}
	w := NewOutboxWorker(s, handle, WorkerOptions{PollInterval: time.Hour, BaseBackoff: time.Second, MaxBackoff: time.Minute})

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()

	for _, k := range []string{"ok", "flaky", "broken", "gone", "panics"} {
		if _, err := s.Enqueue(context.Background(), k, k, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	w.Kick()
	eventually(t, "all items completed or dead-lettered", func() bool {
		clock.Advance(time.Hour) // every retry is due
		w.Kick()
		p, err := s.Pending(context.Background())
		return err == nil && len(p) == 0
	})
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run returned %v after cancel, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}

	want := map[string]int{"ok": 1, "flaky": 3, "broken": 3, "gone": 1, "panics": 3}
	for k, n := range want {
		if got := count(k); got != n {
			t.Errorf("handler calls for %s = %d, want %d", k, got, n)
		}
	}
	dead, _ := s.DeadLetters(context.Background())
	if ids(dead) != "broken#3 gone#1 panics#3 " {
		t.Errorf("dead letters = %s, want broken#3 gone#1 panics#3", ids(dead))
	}
}

func TestOutboxWorkerStopsOnCancelAndLeavesItemLeased(t *testing.T) {
	clock := newClock()
	s, _ := openTest(t, Options{Now: clock.Now})
	started := make(chan struct{})
	w := NewOutboxWorker(s, func(ctx context.Context, it OutboxItem) error {
		close(started)
		<-ctx.Done()
		return ctx.Err()
	}, WorkerOptions{PollInterval: time.Hour, LeaseFor: time.Minute, HandleTimeout: time.Minute})
	id, err := s.Enqueue(context.Background(), "send", 1, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	w.Kick()
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("handler never called")
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run = %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	p, _ := s.Pending(context.Background())
	if len(p) != 1 || p[0].ID != id || p[0].LastError != "" || p[0].Attempts != 1 {
		t.Fatalf("interrupted item = %+v, want still pending, not failed", p)
	}
	// Redelivered once the lease runs out.
	clock.Advance(2 * time.Minute)
	got, _ := s.Lease(context.Background(), 1, time.Minute)
	if len(got) != 1 || got[0].ID != id {
		t.Errorf("interrupted item not redelivered after its lease: %s", ids(got))
	}
}

func TestOutboxWorkerRequiresHandler(t *testing.T) {
	s, _ := openTest(t, Options{})
	err := NewOutboxWorker(s, nil, WorkerOptions{}).Run(context.Background())
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("Run without handler = %v, want ErrInvalid", err)
	}
}

// throttledErr is a handler error that says when the peer accepts requests again (as
// botframework.APIError and entitlement.ThrottledError do).
type throttledErr struct{ after time.Duration }

func (e throttledErr) Error() string             { return fmt.Sprintf("429, retry after %s", e.after) }
func (e throttledErr) RetryDelay() time.Duration { return e.after }

func TestWorkerHonoursRetryDelayOfTheError(t *testing.T) {
	cases := []struct {
		name          string
		err           error
		wantNotBefore time.Duration // exact offset from now; 0 = the worker's own backoff (≤ 1 min)
	}{
		{"Retry-After longer than the backoff wins", fmt.Errorf("send card: %w", throttledErr{after: 20 * time.Minute}), 20 * time.Minute},
		{"Retry-After shorter than the backoff is ignored", throttledErr{after: time.Second}, 0},
		{"absurd Retry-After is capped at MaxRetryDelay", throttledErr{after: 30 * 24 * time.Hour}, MaxRetryDelay},
		{"plain error uses the backoff", errors.New("connector 502"), 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			clock := newClock()
			s, _ := openTest(t, Options{Now: clock.Now})
			w := NewOutboxWorker(s, func(context.Context, OutboxItem) error { return tc.err },
				WorkerOptions{BaseBackoff: time.Minute, MaxBackoff: time.Hour})
			if _, err := s.Enqueue(ctx, "send", "x", time.Time{}); err != nil {
				t.Fatal(err)
			}
			items, err := s.Lease(ctx, 1, time.Minute)
			if err != nil || len(items) != 1 {
				t.Fatalf("Lease = %v, %v", items, err)
			}
			w.deliver(ctx, items[0])
			pending, err := s.Pending(ctx)
			if err != nil || len(pending) != 1 {
				t.Fatalf("pending = %v, %v", pending, err)
			}
			got := pending[0].NotBefore.Sub(clock.Now())
			if tc.wantNotBefore != 0 {
				if got != tc.wantNotBefore {
					t.Errorf("due again in %s, want %s", got, tc.wantNotBefore)
				}
			} else if got < 30*time.Second || got > time.Minute {
				t.Errorf("due again in %s, want the first backoff step (30s–1m)", got)
			}
		})
	}
}

// TestOutboxUnreadableItemDoesNotBlockTheQueue: one record that no longer decodes (a bug, a hand edit, a
// half-migrated file) is moved to the dead letters; the items behind it are still delivered.
func TestOutboxUnreadableItemDoesNotBlockTheQueue(t *testing.T) {
	ctx := context.Background()
	clock := newClock()
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

// TestOutboxWorkerParallelKinds: items of a Parallel kind are in flight together (bounded by Concurrency);
// items of other kinds still go one at a time, in enqueue order; every item is delivered once.
func TestOutboxWorkerParallelKinds(t *testing.T) {
	s, _ := openTest(t, Options{})
	ctx := context.Background()
	var mu sync.Mutex
	inFlight, maxInFlight := 0, 0
	var serial []string
	delivered := map[string]int{}
	release := make(chan struct{})
	handle := func(_ context.Context, it OutboxItem) error {
		var p string
		_ = json.Unmarshal(it.Payload, &p)
		mu.Lock()
		delivered[p]++
		if it.Kind != "card" {
			serial = append(serial, p)
			mu.Unlock()
			return nil
		}
		inFlight++
		maxInFlight = max(maxInFlight, inFlight)
		reached := inFlight == 4
		mu.Unlock()
		if reached {
			close(release) // four cards are in flight at once: let them all finish
		}
		<-release
		mu.Lock()
		inFlight--
		mu.Unlock()
		return nil
	}
	for i := range 8 {
		if _, err := s.Enqueue(ctx, "card", fmt.Sprintf("card-%d", i), time.Time{}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Enqueue(ctx, "notice", fmt.Sprintf("notice-%d", i), time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	w := NewOutboxWorker(s, handle, WorkerOptions{PollInterval: time.Hour, Batch: 16, Parallel: map[string]bool{"card": true}, Concurrency: 4})
	w.drain(ctx)
	mu.Lock()
	defer mu.Unlock()
	if maxInFlight != 4 {
		t.Errorf("at most %d cards in flight, want 4 (Concurrency)", maxInFlight)
	}
	for p, n := range delivered {
		if n != 1 {
			t.Errorf("%s delivered %d times", p, n)
		}
	}
	if len(delivered) != 16 {
		t.Errorf("%d items delivered, want 16", len(delivered))
	}
	for i, p := range serial {
		if p != fmt.Sprintf("notice-%d", i) {
			t.Fatalf("notices delivered out of order: %v", serial)
		}
	}
}
