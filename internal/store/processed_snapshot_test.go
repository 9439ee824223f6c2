package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// snapClock is a settable clock for the snapshot tests.
type snapClock struct{ now time.Time }

func (c *snapClock) Now() time.Time { return c.now }

// snapT0 is the first second of the snapshot tests' records.
var snapT0 = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

// completeN completes n activities named prefix-i at the clock's time, by CompleteActivity (through the
// write-ahead log) or, with direct, by MarkProcessed (a commit of the state file).
func completeN(t *testing.T, s *Store, prefix string, n int, direct bool) {
	t.Helper()
	ctx := context.Background()
	for i := range n {
		key := fmt.Sprintf("%s-%d", prefix, i)
		var err error
		if direct {
			err = s.MarkProcessed(ctx, key, []byte(key))
		} else {
			err = s.CompleteActivity(ctx, key, "tok", []byte(key))
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// scannedIndex builds the processed index of s's file from its log, as Open does without a snapshot.
func scannedIndex(t *testing.T, s *Store) *processedIndex {
	t.Helper()
	scan := &Store{db: s.db, log: slog.New(slog.DiscardHandler)}
	if err := scan.loadProcessedIndex(nil); err != nil {
		t.Fatal(err)
	}
	return &scan.processed
}

// pairsOf is every pair of x, ascending.
func pairsOf(x *processedIndex) []uint64 {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return slices.Collect(x.all())
}

// sameIndex fails unless got answers has and appendTimes as want does for every hash either holds.
func sameIndex(t *testing.T, got, want *processedIndex) {
	t.Helper()
	g, w := pairsOf(got), pairsOf(want)
	if !slices.Equal(g, w) {
		t.Fatalf("index holds %d pairs, the log's scan %d (or other ones)", len(g), len(w))
	}
	for _, p := range slices.Concat(g, w) {
		h := uint32(p >> 32)
		if got.has(h) != want.has(h) || !slices.Equal(got.times(h), want.times(h)) {
			t.Fatalf("hash %x: has %v times %v, the scan's has %v times %v", h, got.has(h), got.times(h), want.has(h), want.times(h))
		}
	}
}

// logMaxSeq is the highest sequence number of the log's records (0 when it is empty).
func logMaxSeq(t *testing.T, s *Store) uint32 {
	t.Helper()
	var last uint32
	_ = s.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketProcessedLog).ForEach(func(k, _ []byte) error {
			_, seq, _ := splitLogKey(k)
			last = max(last, seq)
			return nil
		})
	})
	return last
}

