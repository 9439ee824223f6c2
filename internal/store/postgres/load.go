package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/accessbot/accessbot/internal/store"
)

// loadTables are the tables Load fills and Counts reports, in Dump.Counts order.
var loadTables = []string{"conversations", "processed", "cards", "dialogs", "kv", "outbox", "dead_letters", "audit", "requests"}

// Counts returns the number of rows per table.
func (s *Store) Counts(ctx context.Context) ([]store.TableCount, error) {
	out := make([]store.TableCount, 0, len(loadTables))
	for _, t := range loadTables {
		var n int
		if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM `+t).Scan(&n); err != nil {
			return nil, fmt.Errorf("count %s: %w", t, err)
		}
		out = append(out, store.TableCount{Table: t, Rows: n})
	}
	return out, nil
}

// ErrNotEmpty is returned (wrapped) by Load when the database already holds state and force is off.
var ErrNotEmpty = errors.New("target database is not empty")

// Load copies d into the database in one transaction, keeping ids (outbox ids, audit sequence numbers) and
// versions. It refuses a database that already holds state unless force is set; with force, rows with the
// same keys are overwritten, so running it again gives the same result.
func (s *Store) Load(ctx context.Context, d *store.Dump, force bool) error {
	if !force {
		counts, err := s.Counts(ctx)
		if err != nil {
			return fmt.Errorf("load: %w", err)
		}
		var busy []string
		for _, c := range counts {
			if c.Rows > 0 {
				busy = append(busy, fmt.Sprintf("%s: %d rows", c.Table, c.Rows))
			}
		}
		if len(busy) > 0 {
			return fmt.Errorf("load: %w (%s); use --force to merge into it", ErrNotEmpty, strings.Join(busy, ", "))
		}
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		for _, step := range []func(context.Context, pgx.Tx, *store.Dump) error{
			loadConversations, loadProcessed, loadCards, loadDialogs, loadRecords, loadOutbox, loadAudit, loadRequests,
		} {
			if err := step(ctx, tx, d); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, `SELECT setval(pg_get_serial_sequence('outbox', 'id'),
				greatest((SELECT max(id) FROM outbox), (SELECT max(id) FROM dead_letters), 1)),
			setval(pg_get_serial_sequence('audit', 'seq'), greatest((SELECT max(seq) FROM audit), 1))`)
		return err
	})
	if err != nil {
		return fmt.Errorf("load: %w", err)
	}
	return nil
}

func loadConversations(ctx context.Context, tx pgx.Tx, d *store.Dump) error {
	for _, r := range d.Conversations {
		raw, _ := json.Marshal(r)
		if _, err := tx.Exec(ctx, `INSERT INTO conversations (tenant_id, aad_object_id, conversation_id, service_url, updated_at, ref)
			VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant_id, aad_object_id) DO UPDATE SET conversation_id = EXCLUDED.conversation_id,
			service_url = EXCLUDED.service_url, updated_at = EXCLUDED.updated_at, ref = EXCLUDED.ref`,
			r.TenantID, r.AADObjectID, r.ConversationID, r.ServiceURL, r.UpdatedAt, raw); err != nil {
			return fmt.Errorf("conversation %s/%s: %w", r.TenantID, r.AADObjectID, err)
		}
	}
	return nil
}

func loadProcessed(ctx context.Context, tx pgx.Tx, d *store.Dump) error {
	for _, p := range d.Processed {
		if _, err := tx.Exec(ctx, `INSERT INTO processed (key, at, claimed, response) VALUES ($1, $2, false, $3)
			ON CONFLICT (key) DO UPDATE SET at = EXCLUDED.at, claimed = false, response = EXCLUDED.response`,
			p.Key, p.At, p.Response); err != nil {
			return fmt.Errorf("processed %s: %w", p.Key, err)
		}
	}
	return nil
}

func loadCards(ctx context.Context, tx pgx.Tx, d *store.Dump) error {
	for _, c := range d.Cards {
		raw, _ := json.Marshal(c)
		if _, err := tx.Exec(ctx, `INSERT INTO cards (key, kind, tenant_id, aad_object_id, activity_id, updated_at, ref)
			VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (key, kind, tenant_id, aad_object_id) DO UPDATE SET
			activity_id = EXCLUDED.activity_id, updated_at = EXCLUDED.updated_at, ref = EXCLUDED.ref`,
			c.Key, c.Kind, c.TenantID, c.AADObjectID, c.ActivityID, c.UpdatedAt, raw); err != nil {
			return fmt.Errorf("card %s/%s: %w", c.Key, c.Kind, err)
		}
	}
	return nil
}

func loadDialogs(ctx context.Context, tx pgx.Tx, d *store.Dump) error {
	for _, g := range d.Dialogs {
		if _, err := tx.Exec(ctx, `INSERT INTO dialogs (key, value, updated_at) VALUES ($1, $2, $3)
			ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at`,
			g.Key, string(g.Value), g.UpdatedAt); err != nil {
			return fmt.Errorf("dialog %s: %w", g.Key, err)
		}
	}
	return nil
}

func loadRecords(ctx context.Context, tx pgx.Tx, d *store.Dump) error {
	for _, r := range d.Records {
		if _, err := tx.Exec(ctx, `INSERT INTO kv (bucket, key, value) VALUES ($1, $2, $3)
			ON CONFLICT (bucket, key) DO UPDATE SET value = EXCLUDED.value, version = kv.version + 1`,
			r.Bucket, r.Key, string(r.Value)); err != nil {
			return fmt.Errorf("record %s/%s: %w", r.Bucket, r.Key, err)
		}
	}
	return nil
}

func loadOutbox(ctx context.Context, tx pgx.Tx, d *store.Dump) error {
	for _, e := range d.Outbox {
		it := e.Item
		id, err := strconv.ParseInt(it.ID, 16, 64)
		if err != nil {
			return fmt.Errorf("outbox item %q: id is not hexadecimal: %w", it.ID, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO outbox (id, kind, payload, attempts, not_before, leased_until, last_error, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO UPDATE SET kind = EXCLUDED.kind, payload = EXCLUDED.payload,
			attempts = EXCLUDED.attempts, not_before = EXCLUDED.not_before, leased_until = EXCLUDED.leased_until,
			last_error = EXCLUDED.last_error, created_at = EXCLUDED.created_at`,
			id, it.Kind, string(it.Payload), it.Attempts, it.NotBefore, nullTime(e.LeasedUntil), it.LastError, it.CreatedAt); err != nil {
			return fmt.Errorf("outbox item %s: %w", it.ID, err)
		}
	}
	for _, it := range d.DeadLetters {
		id, err := strconv.ParseInt(it.ID, 16, 64)
		if err != nil {
			return fmt.Errorf("dead letter %q: id is not hexadecimal: %w", it.ID, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO dead_letters (id, kind, payload, attempts, not_before, last_error, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING`,
			id, it.Kind, nullJSON(it.Payload), it.Attempts, it.NotBefore, it.LastError, it.CreatedAt); err != nil {
			return fmt.Errorf("dead letter %s: %w", it.ID, err)
		}
	}
	return nil
}

func loadAudit(ctx context.Context, tx pgx.Tx, d *store.Dump) error {
	for _, e := range d.Audit {
		var details any
		if len(e.Details) > 0 {
			raw, _ := json.Marshal(e.Details)
			details = string(raw)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO audit (seq, time, actor_tenant, actor_id, actor_name, action, mode, request_id,
				package_id, package_name, subject_id, subject_name, outcome, details)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) ON CONFLICT (seq) DO NOTHING`,
			int64(e.Seq), e.Time, e.ActorTenant, e.ActorID, e.ActorName, e.Action, e.Mode, e.RequestID,
			e.PackageID, e.PackageName, e.SubjectID, e.SubjectName, e.Outcome, details); err != nil {
			return fmt.Errorf("audit entry %d: %w", e.Seq, err)
		}
	}
	return nil
}

func loadRequests(ctx context.Context, tx pgx.Tx, d *store.Dump) error {
	for _, r := range d.Requests {
		if _, err := tx.Exec(ctx, `INSERT INTO requests (`+requestCols+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (id) DO UPDATE SET kind = EXCLUDED.kind,
			state = EXCLUDED.state, tenant_id = EXCLUDED.tenant_id, requestor_id = EXCLUDED.requestor_id,
			package_id = EXCLUDED.package_id, next_check_at = EXCLUDED.next_check_at, created_at = EXCLUDED.created_at,
			updated_at = EXCLUDED.updated_at, version = EXCLUDED.version, body = EXCLUDED.body,
			closed_at = EXCLUDED.closed_at`, requestValues(r)...); err != nil {
			return fmt.Errorf("request %s: %w", r.ID, err)
		}
	}
	return nil
}
