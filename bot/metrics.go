package bot

import (
	"context"
	"strings"
	"time"

	"github.com/accessbot/accessbot/internal/store"
)

// Metrics receives the domain events operators chart (requests filed, approval decisions and how long they
// took); *telemetry.Metrics implements it. The bot derives them from its audit entries, the one place every
// filed request and every decision already passes.
type Metrics interface {
	// RequestFiled counts a filed request by mode (delegated, brokered).
	RequestFiled(mode string)
	// RequestDecided counts an approver's decision by mode and outcome (approved, denied); latency is the time
	// since the request was filed, 0 when unknown.
	RequestDecided(mode, outcome string, latency time.Duration)
}

type noMetrics struct{}

func (noMetrics) RequestFiled(string)                          {}
func (noMetrics) RequestDecided(string, string, time.Duration) {}

// observeAudit turns a recorded audit entry into domain metrics.
func (b *Bot) observeAudit(ctx context.Context, e store.AuditEntry) {
	switch {
	case e.Action == "request.submit" && e.Mode != store.ModeAdmin:
		b.metrics.RequestFiled(e.Mode)
	case strings.HasPrefix(e.Action, "approval.") && (e.Outcome == "approved" || e.Outcome == "denied"):
		b.metrics.RequestDecided(e.Mode, e.Outcome, b.approvalLatency(ctx, e))
	}
}

// approvalLatency is the time from filing e's request to e, or 0 when the request's record is gone.
func (b *Bot) approvalLatency(ctx context.Context, e store.AuditEntry) time.Duration {
	var filed time.Time
	if e.Mode == store.ModeBrokered {
		if br, err := b.core.GetBrokered(ctx, e.RequestID); err == nil {
			filed = br.CreatedAt
		}
	} else if r, err := b.cfg.Store.GetRequest(ctx, e.RequestID); err == nil {
		filed = r.CreatedAt
	}
	if filed.IsZero() || e.Time.Before(filed) {
		return 0
	}
	return e.Time.Sub(filed)
}
