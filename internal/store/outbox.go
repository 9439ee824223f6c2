package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime/debug"
	"sync"
	"time"

	"go.etcd.io/bbolt"
)

// ErrPermanent marks a handler error that retrying cannot fix; Fail dead-letters such an item at once.
var ErrPermanent = errors.New("permanent failure")

// MaxRetryDelay caps the retry delay a handler error may ask for (see RetryDelayer).
const MaxRetryDelay = 24 * time.Hour

// RetryDelayer is implemented by handler errors that know when the peer accepts requests again (a
// throttling answer's Retry-After). The worker then retries no earlier than that delay (at most
// MaxRetryDelay), even when its own backoff would be shorter. It is found anywhere in the error chain.
type RetryDelayer interface {
	RetryDelay() time.Duration
}

// OutboxItem is one queued proactive send.
type OutboxItem struct {
	// ID is assigned by Enqueue; IDs sort in enqueue order.
	ID string `json:"id"`
	// Kind tells the handler how to read Payload.
	Kind string `json:"kind"`
	// Payload is the JSON given to Enqueue.
	Payload json.RawMessage `json:"payload"`
	// Attempts counts deliveries started (incremented by Lease).
	Attempts int `json:"attempts"`
	// NotBefore is the earliest time the item is due.
	NotBefore time.Time `json:"notBefore"`
	// LastError is the cause given to the last Fail.
	LastError string `json:"lastError,omitempty"`
	// CreatedAt is when the item was enqueued.
	CreatedAt time.Time `json:"createdAt"`
}

type outboxRecord struct {
	Item        OutboxItem `json:"item"`
	LeasedUntil time.Time  `json:"leasedUntil,omitzero"`
}

func outboxKey(seq uint64) string { return fmt.Sprintf("%016x", seq) }

// Enqueue stores a new outbox item (payload JSON-encoded) due at notBefore (zero = now) and returns its id.
func (s *Store) Enqueue(ctx context.Context, kind string, payload any, notBefore time.Time) (string, error) {
	const op = "enqueue outbox item"
	if err := checkKey(op, "kind", kind); err != nil {
		return "", err
	}
	raw, err := json.Marshal(payload)
	if err != nil {
		return "", fmt.Errorf("%s %s: encode payload: %w", op, kind, err)
	}
	now := s.now().UTC()
	if notBefore.IsZero() {
		notBefore = now
	}
	var id string
	err = s.batch(ctx, op, func(tx *bbolt.Tx) error {
		b, err := bucket(tx, bucketOutbox)
		if err != nil {
			return err
		}
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		id = outboxKey(seq)
		rec, err := json.Marshal(outboxRecord{Item: OutboxItem{
			ID: id, Kind: kind, Payload: raw, NotBefore: notBefore.UTC(), CreatedAt: now,
		}})
		if err != nil {
			return err
		}
		return b.Put([]byte(id), rec)
	})
	if err != nil {
		return "", err
	}
	return id, nil
}

