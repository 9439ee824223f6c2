package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/accessbot/accessbot/internal/store/wal"
	"github.com/accessbot/accessbot/internal/testkit"
)

// TestWALFallsBackToTheStateFile: a completion the log cannot take (its reference changed; too large; the log
// failed) is a commit of the state file, with its dialogs and reference.
func TestWALFallsBackToTheStateFile(t *testing.T) {
	ctx := context.Background()
	big := `"` + strings.Repeat("a", DefaultWALSize/4) + `"`
	cases := []struct {
		name  string
		setup func(s *Store)
		resp  string
		ref   bool
	}{
		{name: "changed reference", resp: `{}`, ref: true},
		{name: "too large", resp: big},
		{name: "log failed", resp: `{}`, setup: func(s *Store) { s.wal.failed.Store(true) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := openWALTest(t, 0)
			if tc.setup != nil {
				tc.setup(s)
			}
			var w TurnWrites
			if tc.ref {
				ref := validRef()
				w.Ref = &ref
			}
			w.Dialogs = []DialogWrite{dialogWrite("form", 3)}
			before := pageWrites(s)
			completeTurn(t, s, "act", tc.resp, w)
			if pageWrites(s) == before || !inFile(t, s, "act") || len(s.wal.pending()) != 0 {
				t.Fatalf("state-file pages written = %d, in the file %v, logged %d; want the state file", pageWrites(s)-before, inFile(t, s, "act"), len(s.wal.pending()))
			}
			if n := dialogN(t, s, "form"); n != 3 {
				t.Fatalf("dialog = %d, want 3", n)
			}
			if tc.ref {
				if _, err := s.Conversation(ctx, validRef().TenantID, validRef().AADObjectID); err != nil {
					t.Fatalf("the reference was not written: %v", err)
				}
			}
		})
	}
}

// TestWALOpenErrors: a log that cannot be read stops Open with a clear error (a missing one that cannot be
// created is only a warning: the store runs without it).
func TestWALOpenErrors(t *testing.T) {
	s, path := openWALTest(t, 0)
	completeTurn(t, s, "act", `{}`, TurnWrites{})
	crash(t, s)
	if err := os.WriteFile(path+walSuffix, []byte("not a log"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(path, Options{})
	if err == nil || !errorsContain(err, "write-ahead log", path+walSuffix) {
		t.Fatalf("Open with a scribbled log = %v; want an error naming the log", err)
	}
}

func errorsContain(err error, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			return false
		}
	}
	return true
}

