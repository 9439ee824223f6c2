package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.etcd.io/bbolt"
)

// A turn (one activity Teams delivers) costs one durable write on bbolt: the claim that makes a redelivery be
// answered once is process-local, and the completion record is written together with the turn's conversation
// reference (when it changed) in one group-committed transaction. The file lock makes this process the only
// writer of the file, so an in-memory claim is seen by every delivery that can reach the file; a crash
// mid-turn loses only the claim of an activity that was not answered (Teams redelivers it and it is
// processed then). A completed record on disk answers a redelivery after the turn and after a restart.

// activityClaims holds the activities this process is processing now, with when each was claimed.
type activityClaims struct {
	mu   sync.Mutex
	held map[string]time.Time
}

// take claims key at now unless another delivery holds it since less than holdFor; took reports a takeover
// of an older claim.
func (c *activityClaims) take(key string, now time.Time, holdFor time.Duration) (won, tookOver bool, since time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if at, ok := c.held[key]; ok {
		if now.Sub(at) < holdFor {
			return false, false, at
		}
		tookOver, since = true, at
	}
	if c.held == nil {
		c.held = map[string]time.Time{}
	}
	c.held[key] = now
	return true, tookOver, since
}

func (c *activityClaims) release(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.held, key)
}

// ClaimActivity claims key (an activity id) BEFORE the caller does anything visible, so a Teams redelivery
// is answered once. Won: the caller processes the activity and then calls CompleteActivity or CompleteTurn
// (or ReleaseActivity when it failed). !Won && Done: the caller replays Response. !Won && !Done: another
// delivery is processing it now; a claim older than holdFor (its turn hangs) is taken over (Won).
//
// On bbolt the claim is held in memory (nothing is written): only the completion is durable.
func (s *Store) ClaimActivity(ctx context.Context, key string, holdFor time.Duration) (Claim, error) {
	const op = "claim activity"
	if err := checkKey(op, "key", key); err != nil {
		return Claim{}, err
	}
	if err := CheckPositive(op, "holdFor", holdFor); err != nil {
		return Claim{}, err
	}
	if resp, ok := s.health.Answer(key); ok {
		// Answered, but the completion could not be written (disk full): never answer it again.
		_ = s.probeWrites(ctx)
		return Claim{Done: true, Response: resp}, nil
	}
	won, tookOver, since := s.claims.take(key, s.now().UTC(), holdFor)
	if !won {
		return Claim{}, nil
	}
	if tookOver {
		s.log.Warn("taking over an abandoned activity claim", "key", key, "claimed_at", since)
	}
	// Checked after taking the claim: a completion is written before its claim is released, so a delivery
	// that finds the claim free finds the completion.
	resp, done, err := s.Processed(ctx, key)
	if err != nil {
		s.claims.release(key)
		return Claim{}, fmt.Errorf("%s: %w", op, err)
	}
	if done {
		s.claims.release(key)
		return Claim{Done: true, Response: resp}, nil
	}
	return Claim{Won: true}, nil
}

// ReleaseActivity gives up the claim of key after its turn failed, so a redelivery processes it at once
// instead of waiting for the claim to age. A completed activity stays completed.
func (s *Store) ReleaseActivity(ctx context.Context, key string) error {
	if err := checkKey("release activity", "key", key); err != nil {
		return err
	}
	s.claims.release(key)
	return nil
}

// CompleteActivity records the activity key as processed with resp (the response to replay; may be nil).
// When the write fails (a full disk) the completion is kept in memory: later claims of key replay resp, and
// Ping writes it once writes succeed again; the error is still returned.
func (s *Store) CompleteActivity(ctx context.Context, key string, resp []byte) error {
	return s.CompleteTurn(ctx, key, resp, nil)
}

// CompleteTurn is CompleteActivity that also stores ref (the conversation reference of the turn's user, nil
// for none) in the same transaction, unless the stored reference equals it in everything but UpdatedAt; an
// empty UserName or Locale in ref keeps the stored one. A ref PutConversation would refuse is refused the same
// way, and nothing is written.
func (s *Store) CompleteTurn(ctx context.Context, key string, resp []byte, ref *ConversationRef) error {
	const op = "complete turn"
	if err := checkKey(op, "key", key); err != nil {
		return err
	}
	now := s.now().UTC()
	if ref != nil {
		if err := ValidateConversation(*ref); err != nil {
			return err
		}
		if ref.UpdatedAt.IsZero() {
			ref.UpdatedAt = now
		}
	}
	raw, err := json.Marshal(processedRecord{At: now, Resp: resp})
	if err != nil {
		return fmt.Errorf("%s: encode: %w", op, err)
	}
	// Concurrent turns' completions share one commit (group commit); the function is idempotent.
	err = s.batch(ctx, op, func(tx *bbolt.Tx) error {
		if err := putProcessed(tx, []byte(key), now, raw); err != nil {
			return err
		}
		if ref == nil {
			return nil
		}
		return putConversationIfChanged(tx, *ref)
	})
	if err != nil {
		if !errors.Is(err, ErrInvalid) && ctx.Err() == nil {
			s.health.Remember(key, bytes.Clone(resp))
		}
		s.claims.release(key)
		return err
	}
	s.health.Forget(key)
	s.claims.release(key)
	return nil
}

// putConversationIfChanged writes ref (merged with the stored reference, see MergeConversation) unless the
// stored one equals it in everything but UpdatedAt.
func putConversationIfChanged(tx *bbolt.Tx, ref ConversationRef) error {
	b, err := bucket(tx, bucketConversations)
	if err != nil {
		return err
	}
	key := joinKey(ref.TenantID, ref.AADObjectID)
	if raw := b.Get(key); raw != nil {
		var old ConversationRef
		if json.Unmarshal(raw, &old) == nil {
			ref = MergeConversation(old, ref)
			if SameConversation(old, ref) {
				return nil
			}
		}
	}
	raw, err := json.Marshal(ref)
	if err != nil {
		return fmt.Errorf("encode conversation: %w", err)
	}
	return b.Put(key, raw)
}

// MergeConversation is the reference a turn stores: ref, with the stored old UserName and Locale where ref has
// none (an invoke may carry neither).
func MergeConversation(old, ref ConversationRef) ConversationRef {
	if ref.UserName == "" {
		ref.UserName = old.UserName
	}
	if ref.Locale == "" {
		ref.Locale = old.Locale
	}
	return ref
}

// SameConversation reports whether a and b are equal in everything but UpdatedAt (an unchanged reference is
// not rewritten).
func SameConversation(a, b ConversationRef) bool {
	a.UpdatedAt = b.UpdatedAt
	return a == b
}
