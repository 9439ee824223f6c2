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
	"strconv"
	"strings"

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
	OutboxBrokeredFollow = lifecycle.OutboxBrokeredFollow

	// brokeredPrefix starts every brokered request id (Graph's request ids are GUIDs).
	brokeredPrefix = lifecycle.BrokeredPrefix
)

// eachBrokered calls fn for every brokered request's record (lifecycle.Core.ListBrokered), oldest first; fn's
// error stops the walk.
func (b *Bot) eachBrokered(ctx context.Context, fn func(br *brokeredRequest) error) error {
	all, err := b.core.ListBrokered(ctx)
	return walkBrokered(all, err, fn)
}

// eachOpenBrokered is eachBrokered over the requests not closed yet (lifecycle.Core.OpenBrokered): enough for
// anything that looks for a request still waiting for approval.
func (b *Bot) eachOpenBrokered(ctx context.Context, fn func(br *brokeredRequest) error) error {
	all, err := b.core.OpenBrokered(ctx)
	return walkBrokered(all, err, fn)
}

func walkBrokered(all []*brokeredRequest, err error, fn func(br *brokeredRequest) error) error {
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
		return nil, "", userErr("", "brokered.noEmail").invalid("email address")
	}
	if in.Extend {
		return nil, "", userErr("", "brokered.noExtend").invalid("request")
	}
	if !guidRE.MatchString(in.PackageID) {
		return nil, "", userErr("", "brokered.badPackage", "ID", strconv.Quote(in.PackageID)).invalid("package")
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
	if err := lifecycle.ValidateBrokeredInput(pol, &in); err != nil {
		return nil, "", err
	}

	unlock, err := b.core.Lock(ctx, "brk-new:"+strings.ToLower(email)+"|"+pkg.ID)
	if err != nil {
		return nil, "", err
	}
	defer unlock()
	if err := b.core.CheckBrokeredDuplicate(ctx, email, pkg.ID); err != nil {
		return nil, "", err
	}

	br := &brokeredRequest{
		ID: brokeredPrefix + newID(), PackageID: pkg.ID, PackageName: pkg.Name, PolicyID: pol.ID,
		Requester: brokeredRequester{TenantID: t.tenantID, ID: t.userID, Name: orUnknown(t.userName, email), Email: email,
			OrgID: md.OrgID, OrgName: md.OrgName},
		Answers: in.Answers, Justification: strings.TrimSpace(in.Justification), Schedule: in.Schedule,
		State: entitlement.StatePendingApproval, CreatedAt: b.now(),
	}
	if err := b.core.StartBrokered(ctx, br, pol); err != nil {
		return nil, "", err
	}
	if err := b.core.SaveBrokered(ctx, br); err != nil {
		return nil, "", err
	}
	b.auditTurn(ctx, t, store.AuditEntry{Action: "request.submit", Mode: store.ModeBrokered, RequestID: br.ID,
		PackageID: br.PackageID, PackageName: br.PackageName, SubjectID: br.Requester.ID, SubjectName: br.Requester.Name,
		Outcome: "submitted", Details: map[string]string{"email": email, "org": md.OrgID, "policy": pol.ID}})
	t.log.InfoContext(ctx, "brokered request submitted", "request", br.ID, "package", pkg.ID, "org", md.OrgID)

	if br.StageCount == 0 {
		b.core.FileBrokered(ctx, br, nil)
		if err := b.core.SaveBrokered(ctx, br); err != nil {
			return nil, "", err
		}
	} else {
		b.core.QueueStageCards(ctx, br, lifecycle.Message{})
		b.core.ScheduleFollow(ctx, br, b.core.StageWake(br, pol))
		if err := b.core.SaveBrokered(ctx, br); err != nil {
			return nil, "", err
		}
	}
	return cards.RequestStatus(t.loc, b.brokeredStatusView(ctx, t.loc, br)), br.ID, nil
}

var simpleEmailRE = regexp.MustCompile(`^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$`)

func looksLikeEmail(s string) bool { return simpleEmailRE.MatchString(s) }

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
		people, err := b.core.BrokeredApprovers(ctx, br, st, false)
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
		stages = append(stages, t.loc.Or(names))
	}
	return strings.Join(stages, t.loc.T("approvers.then"))
}

