package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/accessbot/accessbot/internal/testkit"
)

// filledFile writes a store with enough records to span many pages and returns its path. Unless clean, it is
// left as a crash leaves it: without the clean-close mark.
func filledFile(t *testing.T, clean bool) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "accessbot.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 80 {
		if err := s.Put(context.Background(), "things", fmt.Sprintf("k%04d", i), strings.Repeat("x", 1500)); err != nil {
			t.Fatal(err)
		}
	}
	closeStore := s.Close
	if !clean {
		closeStore = s.db.Close // the file as a crash leaves it: not marked
	}
	if err := closeStore(); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestOpenDamagedFile: a truncated or scribbled state file gives one line naming the file and what to do,
// no panic, and the file is not written. A file closed cleanly is checked by its header, size and meta bucket
// only (scribbled data pages in it are not looked for at start); one left by a crash is read whole.
func TestOpenDamagedFile(t *testing.T) {
	for _, tc := range []struct {
		name   string
		clean  bool
		damage func([]byte) []byte
	}{
		{"truncated to half", true, func(b []byte) []byte { return b[:len(b)/2] }},
		{"truncated to half after a crash", false, func(b []byte) []byte { return b[:len(b)/2] }},
		{"truncated to 100 bytes", true, func(b []byte) []byte { return b[:100] }},
		{"emptied", true, func([]byte) []byte { return nil }},
		{"header zeroed", true, func(b []byte) []byte { clear(b[:8192]); return b }},
		{"header zeroed after a crash", false, func(b []byte) []byte { clear(b[:8192]); return b }},
		{"pages scribbled after a crash", false, func(b []byte) []byte {
			for i := 8192; i < len(b) && i < 3*8192; i++ {
				b[i] ^= 0x5a
			}
			return b
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filledFile(t, tc.clean)
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, tc.damage(raw), 0o600); err != nil {
				t.Fatal(err)
			}
			before := fileHash(t, path)
			s, err := Open(path, Options{Timeout: time.Second})
			if err == nil {
				_ = s.Close()
				t.Fatal("Open accepted a damaged file")
			}
			msg := err.Error()
			if !errors.Is(err, ErrDamaged) || strings.Contains(msg, "\n") || !strings.Contains(msg, path) || !strings.Contains(msg, "restore") {
				t.Fatalf("error = %q; want one line matching ErrDamaged, naming %s and saying what to do", msg, path)
			}
			if after := fileHash(t, path); after != before {
				t.Fatal("Open wrote to the damaged file")
			}
		})
	}
}

// TestOpenReadsWholeFileOnlyAfterCrash: a restart after a clean Close does not read the file whole; one after
// a crash (no clean-close mark) does, and says so; the mark is gone while the file is open.
func TestOpenReadsWholeFileOnlyAfterCrash(t *testing.T) {
	for _, tc := range []struct {
		name      string
		clean     bool
		wantWhole bool
	}{
		{"after a clean close", true, false},
		{"after a crash", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filledFile(t, tc.clean)
			var logs bytes.Buffer
			s, err := Open(path, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = s.Close() }()
			if whole := strings.Contains(logs.String(), "read it whole"); whole != tc.wantWhole {
				t.Fatalf("read whole = %v, want %v; log:\n%s", whole, tc.wantWhole, logs.String())
			}
			var marked bool
			if err := s.db.View(func(tx *bbolt.Tx) error { marked = tx.Bucket(bucketMeta).Get(keyCleanClose) != nil; return nil }); err != nil {
				t.Fatal(err)
			}
			if marked {
				t.Fatal("the clean-close mark is still set while the file is open: a crash now would skip the check")
			}
			var got string
			if err := s.Get(context.Background(), "things", "k0079", &got); err != nil || len(got) != 1500 {
				t.Fatalf("last record after reopen: %d bytes, %v", len(got), err)
			}
		})
	}
}

func fileHash(t *testing.T, path string) [32]byte {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(raw)
}

// TestReusedFileKeepsPrivateMode: a state file left world-readable is narrowed to 0600 when opened again.
func TestReusedFileKeepsPrivateMode(t *testing.T) {
	path := filledFile(t, true)
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode after reopen = %o, want 600", fi.Mode().Perm())
	}
}

