package lifecycle

// The brokered flow's state machine: who approves a stage of a partner's request, the stage clock (reminders,
// escalation, automatic denial), decisions, filing adminAdd after the last approval, the requester's news and
// the follow-up job's schedule. The conversation layer (bot/brokered.go, bot/guest.go) checks who may act,
// holds Lock("brk:"+id), calls these and renders the cards; the guest guidance after delivery is still there.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/store"
)

// OutboxBrokeredFollow follows a brokered request (its stage clock, then the adminAdd request's delivery and
// the guest); payload BrokeredFollowJob. The conversation layer handles it; it re-enqueues itself with backoff.
const OutboxBrokeredFollow = "bot.brokered.follow"

// Actor is the person a change is attributed to in the audit log.
type Actor struct {
	TenantID, ID, Name string
}

// BrokeredAuditEntry is an audit entry about brokered request br (the actor and time are filled in when it is
// recorded).
func BrokeredAuditEntry(br *Brokered, action, outcome string, details map[string]string) store.AuditEntry {
	return store.AuditEntry{Action: action, Mode: store.ModeBrokered, RequestID: br.ID, PackageID: br.PackageID,
		PackageName: br.PackageName, SubjectID: br.Requester.ID, SubjectName: br.Requester.Name, Outcome: outcome, Details: details}
}

// audit records e, attributed to by (the bot itself when by is nil), through Config.Audit.
func (c *Core) audit(ctx context.Context, by *Actor, e store.AuditEntry) {
	if by != nil {
		e.ActorTenant, e.ActorID, e.ActorName = by.TenantID, by.ID, by.Name
	} else if e.ActorName == "" {
		e.ActorName = c.cfg.BotName
	}
	if e.Time.IsZero() {
		e.Time = c.now()
	}
	if c.cfg.Audit == nil {
		c.log.WarnContext(ctx, "audit entry dropped: no audit log", "action", e.Action, "request", e.RequestID)
		return
	}
	c.cfg.Audit(ctx, e)
}

// enqueue queues an outbox job at once (Config.Enqueue).
func (c *Core) enqueue(ctx context.Context, kind string, payload any) {
	if c.cfg.Enqueue == nil {
		c.log.WarnContext(ctx, "outbox job dropped: no outbox", "kind", kind)
		return
	}
	c.cfg.Enqueue(ctx, kind, forOlderBuilds(payload))
}

// BrokeredApprovers resolves a stage's approvers with the policy's rules (the tracker's resolver), minus the
// requester; requestorManager does not apply to a partner user, so its fallback approvers apply. External
// sponsors who are users of the partner tenant are reached in that tenant.
func (c *Core) BrokeredApprovers(ctx context.Context, br *Brokered, st entitlement.Stage, escalation bool) ([]Person, error) {
	view := br.Mirror()
	view.RequestorID = "" // no manager in the resource tenant; sponsors come from RequestorOrgID
	people, rerr := c.ResolveApprovers(ctx, view, st, escalation)
	sets := slices.Concat(st.PrimaryApprovers, st.FallbackPrimaryApprovers)
	if escalation {
		sets = slices.Concat(st.EscalationApprovers, st.FallbackEscalationApprovers)
	}
	var external []entitlement.User
	if slices.ContainsFunc(sets, func(s entitlement.SubjectSet) bool { return s.Kind == entitlement.SetExternalSponsors }) {
		if sp, err := c.cfg.Entitlement.Sponsors(ctx, br.Requester.OrgID); err == nil {
			external = sp.External
		}
	}
	out := people[:0]
	for _, p := range people {
		if strings.EqualFold(p.ID, br.Requester.ID) {
			continue
		}
		if i := slices.IndexFunc(external, func(u entitlement.User) bool { return strings.EqualFold(u.ID, p.ID) }); i >= 0 &&
			!external[i].IsGuest() && strings.EqualFold(p.TenantID, c.cfg.TenantID) {
			// A partner-tenant account (not a guest here): its chat with the bot is in the partner tenant.
			p.TenantID = br.Requester.TenantID
			p.TeamsID = ""
			if ref, err := c.cfg.Store.Conversation(ctx, p.TenantID, p.ID); err == nil {
				p.TeamsID = ref.UserID
			}
		}
		out = append(out, p)
	}
	if len(out) == 0 && rerr == nil && len(people) > 0 {
		rerr = ErrOnlyRequester // the rules named only the requester (matched by id here)
	}
	return out, rerr
}

