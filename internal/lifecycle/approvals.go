package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/accessbot/accessbot/internal/entitlement"
)

// What an approver's read of an approval (entitlement.Approval, delegated) teaches the core about a delegated
// request: decisions made elsewhere, and the end of a request the tracker has not seen yet.

// Follow returns the record of a request, reading the request with the app's identity (and tracking it from
// now on) when the core did not know it.
func (c *Core) Follow(ctx context.Context, requestID string) (*Tracked, error) {
	tr, err := c.Get(ctx, requestID)
	if err == nil {
		return tr, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	r, err := c.cfg.Entitlement.Request(ctx, requestID)
	if err != nil {
		return nil, fmt.Errorf("read request %s: %w", requestID, err)
	}
	return c.Track(ctx, r, TrackOptions{})
}

// Decided reports whether an approval stage has an Approve or Deny.
func Decided(s entitlement.ApprovalStage) bool {
	return s.ReviewResult == entitlement.ReviewApprove || s.ReviewResult == entitlement.ReviewDeny
}

// LearnDecisions records the stage decisions an approver's read of the approval shows and the record lacks
// (made in My Access, or by an approver the bot does not talk to), so the tracker moves to the right stage and
// the cards say who decided: *tr is updated, Changed is told and the request is polled soon. It reports
// whether it learned anything.
func (c *Core) LearnDecisions(ctx context.Context, tr *Tracked, a entitlement.Approval) bool {
	learned := false
	for i, s := range a.Stages {
		if !Decided(s) {
			continue
		}
		if _, ok := tr.DecisionFor(i + 1); ok {
			continue
		}
		rec := Decision{Stage: i + 1, StageID: s.ID, ApproverID: s.ReviewedBy.ID, ApproverName: s.ReviewedBy.Name,
			Result: s.ReviewResult, At: s.ReviewedAt, Justification: s.Justification}
		fresh, _ := c.RecordDecision(ctx, tr.ID, rec, false)
		*tr = *fresh
		learned = true
	}
	if learned {
		c.changed(ctx, tr.ID)
		c.PollSoon(ctx, tr.ID)
	}
	return learned
}

// CatchUp re-reads a request (app-only) whose approval is no longer open while its record still says it is
// (canceled in My Access, expired a moment ago, the tracker not polled yet) and applies it, so the card says
// how it ended. A brokered request, a closed one or a failed read returns the record unchanged.
func (c *Core) CatchUp(ctx context.Context, tr *Tracked) *Tracked {
	if !tr.State.Open() || strings.HasPrefix(tr.ID, BrokeredPrefix) {
		return tr
	}
	req, err := c.cfg.Entitlement.Request(ctx, tr.ID)
	if err != nil {
		c.log.InfoContext(ctx, "re-read a request whose approval ended", "request", tr.ID, "err", err)
		return tr
	}
	fresh, err := c.Observe(ctx, req)
	if err != nil {
		c.log.WarnContext(ctx, "apply the state of a request whose approval ended", "request", tr.ID, "err", err)
		return tr
	}
	return fresh
}
