package bot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/accessbot/accessbot/cards"
	"github.com/accessbot/accessbot/internal/botframework"
	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/i18n"
	"github.com/accessbot/accessbot/internal/lifecycle"
	"github.com/accessbot/accessbot/internal/store"
)

// The approver flow (DESIGN.md §1, §3 delegated mode): approval cards pushed to each stage's approvers, decisions
// made with the approver's own token, every copy of every card updated after a decision, the inbox.

func (b *Bot) registerApprover() {
	b.handle(&commandSpec{Name: "approvals", Aliases: []string{"inbox", "decisions"}, Run: b.cmdApprovals})
	b.onVerb(cards.VerbApprovalApprove, b.verbDecide(entitlement.ReviewApprove))
	b.onVerb(cards.VerbApprovalDeny, b.verbDecide(entitlement.ReviewDeny))
	b.onVerb(cards.VerbApprovalRefresh, b.verbApprovalView(false))
	b.onVerb(cards.VerbApprovalOpen, b.verbApprovalView(true))
}

// stageIndex returns the 1-based index of a stage in an approval (0 when absent).
func stageIndex(a entitlement.Approval, stageID string) int {
	for i, s := range a.Stages {
		if s.ID == stageID {
			return i + 1
		}
	}
	return 0
}

// cardStage is the stage an approval card was for: its "stage-<n>" token, or the index of its Graph stage id.
func cardStage(a entitlement.Approval, tok string) int {
	if n := stageFromToken(tok); n > 0 {
		return n
	}
	if tok == "" {
		return 0
	}
	return stageIndex(a, tok)
}

// stageOutcomeView is the read-only view of one stage as Graph reports it to the viewer.
func (b *Bot) stageOutcomeView(t *turn, tr *trackedRequest, a entitlement.Approval, stage int) cards.ApprovalDecidedView {
	v := b.decidedView(t.loc, tr, stage, t.userID)
	if stage < 1 || stage > len(a.Stages) {
		return v
	}
	s := a.Stages[stage-1]
	if lifecycle.Decided(s) {
		v.Outcome = cards.Decision(s.ReviewResult)
		v.DecidedBy = orUnknown(s.ReviewedBy.Name, v.DecidedBy)
		if !s.ReviewedAt.IsZero() {
			v.DecidedAt = s.ReviewedAt
		}
		if s.Justification != "" {
			v.Justification = s.Justification
		}
		v.ByYou = s.ReviewedBy.ID != "" && strings.EqualFold(s.ReviewedBy.ID, t.userID)
		v.Closed = cards.ClosureNone // a decision on the stage is its news (learnDecisions normally recorded it already)
	} else if s.Status == entitlement.StageExpired {
		v.Closed = cards.ClosureExpired
		v.Outcome = cards.DecisionDeny
		v.Next = ""
	}
	return v
}

