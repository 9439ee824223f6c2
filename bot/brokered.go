package bot

// Brokered requests (DESIGN.md §3): a connected-organization user who is not yet in the resource tenant
// cannot file a delegated request, so the bot reads the policy with the app's identity, runs its approval
// stages itself with the policy's approver rules, records every decision in its audit log and, on final
// approval, files adminAdd for the user's email address and connected organization. Entra creates the guest
// on delivery; guest.go then walks the user through the invitation.
//
// The brokered record (lifecycle.Brokered, a Kind brokered request record of the store) is the source of
// truth; the lifecycle core reads it as a Tracked record (its Mirror, closed, so the tracker never polls it) so
// the request/approve flows' card builders, approval card delivery and status refresh work on brokered
// requests unchanged. Every change of a record happens under the cross-replica lock "brk:<id>" (Core.Lock).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/accessbot/accessbot/internal/lifecycle"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/accessbot/accessbot/cards"
	"github.com/accessbot/accessbot/internal/botframework"
	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/i18n"
	"github.com/accessbot/accessbot/internal/store"
)

// Outbox kinds of the brokered flow.
const (
	// OutboxBrokeredCards re-renders every stored card copy of a brokered request and updates it in place.
	OutboxBrokeredCards = "bot.brokered.cards"
	// OutboxBrokeredFollow follows a brokered request after approval: the adminAdd request's delivery, the
	// guest's invitation, acceptance and the end of their access. It re-enqueues itself with backoff.
	OutboxBrokeredFollow = "bot.brokered.follow"

	// brokeredPrefix starts every brokered request id (Graph's request ids are GUIDs).
	brokeredPrefix = lifecycle.BrokeredPrefix
)

// eachBrokered calls fn for every brokered request's record (lifecycle.Core.ListBrokered), oldest first; fn's
// error stops the walk.
func (b *Bot) eachBrokered(ctx context.Context, fn func(br *brokeredRequest) error) error {
	all, err := b.core.ListBrokered(ctx)
	if err != nil {
		return err
	}
	for _, br := range all {
		if err := fn(br); err != nil {
			return err
		}
	}
	return nil
}

// ---- submit ----

// brokeredSubmit records a brokered request (validated input), starts its first stage (approval cards to
// the stage's approvers) and returns the requester's status card plus the request key under which the
// status card's CardRef must be stored.
func (b *Bot) brokeredSubmit(ctx context.Context, t *turn, md modeDecision, in entitlement.NewRequest) (*cards.Card, string, error) {
	if md.Mode != cards.ModeBrokered || md.OrgID == "" || !md.Allowed {
		return nil, "", fmt.Errorf("brokered request from tenant %s: %w", t.tenantID, entitlement.ErrNotEligible)
	}
	email := strings.TrimSpace(md.Email)
	if !looksLikeEmail(email) {
		return nil, "", entitlement.Invalid("email address", "is unknown: Teams did not tell me yours, and the invitation needs it; ask your contact to request access for you")
	}
	if in.Extend {
		return nil, "", entitlement.Invalid("request", "cannot extend a partner assignment from here; ask your contact to extend it")
	}
	if !guidRE.MatchString(in.PackageID) {
		return nil, "", entitlement.Invalid("package", fmt.Sprintf("%q is not an access package id", in.PackageID))
	}
	pkg, err := b.cfg.Entitlement.Package(ctx, in.PackageID)
	if err != nil {
		return nil, "", fmt.Errorf("read package %s: %w", in.PackageID, err)
	}
	if pkg.IsHidden {
		return nil, "", fmt.Errorf("package %s is hidden: %w", pkg.ID, entitlement.ErrNotEligible)
	}
	pols, err := b.brokeredPolicies(ctx, pkg.ID, md.OrgID)
	if err != nil {
		return nil, "", err
	}
	i := slices.IndexFunc(pols, func(p entitlement.Policy) bool { return in.PolicyID == "" || p.ID == in.PolicyID })
	if i < 0 {
		return nil, "", fmt.Errorf("policy %q of package %s does not admit %s: %w", in.PolicyID, pkg.ID, md.OrgName, entitlement.ErrNotEligible)
	}
	pol := pols[i]
	if err := validateBrokeredInput(pol, &in); err != nil {
		return nil, "", err
	}

	unlock, err := b.core.Lock(ctx, "brk-new:"+strings.ToLower(email)+"|"+pkg.ID)
	if err != nil {
		return nil, "", err
	}
	defer unlock()
	if err := b.checkBrokeredDuplicate(ctx, email, pkg.ID); err != nil {
		return nil, "", err
	}

	now := b.now()
	br := &brokeredRequest{
		ID: brokeredPrefix + newID(), PackageID: pkg.ID, PackageName: pkg.Name, PolicyID: pol.ID,
		Requester: brokeredRequester{TenantID: t.tenantID, ID: t.userID, Name: orUnknown(t.userName, email), Email: email,
			OrgID: md.OrgID, OrgName: md.OrgName},
		Answers: in.Answers, Justification: strings.TrimSpace(in.Justification), Schedule: in.Schedule,
		StageCount: len(pol.Stages), State: entitlement.StatePendingApproval, CreatedAt: now,
	}
	if !pol.ApprovalRequired || len(pol.Stages) == 0 {
		br.StageCount = 0
	}
	br.AddEvent(now, "Request submitted (run by AccessBot)")
	if br.StageCount > 0 {
		first, err := b.firstBrokeredApprovers(ctx, t, br, pol)
		if err != nil {
			return nil, "", err
		}
		br.Stages = []brokeredStage{first}
		br.AddEvent(now, "Waiting for "+lifecycle.NamesOf(first.Approvers))
	}
	if err := b.core.SaveBrokered(ctx, br); err != nil {
		return nil, "", err
	}
	b.auditTurn(ctx, t, store.AuditEntry{Action: "request.submit", Mode: store.ModeBrokered, RequestID: br.ID,
		PackageID: br.PackageID, PackageName: br.PackageName, SubjectID: br.Requester.ID, SubjectName: br.Requester.Name,
		Outcome: "submitted", Details: map[string]string{"email": email, "org": md.OrgID, "policy": pol.ID}})
	t.log.InfoContext(ctx, "brokered request submitted", "request", br.ID, "package", pkg.ID, "org", md.OrgID)

	if br.StageCount == 0 {
		b.fileBrokered(ctx, br, nil)
		if err := b.core.SaveBrokered(ctx, br); err != nil {
			return nil, "", err
		}
	} else {
		b.sendStageCards(ctx, br, "")
		b.scheduleFollow(ctx, br, b.stageWake(br, pol))
		if err := b.core.SaveBrokered(ctx, br); err != nil {
			return nil, "", err
		}
	}
	return cards.RequestStatus(t.loc, b.brokeredStatusView(ctx, br)), br.ID, nil
}

