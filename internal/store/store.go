// Package store keeps AccessBot's durable state in a single bbolt file: conversation references, processed
// activity ids, card message ids, pending dialogs, generic JSON records, an outbox for proactive sends and an
// append-only audit log.
//
// Every write method commits (and fsyncs) its bbolt transaction before it returns, so a nil error means the
// write survives a crash. The schema is versioned: a meta bucket records schema_version and Open runs the
// pending migrations in one transaction.
package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.etcd.io/bbolt"
)

// ErrNotFound is returned (wrapped) when a requested record does not exist. Test for it with errors.Is.
var ErrNotFound = errors.New("not found")

// ErrInvalid is returned (wrapped, inside a *ValidationError) when an argument is rejected before anything
// is written. Test for it with errors.Is; use errors.As with *ValidationError for the field.
var ErrInvalid = errors.New("invalid argument")

// ErrSchemaTooNew is returned by Open when the file was written by a newer build with a higher schema version.
var ErrSchemaTooNew = errors.New("store schema is newer than this build supports")

// ValidationError names the field that was rejected and what was expected. It matches ErrInvalid.
type ValidationError struct {
	// Op is the operation that rejected the input, e.g. "put conversation".
	Op string
	// Field is the offending field or argument, e.g. "serviceUrl".
	Field string
	// Problem says what was expected, e.g. "is required".
	Problem string
}

// Error implements error.
func (e *ValidationError) Error() string {
	return fmt.Sprintf("%s: %s %s", e.Op, e.Field, e.Problem)
}

// Is reports whether target is ErrInvalid.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

func invalid(op, field, problem string) error {
	return &ValidationError{Op: op, Field: field, Problem: problem}
}

// Bucket names. User buckets of the generic JSON API live under kvPrefix so they never collide with these.
var (
	bucketMeta          = []byte("meta")
	bucketConversations = []byte("conversations")
	bucketProcessed     = []byte("processed")
	bucketCards         = []byte("cards")
	bucketDialogs       = []byte("dialogs")
	// bucketDialogTimes holds when each dialog was last written (RFC 3339), so abandoned dialogs can be pruned.
	bucketDialogTimes = []byte("dialog-times")
	bucketOutbox      = []byte("outbox")
	bucketDeadLetters = []byte("deadletters")
	bucketAudit       = []byte("audit")
	bucketLeases      = []byte("leases")
	keySchemaVersion  = []byte("schema_version")
)

const (
	kvPrefix = "kv/"
	// sep joins the parts of composite keys; parts are validated not to contain it.
	sep = "\x00"
	// maxKeyLen bounds every caller-supplied key part (bbolt allows 32 KiB keys; ours are ids).
	maxKeyLen = 1024
)

// DefaultProcessedTTL is how long processed activity ids are kept; maintenance (Maintain) prunes older entries.
const DefaultProcessedTTL = 48 * time.Hour

// DefaultMaxAttempts is the number of delivery attempts after which an outbox item is dead-lettered.
const DefaultMaxAttempts = 8

// Migration is one step of the schema. Apply runs inside the Open transaction; Version must be the previous
// migration's Version + 1, starting at 1.
type Migration struct {
	// Version is the schema version this migration produces.
	Version int
	// Name describes the change, for logs.
	Name string
	// Apply performs the change inside the migration transaction.
	Apply func(tx *bbolt.Tx) error
}

// Migrations returns the built-in schema migrations, oldest first. The last Version is the schema version
// this build writes. Migrations run before the write-ahead log is replayed (Open): one that changes the layout
// of the processed log, the dialogs or the audit bucket must replay the log itself first, or the replay would
// write records of the old layout over it.
func Migrations() []Migration {
	return []Migration{
		{Version: 1, Name: "create core buckets", Apply: func(tx *bbolt.Tx) error {
			for _, b := range [][]byte{bucketConversations, bucketProcessed, bucketCards, bucketDialogs,
				bucketOutbox, bucketDeadLetters, bucketAudit} {
				if _, err := tx.CreateBucketIfNotExists(b); err != nil {
					return fmt.Errorf("create bucket %s: %w", b, err)
				}
			}
			return nil
		}},
		{Version: 2, Name: "dialog write times", Apply: func(tx *bbolt.Tx) error {
			// Dialogs written before this version are stamped now: they age from the upgrade.
			times, err := tx.CreateBucketIfNotExists(bucketDialogTimes)
			if err != nil {
				return fmt.Errorf("create bucket %s: %w", bucketDialogTimes, err)
			}
			stamp := []byte(time.Now().UTC().Format(time.RFC3339Nano))
			dialogs := tx.Bucket(bucketDialogs)
			if dialogs == nil {
				return nil
			}
			return dialogs.ForEach(func(k, _ []byte) error { return times.Put(k, stamp) })
		}},
		{Version: 3, Name: "requests and leases", Apply: func(tx *bbolt.Tx) error {
			// Activity claims live in the processed bucket: its old records read as completed.
			for _, b := range [][]byte{bucketRequests, bucketLeases} {
				if _, err := tx.CreateBucketIfNotExists(b); err != nil {
					return fmt.Errorf("create bucket %s: %w", b, err)
				}
			}
			return nil
		}},
		{Version: 4, Name: "processed activity time index", Apply: indexProcessed},
		{Version: 5, Name: "request due and closed indexes", Apply: indexRequests},
		{Version: 6, Name: "processed-activity log", Apply: moveProcessedToLog},
	}
}