// QueueStageCards queues the current stage's approval card to each approver (the approve flow's delivery).
// note is an optional banner (escalation, reminder); every card carries the brokered footnote ("AccessBot
// ran this approval") because the request's mode is brokered.
func (c *Core) QueueStageCards(ctx context.Context, br *Brokered, note Message, only ...Person) {
	cur := br.Current()
	if cur == nil {
		return
	}
	to := cur.Approvers
	if len(only) > 0 {
		to = only
	}
	for _, p := range to {
		c.enqueue(ctx, OutboxApprovalCard, ApprovalCardJob{RequestID: br.ID, Stage: cur.Index, Approver: p, NoteMsg: note})
	}
}

// StageWake is how long until the current stage's next deadline (escalation or automatic denial), between
// PollInterval and PollMax; PollMax when the stage has none.
func (c *Core) StageWake(br *Brokered, pol entitlement.Policy) time.Duration {
	wake := c.cfg.PollMax
	cur := br.Current()
	if cur == nil || cur.Index > len(pol.Stages) {
		return wake
	}
	st := pol.Stages[cur.Index-1]
	now := c.now()
	consider := func(iso string) {
		if d, err := entitlement.ParseISODuration(iso); err == nil && d > 0 {
			wake = min(wake, cur.StartedAt.Add(d).Sub(now))
		}
	}
	consider(st.DurationBeforeAutomaticDenial)
	if st.EscalationEnabled && !cur.Escalated {
		consider(st.DurationBeforeEscalation)
	}
	wake = min(wake, cur.StartedAt.Add(c.cfg.ReminderAfter).Sub(now))
	if !cur.RemindedAt.IsZero() {
		wake = min(wake, cur.RemindedAt.Add(c.cfg.ReminderAfter).Sub(now))
	}
	return max(wake, c.cfg.PollInterval)
}

// CheckBrokeredStage applies the current stage's clock rules the way Entra would: after
// durationBeforeEscalation the escalation approvers are asked too; after durationBeforeAutomaticDenial the
// request is denied; every ReminderAfter the approvers are reminded. It reports whether anything changed.
func (c *Core) CheckBrokeredStage(ctx context.Context, br *Brokered, pol entitlement.Policy) bool {
	cur := br.Current()
	if cur == nil || cur.Index > len(pol.Stages) {
		return false
	}
	st := pol.Stages[cur.Index-1]
	now := c.now()
	if d, err := entitlement.ParseISODuration(st.DurationBeforeAutomaticDenial); err == nil && d > 0 && !now.Before(cur.StartedAt.Add(d)) {
		br.State = entitlement.StateDenied
		br.ReasonMsg = Say(reasonExpired, DataDuration, durationData(d))
		br.AddEvent(now, Say("event.expired"))
		br.Done = true
		c.AuditBrokered(ctx, br, "approval.timeout", "denied", map[string]string{"stage": fmt.Sprint(cur.Index)})
		return true
	}
	since := cur.StartedAt
	if cur.RemindedAt.After(since) {
		since = cur.RemindedAt
	}
	if !now.Before(since.Add(c.cfg.ReminderAfter)) {
		cur.RemindedAt = now
		br.AddEvent(now, Say("event.reminded"))
		c.QueueStageCards(ctx, br, Say("note.reminder", DataDuration, durationData(now.Sub(cur.StartedAt))))
		return true
	}
	if !st.EscalationEnabled || cur.Escalated {
		return false
	}
	d, err := entitlement.ParseISODuration(st.DurationBeforeEscalation)
	if err != nil || d <= 0 || now.Before(cur.StartedAt.Add(d)) {
		return false
	}
	esc, err := c.BrokeredApprovers(ctx, br, st, true)
	if errors.Is(err, entitlement.ErrUnavailable) && len(esc) == 0 {
		return false // Graph could not say who: the next follow-up tries again
	}
	cur.Escalated = true
	var added []Person
	for _, p := range esc {
		if slices.ContainsFunc(cur.Approvers, func(q Person) bool { return strings.EqualFold(q.ID, p.ID) }) {
			continue
		}
		p.Escalation = true
		cur.Approvers = append(cur.Approvers, p)
		added = append(added, p)
	}
	if len(added) == 0 {
		return false
	}
	br.AddEvent(now, Say("event.escalated").Naming(added))
	c.AuditBrokered(ctx, br, "approval.escalate", "escalated", map[string]string{"stage": fmt.Sprint(cur.Index), "to": NamesOf(added)})
	c.QueueStageCards(ctx, br, Say("note.escalatedNobody", DataDuration, durationData(d)), added...)
	return true
}

