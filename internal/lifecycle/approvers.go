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
	people := c.ResolveApprovers(ctx, tr, pol.Stages[stage-1], false)
	if len(people) == 0 {
		c.log.WarnContext(ctx, "no approver of the stage could be resolved", "request", tr.ID, "stage", stage)
	}
	tr.Approvers = people
	if stage > 1 {
		tr.AddEvent(now, fmt.Sprintf("Stage %d of %d: waiting for %s", stage, tr.StageCount, NamesOf(people)))
	}
	for _, p := range people {
		tr.queue(OutboxApprovalCard, ApprovalCardJob{RequestID: tr.ID, Stage: stage, Approver: p})
	}
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
	after, err := ParseISODuration(st.DurationBeforeEscalation)
	if err != nil || after <= 0 || now.Before(tr.StageStartedAt.Add(after)) {
		return
	}
	tr.Escalated = true
	primary := NamesOf(tr.Approvers)
	var added []Person
	for _, p := range c.ResolveApprovers(ctx, tr, st, true) {
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
	note := fmt.Sprintf("Escalated to you: %s did not decide within %s.", orUnknown(primary, "the approvers"), HumanizeDuration(after))
	for _, p := range added {
		tr.queue(OutboxApprovalCard, ApprovalCardJob{RequestID: tr.ID, Stage: tr.Stage, Approver: p, Note: note})
	}
	tr.AddEvent(now, fmt.Sprintf("Escalated to %s", NamesOf(added)))
	text := fmt.Sprintf("%s's request for %s was escalated to %s because nobody decided within %s.",
		orUnknown(tr.RequestorName, "A"), orUnknown(tr.PackageName, "an access package"), NamesOf(added), HumanizeDuration(after))
	for _, p := range tr.Approvers {
		if !p.Escalation {
			tr.queue(OutboxNotify, NotifyJob{TenantID: orUnknown(p.TenantID, c.cfg.TenantID), UserID: p.ID, Text: text})
		}
	}
	if tr.RequestorID != "" {
		tr.queue(OutboxNotify, NotifyJob{TenantID: tr.RequestorTenant, UserID: tr.RequestorID,
			Text: fmt.Sprintf("Your request for %s was escalated to %s.", orUnknown(tr.PackageName, "an access package"), NamesOf(added))})
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
	note := fmt.Sprintf("Reminder: this request has been waiting for your decision for %s.", HumanizeDuration(now.Sub(tr.StageStartedAt)))
	for _, p := range tr.Approvers {
		tr.queue(OutboxApprovalCard, ApprovalCardJob{RequestID: tr.ID, Stage: tr.Stage, Approver: p, Note: note})
	}
	tr.AddEvent(now, "Approvers reminded")
}

// ResolveApprovers expands a stage's approver rules into people for the record's requester: requestorManager
// (fallback approvers when there is no manager), singleUser, groupMembers, internal and external sponsors;
// escalation selects the stage's escalation rules. The requester is never their own approver. Each person
// carries their tenant and, when the bot has a chat with them, their Teams id.
func (c *Core) ResolveApprovers(ctx context.Context, tr *Tracked, st entitlement.Stage, escalation bool) []Person {
	primary, fallback := st.PrimaryApprovers, st.FallbackPrimaryApprovers
	if escalation {
		primary, fallback = st.EscalationApprovers, st.FallbackEscalationApprovers
	}
	people := c.expandSets(ctx, tr, primary)
	if len(people) == 0 {
		people = c.expandSets(ctx, tr, fallback)
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
	return people
}

func (c *Core) expandSets(ctx context.Context, tr *Tracked, sets []entitlement.SubjectSet) []Person {
	var out []Person
	add := func(u entitlement.User) {
		if u.ID == "" || strings.EqualFold(u.ID, tr.RequestorID) {
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
		for _, u := range c.expandSet(ctx, tr, s) {
			add(u)
		}
	}
	return out
}

// expandSet is the people of one approver rule (nobody when they cannot be read; logged).
func (c *Core) expandSet(ctx context.Context, tr *Tracked, s entitlement.SubjectSet) []entitlement.User {
	dir := c.cfg.Entitlement
	switch s.Kind {
	case entitlement.SetRequestorManager:
		if tr.RequestorID == "" {
			return nil
		}
		m, err := dir.Manager(ctx, tr.RequestorID)
		if err != nil {
			if !errors.Is(err, entitlement.ErrNotFound) {
				c.log.WarnContext(ctx, "resolve requestor manager", "request", tr.ID, "err", err)
			}
			return nil
		}
		return []entitlement.User{m}
	case entitlement.SetSingleUser:
		u, err := dir.User(ctx, s.UserID)
		if err != nil {
			c.log.WarnContext(ctx, "resolve single approver", "request", tr.ID, "user", s.UserID, "err", err)
			return nil
		}
		return []entitlement.User{u}
	case entitlement.SetGroupMembers:
		ms, err := dir.GroupMembers(ctx, s.GroupID)
		if err != nil {
			c.log.WarnContext(ctx, "resolve approver group", "request", tr.ID, "group", s.GroupID, "err", err)
			return nil
		}
		return ms
	case entitlement.SetInternalSponsors, entitlement.SetExternalSponsors:
		if tr.RequestorOrgID == "" {
			return nil
		}
		sp, err := dir.Sponsors(ctx, tr.RequestorOrgID)
		if err != nil {
			c.log.WarnContext(ctx, "resolve sponsors", "request", tr.ID, "org", tr.RequestorOrgID, "err", err)
			return nil
		}
		if s.Kind == entitlement.SetExternalSponsors {
			return sp.External
		}
		return sp.Internal
	}
	c.log.InfoContext(ctx, "approver rule not supported by the bot", "request", tr.ID, "kind", string(s.Kind))
	return nil
}