// TestSnapshotReopenMatchesScan: after a clean Close the next Open loads the index from the snapshot, and it
// is the index a scan of the log builds, whatever additions, removals and compactions came before; sequence
// numbers continue after the last one given.
func TestSnapshotReopenMatchesScan(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		fill func(t *testing.T, s *Store, c *snapClock)
	}{
		{"empty", func(*testing.T, *Store, *snapClock) {}},
		{"completions through the write-ahead log", func(t *testing.T, s *Store, _ *snapClock) {
			completeN(t, s, "wal", 40, false)
		}},
		{"removals and additions not compacted", func(t *testing.T, s *Store, c *snapClock) {
			completeN(t, s, "old", 100, true)
			c.now = snapT0.Add(30 * time.Hour)
			completeN(t, s, "new", 1000, true) // compacts once at 257 additions
			completeN(t, s, "wal", 20, false)
			c.now = snapT0.Add(50 * time.Hour)
			if n, err := s.PruneProcessed(ctx, 48*time.Hour); err != nil || n != 100 {
				t.Fatalf("pruned %d, %v; want 100", n, err)
			}
			completeN(t, s, "late", 30, true)
			s.processed.mu.RLock()
			defer s.processed.mu.RUnlock()
			if s.processed.ndead == 0 || len(s.processed.added) == 0 {
				t.Fatalf("the index has %d removals and %d additions since its compaction, want some of each",
					s.processed.ndead, len(s.processed.added))
			}
		}},
		{"compacted after removals", func(t *testing.T, s *Store, c *snapClock) {
			completeN(t, s, "old", 600, true)
			c.now = snapT0.Add(30 * time.Hour)
			completeN(t, s, "new", 300, false)
			c.now = snapT0.Add(50 * time.Hour)
			if n, err := s.PruneProcessed(ctx, 48*time.Hour); err != nil || n != 600 {
				t.Fatalf("pruned %d, %v; want 600", n, err)
			}
		}},
		{"everything pruned", func(t *testing.T, s *Store, c *snapClock) {
			completeN(t, s, "old", 50, true)
			c.now = snapT0.Add(50 * time.Hour)
			if n, err := s.PruneProcessed(ctx, 48*time.Hour); err != nil || n != 50 {
				t.Fatalf("pruned %d, %v; want 50", n, err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &snapClock{now: snapT0}
			path := filepath.Join(t.TempDir(), "accessbot.db")
			s, err := Open(path, Options{Now: c.Now})
			if err != nil {
				t.Fatal(err)
			}
			tc.fill(t, s, c)
			lastSeq := s.processed.seq
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			s, err = Open(path, Options{Now: c.Now})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if !s.fromSnap {
				t.Fatal("Open after a clean Close built the index from the log, want it from the snapshot")
			}
			sameIndex(t, &s.processed, scannedIndex(t, s))
			if seq := s.processed.nextSeq(); seq != lastSeq+1 || seq <= logMaxSeq(t, s) {
				t.Fatalf("next sequence number %d, want %d (above the log's %d)", seq, lastSeq+1, logMaxSeq(t, s))
			}
		})
	}
}

// TestSnapshotStaleAfterWrite: a write to the file after Close (another tool, a migration at Open) makes the
// next Open build the index from the log, which then finds the record that write added.
func TestSnapshotStaleAfterWrite(t *testing.T) {
	ctx := context.Background()
	extra := func(tx *bbolt.Tx) error {
		return appendProcessed(tx, "extra", logSecond(snapT0), 1_000_000, []byte("x"))
	}
	for _, tc := range []struct {
		name  string
		after func(t *testing.T, path string) []Migration // writes after Close; the migrations of the next Open
	}{
		{"plain bbolt write", func(t *testing.T, path string) []Migration {
			db, err := bbolt.Open(path, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if err := db.Update(extra); err != nil {
				t.Fatal(err)
			}
			return nil
		}},
		{"migration at Open", func(*testing.T, string) []Migration {
			return append(Migrations(), Migration{Version: len(Migrations()) + 1, Name: "extra record", Apply: extra})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "accessbot.db")
			s, err := Open(path, Options{Now: func() time.Time { return snapT0 }})
			if err != nil {
				t.Fatal(err)
			}
			completeN(t, s, "act", 20, true)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			migs := tc.after(t, path)
			s, err = Open(path, Options{Migrations: migs})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if s.fromSnap {
				t.Fatal("Open used the snapshot of a file written since")
			}
			if resp, ok, err := s.Processed(ctx, "extra"); err != nil || !ok || string(resp) != "x" {
				t.Fatalf("the record written after Close: %q, %v, %v", resp, ok, err)
			}
			sameIndex(t, &s.processed, scannedIndex(t, s))
		})
	}
}

// TestSnapshotOfOlderSchema: a file closed at an older schema version, whose migration at the next Open moves
// records into the log, has its index built from the log.
func TestSnapshotOfOlderSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "accessbot.db")
	old, err := Open(path, Options{Migrations: Migrations()[:5]})
	if err != nil {
		t.Fatal(err)
	}
	putLegacyProcessed(t, old, "legacy", legacyProcessed{At: time.Now(), Resp: []byte("r")}, time.Now())
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, ok, err := s.Processed(context.Background(), "legacy"); s.fromSnap || err != nil || !ok {
		t.Fatalf("after the migration: snapshot used %v, legacy record found %v, %v", s.fromSnap, ok, err)
	}
}