// brokeredDecisionUnavailable answers a brokered Approve/Deny when Graph could not say who approves (the
// policy or an approver rule could not be read): the card
// says Microsoft Graph is unavailable and nothing changed, the audit records an error (not a refusal), and
// the decision is not recorded, so the same click works after recovery.
func (b *Bot) brokeredDecisionUnavailable(ctx context.Context, t *turn, br *brokeredRequest, stage int,
	auditEntry func(string, map[string]string) store.AuditEntry, err error) (*botframework.InvokeResponse, bool, error) {
	t.log.WarnContext(ctx, "brokered decision: approvers could not be resolved", "request", br.ID, "stage", stage, "err", err)
	b.auditTurn(ctx, t, auditEntry("error", map[string]string{"stage": fmt.Sprint(stage), "reason": "approvers could not be resolved (Microsoft Graph unavailable)"}))
	resp, ferr := b.failure(ctx, t, t.loc.T("fail.recordDecision"), fmt.Errorf("resolve approvers of stage %d of %s: %w", stage, br.ID, err), "approvals")
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
			resp, aerr := b.answer(ctx, t, requestGone(t.loc))
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
		return lifecycle.BrokeredAuditEntry(br, "approval."+verb, outcome, details)
	}
	if cur != nil {
		// A deadline may have passed since the follow-up last looked: apply the stage's clock rules first.
		if pol, err := b.cfg.Entitlement.Policy(ctx, br.PolicyID); err == nil && b.core.CheckBrokeredStage(ctx, br, pol) {
			if err := b.core.SaveBrokered(ctx, br); err != nil {
				return nil, true, err
			}
			b.updateBrokeredCards(ctx, br.ID, t.act.ReplyToID)
			b.core.NotifyBrokeredRequester(ctx, br)
			cur = br.Current()
		}
	}
	if !b.mayViewBrokered(ctx, br, t.userID) {
		// A tampered requestId, or a card in the wrong hands: nothing about the request is shown.
		t.log.WarnContext(ctx, "brokered approval action by a user with no part in the request", "request", br.ID)
		if result != "" {
			b.auditTurn(ctx, t, auditEntry("refused-not-approver", map[string]string{"reason": "no part in the request"}))
		}
		resp, err := b.answer(ctx, t, cards.Notice(t.loc, cards.NoticeView{Kind: noticeWarning, Title: t.loc.T("approve.nothing"),
			Text:        t.loc.T("approve.notApprover"),
			Suggestions: []cards.Suggestion{{Title: t.loc.T("approve.myApprovals"), Command: "approvals"}}}))
		return resp, true, err
	}
	if result == "" { // refresh / open: this user's own view
		b.storeApproverCard(ctx, t, br.ID, want)
		resp, err := b.answer(ctx, t, b.brokeredApproverCard(ctx, t.loc, br, want, t.userID, "", ""))
		return resp, true, err
	}
	if cur == nil || want != cur.Index {
		// Decided (by someone else, or this user's second click) or closed.
		v := b.brokeredDecidedView(t.loc, br, want, t.userID)
		v.AlreadyDecided = !v.ByYou && (v.Outcome != cards.DecisionNotReviewed && v.Outcome != "" || v.Closed != cards.ClosureNone)
		if s := br.StageAt(want); s != nil && s.Decision != "" && !strings.EqualFold(s.By, t.userID) {
			b.auditTurn(ctx, t, auditEntry("already-decided", map[string]string{"stage": fmt.Sprint(want), "decidedBy": s.ByName}))
		}
		b.storeApproverCard(ctx, t, br.ID, want)
		resp, err := b.answer(ctx, t, cards.ApprovalDecided(t.loc, v))
		return resp, true, err
	}
	return b.decideBrokeredStage(ctx, t, br, data, result, auditEntry)
}

