package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/store"
)

// RecordDecision adds a stage decision to a request's record, once per stage, with the store's
// compare-and-swap, and returns the record. mine marks a decision the caller just made with the approver's
// own token (rec.ViaBot is set): it replaces a decision of the stage learned earlier (from Graph or a 409)
// with what the caller knows. first reports whether this call recorded the decision the caller made; it is
// false when the same approver's decision of that stage was already recorded as made through the bot (a
// double click that reached Graph twice): the caller audits only a first decision. For a decision that is not
// mine, first reports whether it was new to the record. A record that cannot be read is logged and a
// stand-in holding only the decision is returned (first true).
func (c *Core) RecordDecision(ctx context.Context, requestID string, rec Decision, mine bool) (tr *Tracked, first bool) {
	rec.ViaBot = mine
	tr, err := c.update(ctx, requestID, false, func(tr *Tracked, _ bool) error {
		first = false
		if old, ok := tr.DecisionFor(rec.Stage); ok {
			same := strings.EqualFold(old.ApproverID, rec.ApproverID)
			switch {
			case mine && old.ViaBot && same:
				return errNoChange // the same approver's decision, recorded by their other click
			case mine && !old.ViaBot && (same || old.ApproverID == ""):
				replaceDecision(tr, rec)
				first = true
				return nil
			case mine:
				first = true // Graph took the caller's decision: it is audited, the record keeps the first one
				return errNoChange
			case old.ApproverName != "":
				return errNoChange
			}
		}
		tr.Decisions = append(tr.Decisions, rec)
		tr.AddEvent(orNow(rec.At, c.now()), decisionEvent(tr, rec))
		first = true
		return nil
	})
	if err != nil {
		c.log.WarnContext(ctx, "record decision", "request", requestID, "err", err)
		return &Tracked{ID: requestID, Decisions: []Decision{rec}}, true
	}
	return tr, first
}

// replaceDecision swaps the newest decision of rec's stage for rec (keeping the history line).
func replaceDecision(tr *Tracked, rec Decision) {
	for i := len(tr.Decisions) - 1; i >= 0; i-- {
		if tr.Decisions[i].Stage == rec.Stage {
			tr.Decisions[i] = rec
			return
		}
	}
}

// decisionEvent is the timeline line of a recorded decision.
func decisionEvent(tr *Tracked, rec Decision) Message {
	stage := fmt.Sprint(rec.Stage)
	switch {
	case rec.Result == "":
		return Say("event.stageDecided", "Stage", stage)
	case tr.StageCount > 1 && rec.Result == entitlement.ReviewDeny:
		return Say("event.stageDenied", "Stage", stage, "By", rec.ApproverName)
	case tr.StageCount > 1:
		return Say("event.stageApproved", "Stage", stage, "By", rec.ApproverName)
	case rec.Result == entitlement.ReviewDeny:
		return Say("event.denied", "By", rec.ApproverName)
	}
	return Say("event.approved", "By", rec.ApproverName)
}

// NoteStageID remembers Graph's id of the current stage of a request.
func (c *Core) NoteStageID(ctx context.Context, requestID string, stage int, stageID string) {
	if stageID == "" {
		return
	}
	_, err := c.update(ctx, requestID, false, func(tr *Tracked, _ bool) error {
		if tr.Stage != stage || tr.StageID == stageID {
			return errNoChange
		}
		tr.StageID = stageID
		return nil
	})
	if err != nil && !errors.Is(err, ErrNotFound) {
		c.log.WarnContext(ctx, "save stage id", "request", requestID, "err", err)
	}
}

// MarkCanceledByUser notes that the requester canceled the request through the bot (no news is sent about
// the cancel). An unknown request is left alone.
func (c *Core) MarkCanceledByUser(ctx context.Context, requestID string) {
	_, err := c.update(ctx, requestID, false, func(tr *Tracked, _ bool) error {
		if tr.CanceledByUser {
			return errNoChange
		}
		tr.CanceledByUser = true
		return nil
	})
	if err != nil && !errors.Is(err, ErrNotFound) {
		c.log.WarnContext(ctx, "mark request canceled by its requester", "request", requestID, "err", err)
	}
}

// Cancel cancels an open request for its requester (by) with their own delegated access d, audits it, and
// applies a fresh read of the request to its record, marked canceled by the requester (no "was canceled"
// news). The caller checked that by filed r.
func (c *Core) Cancel(ctx context.Context, d entitlement.Delegated, r entitlement.Request, by Actor) (*Tracked, error) {
	if err := d.CancelRequest(ctx, r.ID); err != nil {
		return nil, err
	}
	c.audit(ctx, &by, store.AuditEntry{Action: "request.cancel", Mode: store.ModeDelegated, RequestID: r.ID, PackageID: r.PackageID,
		PackageName: r.PackageName, SubjectID: by.ID, SubjectName: by.Name, Outcome: "canceled"})
	c.MarkCanceledByUser(ctx, r.ID) // before the fresh read is applied: no "was canceled" news
	fresh, err := c.cfg.Entitlement.Request(ctx, r.ID)
	if err != nil {
		fresh = r
		fresh.State = entitlement.StateCanceled
	}
	tr, err := c.Track(ctx, fresh, TrackOptions{RequestorTenant: by.TenantID})
	if err != nil {
		return nil, err
	}
	if !tr.CanceledByUser {
		c.MarkCanceledByUser(ctx, r.ID)
		tr.CanceledByUser = true
	}
	return tr, nil
}
