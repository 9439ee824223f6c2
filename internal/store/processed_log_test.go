package store

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// putLegacyProcessed writes a record the way schema versions 1–5 did: JSON in the processed bucket, and a time
// index entry at indexAt unless it is zero (schema 3 had no index).
func putLegacyProcessed(t *testing.T, s *Store, key string, rec legacyProcessed, indexAt time.Time) {
	t.Helper()
	err := s.db.Update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketProcessed)
		if err != nil {
			return err
		}
		raw, _ := json.Marshal(rec)
		if err := b.Put([]byte(key), raw); err != nil {
			return err
		}
		if indexAt.IsZero() {
			return nil
		}
		return tx.Bucket(bucketProcessedTimes).Put(timeKey(indexAt, []byte(key)), nil)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestProcessedLogMigrationAndPrune: a schema-5 file's completed records move to the log (at their index time;
// claims in progress are dropped; the old buckets are deleted), a record completed again keeps its first
// answer and time, and pruning deletes exactly the records first written before the cutoff, from the file and
// the index.
func TestProcessedLogMigrationAndPrune(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	now := t0
	clock := func() time.Time { return now }
	path := filepath.Join(t.TempDir(), "accessbot.db")
	old, err := Open(path, Options{Now: clock, Migrations: Migrations()[:5]})
	if err != nil {
		t.Fatal(err)
	}
	putLegacyProcessed(t, old, "before-upgrade", legacyProcessed{At: t0.Add(time.Hour), Resp: []byte(`{"status":200}`)}, t0)
	putLegacyProcessed(t, old, "claimed-only", legacyProcessed{At: t0, Claimed: true}, t0)
	putLegacyProcessed(t, old, "late-legacy", legacyProcessed{At: t0.Add(40 * time.Hour)}, time.Time{})
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := Open(path, Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_ = s.db.View(func(tx *bbolt.Tx) error {
		if tx.Bucket(bucketProcessed) != nil || tx.Bucket(bucketProcessedTimes) != nil {
			t.Error("the legacy processed buckets survived the migration")
		}
		return nil
	})
	if resp, ok, err := s.Processed(ctx, "before-upgrade"); err != nil || !ok || string(resp) != `{"status":200}` {
		t.Fatalf("legacy record after the upgrade = %q, %v, %v; want its response", resp, ok, err)
	}
	if _, ok, err := s.Processed(ctx, "claimed-only"); err != nil || ok {
		t.Fatalf("legacy claim after the upgrade = %v, %v; want not processed", ok, err)
	}

	now = t0.Add(time.Hour)
	if err := s.CompleteActivity(ctx, "done-early", "tok", []byte("first")); err != nil {
		t.Fatal(err)
	}
	now = t0.Add(31 * time.Hour)
	if err := s.CompleteActivity(ctx, "done-early", "tok", []byte("second")); err != nil { // kept: first wins, t0+1h
		t.Fatal(err)
	}
	if err := s.CompleteActivity(ctx, "done-late", "tok", nil); err != nil {
		t.Fatal(err)
	}
	if resp, _, _ := s.Processed(ctx, "done-early"); string(resp) != "first" {
		t.Fatalf("completed twice: response %q, want the first", resp)
	}
	now = t0.Add(50 * time.Hour) // a 48h TTL cuts at t0+2h
	n, err := s.PruneProcessed(ctx, 48*time.Hour)
	if err != nil || n != 2 {
		t.Fatalf("pruned %d, %v; want the two records first written before the cutoff", n, err)
	}
	for key, want := range map[string]bool{"before-upgrade": false, "done-early": false, "done-late": true, "late-legacy": true} {
		if _, kept, err := s.Processed(ctx, key); err != nil || kept != want {
			t.Errorf("%s: after prune kept = %v, %v; want %v", key, kept, err, want)
		}
	}
	if got, want := s.processed.len(), logRecords(t, s); got != want {
		t.Errorf("index holds %d records, the log %d", got, want)
	}
}

func logRecords(t *testing.T, s *Store) int {
	t.Helper()
	n := 0
	_ = s.db.View(func(tx *bbolt.Tx) error {
		n = tx.Bucket(bucketProcessedLog).Stats().KeyN
		return nil
	})
	return n
}

// TestProcessedSurvivesRestart: the index is rebuilt from the log when the file is opened again.
func TestProcessedSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "accessbot.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		if err := s.CompleteActivity(ctx, "act-"+strconv.Itoa(i), "tok", []byte(strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := range 50 {
		resp, ok, err := s.Processed(ctx, "act-"+strconv.Itoa(i))
		if err != nil || !ok || string(resp) != strconv.Itoa(i) {
			t.Fatalf("act-%d after reopen = %q, %v, %v", i, resp, ok, err)
		}
	}
	if _, ok, _ := s.Processed(ctx, "act-50"); ok {
		t.Fatal("an activity never completed reads as processed")
	}
}

