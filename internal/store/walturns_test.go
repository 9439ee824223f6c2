package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/accessbot/accessbot/internal/store/wal"
	"github.com/accessbot/accessbot/internal/testkit"
)

// openWALTest opens a store whose checkpoints wait for the test (no timer fires during it), with a log of
// walSize bytes (0: the default).
func openWALTest(t *testing.T, walSize int64) (*Store, string) {
	t.Helper()
	s, path := openTest(t, Options{WALSize: walSize})
	if s.wal == nil {
		t.Fatal("the store has no write-ahead log")
	}
	s.wal.delay = time.Hour
	return s, path
}

// crash ends s as a killed process would: nothing is checkpointed and the file is not marked closed cleanly.
func crash(t *testing.T, s *Store) {
	t.Helper()
	s.wal.closed.Store(true)
	s.wal.mu.Lock()
	if s.wal.timer != nil {
		s.wal.timer.Stop()
	}
	s.wal.mu.Unlock()
	s.health.Stop()
	if err := s.wal.log.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.db.Close(); err != nil {
		t.Fatal(err)
	}
}

// pageWrites is how many pages commits of the state file have written so far.
func pageWrites(s *Store) int64 {
	st := s.db.Stats()
	return st.TxStats.GetWrite()
}

// completeTurn claims key and completes it with resp and w.
func completeTurn(t *testing.T, s *Store, key, resp string, w TurnWrites) {
	t.Helper()
	ctx := context.Background()
	c, err := s.ClaimActivity(ctx, key, time.Minute)
	if err != nil || !c.Won {
		t.Fatalf("claim %s = %+v, %v", key, c, err)
	}
	if err := s.CompleteTurn(ctx, key, c.Token, []byte(resp), w); err != nil {
		t.Fatalf("complete %s: %v", key, err)
	}
}

// dialogWrite is a TurnWrites dialog of one number.
func dialogWrite(key string, n int) DialogWrite {
	return DialogWrite{Key: key, Value: json.RawMessage(fmt.Sprintf(`{"n":%d}`, n))}
}

// dialogN reads the number of the dialog under key (-1 when there is none).
func dialogN(t *testing.T, s *Store, key string) int {
	t.Helper()
	var d struct{ N int }
	err := s.Dialog(context.Background(), key, &d)
	if errors.Is(err, ErrNotFound) {
		return -1
	}
	if err != nil {
		t.Fatalf("dialog %s: %v", key, err)
	}
	return d.N
}