// DecideBrokered records approver by's decision (result, with justification just) of br's current stage
// under policy pol and carries it out: a Deny ends the request; an Approve starts the next stage with
// nextApprovers (resolved by the caller before anything is recorded; nextErr is why there are none) or, after
// the last stage, files adminAdd; the decision is audited, the record saved, the next stage's approval cards
// and the requester's news queued. The caller holds Lock("brk:"+br.ID) and checked that by may decide.
func (c *Core) DecideBrokered(ctx context.Context, br *Brokered, pol entitlement.Policy, by Actor, result entitlement.ReviewResult,
	just string, nextApprovers []Person, nextErr error) error {
	cur := br.Current()
	if cur == nil {
		return fmt.Errorf("decide brokered request %s: no stage waits for a decision: %w", br.ID, entitlement.ErrConflict)
	}
	now := c.now()
	cur.Decision, cur.By, cur.ByName, cur.At, cur.Justification = result, by.ID, orUnknown(by.Name, by.ID), now, just
	stageIdx := cur.Index
	switch {
	case result == entitlement.ReviewDeny:
		br.State = entitlement.StateDenied
		br.AddEvent(now, Say("event.denied", "By", cur.ByName))
		br.Done = true
	case stageIdx < br.StageCount && stageIdx < len(pol.Stages):
		next := BrokeredStage{Index: stageIdx + 1, StartedAt: now, Approvers: nextApprovers}
		br.AddEvent(now, Say("event.stageApproved", "Stage", fmt.Sprint(stageIdx), "By", cur.ByName))
		if len(next.Approvers) == 0 {
			br.State, br.ReasonMsg = entitlement.StateDenied, Say("reason.noNextApprover")
			if errors.Is(nextErr, ErrOnlyRequester) {
				br.ReasonMsg = Say("reason.onlyYouNext")
			}
			br.AddEvent(now, Say("event.noNextApprover"))
			br.Done = true
		} else {
			br.Stages = append(br.Stages, next)
			br.AddEvent(now, Say("event.stageWaiting", "Stage", fmt.Sprint(next.Index), "Stages", fmt.Sprint(br.StageCount)).Naming(next.Approvers))
		}
	default:
		br.AddEvent(now, Say("event.approved", "By", cur.ByName))
	}
	verb := map[entitlement.ReviewResult]string{entitlement.ReviewApprove: "approve", entitlement.ReviewDeny: "deny"}[result]
	c.audit(ctx, &by, BrokeredAuditEntry(br, "approval."+verb, map[entitlement.ReviewResult]string{entitlement.ReviewApprove: "approved", entitlement.ReviewDeny: "denied"}[result],
		map[string]string{"stage": fmt.Sprint(stageIdx), "justification": just}))
	final := result == entitlement.ReviewApprove && br.State == entitlement.StatePendingApproval && br.Current() == nil
	if err := c.SaveBrokered(ctx, br); err != nil {
		return err
	}
	if final {
		c.FileBrokered(ctx, br, &by)
		if err := c.SaveBrokered(ctx, br); err != nil {
			return err
		}
	} else {
		c.QueueStageCards(ctx, br, Message{})
	}
	c.NotifyBrokeredRequester(ctx, br)
	return nil
}