// TestWALOnAFullDisk: with the disk full, completions keep going to the log (its space is allocated), and
// reach the state file once there is room. It needs to mount a tmpfs (root); otherwise it skips.
func TestWALOnAFullDisk(t *testing.T) {
	dir := smallTmpfs(t)
	path := filepath.Join(dir, "accessbot.db")
	s, err := Open(path, Options{WALSize: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	filler := filepath.Join(dir, "filler")
	fillUp(t, s, filler)
	for i := range 10 {
		completeTurn(t, s, fmt.Sprintf("act-%d", i), `{"status":200}`, TurnWrites{})
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "the completions reached the state file", func() bool {
		return len(s.wal.pending()) == 0
	})
	for i := range 10 {
		if key := fmt.Sprintf("act-%d", i); !inFile(t, s, key) {
			t.Fatalf("%s is not in the state file", key)
		}
	}
}

// TestWALCheckpointFailures: a failing checkpoint is logged once, backs off (doubling, up to walMaxBackoff)
// and keeps the completions readable; the first success is logged and copies them.
func TestWALCheckpointFailures(t *testing.T) {
	logs := &testkit.LogBuffer{}
	s, _ := openTest(t, Options{Logger: slog.New(slog.NewTextHandler(logs, nil))})
	s.wal.delay = time.Millisecond
	var failing atomic.Bool
	failing.Store(true)
	s.wal.checkpoint = func(ctx context.Context) error {
		if failing.Load() {
			return errors.New("no space left on device")
		}
		return s.checkpointWAL(ctx)
	}
	completeTurn(t, s, "act", `{"status":200}`, TurnWrites{})
	testkit.Eventually(t, "the checkpoints backed off to 16 ms", func() bool {
		s.wal.mu.Lock()
		defer s.wal.mu.Unlock()
		return s.wal.backoff >= 16*time.Millisecond
	})
	if n := strings.Count(logs.String(), "checkpoint failed"); n != 1 {
		t.Fatalf("the failing checkpoint was logged %d times, want once:\n%s", n, logs)
	}
	if resp, ok, err := s.Processed(context.Background(), "act"); err != nil || !ok || string(resp) != `{"status":200}` {
		t.Fatalf("processed while checkpoints fail = %q, %v, %v", resp, ok, err)
	}
	failing.Store(false)
	// The overlay empties when the checkpoint commits; the recovery is logged just after.
	testkit.Eventually(t, "a checkpoint succeeded and said so", func() bool {
		return len(s.wal.pending()) == 0 && strings.Contains(logs.String(), "checkpoint succeeded again")
	})
	if !inFile(t, s, "act") {
		t.Fatalf("the completion is not in the state file; logs:\n%s", logs)
	}
}

// TestWALFailedWriteIsNeverReplayed: when the log's write fails, the completion goes to the state file, which
// records the failed group's numbers as applied in the same commit: a later Open never replays that group
// over what the state file holds (whether or not its bytes reached the disk).
func TestWALFailedWriteIsNeverReplayed(t *testing.T) {
	s, path := openWALTest(t, 0)
	for i := range 3 {
		completeTurn(t, s, fmt.Sprintf("act-%d", i), `{}`, TurnWrites{})
	}
	if err := s.wal.log.Close(); err != nil { // the next write fails
		t.Fatal(err)
	}
	completeTurn(t, s, "act-3", `{"by":"state file"}`, TurnWrites{Dialogs: []DialogWrite{dialogWrite("form", 3)}})
	if !s.wal.failed.Load() || !inFile(t, s, "act-3") {
		t.Fatalf("failed %v, in the file %v; want the completion in the state file after the log failed", s.wal.failed.Load(), inFile(t, s, "act-3"))
	}
	if applied, err := s.walApplied(); err != nil || applied != 4 {
		t.Fatalf("applied = %d, %v; want 4 (records 1-3 copied, 4 failed)", applied, err)
	}
	completeTurn(t, s, "act-4", `{}`, TurnWrites{})
	if !inFile(t, s, "act-4") {
		t.Fatal("a completion after the failure did not go to the state file")
	}
	if err := s.PutDialog(context.Background(), "form", map[string]int{"n": 9}); err != nil {
		t.Fatal(err)
	}
	s.wal.closed.Store(true)
	s.health.Stop()
	if err := s.db.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("reopen after a failed log: %v", err)
	}
	defer s2.Close()
	if n := dialogN(t, s2, "form"); n != 9 {
		t.Fatalf("form = %d after reopening, want 9 (nothing replayed over it)", n)
	}
	for i := range 5 {
		if key := fmt.Sprintf("act-%d", i); !inFile(t, s2, key) {
			t.Fatalf("%s lost", key)
		}
	}
}

// TestWALReplayedWithTheLogTurnedOff: a store opened with the log turned off (WALSize < 0) after a crash still
// replays the log, so the acknowledged completions in it are answered, and a later start with the log does not
// replay them over what was written meanwhile.
func TestWALReplayedWithTheLogTurnedOff(t *testing.T) {
	s, path := openWALTest(t, 0)
	completeTurn(t, s, "act", `{"status":200}`, TurnWrites{Dialogs: []DialogWrite{dialogWrite("form", 1)}})
	crash(t, s)

	off, err := Open(path, Options{WALSize: -1})
	if err != nil {
		t.Fatal(err)
	}
	if off.wal != nil {
		t.Fatal("the log is used although it is turned off")
	}
	ctx := context.Background()
	if resp, ok, err := off.Processed(ctx, "act"); err != nil || !ok || string(resp) != `{"status":200}` {
		t.Fatalf("processed with the log turned off = %q, %v, %v; want the logged completion", resp, ok, err)
	}
	if err := off.PutDialog(ctx, "form", map[string]int{"n": 2}); err != nil {
		t.Fatal(err)
	}
	if err := off.Close(); err != nil {
		t.Fatal(err)
	}
	on, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer on.Close()
	if n := dialogN(t, on, "form"); n != 2 {
		t.Fatalf("form = %d with the log on again, want 2 (the logged 1 replayed over it)", n)
	}
}

// TestWALLargeAuditEntry: an audit entry too large for the log is written to the state file, numbered in turn
// with the logged ones (before, it failed on every attempt: a record that never fits the log).
func TestWALLargeAuditEntry(t *testing.T) {
	s, path := openWALTest(t, wal.MinSize)
	ctx := context.Background()
	for i, size := range []int{10, 2 * wal.MinSize, 10, wal.MinSize / 4, 10} {
		seq, err := s.AppendAudit(ctx, AuditEntry{Action: "test.audit", Mode: ModeSystem,
			Details: map[string]string{"i": fmt.Sprint(i + 1), "pad": strings.Repeat("x", size)}})
		if err != nil || seq != uint64(i+1) {
			t.Fatalf("append %d (%d bytes) = %d, %v; want number %d", i+1, size, seq, err, i+1)
		}
	}
	crash(t, s)
	s2, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	entries, err := s2.Audit(ctx, AuditQuery{Limit: MaxAuditLimit})
	if err != nil || len(entries) != 5 {
		t.Fatalf("audit = %d entries, %v; want 5", len(entries), err)
	}
	for _, e := range entries {
		if e.Details["i"] != fmt.Sprint(e.Seq) {
			t.Fatalf("entry %d holds i=%s", e.Seq, e.Details["i"])
		}
	}
}

// TestWALAuditReadWhileCheckpointsFail: when the checkpoint before a query fails (a full disk), the entries
// still only in the log are read from memory, newest first and filtered like the rest.
func TestWALAuditReadWhileCheckpointsFail(t *testing.T) {
	s, _ := openWALTest(t, 0)
	ctx := context.Background()
	for i := range 4 {
		if i == 2 { // entries 1-2 reach the state file, 3-4 stay in the log
			if err := s.checkpointWAL(ctx); err != nil {
				t.Fatal(err)
			}
			s.wal.checkpoint = func(context.Context) error { return errors.New("no space left on device") }
		}
		if _, err := s.AppendAudit(ctx, AuditEntry{Action: "test.audit", Mode: ModeSystem, SubjectID: fmt.Sprint(i % 2)}); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		q    AuditQuery
		want []uint64
	}{
		{AuditQuery{Limit: 10}, []uint64{4, 3, 2, 1}},
		{AuditQuery{Limit: 3}, []uint64{4, 3, 2}},
		{AuditQuery{Limit: 10, SubjectID: "1"}, []uint64{4, 2}},
	}
	for _, tc := range tests {
		if seqs := auditSeqs(t, s, tc.q); fmt.Sprint(seqs) != fmt.Sprint(tc.want) {
			t.Fatalf("Audit(%+v) = %v, want %v", tc.q, seqs, tc.want)
		}
	}
}
