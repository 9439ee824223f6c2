package store

import (
	"context"
	"time"

	"go.etcd.io/bbolt"
)

// checkpointWAL copies the overlay into the state file now (a write transaction with nothing else in it).
func (s *Store) checkpointWAL(ctx context.Context) error {
	return s.batch(ctx, "checkpoint write-ahead log", func(*bbolt.Tx) error { return nil })
}

// scheduleCheckpoint arms the checkpoint timer unless it is armed: after delay, or after the current backoff
// while checkpoints fail.
func (s *Store) scheduleCheckpoint() {
	w := s.wal
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.timer == nil {
		w.timer = time.AfterFunc(max(w.delay, w.backoff), s.checkpointOnTimer)
	}
}

// walMaxBackoff bounds the wait between checkpoints that keep failing (a full disk).
const walMaxBackoff = 5 * time.Second

// checkpointOnTimer is the checkpoint timer's function: checkpointQuietly, then the timer again while records
// remain.
func (s *Store) checkpointOnTimer() {
	w := s.wal
	w.mu.Lock()
	w.timer = nil
	w.mu.Unlock()
	s.checkpointQuietly()
	if !w.closed.Load() && len(w.pending()) > 0 {
		s.scheduleCheckpoint()
	}
}

// checkpointQuietly checkpoints unless one is running or the store is closed. A failure (the records stay in
// the log and the overlay, and the next write transaction copies them) is logged once until a checkpoint
// succeeds again, and doubles the wait before the timer's next one.
func (s *Store) checkpointQuietly() {
	w := s.wal
	if w.closed.Load() || !w.busy.CompareAndSwap(false, true) {
		return
	}
	defer w.busy.Store(false)
	err := w.checkpoint(context.Background())
	w.mu.Lock()
	failing := w.backoff > 0
	if err != nil {
		w.backoff = min(max(2*w.backoff, w.delay), walMaxBackoff)
	} else {
		w.backoff = 0
	}
	w.mu.Unlock()
	switch {
	case err != nil && !failing:
		s.log.Warn("write-ahead log checkpoint failed; completions stay in the log, retrying", "err", err)
	case err == nil && failing:
		s.log.Info("write-ahead log checkpoint succeeded again")
	}
}

// closeWAL checkpoints for the last time (before Close marks the file closed cleanly) and closes the log.
func (s *Store) closeWAL() error {
	w := s.wal
	if w == nil {
		return nil
	}
	w.closed.Store(true)
	w.mu.Lock()
	if w.timer != nil {
		w.timer.Stop()
		w.timer = nil
	}
	w.mu.Unlock()
	err := s.checkpointWAL(context.Background())
	if err != nil {
		s.log.Warn("could not copy the write-ahead log into the state file: the next start replays it", "err", err)
	}
	return w.log.Close()
}
