package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/accessbot/accessbot/internal/store"
	"github.com/accessbot/accessbot/internal/store/postgres"
	"github.com/accessbot/accessbot/internal/telemetry"
)

// jobLeaseTTL is how long a replica holds a background job's lease without renewing it; a dead holder's jobs
// move to another replica within about ttl + ttl/3.
const jobLeaseTTL = 15 * time.Second

// Outbox timing: one delivery may take outboxHandleTimeout; an item leased by a replica that died is due again
// after outboxLeaseFor.
const (
	outboxHandleTimeout = 20 * time.Second
	outboxLeaseFor      = 25 * time.Second
)

// openState opens the configured state backend: PostgreSQL when cfg.DatabaseURL is set, else the bbolt file
// at cfg.DataPath. Errors and logs name the database by its redacted URL only.
// metrics sees every transaction or statement (latency metrics and trace spans).
func openState(ctx context.Context, cfg config, log *slog.Logger, metrics *telemetry.Metrics) (store.Backend, error) {
	if cfg.DatabaseURL != "" {
		where := postgres.Redact(cfg.DatabaseURL)
		st, err := postgres.Open(ctx, cfg.DatabaseURL, postgres.Options{
			Logger: log, MaxConns: int32(cfg.DBMaxConns), StatementTimeout: cfg.DBStatementTimeout, Tracer: metrics.PgxTracer(),
		})
		if err != nil {
			return nil, fmt.Errorf("open state: %w", err)
		}
		log.Info("state in PostgreSQL", "database", where)
		return st, nil
	}
	if dir := filepath.Dir(cfg.DataPath); dir != "." {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("create data directory %s: %w", dir, err)
		}
	}
	st, err := store.Open(cfg.DataPath, store.Options{Logger: log, Observe: metrics.StoreOp})
	if err != nil {
		return nil, fmt.Errorf("open state: %w", err) // the store's error names the file
	}
	return st, nil
}

// replicaID names this process as a lease holder: host, pid and a random suffix (a restarted process is a
// new holder).
func replicaID() string {
	host, _ := os.Hostname()
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// exclusive wraps a background job so that only one replica runs it at a time (store.RunExclusive).
func (a *app) exclusive(name string, job func(context.Context) error) func(context.Context) error {
	return func(ctx context.Context) error {
		return store.RunExclusive(ctx, a.store, "job/"+name, a.holder, jobLeaseTTL, func(ctx context.Context) error {
			a.log.Info("running background job on this replica", "job", name, "holder", a.holder)
			return job(ctx)
		})
	}
}
