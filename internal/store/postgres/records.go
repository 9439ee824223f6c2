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

// ---- conversations ----

// PutConversation stores (replaces) the reference for ref.TenantID + ref.AADObjectID (see store.Store).
//
// The bot remembers the reference on every turn: an unchanged one (everything but UpdatedAt equal) is not
// rewritten (no new row version, no WAL), still in one statement.
func (s *Store) PutConversation(ctx context.Context, ref store.ConversationRef) error {
	if err := store.ValidateConversation(ref); err != nil {
		return err
	}
	if ref.UpdatedAt.IsZero() {
		ref.UpdatedAt = s.now().UTC()
	}
	raw, err := json.Marshal(ref)
	if err != nil {
		return fmt.Errorf("put conversation: encode: %w", err)
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO conversations (tenant_id, aad_object_id, conversation_id, service_url, updated_at, ref)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (tenant_id, aad_object_id) DO UPDATE SET conversation_id = EXCLUDED.conversation_id,
			service_url = EXCLUDED.service_url, updated_at = EXCLUDED.updated_at, ref = EXCLUDED.ref
		WHERE (conversations.ref - 'updatedAt') IS DISTINCT FROM (EXCLUDED.ref - 'updatedAt')`,
		ref.TenantID, ref.AADObjectID, ref.ConversationID, ref.ServiceURL, ref.UpdatedAt, raw)
	if err != nil {
		return fmt.Errorf("put conversation: %w", err)
	}
	return nil
}

// Conversation returns the reference stored for tenantID + aadObjectID, or an error matching ErrNotFound.
func (s *Store) Conversation(ctx context.Context, tenantID, aadObjectID string) (store.ConversationRef, error) {
	const op = "get conversation"
	var ref store.ConversationRef
	if err := store.CheckKey(op, "tenantId", tenantID); err != nil {
		return ref, err
	}
	if err := store.CheckKey(op, "aadObjectId", aadObjectID); err != nil {
		return ref, err
	}
	var raw []byte
	err := s.pool.QueryRow(ctx, `SELECT ref FROM conversations WHERE tenant_id = $1 AND aad_object_id = $2`,
		tenantID, aadObjectID).Scan(&raw)
	if err != nil {
		return ref, fmt.Errorf("%s: tenant %s user %s: %w", op, tenantID, aadObjectID, notFound(err))
	}
	if err := json.Unmarshal(raw, &ref); err != nil {
		return ref, fmt.Errorf("%s: decode: %w", op, err)
	}
	return ref, nil
}

// Conversations lists every reference stored for tenantID, ordered by AAD object id.
func (s *Store) Conversations(ctx context.Context, tenantID string) ([]store.ConversationRef, error) {
	const op = "list conversations"
	if err := store.CheckKey(op, "tenantId", tenantID); err != nil {
		return nil, err
	}
	return queryJSON[store.ConversationRef](ctx, s, op,
		`SELECT ref FROM conversations WHERE tenant_id = $1 ORDER BY aad_object_id`, tenantID)
}

// queryJSON decodes the single jsonb column of every row.
func queryJSON[T any](ctx context.Context, s *Store, op, sql string, args ...any) ([]T, error) {
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (T, error) {
		var raw []byte
		var v T
		if err := row.Scan(&raw); err != nil {
			return v, err
		}
		return v, json.Unmarshal(raw, &v)
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	return out, nil
}

// ---- cards ----

// PutCard upserts the card reference identified by Key + Kind + TenantID + AADObjectID.
func (s *Store) PutCard(ctx context.Context, ref store.CardRef) error {
	if err := store.ValidateCard(ref); err != nil {
		return err
	}
	if ref.UpdatedAt.IsZero() {
		ref.UpdatedAt = s.now().UTC()
	}
	raw, err := json.Marshal(ref)
	if err != nil {
		return fmt.Errorf("put card: encode: %w", err)
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO cards (key, kind, tenant_id, aad_object_id, activity_id, updated_at, ref)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (key, kind, tenant_id, aad_object_id) DO UPDATE SET activity_id = EXCLUDED.activity_id,
			updated_at = EXCLUDED.updated_at, ref = EXCLUDED.ref`,
		ref.Key, ref.Kind, ref.TenantID, ref.AADObjectID, ref.ActivityID, ref.UpdatedAt, raw)
	if err != nil {
		return fmt.Errorf("put card: %w", err)
	}
	return nil
}

// Cards returns every card reference stored under key, ordered by kind, tenant, user.
func (s *Store) Cards(ctx context.Context, key string) ([]store.CardRef, error) {
	const op = "list cards"
	if err := store.CheckKey(op, "key", key); err != nil {
		return nil, err
	}
	return queryJSON[store.CardRef](ctx, s, op,
		`SELECT ref FROM cards WHERE key = $1 ORDER BY kind, tenant_id, aad_object_id`, key)
}

