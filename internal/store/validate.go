package store

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// The validators below are shared by both backends so they accept and refuse exactly the same input.

// ValidateConversation checks a reference for PutConversation: TenantID, AADObjectID, ConversationID and an
// absolute http(s) ServiceURL are required.
func ValidateConversation(ref ConversationRef) error {
	const op = "put conversation"
	for _, f := range []struct{ name, v string }{
		{"tenantId", ref.TenantID}, {"aadObjectId", ref.AADObjectID}, {"conversationId", ref.ConversationID},
	} {
		if err := checkKey(op, f.name, f.v); err != nil {
			return err
		}
	}
	return checkServiceURL(op, ref.ServiceURL)
}

// ValidateCard checks a reference for PutCard: Key, Kind, ConversationID, ActivityID and an absolute
// http(s) ServiceURL are required; TenantID and AADObjectID are optional key parts.
func ValidateCard(ref CardRef) error {
	const op = "put card"
	for _, f := range []struct{ name, v string }{
		{"key", ref.Key}, {"kind", ref.Kind}, {"conversationId", ref.ConversationID}, {"activityId", ref.ActivityID},
	} {
		if err := checkKey(op, f.name, f.v); err != nil {
			return err
		}
	}
	if err := optKey(op, "tenantId", ref.TenantID); err != nil {
		return err
	}
	if err := optKey(op, "aadObjectId", ref.AADObjectID); err != nil {
		return err
	}
	return checkServiceURL(op, ref.ServiceURL)
}

// ValidateAudit checks an entry for AppendAudit: Action is required and Mode must be one of delegated,
// brokered, admin, system.
func ValidateAudit(e AuditEntry) error {
	const op = "append audit"
	if e.Action == "" {
		return invalid(op, "action", "is required")
	}
	switch e.Mode {
	case ModeDelegated, ModeBrokered, ModeAdmin, ModeSystem:
		return nil
	default:
		return invalid(op, "mode", fmt.Sprintf("must be delegated, brokered, admin or system, got %q", e.Mode))
	}
}

// NormalizeAuditQuery checks q.Limit and defaults it to 50.
func NormalizeAuditQuery(q AuditQuery) (AuditQuery, error) {
	const op = "query audit"
	switch {
	case q.Limit < 0:
		return q, invalid(op, "limit", fmt.Sprintf("must not be negative, got %d", q.Limit))
	case q.Limit == 0:
		q.Limit = 50
	case q.Limit > MaxAuditLimit:
		return q, invalid(op, "limit", fmt.Sprintf("must be at most %d, got %d", MaxAuditLimit, q.Limit))
	}
	return q, nil
}

// CheckPositive rejects a non-positive duration argument.
func CheckPositive(op, field string, d time.Duration) error {
	if d <= 0 {
		return invalid(op, field, fmt.Sprintf("must be positive, got %s", d))
	}
	return nil
}

// Invalid returns a *ValidationError (matching ErrInvalid) for backends outside this package.
func Invalid(op, field, problem string) error { return invalid(op, field, problem) }

// Pruner is what Maintain prunes.
type Pruner interface {
	PruneProcessed(ctx context.Context, olderThan time.Duration) (int, error)
	PruneDialogs(ctx context.Context, olderThan time.Duration) (int, error)
	PruneRequests(ctx context.Context, closedFor time.Duration) (int, error)
}

// DefaultKeepClosed is how long a closed request's record is kept before maintenance prunes it (its audit
// entries stay): 90 days.
const DefaultKeepClosed = 90 * 24 * time.Hour

// Maintenance configures RunMaintenance; the zero value runs every hour and keeps closed requests
// DefaultKeepClosed.
type Maintenance struct {
	// Every is the interval between runs; default 1h.
	Every time.Duration
	// KeepClosed is how long a closed request (store.Request.ClosedAt) is kept; default DefaultKeepClosed.
	KeepClosed time.Duration
}

// Maintain prunes processed ids older than DefaultProcessedTTL, dialogs untouched for DefaultDialogTTL and
// requests closed longer than m.KeepClosed now and then every m.Every until ctx is cancelled; it returns nil
// on cancellation. Prune failures are logged, not fatal.
func Maintain(ctx context.Context, p Pruner, log *slog.Logger, m Maintenance) error {
	if m.Every <= 0 {
		m.Every = time.Hour
	}
	if m.KeepClosed <= 0 {
		m.KeepClosed = DefaultKeepClosed
	}
	t := time.NewTicker(m.Every)
	defer t.Stop()
	for {
		for _, job := range []struct {
			what  string
			prune func(context.Context, time.Duration) (int, error)
			ttl   time.Duration
		}{
			{"processed activity ids", p.PruneProcessed, DefaultProcessedTTL},
			{"abandoned dialogs", p.PruneDialogs, DefaultDialogTTL},
			{"closed requests", p.PruneRequests, m.KeepClosed},
		} {
			if n, err := job.prune(ctx, job.ttl); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				log.Error("prune "+job.what, "err", err)
			} else if n > 0 {
				log.Info("pruned "+job.what, "count", n)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// CheckClaim validates the activity key and the claim token given to CompleteTurn, RenewActivity and
// ReleaseActivity (the token ClaimActivity returned with a won claim).
func CheckClaim(op, key, token string) error {
	if err := checkKey(op, "key", key); err != nil {
		return err
	}
	return checkKey(op, "token", token)
}
