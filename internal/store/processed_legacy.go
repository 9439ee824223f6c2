package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"go.etcd.io/bbolt"
)

// The processed bucket and its time index, before migration 6 moved them into the processed-activity log
// (processed_log.go): what the upgrade of an older file reads.

// bucketProcessedTimes was the time index of the processed bucket (schema versions 4 and 5; migration 6 moved
// both into the processed-activity log): key = 8-byte big-endian Unix nanoseconds + the record's key.
var bucketProcessedTimes = []byte("processed_times")

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

// legacyProcessed is a record of the processed bucket that the log replaced (schema versions 1–5).
type legacyProcessed struct {
	At      time.Time `json:"at"`
	Resp    []byte    `json:"resp,omitempty"`
	Claimed bool      `json:"claimed,omitempty"`
}

// moveProcessedToLog is migration 6: the completed records of the processed bucket move to the log (at the
// time their index gave, else the time they carry), and the processed bucket and its time index are deleted.
// Claims still marked in progress are dropped: a claim is not an answer.
func moveProcessedToLog(tx *bbolt.Tx) error {
	if _, err := tx.CreateBucketIfNotExists(bucketProcessedLog); err != nil {
		return fmt.Errorf("create bucket %s: %w", bucketProcessedLog, err)
	}
	old := tx.Bucket(bucketProcessed)
	if old == nil {
		return nil
	}
	first := indexedTimes(tx.Bucket(bucketProcessedTimes))
	seq := uint32(0)
	err := old.ForEach(func(k, v []byte) error {
		var rec legacyProcessed
		if json.Unmarshal(v, &rec) != nil || rec.Claimed {
			return nil
		}
		at, ok := first[string(k)]
		if !ok {
			at = rec.At
		}
		seq++
		return appendProcessed(tx, string(k), logSecond(at), seq, rec.Resp)
	})
	if err != nil {
		return err
	}
	for _, name := range [][]byte{bucketProcessed, bucketProcessedTimes} {
		if err := tx.DeleteBucket(name); err != nil && !errors.Is(err, bbolt.ErrBucketNotFound) {
			return fmt.Errorf("delete bucket %s: %w", name, err)
		}
	}
	return nil
}

// indexedTimes reads a legacy time index (nil: none) into record key → time.
func indexedTimes(idx *bbolt.Bucket) map[string]time.Time {
	out := map[string]time.Time{}
	if idx == nil {
		return out
	}
	_ = idx.ForEach(func(k, _ []byte) error {
		if len(k) > 8 {
			out[string(k[8:])] = time.Unix(0, int64(binary.BigEndian.Uint64(k[:8])))
		}
		return nil
	})
	return out
}