// TestFullDisk runs the store on a small tmpfs that fills up: Ping says not ready while writes fail, an
// activity answered while its completion could not be written is never answered again, and once space
// returns the background retry writes the completion (no Ping needed) and Ping is ready. It needs to mount a tmpfs (root); otherwise it skips.
func TestFullDisk(t *testing.T) {
	dir := smallTmpfs(t)
	ctx := context.Background()
	path := filepath.Join(dir, "accessbot.db")
	s, err := Open(path, Options{PendingRetryMax: 20 * time.Millisecond, WALSize: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	claim, err := s.ClaimActivity(ctx, "act", time.Nanosecond)
	if err != nil || !claim.Won {
		t.Fatalf("claim = %+v, %v", claim, err)
	}
	filler := filepath.Join(dir, "filler")
	fillUp(t, s, filler)
	if err := s.Ping(ctx); err == nil {
		t.Fatal("Ping ready while the disk is full")
	}
	resp := []byte(`{"status":200,"body":"` + strings.Repeat("a", 100<<10) + `"}`)
	if err := s.CompleteActivity(ctx, "act", claim.Token, resp); err == nil {
		t.Log("completion fitted on the full disk; the claim below must still replay it")
	}
	for range 2 { // a redelivery long after holdFor: replayed, never processed again
		c, err := s.ClaimActivity(ctx, "act", time.Nanosecond)
		if err != nil || c.Won || !c.Done || !bytes.Equal(c.Response, resp) {
			t.Fatalf("claim after an answered activity = won %v done %v (%d bytes), %v; want a replay", c.Won, c.Done, len(c.Response), err)
		}
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	// The background retry writes it (no Ping needed), then Ping is ready.
	testkit.Eventually(t, "the background retry wrote the completion", func() bool {
		got, ok, err := s.Processed(ctx, "act")
		return err == nil && ok && bytes.Equal(got, resp)
	})
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping after space returned: %v", err)
	}
}

// smallTmpfs mounts a 512 KiB tmpfs on a new temporary directory, unmounted at the test's end, and returns the
// directory; it skips the test when it cannot mount (it needs root).
func smallTmpfs(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs to fill (needs root): %v %s", err, bytes.TrimSpace(out))
	}
	t.Cleanup(func() { _ = exec.Command("umount", dir).Run() })
	return dir
}

// fillDisk writes path until the file system is full.
func fillDisk(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	chunk := make([]byte, 4096)
	for range 1 << 16 {
		if _, err := f.Write(chunk); err != nil {
			return
		}
	}
	t.Fatal("the tmpfs never filled up")
}

// fillUp fills the file system of filler, then writes to s until a write fails.
func fillUp(t *testing.T, s *Store, filler string) {
	t.Helper()
	fillDisk(t, filler)
	for i := range 1000 {
		if err := s.Put(context.Background(), "things", fmt.Sprintf("k%04d", i), strings.Repeat("x", 8<<10)); err != nil {
			return
		}
	}
	t.Fatal("no write failed on a full disk")
}

// TestSmallCommitKeepsNotReady: after a failed commit, a later small commit that succeeds (on a full disk a
// lease renewal can still reuse a freed page) does not make the store ready: only the 64 KiB probe, which Ping
// then runs, does.
func TestSmallCommitKeepsNotReady(t *testing.T) {
	observe, probes := countWrites("probe writes")
	s, _ := openTest(t, Options{Observe: observe})
	ctx := context.Background()
	s.health.noteFailure(errors.New("no space left on device")) // as commitGroup does when a commit fails
	if err := s.Put(ctx, "things", "k", "small"); err != nil {
		t.Fatal(err)
	}
	if _, lastErr := s.health.failed(); lastErr == nil {
		t.Fatal("a small successful commit cleared the failure")
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping with room for the probe: %v", err)
	}
	if n := probes.Load(); n != 2 {
		t.Fatalf("Ping ran %d probe writes, want 2 (write and delete)", n)
	}
	if _, lastErr := s.health.failed(); lastErr != nil {
		t.Fatalf("failure not cleared by a successful probe: %v", lastErr)
	}
}
