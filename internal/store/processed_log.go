package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"go.etcd.io/bbolt"
)

// Processed activities are kept in a log in the order they were written, not in a bucket keyed by activity
// id. Every turn writes one record, and a bucket keyed by activity id (random keys) made each turn of a group
// commit dirty a leaf of its own (and its branch pages), plus the time index its pruning needed: about nine of
// a commit's twelve pages. In the log, the records of a group commit land on its last leaf, and pruning walks
// it from its oldest record. Finding an activity's record goes through an in-memory index from the hash of its
// key to the seconds in which records of that hash were written, built from the log when the file is opened
// (the file lock makes this process the only one that writes it; processed_index.go). Hashes and seconds are
// 32 bits, so a record costs about 8 bytes of memory (0.8 MB at 100k records). A lookup reads the records of
// those seconds, and the hash and then the key stored in each record tell the activity's record from the others;
// the index has no entry for an activity never seen, so that lookup, the common one, reads nothing.

// bucketProcessedLog holds the processed-activity records: key = logKey, value = encodeProcessed.
var bucketProcessedLog = []byte("processed_log")

// logFillPercent packs the log's leaves: records are appended in order and removed from its start, so a split
// leaves the left page full for good (bbolt's default of one half would leave half of every page empty).
const logFillPercent = 0.95

// processedFormat is the first byte of a record's value, so the layout can change later.
const processedFormat = 1

// keyHash is the 64-bit FNV-1a hash of an activity key folded to 32 bits: stable across restarts, since the
// index is rebuilt from the hashes stored in the records.
func keyHash(key string) uint32 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(key); i++ {
		h ^= uint64(key[i])
		h *= 1099511628211
	}
	return uint32(h>>32) ^ uint32(h)
}

// logSecond is t as a log time: Unix seconds (32 bits, until 2106).
func logSecond(t time.Time) uint32 { return uint32(t.Unix()) }

// logKey is the log key of a record: the 4-byte big-endian log time of its first write, then the 4-byte
// sequence number the store gave it (rising, so records of one second stay in the order they were written).
func logKey(sec, seq uint32) []byte {
	k := make([]byte, 8)
	binary.BigEndian.PutUint32(k, sec)
	binary.BigEndian.PutUint32(k[4:], seq)
	return k
}

// splitLogKey is logKey's inverse; ok is false for a key of another length.
func splitLogKey(k []byte) (sec, seq uint32, ok bool) {
	if len(k) != 8 {
		return 0, 0, false
	}
	return binary.BigEndian.Uint32(k), binary.BigEndian.Uint32(k[4:]), true
}

// encodeProcessed is a record's value: processedFormat, the 4-byte keyHash of the activity key, the key's
// length (uvarint), the key, then the response to replay (raw bytes, possibly none).
func encodeProcessed(key string, resp []byte) []byte {
	v := make([]byte, 5, 5+binary.MaxVarintLen64+len(key)+len(resp))
	v[0] = processedFormat
	binary.BigEndian.PutUint32(v[1:], keyHash(key))
	v = binary.AppendUvarint(v, uint64(len(key)))
	v = append(v, key...)
	return append(v, resp...)
}

// errBadRecord marks a processed record whose value is not in encodeProcessed's layout.
var errBadRecord = errors.New("malformed processed-activity record")

// recordHash is the key hash stored in a record's value.
func recordHash(v []byte) (uint32, error) {
	if len(v) < 6 || v[0] != processedFormat {
		return 0, errBadRecord
	}
	return binary.BigEndian.Uint32(v[1:]), nil
}

// decodeProcessed splits a record's value into its activity key and response (nil when none; both alias v,
// which is valid only inside the transaction).
func decodeProcessed(v []byte) (key, resp []byte, err error) {
	if _, err := recordHash(v); err != nil {
		return nil, nil, err
	}
	n, w := binary.Uvarint(v[5:])
	if w <= 0 || uint64(len(v)-5-w) < n {
		return nil, nil, errBadRecord
	}
	key = v[5+w : 5+w+int(n)]
	if rest := v[5+w+int(n):]; len(rest) > 0 {
		resp = rest
	}
	return key, resp, nil
}

