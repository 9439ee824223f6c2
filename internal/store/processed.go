package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"go.etcd.io/bbolt"
)

// ---- processed activities ----

type processedRecord struct {
	At   time.Time `json:"at"`
	Resp []byte    `json:"resp,omitempty"`
	// Claimed marks an activity claimed by ClaimActivity and not yet completed (records written before
	// claims existed, and by MarkProcessed, are complete).
	Claimed bool `json:"claimed,omitempty"`
}

// Processed reports whether key (an activity id, or channel+conversation+activity id) was marked processed
// (or completed with CompleteActivity), and the response stored with it (nil when none was stored). A claim
// still in progress is not processed.
func (s *Store) Processed(ctx context.Context, key string) ([]byte, bool, error) {
	const op = "get processed"
	if err := checkKey(op, "key", key); err != nil {
		return nil, false, err
	}
	var rec processedRecord
	ok, err := s.getRecord(ctx, op, bucketProcessed, []byte(key), &rec)
	if err != nil {
		return nil, false, err
	}
	if rec.Claimed {
		return nil, false, nil
	}
	return rec.Resp, ok, nil
}

// MarkProcessed records key as processed together with resp (the invoke response to replay for a duplicate;
// may be nil). Marking again replaces the stored response.
func (s *Store) MarkProcessed(ctx context.Context, key string, resp []byte) error {
	const op = "mark processed"
	if err := checkKey(op, "key", key); err != nil {
		return err
	}
	now := s.now().UTC()
	raw, err := json.Marshal(processedRecord{At: now, Resp: resp})
	if err != nil {
		return fmt.Errorf("%s: encode: %w", op, err)
	}
	// Concurrent turns' completions share one commit (group commit). A completed claim keeps the index entry
	// of its claim.
	return s.batch(ctx, op, func(tx *bbolt.Tx) error { return putProcessed(tx, []byte(key), now, raw) })
}

// PruneProcessed deletes processed entries first written more than olderThan ago (claim time, see the
// processed time index) and returns how many it deleted.
func (s *Store) PruneProcessed(ctx context.Context, olderThan time.Duration) (int, error) {
	// pruneProcessedBefore walks the time index: no record is decoded.
	return s.pruneBefore(ctx, "prune processed", "olderThan", olderThan, pruneProcessedBefore)
}

// RunMaintenance prunes old processed ids, abandoned dialogs and long-closed requests now and then every
// m.Every until ctx is cancelled (see Maintain); it returns nil on cancellation.
func (s *Store) RunMaintenance(ctx context.Context, m Maintenance) error {
	return Maintain(ctx, s, s.log, m)
}