var simpleEmailRE = regexp.MustCompile(`^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$`)

func looksLikeEmail(s string) bool { return simpleEmailRE.MatchString(s) }

// validateBrokeredInput checks the input against the policy (the form validated it already; the bot runs
// this policy itself, so it checks again) and fills in question texts.
func validateBrokeredInput(pol entitlement.Policy, in *entitlement.NewRequest) error {
	if pol.RequestorJustificationRequired && strings.TrimSpace(in.Justification) == "" {
		return entitlement.Invalid("justification", "is required by this policy")
	}
	if len([]rune(in.Justification)) > maxJustifyLen {
		return entitlement.Invalid("justification", fmt.Sprintf("is too long (at most %d characters)", maxJustifyLen))
	}
	if (!in.Schedule.Start.IsZero() || in.Schedule.Expiration.Type != "") && !pol.CustomScheduleAllowed {
		return entitlement.Invalid("schedule", "cannot be chosen: this policy sets the dates itself")
	}
	for _, q := range pol.Questions {
		i := slices.IndexFunc(in.Answers, func(a entitlement.Answer) bool { return a.QuestionID == q.ID })
		val := ""
		if i >= 0 {
			val = strings.TrimSpace(in.Answers[i].Value)
			if in.Answers[i].QuestionText == "" {
				in.Answers[i].QuestionText = q.Text
			}
		}
		field := "answers[" + q.Text + "]"
		if val == "" {
			if q.Required {
				return entitlement.Invalid(field, "is required")
			}
			continue
		}
		if q.Regex != "" {
			re, err := regexp.Compile(q.Regex)
			if err == nil && !re.MatchString(val) {
				return entitlement.Invalid(field, "must match "+q.Regex)
			}
		}
		if len(q.Choices) > 0 {
			for _, v := range strings.Split(val, ",") {
				if !slices.ContainsFunc(q.Choices, func(c entitlement.Choice) bool { return c.Value == strings.TrimSpace(v) }) {
					return entitlement.Invalid(field, fmt.Sprintf("%q is not one of the choices", v))
				}
			}
		}
	}
	for _, a := range in.Answers {
		if !slices.ContainsFunc(pol.Questions, func(q entitlement.Question) bool { return q.ID == a.QuestionID }) {
			return entitlement.Invalid("answers["+a.QuestionID+"]", "answers a question this policy does not ask")
		}
	}
	return nil
}

