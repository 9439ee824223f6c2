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
		tr.AddEvent(tr.CreatedAt, Say("event.submitted"))
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
	tr.Expired = tr.deniedExpired()

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
			tr.AddEvent(now, stateEvent(tr))
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

// stateEvent is the timeline line for the record's current state.
func stateEvent(tr *Tracked) Message {
	d, ok := tr.LastDecision()
	by := ""
	if ok {
		by = d.ApproverName
	}
	switch tr.State {
	case entitlement.StatePendingApproval:
		if tr.StageCount > 1 {
			return Say("event.pendingStage", "Stage", fmt.Sprint(max(tr.Stage, 1)), "Stages", fmt.Sprint(tr.StageCount))
		}
		return Say("event.pending")
	case entitlement.StateDelivering:
		if ok && d.Result == entitlement.ReviewApprove {
			return Say("event.approvedDelivering", "By", by)
		}
		return Say("event.delivering")
	case entitlement.StateDenied:
		if ok && d.Result == entitlement.ReviewDeny {
			return Say("event.denied", "By", by)
		}
		return Say("event.denied", "By", "")
	}
	return Say("event.state", DataState, string(tr.State))
}

// notifyRequester queues a short message to the requester about a state change worth telling.
func (c *Core) notifyRequester(tr *Tracked, oldState entitlement.RequestState, oldStage int) {
	if tr.RequestorID == "" {
		return
	}
	d, hasDecision := tr.LastDecision()
	job := NotifyJob{TenantID: tr.RequestorTenant, UserID: tr.RequestorID,
		Message: Say("", "Package", tr.PackageName, "By", d.ApproverName)}
	switch tr.State {
	case entitlement.StatePendingApproval:
		if tr.Stage > 1 && tr.Stage != oldStage {
			job.Msg, job.Data["Stage"], job.Names = "notice.request.stageApproved", fmt.Sprint(tr.Stage-1), PeopleNames(tr.Approvers)
		}
	case entitlement.StateDelivering:
		if oldState == entitlement.StatePendingApproval {
			job.Msg = "notice.request.approved"
		}
	case entitlement.StateDelivered:
		job.Msg = "notice.request.delivered"
	case entitlement.StateDenied:
		job.Msg = "notice.request.deniedUndecided"
		if hasDecision && d.Result == entitlement.ReviewDeny {
			job.Msg = "notice.request.denied"
		}
	case entitlement.StateCanceled:
		if !tr.CanceledByUser {
			job.Msg = "notice.request.canceled"
		}
	case entitlement.StateDeliveryFailed:
		job.Msg = "notice.request.deliveryFailed"
	case entitlement.StatePartiallyDelivered:
		job.Msg = "notice.request.partiallyDelivered"
	case entitlement.StateScheduled:
		job.Msg = "notice.request.scheduled"
	}
	if job.Msg == "" {
		return
	}
	tr.queue(OutboxNotify, job)
}
