// Package reviews brings Microsoft Entra access reviews into the chat: it finds the reviews in progress, sends
// each reviewer (and each self-reviewer) a card once, reminds them before the deadline, records decisions with
// the reviewer's own delegated token, tells people whose access a review removed, and warns every holder of an
// assignment with an end date before it ends (expiry.go).
//
// It talks to Graph only through entitlement.Reviews and entitlement.Port, and to Teams only through Notifier,
// which the bot implements. "Send once" is a compare-and-swap claim in the store (UpdateKV), so a restart or a
// second replica does not send a card twice; the sweeps run under a store lease (cmd).
package reviews

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/accessbot/accessbot/cards"
	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/i18n"
	"github.com/accessbot/accessbot/internal/store"
)

// PageSize is how many people one review card shows; deciding a page is one Graph JSON batch.
const PageSize = cards.MaxReviewItems

// Recipient is who a proactive card goes to.
type Recipient struct {
	// TenantID and UserID are the user's tenant and object id there (for a guest: the resource tenant and
	// their guest account).
	TenantID string
	UserID   string
	Email    string
	// Guest is true for a partner's guest account: the bot may reach them in their home tenant's chat.
	Guest bool
}

// Delivery is where a card landed, so it can be updated in place later.
type Delivery struct {
	ServiceURL     string `json:"serviceUrl"`
	ConversationID string `json:"conversationId"`
	ActivityID     string `json:"activityId"`
}

// Notifier sends cards to people's 1:1 chats with the bot (the bot implements it).
type Notifier interface {
	Deliver(ctx context.Context, to Recipient, card *cards.Card) (Delivery, error)
	// Update replaces a card sent before.
	Update(ctx context.Context, d Delivery, card *cards.Card) error
	// Localizer is the recipient's language (from their last activity; English when unknown).
	Localizer(ctx context.Context, to Recipient) *i18n.Localizer
}

// KV is the compare-and-swap record store, which also prunes the records nothing reads any more (internal/store
// implements it).
type KV interface {
	UpdateKV(ctx context.Context, bucket, key string, fn func(raw []byte) ([]byte, error)) error
	PruneKV(ctx context.Context, bucket string, stale func(key string, raw []byte) bool) (int, error)
}

// Directory is what the reviews need from entitlement management with the app's identity.
type Directory interface {
	User(ctx context.Context, idOrUPN string) (entitlement.User, error)
	Package(ctx context.Context, packageID string) (entitlement.Package, error)
	Policy(ctx context.Context, policyID string) (entitlement.Policy, error)
	Assignments(ctx context.Context, f entitlement.AssignmentFilter) ([]entitlement.Assignment, error)
	// Manager and TransitiveGroupMembers resolve a stage's reviewer queries (stage_reviewers.go).
	Manager(ctx context.Context, userID string) (entitlement.User, error)
	TransitiveGroupMembers(ctx context.Context, groupID string) ([]entitlement.User, error)
}

// Tokens yields a user's delegated Graph token source.
type Tokens interface {
	ForUser(tenantID, userID string) entitlement.TokenSource
}

// Tenant is the resource tenant.
type Tenant struct {
	ID, Name, Domain string
}

// Config wires a Service.
type Config struct {
	Reviews   entitlement.Reviews
	Directory Directory
	Tokens    Tokens
	Store     KV
	Tenant    Tenant
	Logger    *slog.Logger
	Now       func() time.Time
	// RemindBefore is how long before an instance's end reviewers who still have decisions to make are
	// reminded (ACCESSBOT_REVIEW_REMINDER_BEFORE; default 48h).
	RemindBefore time.Duration
	// Every is how often the sweeps run (default 5 minutes).
	Every time.Duration
	// ExpiryLeads maps an assignment's length to how long before its end the holder is warned; nil uses
	// DefaultExpiryLeads.
	ExpiryLeads []ExpiryLead
	// Audit, when set, records every notice the sweeps send (mode system).
	Audit AuditLog
}

// AuditLog appends to the audit log (internal/store implements it).
type AuditLog interface {
	AppendAudit(ctx context.Context, e store.AuditEntry) (uint64, error)
}

// Service runs the access review and expiry notices.
type Service struct {
	cfg Config
	log *slog.Logger
	now func() time.Time
}

