package store

import (
	"context"
	"encoding/json"
	"testing"
	"time"
)

// TestPruneNothingDueCommitsNothing: a prune that finds nothing to delete reads only (no write transaction, so
// no commit and no fdatasync every hour for each kind); once something is due, it deletes it in one commit.
func TestPruneNothingDueCommitsNothing(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		keep  time.Duration
		put   func(s *Store) error
		prune func(s *Store, keep time.Duration) (int, error)
	}{
		{"processed", DefaultProcessedTTL,
			func(s *Store) error { return s.MarkProcessed(ctx, "act-1", nil) },
			func(s *Store, keep time.Duration) (int, error) { return s.PruneProcessed(ctx, keep) }},
		{"dialogs", DefaultDialogTTL,
			func(s *Store) error { return s.PutDialog(ctx, "form/rita", map[string]string{"step": "1"}) },
			func(s *Store, keep time.Duration) (int, error) { return s.PruneDialogs(ctx, keep) }},
		{"requests", DefaultKeepClosed,
			func(s *Store) error {
				r := Request{ID: "req-1", Kind: KindTracked, State: "denied", ClosedAt: time.Now()}
				_, err := s.CreateRequest(ctx, r)
				return err
			},
			func(s *Store, keep time.Duration) (int, error) { return s.PruneRequests(ctx, keep) }},
		{"records", 24 * time.Hour,
			func(s *Store) error { return s.Put(ctx, "reviews.sent", "review/i1/u1", map[string]any{"at": s.now()}) },
			func(s *Store, keep time.Duration) (int, error) {
				cutoff := s.now().Add(-keep)
				return s.PruneKV(ctx, "reviews.sent", func(_ string, raw []byte) bool {
					var c struct{ At time.Time }
					return json.Unmarshal(raw, &c) == nil && c.At.Before(cutoff)
				})
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			observe, writes := countWrites("")
			clock := &stepClock{now: time.Now()}
			s, _ := openTest(t, Options{Observe: observe, Now: clock.Now})
			if n, err := tc.prune(s, tc.keep); err != nil || n != 0 {
				t.Fatalf("prune of an empty store = %d, %v; want 0", n, err)
			}
			if err := tc.put(s); err != nil {
				t.Fatal(err)
			}
			before := writes.Load()
			if n, err := tc.prune(s, tc.keep); err != nil || n != 0 {
				t.Fatalf("prune with nothing due = %d, %v; want 0", n, err)
			}
			if got := writes.Load() - before; got != 0 {
				t.Errorf("a prune with nothing due ran %d write transactions, want 0", got)
			}
			// Now the entry is due: the retention has passed by the store's clock (and by the records' times).
			clock.Advance(tc.keep + time.Hour)
			if n, err := tc.prune(s, time.Minute); err != nil || n != 1 {
				t.Fatalf("prune with one entry due = %d, %v; want 1", n, err)
			}
			if got := writes.Load() - before; got != 1 {
				t.Errorf("a prune deleting one entry ran %d write transactions, want 1", got)
			}
		})
	}
}
