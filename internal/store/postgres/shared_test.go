package postgres_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/accessbot/accessbot/internal/store"
	"github.com/accessbot/accessbot/internal/store/postgres"
	"github.com/accessbot/accessbot/internal/store/postgres/pgtest"
)

// TestTwoStoresShareState: two Stores with their own pools on one schema stand for two replicas. Their
// concurrent compare-and-swap updates of one record lose nothing, their outbox leases never hand out an
// item twice, and only one of them wins a lease or an activity claim.
func TestTwoStoresShareState(t *testing.T) {
	url := pgtest.URL(t)
	ctx := context.Background()
	var replicas [2]*postgres.Store
	for i := range replicas {
		s, err := postgres.Open(ctx, url, postgres.Options{MaxConns: 4})
		if err != nil {
			t.Fatalf("Open replica %d: %v", i, err)
		}
		t.Cleanup(func() { _ = s.Close() })
		replicas[i] = s
	}
	if _, err := replicas[0].CreateRequest(ctx, store.Request{ID: "r", Kind: store.KindTracked, State: "open", Body: json.RawMessage(`0`)}); err != nil {
		t.Fatal(err)
	}
	for i := range 40 {
		if _, err := replicas[i%2].Enqueue(ctx, "notify", i, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	const perWorker = 10
	var mu sync.Mutex
	leased := map[string]int{}
	wins := map[string]int{}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for w := range 8 {
		s := replicas[w%2]
		wg.Go(func() {
			for range perWorker {
				if _, err := s.UpdateRequest(ctx, "r", func(r *store.Request) error {
					var n int
					if err := json.Unmarshal(r.Body, &n); err != nil {
						return err
					}
					r.Body = json.RawMessage(fmt.Sprint(n + 1))
					return nil
				}); err != nil {
					errs <- err
					return
				}
			}
			items, err := s.Lease(ctx, 40, time.Minute)
			if err != nil {
				errs <- err
				return
			}
			ok, err := s.AcquireLease(ctx, "tracker", fmt.Sprintf("w%d", w), time.Minute)
			if err != nil {
				errs <- err
				return
			}
			c, err := s.ClaimActivity(ctx, "act", time.Minute)
			if err != nil {
				errs <- err
				return
			}
			mu.Lock()
			defer mu.Unlock()
			for _, it := range items {
				leased[it.ID]++
			}
			if ok {
				wins["lease"]++
			}
			if c.Won {
				wins["claim"]++
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	r, err := replicas[1].GetRequest(ctx, "r")
	if err != nil || string(r.Body) != fmt.Sprint(8*perWorker) || r.Version != 8*perWorker+1 {
		t.Fatalf("after %d updates from two stores: body %s version %d (%v)", 8*perWorker, r.Body, r.Version, err)
	}
	if len(leased) != 40 {
		t.Errorf("%d distinct outbox items leased, want 40", len(leased))
	}
	for id, n := range leased {
		if n != 1 {
			t.Errorf("outbox item %s leased %d times", id, n)
		}
	}
	if wins["lease"] != 1 || wins["claim"] != 1 {
		t.Errorf("lease won %d times, claim won %d times; want 1 each", wins["lease"], wins["claim"])
	}
}
