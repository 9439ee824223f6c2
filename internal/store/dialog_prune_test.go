package store

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

type stepClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *stepClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *stepClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// TestPruneDialogs: dialogs untouched for longer than the TTL are pruned; rewriting one keeps it alive;
// deleting one removes its write time too.
func TestPruneDialogs(t *testing.T) {
	ctx := context.Background()
	clock := &stepClock{now: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)}
	s, _ := openTest(t, Options{Now: clock.Now})
	for _, k := range []string{"form/old", "form/refreshed", "confirm/deleted"} {
		if err := s.PutDialog(ctx, k, map[string]string{"k": k}); err != nil {
			t.Fatal(err)
		}
	}
	clock.Advance(6 * 24 * time.Hour)
	if err := s.PutDialog(ctx, "form/refreshed", map[string]string{"k": "again"}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteDialog(ctx, "confirm/deleted"); err != nil {
		t.Fatal(err)
	}
	if err := s.PutDialog(ctx, "form/new", map[string]string{"k": "new"}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * 24 * time.Hour)

	n, err := s.PruneDialogs(ctx, DefaultDialogTTL)
	if err != nil || n != 1 {
		t.Fatalf("PruneDialogs = %d, %v; want 1 (form/old)", n, err)
	}
	tests := []struct {
		key  string
		kept bool
	}{{"form/old", false}, {"form/refreshed", true}, {"form/new", true}, {"confirm/deleted", false}}
	for _, tc := range tests {
		var out map[string]string
		err := s.Dialog(ctx, tc.key, &out)
		if tc.kept && err != nil {
			t.Errorf("%s: pruned, want kept: %v", tc.key, err)
		}
		if !tc.kept && !errors.Is(err, ErrNotFound) {
			t.Errorf("%s: err = %v, want ErrNotFound", tc.key, err)
		}
	}
	if err := s.db.View(func(tx *bbolt.Tx) error {
		for _, k := range []string{"form/old", "confirm/deleted"} {
			if tx.Bucket(bucketDialogTimes).Get([]byte(k)) != nil {
				t.Errorf("%s: write time left behind", k)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PruneDialogs(ctx, 0); !errors.Is(err, ErrInvalid) {
		t.Errorf("PruneDialogs(0) = %v, want ErrInvalid", err)
	}
}

// TestDialogTimesMigration: dialogs written by a version-1 store are stamped at the upgrade, so they are not
// pruned at once but age from then.
func TestDialogTimesMigration(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v1.db")
	s, err := Open(path, Options{Migrations: Migrations()[:1]})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketDialogs).Put([]byte("form/legacy"), []byte(`{"k":"legacy"}`))
	}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n, err := s.PruneDialogs(ctx, time.Hour); err != nil || n != 0 {
		t.Fatalf("PruneDialogs right after the upgrade = %d, %v; want 0", n, err)
	}
	var out map[string]string
	if err := s.Dialog(ctx, "form/legacy", &out); err != nil || out["k"] != "legacy" {
		t.Fatalf("legacy dialog after upgrade = %v, %v", out, err)
	}
}
