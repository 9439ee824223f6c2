package bot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/accessbot/accessbot/internal/entitlement"
)

// Approvers of a stage (the "approve" flow's side of the tracker): who approves (the policy's rules
// expanded to people, fallback approvers when the primary rules give nobody, never the requester), entering a
// stage and queuing its approval cards, escalation after the stage's escalation time, and reminders.

// isApprover reports whether userID is an approver of the current stage.
func (tr *trackedRequest) isApprover(userID string) bool {
	return slices.ContainsFunc(tr.Approvers, func(p personRef) bool { return strings.EqualFold(p.ID, userID) })
}

// enterStage moves the record to a new approval stage: resolves its approvers and queues their cards.
func (b *Bot) enterStage(ctx context.Context, tr *trackedRequest, stage int, now time.Time) {
	tr.Stage = stage
	tr.StageID = ""
	tr.StageStartedAt = now
	tr.Escalated = false
	tr.RemindedAt = time.Time{}
	tr.Approvers = nil
	tr.Notified = false
	pol, err := b.cfg.Entitlement.Policy(ctx, tr.PolicyID)
	if err != nil {
		b.log.WarnContext(ctx, "read policy for approvers", "request", tr.ID, "policy", tr.PolicyID, "err", err)
		return
	}
	tr.StageCount = len(pol.Stages)
	tr.Notified = true // the policy was read: whatever it says is final for this stage
	if stage > len(pol.Stages) || stage < 1 {
		b.log.WarnContext(ctx, "request waits for a stage its policy does not have", "request", tr.ID, "stage", stage, "stages", len(pol.Stages))
		return
	}
	people := b.resolveApprovers(ctx, tr, pol.Stages[stage-1], false)
	if len(people) == 0 {
		b.log.WarnContext(ctx, "no approver of the stage could be resolved", "request", tr.ID, "stage", stage)
	}
	tr.Approvers = people
	if stage > 1 {
		tr.event(now, fmt.Sprintf("Stage %d of %d: waiting for %s", stage, tr.StageCount, namesOf(people)))
	}
	for _, p := range people {
		tr.queue(OutboxApprovalCard, approvalCardJob{RequestID: tr.ID, Stage: stage, Approver: p})
	}
}

// checkEscalation adds the stage's escalation approvers once its escalation time has passed.
func (b *Bot) checkEscalation(ctx context.Context, tr *trackedRequest, now time.Time) {
	if tr.Escalated || tr.Stage < 1 || tr.StageStartedAt.IsZero() {
		return
	}
	pol, err := b.cfg.Entitlement.Policy(ctx, tr.PolicyID)
	if err != nil || tr.Stage > len(pol.Stages) {
		return
	}
	st := pol.Stages[tr.Stage-1]
	if !st.EscalationEnabled {
		return
	}
	after, err := parseISODuration(st.DurationBeforeEscalation)
	if err != nil || after <= 0 || now.Before(tr.StageStartedAt.Add(after)) {
		return
	}
	tr.Escalated = true
	primary := namesOf(tr.Approvers)
	var added []personRef
	for _, p := range b.resolveApprovers(ctx, tr, st, true) {
		if tr.isApprover(p.ID) {
			continue
		}
		p.Escalation = true
		tr.Approvers = append(tr.Approvers, p)
		added = append(added, p)
	}
	if len(added) == 0 {
		return
	}
	note := fmt.Sprintf("Escalated to you: %s did not decide within %s.", orUnknown(primary, "the approvers"), humanizeDuration(after))
	for _, p := range added {
		tr.queue(OutboxApprovalCard, approvalCardJob{RequestID: tr.ID, Stage: tr.Stage, Approver: p, Note: note})
	}
	tr.event(now, fmt.Sprintf("Escalated to %s", namesOf(added)))
	text := fmt.Sprintf("%s's request for %s was escalated to %s because nobody decided within %s.",
		orUnknown(tr.RequestorName, "A"), orUnknown(tr.PackageName, "an access package"), namesOf(added), humanizeDuration(after))
	for _, p := range tr.Approvers {
		if !p.Escalation {
			tr.queue(OutboxNotify, notifyJob{TenantID: orUnknown(p.TenantID, b.cfg.Tenant.ID), UserID: p.ID, Text: text})
		}
	}
	if tr.RequestorID != "" {
		tr.queue(OutboxNotify, notifyJob{TenantID: tr.RequestorTenant, UserID: tr.RequestorID,
			Text: fmt.Sprintf("Your request for %s was escalated to %s.", orUnknown(tr.PackageName, "an access package"), namesOf(added))})
	}
}

