package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"go.etcd.io/bbolt"
)

// ClaimActivity inserts key (an activity id) as claimed unless it is already there, BEFORE the caller does
// anything visible, so a Teams redelivery is answered once. Won: the caller processes the activity and then
// calls CompleteActivity. !Won && Done: the caller replays Response. !Won && !Done: another caller is
// processing it now; a claim older than holdFor (its holder died) is taken over (Won).
func (s *Store) ClaimActivity(ctx context.Context, key string, holdFor time.Duration) (Claim, error) {
	const op = "claim activity"
	if err := checkKey(op, "key", key); err != nil {
		return Claim{}, err
	}
	if holdFor <= 0 {
		return Claim{}, invalid(op, "holdFor", fmt.Sprintf("must be positive, got %s", holdFor))
	}
	if resp, ok := s.health.pendingResponse(key); ok {
		// Answered, but the completion could not be written (disk full): never answer it again.
		_ = s.probeWrites(ctx)
		return Claim{Done: true, Response: resp}, nil
	}
	var c Claim
	// Concurrent turns' claims share one commit (group commit); the function is idempotent.
	err := s.batch(ctx, op, func(tx *bbolt.Tx) error {
		c = Claim{}
		b, err := bucket(tx, bucketProcessed)
		if err != nil {
			return err
		}
		now := s.now().UTC()
		if raw := b.Get([]byte(key)); raw != nil {
			var rec processedRecord
			if err := json.Unmarshal(raw, &rec); err != nil {
				return fmt.Errorf("decode claim %q: %w", key, err)
			}
			if !rec.Claimed {
				c.Done, c.Response = true, rec.Resp
				return nil
			}
			if now.Sub(rec.At) < holdFor {
				return nil
			}
			s.log.Warn("taking over an abandoned activity claim", "key", key, "claimed_at", rec.At)
		}
		c.Won = true
		raw, err := json.Marshal(processedRecord{At: now, Claimed: true})
		if err != nil {
			return err
		}
		return putProcessed(tx, []byte(key), now, raw)
	})
	return c, err
}

// CompleteActivity records the activity key as processed with resp (the response to replay; may be nil).
// When the write fails (a full disk) the completion is kept in memory: later claims of key replay resp, and
// Ping writes it once writes succeed again; the error is still returned.
func (s *Store) CompleteActivity(ctx context.Context, key string, resp []byte) error {
	if err := s.MarkProcessed(ctx, key, resp); err != nil {
		if !errors.Is(err, ErrInvalid) && ctx.Err() == nil {
			s.health.remember(key, bytes.Clone(resp))
		}
		return err
	}
	s.health.forget(key)
	return nil
}

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
	err := s.update(ctx, op+" "+name, func(tx *bbolt.Tx) error {
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
	return s.update(ctx, op+" "+name, func(tx *bbolt.Tx) error {
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