// verbDecide handles Approve and Deny. The decision is made with the clicking user's own token; whatever the
// bot or Entra refuses (not an approver, a stage already decided, a stale card) changes nothing.
func (b *Bot) verbDecide(result entitlement.ReviewResult) verbHandler {
	verb := "approve"
	if result == entitlement.ReviewDeny {
		verb = "deny"
	}
	return func(ctx context.Context, t *turn, data map[string]any) (*botframework.InvokeResponse, error) {
		reqID := str(data, cards.KeyRequestID)
		if !validID(reqID) {
			t.log.WarnContext(ctx, "approval action without a valid request id", "verb", verb)
			return b.answer(ctx, t, cards.Notice(t.loc, cards.NoticeView{Kind: noticeError, Title: t.loc.T("approve.invalidCard"),
				Text: t.loc.T("approve.invalidCardText")}))
		}
		if resp, handled, err := b.brokeredDecision(ctx, t, data, result); err != nil || handled {
			return resp, err
		}
		d, err := b.delegated(ctx, t)
		if err != nil {
			return b.failure(ctx, t, t.loc.T("fail.recordDecision"), err, "approvals")
		}
		appr, err := d.Approval(ctx, reqID)
		if err != nil {
			return b.approvalUnreadable(ctx, t, reqID, str(data, cards.KeyStageID), err)
		}
		tr, err := b.core.Follow(ctx, reqID)
		if err != nil {
			return b.failure(ctx, t, t.loc.T("fail.recordDecision"), err, "approvals")
		}
		b.core.LearnDecisions(ctx, tr, appr)
		cur, open := appr.Current()
		curIdx := stageIndex(appr, cur.ID)
		want := cardStage(appr, str(data, cards.KeyStageID))
		if !open || (want != 0 && want != curIdx) {
			return b.stageNoLongerOpen(ctx, t, tr, appr, want, open)
		}
		if !cur.AssignedToMe {
			t.log.WarnContext(ctx, "decision by a user who is not an approver of the stage", "request", reqID, "stage", curIdx)
			v := b.decidedView(t.loc, tr, curIdx, t.userID)
			v.NotApprover = true
			return b.answer(ctx, t, cards.ApprovalDecided(t.loc, v))
		}
		b.core.NoteStageID(ctx, tr.ID, curIdx, cur.ID)
		just := str(data, cards.InputJustification)
		if just == "" && b.justificationRequired(ctx, tr, curIdx) {
			return b.answer(ctx, t, b.approverCardFor(ctx, t, tr, curIdx, t.loc.T("decide.justificationRequired"), just))
		}
		if len([]rune(just)) > maxJustifyLen {
			return b.answer(ctx, t, b.approverCardFor(ctx, t, tr, curIdx, t.loc.T("decide.justificationTooLong", "Max", maxJustifyLen), just))
		}
		err = d.DecideStage(ctx, reqID, cur.ID, entitlement.Decision{Result: result, Justification: just})
		var ad *entitlement.AlreadyDecidedError
		var ie *entitlement.InvalidInputError
		switch {
		case errors.As(err, &ad):
			return b.alreadyDecided(ctx, t, tr, curIdx, cur.ID, ad, verb)
		case errors.Is(err, entitlement.ErrNotApprover):
			v := b.decidedView(t.loc, tr, curIdx, t.userID)
			v.NotApprover = true
			return b.answer(ctx, t, cards.ApprovalDecided(t.loc, v))
		case errors.As(err, &ie):
			return b.answer(ctx, t, b.approverCardFor(ctx, t, tr, curIdx, capitalize(ie.Error())+".", just))
		case err != nil:
			return b.failure(ctx, t, t.loc.T("fail.recordDecision"), err, "approvals")
		}
		rec := decisionRecord{Stage: curIdx, StageID: cur.ID, ApproverID: t.userID, ApproverName: orUnknown(t.userName, t.userID),
			Result: result, At: b.now(), Justification: just}
		tr, first := b.core.RecordDecision(ctx, tr.ID, rec, true)
		if first {
			b.auditTurn(ctx, t, store.AuditEntry{Action: "approval." + verb, Mode: store.ModeDelegated, RequestID: tr.ID,
				PackageID: tr.PackageID, PackageName: tr.PackageName, SubjectID: tr.RequestorID, SubjectName: tr.RequestorName,
				Outcome: map[entitlement.ReviewResult]string{entitlement.ReviewApprove: "approved", entitlement.ReviewDeny: "denied"}[result],
				Details: map[string]string{"stage": fmt.Sprint(curIdx), "stageId": cur.ID, "justification": just}})
		} else {
			t.log.InfoContext(ctx, "decision already recorded for this approver (double click)", "request", reqID, "stage", curIdx)
		}
		return b.ownDecision(ctx, t, tr, curIdx, result)
	}
}

// approvalUnreadable answers a decision on an approval Graph would not read for the user: how the request
// ended when the bot knows (Graph hides the approvals of finished requests), "nothing to decide" when Graph
// shows them nothing, or the failure.
func (b *Bot) approvalUnreadable(ctx context.Context, t *turn, reqID, stageTok string, err error) (*botframework.InvokeResponse, error) {
	if !errors.Is(err, entitlement.ErrNotFound) && !errors.Is(err, entitlement.ErrForbidden) && !errors.Is(err, entitlement.ErrNotApprover) {
		return b.failure(ctx, t, t.loc.T("fail.recordDecision"), err, "approvals")
	}
	t.log.WarnContext(ctx, "decision on an approval the user cannot see", "request", reqID, "err", err)
	if v, ok := b.endedView(ctx, t, reqID, stageTok); ok {
		return b.answer(ctx, t, cards.ApprovalDecided(t.loc, v))
	}
	return b.answer(ctx, t, nothingToDecide(t.loc))
}