// TestProcessedHashCollision: two activity keys with the same hash are told apart by the key stored in the
// record, whichever was written first.
func TestProcessedHashCollision(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t, Options{})
	h, sec := keyHash("a"), logSecond(s.now())
	forged := encodeProcessed("b", []byte("b's answer"))
	binary.BigEndian.PutUint32(forged[1:], h) // "b" stored with "a"'s hash
	err := s.db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketProcessedLog).Put(logKey(sec, s.processed.nextSeq()), forged)
	})
	if err != nil {
		t.Fatal(err)
	}
	s.processed.add(h, sec)
	if _, ok, err := s.Processed(ctx, "a"); err != nil || ok {
		t.Fatalf("Processed(a) = %v, %v; want not processed (only a colliding key is stored)", ok, err)
	}
	if err := s.MarkProcessed(ctx, "a", []byte("a's answer")); err != nil {
		t.Fatal(err)
	}
	if resp, ok, err := s.Processed(ctx, "a"); err != nil || !ok || string(resp) != "a's answer" {
		t.Fatalf("Processed(a) = %q, %v, %v; want a's answer", resp, ok, err)
	}
	if got := logRecords(t, s); got != 2 {
		t.Fatalf("the log holds %d records, want 2", got)
	}
}

// TestDecodeProcessedRejectsMalformed: a damaged record is reported, not misread.
func TestDecodeProcessedRejectsMalformed(t *testing.T) {
	good := encodeProcessed("key", []byte("resp"))
	for name, v := range map[string][]byte{
		"empty":          nil,
		"other format":   append([]byte{9}, good[1:]...),
		"key past end":   good[:4],
		"key cut short":  good[:8],
		"bad key length": {processedFormat, 0xff},
	} {
		if _, _, err := decodeProcessed(v); err == nil {
			t.Errorf("%s: decoded without error", name)
		}
	}
	k, r, err := decodeProcessed(good)
	if err != nil || string(k) != "key" || string(r) != "resp" {
		t.Fatalf("decode = %q, %q, %v", k, r, err)
	}
}

// TestGroupOfCompletionsWritesFewPages guards the point of the log: a group commit of completions by
// different conversations appends to one leaf, instead of dirtying a leaf (and branch page) per activity.
func TestGroupOfCompletionsWritesFewPages(t *testing.T) {
	s, _ := openTest(t, Options{})
	ctx := context.Background()
	for i := range 3000 { // a log of several leaves and a branch level
		if err := s.MarkProcessed(ctx, "msteams|a:conversation-"+strconv.Itoa(i*7919%3000)+"|activity", nil); err != nil {
			t.Fatal(err)
		}
	}
	var stats bbolt.TxStats
	err := s.db.Update(func(tx *bbolt.Tx) error {
		for i := range 8 {
			key := "msteams|a:another-" + strconv.Itoa(i*977) + "|activity"
			if err := appendProcessed(tx, key, logSecond(s.now()), s.processed.nextSeq(), []byte(`{"status":200}`)); err != nil {
				return err
			}
		}
		tx.OnCommit(func() { stats = tx.Stats() })
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The log's last leaf and its parent, the root bucket page, the freelist: bbolt writes the meta page apart.
	if w := stats.GetWrite(); w > 5 {
		t.Errorf("8 completions wrote %d pages, want ≤ 5", w)
	}
}

// BenchmarkReopen100k measures Open (migrations checked, the processed index loaded) of a state file holding
// 100k conversation references and 100k recent processed activity records, closed cleanly: the restart cost
// at 100k users. Open loads the index from Close's snapshot (processed_snapshot.go); BenchmarkReopen100kScan
// measures it built from the log.
func BenchmarkReopen100k(b *testing.B) { benchmarkReopen100k(b, false) }

// BenchmarkReopen100kScan is BenchmarkReopen100k after a write that makes Open build the index from the log
// (a crash, another tool writing the file).
func BenchmarkReopen100kScan(b *testing.B) { benchmarkReopen100k(b, true) }

func benchmarkReopen100k(b *testing.B, scan bool) {
	path := filepath.Join(b.TempDir(), "accessbot.db")
	s, err := Open(path, Options{})
	if err != nil {
		b.Fatal(err)
	}
	now := logSecond(time.Now())
	ref := validRef()
	err = s.db.Update(func(tx *bbolt.Tx) error {
		for i := range 100_000 {
			ref.AADObjectID = "user-" + strconv.Itoa(i)
			raw, _ := json.Marshal(ref)
			if err := tx.Bucket(bucketConversations).Put(joinKey(ref.TenantID, ref.AADObjectID), raw); err != nil {
				return err
			}
			key := "msteams|a:conv-" + strconv.Itoa(i) + "|act"
			if err := appendProcessed(tx, key, now, s.processed.nextSeq(), nil); err != nil {
				return err
			}
			s.processed.add(keyHash(key), now) // as the store's writers do: Close snapshots the index
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	if scan {
		staleSnapshot(b, path)
	}
	b.ResetTimer()
	for b.Loop() {
		s, err := Open(path, Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if s.fromSnap == scan {
			b.Fatalf("index loaded from the snapshot: %v, want %v", s.fromSnap, !scan)
		}
		_ = s.Close()
		if scan {
			staleSnapshot(b, path)
		}
		b.StartTimer()
	}
}

// staleSnapshot commits an empty transaction to the file at path, after which Open does not use its snapshot.
func staleSnapshot(b *testing.B, path string) {
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		b.Fatal(err)
	}
	if err := db.Update(func(*bbolt.Tx) error { return nil }); err != nil {
		b.Fatal(err)
	}
	if err := db.Close(); err != nil {
		b.Fatal(err)
	}
}
