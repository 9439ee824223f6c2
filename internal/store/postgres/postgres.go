// Package postgres is the PostgreSQL storage backend: the same store.Backend as the bbolt file, for
// several replicas sharing one database. It speaks pgx v5 (pgxpool) and applies its versioned SQL
// migrations (embedded, goose v3) at Open under a PostgreSQL advisory lock, so replicas starting together
// migrate once.
//
// Time-based coordination (activity claims, leases, outbox due times and leases, pruning) uses the
// database's clock, so replicas with skewed clocks still agree.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"log/slog"
	"net/url"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/accessbot/accessbot/internal/store"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Defaults for Options.
const (
	DefaultMaxConns         = 10
	DefaultStatementTimeout = 10 * time.Second
)

// Options configure Open. The zero value is usable.
type Options struct {
	// Logger receives migration and maintenance logs; nil discards them.
	Logger *slog.Logger
	// MaxConns is the pool size per process; default 10. Keep replicas × MaxConns below the server's
	// max_connections (minus what other clients need).
	MaxConns int32
	// StatementTimeout bounds every statement on the server; default 10s.
	StatementTimeout time.Duration
	// MaxAttempts is the number of outbox delivery attempts before an item is dead-lettered; default 8.
	MaxAttempts int
	// Now stamps CreatedAt/UpdatedAt defaults (requests, conversations, cards, audit); default time.Now.
	Now func() time.Time
	// Tracer, when set, sees every statement (telemetry.Metrics.PgxTracer: store latency metrics and spans).
	Tracer pgx.QueryTracer
	// PendingRetryMax caps the wait between background retries of an answered activity's completion that
	// could not be written, and so how often its claim is renewed meanwhile; default
	// store.DefaultPendingRetryMax. Keep it well below the claim hold (the bot's is 15 s).
	PendingRetryMax time.Duration
}

// Store is a PostgreSQL-backed store.Backend. It is safe for concurrent use by many goroutines and many
// processes.
type Store struct {
	pool        *pgxpool.Pool
	log         *slog.Logger
	now         func() time.Time
	maxAttempts int
	where       string // the redacted URL, for errors
	// answers are the activities answered whose completion could not be written (see CompleteTurn).
	answers store.PendingAnswers
}

var _ store.Backend = (*Store)(nil)

// Redact returns rawURL with any password (user info or a password query parameter) replaced, for logs and
// errors.
func Redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return "(unparseable database URL)"
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// Open connects to the database at rawURL (postgres://user[:password]@host:port/db?sslmode=…; a
// search_path parameter selects the schema), applies pending migrations and returns the store. Errors
// never contain the password.
func Open(ctx context.Context, rawURL string, opts Options) (*Store, error) {
	where := Redact(rawURL)
	cfg, err := pgxpool.ParseConfig(rawURL)
	if err != nil {
		return nil, fmt.Errorf("open database %s: parse URL: %w", where, errors.New(redactErr(err)))
	}
	if opts.MaxConns < 0 {
		return nil, store.Invalid("open database", "maxConns", fmt.Sprintf("must be positive, got %d", opts.MaxConns))
	}
	if opts.MaxConns == 0 {
		opts.MaxConns = DefaultMaxConns
	}
	if opts.StatementTimeout < 0 {
		return nil, store.Invalid("open database", "statementTimeout", fmt.Sprintf("must be positive, got %s", opts.StatementTimeout))
	}
	if opts.StatementTimeout == 0 {
		opts.StatementTimeout = DefaultStatementTimeout
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = store.DefaultMaxAttempts
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	cfg.MaxConns = opts.MaxConns
	cfg.ConnConfig.RuntimeParams["statement_timeout"] = strconv.FormatInt(opts.StatementTimeout.Milliseconds(), 10)
	cfg.ConnConfig.RuntimeParams["application_name"] = "accessbot"
	if opts.Tracer != nil {
		cfg.ConnConfig.Tracer = opts.Tracer
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %s", where, redactErr(err))
	}
	s := &Store{pool: pool, log: opts.Logger.With("store", where), now: opts.Now, maxAttempts: opts.MaxAttempts, where: where}
	s.answers.SetRetry(store.PendingRetry{Flush: s.flushAnswers, Renew: s.RenewActivity, Max: opts.PendingRetryMax, Log: s.log})
	if err := s.migrate(ctx, migrationLockID(cfg.ConnConfig.Database, cfg.ConnConfig.RuntimeParams["search_path"])); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open database %s: %w", where, err)
	}
	return s, nil
}

