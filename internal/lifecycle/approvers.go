package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/accessbot/accessbot/internal/entitlement"
)

// Approvers of a stage: who approves (the policy's rules expanded to people, fallback approvers when the
// primary rules give nobody, never the requester), entering a stage and queuing its approval cards,
// escalation after the stage's escalation time, and reminders.

// enterStage moves the record to a new approval stage: resolves its approvers and queues their cards.
func (c *Core) enterStage(ctx context.Context, tr *Tracked, stage int, now time.Time) {
	tr.Stage = stage
	tr.StageID = ""
	tr.StageStartedAt = now
	tr.Escalated = false
	tr.RemindedAt = time.Time{}
	tr.Approvers = nil
	tr.Notified = false
	pol, err := c.cfg.Entitlement.Policy(ctx, tr.PolicyID)
	if err != nil {
		c.log.WarnContext(ctx, "read policy for approvers", "request", tr.ID, "policy", tr.PolicyID, "err", err)
		return
	}
	tr.StageCount = len(pol.Stages)
	tr.Notified = true // the policy was read: whatever it says is final for this stage
	if stage > len(pol.Stages) || stage < 1 {
		c.log.WarnContext(ctx, "request waits for a stage its policy does not have", "request", tr.ID, "stage", stage, "stages", len(pol.Stages))
		return
	}
	st := pol.Stages[stage-1]
	people, err := c.ResolveApprovers(ctx, tr, st, false)
	var note Message
	switch {
	case errors.Is(err, entitlement.ErrUnavailable) && len(people) == 0:
		// Graph could not say who approves: try again on the next poll instead of settling on nobody.
		tr.Notified = false
		return
	case errors.Is(err, ErrOnlyRequester):
		people, note = c.selfApprovalFallback(ctx, tr, st, stage, now)
	case len(people) == 0:
		c.log.WarnContext(ctx, "no approver of the stage could be resolved", "request", tr.ID, "stage", stage)
	}
	tr.Approvers = people
	if stage > 1 && len(people) > 0 {
		tr.AddEvent(now, Say("event.stageWaiting", "Stage", fmt.Sprint(stage), "Stages", fmt.Sprint(tr.StageCount)).Naming(people))
	}
	for _, p := range people {
		tr.queue(OutboxApprovalCard, ApprovalCardJob{RequestID: tr.ID, Stage: stage, Approver: p, NoteMsg: note})
	}
}

// selfApprovalFallback handles a stage whose only approver is the requester: the stage's escalation
// approvers are asked at once when it has any (they would be asked after the escalation time anyway, and
// nobody else can act before); otherwise the requester is told plainly that nobody but them can approve
// and what happens next. It returns the people to ask and the note for their cards.
func (c *Core) selfApprovalFallback(ctx context.Context, tr *Tracked, st entitlement.Stage, stage int, now time.Time) ([]Person, Message) {
	c.log.WarnContext(ctx, "the only approver of the stage is the requester", "request", tr.ID, "stage", stage)
	esc, err := c.ResolveApprovers(ctx, tr, st, true)
	if err != nil && !errors.Is(err, ErrOnlyRequester) && len(esc) == 0 {
		tr.Notified = false // Graph could not say who the escalation approvers are: retry on the next poll
		return nil, Message{}
	}
	if len(esc) > 0 {
		tr.Escalated = true
		for i := range esc {
			esc[i].Escalation = true
		}
		note := Say("note.onlyApprover", "Requester", tr.RequestorName)
		tr.AddEvent(now, Say("event.onlyApproverAsked", "Stage", fmt.Sprint(stage)).Naming(esc))
		if tr.RequestorID != "" {
			tr.queue(OutboxNotify, NotifyJob{TenantID: tr.RequestorTenant, UserID: tr.RequestorID,
				Message: Say("notice.request.onlyApproverAsked", "Package", tr.PackageName).Naming(esc)})
		}
		return esc, note
	}
	tr.AddEvent(now, Say("event.onlyApproverNobody", "Stage", fmt.Sprint(stage)))
	if tr.RequestorID != "" {
		job := NotifyJob{TenantID: tr.RequestorTenant, UserID: tr.RequestorID,
			Message: Say("notice.request.onlyApproverNobody", "Package", tr.PackageName)}
		if d, derr := entitlement.ParseISODuration(st.DurationBeforeAutomaticDenial); derr == nil && d > 0 {
			job.Msg, job.Data[DataDuration] = "notice.request.onlyApproverNobodyDenied", durationData(d)
		}
		tr.queue(OutboxNotify, job)
	}
	return nil, Message{}
}