// TestSnapshotMalformed: a snapshot that does not decode makes Open build the index from the log, with a
// warning, not fail.
func TestSnapshotMalformed(t *testing.T) {
	for _, tc := range []struct {
		name  string
		spoil func(v []byte) []byte
	}{
		{"truncated", func(v []byte) []byte { return v[:len(v)-3] }},
		{"header cut short", func(v []byte) []byte { return v[:snapshotHeader-1] }},
		{"bad format byte", func(v []byte) []byte { v[0] = snapshotFormat + 1; return v }},
		{"count too high", func(v []byte) []byte {
			binary.BigEndian.PutUint64(v[13:], binary.BigEndian.Uint64(v[13:])+1)
			return v
		}},
		{"unsorted", func(v []byte) []byte {
			a, b := v[snapshotHeader:snapshotHeader+8], v[snapshotHeader+8:snapshotHeader+16]
			tmp := slices.Clone(a)
			copy(a, b)
			copy(b, tmp)
			return v
		}},
		{"duplicate pair", func(v []byte) []byte {
			copy(v[snapshotHeader+8:snapshotHeader+16], v[snapshotHeader:snapshotHeader+8])
			return v
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "accessbot.db")
			s, err := Open(path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			completeN(t, s, "act", 20, true)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			spoilSnapshot(t, path, tc.spoil)
			var logs bytes.Buffer
			s, err = Open(path, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			if err != nil {
				t.Fatalf("Open with a malformed snapshot: %v", err)
			}
			defer s.Close()
			if s.fromSnap {
				t.Fatal("Open used a malformed snapshot")
			}
			if !strings.Contains(logs.String(), "level=WARN msg=\"ignoring the processed-index snapshot") {
				t.Fatalf("no warning about the snapshot; logs:\n%s", logs.String())
			}
			sameIndex(t, &s.processed, scannedIndex(t, s))
			if got := s.processed.len(); got != 20 {
				t.Fatalf("index holds %d records, want 20", got)
			}
		})
	}
}

// spoilSnapshot rewrites the snapshot of the file at path with spoil(a copy of it), stamped with the id of the
// transaction that writes it, so that only its decoding can reject it.
func spoilSnapshot(t *testing.T, path string, spoil func(v []byte) []byte) {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bbolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		v := bytes.Clone(meta.Get(keyProcessedSnapshot))
		if len(v) < snapshotHeader+16 {
			return fmt.Errorf("snapshot of %d bytes, want at least two pairs", len(v))
		}
		binary.BigEndian.PutUint64(v[1:], uint64(tx.ID()))
		return meta.Put(keyProcessedSnapshot, spoil(v))
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestSnapshotNotUsedAfterCrash: a copy of the file taken while a store that was opened after a clean Close
// is running (a crash) has its index built from the log, which holds every completion.
func TestSnapshotNotUsedAfterCrash(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "accessbot.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	completeN(t, s, "first", 20, true)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	completeN(t, s, "second", 20, true)
	completeN(t, s, "turn", 20, false)
	crashed := filepath.Join(dir, "crashed.db")
	for _, suffix := range []string{"", walSuffix} {
		raw, err := os.ReadFile(path + suffix)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(crashed+suffix, raw, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	c, err := Open(crashed, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.fromSnap {
		t.Fatal("Open after a crash used a snapshot")
	}
	for _, key := range []string{"first-19", "second-19", "turn-19"} {
		if _, ok, err := c.Processed(ctx, key); err != nil || !ok {
			t.Fatalf("%s after the crash: %v, %v", key, ok, err)
		}
	}
}

// TestCloseOnFullDiskMarksWithoutSnapshot: when the snapshot does not fit on a full disk, Close still marks the
// file closed cleanly (the next Open does not read it whole) and the next Open builds the index from the log.
func TestCloseOnFullDiskMarksWithoutSnapshot(t *testing.T) {
	dir := smallTmpfs(t)
	path := filepath.Join(dir, "accessbot.db")
	s, err := Open(path, Options{WALSize: -1})
	if err != nil {
		t.Fatal(err)
	}
	completeN(t, s, "act", 2000, true) // a snapshot of 16 KB, four pages
	filler := filepath.Join(dir, "filler")
	fillUp(t, s, filler)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	s, err = Open(path, Options{WALSize: -1, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.fromSnap || strings.Contains(logs.String(), "not closed cleanly") {
		t.Fatalf("after Close on a full disk: snapshot used %v; logs:\n%s", s.fromSnap, logs.String())
	}
	if got := s.processed.len(); got != 2000 {
		t.Fatalf("index holds %d records, want 2000", got)
	}
}

// TestCloseWaitsForInFlightWriters: a completion written but not yet indexed when Close starts is in Close's
// snapshot, and a prune committed but not yet applied to the index is not (Close waits for both), so the next
// Open, from the snapshot, still knows what was processed and forgets what was pruned.
func TestCloseWaitsForInFlightWriters(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		opts  Options
		fill  func(t *testing.T, s *Store, c *snapClock)
		write func(s *Store) error // blocked by afterWrite between its commit and its index update
		key   string
		want  bool // whether key is processed after the restart
	}{
		{"completion through the write-ahead log", Options{}, nil,
			func(s *Store) error { return s.CompleteActivity(ctx, "in-flight", "tok", []byte("answer")) }, "in-flight", true},
		{"completion in the state file", Options{WALSize: -1}, nil,
			func(s *Store) error { return s.CompleteActivity(ctx, "in-flight", "tok", []byte("answer")) }, "in-flight", true},
		{"prune", Options{}, func(t *testing.T, s *Store, c *snapClock) {
			completeN(t, s, "old", 5, true)
			c.now = snapT0.Add(50 * time.Hour)
		}, func(s *Store) error { _, err := s.PruneProcessed(ctx, 48*time.Hour); return err }, "old-0", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &snapClock{now: snapT0}
			tc.opts.Now = c.Now
			path := filepath.Join(t.TempDir(), "accessbot.db")
			s, err := Open(path, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if tc.fill != nil {
				tc.fill(t, s, c)
			}
			written, release := make(chan struct{}), make(chan struct{})
			s.afterWrite = func() { close(written); <-release }
			done := make(chan error, 1)
			go func() { done <- tc.write(s) }()
			<-written
			closed := make(chan error, 1)
			go func() { closed <- s.Close() }()
			// Close must not return while the write is committed but not indexed: give it time to (wrongly) do so.
			select {
			case err := <-closed:
				t.Fatalf("Close returned (%v) while a write was committed but not indexed", err)
			case <-time.After(300 * time.Millisecond):
			}
			close(release)
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if err := <-closed; err != nil {
				t.Fatal(err)
			}
			r, err := Open(path, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if !r.fromSnap {
				t.Fatal("Open after a clean Close built the index from the log")
			}
			if got := r.processed.has(keyHash(tc.key)); got != tc.want {
				t.Errorf("after the restart the index has %s: %v, want %v", tc.key, got, tc.want)
			}
			if _, ok, err := r.Processed(ctx, tc.key); err != nil || ok != tc.want {
				t.Errorf("after the restart %s processed: %v (%v), want %v", tc.key, ok, err, tc.want)
			}
		})
	}
}
