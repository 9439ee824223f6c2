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
// reference (when it changed) and the dialogs its answer points at (TurnWrites) in one group-committed
// transaction. The file lock makes this process the only
// writer of the file, so an in-memory claim is seen by every delivery that can reach the file; a crash
// mid-turn loses only the claim of an activity that was not answered (Teams redelivers it and it is
// processed then). A completed record on disk answers a redelivery after the turn and after a restart.

// activityClaims holds the activities this process is processing now: when each was claimed (or last
// renewed) and the token of its holder.
type activityClaims struct {
	mu   sync.Mutex
	held map[string]heldClaim
}

type heldClaim struct {
	at    time.Time
	token string
}

// take claims key at now unless another delivery holds it since less than holdFor; took reports a takeover
// of an older claim. The winner gets a new token.
func (c *activityClaims) take(key string, now time.Time, holdFor time.Duration) (token string, tookOver bool, since time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if h, ok := c.held[key]; ok {
		if now.Sub(h.at) < holdFor {
			return "", false, h.at
		}
		tookOver, since = true, h.at
	}
	if c.held == nil {
		c.held = map[string]heldClaim{}
	}
	token = NewClaimToken()
	c.held[key] = heldClaim{at: now, token: token}
	return token, tookOver, since
}

// release drops the claim of key if token holds it (a claim taken over stays with its new holder); an empty
// token releases nothing.
func (c *activityClaims) release(key, token string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if h, ok := c.held[key]; ok && h.token == token {
		delete(c.held, key)
	}
}

// renew restarts the age of the claim of key at now if token holds it.
func (c *activityClaims) renew(key, token string, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	h, ok := c.held[key]
	if !ok || h.token != token {
		return false
	}
	c.held[key] = heldClaim{at: now, token: token}
	return true
}

// completionLocks serializes the completions of one activity key (two only meet when a claim was taken over):
// the second then finds the first's record in the index (and the state file, or the write-ahead log's
// overlay, which its transaction copies in first), so the first completion wins whichever way each is written.
type completionLocks struct {
	mu   sync.Mutex
	held map[string]chan struct{}
}

// lock waits until no other completion of key runs and returns the function that ends this one.
func (l *completionLocks) lock(key string) (unlock func()) {
	for {
		l.mu.Lock()
		busy, ok := l.held[key]
		if !ok {
			if l.held == nil {
				l.held = map[string]chan struct{}{}
			}
			done := make(chan struct{})
			l.held[key] = done
			l.mu.Unlock()
			return func() {
				l.mu.Lock()
				delete(l.held, key)
				l.mu.Unlock()
				close(done)
			}
		}
		l.mu.Unlock()
		<-busy
	}
}

// ClaimActivity claims key (an activity id) BEFORE the caller does anything visible, so a Teams redelivery
// is answered once. Won: the caller processes the activity and then calls CompleteActivity or CompleteTurn
// (or ReleaseActivity when it failed) with the claim's Token. !Won && Done: the caller replays Response.
// !Won && !Done: another delivery is processing it now; a claim older than holdFor (its turn hangs) is taken
// over (Won, with a new token; see Claim for what the earlier holder can still do).
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
	if _, answered := s.health.Answer(key); answered {
		// Answered, but the completion could not be written (disk full): never answer it again. An answer
		// whose dialogs are not written yet is not replayed: the redelivery waits, as on a running turn.
		_ = s.probeWrites(ctx)
		if c, answered := s.health.Answer(key); answered {
			return c, nil
		}
		// Written just now: read from the file below.
	}
	token, tookOver, since := s.claims.take(key, s.now().UTC(), holdFor)
	if tookOver {
		s.log.Warn("taking over an abandoned activity claim", "key", key, "claimed_at", since)
	}
	// Checked after taking the claim: a completion is written before its claim is released, so a delivery
	// that finds the claim free finds the completion. A claim still held may be completed too (the turn it
	// took over completed first): the activity is done then, as on PostgreSQL.
	resp, done, err := s.Processed(ctx, key)
	if err != nil {
		s.claims.release(key, token) // no-op when not won (token "")
		return Claim{}, fmt.Errorf("%s: %w", op, err)
	}
	switch {
	case done:
		s.claims.release(key, token)
		return Claim{Done: true, Response: resp}, nil
	case token == "":
		return Claim{}, nil
	default:
		return Claim{Won: true, Token: token}, nil
	}
}

