package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"go.etcd.io/bbolt"
)

// The requests bucket has two time indexes (keys as in timeKey, empty values), kept in the same transaction
// as every write of a request:
//   - requests_due: NextCheckAt of the requests the poller follows, so a DueBefore listing reads only the
//     requests due and never decodes the closed ones;
//   - requests_closed: ClosedAt of the closed requests, so PruneRequests walks from the oldest and stops at
//     the cutoff.
var (
	bucketRequestsDue    = []byte("requests_due")
	bucketRequestsClosed = []byte("requests_closed")
)

// timeKey is the key of a time index entry: 8-byte big-endian Unix nanoseconds of t, then the record's key.
// A cursor walks such an index in time order.
func timeKey(t time.Time, key []byte) []byte {
	k := make([]byte, 8, 8+len(key))
	binary.BigEndian.PutUint64(k, uint64(t.UnixNano()))
	return append(k, key...)
}

// indexedBefore returns the entries of time index idx (see timeKey) whose time is before cutoff, oldest
// first, as copies (the caller may delete them while it walks the result).
func indexedBefore(idx *bbolt.Bucket, cutoff time.Time) [][]byte {
	limit := timeKey(cutoff, nil)
	var out [][]byte
	c := idx.Cursor()
	for k, _ := c.First(); entryBefore(k, limit); k, _ = c.Next() {
		out = append(out, bytes.Clone(k))
	}
	return out
}

// entryBefore reports whether k, an entry of a time index (nil: none), is before limit (timeKey(cutoff, nil)).
func entryBefore(k, limit []byte) bool {
	return k != nil && len(k) >= 8 && bytes.Compare(k[:8], limit) < 0
}

// requestTimes are the indexed times (and the version) of a stored request, decoded without its body.
type requestTimes struct {
	Version     int64     `json:"version"`
	NextCheckAt time.Time `json:"nextCheckAt"`
	ClosedAt    time.Time `json:"closedAt"`
}

func timesOf(r Request) requestTimes {
	return requestTimes{Version: r.Version, NextCheckAt: r.NextCheckAt, ClosedAt: r.ClosedAt}
}

// reindexRequest moves the index entries of request id from old's times to updated's.
func reindexRequest(tx *bbolt.Tx, id []byte, old, updated requestTimes) error {
	for _, ix := range []struct {
		name     []byte
		from, to time.Time
	}{
		{bucketRequestsDue, old.NextCheckAt, updated.NextCheckAt},
		{bucketRequestsClosed, old.ClosedAt, updated.ClosedAt},
	} {
		idx := tx.Bucket(ix.name)
		if idx == nil || ix.from.Equal(ix.to) { // no index: a file at an older schema (migration tests)
			continue
		}
		if !ix.from.IsZero() {
			if err := idx.Delete(timeKey(ix.from, id)); err != nil {
				return fmt.Errorf("unindex request %s: %w", id, err)
			}
		}
		if !ix.to.IsZero() {
			if err := idx.Put(timeKey(ix.to, id), nil); err != nil {
				return fmt.Errorf("index request %s: %w", id, err)
			}
		}
	}
	return nil
}

// deleteRequestTx deletes request id, its index entries and, with cards set, the card references stored
// under its id. A missing request is not an error.
func deleteRequestTx(tx *bbolt.Tx, id []byte, cards bool) error {
	b, err := bucket(tx, bucketRequests)
	if err != nil {
		return err
	}
	if raw := b.Get(id); raw != nil {
		var old requestTimes
		_ = json.Unmarshal(raw, &old) // unreadable: no index entries to find
		if err := reindexRequest(tx, id, old, requestTimes{}); err != nil {
			return err
		}
		if err := b.Delete(id); err != nil {
			return err
		}
	}
	if !cards {
		return nil
	}
	cb, err := bucket(tx, bucketCards)
	if err != nil {
		return err
	}
	var refs [][]byte
	if err := scanPrefix(cb, joinKey(string(id), ""), func(k, _ []byte) error {
		refs = append(refs, bytes.Clone(k))
		return nil
	}); err != nil {
		return err
	}
	for _, k := range refs {
		if err := cb.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// listDue returns the requests whose NextCheckAt is at or before q.DueBefore and that match q, read through
// the due index (false when the file has none yet).
func listDue(tx *bbolt.Tx, q RequestQuery) ([]Request, bool, error) {
	idx := tx.Bucket(bucketRequestsDue)
	if idx == nil {
		return nil, false, nil
	}
	b, err := bucket(tx, bucketRequests)
	if err != nil {
		return nil, true, err
	}
	var out []Request
	for _, k := range indexedBefore(idx, q.DueBefore.Add(time.Nanosecond)) {
		raw := b.Get(k[8:])
		if raw == nil {
			continue
		}
		var r Request
		if err := json.Unmarshal(raw, &r); err != nil {
			return nil, true, fmt.Errorf("decode request %q: %w", k[8:], err)
		}
		if q.Matches(r) {
			out = append(out, r)
		}
	}
	return out, true, nil
}

// PruneRequests deletes the requests closed (ClosedAt) more than closedFor ago, with the card references
// stored under their ids, and returns how many it deleted. It walks the closed index from the oldest entry:
// no open request is read. Audit entries stay.
func (s *Store) PruneRequests(ctx context.Context, closedFor time.Duration) (int, error) {
	due := func(tx *bbolt.Tx, cutoff time.Time) (bool, error) {
		idx := tx.Bucket(bucketRequestsClosed)
		if idx == nil {
			return false, nil
		}
		k, _ := idx.Cursor().First() // what indexedBefore would return first
		return entryBefore(k, timeKey(cutoff, nil)), nil
	}
	return s.pruneBefore(ctx, "prune requests", "closedFor", closedFor, due, func(tx *bbolt.Tx, cutoff time.Time) (int, error) {
		idx := tx.Bucket(bucketRequestsClosed)
		if idx == nil {
			return 0, nil
		}
		stale := indexedBefore(idx, cutoff)
		for _, k := range stale {
			if err := deleteRequestTx(tx, k[8:], true); err != nil {
				return 0, err
			}
			if err := idx.Delete(k); err != nil { // an entry left by an unreadable record
				return 0, err
			}
		}
		return len(stale), nil
	})
}

// indexRequests is migration 5: it builds the due and closed indexes of the requests stored before it
// (decoding each once, at the upgrade).
func indexRequests(tx *bbolt.Tx) error {
	for _, name := range [][]byte{bucketRequestsDue, bucketRequestsClosed} {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	b := tx.Bucket(bucketRequests)
	if b == nil {
		return nil
	}
	return b.ForEach(func(k, v []byte) error {
		var rt requestTimes
		if err := json.Unmarshal(v, &rt); err != nil {
			return nil // unreadable: ListRequests reports it; nothing to index
		}
		return reindexRequest(tx, k, requestTimes{}, rt)
	})
}