// checkBrokeredDuplicate refuses a second request for the same email and package: an open brokered request,
// an open request in Entra for that address, or an assignment it already holds.
func (b *Bot) checkBrokeredDuplicate(ctx context.Context, email, packageID string) error {
	dup := false
	err := b.eachBrokered(ctx, func(br *brokeredRequest) error {
		if br.PackageID == packageID && strings.EqualFold(br.Requester.Email, email) && br.Open() {
			dup = true
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("look for open brokered requests: %w", err)
	}
	if dup {
		return fmt.Errorf("brokered request for %s: %w", packageID, entitlement.ErrAlreadyRequested)
	}
	as, err := b.cfg.Entitlement.Assignments(ctx, entitlement.AssignmentFilter{PackageID: packageID,
		States: []entitlement.AssignmentState{entitlement.AssignmentDelivered, entitlement.AssignmentDelivering, entitlement.AssignmentPartiallyDelivered}})
	if err != nil {
		return fmt.Errorf("look for assignments of package %s: %w", packageID, err)
	}
	for _, a := range as {
		if strings.EqualFold(a.Target.Email, email) || strings.EqualFold(a.Target.PrincipalName, email) {
			return fmt.Errorf("assignment %s of package %s: %w", a.ID, packageID, entitlement.ErrAlreadyAssigned)
		}
	}
	return nil
}

// brokeredApprovalSummary names the people who will decide a partner user's request, stage by stage
// ("Patti Fernandez or Fiona Partner"), as the status card later does; "" when nobody can be named.
func (b *Bot) brokeredApprovalSummary(ctx context.Context, t *turn, pol entitlement.Policy) string {
	if !pol.ApprovalRequired || len(pol.Stages) == 0 {
		return ""
	}
	md, err := b.requestMode(ctx, t)
	if err != nil || md.OrgID == "" {
		return ""
	}
	br := &brokeredRequest{Requester: brokeredRequester{TenantID: t.tenantID, ID: t.userID, OrgID: md.OrgID, OrgName: md.OrgName}}
	var stages []string
	for _, st := range pol.Stages {
		var names []string
		people, err := b.brokeredApprovers(ctx, br, st, false)
		if err != nil {
			return ""
		}
		for _, p := range people {
			if p.Name != "" && !slices.Contains(names, p.Name) {
				names = append(names, p.Name)
			}
		}
		if len(names) == 0 {
			return ""
		}
		stages = append(stages, strings.Join(names, " or "))
	}
	return strings.Join(stages, ", then ")
}

// brokeredApprovers resolves a stage's approvers with the policy's rules (the tracker's resolver), minus the
// requester; requestorManager does not apply to a partner user, so its fallback approvers apply. External
// sponsors who are users of the partner tenant are reached in that tenant.
func (b *Bot) brokeredApprovers(ctx context.Context, br *brokeredRequest, st entitlement.Stage, escalation bool) ([]personRef, error) {
	view := br.Mirror()
	view.RequestorID = "" // no manager in the resource tenant; sponsors come from RequestorOrgID
	people, rerr := b.core.ResolveApprovers(ctx, view, st, escalation)
	sets := slices.Concat(st.PrimaryApprovers, st.FallbackPrimaryApprovers)
	if escalation {
		sets = slices.Concat(st.EscalationApprovers, st.FallbackEscalationApprovers)
	}
	var external []entitlement.User
	if slices.ContainsFunc(sets, func(s entitlement.SubjectSet) bool { return s.Kind == entitlement.SetExternalSponsors }) {
		if sp, err := b.cfg.Entitlement.Sponsors(ctx, br.Requester.OrgID); err == nil {
			external = sp.External
		}
	}
	out := people[:0]
	for _, p := range people {
		if strings.EqualFold(p.ID, br.Requester.ID) {
			continue
		}
		if i := slices.IndexFunc(external, func(u entitlement.User) bool { return strings.EqualFold(u.ID, p.ID) }); i >= 0 &&
			!external[i].IsGuest() && strings.EqualFold(p.TenantID, b.cfg.Tenant.ID) {
			// A partner-tenant account (not a guest here): its chat with the bot is in the partner tenant.
			p.TenantID = br.Requester.TenantID
			p.TeamsID = ""
			if ref, err := b.cfg.Store.Conversation(ctx, p.TenantID, p.ID); err == nil {
				p.TeamsID = ref.UserID
			}
		}
		out = append(out, p)
	}
	if len(out) == 0 && rerr == nil && len(people) > 0 {
		rerr = lifecycle.ErrOnlyRequester // the rules named only the requester (matched by id here)
	}
	return out, rerr
}

// sendStageCards queues the current stage's approval card to each approver (the approve flow's delivery).
// note is an optional banner (escalation, reminder); every card carries the brokered footnote ("AccessBot
// ran this approval") because the request's mode is brokered.
func (b *Bot) sendStageCards(ctx context.Context, br *brokeredRequest, note string, only ...personRef) {
	cur := br.Current()
	if cur == nil {
		return
	}
	to := cur.Approvers
	if len(only) > 0 {
		to = only
	}
	for _, p := range to {
		b.enqueue(ctx, OutboxApprovalCard, approvalCardJob{RequestID: br.ID, Stage: cur.Index, Approver: p, Note: note})
	}
}

// stageWake is how long until the current stage's next deadline (escalation or automatic denial), between
// PollInterval and PollMax; PollMax when the stage has none.
func (b *Bot) stageWake(br *brokeredRequest, pol entitlement.Policy) time.Duration {
	wake := b.cfg.PollMax
	cur := br.Current()
	if cur == nil || cur.Index > len(pol.Stages) {
		return wake
	}
	st := pol.Stages[cur.Index-1]
	now := b.now()
	consider := func(iso string) {
		if d, err := lifecycle.ParseISODuration(iso); err == nil && d > 0 {
			wake = min(wake, cur.StartedAt.Add(d).Sub(now))
		}
	}
	consider(st.DurationBeforeAutomaticDenial)
	if st.EscalationEnabled && !cur.Escalated {
		consider(st.DurationBeforeEscalation)
	}
	wake = min(wake, cur.StartedAt.Add(b.cfg.ReminderAfter).Sub(now))
	if !cur.RemindedAt.IsZero() {
		wake = min(wake, cur.RemindedAt.Add(b.cfg.ReminderAfter).Sub(now))
	}
	return max(wake, b.cfg.PollInterval)
}

// checkBrokeredStage applies the current stage's clock rules the way Entra would: after
// durationBeforeEscalation the escalation approvers are asked too; after durationBeforeAutomaticDenial the
// request is denied; every ReminderAfter the approvers are reminded. It reports whether anything changed.
func (b *Bot) checkBrokeredStage(ctx context.Context, br *brokeredRequest, pol entitlement.Policy) bool {
	cur := br.Current()
	if cur == nil || cur.Index > len(pol.Stages) {
		return false
	}
	st := pol.Stages[cur.Index-1]
	now := b.now()
	if d, err := lifecycle.ParseISODuration(st.DurationBeforeAutomaticDenial); err == nil && d > 0 && !now.Before(cur.StartedAt.Add(d)) {
		br.State = entitlement.StateDenied
		br.Reason = fmt.Sprintf("The request expired: nobody decided within %s.", lifecycle.HumanizeDuration(d))
		br.AddEvent(now, "Expired: nobody decided in time")
		br.Done = true
		b.auditSystemAt(ctx, br, "approval.timeout", "denied", map[string]string{"stage": fmt.Sprint(cur.Index)})
		return true
	}
	since := cur.StartedAt
	if cur.RemindedAt.After(since) {
		since = cur.RemindedAt
	}
	if !now.Before(since.Add(b.cfg.ReminderAfter)) {
		cur.RemindedAt = now
		br.AddEvent(now, "Approvers reminded")
		b.sendStageCards(ctx, br, fmt.Sprintf("Reminder: this request has been waiting for your decision for %s.", lifecycle.HumanizeDuration(now.Sub(cur.StartedAt))))
		return true
	}
	if !st.EscalationEnabled || cur.Escalated {
		return false
	}
	d, err := lifecycle.ParseISODuration(st.DurationBeforeEscalation)
	if err != nil || d <= 0 || now.Before(cur.StartedAt.Add(d)) {
		return false
	}
	esc, err := b.brokeredApprovers(ctx, br, st, true)
	if errors.Is(err, entitlement.ErrUnavailable) && len(esc) == 0 {
		return false // Graph could not say who: the next follow-up tries again
	}
	cur.Escalated = true
	var added []personRef
	for _, p := range esc {
		if slices.ContainsFunc(cur.Approvers, func(q personRef) bool { return strings.EqualFold(q.ID, p.ID) }) {
			continue
		}
		p.Escalation = true
		cur.Approvers = append(cur.Approvers, p)
		added = append(added, p)
	}
	if len(added) == 0 {
		return false
	}
	br.AddEvent(now, "Escalated to "+lifecycle.NamesOf(added))
	b.auditSystemAt(ctx, br, "approval.escalate", "escalated", map[string]string{"stage": fmt.Sprint(cur.Index), "to": lifecycle.NamesOf(added)})
	b.sendStageCards(ctx, br, fmt.Sprintf("Escalated to you: nobody decided within %s.", lifecycle.HumanizeDuration(d)), added...)
	return true
}

// firstBrokeredApprovers is stage 1 of a new brokered request with its approvers. When the rules name
// only the requester, the stage's escalation approvers are asked at once (nobody else could act before).
// Graph failing to say who approves is ErrUnavailable (nothing is filed); nobody at all is a clear
// invalid-input error for the requester.
func (b *Bot) firstBrokeredApprovers(ctx context.Context, t *turn, br *brokeredRequest, pol entitlement.Policy) (brokeredStage, error) {
	st := brokeredStage{Index: 1, StartedAt: b.now()}
	approvers, err := b.brokeredApprovers(ctx, br, pol.Stages[0], false)
	if errors.Is(err, lifecycle.ErrOnlyRequester) {
		var eerr error
		if approvers, eerr = b.brokeredApprovers(ctx, br, pol.Stages[0], true); len(approvers) > 0 {
			st.Escalated = true
			for i := range approvers {
				approvers[i].Escalation = true
			}
		} else if errors.Is(eerr, entitlement.ErrUnavailable) {
			err = eerr
		}
	}
	st.Approvers = approvers
	switch {
	case len(approvers) > 0:
		return st, nil
	case errors.Is(err, entitlement.ErrUnavailable):
		return st, fmt.Errorf("find the approvers of policy %s: %w", pol.ID, err)
	case errors.Is(err, lifecycle.ErrOnlyRequester):
		return st, entitlement.Invalid("approvers", "of this policy are only you, and nobody can approve their own request; ask your contact to add another approver")
	}
	t.log.ErrorContext(ctx, "brokered request has no approver", "package", br.PackageID, "policy", pol.ID)
	return st, entitlement.Invalid("approvers", "could not be found for this policy (no sponsor or approver is set); ask your contact to check the connected organization's sponsors")
}

// brokeredDecisionUnavailable answers a brokered Approve/Deny when Graph could not say who approves: the card
// says Microsoft Graph is unavailable and nothing changed, the audit records an error (not a refusal), and
// the decision is not recorded, so the same click works after recovery.
func (b *Bot) brokeredDecisionUnavailable(ctx context.Context, t *turn, br *brokeredRequest, stage int,
	auditEntry func(string, map[string]string) store.AuditEntry, err error) (*botframework.InvokeResponse, bool, error) {
	t.log.WarnContext(ctx, "brokered decision: approvers could not be resolved", "request", br.ID, "stage", stage, "err", err)
	b.auditTurn(ctx, t, auditEntry("error", map[string]string{"stage": fmt.Sprint(stage), "reason": "approvers could not be resolved (Microsoft Graph unavailable)"}))
	resp, ferr := b.failure(ctx, t, "I couldn't record your decision", fmt.Errorf("resolve approvers of stage %d of %s: %w", stage, br.ID, err), "approvals")
	return resp, true, ferr
}

// ---- decisions ----

// brokeredDecision handles approval.approve/deny/refresh for a brokered request (data carries requestId).
// handled=false means the request is not brokered and the delegated path applies.
func (b *Bot) brokeredDecision(ctx context.Context, t *turn, data map[string]any, result entitlement.ReviewResult) (*botframework.InvokeResponse, bool, error) {
	id := str(data, cards.KeyRequestID)
	if !strings.HasPrefix(id, brokeredPrefix) || !validID(id) {
		return nil, false, nil
	}
	unlock, err := b.core.Lock(ctx, "brk:"+id)
	if err != nil {
		return nil, true, err
	}
	defer unlock()
	br, err := b.core.GetBrokered(ctx, id)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			resp, aerr := b.answer(ctx, t, cards.Notice(t.loc, cards.NoticeView{Kind: noticeWarning, Title: "Nothing to decide",
				Text: "I don't know this request any more. Nothing was changed."}))
			return resp, true, aerr
		}
		return nil, true, err
	}
	want := stageFromToken(str(data, cards.KeyStageID))
	cur := br.Current()
	if want == 0 {
		want = len(br.Stages)
		if cur != nil {
			want = cur.Index
		}
	}
	verb := "approve"
	if result == entitlement.ReviewDeny {
		verb = "deny"
	}
	auditEntry := func(outcome string, details map[string]string) store.AuditEntry {
		return store.AuditEntry{Action: "approval." + verb, Mode: store.ModeBrokered, RequestID: br.ID, PackageID: br.PackageID,
			PackageName: br.PackageName, SubjectID: br.Requester.ID, SubjectName: br.Requester.Name, Outcome: outcome, Details: details}
	}
	if cur != nil {
		// A deadline may have passed since the follow-up last looked: apply the stage's clock rules first.
		if pol, err := b.cfg.Entitlement.Policy(ctx, br.PolicyID); err == nil && b.checkBrokeredStage(ctx, br, pol) {
			if err := b.core.SaveBrokered(ctx, br); err != nil {
				return nil, true, err
			}
			b.updateBrokeredCards(ctx, br.ID, t.act.ReplyToID)
			b.notifyBrokeredRequester(ctx, br)
			cur = br.Current()
		}
	}
	if !b.mayViewBrokered(ctx, br, t.userID) {
		// A tampered requestId, or a card in the wrong hands: nothing about the request is shown.
		t.log.WarnContext(ctx, "brokered approval action by a user with no part in the request", "request", br.ID)
		if result != "" {
			b.auditTurn(ctx, t, auditEntry("refused-not-approver", map[string]string{"reason": "no part in the request"}))
		}
		resp, err := b.answer(ctx, t, cards.Notice(t.loc, cards.NoticeView{Kind: noticeWarning, Title: "Nothing to decide",
			Text:        "You are not an approver of this request, so I can't show it to you. Nothing was changed.",
			Suggestions: []cards.Suggestion{{Title: "My approvals", Command: "approvals"}}}))
		return resp, true, err
	}
	if result == "" { // refresh / open: this user's own view
		b.storeApproverCard(ctx, t, br.ID, want)
		resp, err := b.answer(ctx, t, b.brokeredApproverCard(ctx, t.loc, br, want, t.userID, "", ""))
		return resp, true, err
	}
	if cur == nil || want != cur.Index {
		// Decided (by someone else, or this user's second click) or closed.
		v := b.brokeredDecidedView(br, want, t.userID)
		v.AlreadyDecided = !v.ByYou && (v.Outcome != cards.DecisionNotReviewed && v.Outcome != "" || v.Closed != cards.ClosureNone)
		if s := br.StageAt(want); s != nil && s.Decision != "" && !strings.EqualFold(s.By, t.userID) {
			b.auditTurn(ctx, t, auditEntry("already-decided", map[string]string{"stage": fmt.Sprint(want), "decidedBy": s.ByName}))
		}
		b.storeApproverCard(ctx, t, br.ID, want)
		resp, err := b.answer(ctx, t, cards.ApprovalDecided(t.loc, v))
		return resp, true, err
	}
	pol, err := b.cfg.Entitlement.Policy(ctx, br.PolicyID)
	if err != nil {
		resp, ferr := b.failure(ctx, t, "I couldn't record your decision", fmt.Errorf("read policy %s: %w", br.PolicyID, err), "approvals")
		return resp, true, ferr
	}
	if cur.Index > len(pol.Stages) {
		resp, ferr := b.failure(ctx, t, "I couldn't record your decision",
			fmt.Errorf("policy %s has %d stages, request %s is at stage %d: %w", pol.ID, len(pol.Stages), br.ID, cur.Index, entitlement.ErrConflict), "approvals")
		return resp, true, ferr
	}
	st := pol.Stages[cur.Index-1]
	// The approver set is resolved again, app-only: a sponsor removed since the card went out can't decide.
	approvers, aerr := b.brokeredApprovers(ctx, br, st, false)
	if cur.Escalated {
		esc, eerr := b.brokeredApprovers(ctx, br, st, true)
		approvers = append(approvers, esc...)
		if eerr != nil && !errors.Is(aerr, entitlement.ErrUnavailable) {
			aerr = eerr
		}
	}
	isRequester := strings.EqualFold(t.userID, br.Requester.ID) && strings.EqualFold(t.tenantID, br.Requester.TenantID)
	isApprover := slices.ContainsFunc(approvers, func(p personRef) bool { return strings.EqualFold(p.ID, t.userID) })
	if !isRequester && !isApprover && errors.Is(aerr, entitlement.ErrUnavailable) {
		// Graph could not say who approves: that is no verdict about this person. Nothing is recorded; the
		// same click works once Graph answers again.
		return b.brokeredDecisionUnavailable(ctx, t, br, cur.Index, auditEntry, aerr)
	}
	if isRequester || !isApprover {
		t.log.WarnContext(ctx, "brokered decision by a user who is not an approver", "request", br.ID, "stage", cur.Index, "requester", isRequester)
		b.auditTurn(ctx, t, auditEntry("refused-not-approver", map[string]string{"stage": fmt.Sprint(cur.Index)}))
		v := b.brokeredDecidedView(br, cur.Index, t.userID)
		v.NotApprover = true
		resp, err := b.answer(ctx, t, cards.ApprovalDecided(t.loc, v))
		return resp, true, err
	}
	just := str(data, cards.InputJustification)
	if just == "" && st.ApproverJustificationRequired {
		resp, err := b.answer(ctx, t, b.brokeredApproverCard(ctx, t.loc, br, cur.Index, t.userID, "A justification is required to approve or deny this request.", just))
		return resp, true, err
	}
	if len([]rune(just)) > maxJustifyLen {
		resp, err := b.answer(ctx, t, b.brokeredApproverCard(ctx, t.loc, br, cur.Index, t.userID,
			fmt.Sprintf("The justification is too long (at most %d characters).", maxJustifyLen), just))
		return resp, true, err
	}

	var nextApprovers []personRef
	var nextErr error
	if result == entitlement.ReviewApprove && cur.Index < br.StageCount && cur.Index < len(pol.Stages) {
		// Who approves next is known before anything is recorded: an approval is all or nothing.
		nextApprovers, nextErr = b.brokeredApprovers(ctx, br, pol.Stages[cur.Index], false)
		if errors.Is(nextErr, entitlement.ErrUnavailable) && len(nextApprovers) == 0 {
			return b.brokeredDecisionUnavailable(ctx, t, br, cur.Index, auditEntry, nextErr)
		}
	}

	now := b.now()
	cur.Decision, cur.By, cur.ByName, cur.At, cur.Justification = result, t.userID, orUnknown(t.userName, t.userID), now, just
	stageIdx := cur.Index
	switch {
	case result == entitlement.ReviewDeny:
		br.State = entitlement.StateDenied
		br.AddEvent(now, "Denied by "+cur.ByName)
		br.Done = true
	case stageIdx < br.StageCount && stageIdx < len(pol.Stages):
		next := brokeredStage{Index: stageIdx + 1, StartedAt: now, Approvers: nextApprovers}
		br.AddEvent(now, fmt.Sprintf("Stage %d approved by %s", stageIdx, cur.ByName))
		if len(next.Approvers) == 0 {
			br.State, br.Reason = entitlement.StateDenied, "Nobody can approve the next stage (no approver is set); ask your contact."
			if errors.Is(nextErr, lifecycle.ErrOnlyRequester) {
				br.Reason = "The only approver of the next stage is you, and nobody can approve their own request; ask your contact to add another approver."
			}
			br.AddEvent(now, "Stopped: no approver for the next stage")
			br.Done = true
		} else {
			br.Stages = append(br.Stages, next)
			br.AddEvent(now, fmt.Sprintf("Stage %d of %d: waiting for %s", next.Index, br.StageCount, lifecycle.NamesOf(next.Approvers)))
		}
	default:
		br.AddEvent(now, "Approved by "+cur.ByName)
	}
	b.auditTurn(ctx, t, auditEntry(map[entitlement.ReviewResult]string{entitlement.ReviewApprove: "approved", entitlement.ReviewDeny: "denied"}[result],
		map[string]string{"stage": fmt.Sprint(stageIdx), "justification": just}))
	final := result == entitlement.ReviewApprove && br.State == entitlement.StatePendingApproval && br.Current() == nil
	if err := b.core.SaveBrokered(ctx, br); err != nil {
		return nil, true, err
	}
	if final {
		b.fileBrokered(ctx, br, t)
		if err := b.core.SaveBrokered(ctx, br); err != nil {
			return nil, true, err
		}
	} else {
		b.sendStageCards(ctx, br, "")
	}
	b.notifyBrokeredRequester(ctx, br)
	b.updateBrokeredCards(ctx, br.ID, t.act.ReplyToID)
	b.storeApproverCard(ctx, t, br.ID, stageIdx)
	v := b.brokeredDecidedView(br, stageIdx, t.userID)
	v.ByYou = true
	resp, err := b.answer(ctx, t, cards.ApprovalDecided(t.loc, v))
	return resp, true, err
}