// New checks the configuration and builds a Service.
func New(cfg Config) (*Service, error) {
	if cfg.Reviews == nil || cfg.Directory == nil || cfg.Store == nil {
		return nil, errors.New("reviews: Reviews, Directory and Store are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.RemindBefore <= 0 {
		cfg.RemindBefore = 48 * time.Hour
	}
	if cfg.Every <= 0 {
		cfg.Every = 5 * time.Minute
	}
	if cfg.ExpiryLeads == nil {
		cfg.ExpiryLeads = DefaultExpiryLeads
	}
	return &Service{cfg: cfg, log: cfg.Logger.With("component", "reviews"), now: cfg.Now}, nil
}

// Tenant returns the resource tenant.
func (s *Service) Tenant() Tenant { return s.cfg.Tenant }

const bucketSent = "reviews.sent"

// claim is a send-once record: taken before a card is sent, marked done after, and marked failed when sending
// failed (then the next attempt waits retryFailed, so an unreachable person is not retried on every sweep).
type claim struct {
	At     time.Time `json:"at"`
	Done   bool      `json:"done"`
	Failed bool      `json:"failed,omitempty"`
}

const (
	// holdSending is how long a claim of a send in progress blocks others (a holder that died is taken over).
	holdSending = 10 * time.Minute
	// retryFailed is how long after a failed send the next attempt waits.
	retryFailed = 30 * time.Minute
)

// once runs send unless key was sent before, is being sent by another replica right now, or failed less than
// retryFailed ago. It reports whether send ran and succeeded.
func (s *Service) once(ctx context.Context, key string, send func() error) (bool, error) {
	now := s.now()
	won := false
	err := s.cfg.Store.UpdateKV(ctx, bucketSent, key, func(raw []byte) ([]byte, error) {
		won = false
		if raw != nil {
			var c claim
			if json.Unmarshal(raw, &c) == nil {
				wait := holdSending
				if c.Failed {
					wait = retryFailed
				}
				if c.Done || now.Sub(c.At) < wait {
					return nil, store.ErrNoChange
				}
			}
		}
		won = true
		return json.Marshal(claim{At: now})
	})
	if err != nil || !won {
		return false, err
	}
	if serr := send(); serr != nil {
		mark := func([]byte) ([]byte, error) { return json.Marshal(claim{At: now, Failed: true}) }
		return false, errors.Join(serr, s.cfg.Store.UpdateKV(context.WithoutCancel(ctx), bucketSent, key, mark))
	}
	if s.cfg.Audit != nil {
		kind, _, _ := strings.Cut(key, "/")
		e := store.AuditEntry{Time: now, Action: "review.notice." + kind, Mode: store.ModeSystem, Outcome: "sent", Details: map[string]string{"key": key}}
		if _, err := s.cfg.Audit.AppendAudit(ctx, e); err != nil {
			s.log.WarnContext(ctx, "audit a review notice", "key", key, "err", err)
		}
	}
	if err := s.cfg.Store.UpdateKV(ctx, bucketSent, key, func([]byte) ([]byte, error) { return json.Marshal(claim{At: now, Done: true}) }); err != nil {
		return true, fmt.Errorf("record %s as sent: %w", key, err)
	}
	return true, nil
}

// MarkSent records key as sent (the person saw the answer in the chat already).
func (s *Service) MarkSent(ctx context.Context, key string) error {
	return s.cfg.Store.UpdateKV(ctx, bucketSent, key, func([]byte) ([]byte, error) { return json.Marshal(claim{At: s.now(), Done: true}) })
}

// Run sweeps reviews and expiring access every cfg.Every (the first time one period after start) until ctx
// ends, delivering through n; after the first sweep and then once a day it prunes the records nothing reads any
// more (Prune).
func (s *Service) Run(ctx context.Context, n Notifier) error {
	t := time.NewTicker(s.cfg.Every)
	defer t.Stop()
	forbidden := false
	var pruned time.Time
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		switch err := s.Sweep(ctx, n); {
		case err == nil || ctx.Err() != nil:
		case errors.Is(err, entitlement.ErrForbidden):
			// Not granted (yet): say so once, not every few minutes; expiry notices still run.
			if !forbidden {
				s.log.WarnContext(ctx, "access reviews are not checked: the app lacks AccessReview.ReadWrite.All (README, deploy guide)", "err", err)
			}
			forbidden = true
		default:
			s.log.WarnContext(ctx, "access review sweep", "err", err)
		}
		if err := s.SweepExpiry(ctx, n); err != nil && ctx.Err() == nil {
			s.log.WarnContext(ctx, "expiry sweep", "err", err)
		}
		if now := s.now(); now.Sub(pruned) >= pruneEvery {
			pruned = now
			// Without the review permission only the expiry notices' records are pruned; the sweep said so.
			if _, err := s.Prune(ctx); ctx.Err() == nil {
				if err := withoutForbidden(err); err != nil {
					s.log.WarnContext(ctx, "prune review records", "err", err)
				}
			}
		}
	}
}
