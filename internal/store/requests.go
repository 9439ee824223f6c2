package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"go.etcd.io/bbolt"
)

var bucketRequests = []byte("requests")

// CreateRequest stores a new request (Version 1, CreatedAt/UpdatedAt defaulted to now) and returns it as
// stored. An id already stored is an error matching ErrExists.
func (s *Store) CreateRequest(ctx context.Context, r Request) (Request, error) {
	r, err := PrepareCreate(r, s.now())
	if err != nil {
		return Request{}, err
	}
	raw, err := json.Marshal(r)
	if err != nil {
		return Request{}, fmt.Errorf("create request %s: encode: %w", r.ID, err)
	}
	err = s.batch(ctx, "create request "+r.ID, func(tx *bbolt.Tx) error {
		b, err := bucket(tx, bucketRequests)
		if err != nil {
			return err
		}
		if b.Get([]byte(r.ID)) != nil {
			return ErrExists
		}
		if err := reindexRequest(tx, []byte(r.ID), requestTimes{}, timesOf(r)); err != nil {
			return err
		}
		return b.Put([]byte(r.ID), raw)
	})
	if err != nil {
		return Request{}, err
	}
	return r, nil
}

// GetRequest returns the request stored under id, or an error matching ErrNotFound.
func (s *Store) GetRequest(ctx context.Context, id string) (Request, error) {
	const op = "get request"
	if err := checkKey(op, "id", id); err != nil {
		return Request{}, err
	}
	var r Request
	found, err := s.getRecord(ctx, op+" "+id, bucketRequests, []byte(id), &r)
	if err == nil && !found {
		err = fmt.Errorf("%s %s: %w", op, id, ErrNotFound)
	}
	return r, err
}

// UpdateRequest reads the request, calls fn on a copy and writes the result back only if the stored version
// is still the one read (compare-and-swap); when another writer won, it re-reads and calls fn again, at most
// MaxUpdateAttempts times, then fails with ErrConflict. fn runs outside any transaction (it may call the
// Store). An error from fn aborts with nothing written; ErrNoChange returns the unchanged record.
func (s *Store) UpdateRequest(ctx context.Context, id string, fn func(r *Request) error) (Request, error) {
	const op = "update request"
	if fn == nil {
		return Request{}, invalid(op, "fn", "is required")
	}
	for attempt := range MaxUpdateAttempts {
		if err := CASBackoff(ctx, attempt); err != nil {
			return Request{}, fmt.Errorf("%s %s: %w", op, id, err)
		}
		old, err := s.GetRequest(ctx, id)
		if err != nil {
			return Request{}, fmt.Errorf("%s: %w", op, err)
		}
		upd := CloneRequest(old)
		if err := fn(&upd); errors.Is(err, ErrNoChange) {
			return old, nil
		} else if err != nil {
			return Request{}, fmt.Errorf("%s %s: %w", op, id, err)
		}
		next, err := PrepareUpdate(old, upd, s.now())
		if err != nil {
			return Request{}, err
		}
		won, err := s.swapRequest(ctx, next, old.Version)
		if err != nil {
			return Request{}, err
		}
		if won {
			return next, nil
		}
	}
	return Request{}, fmt.Errorf("%s %s: gave up after %d attempts: %w", op, id, MaxUpdateAttempts, ErrConflict)
}

// swapRequest writes r if the stored version is still version; false when another writer came first.
func (s *Store) swapRequest(ctx context.Context, r Request, version int64) (bool, error) {
	raw, err := json.Marshal(r)
	if err != nil {
		return false, fmt.Errorf("update request %s: encode: %w", r.ID, err)
	}
	won := false
	err = s.batch(ctx, "update request "+r.ID, func(tx *bbolt.Tx) error {
		won = false
		b, err := bucket(tx, bucketRequests)
		if err != nil {
			return err
		}
		cur := b.Get([]byte(r.ID))
		if cur == nil {
			return ErrNotFound
		}
		var stored requestTimes
		if err := json.Unmarshal(cur, &stored); err != nil {
			return fmt.Errorf("decode stored version: %w", err)
		}
		if stored.Version != version {
			return nil
		}
		won = true
		if err := reindexRequest(tx, []byte(r.ID), stored, timesOf(r)); err != nil {
			return err
		}
		return b.Put([]byte(r.ID), raw)
	})
	return won, err
}

