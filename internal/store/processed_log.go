package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"go.etcd.io/bbolt"
)

// Processed activities are kept in a log ordered by time, not in a bucket keyed by activity id. Every turn
// writes one record, and a bucket keyed by activity id (random keys) made each turn of a group commit dirty a
// leaf of its own (and its branch pages), plus the time index its pruning needed: about nine of a commit's
// twelve pages. In the log, the records of a group commit land on the same last leaf, and pruning walks it from
// its oldest record. Finding an activity's record goes through an in-memory index from the hash of its key to
// the records' times, built from the log's keys when the file is opened (the file lock makes this process the
// only one that writes it).

// bucketProcessedLog holds the processed-activity records: key = logKey, value = encodeProcessed.
var bucketProcessedLog = []byte("processed_log")

// logFillPercent packs the log's leaves: records are appended in time order and removed from its start, so a
// split leaves the left page full for good (bbolt's default of one half would leave half of every page empty).
const logFillPercent = 0.95

// processedFormat is the first byte of a record's value, so the layout can change later.
const processedFormat = 1

// keyHash is the 64-bit FNV-1a hash of an activity key: stable across restarts, since it is part of the log
// keys from which the index is rebuilt.
func keyHash(key string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(key); i++ {
		h ^= uint64(key[i])
		h *= 1099511628211
	}
	return h
}

// logKey is the log key of a record: 8-byte big-endian Unix nanoseconds of its first write, then keyHash of
// its activity key.
func logKey(at int64, h uint64) []byte {
	k := make([]byte, 16)
	binary.BigEndian.PutUint64(k, uint64(at))
	binary.BigEndian.PutUint64(k[8:], h)
	return k
}

// splitLogKey is logKey's inverse; ok is false for a key of another length.
func splitLogKey(k []byte) (at int64, h uint64, ok bool) {
	if len(k) != 16 {
		return 0, 0, false
	}
	return int64(binary.BigEndian.Uint64(k)), binary.BigEndian.Uint64(k[8:]), true
}

// encodeProcessed is a record's value: processedFormat, the activity key's length (uvarint), the key, then
// the response to replay (raw bytes, possibly none).
func encodeProcessed(key string, resp []byte) []byte {
	v := make([]byte, 0, 1+binary.MaxVarintLen64+len(key)+len(resp))
	v = append(v, processedFormat)
	v = binary.AppendUvarint(v, uint64(len(key)))
	v = append(v, key...)
	return append(v, resp...)
}

// errBadRecord marks a processed record whose value is not in encodeProcessed's layout.
var errBadRecord = errors.New("malformed processed-activity record")

// decodeProcessed splits a record's value into its activity key and response (nil when none; it aliases v,
// which is valid only inside the transaction).
func decodeProcessed(v []byte) (key, resp []byte, err error) {
	if len(v) < 2 || v[0] != processedFormat {
		return nil, nil, errBadRecord
	}
	n, w := binary.Uvarint(v[1:])
	if w <= 0 || uint64(len(v)-1-w) < n {
		return nil, nil, errBadRecord
	}
	key = v[1+w : 1+w+int(n)]
	if rest := v[1+w+int(n):]; len(rest) > 0 {
		resp = rest
	}
	return key, resp, nil
}

// processedIndex maps the hash of an activity key to the times of the log records with that hash. A hash has
// more than one record only when two keys collide, or when an activity's completion was written twice in one
// group commit (a turn whose claim was taken over); lookups compare the stored key and take the earliest.
type processedIndex struct {
	mu   sync.RWMutex
	at   map[uint64]int64
	more map[uint64][]int64 // the further times of a hash, ascending (rare)
}

// times returns the times of hash h's records, earliest first.
func (x *processedIndex) times(h uint64) []int64 {
	x.mu.RLock()
	defer x.mu.RUnlock()
	t, ok := x.at[h]
	if !ok {
		return nil
	}
	return append([]int64{t}, x.more[h]...)
}

// add records that the log holds a record of hash h at time t.
func (x *processedIndex) add(h uint64, t int64) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.at == nil {
		x.at = map[uint64]int64{}
	}
	first, ok := x.at[h]
	switch {
	case !ok:
		x.at[h] = t
		return
	case first == t || slices.Contains(x.more[h], t):
		return
	}
	if x.more == nil {
		x.more = map[uint64][]int64{}
	}
	all := append([]int64{first}, x.more[h]...)
	all = append(all, t)
	slices.Sort(all)
	x.at[h] = all[0]
	x.more[h] = all[1:]
}