// stageNoLongerOpen answers a decision on a stage that no longer waits (decided, or the request ended): the
// outcome of stage want (the last decided stage when the card named none), as Graph shows it to the user.
func (b *Bot) stageNoLongerOpen(ctx context.Context, t *turn, tr *trackedRequest, appr entitlement.Approval, want int, open bool) (*botframework.InvokeResponse, error) {
	stage := want
	if stage == 0 {
		stage = lastDecidedStage(appr)
	}
	if !open {
		tr = b.core.CatchUp(ctx, tr)
	}
	v := b.stageOutcomeView(t, tr, appr, stage)
	v.AlreadyDecided = !v.ByYou && (v.Outcome != cards.DecisionNotReviewed || v.Closed != cards.ClosureNone)
	t.log.InfoContext(ctx, "decision on a stage no longer open", "request", tr.ID, "stage", stage)
	b.keepApproverCard(ctx, t, tr.ID, stage) // Graph shows them the approval
	return b.answer(ctx, t, cards.ApprovalDecided(t.loc, v))
}

// ownDecision answers the approver whose decision of stage was recorded (their click, or their other click
// of the same card): every other card copy is updated, the tracker reads the request soon.
func (b *Bot) ownDecision(ctx context.Context, t *turn, tr *trackedRequest, stage int, result entitlement.ReviewResult) (*botframework.InvokeResponse, error) {
	b.updateCards(ctx, tr.ID, t.act.ReplyToID)
	b.core.PollSoon(ctx, tr.ID)
	b.keepApproverCard(ctx, t, tr.ID, stage)
	v := b.decidedView(t.loc, tr, stage, t.userID)
	v.ByYou = true
	if result == entitlement.ReviewApprove && stage < tr.StageCount {
		v.Next = t.loc.T("decide.next", "Stage", stage+1, "Stages", tr.StageCount)
	}
	return b.answer(ctx, t, cards.ApprovalDecided(t.loc, v))
}

// alreadyDecided answers a decision Graph refused because the stage was decided already (409). When the
// decider is the clicking approver themselves (a double click whose two invokes raced to Graph), it is their
// own decision: answered as such and audited once, by the click that won. Otherwise the card says who decided
// and the refused attempt is audited.
func (b *Bot) alreadyDecided(ctx context.Context, t *turn, tr *trackedRequest, stage int, stageID string, ad *entitlement.AlreadyDecidedError, verb string) (*botframework.InvokeResponse, error) {
	rec := decisionRecord{Stage: stage, StageID: stageID, ApproverName: ad.By, Result: ad.Result, At: ad.At}
	tr, _ = b.core.RecordDecision(ctx, tr.ID, rec, false)
	if b.decidedByUser(tr, stage, ad, t) {
		t.log.InfoContext(ctx, "stage decided by this approver's other click", "request", tr.ID, "stage", stage)
		return b.ownDecision(ctx, t, tr, stage, orResult(ad.Result, tr, stage))
	}
	t.log.InfoContext(ctx, "stage already decided by someone else", "request", tr.ID, "stage", stage, "by", ad.By)
	b.updateCards(ctx, tr.ID, t.act.ReplyToID)
	b.core.PollSoon(ctx, tr.ID)
	v := b.decidedView(t.loc, tr, stage, t.userID)
	if v.DecidedBy == "" {
		v.DecidedBy = ad.By
	}
	if v.DecidedAt.IsZero() {
		v.DecidedAt = ad.At
	}
	if ad.Result != "" {
		v.Outcome = cards.Decision(ad.Result)
	}
	v.ByYou = false
	v.AlreadyDecided = true
	b.auditTurn(ctx, t, store.AuditEntry{Action: "approval." + verb, Mode: store.ModeDelegated, RequestID: tr.ID,
		PackageID: tr.PackageID, PackageName: tr.PackageName, SubjectID: tr.RequestorID, SubjectName: tr.RequestorName,
		Outcome: "already-decided", Details: map[string]string{"stage": fmt.Sprint(stage), "decidedBy": ad.By}})
	return b.answer(ctx, t, cards.ApprovalDecided(t.loc, v))
}