// ListRequests returns the requests matching q, ordered by CreatedAt then ID. A DueBefore query reads only
// the requests the due index names (the tracker's wake-up never decodes a closed request); any other query
// scans every request (a single-instance installation holds few, and PruneRequests bounds the closed ones).
// PostgreSQL answers from indexed columns.
func (s *Store) ListRequests(ctx context.Context, q RequestQuery) ([]Request, error) {
	if err := CheckRequestQuery(q); err != nil {
		return nil, err
	}
	var out []Request
	err := s.view(ctx, "list requests", func(tx *bbolt.Tx) error {
		if !q.DueBefore.IsZero() {
			due, indexed, err := listDue(tx, q)
			if indexed || err != nil {
				out = due
				return err
			}
		}
		b, err := bucket(tx, bucketRequests)
		if err != nil {
			return err
		}
		return b.ForEach(func(k, v []byte) error {
			var r Request
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("decode request %q: %w", k, err)
			}
			if q.Matches(r) {
				out = append(out, r)
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	SortRequests(out)
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[:q.Limit]
	}
	return out, nil
}

// SortRequests orders rs by CreatedAt, then ID (the order ListRequests promises).
func SortRequests(rs []Request) {
	slices.SortFunc(rs, func(a, b Request) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}

// DeleteRequest removes the request stored under id (and its index entries); deleting a missing request is
// not an error.
func (s *Store) DeleteRequest(ctx context.Context, id string) error {
	const op = "delete request"
	if err := checkKey(op, "id", id); err != nil {
		return err
	}
	return s.batch(ctx, op+" "+id, func(tx *bbolt.Tx) error { return deleteRequestTx(tx, []byte(id), false) })
}

// UpdateKV is compare-and-swap on the generic record bucket/key: fn gets the current raw JSON (nil when
// absent) and returns the new raw JSON (nil deletes the record) or ErrNoChange. The write happens only if
// the record is still what fn saw; otherwise fn runs again (at most MaxUpdateAttempts times, then
// ErrConflict). fn runs outside any transaction.
func (s *Store) UpdateKV(ctx context.Context, bucketName, key string, fn func(raw []byte) ([]byte, error)) error {
	const op = "update record"
	name, err := kvBucket(op, bucketName)
	if err != nil {
		return err
	}
	if err := checkKey(op, "key", key); err != nil {
		return err
	}
	if fn == nil {
		return invalid(op, "fn", "is required")
	}
	for attempt := range MaxUpdateAttempts {
		if err := CASBackoff(ctx, attempt); err != nil {
			return fmt.Errorf("%s %s/%s: %w", op, bucketName, key, err)
		}
		var old []byte
		if err := s.view(ctx, op, func(tx *bbolt.Tx) error {
			if b := tx.Bucket(name); b != nil {
				if v := b.Get([]byte(key)); v != nil {
					old = bytes.Clone(v)
				}
			}
			return nil
		}); err != nil {
			return err
		}
		next, err := fn(bytes.Clone(old))
		if errors.Is(err, ErrNoChange) {
			return nil
		} else if err != nil {
			return fmt.Errorf("%s %s/%s: %w", op, bucketName, key, err)
		}
		if next != nil && !json.Valid(next) {
			return invalid(op, "value", fmt.Sprintf("fn returned invalid JSON for %s/%s", bucketName, key))
		}
		won := false
		err = s.batch(ctx, op, func(tx *bbolt.Tx) error {
			won = false
			b, err := tx.CreateBucketIfNotExists(name)
			if err != nil {
				return err
			}
			cur := b.Get([]byte(key))
			if (cur == nil) != (old == nil) || !bytes.Equal(cur, old) {
				return nil
			}
			won = true
			if next == nil {
				return b.Delete([]byte(key))
			}
			return b.Put([]byte(key), next)
		})
		if err != nil {
			return err
		}
		if won {
			return nil
		}
	}
	return fmt.Errorf("%s %s/%s: gave up after %d attempts: %w", op, bucketName, key, MaxUpdateAttempts, ErrConflict)
}