// remove forgets the record of hash h at time t.
func (x *processedIndex) remove(h uint64, t int64) {
	x.mu.Lock()
	defer x.mu.Unlock()
	first, ok := x.at[h]
	if !ok {
		return
	}
	rest := x.more[h]
	if first == t {
		if len(rest) == 0 {
			delete(x.at, h)
			return
		}
		first, rest = rest[0], rest[1:]
		x.at[h] = first
	} else {
		rest = slices.DeleteFunc(slices.Clone(rest), func(v int64) bool { return v == t })
	}
	if len(rest) == 0 {
		delete(x.more, h)
	} else {
		x.more[h] = rest
	}
}

// len is the number of records indexed.
func (x *processedIndex) len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	n := len(x.at)
	for _, m := range x.more {
		n += len(m)
	}
	return n
}

// loadProcessedIndex builds the index from the log's keys (values are not decoded).
func (s *Store) loadProcessedIndex() error {
	return s.db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketProcessedLog)
		if b == nil {
			return nil // a file kept at an older schema (tests of migrations)
		}
		c := b.Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			if at, h, ok := splitLogKey(k); ok {
				s.processed.add(h, at)
			}
		}
		return nil
	})
}

// findProcessed returns the log key and value of key's record in tx (nil, nil when there is none): the
// earliest record of key's hash whose stored key is key.
func (s *Store) findProcessed(tx *bbolt.Tx, key string, h uint64) (lk, v []byte, err error) {
	b, err := bucket(tx, bucketProcessedLog)
	if err != nil {
		return nil, nil, err
	}
	for _, t := range s.processed.times(h) {
		lk = logKey(t, h)
		v = b.Get(lk)
		if v == nil {
			continue // pruned since the index was read
		}
		k, _, err := decodeProcessed(v)
		if err != nil {
			return nil, nil, fmt.Errorf("record %x: %w", lk, err)
		}
		if string(k) == key {
			return lk, v, nil
		}
	}
	return nil, nil, nil
}

// appendProcessed writes a new record of key at time at (moved on by a nanosecond in the vanishing case that a
// record of the same hash has that time) and returns the time used; the caller indexes it once the
// transaction is committed.
func appendProcessed(tx *bbolt.Tx, key string, h uint64, at int64, resp []byte) (int64, error) {
	b, err := bucket(tx, bucketProcessedLog)
	if err != nil {
		return 0, err
	}
	b.FillPercent = logFillPercent
	for b.Get(logKey(at, h)) != nil {
		at++
	}
	return at, b.Put(logKey(at, h), encodeProcessed(key, resp))
}

// pruneLogBefore deletes the log's records written before cutoff, oldest first, and returns their keys (the
// caller drops them from the index once the transaction is committed).
func pruneLogBefore(tx *bbolt.Tx, cutoff time.Time) ([][]byte, error) {
	b, err := bucket(tx, bucketProcessedLog)
	if err != nil {
		return nil, err
	}
	limit := logKey(cutoff.UnixNano(), 0)
	var stale [][]byte
	c := b.Cursor()
	for k, _ := c.First(); k != nil && bytes.Compare(k[:min(8, len(k))], limit[:8]) < 0; k, _ = c.Next() {
		stale = append(stale, bytes.Clone(k))
	}
	for _, k := range stale {
		if err := b.Delete(k); err != nil {
			return nil, err
		}
	}
	return stale, nil
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
	err := old.ForEach(func(k, v []byte) error {
		var rec legacyProcessed
		if json.Unmarshal(v, &rec) != nil || rec.Claimed {
			return nil
		}
		at, ok := first[string(k)]
		if !ok {
			at = rec.At.UnixNano()
		}
		_, err := appendProcessed(tx, string(k), keyHash(string(k)), at, rec.Resp)
		return err
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
func indexedTimes(idx *bbolt.Bucket) map[string]int64 {
	out := map[string]int64{}
	if idx == nil {
		return out
	}
	_ = idx.ForEach(func(k, _ []byte) error {
		if len(k) > 8 {
			out[string(k[8:])] = int64(binary.BigEndian.Uint64(k[:8]))
		}
		return nil
	})
	return out
}
