package store

import (
	"bytes"
	"context"
	"time"

	"go.etcd.io/bbolt"
)

// Pruning reads first: every prune looks for what is due in a read-only transaction and opens a write
// transaction (a group commit, with its two fdatasyncs) only when it found something. Maintenance prunes each
// kind every hour, and most runs find nothing.

// PruneDialogs deletes the dialogs last written more than olderThan ago (and any dialog without a recorded
// write time) and returns how many it deleted.
func (s *Store) PruneDialogs(ctx context.Context, olderThan time.Duration) (int, error) {
	return s.pruneBefore(ctx, "prune dialogs", "olderThan", olderThan,
		func(tx *bbolt.Tx, cutoff time.Time) (bool, error) {
			dialogs, times, err := dialogBuckets(tx)
			if err != nil {
				return false, err
			}
			return anyWhere(dialogs, staleDialog(times, cutoff)), nil
		},
		func(tx *bbolt.Tx, cutoff time.Time) (int, error) {
			dialogs, times, err := dialogBuckets(tx)
			if err != nil {
				return 0, err
			}
			return deleteWhere(dialogs, staleDialog(times, cutoff), times)
		})
}

// dialogBuckets returns the dialogs bucket and its write-time index (PutDialog writes both, PruneDialogs reads
// both).
func dialogBuckets(tx *bbolt.Tx) (dialogs, times *bbolt.Bucket, err error) {
	if dialogs, err = bucket(tx, bucketDialogs); err != nil {
		return nil, nil, err
	}
	times, err = bucket(tx, bucketDialogTimes)
	return dialogs, times, err
}

// staleDialog tells a dialog last written before cutoff (or without a readable write time in times).
func staleDialog(times *bbolt.Bucket, cutoff time.Time) func(k, _ []byte) bool {
	return func(k, _ []byte) bool {
		at, err := time.Parse(time.RFC3339Nano, string(times.Get(k)))
		return err != nil || at.Before(cutoff)
	}
}

// pruneBefore checks that age (the argument named field) is positive and, with the cutoff now-age, asks due in
// a read-only transaction whether anything is older than the cutoff; only then does it run prune in one update
// transaction. It returns how many entries prune deleted.
func (s *Store) pruneBefore(ctx context.Context, op, field string, age time.Duration,
	due func(tx *bbolt.Tx, cutoff time.Time) (bool, error), prune func(tx *bbolt.Tx, cutoff time.Time) (int, error)) (int, error) {
	if err := CheckPositive(op, field, age); err != nil {
		return 0, err
	}
	cutoff := s.now().Add(-age)
	found := false
	if err := s.view(ctx, op, func(tx *bbolt.Tx) error {
		var err error
		found, err = due(tx, cutoff)
		return err
	}); err != nil || !found {
		return 0, err
	}
	n := 0
	err := s.batch(ctx, op, func(tx *bbolt.Tx) error {
		var err error
		n, err = prune(tx, cutoff)
		return err
	})
	return n, err
}

// anyWhere reports whether stale(k, v) holds for some key of b.
func anyWhere(b *bbolt.Bucket, stale func(k, v []byte) bool) bool {
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if stale(k, v) {
			return true
		}
	}
	return false
}

// deleteWhere deletes every key of b for which stale(k, v) holds, and the same keys from each of also;
// it returns how many keys of b it deleted.
func deleteWhere(b *bbolt.Bucket, stale func(k, v []byte) bool, also ...*bbolt.Bucket) (int, error) {
	var keys [][]byte
	if err := b.ForEach(func(k, v []byte) error {
		if stale(k, v) {
			keys = append(keys, bytes.Clone(k))
		}
		return nil
	}); err != nil {
		return 0, err
	}
	for _, k := range keys {
		for _, from := range append([]*bbolt.Bucket{b}, also...) {
			if err := from.Delete(k); err != nil {
				return 0, err
			}
		}
	}
	return len(keys), nil
}

// PruneKV deletes the records of the generic bucket for which stale(key, raw) reports true and returns how
// many it deleted: the retention rule of a bucket is its owner's, who knows what the records hold. stale runs
// inside a read-only transaction and must not call the Store. A record rewritten after stale saw it is kept
// (compare-and-delete on its bytes), and a prune that finds nothing stale writes nothing.
func (s *Store) PruneKV(ctx context.Context, bucketName string, stale func(key string, raw []byte) bool) (int, error) {
	const op = "prune records"
	name, err := kvBucket(op, bucketName)
	if err != nil {
		return 0, err
	}
	if stale == nil {
		return 0, invalid(op, "stale", "is required")
	}
	var seen []Record
	if err := s.view(ctx, op+" "+bucketName, func(tx *bbolt.Tx) error {
		seen = nil
		if b := tx.Bucket(name); b != nil {
			c := b.Cursor()
			for k, v := c.First(); k != nil; k, v = c.Next() {
				if stale(string(k), v) {
					seen = append(seen, Record{Key: string(k), Raw: bytes.Clone(v)})
				}
			}
		}
		return nil
	}); err != nil || len(seen) == 0 {
		return 0, err
	}
	n := 0
	err = s.batch(ctx, op+" "+bucketName, func(tx *bbolt.Tx) error {
		n = 0
		b := tx.Bucket(name)
		if b == nil {
			return nil
		}
		for _, r := range seen {
			if cur := b.Get([]byte(r.Key)); cur == nil || !bytes.Equal(cur, r.Raw) {
				continue
			}
			if err := b.Delete([]byte(r.Key)); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}