// checkEscalation adds the stage's escalation approvers once its escalation time has passed.
func (c *Core) checkEscalation(ctx context.Context, tr *Tracked, now time.Time) {
	if tr.Escalated || tr.Stage < 1 || tr.StageStartedAt.IsZero() {
		return
	}
	pol, err := c.cfg.Entitlement.Policy(ctx, tr.PolicyID)
	if err != nil || tr.Stage > len(pol.Stages) {
		return
	}
	st := pol.Stages[tr.Stage-1]
	if !st.EscalationEnabled {
		return
	}
	after, err := entitlement.ParseISODuration(st.DurationBeforeEscalation)
	if err != nil || after <= 0 || now.Before(tr.StageStartedAt.Add(after)) {
		return
	}
	primary := PeopleNames(tr.Approvers)
	var added []Person
	esc, err := c.ResolveApprovers(ctx, tr, st, true)
	if errors.Is(err, entitlement.ErrUnavailable) && len(esc) == 0 {
		return // Graph could not say who: try again on the next poll
	}
	tr.Escalated = true
	for _, p := range esc {
		if tr.IsApprover(p.ID) {
			continue
		}
		p.Escalation = true
		tr.Approvers = append(tr.Approvers, p)
		added = append(added, p)
	}
	if len(added) == 0 {
		return
	}
	note := Say("note.escalated", DataDuration, durationData(after))
	note.Names = primary
	for _, p := range added {
		tr.queue(OutboxApprovalCard, ApprovalCardJob{RequestID: tr.ID, Stage: tr.Stage, Approver: p, NoteMsg: note})
	}
	tr.AddEvent(now, Say("event.escalated").Naming(added))
	told := Say("", "Requester", tr.RequestorName, "Package", tr.PackageName, DataDuration, durationData(after)).Naming(added)
	for _, p := range tr.Approvers {
		if !p.Escalation {
			told.Msg = "notice.approval.escalatedFromYou"
			tr.queue(OutboxNotify, NotifyJob{TenantID: orUnknown(p.TenantID, c.cfg.TenantID), UserID: p.ID, Message: told})
		}
	}
	if tr.RequestorID != "" {
		told.Msg = "notice.request.escalated"
		tr.queue(OutboxNotify, NotifyJob{TenantID: tr.RequestorTenant, UserID: tr.RequestorID, Message: told})
	}
}

// checkReminder reminds the stage's approvers once ReminderAfter has passed since the stage began (or since
// the last reminder).
func (c *Core) checkReminder(_ context.Context, tr *Tracked, now time.Time) {
	if tr.Stage < 1 || tr.StageStartedAt.IsZero() || len(tr.Approvers) == 0 {
		return
	}
	since := tr.StageStartedAt
	if tr.RemindedAt.After(since) {
		since = tr.RemindedAt
	}
	if now.Sub(since) < c.cfg.ReminderAfter {
		return
	}
	tr.RemindedAt = now
	note := Say("note.reminder", DataDuration, durationData(now.Sub(tr.StageStartedAt)))
	for _, p := range tr.Approvers {
		tr.queue(OutboxApprovalCard, ApprovalCardJob{RequestID: tr.ID, Stage: tr.Stage, Approver: p, NoteMsg: note})
	}
	tr.AddEvent(now, Say("event.reminded"))
}

// ErrOnlyRequester: a stage's rules (primary and fallback) name nobody but the requester, who can't approve
// their own request.
var ErrOnlyRequester = errors.New("the only approver of this stage is the requester, who can't approve their own request")