// ---- dialogs ----

// PutDialog stores v (JSON-encoded) as the pending dialog under key, replacing any previous one.
func (s *Store) PutDialog(ctx context.Context, key string, v any) error {
	const op = "put dialog"
	if err := store.CheckKey(op, "key", key); err != nil {
		return err
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("%s: encode: %w", op, err)
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO dialogs (key, value, updated_at) VALUES ($1, $2, now())
		ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at`, key, raw)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}

// Dialog decodes the pending dialog under key into out; a missing dialog is an error matching ErrNotFound.
func (s *Store) Dialog(ctx context.Context, key string, out any) error {
	return s.getJSON(ctx, "get dialog", `SELECT value FROM dialogs WHERE key = $1`, key, out, key)
}

// DeleteDialog removes the dialog under key; deleting a missing dialog is not an error.
func (s *Store) DeleteDialog(ctx context.Context, key string) error {
	return s.exec(ctx, "delete dialog", key, `DELETE FROM dialogs WHERE key = $1`, key)
}

// PruneDialogs deletes dialogs last written more than olderThan ago and returns how many.
func (s *Store) PruneDialogs(ctx context.Context, olderThan time.Duration) (int, error) {
	return s.pruneOlder(ctx, "prune dialogs", olderThan, `DELETE FROM dialogs WHERE updated_at < now() - $1 * interval '1 microsecond'`)
}

// pruneOlder checks that olderThan is positive and runs sql, a DELETE of the rows older than $1 microseconds;
// it returns how many rows it deleted.
func (s *Store) pruneOlder(ctx context.Context, op string, olderThan time.Duration, sql string) (int, error) {
	if err := store.CheckPositive(op, "olderThan", olderThan); err != nil {
		return 0, err
	}
	tag, err := s.pool.Exec(ctx, sql, micros(olderThan))
	if err != nil {
		return 0, fmt.Errorf("%s: %w", op, err)
	}
	return int(tag.RowsAffected()), nil
}

func (s *Store) getJSON(ctx context.Context, op, sql, key string, out any, args ...any) error {
	if err := store.CheckKey(op, "key", key); err != nil {
		return err
	}
	var raw []byte
	if err := s.pool.QueryRow(ctx, sql, args...).Scan(&raw); err != nil {
		return fmt.Errorf("%s: %s: %w", op, key, notFound(err))
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("%s: %s: decode: %w", op, key, err)
	}
	return nil
}

func (s *Store) exec(ctx context.Context, op, key, sql string, args ...any) error {
	if err := store.CheckKey(op, "key", key); err != nil {
		return err
	}
	if _, err := s.pool.Exec(ctx, sql, args...); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}

// ---- generic JSON records ----

// Put stores v (JSON-encoded) under bucket/key.
func (s *Store) Put(ctx context.Context, bucket, key string, v any) error {
	op := "put record " + bucket
	if err := store.CheckBucket("put record", bucket); err != nil {
		return err
	}
	if err := store.CheckKey(op, "key", key); err != nil {
		return err
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("%s: encode: %w", op, err)
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO kv (bucket, key, value) VALUES ($1, $2, $3)
		ON CONFLICT (bucket, key) DO UPDATE SET value = EXCLUDED.value, version = kv.version + 1`, bucket, key, raw)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}

// Get decodes the record bucket/key into out; a missing record is an error matching ErrNotFound.
func (s *Store) Get(ctx context.Context, bucket, key string, out any) error {
	if err := store.CheckBucket("get record", bucket); err != nil {
		return err
	}
	return s.getJSON(ctx, "get record "+bucket, `SELECT value FROM kv WHERE bucket = $1 AND key = $2`, key, out, bucket, key)
}

// Delete removes the record bucket/key; deleting a missing record is not an error.
func (s *Store) Delete(ctx context.Context, bucket, key string) error {
	if err := store.CheckBucket("delete record", bucket); err != nil {
		return err
	}
	return s.exec(ctx, "delete record "+bucket, key, `DELETE FROM kv WHERE bucket = $1 AND key = $2`, bucket, key)
}

// List calls fn for every record of bucket whose key starts with prefix, in key order, from one snapshot;
// fn runs after the query, so it may call the Store.
func (s *Store) List(ctx context.Context, bucket, prefix string, fn func(key string, raw []byte) error) error {
	const op = "list records"
	if err := store.CheckBucket(op, bucket); err != nil {
		return err
	}
	if fn == nil {
		return store.Invalid(op, "fn", "is required")
	}
	rows, err := s.pool.Query(ctx, `SELECT key, value FROM kv WHERE bucket = $1 AND starts_with(key, $2) ORDER BY key`, bucket, prefix)
	if err != nil {
		return fmt.Errorf("%s %s: %w", op, bucket, err)
	}
	recs, err := pgx.CollectRows(rows, pgx.RowToStructByPos[store.Record])
	if err != nil {
		return fmt.Errorf("%s %s: %w", op, bucket, err)
	}
	return store.EachRecord(ctx, op, bucket, recs, fn)
}

