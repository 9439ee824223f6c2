package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/accessbot/accessbot/internal/testkit"
)

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
	clock := testkit.NewClock()
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
	clock := testkit.NewClock()
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
	testkit.Eventually(t, "all items completed or dead-lettered", func() bool {
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
	clock := testkit.NewClock()
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
			clock := testkit.NewClock()
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
