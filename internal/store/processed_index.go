package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"go.etcd.io/bbolt"
)

// bucketProcessedTimes was the time index of the processed bucket (schema versions 4 and 5; migration 6 moved
// both into the processed-activity log): key = 8-byte big-endian Unix nanoseconds + the record's key.
var bucketProcessedTimes = []byte("processed_times")

// timeKey is the key of a time index entry: 8-byte big-endian Unix nanoseconds of t, then the record's key.
// A cursor walks such an index in time order (the processed, due and closed-request indexes use it).
func timeKey(t time.Time, key []byte) []byte {
	k := make([]byte, 8, 8+len(key))
	binary.BigEndian.PutUint64(k, uint64(t.UnixNano()))
	return append(k, key...)
}

// pruneIndexed deletes the entries of time index idx (see timeKey) whose time is before cutoff, oldest first,
// each after del removed what it indexes (del gets the entry's key without its time); it returns how many it
// deleted.
func pruneIndexed(idx *bbolt.Bucket, cutoff time.Time, del func(key []byte) error) (int, error) {
	stale := indexedBefore(idx, cutoff)
	for _, k := range stale {
		if err := del(k[8:]); err != nil {
			return 0, err
		}
		if err := idx.Delete(k); err != nil {
			return 0, err
		}
	}
	return len(stale), nil
}

// indexedBefore returns the entries of time index idx (see timeKey) whose time is before cutoff, oldest
// first, as copies (the caller may delete them while it walks the result).
func indexedBefore(idx *bbolt.Bucket, cutoff time.Time) [][]byte {
	limit := timeKey(cutoff, nil)
	var out [][]byte
	c := idx.Cursor()
	for k, _ := c.First(); k != nil && len(k) >= 8 && bytes.Compare(k[:8], limit) < 0; k, _ = c.Next() {
		out = append(out, bytes.Clone(k))
	}
	return out
}

// indexProcessed is migration 4: it builds the time index of the records written before it (decoding each
// once, at the upgrade).
func indexProcessed(tx *bbolt.Tx) error {
	idx, err := tx.CreateBucketIfNotExists(bucketProcessedTimes)
	if err != nil {
		return fmt.Errorf("create bucket %s: %w", bucketProcessedTimes, err)
	}
	b := tx.Bucket(bucketProcessed)
	if b == nil {
		return nil
	}
	return b.ForEach(func(k, v []byte) error {
		var rec legacyProcessed
		if err := json.Unmarshal(v, &rec); err != nil {
			rec.At = time.Unix(0, 0) // unreadable: pruned at the next maintenance
		}
		return idx.Put(timeKey(rec.At, k), nil)
	})
}