// RenewActivity restarts the age of the claim of key if token still holds it, so no other delivery takes
// the activity over; false when the claim was lost (taken over, released or completed).
func (s *Store) RenewActivity(ctx context.Context, key, token string) (bool, error) {
	if err := CheckClaim("renew activity", key, token); err != nil {
		return false, err
	}
	return s.claims.renew(key, token, s.now().UTC()), nil
}

// ReleaseActivity gives up the claim of key after its turn failed, so a redelivery processes it at once
// instead of waiting for the claim to age. Only the holder of token releases: a claim taken over stays with
// its new holder. A completed activity stays completed, and so does one answered whose completion could not
// be written (its claim is kept, see CompleteTurn).
func (s *Store) ReleaseActivity(ctx context.Context, key, token string) error {
	if err := CheckClaim("release activity", key, token); err != nil {
		return err
	}
	if _, answered := s.health.Answer(key); answered {
		return nil
	}
	s.claims.release(key, token)
	return nil
}

// CompleteActivity records the activity key as processed with resp (the response to replay; may be nil).
// When the write fails (a full disk) the completion is kept in memory: later claims of key replay resp, and
// it is written in the background (and by Ping) once writes succeed again; the error is still returned.
func (s *Store) CompleteActivity(ctx context.Context, key, token string, resp []byte) error {
	return s.CompleteTurn(ctx, key, token, resp, TurnWrites{})
}

// CompleteTurn is CompleteActivity that also writes w (the turn's conversation reference and the dialogs its
// answer points at, see TurnWrites) in the same transaction. Writes CheckTurnWrites refuses are refused, and
// nothing is written. The first completion of key wins (see Claim): a later one, by a turn whose claim was
// taken over, keeps the stored answer (and the stored dialogs of the keys it gives). When the write fails the
// answer is kept in memory with w (its reference, stamped now when it has no UpdatedAt, and its dialogs) and
// written later, as CompleteActivity says; the reference then does not replace a newer one stored meanwhile.
func (s *Store) CompleteTurn(ctx context.Context, key, token string, resp []byte, w TurnWrites) error {
	if err := CheckClaim(opCompleteTurn, key, token); err != nil {
		return err
	}
	if err := CheckTurnWrites(opCompleteTurn, w); err != nil {
		return err
	}
	w = w.Stamped(s.now().UTC())
	if err := s.writeCompletion(ctx, key, token, resp, w); err != nil {
		if !errors.Is(err, ErrInvalid) && ctx.Err() == nil {
			s.health.Remember(key, token, resp, w) // the claim is kept: ReleaseActivity leaves it
		}
		return err
	}
	return nil
}

// opCompleteTurn names a completion's transaction (CompleteTurn's, or a pending answer's written later).
const opCompleteTurn = "complete turn"

// writeCompletion writes the completion of key (unless one is stored: the first wins) and w (its reference
// stamped, see TurnWrites.Stamped), then drops the claim token holds and any pending answer of key. A pending
// answer is written with it (PendingAnswers.Flush).
func (s *Store) writeCompletion(ctx context.Context, key, token string, resp []byte, w TurnWrites) error {
	defer s.writingRecord(key)()
	now := s.now().UTC()
	h, sec, seq := keyHash(key), logSecond(now), s.processed.nextSeq()
	var kept bool
	var ref []byte // the reference encoded outside the write transaction, which the file's turns take in turn
	if w.Ref != nil {
		var err error
		if ref, err = json.Marshal(*w.Ref); err != nil {
			return fmt.Errorf("encode conversation: %w", err)
		}
	}
	value := encodeProcessed(key, resp)
	if s.walTurnEligible(ctx, h, w, ref, len(value)+dialogsSize(w.Dialogs)) {
		err := s.appendWAL(ctx, opCompleteTurn, &walEntry{key: key, hash: h, sec: sec, lseq: seq, at: now, dialogs: w.clone().Dialogs, value: value})
		if err == nil {
			s.written()
			s.finishCompletion(key, token, h, sec, false)
			return nil
		}
		if !errors.Is(err, errWALUnavailable) {
			return err
		}
	}
	// Concurrent turns' completions share one commit (group commit); the function is idempotent.
	err := s.batch(ctx, opCompleteTurn, func(tx *bbolt.Tx) error {
		var err error
		if kept, err = s.putCompletion(tx, key, h, sec, seq, value); err != nil {
			return err
		}
		if err := putDialogs(tx, w.Dialogs, now, !kept); err != nil || w.Ref == nil {
			return err
		}
		return putConversationEncoded(tx, *w.Ref, ref, w.KeepNewerRef)
	})
	if err != nil {
		return err
	}
	s.written()
	s.finishCompletion(key, token, h, sec, kept)
	return nil
}

