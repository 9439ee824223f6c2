package bot

import (
	"context"
	"errors"
	"github.com/accessbot/accessbot/internal/lifecycle"
	"strconv"
	"strings"
	"time"

	"github.com/accessbot/accessbot/cards"
	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/i18n"
)

// This file maps domain data (entitlement types and the tracked request record) to the cards' view structs.

// cardState is the state the requester's card shows for a tracked request.
func cardState(tr *trackedRequest) cards.RequestState {
	switch tr.State {
	case entitlement.StateDenied:
		if _, denied := lastDeny(tr); !denied && tr.Expired {
			return cards.StateExpired
		}
		return cards.StateDenied
	case "", entitlement.StateUnknown:
		return cards.StateSubmitted
	}
	return cards.RequestState(tr.State)
}

func lastDeny(tr *trackedRequest) (decisionRecord, bool) {
	for i := len(tr.Decisions) - 1; i >= 0; i-- {
		if tr.Decisions[i].Result == entitlement.ReviewDeny {
			return tr.Decisions[i], true
		}
	}
	return decisionRecord{}, false
}

// statusView is the requester's status card for a tracked request.
func (b *Bot) statusView(ctx context.Context, l *i18n.Localizer, tr *trackedRequest) cards.RequestStatusView {
	v := cards.RequestStatusView{
		RequestID:   tr.ID,
		PackageID:   tr.PackageID,
		PackageName: tr.PackageName,
		State:       cardState(tr),
		StageIndex:  tr.Stage,
		StageCount:  tr.StageCount,
		Mode:        orMode(cards.Mode(tr.Mode)),
		OrgName:     b.cfg.Tenant.Name,
		UpdatedAt:   tr.UpdatedAt,
		Cancelable:  tr.State == entitlement.StateSubmitted || tr.State == entitlement.StatePendingApproval || tr.State == entitlement.StateScheduled,
	}
	if v.UpdatedAt.IsZero() {
		v.UpdatedAt = b.now()
	}
	for _, p := range tr.Approvers {
		v.Asked = append(v.Asked, orUnknown(p.Name, p.ID))
	}
	if d, ok := tr.LastDecision(); ok {
		v.DecidedBy, v.DecidedAt, v.DecisionJustification = d.ApproverName, d.At, d.Justification
	}
	consistentPending(tr, &v)
	for _, e := range tr.Timeline {
		v.Timeline = append(v.Timeline, cards.EventView{At: e.At, Text: e.Text, Msg: e.Msg, Data: e.Data, Names: e.Names})
	}
	if tr.State == entitlement.StateDelivered || tr.State == entitlement.StatePartiallyDelivered {
		if pkg, err := b.cfg.Entitlement.Package(ctx, tr.PackageID); err == nil {
			for _, r := range resourceViews(l, pkg.Resources) {
				v.Granted = append(v.Granted, r.String())
			}
		}
		v.Until = b.assignmentEnd(ctx, tr)
	}
	if tr.State == entitlement.StateCanceled && tr.CanceledByUser {
		v.Reason = l.T("status.youCanceled")
	}
	return v
}

// assignmentEnd finds when the assignment a request delivered ends.
func (b *Bot) assignmentEnd(ctx context.Context, tr *trackedRequest) time.Time {
	if tr.Schedule.Expiration.Type == entitlement.ExpireAfterDateTime && !tr.Schedule.Expiration.EndDateTime.IsZero() {
		return tr.Schedule.Expiration.EndDateTime
	}
	if tr.RequestorID == "" {
		return time.Time{}
	}
	as, err := b.cfg.Entitlement.Assignments(ctx, entitlement.AssignmentFilter{PackageID: tr.PackageID, TargetID: tr.RequestorID})
	if err != nil {
		b.log.DebugContext(ctx, "read assignment end", "request", tr.ID, "err", err)
		return time.Time{}
	}
	for _, a := range as {
		if tr.AssignmentID == "" || a.ID == tr.AssignmentID {
			return a.EndsAt()
		}
	}
	return time.Time{}
}

func orMode(m cards.Mode) cards.Mode {
	if m == "" {
		return cards.ModeDelegated
	}
	return m
}