// Options configure Open. The zero value is usable.
type Options struct {
	// Logger receives migration and maintenance logs; nil discards them.
	Logger *slog.Logger
	// Timeout bounds the wait for the file lock held by another process; default 5s.
	Timeout time.Duration
	// Now is the clock (tests inject a fake one); default time.Now.
	Now func() time.Time
	// Migrations overrides the schema migrations; nil means Migrations(). Tests and future versions use it.
	Migrations []Migration
	// MaxAttempts is the number of outbox delivery attempts before an item is dead-lettered; default 8.
	MaxAttempts int
	// Observe, when set, is called as every transaction starts (op names it, write tells read-write from
	// read-only) and the returned func as it ends, with its error: the process's metrics and trace spans
	// (telemetry.Metrics.StoreOp).
	Observe func(ctx context.Context, op string, write bool) func(error)
	// PendingRetryMax caps the wait between background retries of an answered activity's completion that
	// could not be written (a full disk); default DefaultPendingRetryMax.
	PendingRetryMax time.Duration
	// WALSize is the size in bytes of the write-ahead log of turn completions, created next to the state file
	// (its path with ".wal"); 0 means DefaultWALSize, a negative size turns the log off (every completion is
	// then a commit of the state file). An existing log keeps its size.
	WALSize int64
}

// Store is an open bbolt state file. It is safe for concurrent use.
type Store struct {
	db          *bbolt.DB
	log         *slog.Logger
	now         func() time.Time
	maxAttempts int
	path        string
	observe     func(ctx context.Context, op string, write bool) func(error)
	health      writeHealth
	group       groupCommit
	claims      activityClaims
	completing  completionLocks
	processed   processedIndex
	fromSnap    bool // the processed index was loaded from Close's snapshot, not built from the log (tests)
	// indexing is held shared by each writer of processed-activity records (completions, pruning) from its
	// commit to its index update, and exclusively by Close, so that Close's snapshot matches the log.
	indexing sync.RWMutex
	// afterWrite, when set (tests), runs between a completion's or a prune's commit and its index update.
	afterWrite func()
	resident   residentTrim
	wal        *walTurns // nil: no write-ahead log (Options.WALSize < 0)
}

// Open opens (creating if needed) the state file at path, takes its lock and runs pending migrations in one
// transaction. A file written by a newer schema is refused with ErrSchemaTooNew. Pruning is RunMaintenance's
// (it prunes at its start, then every hour).
func Open(path string, opts Options) (*Store, error) {
	if strings.TrimSpace(path) == "" {
		return nil, invalid("open store", "path", "is required")
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 5 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = DefaultMaxAttempts
	}
	migs := opts.Migrations
	if migs == nil {
		migs = Migrations()
	}
	if err := checkMigrations(migs); err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("open store %s: create directory: %w", path, err)
		}
	}
	if err := verifyFile(path, opts.Timeout, opts.Logger.With("store", path)); err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: opts.Timeout})
	if err != nil {
		if errors.Is(err, bbolt.ErrTimeout) {
			return nil, fmt.Errorf("open store %s: file is locked by another process (waited %s): %w", path, opts.Timeout, err)
		}
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	s := &Store{db: db, log: opts.Logger.With("store", path), now: opts.Now, maxAttempts: opts.MaxAttempts, path: path,
		observe: opts.Observe}
	s.health.SetRetry(PendingRetry{Flush: s.probeWrites, Renew: s.RenewActivity, Max: opts.PendingRetryMax, Log: s.log})
	if err := ensurePrivate(path); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	snap := s.readProcessedSnapshot(migs[len(migs)-1].Version) // before migrate's write makes it stale
	if err := s.migrate(migs); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	if err := s.loadProcessedIndex(snap); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open store %s: index processed activities: %w", path, err)
	}
	if err := s.openWALIf(opts.WALSize); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	s.dropResidentNow() // the log's pages were read to build the index
	return s, nil
}

func checkMigrations(migs []Migration) error {
	if len(migs) == 0 {
		return errors.New("migrations: at least one migration is required")
	}
	for i, m := range migs {
		if m.Version != i+1 {
			return fmt.Errorf("migrations: entry %d (%q) has version %d, expected %d", i, m.Name, m.Version, i+1)
		}
		if m.Apply == nil {
			return fmt.Errorf("migrations: version %d (%q) has no Apply func", m.Version, m.Name)
		}
	}
	return nil
}

