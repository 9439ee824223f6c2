package lifecycle

import (
	"context"
	"errors"
	"fmt"

	"github.com/accessbot/accessbot/internal/entitlement"
)

// TrackOptions carry what the caller knows beyond the Graph request.
type TrackOptions struct {
	// RequestorTenant is the tenant of the requester's chat.
	RequestorTenant string
	RequestorName   string
	// Mode is ModeDelegated or ModeBrokered ("" keeps the record's).
	Mode string
}

// Track records a request (filed by the bot or learned from a list) so the tracker follows it, and applies
// the state just read (see Observe). It returns the record.
func (c *Core) Track(ctx context.Context, req entitlement.Request, opt TrackOptions) (*Tracked, error) {
	return c.observe(ctx, req, &opt)
}

// Observe applies a fresh read of a request to its record: on a change it tells Changed (every card copy is
// re-rendered), queues the requester's news and, for a new approval stage, resolves the stage's approvers and
// queues their approval cards. A request the core did not know is recorded without news.
func (c *Core) Observe(ctx context.Context, req entitlement.Request) (*Tracked, error) {
	return c.observe(ctx, req, nil)
}

func (c *Core) observe(ctx context.Context, req entitlement.Request, opt *TrackOptions) (*Tracked, error) {
	if req.ID == "" {
		return nil, errors.New("observe request: request has no id")
	}
	var changed, created bool
	tr, err := c.update(ctx, req.ID, true, func(tr *Tracked, isNew bool) error {
		changed, created = c.apply(ctx, tr, isNew, req, opt)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if changed && !created {
		c.changed(ctx, tr.ID)
	}
	return tr, nil
}

// apply is the state machine: it moves tr to what req says and reports whether the state changed.
func (c *Core) apply(ctx context.Context, tr *Tracked, isNew bool, req entitlement.Request, opt *TrackOptions) (changed, created bool) {
	now := c.now()
	if isNew {
		*tr = Tracked{ID: req.ID, Mode: ModeDelegated, Delay: c.cfg.PollInterval, CreatedAt: req.CreatedAt}
		if tr.CreatedAt.IsZero() {
			tr.CreatedAt = now
		}
		tr.AddEvent(tr.CreatedAt, "Request submitted")
	}
	if opt != nil {
		if opt.RequestorTenant != "" {
			tr.RequestorTenant = opt.RequestorTenant
		}
		if opt.RequestorName != "" && tr.RequestorName == "" {
			tr.RequestorName = opt.RequestorName
		}
		if opt.Mode != "" {
			tr.Mode = opt.Mode
		}
	}
	if tr.RequestorTenant == "" {
		tr.RequestorTenant = c.cfg.TenantID
	}
	Merge(tr, req)

	oldState, oldStage := tr.State, tr.Stage
	if isNew {
		oldState = ""
	}
	tr.State = req.State
	tr.Status = req.Status

	changed = isNew || oldState != tr.State
	if tr.State == entitlement.StatePendingApproval {
		// The stage waiting now: the one after the last approved stage. After a denial, or after the last
		// stage was approved, Graph may still say pendingApproval for a moment: the stage stays.
		stage := max(tr.Stage, 1)
		if d, ok := tr.LastDecision(); ok {
			stage = d.Stage
			if d.Result == entitlement.ReviewApprove && (tr.StageCount == 0 || d.Stage < tr.StageCount) {
				stage = d.Stage + 1
			}
		}
		if stage != tr.Stage || !tr.Notified {
			c.enterStage(ctx, tr, stage, now)
			changed = true
		}
		c.checkEscalation(ctx, tr, now)
		c.checkReminder(ctx, tr, now)
	} else {
		tr.Stage = 0
	}
	if !tr.State.Open() && tr.State != "" {
		tr.Closed = true
	}

	if changed {
		if !isNew || tr.State != entitlement.StateSubmitted {
			tr.AddEvent(now, c.stateEventText(tr))
		}
		tr.Delay = c.cfg.PollInterval
		if !isNew {
			// A request the bot just filed or just learned about needs no news: its card shows the state.
			c.notifyRequester(tr, oldState, oldStage)
		}
	} else {
		tr.Delay = min(max(tr.Delay*2, c.cfg.PollInterval), c.cfg.PollMax)
	}
	tr.NextPoll = now.Add(tr.Delay)
	return changed, isNew
}

// stateEventText is the timeline line for the record's current state.
func (c *Core) stateEventText(tr *Tracked) string {
	d, ok := tr.LastDecision()
	by := ""
	if ok && d.ApproverName != "" {
		by = " by " + d.ApproverName
	}
	switch tr.State {
	case entitlement.StatePendingApproval:
		if tr.StageCount > 1 {
			return fmt.Sprintf("Pending approval (stage %d of %d)", max(tr.Stage, 1), tr.StageCount)
		}
		return "Pending approval"
	case entitlement.StateDelivering:
		if ok && d.Result == entitlement.ReviewApprove {
			return "Approved" + by + "; delivering"
		}
		return "Delivering"
	case entitlement.StateDenied:
		if ok && d.Result == entitlement.ReviewDeny {
			return "Denied" + by
		}
		return "Denied"
	}
	return c.cfg.StateLabel(tr)
}

// notifyRequester queues a short message to the requester about a state change worth telling.
func (c *Core) notifyRequester(tr *Tracked, oldState entitlement.RequestState, oldStage int) {
	if tr.RequestorID == "" {
		return
	}
	pkg := orUnknown(tr.PackageName, "your access package")
	d, hasDecision := tr.LastDecision()
	by := ""
	if hasDecision && d.ApproverName != "" {
		by = " by " + d.ApproverName
	}
	args := map[string]string{"Package": tr.PackageName, "By": d.ApproverName}
	var msg, text string
	switch tr.State {
	case entitlement.StatePendingApproval:
		if tr.Stage > 1 && tr.Stage != oldStage {
			msg = "notice.request.stageApproved"
			args["Stage"], args["Names"] = fmt.Sprint(tr.Stage-1), NamesOf(tr.Approvers)
			text = fmt.Sprintf("Stage %d of your request for %s was approved%s; now waiting for %s.", tr.Stage-1, pkg, by, orUnknown(NamesOf(tr.Approvers), "the next approvers"))
		}
	case entitlement.StateDelivering:
		if oldState == entitlement.StatePendingApproval {
			msg, text = "notice.request.approved", fmt.Sprintf("Your request for %s was approved%s. Your access is being set up.", pkg, by)
		}
	case entitlement.StateDelivered:
		msg, text = "notice.request.delivered", fmt.Sprintf("You now have access: %s was delivered.", pkg)
	case entitlement.StateDenied:
		if hasDecision && d.Result == entitlement.ReviewDeny {
			msg, text = "notice.request.denied", fmt.Sprintf("Your request for %s was denied%s.", pkg, by)
		} else {
			msg, text = "notice.request.deniedUndecided", fmt.Sprintf("Your request for %s was denied (nobody approved it in time, or a policy refused it).", pkg)
		}
	case entitlement.StateCanceled:
		if !tr.CanceledByUser {
			msg, text = "notice.request.canceled", fmt.Sprintf("Your request for %s was canceled.", pkg)
		}
	case entitlement.StateDeliveryFailed:
		msg, text = "notice.request.deliveryFailed", fmt.Sprintf("Your request for %s was approved but the access could not be delivered. An admin can retry it; you can also request again.", pkg)
	case entitlement.StatePartiallyDelivered:
		msg, text = "notice.request.partiallyDelivered", fmt.Sprintf("Your request for %s was partially delivered; the rest will be retried.", pkg)
	case entitlement.StateScheduled:
		msg, text = "notice.request.scheduled", fmt.Sprintf("Your request for %s was approved and is scheduled to start on the requested date.", pkg)
	}
	if text == "" {
		return
	}
	tr.queue(OutboxNotify, NotifyJob{TenantID: tr.RequestorTenant, UserID: tr.RequestorID, Text: text, Msg: msg, Args: args})
}
