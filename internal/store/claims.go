package store

import (
	"context"
	"encoding/json"
	"time"

	"go.etcd.io/bbolt"
)

type leaseRecord struct {
	Holder string    `json:"holder"`
	Until  time.Time `json:"until"`
}

// AcquireLease gives the lease name to holder for ttl if it is free, expired or already held by holder
// (a renewal); it reports false when someone else holds it.
func (s *Store) AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	const op = "acquire lease"
	if err := CheckLeaseArgs(op, name, holder, ttl); err != nil {
		return false, err
	}
	got := false
	err := s.batch(ctx, op+" "+name, func(tx *bbolt.Tx) error {
		got = false
		b, err := bucket(tx, bucketLeases)
		if err != nil {
			return err
		}
		now := s.now().UTC()
		if raw := b.Get([]byte(name)); raw != nil {
			var rec leaseRecord
			if err := json.Unmarshal(raw, &rec); err == nil && rec.Holder != holder && rec.Until.After(now) {
				return nil
			}
		}
		got = true
		return putJSONTx(b, []byte(name), leaseRecord{Holder: holder, Until: now.Add(ttl)})
	})
	return got, err
}

// ReleaseLease frees the lease name if holder holds it; otherwise it does nothing.
func (s *Store) ReleaseLease(ctx context.Context, name, holder string) error {
	const op = "release lease"
	if err := checkKey(op, "name", name); err != nil {
		return err
	}
	if err := checkKey(op, "holder", holder); err != nil {
		return err
	}
	return s.batch(ctx, op+" "+name, func(tx *bbolt.Tx) error {
		b, err := bucket(tx, bucketLeases)
		if err != nil {
			return err
		}
		var rec leaseRecord
		if raw := b.Get([]byte(name)); raw == nil || json.Unmarshal(raw, &rec) != nil || rec.Holder != holder {
			return nil
		}
		return b.Delete([]byte(name))
	})
}

func putJSONTx(b *bbolt.Bucket, key []byte, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(key, raw)
}
