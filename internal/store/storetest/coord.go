package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/accessbot/accessbot/internal/store"
)

func testUpdateKV(t *testing.T, open Factory) {
	s, ctx := open(t), ctxT(t)
	set := func(v string) func([]byte) ([]byte, error) {
		return func([]byte) ([]byte, error) {
			if v == "" {
				return nil, nil
			}
			return []byte(v), nil
		}
	}
	var seen []byte
	for _, tc := range []struct {
		name    string
		fn      func([]byte) ([]byte, error)
		wantErr error
		want    string // "" = absent
	}{
		{"create", set(`{"a":1}`), nil, `{"a":1}`},
		{"replace", func(raw []byte) ([]byte, error) { seen = raw; return []byte(`{"a":2}`), nil }, nil, `{"a":2}`},
		{"no change", func([]byte) ([]byte, error) { return []byte(`{"a":9}`), store.ErrNoChange }, nil, `{"a":2}`},
		{"fn error", func([]byte) ([]byte, error) { return []byte(`{"a":9}`), errBoom }, errBoom, `{"a":2}`},
		{"invalid json", set(`{`), store.ErrInvalid, `{"a":2}`},
		{"delete", set(""), nil, ""},
	} {
		err := s.UpdateKV(ctx, "flags", "k", tc.fn)
		if (tc.wantErr == nil && err != nil) || (tc.wantErr != nil && !errors.Is(err, tc.wantErr)) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.wantErr)
		}
		var got map[string]int
		gerr := s.Get(ctx, "flags", "k", &got)
		switch {
		case tc.want == "" && !errors.Is(gerr, store.ErrNotFound):
			t.Errorf("%s: Get err = %v, want ErrNotFound", tc.name, gerr)
		case tc.want != "" && (gerr != nil || !jsonEqual(mustJSON(got), []byte(tc.want))):
			t.Errorf("%s: stored %v (%v), want %s", tc.name, got, gerr, tc.want)
		}
	}
	if !jsonEqual(seen, []byte(`{"a":1}`)) {
		t.Errorf("fn saw %s, want the stored {\"a\":1}", seen)
	}
	if err := s.UpdateKV(ctx, "Bad Bucket", "k", set(`1`)); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("bad bucket: err = %v, want ErrInvalid", err)
	}
}

func mustJSON(v any) []byte {
	raw, _ := json.Marshal(v)
	return raw
}

func testUpdateKVConcurrent(t *testing.T, open Factory) {
	s, ctx := open(t), ctxT(t)
	const workers, each = 8, 20
	runParallel(t, workers, func() error {
		for range each {
			if err := s.UpdateKV(ctx, "counters", "c", func(raw []byte) ([]byte, error) {
				n := 0
				if raw != nil {
					if err := json.Unmarshal(raw, &n); err != nil {
						return nil, err
					}
				}
				return []byte(strconv.Itoa(n + 1)), nil
			}); err != nil {
				return err
			}
		}
		return nil
	})
	var n int
	if err := s.Get(ctx, "counters", "c", &n); err != nil || n != workers*each {
		t.Fatalf("counter = %d (%v), want %d", n, err, workers*each)
	}
}

func testKV(t *testing.T, open Factory) {
	s, ctx := open(t), ctxT(t)
	for i, k := range []string{"b/2", "a/1", "b/1"} {
		if err := s.Put(ctx, "things", k, map[string]int{"i": i}); err != nil {
			t.Fatalf("Put %s: %v", k, err)
		}
	}
	var keys []string
	if err := s.List(ctx, "things", "b/", func(k string, _ []byte) error { keys = append(keys, k); return nil }); err != nil {
		t.Fatalf("List: %v", err)
	}
	if fmt.Sprint(keys) != "[b/1 b/2]" {
		t.Fatalf("List keys = %v, want [b/1 b/2]", keys)
	}
	var v map[string]int
	if err := s.Get(ctx, "things", "a/1", &v); err != nil || v["i"] != 1 {
		t.Fatalf("Get = %v, %v", v, err)
	}
	if err := s.Delete(ctx, "things", "a/1"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if err := s.Get(ctx, "things", "a/1", &v); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get deleted: err = %v, want ErrNotFound", err)
	}
	if err := s.List(ctx, "empty", "", func(string, []byte) error { return errBoom }); err != nil {
		t.Fatalf("List of an unused bucket: %v", err)
	}
}