// MaxFileAttempts bounds how often the bot tries to file adminAdd when Graph fails transiently.
const MaxFileAttempts = 5

// FileBrokered files adminAdd after the last approval (or at once when the policy needs none) and starts
// following it. When Graph fails transiently the follow-up tries again, first adopting a request the failed
// call may have created (a POST lost in transit must not assign twice). by is the approver whose decision
// filed it (nil when the bot files on its own), for the audit entry. The caller saves the record.
func (c *Core) FileBrokered(ctx context.Context, br *Brokered, by *Actor) {
	now := c.now()
	if br.ApprovedAt.IsZero() {
		br.ApprovedAt = now
	}
	br.FileAttempts++
	req, adopted, err := c.fileOrAdopt(ctx, br)
	entry := store.AuditEntry{Action: "assignment.adminAdd", Mode: store.ModeBrokered, RequestID: br.ID, PackageID: br.PackageID,
		PackageName: br.PackageName, SubjectID: br.Requester.ID, SubjectName: br.Requester.Name,
		Details: map[string]string{"email": br.Requester.Email, "org": br.Requester.OrgID, "policy": br.PolicyID,
			"attempt": fmt.Sprint(br.FileAttempts)}}
	switch {
	case err != nil && transientFailure(err) && br.FileAttempts < MaxFileAttempts:
		c.log.WarnContext(ctx, "file brokered adminAdd; will retry", "request", br.ID, "attempt", br.FileAttempts, "err", err)
		br.FilePending = true
		br.State = entitlement.StateDelivering
		br.AddEvent(now, Say("event.fileRetrying"))
		entry.Outcome = "retrying"
		entry.Details["error"] = entitlement.UserMessage(err)
		c.ScheduleFollow(ctx, br, c.NextDelay(br, false))
	case err != nil:
		c.log.ErrorContext(ctx, "file brokered adminAdd", "request", br.ID, "attempt", br.FileAttempts, "err", err)
		br.FilePending = false
		br.State = entitlement.StateDeliveryFailed
		br.ReasonMsg = Say("reason.fileFailed", "Org", c.cfg.TenantName) // why is in the audit entry below
		br.AddEvent(now, Say("event.fileFailed"))
		br.Done = true
		entry.Outcome = "failed"
		entry.Details["error"] = entitlement.UserMessage(err)
	default:
		br.FilePending = false
		br.GraphRequestID, br.AssignmentID = req.ID, req.AssignmentID
		br.State = req.State
		if br.State == "" || br.State == entitlement.StateSubmitted || br.State == entitlement.StateUnknown {
			br.State = entitlement.StateDelivering
		}
		br.AddEvent(now, Say("event.fileDelivering"))
		entry.Outcome = "filed"
		if adopted {
			entry.Outcome = "found"
		}
		entry.Details["graphRequest"] = req.ID
		c.ScheduleFollow(ctx, br, 0)
	}
	if by == nil {
		entry.Time = now
	}
	c.audit(ctx, by, entry)
}

// fileOrAdopt files adminAdd; on a retry it first looks for the adminAdd request an earlier, failed attempt
// may have created (same package and target address, filed since the approval) and adopts it.
func (c *Core) fileOrAdopt(ctx context.Context, br *Brokered) (entitlement.Request, bool, error) {
	if br.FileAttempts > 1 {
		reqs, err := c.cfg.Entitlement.Requests(ctx, entitlement.RequestFilter{PackageID: br.PackageID})
		if err != nil {
			return entitlement.Request{}, false, fmt.Errorf("look for an adminAdd filed by an earlier attempt: %w", err)
		}
		for _, r := range reqs {
			if r.Type == entitlement.RequestAdminAdd && strings.EqualFold(r.Requestor.Email, br.Requester.Email) &&
				!r.CreatedAt.Before(br.ApprovedAt.Add(-time.Minute)) &&
				r.State != entitlement.StateDenied && r.State != entitlement.StateCanceled && r.State != entitlement.StateDeliveryFailed {
				return r, true, nil
			}
		}
	}
	req, err := c.cfg.Entitlement.AdminAdd(ctx, entitlement.AdminAddInput{PackageID: br.PackageID, PolicyID: br.PolicyID,
		TargetEmail: br.Requester.Email, TargetName: br.Requester.Name, ConnectedOrgID: br.Requester.OrgID,
		Justification: br.Justification, Answers: br.Answers, Schedule: br.Schedule})
	return req, false, err
}

