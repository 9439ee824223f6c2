package store

import (
	"context"
	cryptorand "crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// ErrExists is returned (wrapped) by CreateRequest when a request with the same id is already stored.
var ErrExists = errors.New("already exists")

// ErrConflict is returned (wrapped) by UpdateRequest and UpdateKV when the record kept changing under them
// (another writer won the compare-and-swap more often than they retry).
var ErrConflict = errors.New("concurrent update conflict")

// ErrNoChange is returned by an UpdateRequest or UpdateKV fn to skip the write; the update then returns
// the unchanged record and a nil error.
var ErrNoChange = errors.New("no change")

// MaxUpdateAttempts is how many times UpdateRequest and UpdateKV re-read and re-run fn after losing a
// compare-and-swap before they give up with ErrConflict.
const MaxUpdateAttempts = 64

// CASBackoff waits before compare-and-swap retry attempt (1-based): a random delay up to 1ms·attempt,
// capped at 50ms, so contending writers spread out instead of colliding again. It returns ctx's error
// when ctx ends first.
func CASBackoff(ctx context.Context, attempt int) error {
	if attempt <= 0 {
		return nil
	}
	d := min(time.Duration(attempt)*time.Millisecond, 50*time.Millisecond)
	if !sleepCtx(ctx, rand.N(d)+1) {
		return ctx.Err()
	}
	return nil
}

// Request kinds.
const (
	KindTracked  = "tracked"
	KindBrokered = "brokered"
)

// Request is one request the lifecycle follows (a tracked delegated request or a bot-run brokered request).
// The store indexes the plain fields; Body is the lifecycle core's own JSON document, opaque to the store.
// Times are kept in UTC with microsecond precision (both backends round the same way).
type Request struct {
	// ID is the Graph request id, or the brokered request id.
	ID string `json:"id"`
	// Kind is KindTracked or KindBrokered.
	Kind string `json:"kind"`
	// State is the lifecycle's state name (indexed: /pending, the poller).
	State string `json:"state"`
	// TenantID is the requestor's tenant.
	TenantID string `json:"tenantId,omitempty"`
	// RequestorID is the requestor's AAD object id (indexed: "my requests", /audit by user).
	RequestorID string `json:"requestorId,omitempty"`
	// PackageID is the access package id (indexed: by package).
	PackageID string `json:"packageId,omitempty"`
	// NextCheckAt is when the poller should next look at the request; zero means never. Both backends index
	// it, so a DueBefore query reads only the requests due, never the closed ones.
	NextCheckAt time.Time `json:"nextCheckAt,omitzero"`
	// ClosedAt is when the lifecycle closed the request (final state, nothing more to follow); zero while it
	// is open. Both backends index it: PruneRequests deletes the requests closed longer than the retention.
	ClosedAt time.Time `json:"closedAt,omitzero"`
	// CreatedAt is set to now by CreateRequest when zero; UpdateRequest keeps it.
	CreatedAt time.Time `json:"createdAt"`
	// UpdatedAt is set to now by CreateRequest and UpdateRequest.
	UpdatedAt time.Time `json:"updatedAt"`
	// Version is maintained by the store: 1 on create, +1 on every update.
	Version int64 `json:"version"`
	// Body is JSON owned by the lifecycle core (nil when it has none).
	Body json.RawMessage `json:"body,omitempty"`
}

// RequestQuery filters ListRequests; empty fields match all. DueBefore selects NextCheckAt != zero &&
// NextCheckAt <= DueBefore; Open selects the requests not closed (ClosedAt zero). Results are ordered by
// CreatedAt, then ID.
type RequestQuery struct {
	Kind        string
	States      []string
	RequestorID string
	PackageID   string
	DueBefore   time.Time
	Open        bool
	// Limit is the maximum number of results; 0 means no limit.
	Limit int
}

// Matches reports whether r passes the filters of q (Limit aside).
func (q RequestQuery) Matches(r Request) bool {
	if q.Kind != "" && r.Kind != q.Kind {
		return false
	}
	if q.RequestorID != "" && r.RequestorID != q.RequestorID {
		return false
	}
	if q.PackageID != "" && r.PackageID != q.PackageID {
		return false
	}
	if !q.DueBefore.IsZero() && (r.NextCheckAt.IsZero() || r.NextCheckAt.After(q.DueBefore)) {
		return false
	}
	if q.Open && !r.ClosedAt.IsZero() {
		return false
	}
	if len(q.States) == 0 {
		return true
	}
	for _, s := range q.States {
		if r.State == s {
			return true
		}
	}
	return false
}

// CheckRequestQuery rejects a query a backend cannot answer.
func CheckRequestQuery(q RequestQuery) error {
	if q.Limit < 0 {
		return invalid("list requests", "limit", fmt.Sprintf("must not be negative, got %d", q.Limit))
	}
	return nil
}

// Claim is the answer of ClaimActivity. Won: this caller processes the activity and then calls
// CompleteActivity or CompleteTurn (ReleaseActivity when it failed) with Token. !Won && Done: replay Response.
// !Won && !Done: another delivery (on PostgreSQL possibly at another replica) is processing it now.
//
// Ownership. A claim older than the claimer's holdFor is taken over by the next delivery, which gets a new
// Token; the earlier holder's turn may still be running. So a claim is changed only by the holder of its
// token (compare-and-swap on the token, as a lease on its holder): ReleaseActivity and RenewActivity with a
// token that no longer holds the claim do nothing, and the new holder keeps its claim. A completion is the
// exception: it records a fact (the activity was answered), so CompleteTurn writes it whoever holds the claim
// now, but the first completion of an activity wins — a later one (the other holder's, after a takeover)
// leaves the stored answer and the processed record as they are. A turn that lost its claim and then
// completed makes a redelivery replay its answer instead of processing the activity a third time; a turn that
// lost its claim and then failed leaves the new holder's claim alone.
type Claim struct {
	Won, Done bool
	// Token identifies this caller's claim when Won: pass it to CompleteTurn, RenewActivity and
	// ReleaseActivity.
	Token string
	// Response is the stored response of a completed activity (nil when none was stored).
	Response []byte
}

// NewClaimToken returns a new random claim token (26 base32 characters, 128 bits): unique across replicas.
func NewClaimToken() string { return cryptorand.Text() }

// Requests is the durable record of the requests the lifecycle follows.
type Requests interface {
	CreateRequest(ctx context.Context, r Request) (Request, error)
	GetRequest(ctx context.Context, id string) (Request, error)
	UpdateRequest(ctx context.Context, id string, fn func(r *Request) error) (Request, error)
	ListRequests(ctx context.Context, q RequestQuery) ([]Request, error)
	DeleteRequest(ctx context.Context, id string) error
}

// Leaser hands a named lease to one holder at a time across processes.
type Leaser interface {
	AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error)
	ReleaseLease(ctx context.Context, name, holder string) error
}

