package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"go.etcd.io/bbolt"
)

// A snapshot of the processed-activity index is written by Close, in its last transaction, and read by the
// next Open instead of scanning the log. Building the index from the log reads every leaf of it: at 100k
// records about 1,600 pages, 55-75 ms of a 100-130 ms start on the reference VM (issue #15 asks for 200 ms
// from restart to ready at 100k conversations), nearly all of it the first touch of each page (a second pass
// over the same pages takes 1.3 ms, and populating the mapping beforehand does not help). The snapshot is one
// value, 8 bytes a record, read in one piece.
//
// It holds the id of the transaction that wrote it: Open uses it only when that is still the file's last
// committed transaction, so any later write (a crash after more turns, another tool writing the file, a
// migration) makes Open scan the log as before. Open's first transaction deletes it with the clean-close mark.

// keyProcessedSnapshot (meta bucket) holds the snapshot of the processed-activity index (encodeSnapshot).
var keyProcessedSnapshot = []byte("processed_index_snapshot")

// snapshotFormat is the first byte of a snapshot, so the layout can change later.
const snapshotFormat = 1

// snapshotHeader is the length of a snapshot before its pairs: format, tx id (8), seq (4), count (8).
const snapshotHeader = 1 + 8 + 4 + 8

// errBadSnapshot marks a snapshot that is not in encodeSnapshot's layout.
var errBadSnapshot = errors.New("malformed processed-index snapshot")

// processedSnapshot is a decoded snapshot: the index's pairs (ascending, each once) and its last sequence number.
type processedSnapshot struct {
	pairs []uint64
	seq   uint32
}

// encodeSnapshot is the snapshot of the index written by transaction txID: snapshotFormat, txID, the last
// sequence number given, the number of pairs (8 bytes each, big-endian), then the pairs in ascending order,
// the live ones only (what a compaction would make the base).
func (x *processedIndex) encodeSnapshot(txID int) []byte {
	x.mu.RLock()
	defer x.mu.RUnlock()
	n := x.live()
	v := make([]byte, snapshotHeader, snapshotHeader+8*n)
	v[0] = snapshotFormat
	binary.BigEndian.PutUint64(v[1:], uint64(txID))
	binary.BigEndian.PutUint32(v[9:], x.seq)
	binary.BigEndian.PutUint64(v[13:], uint64(n))
	for p := range x.all() {
		v = binary.BigEndian.AppendUint64(v, p)
	}
	return v
}

// snapshotTxID is the id of the transaction that wrote snapshot v.
func snapshotTxID(v []byte) (uint64, error) {
	if len(v) < snapshotHeader || v[0] != snapshotFormat {
		return 0, fmt.Errorf("%w: %d bytes, format %d", errBadSnapshot, len(v), firstByte(v))
	}
	return binary.BigEndian.Uint64(v[1:]), nil
}

// decodeSnapshot decodes snapshot v into new memory (v may be the file's mapping): its length must match its
// count and its pairs must be ascending, each once.
func decodeSnapshot(v []byte) (processedSnapshot, error) {
	if _, err := snapshotTxID(v); err != nil {
		return processedSnapshot{}, err
	}
	n := binary.BigEndian.Uint64(v[13:])
	body := v[snapshotHeader:]
	if uint64(len(body))%8 != 0 || uint64(len(body))/8 != n {
		return processedSnapshot{}, fmt.Errorf("%w: %d pairs in %d bytes", errBadSnapshot, n, len(body))
	}
	pairs := make([]uint64, n)
	for i := range pairs {
		pairs[i] = binary.BigEndian.Uint64(body[8*i:])
		if i > 0 && pairs[i] <= pairs[i-1] {
			return processedSnapshot{}, fmt.Errorf("%w: pair %d is not above the one before", errBadSnapshot, i)
		}
	}
	return processedSnapshot{pairs: pairs, seq: binary.BigEndian.Uint32(v[9:])}, nil
}

func firstByte(v []byte) int {
	if len(v) == 0 {
		return -1
	}
	return int(v[0])
}

// readProcessedSnapshot returns the snapshot Close wrote when it is still true of the file: its transaction
// is the file's last one and the file is at schema version latest (no migration will run). Otherwise, or when
// it cannot be read, it returns nil and the index is built from the log. It runs before Open's first write.
func (s *Store) readProcessedSnapshot(latest int) *processedSnapshot {
	var snap *processedSnapshot
	_ = s.db.View(func(tx *bbolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta == nil {
			return nil
		}
		v := meta.Get(keyProcessedSnapshot)
		if v == nil {
			s.log.Debug("no processed-index snapshot in the state file")
			return nil
		}
		id, err := snapshotTxID(v)
		if err != nil {
			s.log.Warn("ignoring the processed-index snapshot: building the index from the log", "err", err)
			return nil
		}
		if id != uint64(tx.ID()) {
			s.log.Debug("the processed-index snapshot is older than the state file's last write",
				"snapshot_tx", id, "file_tx", tx.ID())
			return nil
		}
		if ver, err := readVersion(tx); err != nil || ver != latest {
			s.log.Debug("the state file is at another schema version: not using the processed-index snapshot",
				"version", ver, "latest", latest)
			return nil
		}
		d, err := decodeSnapshot(v)
		if err != nil {
			s.log.Warn("ignoring the processed-index snapshot: building the index from the log", "err", err)
			return nil
		}
		snap = &d
		return nil
	})
	return snap
}

// markClosed is Close's last transaction: the clean-close mark, and the index's snapshot with it when
// withSnapshot is set.
func (s *Store) markClosed(withSnapshot bool) error {
	return s.db.Update(func(tx *bbolt.Tx) error {
		meta, err := bucket(tx, bucketMeta)
		if err != nil {
			return err
		}
		if withSnapshot {
			if err := meta.Put(keyProcessedSnapshot, s.processed.encodeSnapshot(tx.ID())); err != nil {
				return fmt.Errorf("snapshot the processed-activity index: %w", err)
			}
		}
		return meta.Put(keyCleanClose, []byte(s.now().UTC().Format(time.RFC3339)))
	})
}
