package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/accessbot/accessbot/internal/store"
)

// AppendAudit appends e and returns its sequence number (see store.Store.AppendAudit).
func (s *Store) AppendAudit(ctx context.Context, e store.AuditEntry) (uint64, error) {
	const op = "append audit"
	if err := store.ValidateAudit(e); err != nil {
		return 0, err
	}
	if e.Time.IsZero() {
		e.Time = s.now()
	}
	var details any
	if len(e.Details) > 0 {
		raw, err := json.Marshal(e.Details)
		if err != nil {
			return 0, fmt.Errorf("%s: encode details: %w", op, err)
		}
		details = raw
	}
	var seq int64
	err := s.pool.QueryRow(ctx, `INSERT INTO audit (time, actor_tenant, actor_id, actor_name, action, mode, request_id,
			package_id, package_name, subject_id, subject_name, outcome, details)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING seq`,
		e.Time.UTC(), e.ActorTenant, e.ActorID, e.ActorName, e.Action, e.Mode, e.RequestID,
		e.PackageID, e.PackageName, e.SubjectID, e.SubjectName, e.Outcome, details).Scan(&seq)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", op, err)
	}
	return uint64(seq), nil
}

// Audit returns the entries matching q, newest first, from indexed columns.
func (s *Store) Audit(ctx context.Context, q store.AuditQuery) ([]store.AuditEntry, error) {
	const op = "query audit"
	q, err := store.NormalizeAuditQuery(q)
	if err != nil {
		return nil, err
	}
	var where []string
	var args []any
	for _, f := range []struct{ col, v string }{{"subject_id", q.SubjectID}, {"package_id", q.PackageID}, {"actor_id", q.ActorID}} {
		if f.v != "" {
			args = append(args, f.v)
			where = append(where, fmt.Sprintf("%s = $%d", f.col, len(args)))
		}
	}
	if !q.Since.IsZero() {
		args = append(args, q.Since)
		where = append(where, fmt.Sprintf("time >= $%d", len(args)))
	}
	sql := `SELECT seq, time, actor_tenant, actor_id, actor_name, action, mode, request_id, package_id, package_name,
		subject_id, subject_name, outcome, details FROM audit`
	if len(where) > 0 {
		sql += " WHERE " + strings.Join(where, " AND ")
	}
	args = append(args, q.Limit)
	sql += fmt.Sprintf(" ORDER BY seq DESC LIMIT $%d", len(args))
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.AuditEntry, error) {
		var e store.AuditEntry
		var seq int64
		var details []byte
		err := row.Scan(&seq, &e.Time, &e.ActorTenant, &e.ActorID, &e.ActorName, &e.Action, &e.Mode, &e.RequestID,
			&e.PackageID, &e.PackageName, &e.SubjectID, &e.SubjectName, &e.Outcome, &details)
		if err != nil {
			return e, err
		}
		e.Seq, e.Time = uint64(seq), e.Time.UTC()
		if len(details) > 0 {
			err = json.Unmarshal(details, &e.Details)
		}
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	return out, nil
}