// stageToken is the stage id put on an approval card: Graph's stage id when known, else "stage-<n>".
func stageToken(tr *trackedRequest, stage int) string {
	if stage == tr.Stage && tr.StageID != "" {
		return tr.StageID
	}
	return "stage-" + strconv.Itoa(stage)
}

// stageFromToken returns the stage number of a "stage-<n>" token (0 for a Graph stage id).
func stageFromToken(tok string) int {
	n, err := strconv.Atoi(strings.TrimPrefix(tok, "stage-"))
	if err != nil || !strings.HasPrefix(tok, "stage-") {
		return 0
	}
	return n
}

// approvalView is the approval card of the current stage of a tracked request for one approver.
func (b *Bot) approvalView(ctx context.Context, l *i18n.Localizer, tr *trackedRequest, approverID string) cards.ApprovalView {
	v := cards.ApprovalView{
		RequestID:     tr.ID,
		ApprovalID:    tr.ID,
		StageID:       stageToken(tr, tr.Stage),
		PackageName:   tr.PackageName,
		Justification: tr.Justification,
		RequestedAt:   tr.CreatedAt,
		StageIndex:    max(tr.Stage, 1),
		StageCount:    max(tr.StageCount, 1),
		Now:           b.now(),
		Start:         tr.Schedule.Start,
		Mode:          orMode(cards.Mode(tr.Mode)),
		OrgName:       b.cfg.Tenant.Name,
		Requester: cards.PersonView{
			Name:    tr.RequestorName,
			Email:   tr.RequestorEmail,
			OrgName: b.cfg.Tenant.Name,
		},
	}
	if tr.Schedule.Expiration.Type == entitlement.ExpireAfterDateTime {
		v.End = tr.Schedule.Expiration.EndDateTime
	}
	port := b.cfg.Entitlement
	if tr.RequestorOrgID != "" {
		v.Requester.External = true
		if org, err := port.ConnectedOrg(ctx, tr.RequestorOrgID); err == nil {
			v.Requester.OrgName = org.Name
			v.Requester.TenantID = org.TenantID()
		}
	} else if tr.RequestorID != "" {
		if m, err := port.Manager(ctx, tr.RequestorID); err == nil {
			v.Requester.Manager = m.Name
		}
	}
	if pkg, err := port.Package(ctx, tr.PackageID); err == nil {
		v.PackageName = orUnknown(v.PackageName, pkg.Name)
		v.PackageDescription = pkg.Description
		v.CatalogName = pkg.CatalogName
		v.Resources = resourceViews(l, pkg.Resources)
	}
	var questions []entitlement.Question
	if pol, err := port.Policy(ctx, tr.PolicyID); err == nil {
		v.ExpirySummary = expirySummary(l, pol.Expiration)
		questions = pol.Questions
		if tr.Stage >= 1 && tr.Stage <= len(pol.Stages) {
			v.JustificationRequired = pol.Stages[tr.Stage-1].ApproverJustificationRequired
		}
		v.Deadline = autoDenyAt(pol, tr.Stage, tr.StageStartedAt)
	}
	for _, a := range tr.Answers {
		q := a.QuestionText
		if q == "" {
			for _, pq := range questions {
				if pq.ID == a.QuestionID {
					q = pq.Text
				}
			}
		}
		v.Answers = append(v.Answers, cards.AnswerView{Question: orUnknown(q, a.QuestionID), Answer: orUnknown(a.DisplayValue, a.Value)})
	}
	v.Decisions = decisionViews(tr)
	for _, p := range tr.Approvers {
		id := p.TeamsID
		if id == "" {
			if ref, err := b.cfg.Store.Conversation(ctx, orUnknown(p.TenantID, b.cfg.Tenant.ID), p.ID); err == nil {
				id = ref.UserID
			}
		}
		if id != "" {
			v.ApproverIDs = append(v.ApproverIDs, id)
		}
	}
	return v
}

func decisionViews(tr *trackedRequest) []cards.DecisionView {
	var out []cards.DecisionView
	for _, d := range tr.Decisions {
		out = append(out, cards.DecisionView{Stage: d.Stage, Approver: d.ApproverName, Decision: cards.Decision(d.Result),
			At: d.At, Justification: d.Justification})
	}
	return out
}