// inFile reports whether the state file itself (not the log) holds the completion of key.
func inFile(t *testing.T, s *Store, key string) bool {
	t.Helper()
	var found bool
	if err := s.db.View(func(tx *bbolt.Tx) error {
		lk, _, err := s.findProcessed(tx, key, keyHash(key))
		found = lk != nil
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return found
}

// TestWALTurnsAreReadBeforeTheirCheckpoint: a completion in the log (and its dialog) is answered from memory
// until the checkpoint, then from the state file; the turn wrote no transaction of the state file.
func TestWALTurnsAreReadBeforeTheirCheckpoint(t *testing.T) {
	s, _ := openWALTest(t, 0)
	ctx := context.Background()
	ref := validRef()
	if err := s.PutConversation(ctx, ref); err != nil {
		t.Fatal(err)
	}
	before := pageWrites(s)
	completeTurn(t, s, "act-1", `{"status":200}`, TurnWrites{Ref: &ref, Dialogs: []DialogWrite{dialogWrite("form-1", 7)}})
	if n := pageWrites(s) - before; n != 0 {
		t.Fatalf("the turn wrote %d pages of the state file, want 0 (it goes to the log)", n)
	}
	for _, stage := range []string{"before the checkpoint", "after the checkpoint"} {
		c, err := s.ClaimActivity(ctx, "act-1", time.Minute)
		if err != nil || c.Won || !c.Done || string(c.Response) != `{"status":200}` {
			t.Fatalf("%s: claim again = %+v, %v; want the stored answer", stage, c, err)
		}
		if n := dialogN(t, s, "form-1"); n != 7 {
			t.Fatalf("%s: dialog = %d, want 7", stage, n)
		}
		if stage == "before the checkpoint" {
			if inFile(t, s, "act-1") {
				t.Fatal("the completion is in the state file before any checkpoint")
			}
			if err := s.checkpointWAL(ctx); err != nil {
				t.Fatal(err)
			}
			if !inFile(t, s, "act-1") || len(s.wal.pending()) != 0 {
				t.Fatal("the checkpoint did not move the completion into the state file")
			}
		}
	}
}

// TestWALReplaysAfterACrash: completions (with dialogs) acknowledged through the log survive a crash before
// their checkpoint, are replayed by Open into the state file, and the log then starts over.
func TestWALReplaysAfterACrash(t *testing.T) {
	s, path := openWALTest(t, 0)
	for i := range 20 {
		completeTurn(t, s, fmt.Sprintf("act-%d", i), fmt.Sprintf(`{"i":%d}`, i),
			TurnWrites{Dialogs: []DialogWrite{dialogWrite(fmt.Sprintf("form-%d", i%5), i)}})
	}
	crash(t, s)

	s2, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s2.Close()
	for i := range 20 {
		key := fmt.Sprintf("act-%d", i)
		if !inFile(t, s2, key) {
			t.Fatalf("%s was not replayed into the state file", key)
		}
		resp, ok, err := s2.Processed(context.Background(), key)
		if err != nil || !ok || string(resp) != fmt.Sprintf(`{"i":%d}`, i) {
			t.Fatalf("%s after replay = %q, %v, %v", key, resp, ok, err)
		}
	}
	for i := range 5 { // the last of the turns writing each form wins
		if n := dialogN(t, s2, fmt.Sprintf("form-%d", i)); n != 15+i {
			t.Fatalf("form-%d = %d, want %d", i, n, 15+i)
		}
	}
	if used := s2.wal.log.Used(); used != 0 {
		t.Fatalf("the log holds %d bytes after its replay was checkpointed; want it started over", used)
	}
	// A new turn gets a sequence number after the replayed ones, and both survive another restart.
	completeTurn(t, s2, "act-new", `{}`, TurnWrites{})
	applied, err := s2.walApplied()
	if err != nil || applied != 20 {
		t.Fatalf("applied = %d, %v; want 20 (the replayed records)", applied, err)
	}
}

// TestWALKeepsTheOrderOfWrites: a dialog written through the state file after a logged one wins, and a
// deleted one stays deleted, across the checkpoint and a crash.
func TestWALKeepsTheOrderOfWrites(t *testing.T) {
	s, path := openWALTest(t, 0)
	ctx := context.Background()
	completeTurn(t, s, "act-1", `{}`, TurnWrites{Dialogs: []DialogWrite{dialogWrite("newer", 1), dialogWrite("gone", 1)}})
	if err := s.PutDialog(ctx, "newer", map[string]int{"n": 2}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteDialog(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	check := func(s *Store, when string) {
		if n := dialogN(t, s, "newer"); n != 2 {
			t.Fatalf("%s: newer = %d, want 2 (written after the logged 1)", when, n)
		}
		if n := dialogN(t, s, "gone"); n != -1 {
			t.Fatalf("%s: gone = %d, want deleted", when, n)
		}
	}
	check(s, "before the crash")
	crash(t, s)
	s2, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	check(s2, "after the crash")
}

// TestWALFullIsCheckpointedAndReused: a small log fills up; the group that does not fit checkpoints it and
// starts it over, and nothing is lost or written twice.
func TestWALFullIsCheckpointedAndReused(t *testing.T) {
	s, path := openWALTest(t, wal.MinSize)
	observe, checkpoints := countWrites("checkpoint write-ahead log")
	s.observe = observe
	const turns = 60 // about 20 records fit in the 4 KiB of a minimal log
	for i := range turns {
		completeTurn(t, s, fmt.Sprintf("act-%03d", i), `{"status":200}`, TurnWrites{})
	}
	if checkpoints.Load() == 0 {
		t.Fatal("the log never filled up")
	}
	crash(t, s)
	s2, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	d, err := s2.Dump(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Processed) != turns {
		t.Fatalf("%d completions after the crash, want %d", len(d.Processed), turns)
	}
}

// TestWALTimerCheckpoints: without other writes, the timer copies the log into the state file.
func TestWALTimerCheckpoints(t *testing.T) {
	s, _ := openTest(t, Options{})
	completeTurn(t, s, "act", `{}`, TurnWrites{})
	testkit.Eventually(t, "the timer checkpointed the log", func() bool {
		return len(s.wal.pending()) == 0 && inFile(t, s, "act")
	})
}

// TestWALFirstCompletionWins: when a claim was taken over, both holders complete the activity at once; the
// first completion is the one stored (in the log or the file), once, and the second keeps its dialogs out.
func TestWALFirstCompletionWins(t *testing.T) {
	s, _ := openWALTest(t, 0)
	ctx := context.Background()
	first, err := s.ClaimActivity(ctx, "act", time.Nanosecond)
	if err != nil || !first.Won {
		t.Fatalf("claim = %+v, %v", first, err)
	}
	second, err := s.ClaimActivity(ctx, "act", time.Nanosecond) // takes the aged claim over
	if err != nil || !second.Won {
		t.Fatalf("takeover = %+v, %v", second, err)
	}
	errs := make(chan error, 2)
	for i, c := range []Claim{first, second} {
		go func() {
			errs <- s.CompleteTurn(ctx, "act", c.Token, []byte(fmt.Sprintf(`{"by":%d}`, i)),
				TurnWrites{Dialogs: []DialogWrite{dialogWrite("form", i)}})
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	resp, ok, err := s.Processed(ctx, "act")
	if err != nil || !ok {
		t.Fatalf("processed = %v, %v", ok, err)
	}
	winner := dialogN(t, s, "form")
	if string(resp) != fmt.Sprintf(`{"by":%d}`, winner) {
		t.Fatalf("stored answer %s, but the dialog of turn %d: the second completion overwrote part of the first", resp, winner)
	}
	d, err := s.Dump(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Processed) != 1 {
		t.Fatalf("%d records of the activity, want 1", len(d.Processed))
	}
}

// TestWALAuditEntries: audit entries go to the log, numbered in log order; a query sees them before their
// checkpoint; numbers continue after a crash and after the log fails (the state file numbers then), with no
// number given twice.
func TestWALAuditEntries(t *testing.T) {
	s, path := openWALTest(t, 0)
	ctx := context.Background()
	appendN := func(s *Store, from, n int) {
		t.Helper()
		for i := from; i < from+n; i++ {
			seq, err := s.AppendAudit(ctx, AuditEntry{Action: "test.audit", Mode: ModeSystem, Details: map[string]string{"i": fmt.Sprint(i)}})
			if err != nil || seq != uint64(i) {
				t.Fatalf("append %d = %d, %v; want number %d", i, seq, err, i)
			}
		}
	}
	check := func(s *Store, n int) {
		t.Helper()
		entries, err := s.Audit(ctx, AuditQuery{Limit: MaxAuditLimit})
		if err != nil || len(entries) != n {
			t.Fatalf("audit = %d entries, %v; want %d", len(entries), err, n)
		}
		for _, e := range entries {
			if e.Details["i"] != fmt.Sprint(e.Seq) {
				t.Fatalf("entry %d holds i=%s", e.Seq, e.Details["i"])
			}
		}
	}
	before := pageWrites(s)
	appendN(s, 1, 3)
	if pageWrites(s) != before {
		t.Fatal("audit entries were committed to the state file, not logged")
	}
	check(s, 3) // checkpoints first
	appendN(s, 4, 2)
	crash(t, s)

	s2, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	check(s2, 5)
	appendN(s2, 6, 2)
	if err := s2.wal.log.Close(); err != nil { // the log fails: the state file numbers from here on
		t.Fatal(err)
	}
	appendN(s2, 8, 2)
	if !s2.wal.failed.Load() {
		t.Fatal("the log did not fail")
	}
	check(s2, 9)
}
