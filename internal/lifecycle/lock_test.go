package lifecycle

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/accessbot/accessbot/internal/store"
)

// Eight callers on two replicas take one named lock: never two inside at once, and every one gets in.
func TestLockExcludesAcrossReplicas(t *testing.T) {
	onEachBackend(t, func(t *testing.T, st store.Backend) {
		cores := newCores(t, st, 2)
		var inside, maxInside, entered atomic.Int32
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				unlock, err := cores[i%2].Lock(context.Background(), "brk:req-1")
				if err != nil {
					t.Errorf("lock: %v", err)
					return
				}
				n := inside.Add(1)
				for {
					m := maxInside.Load()
					if n <= m || maxInside.CompareAndSwap(m, n) {
						break
					}
				}
				entered.Add(1)
				inside.Add(-1)
				unlock()
			}()
		}
		wg.Wait()
		if maxInside.Load() != 1 || entered.Load() != 8 {
			t.Fatalf("at most %d inside at once, %d entered; want 1 and 8", maxInside.Load(), entered.Load())
		}
	})
}

// A lock whose context ends while another holds it gives up with the context's error.
func TestLockGivesUpWithContext(t *testing.T) {
	onEachBackend(t, func(t *testing.T, st store.Backend) {
		c := newCores(t, st, 1)[0]
		unlock, err := c.Lock(context.Background(), "form:1")
		if err != nil {
			t.Fatal(err)
		}
		defer unlock()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := c.Lock(ctx, "form:1"); err == nil {
			t.Fatal("took a held lock")
		}
	})
}