// maxFileAttempts bounds how often the bot tries to file adminAdd when Graph fails transiently.
const maxFileAttempts = 5

// fileBrokered files adminAdd after the last approval (or at once when the policy needs none) and starts
// following it. When Graph fails transiently the follow-up tries again, first adopting a request the failed
// call may have created (a POST lost in transit must not assign twice). t is the approving turn (nil when
// the bot files on its own), for the audit entry.
func (b *Bot) fileBrokered(ctx context.Context, br *brokeredRequest, t *turn) {
	now := b.now()
	if br.ApprovedAt.IsZero() {
		br.ApprovedAt = now
	}
	br.FileAttempts++
	req, adopted, err := b.fileOrAdopt(ctx, br)
	entry := store.AuditEntry{Action: "assignment.adminAdd", Mode: store.ModeBrokered, RequestID: br.ID, PackageID: br.PackageID,
		PackageName: br.PackageName, SubjectID: br.Requester.ID, SubjectName: br.Requester.Name,
		Details: map[string]string{"email": br.Requester.Email, "org": br.Requester.OrgID, "policy": br.PolicyID,
			"attempt": fmt.Sprint(br.FileAttempts)}}
	switch {
	case err != nil && transientFailure(err) && br.FileAttempts < maxFileAttempts:
		b.log.WarnContext(ctx, "file brokered adminAdd; will retry", "request", br.ID, "attempt", br.FileAttempts, "err", err)
		br.FilePending = true
		br.State = entitlement.StateDelivering
		br.AddEvent(now, "Approved; assigning it is taking longer (retrying)")
		entry.Outcome = "retrying"
		entry.Details["error"] = entitlement.UserMessage(err)
		b.scheduleFollow(ctx, br, b.nextDelay(br, false))
	case err != nil:
		b.log.ErrorContext(ctx, "file brokered adminAdd", "request", br.ID, "attempt", br.FileAttempts, "err", err)
		br.FilePending = false
		br.State = entitlement.StateDeliveryFailed
		br.Reason = "Approved, but " + orUnknown(b.cfg.Tenant.Name, "the organization") + " could not assign it: " + entitlement.UserMessage(err) + "."
		br.AddEvent(now, "Approved, but the assignment could not be filed")
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
		br.AddEvent(now, "Approved; access is being delivered")
		entry.Outcome = "filed"
		if adopted {
			entry.Outcome = "found"
		}
		entry.Details["graphRequest"] = req.ID
		b.scheduleFollow(ctx, br, 0)
	}
	if t != nil {
		b.auditTurn(ctx, t, entry)
	} else {
		entry.Time = now
		entry.ActorName = b.cfg.BotName
		b.appendAudit(ctx, entry)
	}
}