// ResolveApprovers expands a stage's approver rules into people for the record's requester: requestorManager
// (fallback approvers when there is no manager), singleUser, groupMembers, internal and external sponsors;
// escalation selects the stage's escalation rules. The requester is never their own approver. Each person
// carries their tenant and, when the bot has a chat with them, their Teams id.
//
// The error is never a verdict about a person: it matches entitlement.ErrUnavailable when a rule could not
// be read (Graph failed; the people returned may be incomplete, and fallback approvers are not used in
// place of primary ones that could not be read), and is ErrOnlyRequester when the rules name only the
// requester. A caller must not refuse anyone as "not an approver" on an ErrUnavailable.
func (c *Core) ResolveApprovers(ctx context.Context, tr *Tracked, st entitlement.Stage, escalation bool) ([]Person, error) {
	primary, fallback := st.PrimaryApprovers, st.FallbackPrimaryApprovers
	if escalation {
		primary, fallback = st.EscalationApprovers, st.FallbackEscalationApprovers
	}
	people, self, err := c.expandSets(ctx, tr, primary)
	if len(people) == 0 && err == nil {
		var fself bool
		people, fself, err = c.expandSets(ctx, tr, fallback)
		self = self || fself
	}
	for i := range people {
		if people[i].TenantID == "" {
			people[i].TenantID = c.cfg.TenantID
		}
		if people[i].TeamsID == "" {
			if ref, err := c.cfg.Store.Conversation(ctx, people[i].TenantID, people[i].ID); err == nil {
				people[i].TeamsID = ref.UserID
			}
		}
	}
	if err == nil && len(people) == 0 && self {
		err = ErrOnlyRequester
	}
	return people, err
}

// expandSets is the people of the rules except the requester; self reports that the requester was among
// them; err matches entitlement.ErrUnavailable when a rule could not be read.
func (c *Core) expandSets(ctx context.Context, tr *Tracked, sets []entitlement.SubjectSet) (out []Person, self bool, err error) {
	add := func(u entitlement.User) {
		if u.ID == "" {
			return
		}
		if strings.EqualFold(u.ID, tr.RequestorID) {
			self = true
			return
		}
		if slices.ContainsFunc(out, func(p Person) bool { return strings.EqualFold(p.ID, u.ID) }) {
			return
		}
		out = append(out, Person{ID: u.ID, Name: u.Name, TenantID: u.TenantID})
	}
	for _, s := range sets {
		if s.IsBackup {
			continue
		}
		us, serr := c.expandSet(ctx, tr, s)
		if serr != nil && err == nil {
			err = serr
		}
		for _, u := range us {
			add(u)
		}
	}
	return out, self, err
}

// expandSet is the people of one approver rule: nobody when the rule names nobody (no manager, an empty
// group, a deleted user); an error matching entitlement.ErrUnavailable when Graph could not tell.
func (c *Core) expandSet(ctx context.Context, tr *Tracked, s entitlement.SubjectSet) ([]entitlement.User, error) {
	dir := c.cfg.Entitlement
	var us []entitlement.User
	var err error
	what := string(s.Kind)
	switch s.Kind {
	case entitlement.SetRequestorManager:
		if tr.RequestorID == "" {
			return nil, nil
		}
		var m entitlement.User
		if m, err = dir.Manager(ctx, tr.RequestorID); err == nil {
			us = []entitlement.User{m}
		}
	case entitlement.SetSingleUser:
		what += " " + s.UserID
		var u entitlement.User
		if u, err = dir.User(ctx, s.UserID); err == nil {
			us = []entitlement.User{u}
		}
	case entitlement.SetGroupMembers:
		what += " " + s.GroupID
		us, err = dir.GroupMembers(ctx, s.GroupID)
	case entitlement.SetInternalSponsors, entitlement.SetExternalSponsors:
		if tr.RequestorOrgID == "" {
			return nil, nil
		}
		var sp entitlement.Sponsors
		if sp, err = dir.Sponsors(ctx, tr.RequestorOrgID); err == nil {
			us = sp.Internal
			if s.Kind == entitlement.SetExternalSponsors {
				us = sp.External
			}
		}
	default:
		c.log.InfoContext(ctx, "approver rule not supported by the bot", "request", tr.ID, "kind", string(s.Kind))
		return nil, nil
	}
	switch {
	case err == nil:
		return us, nil
	case errors.Is(err, entitlement.ErrNotFound):
		// The rule names nobody (no manager, a deleted user or group): fallback approvers apply.
		return nil, nil
	}
	c.log.WarnContext(ctx, "resolve approvers", "request", tr.ID, "rule", what, "err", err)
	if !errors.Is(err, entitlement.ErrUnavailable) {
		err = fmt.Errorf("%w (%w)", entitlement.ErrUnavailable, err)
	}
	return nil, fmt.Errorf("resolve approvers (%s): %w", what, err)
}