// loadProcessedIndex loads the index from snap (readProcessedSnapshot) when there is one, or else builds it from
// the log (each record's key and stored hash; nothing else is decoded), and continues its sequence numbers.
func (s *Store) loadProcessedIndex(snap *processedSnapshot) error {
	start := time.Now()
	if snap != nil {
		s.processed.load(snap.pairs)
		s.processed.continueAfter(snap.seq)
		s.fromSnap = true
		s.log.Debug("loaded the processed-activity index from its snapshot", "records", len(snap.pairs), "took", time.Since(start))
		return nil
	}
	return s.db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketProcessedLog)
		if b == nil {
			return nil // a file kept at an older schema (tests of migrations)
		}
		n := 0 // the pairs are sized at once: a slice grown by append ends up with up to twice the room it needs
		c := b.Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			n++
		}
		pairs := make([]uint64, 0, n)
		var last uint32
		for k, v := c.First(); k != nil; k, v = c.Next() {
			sec, seq, ok := splitLogKey(k)
			h, err := recordHash(v)
			if !ok || err != nil {
				s.log.Warn("skipping a malformed processed-activity record", "key", fmt.Sprintf("%x", k))
				continue
			}
			pairs = append(pairs, indexPair(h, sec))
			last = max(last, seq)
		}
		s.processed.load(pairs)
		s.processed.continueAfter(last)
		s.log.Debug("built the processed-activity index from the log", "records", len(pairs), "took", time.Since(start))
		return nil
	})
}

// findProcessed returns the log key of key's record in tx (nil when there is none), the earliest record whose
// stored hash and key are key's, and the response stored in it (nil when none; valid only inside tx).
func (s *Store) findProcessed(tx *bbolt.Tx, key string, h uint32) (lk, resp []byte, err error) {
	b, err := bucket(tx, bucketProcessedLog)
	if err != nil {
		return nil, nil, err
	}
	c := b.Cursor()
	var buf [4]uint32 // a hash has one second but after a collision or a completion written twice
	for _, sec := range s.processed.appendTimes(buf[:0], h) {
		start := logKey(sec, 0)
		for k, v := c.Seek(start); k != nil && bytes.HasPrefix(k, start[:4]); k, v = c.Next() {
			if rh, err := recordHash(v); err != nil || rh != h {
				continue
			}
			rk, resp, err := decodeProcessed(v)
			if err != nil {
				return nil, nil, fmt.Errorf("record %x: %w", k, err)
			}
			if string(rk) == key {
				return k, resp, nil
			}
		}
	}
	return nil, nil, nil
}

// appendProcessed writes a new record of key at log key (sec, seq); the caller took seq from nextSeq before its
// transaction (a group commit may run the function twice) and indexes the record once it is committed.
func appendProcessed(tx *bbolt.Tx, key string, sec, seq uint32, resp []byte) error {
	return putProcessedRecord(tx, sec, seq, encodeProcessed(key, resp))
}

// putProcessedRecord writes value (encodeProcessed) as the record at log key (sec, seq).
func putProcessedRecord(tx *bbolt.Tx, sec, seq uint32, value []byte) error {
	b, err := bucket(tx, bucketProcessedLog)
	if err != nil {
		return err
	}
	b.FillPercent = logFillPercent
	return b.Put(logKey(sec, seq), value)
}

// staleRecord is a record pruning deleted: its second and key hash, for the index.
type staleRecord struct{ sec, hash uint32 }

// logHasBefore reports whether the log holds a record written before cutoff's second (its oldest record is).
func logHasBefore(tx *bbolt.Tx, cutoff time.Time) (bool, error) {
	b, err := bucket(tx, bucketProcessedLog)
	if err != nil {
		return false, err
	}
	k, _ := b.Cursor().First()
	return k != nil && bytes.Compare(k, logKey(logSecond(cutoff), 0)) < 0, nil
}

// pruneLogBefore deletes the log's records written before cutoff's second, oldest first, and returns them (the
// caller drops them from the index once the transaction is committed).
func pruneLogBefore(tx *bbolt.Tx, cutoff time.Time) ([]staleRecord, error) {
	b, err := bucket(tx, bucketProcessedLog)
	if err != nil {
		return nil, err
	}
	limit := logKey(logSecond(cutoff), 0)
	var keys [][]byte
	var stale []staleRecord
	c := b.Cursor()
	for k, v := c.First(); k != nil && bytes.Compare(k, limit) < 0; k, v = c.Next() {
		sec, _, _ := splitLogKey(k)
		h, _ := recordHash(v) // a malformed record is deleted as well
		keys = append(keys, bytes.Clone(k))
		stale = append(stale, staleRecord{sec: sec, hash: h})
	}
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return nil, err
		}
	}
	return stale, nil
}
