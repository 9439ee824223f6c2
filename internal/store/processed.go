package store

import (
	"bytes"
	"context"
	"time"

	"go.etcd.io/bbolt"
)

// ---- processed activities (stored in the processed-activity log, see processed_log.go) ----

// Processed reports whether key (an activity id, or channel+conversation+activity id) was marked processed
// (or completed with CompleteActivity), and the response stored with it (nil when none was stored). A claim
// still in progress is not processed. An activity never seen is answered from memory, without a transaction.
func (s *Store) Processed(ctx context.Context, key string) ([]byte, bool, error) {
	const op = "get processed"
	if err := checkKey(op, "key", key); err != nil {
		return nil, false, err
	}
	h := keyHash(key)
	if !s.processed.has(h) {
		return nil, false, ctx.Err()
	}
	if s.wal != nil {
		if resp, ok := s.wal.lookup(key); ok {
			return bytes.Clone(resp), true, nil
		}
	}
	var resp []byte
	found := false
	err := s.view(ctx, op, func(tx *bbolt.Tx) error {
		lk, r, err := s.findProcessed(tx, key, h)
		found, resp = lk != nil, bytes.Clone(r)
		return err
	})
	if err != nil {
		return nil, false, err
	}
	return resp, found, nil
}

// MarkProcessed records key as processed together with resp (the invoke response to replay for a duplicate;
// may be nil). Marking again replaces the stored response (the record keeps its first time, which pruning
// goes by).
func (s *Store) MarkProcessed(ctx context.Context, key string, resp []byte) error {
	const op = "mark processed"
	if err := checkKey(op, "key", key); err != nil {
		return err
	}
	defer s.writingRecord(key)()
	h, now, seq := keyHash(key), logSecond(s.now()), s.processed.nextSeq()
	added := false
	// Concurrent turns' writes share one commit (group commit): the function is idempotent.
	err := s.batch(ctx, op, func(tx *bbolt.Tx) error {
		lk, _, err := s.findProcessed(tx, key, h)
		if err != nil {
			return err
		}
		if added = lk == nil; !added {
			return tx.Bucket(bucketProcessedLog).Put(lk, encodeProcessed(key, resp))
		}
		return appendProcessed(tx, key, now, seq, resp)
	})
	if err == nil && added {
		s.processed.add(h, now)
	}
	return err
}

// PruneProcessed deletes processed entries first written more than olderThan ago and returns how many it
// deleted. It walks the log from its oldest record: nothing is decoded.
func (s *Store) PruneProcessed(ctx context.Context, olderThan time.Duration) (int, error) {
	s.indexing.RLock() // Close's snapshot of the index must not keep what this deletes
	defer s.indexing.RUnlock()
	var stale []staleRecord
	n, err := s.pruneBefore(ctx, "prune processed", "olderThan", olderThan, logHasBefore, func(tx *bbolt.Tx, cutoff time.Time) (int, error) {
		var err error
		stale, err = pruneLogBefore(tx, cutoff)
		return len(stale), err
	})
	if err != nil {
		return 0, err
	}
	s.written()
	for _, r := range stale {
		s.processed.remove(r.hash, r.sec)
	}
	return n, nil
}

// RunMaintenance prunes old processed ids, abandoned dialogs and long-closed requests now and then every
// m.Every until ctx is cancelled (see Maintain); it returns nil on cancellation.
func (s *Store) RunMaintenance(ctx context.Context, m Maintenance) error {
	return Maintain(ctx, s, s.log, m)
}
