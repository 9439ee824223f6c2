package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"runtime/debug"
	"sync"
	"time"

	"go.etcd.io/bbolt"
)

// ErrDamaged is returned (wrapped) by Open when the state file cannot be read as a bbolt database
// (truncated, overwritten); the file is left unchanged.
var ErrDamaged = errors.New("state file is damaged")

// probeSize is how much Ping writes (and deletes) after a failed write to decide that space has returned.
const probeSize = 64 << 10

var keyProbe = []byte("write_probe")

// keyCleanClose (meta bucket) is written by Close as its last transaction and deleted by Open's first one:
// when Open finds it, the previous process closed the file cleanly and nothing has written to it since.
var keyCleanClose = []byte("closed_cleanly_at")

// verifyFile checks an existing state file read-only before it is opened for writing, so a truncated or
// scribbled file becomes one error instead of a panic deep inside bbolt, and nothing is written to it. Its
// header, the recorded size against the file's and the meta bucket are read always; every page (bucket, key,
// value) only when the file was not closed cleanly (a crash, a kill, a full disk at shutdown), so a restart
// after a clean shutdown reads a few pages instead of the whole file. A file that does not exist yet is fine.
func verifyFile(path string, timeout time.Duration, log *slog.Logger) error {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("stat: %w", err)
	}
	if fi.Size() == 0 {
		return damaged(errors.New("it is empty, 0 bytes"))
	}
	start := time.Now()
	walked, err := walkFile(path, fi.Size(), timeout)
	if err != nil {
		if errors.Is(err, bbolt.ErrTimeout) {
			return fmt.Errorf("file is locked by another process (waited %s): %w", timeout, err)
		}
		return damaged(err)
	}
	if walked {
		log.Info("state file was not closed cleanly: read it whole", "bytes", fi.Size(), "took", time.Since(start))
	}
	return nil
}

// damaged is the one-line error for a state file that cannot be read; Open prefixes it with the path.
func damaged(cause error) error {
	return fmt.Errorf("%w (%v); it was left unchanged: stop AccessBot, restore the file from a backup "+
		"(or move it aside to start with empty state) and start again", ErrDamaged, cause)
}

// walkFile opens path read-only and reads its header and meta bucket, and every bucket, key and value unless
// the file was closed cleanly (walked reports that it did), turning bbolt's panics on corrupt pages (and
// faults on pages past the end of a truncated file) into an error.
func walkFile(path string, size int64, timeout time.Duration) (walked bool, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("unreadable: %v", r)
		}
	}()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: timeout})
	if err != nil {
		if errors.Is(err, bbolt.ErrTimeout) {
			return false, err
		}
		return false, fmt.Errorf("unreadable: %w", err)
	}
	defer func() { _ = db.Close() }()
	err = db.View(func(tx *bbolt.Tx) error {
		if tx.Size() > size {
			return fmt.Errorf("truncated: the file is %d bytes, its header says %d", size, tx.Size())
		}
		if meta := tx.Bucket(bucketMeta); meta != nil && meta.Get(keyCleanClose) != nil {
			return nil
		}
		walked = true
		return tx.ForEach(func(_ []byte, b *bbolt.Bucket) error { return walkBucket(b) })
	})
	return walked, err
}

func walkBucket(b *bbolt.Bucket) error {
	return b.ForEach(func(k, v []byte) error {
		if v == nil {
			if child := b.Bucket(k); child != nil {
				return walkBucket(child)
			}
		}
		return nil
	})
}

// ensurePrivate narrows path's permissions to owner read/write when they are wider (a file created by an
// older build or under another umask keeps its mode on reuse otherwise).
func ensurePrivate(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("stat: %w", err)
	}
	if fi.Mode().Perm()&0o077 == 0 {
		return nil
	}
	if err := os.Chmod(path, 0o600); err != nil {
		return fmt.Errorf("restrict permissions to 0600: %w", err)
	}
	return nil
}

// EnsurePrivate is ensurePrivate for other state files of an installation (demo.json, the simulator's file).
func EnsurePrivate(path string) error {
	if err := ensurePrivate(path); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// writeHealth remembers a failed write and the activity answers that could not be recorded, so a full disk
// makes the store not ready and never lets an answered activity be answered again. A failure is cleared only
// by a successful probe (probeWrites): a small commit that still fits (a lease renewal reusing a freed page)
// says nothing about room for the next turn.
type writeHealth struct {
	PendingAnswers
	mu       sync.Mutex
	lastErr  error
	failures uint64 // failed commits so far
}

// noteFailure records a failed commit.
func (h *writeHealth) noteFailure(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.lastErr = err
	h.failures++
}

// failed returns how many commits have failed so far and the failure not yet cleared (nil when none).
func (h *writeHealth) failed() (failures uint64, lastErr error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.failures, h.lastErr
}

// clear forgets the failure after a successful probe, unless another commit failed since the probe started
// (failures moved on from seen).
func (h *writeHealth) clear(seen uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.failures == seen {
		h.lastErr = nil
	}
}

// probeWrites checks, after a failed write, that writes succeed again: it writes and deletes probeSize bytes
// and then records the activity completions that could not be written. nil when writes work. Ping and the
// background retry of the pending answers (SetRetry, set up by Open) call it.
func (s *Store) probeWrites(ctx context.Context) error {
	seen, lastErr := s.health.failed()
	if lastErr == nil && s.health.Len() == 0 {
		return nil
	}
	for _, fn := range []func(tx *bbolt.Tx) error{
		func(tx *bbolt.Tx) error { return tx.Bucket(bucketMeta).Put(keyProbe, make([]byte, probeSize)) },
		func(tx *bbolt.Tx) error { return tx.Bucket(bucketMeta).Delete(keyProbe) },
	} {
		if err := s.batch(ctx, "probe writes", fn); err != nil {
			return err
		}
	}
	s.health.clear(seen)
	return s.health.Flush(ctx, s.writeCompletion)
}