// redactErr is err's text; pgx already leaves passwords out of its connection errors.
func redactErr(err error) string { return err.Error() }

// Migrations returns the embedded SQL migrations (for tooling and tests).
func Migrations() fs.FS {
	sub, _ := fs.Sub(migrationFiles, "migrations")
	return sub
}

// migrationLockID is the advisory lock id guarding migrations of one database and schema (replicas of one
// installation share it; tests in their own schemas do not wait for each other).
func migrationLockID(database, searchPath string) int64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte("accessbot-migrate\x00" + database + "\x00" + searchPath))
	return int64(h.Sum64() >> 1)
}

// migrate applies the pending migrations, holding an advisory lock so concurrent starters wait their turn.
func (s *Store) migrate(ctx context.Context, lockID int64) error {
	db := stdlib.OpenDBFromPool(s.pool)
	defer func() { _ = db.Close() }()
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(lockID), lock.WithLockTimeout(1, 300))
	if err != nil {
		return fmt.Errorf("migrations: locker: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, Migrations(),
		goose.WithSessionLocker(locker), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	res, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("apply migrations: %w", err)
	}
	for _, r := range res {
		s.log.Info("applied database migration", "version", r.Source.Version, "file", r.Source.Path, "duration", r.Duration)
	}
	return nil
}

// SchemaVersion reports the highest applied migration version.
func (s *Store) SchemaVersion(ctx context.Context) (int64, error) {
	db := stdlib.OpenDBFromPool(s.pool)
	defer func() { _ = db.Close() }()
	p, err := goose.NewProvider(goose.DialectPostgres, db, Migrations(), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return 0, fmt.Errorf("schema version: %w", err)
	}
	v, err := p.GetDBVersion(ctx)
	if err != nil {
		return 0, fmt.Errorf("schema version: %w", err)
	}
	return v, nil
}

// Close ends the background retry of pending answers (with one last attempt to write them) and closes the
// pool.
func (s *Store) Close() error {
	s.answers.Stop()
	s.pool.Close()
	return nil
}

// Ping checks that the database answers and the schema is there, and writes the activity completions that
// could not be written before (see CompleteTurn; a background retry writes them too, without waiting for a
// probe); use it as a readiness check: the replica is not ready while any is left.
func (s *Store) Ping(ctx context.Context) error {
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM leases WHERE false`).Scan(&n); err != nil {
		return fmt.Errorf("ping database %s: %w", s.where, err)
	}
	if left := s.answers.Len(); left > 0 {
		if err := s.flushAnswers(ctx); err != nil {
			return fmt.Errorf("ping database %s: write %d pending activity completions: %w", s.where, left, err)
		}
		s.log.Info("wrote the activity completions kept in memory", "count", left)
	}
	return nil
}

// flushAnswers writes the pending activity completions (Ping and the background retry).
func (s *Store) flushAnswers(ctx context.Context) error {
	return s.answers.Flush(ctx, s.completeTurn)
}

// Pool exposes the connection pool (the migrate command and tests use it).
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// RunMaintenance prunes old processed ids, abandoned dialogs and long-closed requests now and then every
// m.Every (see store.Maintain).
func (s *Store) RunMaintenance(ctx context.Context, m store.Maintenance) error {
	return store.Maintain(ctx, s, s.log, m)
}

// micros is d as a bigint of microseconds for `$n * interval '1 microsecond'`.
func micros(d time.Duration) int64 { return d.Microseconds() }

// nullTime maps the zero time to SQL NULL.
func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// isUniqueViolation reports a duplicate-key error.
func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// notFound maps pgx.ErrNoRows to store.ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNotFound
	}
	return err
}