// approverCard is what one approver's copy of the approval card for a stage shows now: Approve/Deny while
// the stage waits for them, the read-only outcome otherwise. errMsg is shown under the justification.
func (b *Bot) approverCard(ctx context.Context, l *i18n.Localizer, tr *trackedRequest, stage int, viewerID, errMsg string) *cards.Card {
	_, decided := tr.DecisionFor(stage)
	if tr.State == entitlement.StatePendingApproval && stage == tr.Stage && !decided && tr.IsApprover(viewerID) {
		v := b.approvalView(ctx, l, tr, viewerID)
		v.Error = errMsg
		return cards.Approval(l, v)
	}
	v := b.decidedView(l, tr, stage, viewerID)
	if !decided && tr.State == entitlement.StatePendingApproval && stage == tr.Stage {
		v.NotApprover = true
	}
	return cards.ApprovalDecided(l, v)
}

// decidedView is the read-only view of one stage of a tracked request for viewerID: the stage's decision
// when one is known, otherwise how the request ended (canceled, expired, denied automatically), and what
// happened to the request after the stage.
func (b *Bot) decidedView(l *i18n.Localizer, tr *trackedRequest, stage int, viewerID string) cards.ApprovalDecidedView {
	stage = max(stage, 1)
	v := cards.ApprovalDecidedView{
		RequestID:     tr.ID,
		ApprovalID:    tr.ID,
		StageID:       stageToken(tr, stage),
		PackageName:   tr.PackageName,
		RequesterName: tr.RequestorName,
		RequesterOrg:  b.cfg.Tenant.Name,
		StageIndex:    stage,
		StageCount:    max(tr.StageCount, 1),
		Decisions:     decisionViews(tr),
		Mode:          orMode(cards.Mode(tr.Mode)),
		OrgName:       b.cfg.Tenant.Name,
		Outcome:       cards.DecisionNotReviewed,
	}
	deny, denied := lastDeny(tr)
	if d, ok := tr.DecisionFor(stage); ok {
		v.Outcome = cards.Decision(d.Result)
		v.DecidedBy, v.DecidedAt, v.Justification = d.ApproverName, d.At, d.Justification
		v.ByYou = viewerID != "" && strings.EqualFold(d.ApproverID, viewerID)
	} else {
		switch tr.State {
		case entitlement.StateDelivering, entitlement.StateDelivered, entitlement.StatePartiallyDelivered,
			entitlement.StateScheduled, entitlement.StateDeliveryFailed:
			v.Outcome = cards.DecisionApprove
		case entitlement.StatePendingApproval:
			if tr.Stage > stage {
				v.Outcome = cards.DecisionApprove
			}
		case entitlement.StateDenied:
			switch {
			case denied && deny.Stage > stage:
				v.Outcome = cards.DecisionApprove // a later stage was denied, so this one was approved
			case !denied:
				v.Outcome = cards.DecisionDeny
			}
		}
		// Nobody decided this stage and the request is over: the card says how it ended.
		v.Closed = closure(tr)
	}
	if v.Closed != cards.ClosureNone {
		return v
	}
	switch tr.State {
	case entitlement.StatePendingApproval:
		if tr.Stage > stage {
			v.Next = l.T("decided.nowWaiting", "Stage", tr.Stage, "Stages", max(tr.StageCount, tr.Stage), "Names", orUnknown(l.Or(lifecycle.PeopleNames(tr.Approvers)), l.T("decided.nextApprovers")))
		}
	case entitlement.StateDelivering:
		v.Next = l.T("decided.delivering")
	case entitlement.StateDelivered:
		v.Next = l.T("decided.delivered")
	case entitlement.StatePartiallyDelivered:
		v.Next = l.T("decided.partlyDelivered")
	case entitlement.StateScheduled:
		v.Next = l.T("decided.scheduled")
	case entitlement.StateCanceled:
		v.Next = l.T("decided.thenCanceled")
		if tr.CanceledByUser {
			v.Next = l.T("decided.thenRequesterCanceled")
		}
	case entitlement.StateDenied:
		switch {
		case denied && deny.Stage != stage:
			v.Next = l.T("decided.thenStageDenied", "Stage", deny.Stage, "By", orUnknown(deny.ApproverName, l.T("approvers.anApprover")))
		case !denied && cardState(tr) == cards.StateExpired:
			v.Next = l.T("decided.thenExpired")
		case !denied:
			v.Next = l.T("decided.thenAutoDenied")
		}
	case entitlement.StateDeliveryFailed:
		v.Next = l.T("decided.deliveryFailed")
	}
	return v
}