// Outbox is the queue of proactive sends the OutboxWorker drains.
type Outbox interface {
	Enqueue(ctx context.Context, kind string, payload any, notBefore time.Time) (string, error)
	Lease(ctx context.Context, max int, leaseFor time.Duration) ([]OutboxItem, error)
	Complete(ctx context.Context, id string) error
	Fail(ctx context.Context, id string, cause error, retryAt time.Time) error
	Pending(ctx context.Context) ([]OutboxItem, error)
	DeadLetters(ctx context.Context) ([]OutboxItem, error)
}

// Backend is everything a storage implementation offers; the bbolt Store and the PostgreSQL store both
// implement it, checked by the contract suite in internal/store/storetest.
type Backend interface {
	Requests
	Leaser
	Outbox

	Ping(ctx context.Context) error
	Close() error

	PutConversation(ctx context.Context, ref ConversationRef) error
	Conversation(ctx context.Context, tenantID, aadObjectID string) (ConversationRef, error)
	Conversations(ctx context.Context, tenantID string) ([]ConversationRef, error)

	Processed(ctx context.Context, key string) ([]byte, bool, error)
	MarkProcessed(ctx context.Context, key string, resp []byte) error
	PruneProcessed(ctx context.Context, olderThan time.Duration) (int, error)
	PruneRequests(ctx context.Context, closedFor time.Duration) (int, error)
	ClaimActivity(ctx context.Context, key string, holdFor time.Duration) (Claim, error)
	RenewActivity(ctx context.Context, key, token string) (bool, error)
	CompleteActivity(ctx context.Context, key, token string, resp []byte) error
	CompleteTurn(ctx context.Context, key, token string, resp []byte, w TurnWrites) error
	ReleaseActivity(ctx context.Context, key, token string) error

	PutCard(ctx context.Context, ref CardRef) error
	Cards(ctx context.Context, key string) ([]CardRef, error)

	PutDialog(ctx context.Context, key string, v any) error
	Dialog(ctx context.Context, key string, out any) error
	DeleteDialog(ctx context.Context, key string) error
	PruneDialogs(ctx context.Context, olderThan time.Duration) (int, error)

	Put(ctx context.Context, bucket, key string, v any) error
	Get(ctx context.Context, bucket, key string, out any) error
	Delete(ctx context.Context, bucket, key string) error
	List(ctx context.Context, bucket, prefix string, fn func(key string, raw []byte) error) error
	UpdateKV(ctx context.Context, bucket, key string, fn func(raw []byte) ([]byte, error)) error
	PruneKV(ctx context.Context, bucket string, stale func(key string, raw []byte) bool) (int, error)

	AppendAudit(ctx context.Context, e AuditEntry) (uint64, error)
	Audit(ctx context.Context, q AuditQuery) ([]AuditEntry, error)

	RunMaintenance(ctx context.Context, m Maintenance) error
}