// decideBrokeredStage records an Approve or Deny of br's current stage by the turn's user, once the policy and
// the stage's approvers (resolved again, app-only) say they may decide it and the justification passes; it
// answers with the read-only outcome. The caller holds Lock("brk:"+br.ID).
func (b *Bot) decideBrokeredStage(ctx context.Context, t *turn, br *brokeredRequest, data map[string]any, result entitlement.ReviewResult,
	auditEntry func(string, map[string]string) store.AuditEntry) (*botframework.InvokeResponse, bool, error) {
	cur := br.Current()
	pol, err := b.cfg.Entitlement.Policy(ctx, br.PolicyID)
	if err != nil {
		err = fmt.Errorf("read policy %s: %w", br.PolicyID, err)
		if errors.Is(err, entitlement.ErrUnavailable) {
			return b.brokeredDecisionUnavailable(ctx, t, br, cur.Index, auditEntry, err)
		}
		resp, ferr := b.failure(ctx, t, t.loc.T("fail.recordDecision"), err, "approvals")
		return resp, true, ferr
	}
	if cur.Index > len(pol.Stages) {
		resp, ferr := b.failure(ctx, t, t.loc.T("fail.recordDecision"),
			fmt.Errorf("policy %s has %d stages, request %s is at stage %d: %w", pol.ID, len(pol.Stages), br.ID, cur.Index, entitlement.ErrConflict), "approvals")
		return resp, true, ferr
	}
	st := pol.Stages[cur.Index-1]
	by := lifecycle.Actor{TenantID: t.tenantID, ID: t.userID, Name: t.userName}
	may, isRequester, aerr := b.core.MayDecideBrokered(ctx, br, st, by)
	if aerr != nil {
		// Graph could not say who approves: that is no verdict about this person. Nothing is recorded; the
		// same click works once Graph answers again.
		return b.brokeredDecisionUnavailable(ctx, t, br, cur.Index, auditEntry, aerr)
	}
	if !may {
		t.log.WarnContext(ctx, "brokered decision by a user who is not an approver", "request", br.ID, "stage", cur.Index, "requester", isRequester)
		b.auditTurn(ctx, t, auditEntry("refused-not-approver", map[string]string{"stage": fmt.Sprint(cur.Index)}))
		v := b.brokeredDecidedView(t.loc, br, cur.Index, t.userID)
		v.NotApprover = true
		resp, err := b.answer(ctx, t, cards.ApprovalDecided(t.loc, v))
		return resp, true, err
	}
	just := str(data, cards.InputJustification)
	if just == "" && st.ApproverJustificationRequired {
		resp, err := b.answer(ctx, t, b.brokeredApproverCard(ctx, t.loc, br, cur.Index, t.userID, t.loc.T("decide.justificationRequired"), just))
		return resp, true, err
	}
	if len([]rune(just)) > maxJustifyLen {
		resp, err := b.answer(ctx, t, b.brokeredApproverCard(ctx, t.loc, br, cur.Index, t.userID,
			t.loc.T("decide.justificationTooLong", "Max", maxJustifyLen), just))
		return resp, true, err
	}

	var nextApprovers []personRef
	var nextErr error
	if result == entitlement.ReviewApprove && cur.Index < br.StageCount && cur.Index < len(pol.Stages) {
		// Who approves next is known before anything is recorded: an approval is all or nothing.
		nextApprovers, nextErr = b.core.BrokeredApprovers(ctx, br, pol.Stages[cur.Index], false)
		if errors.Is(nextErr, entitlement.ErrUnavailable) && len(nextApprovers) == 0 {
			return b.brokeredDecisionUnavailable(ctx, t, br, cur.Index, auditEntry, nextErr)
		}
	}

	if err := b.core.DecideBrokered(ctx, br, pol, by, result, just, nextApprovers, nextErr); err != nil {
		return nil, true, err
	}
	stageIdx := cur.Index
	b.updateBrokeredCards(ctx, br.ID, t.act.ReplyToID)
	b.storeApproverCard(ctx, t, br.ID, stageIdx)
	v := b.brokeredDecidedView(t.loc, br, stageIdx, t.userID)
	v.ByYou = true
	resp, err := b.answer(ctx, t, cards.ApprovalDecided(t.loc, v))
	return resp, true, err
}

// ---- cards ----

// brokeredStatusView is the requester's status card: the shared view plus the guest's invitation state.
func (b *Bot) brokeredStatusView(ctx context.Context, l *i18n.Localizer, br *brokeredRequest) cards.RequestStatusView {
	v := b.statusView(ctx, l, br.Mirror())
	v.Mode = cards.ModeBrokered
	v.Cancelable = br.State == entitlement.StatePendingApproval
	if br.State == entitlement.StateDelivered && br.Guest.Waiting() {
		v.State = cards.StateDelivering
		v.WaitingForInvitation = true
		v.InviteRedeemURL = br.Guest.RedeemURL
	}
	if reason := brokeredReason(l, br); br.State == entitlement.StateDeliveryFailed || (br.State == entitlement.StateDenied && reason != "") {
		v.Reason = reason
	}
	return v
}

// brokeredApproverCard is one approver's copy of a stage's approval card: Approve/Deny while the stage waits
// for them, the read-only outcome otherwise.
func (b *Bot) brokeredApproverCard(ctx context.Context, l *i18n.Localizer, br *brokeredRequest, stage int, viewerID, errMsg, just string) *cards.Card {
	tr := br.Mirror()
	if cur := br.Current(); cur != nil && cur.Index == stage && tr.IsApprover(viewerID) {
		v := b.approvalView(ctx, l, tr, viewerID)
		v.Error, v.JustificationValue = errMsg, just
		v.Requester.OrgName = orUnknown(br.Requester.OrgName, v.Requester.OrgName)
		return cards.Approval(l, v)
	}
	v := b.brokeredDecidedView(l, br, stage, viewerID)
	if cur := br.Current(); cur != nil && cur.Index == stage {
		v.NotApprover = true
	}
	return cards.ApprovalDecided(l, v)
}

// brokeredReason is why the bot stopped a brokered request, in l's language ("" when it has none).
func brokeredReason(l *i18n.Localizer, br *brokeredRequest) string {
	return say(l, br.ReasonMsg, br.Reason)
}

func (b *Bot) brokeredDecidedView(l *i18n.Localizer, br *brokeredRequest, stage int, viewerID string) cards.ApprovalDecidedView {
	v := b.decidedView(l, br.Mirror(), stage, viewerID)
	v.RequesterOrg = orUnknown(br.Requester.OrgName, v.RequesterOrg)
	v.Mode = cards.ModeBrokered
	if v.Closed == cards.ClosureAutoDenied {
		v.Reason = brokeredReason(l, br) // the bot stopped it itself and knows why
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
			card = cards.RequestStatus(b.locFor(ctx, ref.TenantID, ref.AADObjectID), b.brokeredStatusView(ctx, b.locFor(ctx, ref.TenantID, ref.AADObjectID), br))
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