// claimStep is one step of a claim scenario: do acts on the store and returns the claim it ends with.
type claimStep struct {
	name string
	do   func() (store.Claim, error)
	want store.Claim
}

// runClaimSteps runs steps in order and fails at the first whose claim differs from its want.
func runClaimSteps(t *testing.T, steps []claimStep) {
	t.Helper()
	for _, st := range steps {
		got, err := st.do()
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if got.Won != st.want.Won || got.Done != st.want.Done || string(got.Response) != string(st.want.Response) {
			t.Fatalf("%s: claim = %+v (%s), want %+v (%s)", st.name, got, got.Response, st.want, st.want.Response)
		}
	}
}

func testClaimActivity(t *testing.T, open Factory) {
	s, ctx := open(t), ctxT(t)
	var first store.Claim
	runClaimSteps(t, []claimStep{
		{"first claim wins", func() (c store.Claim, err error) {
			first, err = s.ClaimActivity(ctx, "act1", time.Minute)
			return first, err
		}, store.Claim{Won: true}},
		{"second claim waits", func() (store.Claim, error) { return s.ClaimActivity(ctx, "act1", time.Minute) }, store.Claim{}},
		{"after completion replays", func() (store.Claim, error) {
			if err := s.CompleteActivity(ctx, "act1", first.Token, []byte(`{"status":200}`)); err != nil {
				return store.Claim{}, err
			}
			return s.ClaimActivity(ctx, "act1", time.Minute)
		}, store.Claim{Done: true, Response: []byte(`{"status":200}`)}},
		{"marked processed is done", func() (store.Claim, error) {
			if err := s.MarkProcessed(ctx, "act2", nil); err != nil {
				return store.Claim{}, err
			}
			return s.ClaimActivity(ctx, "act2", time.Minute)
		}, store.Claim{Done: true}},
	})
	if _, err := s.ClaimActivity(ctx, "act3", time.Minute); err != nil {
		t.Fatalf("claim act3: %v", err)
	}
	if _, ok, err := s.Processed(ctx, "act3"); err != nil || ok {
		t.Fatalf("Processed(claimed, not completed) = %v, %v; want false", ok, err)
	}
	if resp, ok, err := s.Processed(ctx, "act1"); err != nil || !ok || string(resp) != `{"status":200}` {
		t.Fatalf("Processed(completed) = %s, %v, %v", resp, ok, err)
	}
	// Concurrent claims of one fresh id: exactly one wins.
	var wins atomic.Int32
	runParallel(t, 8, func() error {
		c, err := s.ClaimActivity(ctx, "act4", time.Minute)
		if c.Won {
			wins.Add(1)
		}
		return err
	})
	if wins.Load() != 1 {
		t.Fatalf("%d concurrent claims won, want 1", wins.Load())
	}
}

func testClaimTakeover(t *testing.T, open Factory) {
	s, ctx := open(t), ctxT(t)
	const hold = 100 * time.Millisecond
	if c, err := s.ClaimActivity(ctx, "act", hold); err != nil || !c.Won {
		t.Fatalf("first claim = %+v, %v", c, err)
	}
	if c, err := s.ClaimActivity(ctx, "act", hold); err != nil || c.Won || c.Done {
		t.Fatalf("claim within holdFor = %+v, %v; want neither won nor done", c, err)
	}
	eventually(t, 5*time.Second, "abandoned claim taken over", func() bool {
		c, err := s.ClaimActivity(ctx, "act", hold)
		if err != nil {
			t.Fatalf("claim: %v", err)
		}
		return c.Won
	})
	if c, err := s.ClaimActivity(ctx, "act", time.Minute); err != nil || c.Won {
		t.Fatalf("claim right after takeover = %+v, %v; want held", c, err)
	}
}

