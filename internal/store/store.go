// Package store keeps AccessBot's durable state in a single bbolt file: conversation references, processed
// activity ids, card message ids, pending dialogs, generic JSON records, an outbox for proactive sends and an
// append-only audit log.
//
// Every write method commits (and fsyncs) its bbolt transaction before it returns, so a nil error means the
// write survives a crash. The schema is versioned: a meta bucket records schema_version and Open runs the
// pending migrations in one transaction.
package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
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

// DefaultProcessedTTL is how long processed activity ids are kept; Open prunes older entries.
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
// this build writes.
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
	resident    residentTrim
}

// Open opens (creating if needed) the state file at path, takes its lock, runs pending migrations in one
// transaction and prunes processed ids older than DefaultProcessedTTL. A file written by a newer schema is
// refused with ErrSchemaTooNew.
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
	if err := ensurePrivate(path); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	if err := s.migrate(migs); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	if n, err := s.PruneProcessed(context.Background(), DefaultProcessedTTL); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	} else if n > 0 {
		s.log.Info("pruned processed activity ids", "count", n)
	}
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
		// Open for writing: until Close marks it again, a crash leaves the file to be verified whole.
		if err := meta.Delete(keyCleanClose); err != nil {
			return fmt.Errorf("clear clean-close mark: %w", err)
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

// Close marks the file closed cleanly (so the next Open need not read it whole) and releases it. Further
// calls on the Store fail.
func (s *Store) Close() error {
	err := s.db.Update(func(tx *bbolt.Tx) error {
		meta, err := bucket(tx, bucketMeta)
		if err != nil {
			return err
		}
		return meta.Put(keyCleanClose, []byte(s.now().UTC().Format(time.RFC3339)))
	})
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

// update runs fn in a read-write transaction; the transaction is committed and fsynced before it returns.
// A failed commit (a write error such as a full disk) is remembered for Ping.
func (s *Store) update(ctx context.Context, op string, fn func(tx *bbolt.Tx) error) (err error) {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if s.observe != nil {
		done := s.observe(ctx, op, true)
		defer func() { done(failure(err)) }()
	}
	tx, err := s.db.Begin(true)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return fmt.Errorf("%s: %w", op, err)
	}
	if err := tx.Commit(); err != nil {
		s.health.note(err)
		s.log.Error("state write failed", "op", op, "err", err)
		return fmt.Errorf("%s: write %s: %w", op, s.path, err)
	}
	s.health.note(nil)
	return nil
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

// ---- conversation references ----

// ConversationRef is what the bot needs to message a user proactively, keyed by tenant + AAD object id.
type ConversationRef struct {
	TenantID         string `json:"tenantId"`
	AADObjectID      string `json:"aadObjectId"`
	UserID           string `json:"userId,omitempty"` // Teams id, 29:…
	UserName         string `json:"userName,omitempty"`
	ConversationID   string `json:"conversationId"`
	ServiceURL       string `json:"serviceUrl"`
	ChannelID        string `json:"channelId,omitempty"`
	BotID            string `json:"botId,omitempty"`
	BotName          string `json:"botName,omitempty"`
	ConversationType string `json:"conversationType,omitempty"`
	// Locale is the user's Teams locale ("de-DE") from their last activity: proactive cards use it.
	Locale    string    `json:"locale,omitempty"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// PutConversation stores (replaces) the reference for ref.TenantID + ref.AADObjectID. TenantID, AADObjectID,
// ConversationID and an absolute http(s) ServiceURL are required. A zero UpdatedAt is set to now. A reference
// equal to the stored one in everything but UpdatedAt is not rewritten (the bot remembers it on every turn).
func (s *Store) PutConversation(ctx context.Context, ref ConversationRef) error {
	const op = "put conversation"
	if err := ValidateConversation(ref); err != nil {
		return err
	}
	if ref.UpdatedAt.IsZero() {
		ref.UpdatedAt = s.now().UTC()
	}
	key := joinKey(ref.TenantID, ref.AADObjectID)
	if s.sameConversation(ctx, key, ref) {
		return nil // every turn remembers the reference; an unchanged one is not rewritten
	}
	raw, err := json.Marshal(ref)
	if err != nil {
		return fmt.Errorf("%s: encode: %w", op, err)
	}
	return s.batch(ctx, op, func(tx *bbolt.Tx) error {
		b, err := bucket(tx, bucketConversations)
		if err != nil {
			return err
		}
		return b.Put(key, raw)
	})
}

// sameConversation reports whether the reference stored under key equals ref in everything but UpdatedAt.
// A read costs no lock and no fsync; it races harmlessly with a concurrent write (that write wins either way).
func (s *Store) sameConversation(ctx context.Context, key []byte, ref ConversationRef) bool {
	var old ConversationRef
	found := false
	err := s.view(ctx, "get conversation", func(tx *bbolt.Tx) error {
		b, err := bucket(tx, bucketConversations)
		if err != nil {
			return err
		}
		raw := b.Get(key)
		if raw == nil {
			return nil
		}
		found = true
		return json.Unmarshal(raw, &old)
	})
	return err == nil && found && SameConversation(old, ref)
}

// Conversation returns the reference stored for tenantID + aadObjectID, or an error matching ErrNotFound.
func (s *Store) Conversation(ctx context.Context, tenantID, aadObjectID string) (ConversationRef, error) {
	const op = "get conversation"
	var ref ConversationRef
	if err := checkKey(op, "tenantId", tenantID); err != nil {
		return ref, err
	}
	if err := checkKey(op, "aadObjectId", aadObjectID); err != nil {
		return ref, err
	}
	err := s.view(ctx, op, func(tx *bbolt.Tx) error {
		b, err := bucket(tx, bucketConversations)
		if err != nil {
			return err
		}
		raw := b.Get(joinKey(tenantID, aadObjectID))
		if raw == nil {
			return fmt.Errorf("tenant %s user %s: %w", tenantID, aadObjectID, ErrNotFound)
		}
		return json.Unmarshal(raw, &ref)
	})
	return ref, err
}

// Conversations lists every reference stored for tenantID, ordered by AAD object id.
func (s *Store) Conversations(ctx context.Context, tenantID string) ([]ConversationRef, error) {
	const op = "list conversations"
	if err := checkKey(op, "tenantId", tenantID); err != nil {
		return nil, err
	}
	return listPrefix[ConversationRef](ctx, s, op, bucketConversations, joinKey(tenantID, ""))
}

// listPrefix decodes every record of core bucket name whose key starts with prefix, in key order.
func listPrefix[T any](ctx context.Context, s *Store, op string, name, prefix []byte) ([]T, error) {
	var out []T
	err := s.view(ctx, op, func(tx *bbolt.Tx) error {
		b, err := bucket(tx, name)
		if err != nil {
			return err
		}
		return scanPrefix(b, prefix, func(_, v []byte) error {
			var rec T
			if err := json.Unmarshal(v, &rec); err != nil {
				return err
			}
			out = append(out, rec)
			return nil
		})
	})
	return out, err
}

func scanPrefix(b *bbolt.Bucket, prefix []byte, fn func(k, v []byte) error) error {
	c := b.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if err := fn(k, v); err != nil {
			return fmt.Errorf("key %q: %w", k, err)
		}
	}
	return nil
}

// ---- processed activities ----

type processedRecord struct {
	At   time.Time `json:"at"`
	Resp []byte    `json:"resp,omitempty"`
	// Claimed marks an activity claimed by ClaimActivity and not yet completed (records written before
	// claims existed, and by MarkProcessed, are complete).
	Claimed bool `json:"claimed,omitempty"`
}

// Processed reports whether key (an activity id, or channel+conversation+activity id) was marked processed
// (or completed with CompleteActivity), and the response stored with it (nil when none was stored). A claim
// still in progress is not processed.
func (s *Store) Processed(ctx context.Context, key string) ([]byte, bool, error) {
	const op = "get processed"
	if err := checkKey(op, "key", key); err != nil {
		return nil, false, err
	}
	var rec processedRecord
	var ok bool
	err := s.view(ctx, op, func(tx *bbolt.Tx) error {
		b, err := bucket(tx, bucketProcessed)
		if err != nil {
			return err
		}
		raw := b.Get([]byte(key))
		if raw == nil {
			return nil
		}
		ok = true
		return json.Unmarshal(raw, &rec)
	})
	if err != nil {
		return nil, false, err
	}
	if rec.Claimed {
		return nil, false, nil
	}
	return rec.Resp, ok, nil
}

// MarkProcessed records key as processed together with resp (the invoke response to replay for a duplicate;
// may be nil). Marking again replaces the stored response.
func (s *Store) MarkProcessed(ctx context.Context, key string, resp []byte) error {
	const op = "mark processed"
	if err := checkKey(op, "key", key); err != nil {
		return err
	}
	raw, err := json.Marshal(processedRecord{At: s.now().UTC(), Resp: resp})
	if err != nil {
		return fmt.Errorf("%s: encode: %w", op, err)
	}
	// Concurrent turns' completions share one commit (group commit). A completed claim keeps the index entry
	// of its claim.
	now := s.now().UTC()
	return s.batch(ctx, op, func(tx *bbolt.Tx) error { return putProcessed(tx, []byte(key), now, raw) })
}

// PruneProcessed deletes processed entries first written more than olderThan ago (claim time, see the
// processed time index) and returns how many it deleted.
func (s *Store) PruneProcessed(ctx context.Context, olderThan time.Duration) (int, error) {
	const op = "prune processed"
	if olderThan <= 0 {
		return 0, invalid(op, "olderThan", fmt.Sprintf("must be positive, got %s", olderThan))
	}
	cutoff := s.now().Add(-olderThan)
	n := 0
	err := s.update(ctx, op, func(tx *bbolt.Tx) error {
		var err error
		n, err = pruneProcessedBefore(tx, cutoff) // walks the time index: no record is decoded
		return err
	})
	return n, err
}

// RunMaintenance prunes old processed ids, abandoned dialogs and long-closed requests now and then every
// m.Every until ctx is cancelled (see Maintain); it returns nil on cancellation.
func (s *Store) RunMaintenance(ctx context.Context, m Maintenance) error {
	return Maintain(ctx, s, s.log, m)
}

// ---- card references ----

// CardRef records the activity id of a card sent for a request to one recipient, so it can be updated later.
type CardRef struct {
	Key            string    `json:"key"`  // e.g. the request id
	Kind           string    `json:"kind"` // "status", "approval", …
	TenantID       string    `json:"tenantId,omitempty"`
	AADObjectID    string    `json:"aadObjectId,omitempty"`
	ConversationID string    `json:"conversationId"`
	ServiceURL     string    `json:"serviceUrl"`
	ActivityID     string    `json:"activityId"`
	UpdatedAt      time.Time `json:"updatedAt"`
}

// PutCard upserts the card reference identified by Key + Kind + TenantID + AADObjectID. Key, Kind,
// ConversationID, ActivityID and an absolute http(s) ServiceURL are required. A zero UpdatedAt is set to now.
func (s *Store) PutCard(ctx context.Context, ref CardRef) error {
	const op = "put card"
	if err := ValidateCard(ref); err != nil {
		return err
	}
	if ref.UpdatedAt.IsZero() {
		ref.UpdatedAt = s.now().UTC()
	}
	return s.putEncoded(ctx, op, bucketCards, joinKey(ref.Key, ref.Kind, ref.TenantID, ref.AADObjectID), ref)
}

// Cards returns every card reference stored under key (all kinds and recipients), ordered by kind, tenant, user.
func (s *Store) Cards(ctx context.Context, key string) ([]CardRef, error) {
	const op = "list cards"
	if err := checkKey(op, "key", key); err != nil {
		return nil, err
	}
	return listPrefix[CardRef](ctx, s, op, bucketCards, joinKey(key, ""))
}

// ---- dialogs ----

// DefaultDialogTTL is how long an untouched dialog (an open form, a pending confirmation or sign-in) is kept
// before RunMaintenance prunes it. Every dialog the bot keeps expires much sooner in its own terms.
const DefaultDialogTTL = 7 * 24 * time.Hour

// PutDialog stores v (JSON-encoded) as the pending dialog under key, replacing any previous one, and records
// when it was written (see PruneDialogs).
func (s *Store) PutDialog(ctx context.Context, key string, v any) error {
	const op = "put dialog"
	if err := checkKey(op, "key", key); err != nil {
		return err
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("%s: encode: %w", op, err)
	}
	stamp := []byte(s.now().UTC().Format(time.RFC3339Nano))
	return s.update(ctx, op, func(tx *bbolt.Tx) error {
		for name, val := range map[string][]byte{string(bucketDialogs): raw, string(bucketDialogTimes): stamp} {
			b, err := bucket(tx, []byte(name))
			if err != nil {
				return err
			}
			if err := b.Put([]byte(key), val); err != nil {
				return err
			}
		}
		return nil
	})
}

// Dialog decodes the pending dialog under key into out; a missing dialog is an error matching ErrNotFound.
func (s *Store) Dialog(ctx context.Context, key string, out any) error {
	return s.getJSON(ctx, "get dialog", bucketDialogs, key, out)
}

// DeleteDialog removes the dialog under key; deleting a missing dialog is not an error.
func (s *Store) DeleteDialog(ctx context.Context, key string) error {
	const op = "delete dialog"
	if err := checkKey(op, "key", key); err != nil {
		return err
	}
	return s.update(ctx, op, func(tx *bbolt.Tx) error {
		for _, name := range [][]byte{bucketDialogs, bucketDialogTimes} {
			if b := tx.Bucket(name); b != nil {
				if err := b.Delete([]byte(key)); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// PruneDialogs deletes the dialogs last written more than olderThan ago (and any dialog without a recorded
// write time) and returns how many it deleted.
func (s *Store) PruneDialogs(ctx context.Context, olderThan time.Duration) (int, error) {
	const op = "prune dialogs"
	if olderThan <= 0 {
		return 0, invalid(op, "olderThan", fmt.Sprintf("must be positive, got %s", olderThan))
	}
	cutoff := s.now().Add(-olderThan)
	n := 0
	err := s.update(ctx, op, func(tx *bbolt.Tx) error {
		dialogs, err := bucket(tx, bucketDialogs)
		if err != nil {
			return err
		}
		times, err := bucket(tx, bucketDialogTimes)
		if err != nil {
			return err
		}
		n, err = deleteWhere(dialogs, func(k, _ []byte) bool {
			at, perr := time.Parse(time.RFC3339Nano, string(times.Get(k)))
			return perr != nil || at.Before(cutoff)
		}, times)
		return err
	})
	return n, err
}

// deleteWhere deletes every key of b for which stale(k, v) holds, and the same keys from each of also;
// it returns how many keys of b it deleted.
func deleteWhere(b *bbolt.Bucket, stale func(k, v []byte) bool, also ...*bbolt.Bucket) (int, error) {
	var keys [][]byte
	if err := b.ForEach(func(k, v []byte) error {
		if stale(k, v) {
			keys = append(keys, bytes.Clone(k))
		}
		return nil
	}); err != nil {
		return 0, err
	}
	for _, k := range keys {
		for _, from := range append([]*bbolt.Bucket{b}, also...) {
			if err := from.Delete(k); err != nil {
				return 0, err
			}
		}
	}
	return len(keys), nil
}

// putJSON stores v as JSON under a validated single-part key of bucket name.
func (s *Store) putJSON(ctx context.Context, op string, name []byte, key string, v any) error {
	if err := checkKey(op, "key", key); err != nil {
		return err
	}
	return s.putEncoded(ctx, op, name, []byte(key), v)
}

// putEncoded stores v as JSON under key (already validated) in bucket name, creating the bucket if needed,
// and returns once the write is committed.
func (s *Store) putEncoded(ctx context.Context, op string, name, key []byte, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("%s: encode: %w", op, err)
	}
	return s.update(ctx, op, func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(name)
		if err != nil {
			return fmt.Errorf("bucket %s: %w", name, err)
		}
		return b.Put(key, raw)
	})
}

func (s *Store) getJSON(ctx context.Context, op string, name []byte, key string, out any) error {
	if err := checkKey(op, "key", key); err != nil {
		return err
	}
	return s.view(ctx, op, func(tx *bbolt.Tx) error {
		var raw []byte
		if b := tx.Bucket(name); b != nil {
			raw = b.Get([]byte(key))
		}
		if raw == nil {
			return fmt.Errorf("%s: %w", key, ErrNotFound)
		}
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("%s: decode: %w", key, err)
		}
		return nil
	})
}

func (s *Store) deleteKey(ctx context.Context, op string, name []byte, key string) error {
	if err := checkKey(op, "key", key); err != nil {
		return err
	}
	return s.update(ctx, op, func(tx *bbolt.Tx) error {
		b := tx.Bucket(name)
		if b == nil {
			return nil
		}
		return b.Delete([]byte(key))
	})
}

// ---- generic JSON records ----

var bucketNameRE = regexp.MustCompile(`^[a-z][a-z0-9_.-]{0,62}$`)

func kvBucket(op, name string) ([]byte, error) {
	if !bucketNameRE.MatchString(name) {
		return nil, invalid(op, "bucket", fmt.Sprintf("must match %s, got %q", bucketNameRE, name))
	}
	return []byte(kvPrefix + name), nil
}

// Put stores v (JSON-encoded) under bucket/key, creating the bucket on first use. Bucket names are lower-case
// letters, digits, '_', '.', '-' (starting with a letter, at most 63 bytes).
func (s *Store) Put(ctx context.Context, bucket, key string, v any) error {
	const op = "put record"
	name, err := kvBucket(op, bucket)
	if err != nil {
		return err
	}
	return s.putJSON(ctx, op+" "+bucket, name, key, v)
}

// Get decodes the record bucket/key into out; a missing record is an error matching ErrNotFound.
func (s *Store) Get(ctx context.Context, bucket, key string, out any) error {
	const op = "get record"
	name, err := kvBucket(op, bucket)
	if err != nil {
		return err
	}
	return s.getJSON(ctx, op+" "+bucket, name, key, out)
}

// Delete removes the record bucket/key; deleting a missing record is not an error.
func (s *Store) Delete(ctx context.Context, bucket, key string) error {
	const op = "delete record"
	name, err := kvBucket(op, bucket)
	if err != nil {
		return err
	}
	return s.deleteKey(ctx, op+" "+bucket, name, key)
}

// List calls fn for every record of bucket whose key starts with prefix ("" for all), in key order. The
// records are read in one consistent snapshot; fn runs outside the transaction, so it may call the Store.
// An error from fn stops the listing and is returned wrapped.
func (s *Store) List(ctx context.Context, bucket, prefix string, fn func(key string, raw []byte) error) error {
	const op = "list records"
	name, err := kvBucket(op, bucket)
	if err != nil {
		return err
	}
	if fn == nil {
		return invalid(op, "fn", "is required")
	}
	type kv struct {
		k string
		v []byte
	}
	var items []kv
	err = s.view(ctx, op+" "+bucket, func(tx *bbolt.Tx) error {
		b := tx.Bucket(name)
		if b == nil {
			return nil
		}
		return scanPrefix(b, []byte(prefix), func(k, v []byte) error {
			items = append(items, kv{string(k), bytes.Clone(v)})
			return nil
		})
	})
	if err != nil {
		return err
	}
	for _, it := range items {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("%s %s: %w", op, bucket, err)
		}
		if err := fn(it.k, it.v); err != nil {
			return fmt.Errorf("%s %s: key %s: %w", op, bucket, it.k, err)
		}
	}
	return nil
}