// fileOrAdopt files adminAdd; on a retry it first looks for the adminAdd request an earlier, failed attempt
// may have created (same package and target address, filed since the approval) and adopts it.
func (b *Bot) fileOrAdopt(ctx context.Context, br *brokeredRequest) (entitlement.Request, bool, error) {
	if br.FileAttempts > 1 {
		reqs, err := b.cfg.Entitlement.Requests(ctx, entitlement.RequestFilter{PackageID: br.PackageID})
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
	req, err := b.cfg.Entitlement.AdminAdd(ctx, entitlement.AdminAddInput{PackageID: br.PackageID, PolicyID: br.PolicyID,
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

// notifyBrokeredRequester tells the partner user what changed (their status card is updated too).
func (b *Bot) notifyBrokeredRequester(ctx context.Context, br *brokeredRequest) {
	pkg := orUnknown(br.PackageName, "your access package")
	var text string
	last := br.Stages
	var by string
	if len(last) > 0 && last[len(last)-1].Decision != "" {
		by = " by " + last[len(last)-1].ByName
	} else if len(last) > 1 {
		by = " by " + last[len(last)-2].ByName
	}
	switch br.State {
	case entitlement.StatePendingApproval:
		if cur := br.Current(); cur != nil && cur.Index > 1 {
			text = fmt.Sprintf("Stage %d of your request for %s was approved%s; now waiting for %s.", cur.Index-1, pkg, by, lifecycle.NamesOf(cur.Approvers))
		}
	case entitlement.StateDenied:
		if len(last) > 0 && last[len(last)-1].Decision == entitlement.ReviewDeny {
			text = fmt.Sprintf("Your request for %s was denied%s.", pkg, by)
		} else {
			text = fmt.Sprintf("Your request for %s was stopped: %s", pkg, br.Reason)
		}
	case entitlement.StateDelivering, entitlement.StateDelivered:
		text = fmt.Sprintf("Your request for %s was approved%s. %s is adding you as a guest; I'll tell you how to get in.", pkg, by, orUnknown(b.cfg.Tenant.Name, "The organization"))
	case entitlement.StateDeliveryFailed:
		text = fmt.Sprintf("Your request for %s was approved but could not be delivered. %s", pkg, br.Reason)
	}
	if text == "" {
		return
	}
	b.enqueue(ctx, OutboxNotify, notifyJob{TenantID: br.Requester.TenantID, UserID: br.Requester.ID, Text: text})
}

// ---- cards ----

// brokeredStatusView is the requester's status card: the shared view plus the guest's invitation state.
func (b *Bot) brokeredStatusView(ctx context.Context, br *brokeredRequest) cards.RequestStatusView {
	v := b.statusView(ctx, br.Mirror())
	v.Mode = cards.ModeBrokered
	v.Cancelable = br.State == entitlement.StatePendingApproval
	if br.State == entitlement.StateDelivered && br.Guest.Waiting() {
		v.State = cards.StateDelivering
		v.WaitingForInvitation = true
		v.InviteRedeemURL = br.Guest.RedeemURL
	}
	if br.State == entitlement.StateDeliveryFailed || (br.State == entitlement.StateDenied && br.Reason != "") {
		v.Reason = br.Reason
	}
	return v
}

// brokeredApproverCard is one approver's copy of a stage's approval card: Approve/Deny while the stage waits
// for them, the read-only outcome otherwise.
func (b *Bot) brokeredApproverCard(ctx context.Context, l *i18n.Localizer, br *brokeredRequest, stage int, viewerID, errMsg, just string) *cards.Card {
	tr := br.Mirror()
	if cur := br.Current(); cur != nil && cur.Index == stage && tr.IsApprover(viewerID) {
		v := b.approvalView(ctx, tr, viewerID)
		v.Error, v.JustificationValue = errMsg, just
		v.Requester.OrgName = orUnknown(br.Requester.OrgName, v.Requester.OrgName)
		return cards.Approval(l, v)
	}
	v := b.brokeredDecidedView(br, stage, viewerID)
	if cur := br.Current(); cur != nil && cur.Index == stage {
		v.NotApprover = true
	}
	return cards.ApprovalDecided(l, v)
}

func (b *Bot) brokeredDecidedView(br *brokeredRequest, stage int, viewerID string) cards.ApprovalDecidedView {
	v := b.decidedView(br.Mirror(), stage, viewerID)
	v.RequesterOrg = orUnknown(br.Requester.OrgName, v.RequesterOrg)
	v.Mode = cards.ModeBrokered
	if v.Closed == cards.ClosureAutoDenied {
		v.Reason = br.Reason // the bot stopped it itself and knows why
	}
	return v
}

type brokeredCardsJob struct {
	RequestID string `json:"requestId"`
	// SkipActivityID is the card an invoke answers right now.
	SkipActivityID string `json:"skip,omitempty"`
}

// updateBrokeredCards queues an in-place update of every stored card of a brokered request.
func (b *Bot) updateBrokeredCards(ctx context.Context, id, skipActivityID string) {
	b.enqueue(ctx, OutboxBrokeredCards, brokeredCardsJob{RequestID: id, SkipActivityID: skipActivityID})
}

func (b *Bot) deliverBrokeredCards(ctx context.Context, raw json.RawMessage) error {
	var job brokeredCardsJob
	if err := json.Unmarshal(raw, &job); err != nil {
		return fmt.Errorf("decode brokered card update: %w", err)
	}
	br, err := b.core.GetBrokered(ctx, job.RequestID)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	}
	refs, err := b.cfg.Store.Cards(ctx, br.ID)
	if err != nil {
		return fmt.Errorf("list cards of brokered request %s: %w", br.ID, err)
	}
	var errs []error
	for _, ref := range refs {
		if job.SkipActivityID != "" && ref.ActivityID == job.SkipActivityID {
			continue
		}
		base, stage := parseCardKind(ref.Kind)
		var card *cards.Card
		switch base {
		case cardKindStatus:
			card = cards.RequestStatus(b.locFor(ctx, ref.TenantID, ref.AADObjectID), b.brokeredStatusView(ctx, br))
		case cardKindApproval:
			card = b.brokeredApproverCard(ctx, b.locFor(ctx, ref.TenantID, ref.AADObjectID), br, stage, ref.AADObjectID, "", "")
		default:
			continue
		}
		if err := b.updateCard(ctx, ref, card); err != nil {
			errs = append(errs, fmt.Errorf("update %s card of brokered request %s: %w", base, br.ID, err))
		}
	}
	return errors.Join(errs...)
}