// UpdateKV is compare-and-swap on bucket/key (see store.Backend), on the row's version column.
func (s *Store) UpdateKV(ctx context.Context, bucket, key string, fn func(raw []byte) ([]byte, error)) error {
	const op = "update record"
	if err := store.CheckBucket(op, bucket); err != nil {
		return err
	}
	if err := store.CheckKey(op, "key", key); err != nil {
		return err
	}
	if fn == nil {
		return store.Invalid(op, "fn", "is required")
	}
	for attempt := range store.MaxUpdateAttempts {
		if err := store.CASBackoff(ctx, attempt); err != nil {
			return fmt.Errorf("%s %s/%s: %w", op, bucket, key, err)
		}
		var old []byte
		var version int64
		err := s.pool.QueryRow(ctx, `SELECT value, version FROM kv WHERE bucket = $1 AND key = $2`, bucket, key).Scan(&old, &version)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("%s %s/%s: %w", op, bucket, key, err)
		}
		next, err := fn(bytes.Clone(old))
		if errors.Is(err, store.ErrNoChange) {
			return nil
		} else if err != nil {
			return fmt.Errorf("%s %s/%s: %w", op, bucket, key, err)
		}
		if next != nil && !json.Valid(next) {
			return store.Invalid(op, "value", fmt.Sprintf("fn returned invalid JSON for %s/%s", bucket, key))
		}
		won, err := s.swapKV(ctx, bucket, key, old != nil, version, next)
		if err != nil {
			return fmt.Errorf("%s %s/%s: %w", op, bucket, key, err)
		}
		if won {
			return nil
		}
	}
	return fmt.Errorf("%s %s/%s: gave up after %d attempts: %w", op, bucket, key, store.MaxUpdateAttempts, store.ErrConflict)
}

// swapKV writes next (nil = delete) if the row is still at version (or still absent when !existed).
func (s *Store) swapKV(ctx context.Context, bucket, key string, existed bool, version int64, next []byte) (bool, error) {
	var sql string
	var args []any
	switch {
	case !existed && next == nil:
		return true, nil
	case !existed:
		sql, args = `INSERT INTO kv (bucket, key, value) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, []any{bucket, key, next}
	case next == nil:
		sql, args = `DELETE FROM kv WHERE bucket = $1 AND key = $2 AND version = $3`, []any{bucket, key, version}
	default:
		sql, args = `UPDATE kv SET value = $4, version = version + 1 WHERE bucket = $1 AND key = $2 AND version = $3`,
			[]any{bucket, key, version, next}
	}
	tag, err := s.pool.Exec(ctx, sql, args...)
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() == 1, nil
}

// PruneKV deletes the records of bucket for which stale(key, raw) reports true (see store.Store.PruneKV) and
// returns how many it deleted. It reads the bucket's rows in one query, and deletes the stale ones in a second
// statement only if there are any, each only while it still has the version and value stale saw.
func (s *Store) PruneKV(ctx context.Context, bucket string, stale func(key string, raw []byte) bool) (int, error) {
	const op = "prune records"
	if err := store.CheckBucket(op, bucket); err != nil {
		return 0, err
	}
	if stale == nil {
		return 0, store.Invalid(op, "stale", "is required")
	}
	rows, err := s.pool.Query(ctx, `SELECT key, value, version FROM kv WHERE bucket = $1`, bucket)
	if err != nil {
		return 0, fmt.Errorf("%s %s: %w", op, bucket, err)
	}
	var keys, values []string
	var versions []int64
	var key string
	var raw []byte
	var version int64
	if _, err := pgx.ForEachRow(rows, []any{&key, &raw, &version}, func() error {
		if stale(key, raw) {
			keys, values, versions = append(keys, key), append(values, string(raw)), append(versions, version)
		}
		return nil
	}); err != nil {
		return 0, fmt.Errorf("%s %s: %w", op, bucket, err)
	}
	if len(keys) == 0 {
		return 0, nil
	}
	tag, err := s.pool.Exec(ctx, `DELETE FROM kv USING unnest($2::text[], $3::bigint[], $4::text[]) AS seen(key, version, value)
		WHERE kv.bucket = $1 AND kv.key = seen.key AND kv.version = seen.version AND kv.value = seen.value::jsonb`,
		bucket, keys, versions, values)
	if err != nil {
		return 0, fmt.Errorf("%s %s: %w", op, bucket, err)
	}
	return int(tag.RowsAffected()), nil
}