// closure is how a request ended when no approver's decision ended it: canceled (by the requester through
// the bot, or elsewhere), expired (nobody decided in time) or denied automatically; ClosureNone while it is
// open or when an approver's decision settled it (approved and delivered, or denied by someone).
func closure(tr *trackedRequest) cards.Closure {
	switch tr.State {
	case entitlement.StateCanceled:
		if tr.CanceledByUser {
			return cards.ClosureCanceledByRequester
		}
		return cards.ClosureCanceled
	case entitlement.StateDenied:
		if _, denied := lastDeny(tr); denied {
			return cards.ClosureNone
		}
		if cardState(tr) == cards.StateExpired {
			return cards.ClosureExpired
		}
		return cards.ClosureAutoDenied
	}
	return cards.ClosureNone
}

// errorCard turns an error of the entitlement port into a card for the person in the chat: a sign-in card
// when they must sign in or consent, otherwise what went wrong (title, in the turn's language) and why
// (userMessage). retry is the command that tries again. The full error is logged, never shown.
func (b *Bot) errorCard(ctx context.Context, t *turn, title string, err error, retry string) *cards.Card {
	t.log.WarnContext(ctx, "flow failed", "what", title, "err", err)
	switch {
	case errors.Is(err, entitlement.ErrSignInRequired):
		// Teams SSO: an OAuthCard makes Teams send the user's token silently (signin/tokenExchange); the
		// command runs again once it arrives.
		if sent, perr := b.promptSignIn(ctx, t, retry); perr != nil {
			t.log.WarnContext(ctx, "prompt sign-in", "err", perr)
		} else if sent {
			return cards.Notice(t.loc, cards.NoticeView{Kind: noticeInfo, Title: t.loc.T("signIn.signingIn"),
				Text: t.loc.T("signIn.signingInText", "Org", orUnknown(b.cfg.Tenant.Name, t.loc.T("common.yourOrganization")))})
		}
		return cards.SignIn(t.loc, cards.SignInView{Reason: cards.SignInUnavailable, RetryCommand: retry,
			MyAccessURL: cards.MyAccessURL(b.cfg.Tenant.Domain, ""), OrgName: b.cfg.Tenant.Name})
	case errors.Is(err, entitlement.ErrConsentRequired):
		return cards.SignIn(t.loc, cards.SignInView{Reason: cards.SignInConsent, RetryCommand: retry,
			MyAccessURL: cards.MyAccessURL(b.cfg.Tenant.Domain, ""), OrgName: b.cfg.Tenant.Name})
	}
	kind := noticeError
	switch {
	case errors.Is(err, entitlement.ErrAlreadyRequested), errors.Is(err, entitlement.ErrAlreadyAssigned),
		errors.Is(err, entitlement.ErrNotEligible), errors.Is(err, entitlement.ErrThrottled):
		kind = noticeWarning
	}
	v := cards.NoticeView{Kind: kind, Title: title, Text: userMessage(t.loc, err)}
	switch {
	case errors.Is(err, entitlement.ErrAlreadyRequested):
		v.Suggestions = []cards.Suggestion{{Title: t.loc.T("button.myRequests"), Command: "status"}}
	case errors.Is(err, entitlement.ErrAlreadyAssigned):
		v.Suggestions = []cards.Suggestion{{Title: t.loc.T("button.myAccess"), Command: "access"}}
	case (errors.Is(err, entitlement.ErrThrottled) || errors.Is(err, entitlement.ErrUnavailable)) && retry != "":
		v.Suggestions = []cards.Suggestion{{Title: t.loc.T("button.tryAgain"), Command: retry}}
	}
	return cards.Notice(t.loc, v)
}