// transientFailure reports whether a Graph failure may go away by itself (throttling, outage, a lost
// answer) rather than being a refusal of this assignment.
func transientFailure(err error) bool {
	switch {
	case errors.Is(err, entitlement.ErrThrottled), errors.Is(err, entitlement.ErrUnavailable),
		errors.Is(err, context.DeadlineExceeded):
		return true
	case errors.Is(err, entitlement.ErrInvalidInput), errors.Is(err, entitlement.ErrForbidden), errors.Is(err, entitlement.ErrNotEligible),
		errors.Is(err, entitlement.ErrAlreadyAssigned), errors.Is(err, entitlement.ErrAlreadyRequested), errors.Is(err, entitlement.ErrConflict),
		errors.Is(err, entitlement.ErrNotFound), errors.Is(err, entitlement.ErrConsentRequired), errors.Is(err, entitlement.ErrSignInRequired):
		return false
	}
	return true // no domain error: the call never got a readable answer
}

// NotifyBrokeredRequester queues a message telling the partner user what changed (their status card is updated too).
func (c *Core) NotifyBrokeredRequester(ctx context.Context, br *Brokered) {
	last := br.Stages
	var by string
	if len(last) > 0 && last[len(last)-1].Decision != "" {
		by = last[len(last)-1].ByName
	} else if len(last) > 1 {
		by = last[len(last)-2].ByName
	}
	job := NotifyJob{TenantID: br.Requester.TenantID, UserID: br.Requester.ID,
		Message: Say("", "Package", br.PackageName, "By", by)}
	switch br.State {
	case entitlement.StatePendingApproval:
		if cur := br.Current(); cur != nil && cur.Index > 1 {
			job.Msg, job.Data["Stage"], job.Names = "notice.request.stageApproved", fmt.Sprint(cur.Index-1), PeopleNames(cur.Approvers)
		}
	case entitlement.StateDenied:
		if len(last) > 0 && last[len(last)-1].Decision == entitlement.ReviewDeny {
			job.Msg = "notice.request.denied"
		} else {
			job.Msg = "notice.brokered.stopped"
		}
	case entitlement.StateDelivering, entitlement.StateDelivered:
		job.Msg, job.Data["Org"] = "notice.brokered.approved", c.cfg.TenantName
	case entitlement.StateDeliveryFailed:
		job.Msg = "notice.brokered.deliveryFailed"
	}
	if job.Msg == "" {
		return
	}
	if job.Msg != "notice.request.denied" && !br.ReasonMsg.IsZero() {
		reason := br.ReasonMsg
		job.Reason = &reason
	} else if br.Reason != "" {
		job.Data["Reason"] = br.Reason // a record of an older build: its English reason
	}
	c.enqueue(ctx, OutboxNotify, job)
}

// BrokeredFollowJob is the payload of an OutboxBrokeredFollow item.
type BrokeredFollowJob struct {
	RequestID string `json:"requestId"`
	// Gen is the record's FollowGen when the job was queued; an older job is stale (one chain per request).
	Gen int `json:"gen"`
}