// Lease returns up to max due items (NotBefore reached and not currently leased), oldest first, and marks
// them leased for leaseFor: if the caller crashes before Complete or Fail, they are due again after the lease.
// Each lease counts as an attempt; an item whose lease expired after its last allowed attempt is moved to the
// dead letters instead of being delivered again, and so is a record that no longer decodes.
func (s *Store) Lease(ctx context.Context, max int, leaseFor time.Duration) ([]OutboxItem, error) {
	const op = "lease outbox items"
	if max <= 0 {
		return nil, invalid(op, "max", fmt.Sprintf("must be positive, got %d", max))
	}
	if err := CheckPositive(op, "leaseFor", leaseFor); err != nil {
		return nil, err
	}
	var out, parked []OutboxItem
	err := s.batch(ctx, op, func(tx *bbolt.Tx) error {
		out, parked = out[:0], parked[:0]
		b, err := bucket(tx, bucketOutbox)
		if err != nil {
			return err
		}
		dead, err := bucket(tx, bucketDeadLetters)
		if err != nil {
			return err
		}
		now := s.now().UTC()
		type upd struct {
			key  []byte
			rec  outboxRecord
			dead bool
		}
		var updates []upd
		c := b.Cursor()
		for k, v := c.First(); k != nil && len(out) < max; k, v = c.Next() {
			var rec outboxRecord
			if err := json.Unmarshal(v, &rec); err != nil {
				// One unreadable record must not stop every delivery behind it: park it with the evidence.
				it := OutboxItem{ID: string(k), CreatedAt: now,
					LastError: fmt.Sprintf("unreadable outbox record (%v): %.300q", err, v)}
				updates = append(updates, upd{key: append([]byte(nil), k...), rec: outboxRecord{Item: it}, dead: true})
				continue
			}
			if rec.Item.NotBefore.After(now) || rec.LeasedUntil.After(now) {
				continue
			}
			key := append([]byte(nil), k...)
			if rec.Item.Attempts >= s.maxAttempts {
				rec.Item.LastError = fmt.Sprintf("lease expired after attempt %d of %d (handler crashed or hung); last error: %s",
					rec.Item.Attempts, s.maxAttempts, rec.Item.LastError)
				updates = append(updates, upd{key: key, rec: rec, dead: true})
				continue
			}
			rec.Item.Attempts++
			rec.LeasedUntil = now.Add(leaseFor)
			updates = append(updates, upd{key: key, rec: rec})
			out = append(out, rec.Item)
		}
		for _, u := range updates {
			if u.dead {
				if err := moveToDead(b, dead, u.key, u.rec.Item); err != nil {
					return err
				}
				parked = append(parked, u.rec.Item)
				continue
			}
			raw, err := json.Marshal(u.rec)
			if err != nil {
				return err
			}
			if err := b.Put(u.key, raw); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, it := range parked { // logged once committed (the transaction may run more than once)
		s.log.Warn("outbox item dead-lettered", "id", it.ID, "kind", it.Kind, "attempts", it.Attempts)
	}
	return out, nil
}

func moveToDead(outbox, dead *bbolt.Bucket, key []byte, it OutboxItem) error {
	raw, err := json.Marshal(it)
	if err != nil {
		return err
	}
	if err := dead.Put(key, raw); err != nil {
		return err
	}
	return outbox.Delete(key)
}

// Complete removes a delivered item. An unknown id is an error matching ErrNotFound.
func (s *Store) Complete(ctx context.Context, id string) error {
	const op = "complete outbox item"
	if err := checkKey(op, "id", id); err != nil {
		return err
	}
	return s.batch(ctx, op, func(tx *bbolt.Tx) error {
		b, err := bucket(tx, bucketOutbox)
		if err != nil {
			return err
		}
		if b.Get([]byte(id)) == nil {
			return fmt.Errorf("%s: %w", id, ErrNotFound)
		}
		return b.Delete([]byte(id))
	})
}

// Fail records a failed delivery: the item is due again at retryAt, unless it has used its attempts
// (Options.MaxAttempts) or cause matches ErrPermanent, in which case it moves to the dead letters.
// An unknown id is an error matching ErrNotFound.
func (s *Store) Fail(ctx context.Context, id string, cause error, retryAt time.Time) error {
	const op = "fail outbox item"
	if err := checkKey(op, "id", id); err != nil {
		return err
	}
	if cause == nil {
		return invalid(op, "cause", "is required")
	}
	var parked *OutboxItem
	err := s.batch(ctx, op, func(tx *bbolt.Tx) error {
		parked = nil
		b, err := bucket(tx, bucketOutbox)
		if err != nil {
			return err
		}
		raw := b.Get([]byte(id))
		if raw == nil {
			return fmt.Errorf("%s: %w", id, ErrNotFound)
		}
		var rec outboxRecord
		if err := json.Unmarshal(raw, &rec); err != nil {
			return fmt.Errorf("decode item %s: %w", id, err)
		}
		rec.Item.LastError = cause.Error()
		if rec.Item.Attempts >= s.maxAttempts || errors.Is(cause, ErrPermanent) {
			dead, err := bucket(tx, bucketDeadLetters)
			if err != nil {
				return err
			}
			parked = &rec.Item
			return moveToDead(b, dead, []byte(id), rec.Item)
		}
		rec.Item.NotBefore = retryAt.UTC()
		rec.LeasedUntil = time.Time{}
		out, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		return b.Put([]byte(id), out)
	})
	if err == nil && parked != nil { // logged once committed (the transaction may run more than once)
		s.log.Warn("outbox item dead-lettered", "id", id, "kind", parked.Kind, "attempts", parked.Attempts, "err", cause)
	}
	return err
}

// Pending returns the items still in the outbox (leased or not), oldest first.
func (s *Store) Pending(ctx context.Context) ([]OutboxItem, error) {
	recs, err := listPrefix[outboxRecord](ctx, s, "list outbox", bucketOutbox, nil)
	var out []OutboxItem
	for _, rec := range recs {
		out = append(out, rec.Item)
	}
	return out, err
}

// DeadLetters returns the items that exhausted their attempts or failed permanently, oldest first.
func (s *Store) DeadLetters(ctx context.Context) ([]OutboxItem, error) {
	return listPrefix[OutboxItem](ctx, s, "list dead letters", bucketDeadLetters, nil)
}

// ---- worker ----

// WorkerOptions configure an OutboxWorker. The zero value is usable.
type WorkerOptions struct {
	// Logger receives delivery failures; nil discards them.
	Logger *slog.Logger
	// PollInterval is how often the worker looks for due items without a Kick; default 1s.
	PollInterval time.Duration
	// Batch is the number of items leased at once; default 16.
	Batch int
	// LeaseFor is how long a leased item is hidden from other leases; default 2m. Keep it above HandleTimeout.
	LeaseFor time.Duration
	// HandleTimeout bounds one handler call; default 30s.
	HandleTimeout time.Duration
	// BaseBackoff is the retry delay after the first failure; it doubles per attempt; default 5s.
	BaseBackoff time.Duration
	// MaxBackoff caps the retry delay; default 15m.
	MaxBackoff time.Duration
	// Now is the clock for retry times; default the bbolt Store's clock, else time.Now.
	Now func() time.Time
	// Parallel names the kinds whose items are independent of each other (one card to one approver): the
	// items of a leased batch of those kinds are delivered concurrently, up to Concurrency at a time, so a
	// fan-out to a large group is bound by the peer's rate limit, not by its round-trip time. Items of other
	// kinds are delivered one after another, in order.
	Parallel map[string]bool
	// Concurrency bounds the concurrent deliveries of Parallel kinds; default 8.
	Concurrency int
}

// OutboxWorker delivers outbox items through a handler, retrying failures with exponential backoff.
type OutboxWorker struct {
	s      Outbox
	handle func(ctx context.Context, it OutboxItem) error
	opts   WorkerOptions
	log    *slog.Logger
	kick   chan struct{}
}

// NewOutboxWorker returns a worker that passes each due item of s (either backend) to handle. A nil handler
// error completes the item; any other error schedules a retry (or dead-letters it, see Fail).
func NewOutboxWorker(s Outbox, handle func(ctx context.Context, it OutboxItem) error, opts WorkerOptions) *OutboxWorker {
	if opts.PollInterval <= 0 {
		opts.PollInterval = time.Second
	}
	if opts.Batch <= 0 {
		opts.Batch = 16
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 8
	}
	if opts.HandleTimeout <= 0 {
		opts.HandleTimeout = 30 * time.Second
	}
	if opts.LeaseFor <= 0 {
		opts.LeaseFor = 2 * time.Minute
	}
	if opts.LeaseFor < opts.HandleTimeout {
		opts.LeaseFor = 2 * opts.HandleTimeout
	}
	if opts.BaseBackoff <= 0 {
		opts.BaseBackoff = 5 * time.Second
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 15 * time.Minute
	}
	if opts.MaxBackoff < opts.BaseBackoff {
		opts.MaxBackoff = opts.BaseBackoff
	}
	if opts.Now == nil {
		opts.Now = time.Now
		if bs, ok := s.(*Store); ok {
			opts.Now = bs.now
		}
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &OutboxWorker{s: s, handle: handle, opts: opts, log: log.With("component", "outbox"), kick: make(chan struct{}, 1)}
}

// Kick wakes the worker to look for due items now (e.g. right after Enqueue). It never blocks.
func (w *OutboxWorker) Kick() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// Run delivers due items until ctx is cancelled, then returns nil. An item whose handler was interrupted by
// the cancellation stays leased and is delivered again after its lease expires.
func (w *OutboxWorker) Run(ctx context.Context) error {
	if w.handle == nil {
		return invalid("run outbox worker", "handle", "is required")
	}
	t := time.NewTicker(w.opts.PollInterval)
	defer t.Stop()
	for {
		w.drain(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-w.kick:
		}
	}
}

// drain leases and handles batches until nothing is due or ctx is cancelled.
func (w *OutboxWorker) drain(ctx context.Context) {
	for ctx.Err() == nil {
		items, err := w.s.Lease(ctx, w.opts.Batch, w.opts.LeaseFor)
		if err != nil {
			if ctx.Err() == nil {
				w.log.Error("lease outbox items", "error", err)
			}
			return
		}
		w.deliverBatch(ctx, items)
		if len(items) < w.opts.Batch {
			return
		}
	}
}

// deliverBatch delivers items: those of Parallel kinds concurrently (bounded by Concurrency), the others in
// order. It returns when all are done.
func (w *OutboxWorker) deliverBatch(ctx context.Context, items []OutboxItem) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, max(w.opts.Concurrency, 1))
	for _, it := range items {
		if ctx.Err() != nil {
			break // still leased: redelivered after the lease
		}
		if !w.opts.Parallel[it.Kind] {
			w.deliver(ctx, it)
			continue
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			w.deliver(ctx, it)
		}()
	}
	wg.Wait()
}

func (w *OutboxWorker) deliver(ctx context.Context, it OutboxItem) {
	hctx, cancel := context.WithTimeout(ctx, w.opts.HandleTimeout)
	err := w.call(hctx, it)
	cancel()
	if ctx.Err() != nil && err != nil {
		return // interrupted by shutdown, not a failure of the item
	}
	// Bookkeeping must land even if shutdown starts now: a lost Complete would send twice.
	bctx := context.WithoutCancel(ctx)
	log := w.log.With("id", it.ID, "kind", it.Kind, "attempt", it.Attempts)
	if err == nil {
		if cerr := w.s.Complete(bctx, it.ID); cerr != nil {
			log.Error("complete outbox item", "error", cerr)
		}
		return
	}
	retryAt := w.opts.Now().Add(retryDelay(err, w.backoff(it.Attempts)))
	log.Warn("outbox delivery failed", "error", err, "retry_at", retryAt)
	if ferr := w.s.Fail(bctx, it.ID, err, retryAt); ferr != nil {
		log.Error("record outbox failure", "error", ferr)
	}
}

// call runs the handler, turning a panic into an error so one bad item cannot stop the worker.
func (w *OutboxWorker) call(ctx context.Context, it OutboxItem) (err error) {
	defer func() {
		if r := recover(); r != nil {
			w.log.Error("outbox handler panicked", "id", it.ID, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			err = fmt.Errorf("handler panicked: %v", r)
		}
	}()
	return w.handle(ctx, it)
}

// retryDelay is backoff, or the delay the error asks for (RetryDelayer, capped at MaxRetryDelay) when that
// is longer.
func retryDelay(err error, backoff time.Duration) time.Duration {
	var rd RetryDelayer
	if errors.As(err, &rd) {
		if d := min(rd.RetryDelay(), MaxRetryDelay); d > backoff {
			return d
		}
	}
	return backoff
}

// backoff returns the delay before retry after the given attempt: BaseBackoff·2^(attempt-1), capped at
// MaxBackoff, with "equal jitter" (a random value in [d/2, d]).
func (w *OutboxWorker) backoff(attempt int) time.Duration {
	d := w.opts.BaseBackoff
	for i := 1; i < attempt && d < w.opts.MaxBackoff; i++ {
		d *= 2
	}
	if d > w.opts.MaxBackoff {
		d = w.opts.MaxBackoff
	}
	half := d / 2
	return half + rand.N(d-half+1)
}