// SchemaVersion reports the schema version recorded in the file.
func (s *Store) SchemaVersion() (int, error) {
	var v int
	err := s.db.View(func(tx *bbolt.Tx) error {
		var err error
		v, err = readVersion(tx)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return v, nil
}

func readVersion(tx *bbolt.Tx) (int, error) {
	b := tx.Bucket(bucketMeta)
	if b == nil {
		return 0, nil
	}
	raw := b.Get(keySchemaVersion)
	if raw == nil {
		return 0, nil
	}
	v, err := strconv.Atoi(string(raw))
	if err != nil || v < 0 {
		return 0, fmt.Errorf("meta %s is %q, not a version number", keySchemaVersion, raw)
	}
	return v, nil
}

func (s *Store) migrate(migs []Migration) error {
	latest := migs[len(migs)-1].Version
	return s.db.Update(func(tx *bbolt.Tx) error {
		cur, err := readVersion(tx)
		if err != nil {
			return err
		}
		if cur > latest {
			return fmt.Errorf("file has schema version %d, this build supports up to %d (upgrade accessbot or use another data file): %w",
				cur, latest, ErrSchemaTooNew)
		}
		meta, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return fmt.Errorf("create meta bucket: %w", err)
		}
		// Open for writing: until Close marks it again, a crash leaves the file to be verified whole (and its
		// processed log to be scanned: the snapshot, read already, is true only until this write).
		if err := meta.Delete(keyCleanClose); err != nil {
			return fmt.Errorf("clear clean-close mark: %w", err)
		}
		if err := meta.Delete(keyProcessedSnapshot); err != nil {
			return fmt.Errorf("delete processed-index snapshot: %w", err)
		}
		for _, m := range migs {
			if m.Version <= cur {
				continue
			}
			if err := m.Apply(tx); err != nil {
				return fmt.Errorf("migration %d (%s): %w", m.Version, m.Name, err)
			}
			if err := meta.Put(keySchemaVersion, []byte(strconv.Itoa(m.Version))); err != nil {
				return fmt.Errorf("migration %d (%s): record version: %w", m.Version, m.Name, err)
			}
			s.log.Info("applied store migration", "version", m.Version, "name", m.Name)
		}
		return nil
	})
}

// Close ends the background retry of pending answers (with one last attempt to write them), marks the file
// closed cleanly (so the next Open need not read it whole), snapshots the processed-activity index with the
// mark (so the next Open need not scan the log; processed_snapshot.go) and releases it. Further calls on the Store fail.
func (s *Store) Close() error {
	s.health.Stop()   // before indexing: the pending answers it flushes are completions
	s.indexing.Lock() // in-flight completions finish and index their records; later ones fail on the closed file
	defer s.indexing.Unlock()
	if err := s.closeWAL(); err != nil {
		s.log.Warn("closing the write-ahead log failed", "err", err)
	}
	err := s.markClosed(true)
	if err != nil && !errors.Is(err, bbolt.ErrDatabaseNotOpen) {
		s.log.Warn("could not snapshot the processed-activity index: the next start builds it from the log", "err", err)
		err = s.markClosed(false) // a nearly full disk may still take the mark without the snapshot
	}
	if err != nil && !errors.Is(err, bbolt.ErrDatabaseNotOpen) {
		s.log.Warn("could not mark the state file closed cleanly: the next start reads it whole", "err", err)
	}
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close store %s: %w", s.path, err)
	}
	return nil
}

// Ping checks that the store is open, its schema readable and, after a write failed (a full disk), that
// writes succeed again; use it as a readiness check.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.probeWrites(ctx); err != nil {
		return fmt.Errorf("state file %s is not writable (disk full?): %w", s.path, err)
	}
	return s.view(ctx, "ping store", func(tx *bbolt.Tx) error {
		if _, err := readVersion(tx); err != nil {
			return err
		}
		_, err := bucket(tx, bucketAudit)
		return err
	})
}

func (s *Store) view(ctx context.Context, op string, fn func(tx *bbolt.Tx) error) (err error) {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if s.observe != nil {
		done := s.observe(ctx, op, false)
		defer func() { done(failure(err)) }()
	}
	if err := s.db.View(fn); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}

// failure is err as the Observe hook sees it: a record that is not there is an answer, not a failure.
func failure(err error) error {
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// bucket returns a core bucket or an error naming it (it exists after migration 1).
func bucket(tx *bbolt.Tx, name []byte) (*bbolt.Bucket, error) {
	b := tx.Bucket(name)
	if b == nil {
		return nil, fmt.Errorf("bucket %s missing (schema not migrated)", name)
	}
	return b, nil
}

// checkKey validates one caller-supplied key part.
func checkKey(op, field, v string) error {
	switch {
	case v == "":
		return invalid(op, field, "is required")
	case len(v) > maxKeyLen:
		return invalid(op, field, fmt.Sprintf("is %d bytes, at most %d allowed", len(v), maxKeyLen))
	case strings.Contains(v, sep):
		return invalid(op, field, "must not contain a NUL byte")
	}
	return nil
}

// optKey validates an optional key part (may be empty).
func optKey(op, field, v string) error {
	if v == "" {
		return nil
	}
	return checkKey(op, field, v)
}

func checkServiceURL(op, v string) error {
	if v == "" {
		return invalid(op, "serviceUrl", "is required")
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return invalid(op, "serviceUrl", fmt.Sprintf("must be an absolute http(s) URL, got %q", v))
	}
	return nil
}

func joinKey(parts ...string) []byte { return []byte(strings.Join(parts, sep)) }
