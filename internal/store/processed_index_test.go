package store

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// TestPruneProcessedByTimeIndex: pruning deletes exactly the records first written before the cutoff (a
// record written again keeps its first time) and their index entries; a file from schema 3 gets its index at the
// upgrade.
func TestPruneProcessedByTimeIndex(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	path := filepath.Join(t.TempDir(), "accessbot.db")
	old, err := Open(path, Options{Now: clock, Migrations: Migrations()[:3]})
	if err != nil {
		t.Fatal(err)
	}
	if err := old.MarkProcessed(ctx, "before-upgrade", nil); err != nil { // t0, no index yet
		t.Fatal(err)
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := Open(path, Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now = now.Add(time.Hour)
	if err := s.CompleteActivity(ctx, "done-early", "tok", nil); err != nil { // t0+1h
		t.Fatal(err)
	}
	now = now.Add(30 * time.Hour)
	if err := s.CompleteActivity(ctx, "done-early", "tok", []byte(`{}`)); err != nil { // completed again at t0+31h: keeps t0+1h
		t.Fatal(err)
	}
	if err := s.CompleteActivity(ctx, "done-late", "tok", nil); err != nil { // t0+31h
		t.Fatal(err)
	}
	now = now.Add(19 * time.Hour) // t0+50h: a 48h TTL cuts at t0+2h
	n, err := s.PruneProcessed(ctx, 48*time.Hour)
	if err != nil || n != 2 {
		t.Fatalf("pruned %d, %v; want the two records first written before the cutoff", n, err)
	}
	for key, want := range map[string]bool{"before-upgrade": false, "done-early": false, "done-late": true} {
		if _, kept, err := s.Processed(ctx, key); err != nil || kept != want {
			t.Errorf("%s: after prune kept = %v, %v; want %v", key, kept, err, want)
		}
	}
	entries := 0
	_ = s.db.View(func(tx *bbolt.Tx) error {
		entries = tx.Bucket(bucketProcessedTimes).Stats().KeyN
		return nil
	})
	if processed := countKeys(t, s, bucketProcessed); entries != processed {
		t.Errorf("%d index entries for %d processed records", entries, processed)
	}
}

func countKeys(t *testing.T, s *Store, name []byte) int {
	t.Helper()
	n := 0
	_ = s.db.View(func(tx *bbolt.Tx) error {
		n = tx.Bucket(name).Stats().KeyN
		return nil
	})
	return n
}

// BenchmarkReopen100k measures Open (migrations checked, processed ids pruned) of a state file holding 100k
// conversation references and 100k recent processed activity records: the restart cost at 100k users.
func BenchmarkReopen100k(b *testing.B) {
	path := filepath.Join(b.TempDir(), "accessbot.db")
	s, err := Open(path, Options{})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now().UTC()
	ref := validRef()
	err = s.db.Update(func(tx *bbolt.Tx) error {
		for i := range 100_000 {
			ref.AADObjectID = "user-" + strconv.Itoa(i)
			raw, _ := json.Marshal(ref)
			if err := tx.Bucket(bucketConversations).Put(joinKey(ref.TenantID, ref.AADObjectID), raw); err != nil {
				return err
			}
			rec, _ := json.Marshal(processedRecord{At: now})
			if err := putProcessed(tx, []byte("msteams|a:conv-"+strconv.Itoa(i)+"|act"), now, rec); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		s, err := Open(path, Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		_ = s.Close()
		b.StartTimer()
	}
}