// decidedByUser reports whether the decision Graph says was already made (ad) is the turn's user's own: the
// record holds their decision made through the bot, or Graph names them.
func (b *Bot) decidedByUser(tr *trackedRequest, stage int, ad *entitlement.AlreadyDecidedError, t *turn) bool {
	if d, ok := tr.DecisionFor(stage); ok && d.ViaBot && strings.EqualFold(d.ApproverID, t.userID) {
		return true
	}
	by := strings.TrimSpace(ad.By)
	return by != "" && (strings.EqualFold(by, t.userID) || strings.EqualFold(by, strings.TrimSpace(t.userName)))
}

// orResult is r, or the result recorded for the stage when Graph did not say.
func orResult(r entitlement.ReviewResult, tr *trackedRequest, stage int) entitlement.ReviewResult {
	if r != "" {
		return r
	}
	d, _ := tr.DecisionFor(stage)
	return d.Result
}

// endedView is the read-only card of a tracked request that has ended, for a click on its approval card
// after Graph stopped showing the approval; ok is false when the bot does not track the request or it is
// still open (then nothing about it is shown).
func (b *Bot) endedView(ctx context.Context, t *turn, requestID, stageTok string) (cards.ApprovalDecidedView, bool) {
	tr, err := b.core.Get(ctx, requestID)
	if err != nil || !b.mayViewTracked(ctx, tr, t.userID) {
		return cards.ApprovalDecidedView{}, false
	}
	tr = b.core.CatchUp(ctx, tr)
	if tr.State == "" || tr.State.Open() {
		return cards.ApprovalDecidedView{}, false
	}
	stage := stageFromToken(stageTok)
	if stage == 0 {
		stage = 1
		if d, ok := tr.LastDecision(); ok {
			stage = d.Stage
		}
	}
	v := b.decidedView(t.loc, tr, stage, t.userID)
	v.AlreadyDecided = !v.ByYou
	return v, true
}

func lastDecidedStage(a entitlement.Approval) int {
	for i := len(a.Stages) - 1; i >= 0; i-- {
		if lifecycle.Decided(a.Stages[i]) || a.Stages[i].Status == entitlement.StageExpired || a.Stages[i].Status == entitlement.StageCompleted {
			return i + 1
		}
	}
	return max(len(a.Stages), 1)
}

// storeApproverCard records the card an invoke answers as one of the user's approval card copies, when the
// user may follow the request (mayViewApproval): a click with a tampered requestId never subscribes its
// sender to the updates of someone else's request.
func (b *Bot) storeApproverCard(ctx context.Context, t *turn, requestID string, stage int) {
	if t.act.Type != activityInvoke || stage < 1 {
		return
	}
	if !b.mayViewApproval(ctx, requestID, t.userID) {
		t.log.WarnContext(ctx, "approval card of a request the user has no part in not stored", "request", requestID)
		return
	}
	b.keepApproverCard(ctx, t, requestID, stage)
}

// keepApproverCard records the card an invoke answers as one of the user's approval card copies, for a user
// Graph shows the request's approval to (an approver of one of its stages).
func (b *Bot) keepApproverCard(ctx context.Context, t *turn, requestID string, stage int) {
	if t.act.Type != activityInvoke || stage < 1 {
		return
	}
	b.storeCard(ctx, requestID, cardKindApproval, stage, t.tenantID, t.userID, t.act.Conversation.ID, t.act.ServiceURL, t.act.ReplyToID)
}

// nothingToDecide answers an approval action of a user who has no part in the request (or a request Graph
// no longer shows them): it says nothing about the request.
func nothingToDecide(l *i18n.Localizer) *cards.Card {
	return cards.Notice(l, cards.NoticeView{Kind: noticeWarning, Title: l.T("approve.nothing"),
		Text:        l.T("approve.nothingText"),
		Suggestions: []cards.Suggestion{{Title: l.T("approve.myApprovals"), Command: "approvals"}}})
}