func testLease(t *testing.T, open Factory) {
	s, ctx := open(t), ctxT(t)
	steps := []struct {
		name   string
		holder string
		op     string // acquire | release
		want   bool
	}{
		{"h1 acquires", "h1", "acquire", true},
		{"h2 refused", "h2", "acquire", false},
		{"h1 renews", "h1", "acquire", true},
		{"h2 release is a no-op", "h2", "release", false},
		{"h2 still refused", "h2", "acquire", false},
		{"h1 releases", "h1", "release", false},
		{"h2 acquires", "h2", "acquire", true},
		{"h1 refused", "h1", "acquire", false},
	}
	for _, st := range steps {
		if st.op == "release" {
			if err := s.ReleaseLease(ctx, "poller", st.holder); err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
			continue
		}
		got, err := s.AcquireLease(ctx, "poller", st.holder, time.Minute)
		if err != nil || got != st.want {
			t.Fatalf("%s: got %v, %v; want %v", st.name, got, err, st.want)
		}
	}
	if ok, err := s.AcquireLease(ctx, "other", "h1", time.Minute); err != nil || !ok {
		t.Fatalf("another lease name is independent: %v, %v", ok, err)
	}
	if _, err := s.AcquireLease(ctx, "x", "h1", 0); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("zero ttl: err = %v, want ErrInvalid", err)
	}
	var winners, ids atomic.Int32
	runParallel(t, 8, func() error {
		ok, err := s.AcquireLease(ctx, "race", fmt.Sprintf("h%d", ids.Add(1)), time.Minute)
		if ok {
			winners.Add(1)
		}
		return err
	})
	if winners.Load() != 1 {
		t.Fatalf("%d concurrent acquirers won, want 1", winners.Load())
	}
}

func testLeaseExpiry(t *testing.T, open Factory) {
	s, ctx := open(t), ctxT(t)
	if ok, err := s.AcquireLease(ctx, "poller", "dead", 100*time.Millisecond); err != nil || !ok {
		t.Fatalf("acquire: %v, %v", ok, err)
	}
	eventually(t, 5*time.Second, "expired lease taken by another holder", func() bool {
		ok, err := s.AcquireLease(ctx, "poller", "alive", time.Minute)
		if err != nil {
			t.Fatalf("acquire: %v", err)
		}
		return ok
	})
}

// testRunExclusive: two runners never run at once; when the holder's process dies (its lease is no longer
// renewed) the other runs the job within the lease ttl.
func testRunExclusive(t *testing.T, open Factory) {
	s, ctx := open(t), ctxT(t)
	const ttl = 300 * time.Millisecond
	var running, maxRunning, started atomic.Int32
	job := func(ctx context.Context) error {
		n := running.Add(1)
		started.Add(1)
		for {
			if m := maxRunning.Load(); n <= m || maxRunning.CompareAndSwap(m, n) {
				break
			}
		}
		<-ctx.Done()
		running.Add(-1)
		return nil
	}
	ctx1, stop1 := context.WithCancel(ctx)
	ctx2, stop2 := context.WithCancel(ctx)
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	wg.Go(func() { errs <- store.RunExclusive(ctx1, s, "job", "r1", ttl, job) })
	eventually(t, 5*time.Second, "first runner starts", func() bool { return started.Load() == 1 })
	r2 := &countingLeaser{Leaser: s}
	wg.Go(func() { errs <- store.RunExclusive(ctx2, r2, "job", "r2", ttl, job) })
	eventually(t, 5*time.Second, "second runner tries twice", func() bool { return r2.acquires.Load() >= 2 })
	if started.Load() != 1 {
		t.Fatalf("second runner started while the first held the lease")
	}
	stop1() // r1 stops (releases); r2 must take over within ttl.
	eventually(t, 5*time.Second, "second runner takes over", func() bool { return started.Load() == 2 })
	stop2()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("RunExclusive: %v", err)
		}
	}
	if maxRunning.Load() != 1 {
		t.Fatalf("%d runners ran at once, want 1", maxRunning.Load())
	}
	// A holder that died without releasing: its lease expires and RunExclusive takes over.
	if ok, err := s.AcquireLease(ctx, "job2", "dead", ttl); err != nil || !ok {
		t.Fatalf("acquire: %v, %v", ok, err)
	}
	ran := make(chan struct{})
	ctx3, stop3 := context.WithCancel(ctx)
	defer stop3()
	go func() {
		_ = store.RunExclusive(ctx3, s, "job2", "alive", ttl, func(context.Context) error { close(ran); return nil })
	}()
	select {
	case <-ran:
	case <-time.After(5 * time.Second):
		t.Fatal("job of a dead holder did not move within 5s")
	}
}

// countingLeaser counts AcquireLease calls.
type countingLeaser struct {
	store.Leaser
	acquires atomic.Int32
}

func (c *countingLeaser) AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	c.acquires.Add(1)
	return c.Leaser.AcquireLease(ctx, name, holder, ttl)
}
