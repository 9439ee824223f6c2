package cards

import (
	"strings"
	"time"

	"github.com/accessbot/accessbot/internal/i18n"
)

// This file builds the read-only approval card (after a decision, for non-approvers, for a late click)
// and says how a request ended when no approver decided it.

// ApprovalDecidedView is the read-only approval card: after a decision, for people who are not (or no
// longer) approvers, and for a click that came too late.
type ApprovalDecidedView struct {
	RequestID     string
	ApprovalID    string
	StageID       string
	PackageName   string
	RequesterName string
	RequesterOrg  string
	// Outcome is DecisionApprove or DecisionDeny for a decided stage.
	Outcome       Decision
	DecidedBy     string
	DecidedAt     time.Time
	Justification string
	// StageIndex (1-based) and StageCount locate the decided stage.
	StageIndex, StageCount int
	// AlreadyDecided is set when the viewer clicked after someone else had decided (the card leads with
	// "Already approved by Aaron at 10:42") or after the request ended (it adds "your click changed nothing").
	AlreadyDecided bool
	// ByYou is set when the viewer made the decision.
	ByYou bool
	// Closed is how the request ended when no approver's decision on this stage ended it (canceled, expired,
	// denied automatically): the headline says so and that nothing is left to decide, whatever Outcome says.
	Closed Closure
	// Reason says why the request was denied automatically, when known (shown with ClosureAutoDenied).
	Reason string
	// NotApprover is set when the viewer is not an approver of this stage.
	NotApprover bool
	// Next says what happens next ("Now waiting for stage 2: Falcon Security Reviewers").
	Next string
	// Decisions is the approval's history (all stages).
	Decisions []DecisionView
	Mode      Mode
	OrgName   string
}

// Closure is how a request ended without an approver's decision on the stage a card is about.
type Closure string

// Closures of a request.
const (
	// ClosureNone: the stage's decision (or its wait) is the news.
	ClosureNone Closure = ""
	// ClosureCanceledByRequester: the requester canceled the request.
	ClosureCanceledByRequester Closure = "canceledByRequester"
	// ClosureCanceled: the request was canceled (by the requester in My Access or by an admin).
	ClosureCanceled Closure = "canceled"
	// ClosureExpired: nobody decided in time, so the request was denied automatically.
	ClosureExpired Closure = "expired"
	// ClosureAutoDenied: the request was denied without an approver's decision for another reason.
	ClosureAutoDenied Closure = "autoDenied"
)

// closureBanner is the headline, style and detail of a request that ended without a decision on the stage.
func closureBanner(l *i18n.Localizer, c Closure, reason string) (headline, style, detail string) {
	nothing := l.T("decided.nothingLeft")
	switch c {
	case ClosureCanceledByRequester:
		return l.T("decided.canceledByRequester"), StyleEmphasis, nothing
	case ClosureCanceled:
		return l.T("decided.canceled"), StyleEmphasis, nothing
	case ClosureExpired:
		return l.T("decided.expired"), StyleAttention, l.T("decided.expiredDetail") + " " + nothing
	case ClosureAutoDenied:
		d := nothing
		if r := safe(reason, maxShort); r != "" {
			d = strings.TrimSuffix(r, ".") + ". " + nothing
		}
		return l.T("decided.autoDenied"), StyleAttention, d
	}
	return "", "", ""
}

// decidedHeadline is the banner's headline for a stage an approver decided (outcome Approve or Deny).
func decidedHeadline(l *i18n.Localizer, v ApprovalDecidedView, by string) string {
	o := string(v.Outcome)
	switch {
	case v.AlreadyDecided && !v.DecidedAt.IsZero():
		return l.T("decided.alreadyAt."+o, "By", firstName(l, by), "When", clock(v.DecidedAt))
	case v.AlreadyDecided:
		return l.T("decided.already."+o, "By", firstName(l, by))
	case v.ByYou:
		return l.T("decided.byYou." + o)
	}
	return l.T("decided.by."+o, "By", by)
}

// ApprovalDecided is the read-only view of an approval: who decided, when and why, or how the request ended
// when nobody decided this stage.
func ApprovalDecided(l *i18n.Localizer, v ApprovalDecidedView) *Card {
	pkg := safe(orDefault(v.PackageName, l.T("common.anAccessPackage")), maxName)
	req := safe(orDefault(v.RequesterName, l.T("common.someone")), maxName)
	c := newCard(l, l.T("decided.fallback", "Who", req, "Package", pkg))
	c.add(title(pkg))
	sub := l.T("decided.subtitle", "Who", req)
	if v.RequesterOrg != "" {
		sub = l.T("decided.subtitleOrg", "Who", req, "Org", safe(v.RequesterOrg, maxName))
	}
	if v.StageCount > 1 {
		sub = l.T("decided.subtitleStage", "Subtitle", sub, "Stage", max(v.StageIndex, 1), "Stages", v.StageCount)
	}
	c.add(subtitle(sub))

	by := safe(orDefault(v.DecidedBy, l.T("decided.anotherApprover")), maxName)
	headline, style, closedDetail := closureBanner(l, v.Closed, v.Reason)
	decidedStage := headline == "" && (v.Outcome == DecisionApprove || v.Outcome == DecisionDeny)
	switch {
	case headline != "":
	case !decidedStage:
		headline = l.T("approval.notDecided")
	default:
		headline = decidedHeadline(l, v, by)
	}
	if style == "" {
		style = StyleEmphasis
		switch v.Outcome {
		case DecisionDeny:
			style = StyleAttention
		case DecisionApprove:
			style = StyleGood
		}
	}
	var detail []string
	switch {
	case closedDetail != "":
		detail = append(detail, closedDetail)
		if v.AlreadyDecided {
			detail = append(detail, l.T("decided.clickChangedNothing"))
		}
	case v.AlreadyDecided:
		detail = append(detail, l.T("decided.oneDecision"))
	}
	if v.NotApprover && closedDetail == "" {
		detail = append(detail, l.T("decided.notApprover"))
	}
	c.add(banner(style, headline, strings.Join(detail, " ")))
	if decidedStage {
		c.add(facts(
			l.T("decided.decidedBy"), by,
			l.T("decided.when"), whenOrEmpty(v.DecidedAt),
			l.T("common.justification"), orDefault(safe(v.Justification, maxLong), l.T("common.noneGiven")),
		))
	}
	if n := safe(v.Next, maxShort); n != "" {
		c.add(TextBlock{Text: n, Wrap: true, Spacing: SpacingMedium})
	}
	if d := decisionsList(l, v.Decisions); d != nil {
		c.add(heading(l.T("common.history")))
		c.add(d...)
	}
	if v.Mode == ModeBrokered {
		c.add(footnote(l.T("decided.brokered", "Org", safe(orDefault(v.OrgName, l.T("common.theOrganization")), maxName))))
	}
	c.Actions = []Action{noInputs(execute(l.T("button.refresh"), VerbApprovalRefresh,
		KeyRequestID, v.RequestID, KeyApprovalID, v.ApprovalID, KeyStageID, v.StageID))}
	return c
}
