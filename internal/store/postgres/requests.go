package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/accessbot/accessbot/internal/store"
)

const requestCols = `id, kind, state, tenant_id, requestor_id, package_id, next_check_at, created_at, updated_at, version, body, closed_at`

// requestValues are r's values in requestCols order.
func requestValues(r store.Request) []any {
	return []any{r.ID, r.Kind, r.State, r.TenantID, r.RequestorID, r.PackageID, nullTime(r.NextCheckAt),
		r.CreatedAt, r.UpdatedAt, r.Version, nullJSON(r.Body), nullTime(r.ClosedAt)}
}

func scanRequest(row pgx.Row) (store.Request, error) {
	var r store.Request
	var next, closed *time.Time
	err := row.Scan(&r.ID, &r.Kind, &r.State, &r.TenantID, &r.RequestorID, &r.PackageID, &next,
		&r.CreatedAt, &r.UpdatedAt, &r.Version, &r.Body, &closed)
	if next != nil {
		r.NextCheckAt = next.UTC()
	}
	if closed != nil {
		r.ClosedAt = closed.UTC()
	}
	r.CreatedAt, r.UpdatedAt = r.CreatedAt.UTC(), r.UpdatedAt.UTC()
	return r, err
}

// CreateRequest stores a new request (see store.Backend); an existing id is an error matching ErrExists.
func (s *Store) CreateRequest(ctx context.Context, r store.Request) (store.Request, error) {
	r, err := store.PrepareCreate(r, s.now())
	if err != nil {
		return store.Request{}, err
	}
	tag, err := s.pool.Exec(ctx, `INSERT INTO requests (`+requestCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (id) DO NOTHING`, requestValues(r)...)
	if err != nil {
		return store.Request{}, fmt.Errorf("create request %s: %w", r.ID, err)
	}
	if tag.RowsAffected() == 0 {
		return store.Request{}, fmt.Errorf("create request %s: %w", r.ID, store.ErrExists)
	}
	return r, nil
}

// nullJSON maps an empty body to SQL NULL.
func nullJSON(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return string(b)
}

// GetRequest returns the request stored under id, or an error matching ErrNotFound.
func (s *Store) GetRequest(ctx context.Context, id string) (store.Request, error) {
	const op = "get request"
	if err := store.CheckKey(op, "id", id); err != nil {
		return store.Request{}, err
	}
	r, err := scanRequest(s.pool.QueryRow(ctx, `SELECT `+requestCols+` FROM requests WHERE id = $1`, id))
	if err != nil {
		return store.Request{}, fmt.Errorf("%s %s: %w", op, id, notFound(err))
	}
	return r, nil
}

// UpdateRequest is compare-and-swap on the version column (see store.Backend): fn runs on a copy without any
// lock held, and the UPDATE only applies while the version is still the one read.
func (s *Store) UpdateRequest(ctx context.Context, id string, fn func(r *store.Request) error) (store.Request, error) {
	const op = "update request"
	if fn == nil {
		return store.Request{}, store.Invalid(op, "fn", "is required")
	}
	for attempt := range store.MaxUpdateAttempts {
		if err := store.CASBackoff(ctx, attempt); err != nil {
			return store.Request{}, fmt.Errorf("%s %s: %w", op, id, err)
		}
		old, err := s.GetRequest(ctx, id)
		if err != nil {
			return store.Request{}, fmt.Errorf("%s: %w", op, err)
		}
		upd := store.CloneRequest(old)
		if err := fn(&upd); errors.Is(err, store.ErrNoChange) {
			return old, nil
		} else if err != nil {
			return store.Request{}, fmt.Errorf("%s %s: %w", op, id, err)
		}
		next, err := store.PrepareUpdate(old, upd, s.now())
		if err != nil {
			return store.Request{}, err
		}
		tag, err := s.pool.Exec(ctx, `UPDATE requests SET kind = $3, state = $4, tenant_id = $5, requestor_id = $6,
			package_id = $7, next_check_at = $8, updated_at = $9, version = $10, body = $11, closed_at = $12
			WHERE id = $1 AND version = $2`,
			id, old.Version, next.Kind, next.State, next.TenantID, next.RequestorID, next.PackageID,
			nullTime(next.NextCheckAt), next.UpdatedAt, next.Version, nullJSON(next.Body), nullTime(next.ClosedAt))
		if err != nil {
			return store.Request{}, fmt.Errorf("%s %s: %w", op, id, err)
		}
		if tag.RowsAffected() == 1 {
			return next, nil
		}
	}
	return store.Request{}, fmt.Errorf("%s %s: gave up after %d attempts: %w", op, id, store.MaxUpdateAttempts, store.ErrConflict)
}

// ListRequests returns the requests matching q, ordered by CreatedAt then ID, from indexed columns.
func (s *Store) ListRequests(ctx context.Context, q store.RequestQuery) ([]store.Request, error) {
	const op = "list requests"
	if err := store.CheckRequestQuery(q); err != nil {
		return nil, err
	}
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if q.Kind != "" {
		add("kind = $%d", q.Kind)
	}
	if len(q.States) > 0 {
		add("state = ANY($%d)", q.States)
	}
	if q.RequestorID != "" {
		add("requestor_id = $%d", q.RequestorID)
	}
	if q.PackageID != "" {
		add("package_id = $%d", q.PackageID)
	}
	if !q.DueBefore.IsZero() {
		add("next_check_at IS NOT NULL AND next_check_at <= $%d", q.DueBefore)
	}
	if q.Open {
		where = append(where, "closed_at IS NULL")
	}
	sql := `SELECT ` + requestCols + ` FROM requests`
	if len(where) > 0 {
		sql += " WHERE " + strings.Join(where, " AND ")
	}
	sql += " ORDER BY created_at, id"
	if q.Limit > 0 {
		sql += fmt.Sprintf(" LIMIT %d", q.Limit)
	}
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Request, error) { return scanRequest(row) })
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	return out, nil
}

// DeleteRequest removes the request stored under id; deleting a missing request is not an error.
func (s *Store) DeleteRequest(ctx context.Context, id string) error {
	return s.exec(ctx, "delete request", id, `DELETE FROM requests WHERE id = $1`, id)
}

// PruneRequests deletes the requests closed more than closedFor ago, with the card references stored under
// their ids, in one statement, and returns how many it deleted (through the partial index on closed_at: no
// open request is read). With nothing due it is one read: no transaction id, no WAL. Audit entries stay.
func (s *Store) PruneRequests(ctx context.Context, closedFor time.Duration) (int, error) {
	const op = "prune requests"
	if err := store.CheckPositive(op, "closedFor", closedFor); err != nil {
		return 0, err
	}
	var n int
	err := s.pool.QueryRow(ctx, `WITH gone AS (DELETE FROM requests WHERE closed_at IS NOT NULL
			AND closed_at < now() - $1 * interval '1 microsecond' RETURNING id),
		cards_gone AS (DELETE FROM cards WHERE key IN (SELECT id FROM gone))
		SELECT count(*) FROM gone`, micros(closedFor)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", op, err)
	}
	return n, nil
}

// ---- leases ----

// AcquireLease takes the lease name for holder when it is free, expired or already holder's (one
// statement: concurrent acquirers serialize on the row).
func (s *Store) AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	const op = "acquire lease"
	if err := store.CheckLeaseArgs(op, name, holder, ttl); err != nil {
		return false, err
	}
	var got string
	err := s.pool.QueryRow(ctx, `INSERT INTO leases (name, holder, until)
		VALUES ($1, $2, clock_timestamp() + $3 * interval '1 microsecond')
		ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, until = EXCLUDED.until
			WHERE leases.holder = EXCLUDED.holder OR leases.until <= clock_timestamp()
		RETURNING holder`, name, holder, micros(ttl)).Scan(&got)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("%s %s: %w", op, name, err)
	}
	return true, nil
}

// ReleaseLease frees the lease name if holder holds it.
func (s *Store) ReleaseLease(ctx context.Context, name, holder string) error {
	const op = "release lease"
	if err := store.CheckKey(op, "name", name); err != nil {
		return err
	}
	if err := store.CheckKey(op, "holder", holder); err != nil {
		return err
	}
	if _, err := s.pool.Exec(ctx, `DELETE FROM leases WHERE name = $1 AND holder = $2`, name, holder); err != nil {
		return fmt.Errorf("%s %s: %w", op, name, err)
	}
	return nil
}
