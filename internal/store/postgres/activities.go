package postgres

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
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
		ON CONFLICT (key) DO UPDATE SET at = now(), claimed = false, response = EXCLUDED.response`, key, resp)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}

// CompleteActivity records the claimed activity key as processed with resp (see CompleteTurn).
func (s *Store) CompleteActivity(ctx context.Context, key string, resp []byte) error {
	return s.CompleteTurn(ctx, key, resp, nil)
}

// CompleteTurn records the claimed activity key as processed with resp and stores ref (nil for none) as
// store.Store.CompleteTurn does, in one statement: one round trip, one transaction. The reference is rewritten
// only when it changed in anything but updatedAt; an empty userName or locale keeps the stored one.
//
// When the write fails (the database stopped answering after the turn was answered) the answer is kept in
// memory, as the bbolt store does on a full disk: a redelivery to this replica replays it, the claim is not
// released (a redelivery to another replica waits on it), and Ping writes the completion once the database
// answers again; the error is still returned.
func (s *Store) CompleteTurn(ctx context.Context, key string, resp []byte, ref *store.ConversationRef) error {
	err := s.completeTurn(ctx, key, resp, ref)
	switch {
	case err == nil:
		s.answers.Forget(key)
	case !errors.Is(err, store.ErrInvalid) && ctx.Err() == nil:
		s.answers.Remember(key, bytes.Clone(resp))
		s.log.Warn("activity answered but its completion could not be written; kept in memory until the database answers",
			"key", key, "err", err)
	}
	return err
}

func (s *Store) completeTurn(ctx context.Context, key string, resp []byte, ref *store.ConversationRef) error {
	const op = "complete turn"
	if err := store.CheckKey(op, "key", key); err != nil {
		return err
	}
	if ref == nil {
		return s.MarkProcessed(ctx, key, resp)
	}
	if err := store.ValidateConversation(*ref); err != nil {
		return err
	}
	r := *ref
	if r.UpdatedAt.IsZero() {
		r.UpdatedAt = s.now().UTC()
	}
	raw, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("%s: encode conversation: %w", op, err)
	}
	// A data-modifying WITH runs to completion whether or not the outer statement reads it.
	_, err = s.pool.Exec(ctx, `WITH done AS (
			INSERT INTO processed (key, at, claimed, response) VALUES ($1, now(), false, $2)
			ON CONFLICT (key) DO UPDATE SET at = now(), claimed = false, response = EXCLUDED.response
			RETURNING 1)
		INSERT INTO conversations AS c (tenant_id, aad_object_id, conversation_id, service_url, updated_at, ref)
		VALUES ($3, $4, $5, $6, $7, $8)
		ON CONFLICT (tenant_id, aad_object_id) DO UPDATE SET conversation_id = EXCLUDED.conversation_id,
			service_url = EXCLUDED.service_url, updated_at = EXCLUDED.updated_at,
			ref = jsonb_strip_nulls(jsonb_build_object('userName', c.ref->'userName', 'locale', c.ref->'locale')) || EXCLUDED.ref
		WHERE ((jsonb_strip_nulls(jsonb_build_object('userName', c.ref->'userName', 'locale', c.ref->'locale')) || EXCLUDED.ref) - 'updatedAt')
			IS DISTINCT FROM (c.ref - 'updatedAt')`,
		key, resp, r.TenantID, r.AADObjectID, r.ConversationID, r.ServiceURL, r.UpdatedAt, raw)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}

// ReleaseActivity deletes the claim of key after its turn failed, so a redelivery (at any replica) processes
// it at once instead of waiting for the claim to age; a completed activity stays completed, and so does one
// answered whose completion could not be written (see CompleteTurn).
func (s *Store) ReleaseActivity(ctx context.Context, key string) error {
	const op = "release activity"
	if err := store.CheckKey(op, "key", key); err != nil {
		return err
	}
	if _, answered := s.answers.Answer(key); answered {
		return nil // answered, completion pending: the claim keeps other replicas waiting until Ping writes it
	}
	if _, err := s.pool.Exec(ctx, `DELETE FROM processed WHERE key = $1 AND claimed`, key); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}

// ClaimActivity inserts key as claimed unless present (see store.Backend): the insert-if-absent is one
// statement, so of several replicas exactly one wins; a claim older than holdFor is taken over.
func (s *Store) ClaimActivity(ctx context.Context, key string, holdFor time.Duration) (store.Claim, error) {
	const op = "claim activity"
	if err := store.CheckKey(op, "key", key); err != nil {
		return store.Claim{}, err
	}
	if err := store.CheckPositive(op, "holdFor", holdFor); err != nil {
		return store.Claim{}, err
	}
	if resp, answered := s.answers.Answer(key); answered {
		return store.Claim{Done: true, Response: resp}, nil // answered here; its completion waits for Ping
	}
	var won bool
	err := s.pool.QueryRow(ctx, `INSERT INTO processed (key, at, claimed) VALUES ($1, clock_timestamp(), true)
		ON CONFLICT (key) DO UPDATE SET at = clock_timestamp()
			WHERE processed.claimed AND processed.at <= clock_timestamp() - $2 * interval '1 microsecond'
		RETURNING true`, key, micros(holdFor)).Scan(&won)
	if err == nil {
		return store.Claim{Won: true}, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return store.Claim{}, fmt.Errorf("%s: %w", op, err)
	}
	var c store.Claim
	var claimed bool
	if err := s.pool.QueryRow(ctx, `SELECT claimed, response FROM processed WHERE key = $1`, key).Scan(&claimed, &c.Response); err != nil {
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
	const op = "prune processed"
	if err := store.CheckPositive(op, "olderThan", olderThan); err != nil {
		return 0, err
	}
	tag, err := s.pool.Exec(ctx, `DELETE FROM processed WHERE at < now() - $1 * interval '1 microsecond'`, micros(olderThan))
	if err != nil {
		return 0, fmt.Errorf("%s: %w", op, err)
	}
	return int(tag.RowsAffected()), nil
}