// writingRecord begins a write of key's processed-activity record: it waits until no other completion of key
// runs (completing) and holds indexing shared, so that Close waits for the record's index entry; done ends it.
// Both are always taken in this order.
func (s *Store) writingRecord(key string) (done func()) {
	unlock := s.completing.lock(key)
	s.indexing.RLock()
	return func() {
		s.indexing.RUnlock()
		unlock()
	}
}

// written runs the test hook afterWrite, if set.
func (s *Store) written() {
	if s.afterWrite != nil {
		s.afterWrite()
	}
}

// finishCompletion indexes the completion of key written in second sec (unless an earlier one was kept), then
// drops the pending answer of key and the claim token holds.
func (s *Store) finishCompletion(key, token string, h, sec uint32, kept bool) {
	if kept {
		s.log.Warn("activity completed twice (its claim was taken over); the first answer is kept", "key", key)
	} else {
		s.processed.add(h, sec) // before the claim is released: a delivery that finds it free finds this
	}
	s.health.Forget(key)
	s.claims.release(key, token)
}

// putCompletion appends the completion of key (value, its encodeProcessed record) at log key (sec, seq) unless
// a record of key is stored (kept reports that).
func (s *Store) putCompletion(tx *bbolt.Tx, key string, h, sec, seq uint32, value []byte) (kept bool, err error) {
	lk, _, err := s.findProcessed(tx, key, h)
	if err != nil || lk != nil {
		return lk != nil, err
	}
	return false, putProcessedRecord(tx, sec, seq, value)
}

// putConversationEncoded writes ref (merged with the stored reference, see MergeConversation) unless the stored
// one equals it in everything but UpdatedAt, or (keepNewer) is newer than it. enc is ref encoded by json.Marshal
// (before the write transaction). Nearly every turn finds its reference unchanged: the stored bytes then equal
// enc up to "updatedAt" and are not decoded (sameUpToUpdatedAt).
func putConversationEncoded(tx *bbolt.Tx, ref ConversationRef, enc []byte, keepNewer bool) error {
	b, err := bucket(tx, bucketConversations)
	if err != nil {
		return err
	}
	key := joinKey(ref.TenantID, ref.AADObjectID)
	enc, write, err := conversationToWrite(b.Get(key), ref, enc, keepNewer)
	if err != nil || !write {
		return err
	}
	return b.Put(key, enc)
}

// conversationToWrite decides what putConversationEncoded writes over the stored reference raw (nil: none):
// write is false when raw equals ref in everything but UpdatedAt (after MergeConversation), or (keepNewer) is
// newer; otherwise enc is what to store (ref merged with raw, encoded).
func conversationToWrite(raw []byte, ref ConversationRef, enc []byte, keepNewer bool) ([]byte, bool, error) {
	if raw == nil {
		return enc, true, nil
	}
	if sameUpToUpdatedAt(raw, enc) {
		return nil, false, nil // unchanged (SameConversation), so not written whichever is newer
	}
	var old ConversationRef
	if json.Unmarshal(raw, &old) != nil {
		return enc, true, nil
	}
	if keepNewer && old.UpdatedAt.After(ref.UpdatedAt) {
		return nil, false, nil
	}
	merged := MergeConversation(old, ref)
	if SameConversation(old, merged) {
		return nil, false, nil
	}
	if merged != ref {
		var err error
		if enc, err = json.Marshal(merged); err != nil {
			return nil, false, fmt.Errorf("encode conversation: %w", err)
		}
	}
	return enc, true, nil
}

// updatedAtKey opens the last property of an encoded ConversationRef. A string value cannot hold it: its
// quotes would be escaped.
var updatedAtKey = []byte(`,"updatedAt":`)

// sameUpToUpdatedAt reports whether the stored reference raw is enc (a ConversationRef encoded by json.Marshal)
// in every byte before the value of "updatedAt", and ends with a readable time: then both decode to references
// equal in everything but UpdatedAt. Anything else (an older encoding, a name or locale that MergeConversation
// would keep from the stored reference) reports false and is decided by decoding.
func sameUpToUpdatedAt(raw, enc []byte) bool {
	i := bytes.Index(enc, updatedAtKey)
	if i < 0 || !bytes.HasPrefix(raw, enc[:i+len(updatedAtKey)]) {
		return false
	}
	rest := raw[i+len(updatedAtKey):]
	if len(rest) < 2 || rest[len(rest)-1] != '}' {
		return false
	}
	var t time.Time
	return t.UnmarshalJSON(rest[:len(rest)-1]) == nil
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
