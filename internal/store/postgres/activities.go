package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/accessbot/accessbot/internal/store"
)

// ---- processed activities and claims ----

// Processed reports whether key was marked processed (or completed), and the response stored with it.
func (s *Store) Processed(ctx context.Context, key string) ([]byte, bool, error) {
	const op = "get processed"
	if err := store.CheckKey(op, "key", key); err != nil {
		return nil, false, err
	}
	var resp []byte
	var claimed bool
	err := s.pool.QueryRow(ctx, `SELECT response, claimed FROM processed WHERE key = $1`, key).Scan(&resp, &claimed)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", op, err)
	}
	if claimed {
		return nil, false, nil
	}
	return resp, true, nil
}

// MarkProcessed records key as processed together with resp (may be nil); marking again replaces resp.
func (s *Store) MarkProcessed(ctx context.Context, key string, resp []byte) error {
	const op = "mark processed"
	if err := store.CheckKey(op, "key", key); err != nil {
		return err
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO processed (key, at, claimed, response) VALUES ($1, now(), false, $2)
		ON CONFLICT (key) DO UPDATE SET at = now(), claimed = false, response = EXCLUDED.response, holder = NULL`, key, resp)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}

// CompleteActivity records the claimed activity key as processed with resp (see CompleteTurn).
func (s *Store) CompleteActivity(ctx context.Context, key, token string, resp []byte) error {
	return s.CompleteTurn(ctx, key, token, resp, store.TurnWrites{})
}

// CompleteTurn records the claimed activity key as processed with resp and writes w (the conversation
// reference and the dialogs the answer points at) as store.Store.CompleteTurn does, in one statement: one round
// trip, one transaction. The reference is rewritten only when it changed in anything but updatedAt; an empty
// userName or locale keeps the stored one. The first completion of key wins (see store.Claim): the completion
// overwrites a claim row, whoever holds it, but never a completed row, and a completion that finds the row
// completed writes only the dialogs of keys not stored yet.
//
// When the write fails (the database stopped answering after the turn was answered) the answer is kept in
// memory with w (the reference, stamped now when it has no updatedAt, and the dialogs), as the bbolt store
// does on a full disk: a redelivery to this replica replays it (or waits, while dialogs it points at are
// unwritten), the claim is not released but renewed (so a redelivery to another replica waits on it instead
// of taking it over), and the completion is written with the reference and the dialogs in the background —
// and by Ping — once the database answers again (the reference then does not replace a newer one stored
// meanwhile); the error is still returned.
func (s *Store) CompleteTurn(ctx context.Context, key, token string, resp []byte, w store.TurnWrites) error {
	w = w.Stamped(s.now().UTC())
	err := s.completeTurn(ctx, key, token, resp, w)
	switch {
	case err == nil:
		s.answers.Forget(key)
	case !errors.Is(err, store.ErrInvalid) && ctx.Err() == nil:
		s.answers.Remember(key, token, resp, w)
		s.log.Warn("activity answered but its completion could not be written; kept in memory until the database answers",
			"key", key, "err", err)
	}
	return err
}

// completeProcessed writes the completion of $1 with response $2 over a claim, never over a completion; it
// returns a row only when it wrote.
const completeProcessed = `INSERT INTO processed (key, at, claimed, response) VALUES ($1, now(), false, $2)
	ON CONFLICT (key) DO UPDATE SET at = now(), claimed = false, response = EXCLUDED.response, holder = NULL
		WHERE processed.claimed
	RETURNING 1`

// completeConversation (a part of the completion statement, its six parameter numbers and a further condition
// filled in) writes the reference (tenant, user, conversation, service URL, updatedAt, JSON) unless the stored
// one equals it in everything but updatedAt (or the condition, keepNewerConversation, fails).
const completeConversation = `conv AS (
		INSERT INTO conversations AS c (tenant_id, aad_object_id, conversation_id, service_url, updated_at, ref)
		VALUES ($%d, $%d, $%d, $%d, $%d, $%d)
		ON CONFLICT (tenant_id, aad_object_id) DO UPDATE SET conversation_id = EXCLUDED.conversation_id,
			service_url = EXCLUDED.service_url, updated_at = EXCLUDED.updated_at,
			ref = jsonb_strip_nulls(jsonb_build_object('userName', c.ref->'userName', 'locale', c.ref->'locale')) || EXCLUDED.ref
		WHERE ((jsonb_strip_nulls(jsonb_build_object('userName', c.ref->'userName', 'locale', c.ref->'locale')) || EXCLUDED.ref) - 'updatedAt')
			IS DISTINCT FROM (c.ref - 'updatedAt')%s)`

// keepNewerConversation is completeConversation's condition for TurnWrites.KeepNewerRef: the stored reference
// is not newer.
const keepNewerConversation = ` AND c.updated_at <= EXCLUDED.updated_at`

// completeDialogs (a part of the completion statement) writes the dialogs keyed by the text array $%d with the
// JSON texts of the array $%d; a stored key is replaced only when the completion wrote (done has a row).
const completeDialogs = `dlg AS (
		INSERT INTO dialogs (key, value, updated_at)
		SELECT k, v::jsonb, now() FROM unnest($%d::text[], $%d::text[]) AS w(k, v)
		ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at
			WHERE EXISTS (SELECT 1 FROM done))`

// completeTurn writes the completion of key with w (its reference stamped, see store.TurnWrites.Stamped) in
// one statement (CompleteTurn's, and a pending answer's with its reference and dialogs: PendingAnswers.Flush).
func (s *Store) completeTurn(ctx context.Context, key, token string, resp []byte, w store.TurnWrites) error {
	const op = "complete turn"
	if err := store.CheckClaim(op, key, token); err != nil {
		return err
	}
	if err := store.CheckTurnWrites(op, w); err != nil {
		return err
	}
	sql, args, err := s.completionStatement(key, resp, w)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	// A data-modifying WITH runs to completion whether or not the outer statement reads it.
	var wrote int
	if err := s.pool.QueryRow(ctx, sql, args...).Scan(&wrote); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if wrote == 0 { // key was completed already: two deliveries processed it
		s.log.Warn("activity completed twice (its claim was taken over); the first answer is kept", "key", key)
	}
	return nil
}

// completionStatement is the one statement of a completion with w: it returns one row, how many completions
// it wrote (0: key was completed already).
func (s *Store) completionStatement(key string, resp []byte, w store.TurnWrites) (string, []any, error) {
	parts := []string{`done AS (` + completeProcessed + `)`}
	args := []any{key, resp}
	if w.Ref != nil {
		r := w.Ref
		raw, err := json.Marshal(r)
		if err != nil {
			return "", nil, fmt.Errorf("encode conversation: %w", err)
		}
		cond := ""
		if w.KeepNewerRef {
			cond = keepNewerConversation
		}
		n := len(args)
		parts = append(parts, fmt.Sprintf(completeConversation, n+1, n+2, n+3, n+4, n+5, n+6, cond))
		args = append(args, r.TenantID, r.AADObjectID, r.ConversationID, r.ServiceURL, r.UpdatedAt, raw)
	}
	if len(w.Dialogs) > 0 {
		keys, values := make([]string, len(w.Dialogs)), make([]string, len(w.Dialogs))
		for i, d := range w.Dialogs {
			keys[i], values[i] = d.Key, string(d.Value)
		}
		parts = append(parts, fmt.Sprintf(completeDialogs, len(args)+1, len(args)+2))
		args = append(args, keys, values)
	}
	return `WITH ` + strings.Join(parts, ", ") + ` SELECT count(*) FROM done`, args, nil
}

// RenewActivity restarts the age of the claim of key (on the database clock) if token still holds it, so no
// other replica takes the activity over; false when the claim was lost (taken over, released or completed).
func (s *Store) RenewActivity(ctx context.Context, key, token string) (bool, error) {
	const op = "renew activity"
	if err := store.CheckClaim(op, key, token); err != nil {
		return false, err
	}
	tag, err := s.pool.Exec(ctx, `UPDATE processed SET at = clock_timestamp() WHERE key = $1 AND claimed AND holder = $2`, key, token)
	if err != nil {
		return false, fmt.Errorf("%s: %w", op, err)
	}
	return tag.RowsAffected() == 1, nil
}

// ReleaseActivity deletes the claim of key after its turn failed, so a redelivery (at any replica) processes
// it at once instead of waiting for the claim to age. Only the holder of token releases (compare-and-swap on
// the holder column): a claim another replica took over stays with it. A completed activity stays completed,
// and so does one answered whose completion could not be written (see CompleteTurn).
func (s *Store) ReleaseActivity(ctx context.Context, key, token string) error {
	const op = "release activity"
	if err := store.CheckClaim(op, key, token); err != nil {
		return err
	}
	if _, answered := s.answers.Answer(key); answered {
		return nil // answered, completion pending: the claim keeps other replicas waiting until it is written
	}
	if _, err := s.pool.Exec(ctx, `DELETE FROM processed WHERE key = $1 AND claimed AND holder = $2`, key, token); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}

// ClaimActivity inserts key as claimed by a new token unless present (see store.Backend): the
// insert-if-absent is one statement, so of several replicas exactly one wins; a claim older than holdFor is
// taken over (the row gets the new holder's token). A claim released between the insert and the read of the
// row reads as held (neither won nor done): the caller polls and wins the next time.
func (s *Store) ClaimActivity(ctx context.Context, key string, holdFor time.Duration) (store.Claim, error) {
	const op = "claim activity"
	if err := store.CheckKey(op, "key", key); err != nil {
		return store.Claim{}, err
	}
	if err := store.CheckPositive(op, "holdFor", holdFor); err != nil {
		return store.Claim{}, err
	}
	if c, answered := s.answers.Answer(key); answered {
		return c, nil // answered here, its completion still being written: replayed, or waited on (see Answer)
	}
	token := store.NewClaimToken()
	var since *time.Time
	// The CTE reads the row as it was before the statement: its claim time when this is a takeover.
	err := s.pool.QueryRow(ctx, `WITH prior AS (SELECT at FROM processed WHERE key = $1)
		INSERT INTO processed (key, at, claimed, holder) VALUES ($1, clock_timestamp(), true, $3)
		ON CONFLICT (key) DO UPDATE SET at = clock_timestamp(), holder = EXCLUDED.holder
			WHERE processed.claimed AND processed.at <= clock_timestamp() - $2 * interval '1 microsecond'
		RETURNING (SELECT at FROM prior)`, key, micros(holdFor), token).Scan(&since)
	if err == nil {
		if since != nil {
			s.log.Warn("taking over an abandoned activity claim", "key", key, "claimed_at", since.UTC())
		}
		return store.Claim{Won: true, Token: token}, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return store.Claim{}, fmt.Errorf("%s: %w", op, err)
	}
	var c store.Claim
	var claimed bool
	err = s.pool.QueryRow(ctx, `SELECT claimed, response FROM processed WHERE key = $1`, key).Scan(&claimed, &c.Response)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Claim{}, nil // released (or pruned) since the insert found it: held no more, the caller claims again
	}
	if err != nil {
		return store.Claim{}, fmt.Errorf("%s: read claim: %w", op, err)
	}
	c.Done = !claimed
	if claimed {
		c.Response = nil
	}
	return c, nil
}

// PruneProcessed deletes processed entries (and claims) older than olderThan and returns how many.
func (s *Store) PruneProcessed(ctx context.Context, olderThan time.Duration) (int, error) {
	return s.pruneOlder(ctx, "prune processed", olderThan, `DELETE FROM processed WHERE at < now() - $1 * interval '1 microsecond'`)
}