var _ Backend = (*Store)(nil)

// PrepareCreate validates r for CreateRequest and normalizes it (UTC, microsecond times, CreatedAt and
// UpdatedAt defaulted to now, Version 1). Backends share it so they accept and store exactly the same.
func PrepareCreate(r Request, now time.Time) (Request, error) {
	const op = "create request"
	if err := checkKey(op, "id", r.ID); err != nil {
		return r, err
	}
	if err := checkRequestFields(op, r); err != nil {
		return r, err
	}
	if r.CreatedAt.IsZero() {
		r.CreatedAt = now
	}
	r.UpdatedAt = now
	r.Version = 1
	return normalizeRequest(r), nil
}

// PrepareUpdate checks what fn made of the record old and returns the record to write: id and CreatedAt
// kept, UpdatedAt now, Version old+1.
func PrepareUpdate(old, updated Request, now time.Time) (Request, error) {
	const op = "update request"
	if updated.ID != old.ID {
		return old, invalid(op, "id", fmt.Sprintf("must not change (was %q, fn set %q)", old.ID, updated.ID))
	}
	if err := checkRequestFields(op, updated); err != nil {
		return old, err
	}
	updated.CreatedAt = old.CreatedAt
	updated.UpdatedAt = now
	updated.Version = old.Version + 1
	return normalizeRequest(updated), nil
}

func checkRequestFields(op string, r Request) error {
	if r.Kind != KindTracked && r.Kind != KindBrokered {
		return invalid(op, "kind", fmt.Sprintf("must be %q or %q, got %q", KindTracked, KindBrokered, r.Kind))
	}
	if err := checkKey(op, "state", r.State); err != nil {
		return err
	}
	for _, f := range []struct{ name, v string }{
		{"tenantId", r.TenantID}, {"requestorId", r.RequestorID}, {"packageId", r.PackageID},
	} {
		if err := optKey(op, f.name, f.v); err != nil {
			return err
		}
	}
	if len(r.Body) > 0 && !json.Valid(r.Body) {
		return invalid(op, "body", "must be valid JSON")
	}
	return nil
}

// normalizeRequest rounds times to what both backends keep (UTC, microseconds).
func normalizeRequest(r Request) Request {
	r.NextCheckAt = roundTime(r.NextCheckAt)
	r.ClosedAt = roundTime(r.ClosedAt)
	r.CreatedAt = roundTime(r.CreatedAt)
	r.UpdatedAt = roundTime(r.UpdatedAt)
	if len(r.Body) == 0 {
		r.Body = nil
	}
	return r
}

func roundTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}

// CloneRequest returns r with its own copy of Body, so fn cannot alias the stored bytes.
func CloneRequest(r Request) Request {
	if r.Body != nil {
		r.Body = append(json.RawMessage(nil), r.Body...)
	}
	return r
}

// CheckLeaseArgs validates AcquireLease's arguments.
func CheckLeaseArgs(op, name, holder string, ttl time.Duration) error {
	if err := checkKey(op, "name", name); err != nil {
		return err
	}
	if err := checkKey(op, "holder", holder); err != nil {
		return err
	}
	return CheckPositive(op, "ttl", ttl)
}

// CheckKey validates one caller-supplied key part (non-empty, at most 1 KiB, no NUL byte); backends use it
// so they reject the same input.
func CheckKey(op, field, v string) error { return checkKey(op, field, v) }

// CheckBucket validates a generic-record bucket name.
func CheckBucket(op, name string) error {
	_, err := kvBucket(op, name)
	return err
}

// Record is one generic record as a backend's List read it.
type Record struct {
	Key string
	Raw []byte
}

// EachRecord is the end of a backend's List: it calls fn for each of recs (read from bucket) in order, and
// stops at ctx's end or fn's first error, which it returns wrapped with op and bucket (and the record's key).
func EachRecord(ctx context.Context, op, bucket string, recs []Record, fn func(key string, raw []byte) error) error {
	for _, r := range recs {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("%s %s: %w", op, bucket, err)
		}
		if err := fn(r.Key, r.Raw); err != nil {
			return fmt.Errorf("%s %s: key %s: %w", op, bucket, r.Key, err)
		}
	}
	return nil
}