func capitalize(s string) string {
	s = strings.TrimSuffix(strings.TrimSpace(s), ".")
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// consistentPending keeps a status card consistent in itself between a decision and Entra's next state: a
// request whose current stage was just denied (or whose last stage was just approved) no longer reads "Pending
// approval — stage 1 of 2, waiting for Aaron" next to "Stage 1 denied by Aaron".
func consistentPending(tr *trackedRequest, v *cards.RequestStatusView) {
	if tr.State != entitlement.StatePendingApproval {
		return
	}
	d, ok := tr.DecisionFor(max(tr.Stage, 1))
	switch {
	case !ok:
		return
	case d.Result == entitlement.ReviewDeny:
		v.State = cards.StateDenied
	case d.Result == entitlement.ReviewApprove && tr.Stage >= tr.StageCount:
		v.State = cards.StateApproved
	default:
		return
	}
	v.DecidedBy, v.DecidedAt, v.DecisionJustification = d.ApproverName, d.At, d.Justification
	v.Asked, v.Cancelable = nil, false
}

// userMessage explains err to a person in l's language: the refusal an *adminError carries, else the kind of
// error (errorMessageID), else that something went wrong. The error's own text is for logs.
func userMessage(l *i18n.Localizer, err error) string {
	var ae *adminError
	if errors.As(err, &ae) {
		return ae.localized(l).text
	}
	if te := (*entitlement.ThrottledError)(nil); errors.As(err, &te) && te.RetryAfter >= time.Second {
		wait := l.N("duration.seconds", int(te.RetryAfter.Round(time.Second)/time.Second))
		if te.RetryAfter >= time.Minute {
			wait = l.Duration(te.RetryAfter)
		}
		return l.T("error.throttledAfter", "After", wait)
	}
	if id := errorMessageID(err); id != "" {
		return l.T(id)
	}
	if ie := (*entitlement.InvalidInputError)(nil); errors.As(err, &ie) {
		return invalidInputMessage(l, ie)
	}
	return l.T("error.generic")
}

// invalidInputMessage explains refused input: to an English reader in the refusing code's own words (they
// name the field and what was expected), to others by the field (error.invalid.<field>), else in general.
func invalidInputMessage(l *i18n.Localizer, ie *entitlement.InvalidInputError) string {
	return inputProblem(l, ie, ie.Error(), "error.invalidInput", "Field", ie.Field)
}

// inputProblem says what is wrong with refused input ie: to an English reader as english (the refusing
// code's own words), to others by the field (error.invalid.<field>) when a catalog has it, else as the
// catalog message other with kv.
func inputProblem(l *i18n.Localizer, ie *entitlement.InvalidInputError, english, other string, kv ...any) string {
	switch id := invalidFieldID(ie.Field); {
	case l.Lang() == "en":
		return capitalize(english) + "."
	case i18n.Has(id):
		return l.T(id)
	}
	return l.T(other, kv...)
}

// invalidFieldID is the catalog message of refused input in field: "answers[Project code]" is an answer.
func invalidFieldID(field string) string {
	field, _, _ = strings.Cut(field, "[")
	return "error.invalid." + field
}

// errorMessages are the catalog messages that explain errors of a known kind, in the order they are tried.
var errorMessages = []struct {
	err error
	id  string
}{
	{entitlement.ErrOutcomeUnknown, "error.outcomeUnknown"}, // before ErrUnavailable, which it also matches
	{entitlement.ErrNotEligible, "error.notEligible"}, {entitlement.ErrAlreadyRequested, "error.alreadyRequested"},
	{entitlement.ErrAlreadyAssigned, "error.alreadyAssigned"}, {entitlement.ErrAlreadyDecided, "error.alreadyDecided"},
	{entitlement.ErrNotApprover, "error.notApprover"}, {entitlement.ErrNotFound, "error.notFound"},
	{entitlement.ErrForbidden, "error.forbidden"}, {entitlement.ErrThrottled, "error.throttled"},
	{entitlement.ErrConflict, "error.conflict"}, {entitlement.ErrUnavailable, "error.unavailable"},
}

// errorMessageID is the catalog message that explains an error of a known kind to a user; "" for others.
func errorMessageID(err error) string {
	for _, k := range errorMessages {
		if errors.Is(err, k.err) {
			return k.id
		}
	}
	return ""
}

// recordedErrorText says a reason recorded as entitlement.UserMessage's English (a package build's progress)
// in l's language: by the kind it names, else as recorded to an English reader, else in general.
func recordedErrorText(l *i18n.Localizer, recorded string) string {
	for _, k := range errorMessages {
		if recorded == k.err.Error() {
			return l.T(k.id)
		}
	}
	if recorded == "" || l.Lang() == "en" {
		return recorded
	}
	return l.T("error.generic")
}
