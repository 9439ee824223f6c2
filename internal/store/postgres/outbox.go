package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/accessbot/accessbot/internal/store"
)

// Outbox ids are the row's bigserial, printed like the bbolt store's ("%016x"), so they sort in enqueue order.
func outboxID(n int64) string { return fmt.Sprintf("%016x", n) }

func parseOutboxID(op, id string) (int64, error) {
	if err := store.CheckKey(op, "id", id); err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(id, 16, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%s: %s: %w", op, id, store.ErrNotFound)
	}
	return n, nil
}

const outboxCols = `id, kind, payload, attempts, not_before, last_error, created_at`

func scanItem(row pgx.Row) (store.OutboxItem, error) {
	var it store.OutboxItem
	var id int64
	var payload []byte
	err := row.Scan(&id, &it.Kind, &payload, &it.Attempts, &it.NotBefore, &it.LastError, &it.CreatedAt)
	it.ID, it.Payload = outboxID(id), payload
	it.NotBefore, it.CreatedAt = it.NotBefore.UTC(), it.CreatedAt.UTC()
	return it, err
}

// Enqueue stores a new outbox item due at notBefore (zero = now) and returns its id.
func (s *Store) Enqueue(ctx context.Context, kind string, payload any, notBefore time.Time) (string, error) {
	const op = "enqueue outbox item"
	if err := store.CheckKey(op, "kind", kind); err != nil {
		return "", err
	}
	raw, err := json.Marshal(payload)
	if err != nil {
		return "", fmt.Errorf("%s %s: encode payload: %w", op, kind, err)
	}
	var id int64
	err = s.pool.QueryRow(ctx, `INSERT INTO outbox (kind, payload, not_before, created_at)
		VALUES ($1, $2, coalesce($3, now()), now()) RETURNING id`, kind, raw, nullTime(notBefore)).Scan(&id)
	if err != nil {
		return "", fmt.Errorf("%s %s: %w", op, kind, err)
	}
	return outboxID(id), nil
}

// Lease hands up to max due items to this caller, marked leased for leaseFor. Rows are claimed with
// FOR UPDATE SKIP LOCKED, so concurrent callers (in any process) never receive the same item. Items whose
// lease expired after their last allowed attempt move to the dead letters instead.
func (s *Store) Lease(ctx context.Context, max int, leaseFor time.Duration) ([]store.OutboxItem, error) {
	const op = "lease outbox items"
	if max <= 0 {
		return nil, store.Invalid(op, "max", fmt.Sprintf("must be positive, got %d", max))
	}
	if err := store.CheckPositive(op, "leaseFor", leaseFor); err != nil {
		return nil, err
	}
	var out []store.OutboxItem
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `WITH gone AS (
			DELETE FROM outbox WHERE id IN (
				SELECT id FROM outbox WHERE attempts >= $1 AND not_before <= now()
					AND (leased_until IS NULL OR leased_until <= now())
				FOR UPDATE SKIP LOCKED)
			RETURNING *)
			INSERT INTO dead_letters (id, kind, payload, attempts, not_before, last_error, created_at)
			SELECT id, kind, payload, attempts, not_before,
				format('lease expired after attempt %s of %s (handler crashed or hung); last error: %s', attempts, $1::int, last_error),
				created_at FROM gone`, s.maxAttempts)
		if err != nil {
			return fmt.Errorf("dead-letter exhausted items: %w", err)
		}
		if n := tag.RowsAffected(); n > 0 {
			s.log.Warn("outbox items dead-lettered", "count", n, "reason", "lease expired after the last attempt")
		}
		rows, err := tx.Query(ctx, `UPDATE outbox o SET attempts = o.attempts + 1,
				leased_until = now() + $2 * interval '1 microsecond'
			FROM (SELECT id FROM outbox WHERE not_before <= now() AND (leased_until IS NULL OR leased_until <= now())
				ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED) due
			WHERE o.id = due.id
			RETURNING o.id, o.kind, o.payload, o.attempts, o.not_before, o.last_error, o.created_at`, max, micros(leaseFor))
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.OutboxItem, error) { return scanItem(row) })
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	slices.SortFunc(out, func(a, b store.OutboxItem) int { return compareIDs(a.ID, b.ID) })
	return out, nil
}

func compareIDs(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Complete removes a delivered item. An unknown id is an error matching ErrNotFound.
func (s *Store) Complete(ctx context.Context, id string) error {
	const op = "complete outbox item"
	n, err := parseOutboxID(op, id)
	if err != nil {
		return err
	}
	tag, err := s.pool.Exec(ctx, `DELETE FROM outbox WHERE id = $1`, n)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%s: %s: %w", op, id, store.ErrNotFound)
	}
	return nil
}

// Fail records a failed delivery: due again at retryAt, or dead-lettered after the last attempt or for an
// error matching store.ErrPermanent. An unknown id is an error matching ErrNotFound.
func (s *Store) Fail(ctx context.Context, id string, cause error, retryAt time.Time) error {
	const op = "fail outbox item"
	n, err := parseOutboxID(op, id)
	if err != nil {
		return err
	}
	if cause == nil {
		return store.Invalid(op, "cause", "is required")
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var attempts int
		var kind string
		if err := tx.QueryRow(ctx, `SELECT attempts, kind FROM outbox WHERE id = $1 FOR UPDATE`, n).Scan(&attempts, &kind); err != nil {
			return fmt.Errorf("%s: %w", id, notFound(err))
		}
		if attempts >= s.maxAttempts || errors.Is(cause, store.ErrPermanent) {
			s.log.Warn("outbox item dead-lettered", "id", id, "kind", kind, "attempts", attempts, "err", cause)
			_, err := tx.Exec(ctx, `WITH gone AS (DELETE FROM outbox WHERE id = $1 RETURNING *)
				INSERT INTO dead_letters (id, kind, payload, attempts, not_before, last_error, created_at)
				SELECT id, kind, payload, attempts, not_before, $2, created_at FROM gone`, n, cause.Error())
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE outbox SET not_before = $2, leased_until = NULL, last_error = $3 WHERE id = $1`,
			n, retryAt.UTC(), cause.Error())
		return err
	})
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}

// Pending returns the items still in the outbox (leased or not), oldest first.
func (s *Store) Pending(ctx context.Context) ([]store.OutboxItem, error) {
	return s.items(ctx, "list outbox", `SELECT `+outboxCols+` FROM outbox ORDER BY id`)
}

// DeadLetters returns the items that exhausted their attempts or failed permanently, oldest first.
func (s *Store) DeadLetters(ctx context.Context) ([]store.OutboxItem, error) {
	return s.items(ctx, "list dead letters", `SELECT `+outboxCols+` FROM dead_letters ORDER BY id`)
}

func (s *Store) items(ctx context.Context, op, sql string) ([]store.OutboxItem, error) {
	rows, err := s.pool.Query(ctx, sql)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.OutboxItem, error) { return scanItem(row) })
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	return out, nil
}