// mayViewApproval reports whether userID may see the approval cards of a request (tracked or brokered) and
// follow its updates: see mayViewTracked and mayViewBrokered. An unknown request is nobody's to see.
func (b *Bot) mayViewApproval(ctx context.Context, requestID, userID string) bool {
	if strings.HasPrefix(requestID, brokeredPrefix) {
		br, err := b.core.GetBrokered(ctx, requestID)
		return err == nil && b.mayViewBrokered(ctx, br, userID)
	}
	tr, err := b.core.Get(ctx, requestID)
	return err == nil && b.mayViewTracked(ctx, tr, userID)
}

// mayViewTracked reports whether userID has a part in a tracked request: its requester, an approver of the
// current stage, the maker of one of its decisions, or someone the bot already sent a card of it (the
// approvers of earlier stages). Graph's own answer (an approval it shows the user) is checked by callers.
func (b *Bot) mayViewTracked(ctx context.Context, tr *trackedRequest, userID string) bool {
	if userID == "" {
		return false
	}
	if strings.EqualFold(tr.RequestorID, userID) || tr.IsApprover(userID) {
		return true
	}
	for _, d := range tr.Decisions {
		if strings.EqualFold(d.ApproverID, userID) {
			return true
		}
	}
	return b.holdsCard(ctx, tr.ID, userID)
}

// mayViewBrokered reports whether userID has a part in a brokered request: its requester, an approver or
// decider of one of its stages, or someone the bot already sent a card of it.
func (b *Bot) mayViewBrokered(ctx context.Context, br *brokeredRequest, userID string) bool {
	if userID == "" {
		return false
	}
	if strings.EqualFold(br.Requester.ID, userID) {
		return true
	}
	for _, s := range br.Stages {
		if strings.EqualFold(s.By, userID) || slices.ContainsFunc(s.Approvers, func(p personRef) bool { return strings.EqualFold(p.ID, userID) }) {
			return true
		}
	}
	return b.holdsCard(ctx, br.ID, userID)
}

// holdsCard reports whether the bot stored a card of the request in userID's chat.
func (b *Bot) holdsCard(ctx context.Context, requestID, userID string) bool {
	refs, err := b.cfg.Store.Cards(ctx, requestID)
	if err != nil {
		b.log.WarnContext(ctx, "read card references", "request", requestID, "err", err)
		return false
	}
	return slices.ContainsFunc(refs, func(r store.CardRef) bool { return strings.EqualFold(r.AADObjectID, userID) })
}

// approverCardFor is the actionable approval card of a stage for the turn's user, with an error and the
// justification they typed.
func (b *Bot) approverCardFor(ctx context.Context, t *turn, tr *trackedRequest, stage int, errMsg, just string) *cards.Card {
	c := *tr
	c.Stage = stage
	if !c.IsApprover(t.userID) {
		c.Approvers = append(append([]personRef(nil), c.Approvers...), personRef{ID: t.userID, Name: t.userName, TeamsID: t.act.From.ID})
	}
	v := b.approvalView(ctx, t.loc, &c, t.userID)
	v.Error, v.JustificationValue = errMsg, just
	return cards.Approval(t.loc, v)
}

func (b *Bot) justificationRequired(ctx context.Context, tr *trackedRequest, stage int) bool {
	pol, err := b.cfg.Entitlement.Policy(ctx, tr.PolicyID)
	if err != nil || stage < 1 || stage > len(pol.Stages) {
		return false
	}
	return pol.Stages[stage-1].ApproverJustificationRequired
}

