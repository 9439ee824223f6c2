package lifecycle

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/store"
)

// Outbox kinds the core queues (the conversation layer registers their handlers and renders them). The
// strings are stored in outbox rows: never change them.
const (
	// OutboxNotify sends a short text message to a user; payload NotifyJob.
	OutboxNotify = "bot.notify"
	// OutboxApprovalCard sends an approval card to one approver of a stage; payload ApprovalCardJob.
	OutboxApprovalCard = "bot.approval.card"
)

// NotifyJob is the payload of an OutboxNotify item the core queues: a notice for user UserID in tenant
// TenantID. Its Message names it (a message id such as "notice.request.delivered" with its values and the
// people it names, joined as the reader's language writes a list) and Reason, when set, is a Message the
// notice quotes as {{.Reason}}: the conversation layer says both in the reader's language. The core writes no
// Text; Text is the ready-made line of items queued by older builds (and by the conversation layer's own
// notices), said when no catalog has Msg. The conversation layer's own notify payload extends it (same JSON
// names). Queued items go through ForOlderBuilds, which repeats the values where older builds read them, and
// decoded items through Upgraded, which reads the values of items queued by older builds.
type NotifyJob struct {
	TenantID string `json:"tenantId"`
	UserID   string `json:"userId"`
	Text     string `json:"text"`
	Message
	Reason *Message `json:"reason,omitempty"`
	// OlderArgs are the values as builds before NotifyJob embedded Message read and wrote them ("args"): the
	// values of an item such a build queued (Upgraded moves them into Data), and a copy of Data in every item
	// this build queues (ForOlderBuilds), so that an older replica delivering it during a rolling deploy, or
	// after a rollback, still says them.
	OlderArgs map[string]string `json:"args,omitempty"`
}

// Upgraded is j as this build reads it: an older item's values (OlderArgs) become its Data.
func (j NotifyJob) Upgraded() NotifyJob {
	if j.Data == nil {
		j.Data = j.OlderArgs
	}
	j.OlderArgs = nil
	return j
}

// ForOlderBuilds is j as it is queued: its values (Data) also as OlderArgs, where older builds read them.
func (j NotifyJob) ForOlderBuilds() NotifyJob {
	if j.OlderArgs == nil {
		j.OlderArgs = j.Data
	}
	return j
}

// forOlderBuilds is an outbox payload as it is queued: a NotifyJob also carries its values for older builds.
func forOlderBuilds(payload any) any {
	if j, ok := payload.(NotifyJob); ok {
		return j.ForOlderBuilds()
	}
	return payload
}

// ApprovalCardJob is the payload of an OutboxApprovalCard item: the approval card of request RequestID's
// stage Stage for Approver, with an optional note (reminder, escalation) as a Message in NoteMsg. Note is
// the English note of items queued by older builds.
type ApprovalCardJob struct {
	RequestID string  `json:"requestId"`
	Stage     int     `json:"stage"`
	Approver  Person  `json:"approver"`
	Note      string  `json:"note,omitempty"`
	NoteMsg   Message `json:"noteMsg,omitempty"`
}

// Store is the durable state the core needs (both internal/store backends implement it): the request records
// with compare-and-swap updates, conversation references (an approver's Teams id), leases for the background
// jobs, and the generic records (List, Delete) only to import the records of builds before the requests table.
type Store interface {
	store.Requests
	store.Leaser
	Conversation(ctx context.Context, tenantID, aadObjectID string) (store.ConversationRef, error)
	Enqueue(ctx context.Context, kind string, payload any, notBefore time.Time) (string, error)
	List(ctx context.Context, bucket, prefix string, fn func(key string, raw []byte) error) error
	Get(ctx context.Context, bucket, key string, out any) error
	Put(ctx context.Context, bucket, key string, v any) error
	Delete(ctx context.Context, bucket, key string) error
}

// Config wires a Core.
type Config struct {
	// Store keeps the records (required).
	Store Store
	// Entitlement reads requests, policies and the directory with the app's identity (required for polling and
	// approver resolution).
	Entitlement entitlement.Port
	// Logger receives structured logs; nil means slog.Default().
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// TenantID is the resource tenant ("Tenant A"): the tenant of approvers and requesters that have none.
	TenantID string
	// TenantName is the resource tenant's organization name ("Contoso") for texts; "" says "the organization".
	TenantName string
	// BotName is how the bot calls itself: the actor of what it does on its own in the audit log.
	BotName string
	// PollInterval is the first delay between status polls of an open request (doubles up to PollMax).
	PollInterval time.Duration
	// PollMax caps the delay between status polls.
	PollMax time.Duration
	// ReminderAfter is how long an approval may wait before approvers are reminded.
	ReminderAfter time.Duration
	// Enqueue stores an outbox job (and wakes its worker); nil drops the jobs (logged).
	Enqueue func(ctx context.Context, kind string, payload any)
	// KickOutbox wakes the outbox worker after a job due now was stored with the store's Enqueue; nil means the
	// worker finds it on its next poll.
	KickOutbox func()
	// Audit records an audit entry (the conversation layer also derives metrics from it); nil drops entries
	// (logged).
	Audit func(ctx context.Context, e store.AuditEntry)
	// Changed is told when a record changed in a way its views show (every copy of its cards is re-rendered);
	// nil means nobody listens.
	Changed func(ctx context.Context, requestID string)
	// Holder names this process as a lease holder (unique per replica); "" means host name, pid and a random
	// suffix.
	Holder string
	// LeaseTTL is the lease time of the background jobs' leases; 0 means 15 s.
	LeaseTTL time.Duration
}

// Core is the request lifecycle. It is safe for concurrent use, and several processes may run one each on
// one store.
type Core struct {
	cfg Config
	log *slog.Logger
	now func() time.Time

	kick chan struct{}
}

// New builds a Core. Store is required.
func New(cfg Config) (*Core, error) {
	if cfg.Store == nil {
		return nil, errors.New("lifecycle config: Store is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 5 * time.Second
	}
	if cfg.PollMax <= 0 {
		cfg.PollMax = 5 * time.Minute
	}
	if cfg.ReminderAfter <= 0 {
		cfg.ReminderAfter = 24 * time.Hour
	}
	if cfg.Holder == "" {
		cfg.Holder = defaultHolder()
	}
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = 15 * time.Second
	}
	return &Core{cfg: cfg, log: cfg.Logger, now: cfg.Now, kick: make(chan struct{}, 1)}, nil
}

// flush enqueues the outbox items held by a saved record.
func (c *Core) flush(ctx context.Context, tr *Tracked) {
	for _, j := range tr.jobs {
		if c.cfg.Enqueue == nil {
			c.log.WarnContext(ctx, "outbox job dropped: no outbox", "kind", j.kind, "request", tr.ID)
			continue
		}
		c.cfg.Enqueue(ctx, j.kind, forOlderBuilds(j.payload))
	}
	tr.jobs = nil
}

// changed tells the listener that a record's views are stale.
func (c *Core) changed(ctx context.Context, id string) {
	if c.cfg.Changed != nil {
		c.cfg.Changed(ctx, id)
	}
}

// defaultHolder names this process for leases: host, pid and a random suffix (two processes never share it).
func defaultHolder() string {
	host, _ := os.Hostname()
	var buf [4]byte
	_, _ = rand.Read(buf[:])
	return fmt.Sprintf("%s/%d/%s", orUnknown(host, "host"), os.Getpid(), hex.EncodeToString(buf[:]))
}