// ScheduleFollow queues the follow-up job of a brokered request after delay; the caller saves the record
// (its FollowGen makes any older job stale). The outbox runs on wall-clock time (the bot's clock may be a
// simulated one), so only the delay is taken from the bot's view of time.
func (c *Core) ScheduleFollow(ctx context.Context, br *Brokered, delay time.Duration) {
	br.FollowDelay = delay
	br.FollowGen++
	var at time.Time // zero: due now in the outbox's clock
	if delay > 0 {
		at = time.Now().Add(delay)
	}
	if _, err := c.cfg.Store.Enqueue(ctx, OutboxBrokeredFollow, BrokeredFollowJob{RequestID: br.ID, Gen: br.FollowGen}, at); err != nil {
		c.log.ErrorContext(ctx, "schedule brokered follow-up", "request", br.ID, "err", err)
		return
	}
	if c.cfg.KickOutbox != nil && delay <= 0 {
		c.cfg.KickOutbox()
	}
}

// NextDelay is the backoff after a run: PollInterval after a change, else doubled up to PollMax.
func (c *Core) NextDelay(br *Brokered, changed bool) time.Duration {
	if changed || br.FollowDelay <= 0 {
		return c.cfg.PollInterval
	}
	return min(max(br.FollowDelay*2, c.cfg.PollInterval), c.cfg.PollMax)
}

// AuditBrokered records something the bot did on its own for a brokered request (a timeout, an escalation, a
// guest's acceptance), with extra details.
func (c *Core) AuditBrokered(ctx context.Context, br *Brokered, action, outcome string, details map[string]string) {
	subject := br.Guest.UserID
	if subject == "" {
		subject = br.Requester.ID
	}
	e := store.AuditEntry{Time: c.now(), ActorName: c.cfg.BotName, Action: action, Mode: store.ModeBrokered, RequestID: br.ID,
		PackageID: br.PackageID, PackageName: br.PackageName, SubjectID: subject, SubjectName: br.Requester.Name,
		Outcome: outcome, Details: map[string]string{"email": br.Requester.Email, "homeUser": br.Requester.ID}}
	for k, v := range details {
		e.Details[k] = v
	}
	c.audit(ctx, nil, e)
}

// PollDelivery reads the adminAdd request a brokered request filed (app-only) and applies its state: delivered,
// delivery failed, or denied/canceled in the tenant (the request ends; notify says the requester should hear
// of it). changed reports a state the cards show. A failed read is returned and changes nothing.
func (c *Core) PollDelivery(ctx context.Context, br *Brokered) (changed, notify bool, err error) {
	req, err := c.cfg.Entitlement.Request(ctx, br.GraphRequestID)
	if err != nil {
		return false, false, fmt.Errorf("read adminAdd request %s: %w", br.GraphRequestID, err)
	}
	if req.AssignmentID != "" {
		br.AssignmentID = req.AssignmentID
	}
	if req.State == "" || req.State == br.State || req.State == entitlement.StateSubmitted {
		return false, false, nil
	}
	br.State = req.State
	now := c.now()
	switch req.State {
	case entitlement.StateDelivered:
		br.AddEvent(now, Say("event.deliveredGuest", "Org", c.cfg.TenantName))
	case entitlement.StateDeliveryFailed:
		br.ReasonMsg = Say("reason.deliveryFailed")
		br.AddEvent(now, Say("event.deliveryFailed"))
		br.Done, notify = true, true
	case entitlement.StateDenied, entitlement.StateCanceled:
		br.ReasonMsg = Say("reason.assignmentEnded", DataState, string(req.State), "Org", c.cfg.TenantName)
		br.AddEvent(now, Say("event.state", DataState, string(req.State)))
		br.State = entitlement.StateDenied
		br.Done, notify = true, true
	default:
		br.AddEvent(now, Say("event.state", DataState, string(req.State)))
	}
	return true, notify, nil
}

// EndingLead is how long before the end of access a guest is warned: three days, or a tenth of the
// assignment's length for short assignments (the demo's eight-hour policy warns 48 minutes before).
func EndingLead(start, end time.Time) time.Duration {
	lead := 72 * time.Hour
	if !start.IsZero() && end.After(start) {
		lead = min(lead, end.Sub(start)/10)
	}
	return lead
}