// checkReminder reminds the stage's approvers once ReminderAfter has passed since the stage began (or since
// the last reminder).
func (b *Bot) checkReminder(ctx context.Context, tr *trackedRequest, now time.Time) {
	if tr.Stage < 1 || tr.StageStartedAt.IsZero() || len(tr.Approvers) == 0 {
		return
	}
	since := tr.StageStartedAt
	if tr.RemindedAt.After(since) {
		since = tr.RemindedAt
	}
	if now.Sub(since) < b.cfg.ReminderAfter {
		return
	}
	tr.RemindedAt = now
	note := fmt.Sprintf("Reminder: this request has been waiting for your decision for %s.", humanizeDuration(now.Sub(tr.StageStartedAt)))
	for _, p := range tr.Approvers {
		tr.queue(OutboxApprovalCard, approvalCardJob{RequestID: tr.ID, Stage: tr.Stage, Approver: p, Note: note})
	}
	tr.event(now, "Approvers reminded")
}

// resolveApprovers expands a stage's approver rules into people: requestorManager (fallback approvers when
// there is no manager), singleUser, groupMembers, internal and external sponsors. The requestor is never
// their own approver.
func (b *Bot) resolveApprovers(ctx context.Context, tr *trackedRequest, st entitlement.Stage, escalation bool) []personRef {
	primary, fallback := st.PrimaryApprovers, st.FallbackPrimaryApprovers
	if escalation {
		primary, fallback = st.EscalationApprovers, st.FallbackEscalationApprovers
	}
	people := b.expandSets(ctx, tr, primary)
	if len(people) == 0 {
		people = b.expandSets(ctx, tr, fallback)
	}
	for i := range people {
		if people[i].TenantID == "" {
			people[i].TenantID = b.cfg.Tenant.ID
		}
		if people[i].TeamsID == "" {
			if ref, err := b.cfg.Store.Conversation(ctx, people[i].TenantID, people[i].ID); err == nil {
				people[i].TeamsID = ref.UserID
			}
		}
	}
	return people
}

func (b *Bot) expandSets(ctx context.Context, tr *trackedRequest, sets []entitlement.SubjectSet) []personRef {
	var out []personRef
	add := func(u entitlement.User) {
		if u.ID == "" || strings.EqualFold(u.ID, tr.RequestorID) {
			return
		}
		if slices.ContainsFunc(out, func(p personRef) bool { return strings.EqualFold(p.ID, u.ID) }) {
			return
		}
		out = append(out, personRef{ID: u.ID, Name: u.Name, TenantID: u.TenantID})
	}
	dir := b.cfg.Entitlement
	for _, s := range sets {
		if s.IsBackup {
			continue
		}
		switch s.Kind {
		case entitlement.SetRequestorManager:
			if tr.RequestorID == "" {
				continue
			}
			m, err := dir.Manager(ctx, tr.RequestorID)
			if err != nil {
				if !errors.Is(err, entitlement.ErrNotFound) {
					b.log.WarnContext(ctx, "resolve requestor manager", "request", tr.ID, "err", err)
				}
				continue
			}
			add(m)
		case entitlement.SetSingleUser:
			u, err := dir.User(ctx, s.UserID)
			if err != nil {
				b.log.WarnContext(ctx, "resolve single approver", "request", tr.ID, "user", s.UserID, "err", err)
				continue
			}
			add(u)
		case entitlement.SetGroupMembers:
			ms, err := dir.GroupMembers(ctx, s.GroupID)
			if err != nil {
				b.log.WarnContext(ctx, "resolve approver group", "request", tr.ID, "group", s.GroupID, "err", err)
				continue
			}
			for _, u := range ms {
				add(u)
			}
		case entitlement.SetInternalSponsors, entitlement.SetExternalSponsors:
			if tr.RequestorOrgID == "" {
				continue
			}
			sp, err := dir.Sponsors(ctx, tr.RequestorOrgID)
			if err != nil {
				b.log.WarnContext(ctx, "resolve sponsors", "request", tr.ID, "org", tr.RequestorOrgID, "err", err)
				continue
			}
			list := sp.Internal
			if s.Kind == entitlement.SetExternalSponsors {
				list = sp.External
			}
			for _, u := range list {
				add(u)
			}
		default:
			b.log.InfoContext(ctx, "approver rule not supported by the bot", "request", tr.ID, "kind", string(s.Kind))
		}
	}
	return out
}

func namesOf(ps []personRef) string {
	var names []string
	for _, p := range ps {
		names = append(names, orUnknown(p.Name, p.ID))
	}
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}