// verbApprovalView answers the automatic refresh, the Refresh button and the inbox's Open: each user sees their
// own view (buttons while the stage waits for them, the read-only outcome otherwise).
func (b *Bot) verbApprovalView(open bool) verbHandler {
	return func(ctx context.Context, t *turn, data map[string]any) (*botframework.InvokeResponse, error) {
		reqID := str(data, cards.KeyRequestID)
		if !validID(reqID) {
			return b.answer(ctx, t, cards.Notice(t.loc, cards.NoticeView{Kind: noticeError, Title: t.loc.T("approve.invalidCard"),
				Text: t.loc.T("approve.unknownRequest")}))
		}
		if resp, handled, err := b.brokeredDecision(ctx, t, data, ""); err != nil || handled {
			return resp, err
		}
		d, err := b.delegated(ctx, t)
		var appr entitlement.Approval
		if err == nil {
			appr, err = d.Approval(ctx, reqID)
		}
		want := stageFromToken(str(data, cards.KeyStageID))
		if err != nil {
			return b.approvalViewFromRecord(ctx, t, reqID, want, open, err)
		}
		// Graph shows the user this approval (an approver of one of its stages): follow it from now on.
		tr, err := b.core.Follow(ctx, reqID)
		if err != nil {
			return b.failure(ctx, t, t.loc.T("fail.readApproval"), err, "approvals")
		}
		if want == 0 {
			want = cardStage(appr, str(data, cards.KeyStageID))
		}
		b.core.LearnDecisions(ctx, tr, appr)
		cur, isOpen := appr.Current()
		curIdx := stageIndex(appr, cur.ID)
		if !isOpen {
			tr = b.core.CatchUp(ctx, tr)
		}
		if isOpen && cur.AssignedToMe && (want == 0 || want == curIdx) {
			b.core.NoteStageID(ctx, tr.ID, curIdx, cur.ID)
			if tr.Stage != curIdx {
				b.core.PollSoon(ctx, tr.ID)
			}
			if open {
				b.keepApproverCard(ctx, t, tr.ID, curIdx)
			}
			return b.answer(ctx, t, b.approverCardFor(ctx, t, tr, curIdx, "", ""))
		}
		stage := want
		if stage == 0 {
			stage = curIdx
			if !isOpen {
				stage = lastDecidedStage(appr)
			}
		}
		v := b.stageOutcomeView(t, tr, appr, stage)
		if isOpen && stage == curIdx && !cur.AssignedToMe {
			v.NotApprover = true
		}
		if open {
			b.keepApproverCard(ctx, t, tr.ID, stage) // Graph shows them the approval
		}
		return b.answer(ctx, t, cards.ApprovalDecided(t.loc, v))
	}
}

// approvalViewFromRecord answers the view of an approval Graph would not read for the user (err): only
// what the bot already knows is used, and only for a user with a part in the request (a stranger's click must
// not make the bot follow a request either).
func (b *Bot) approvalViewFromRecord(ctx context.Context, t *turn, reqID string, want int, open bool, err error) (*botframework.InvokeResponse, error) {
	tr, lerr := b.core.Get(ctx, reqID)
	if lerr != nil && !errors.Is(lerr, store.ErrNotFound) {
		return b.failure(ctx, t, t.loc.T("fail.readApproval"), lerr, "approvals")
	}
	if lerr != nil || !b.mayViewTracked(ctx, tr, t.userID) {
		if !errors.Is(err, entitlement.ErrNotFound) && !errors.Is(err, entitlement.ErrForbidden) && !errors.Is(err, entitlement.ErrNotApprover) {
			// Sign-in, consent, throttling, an outage: say so (and ask for sign-in) rather than "nothing".
			return b.failure(ctx, t, t.loc.T("fail.readApproval"), err, "approvals")
		}
		t.log.WarnContext(ctx, "approval view asked by a user with no part in the request", "request", reqID, "err", err)
		return b.answer(ctx, t, nothingToDecide(t.loc))
	}
	// Fall back to what the bot knows: enough for a read-only view or the stage's approver list.
	t.log.InfoContext(ctx, "approval view from tracked state", "request", reqID, "err", err)
	if errors.Is(err, entitlement.ErrNotFound) {
		tr = b.core.CatchUp(ctx, tr) // Graph hides the approvals of finished requests
	}
	stage := want
	if stage == 0 {
		stage = max(tr.Stage, 1)
	}
	if open {
		b.storeApproverCard(ctx, t, tr.ID, stage)
	}
	return b.answer(ctx, t, b.approverCard(ctx, t.loc, tr, stage, t.userID, ""))
}
