package cards

import (
	"strconv"
	"strings"
	"time"

	"github.com/accessbot/accessbot/internal/i18n"
)

// Verbs and data keys of the access review cards.
const (
	// VerbReviewOpen shows a page of a reviewer's review card: data {reviewId, instanceId, page}.
	VerbReviewOpen = "review.open"
	// VerbReviewDecide records one decision: data {reviewId, instanceId, page, decisionId, decision} plus the
	// input justification.
	VerbReviewDecide = "review.decide"
	// VerbReviewDecidePage records one decision for every undecided item on the page (one batch): data
	// {reviewId, instanceId, page, decision, items} (items: comma-separated decision ids) plus justification.
	VerbReviewDecidePage = "review.page"
	// VerbReviewDecideAll records one decision on everything the reviewer has not decided: data {reviewId,
	// instanceId, decision} plus justification.
	VerbReviewDecideAll = "review.all"
	// VerbReviewAccept accepts the recommendations on everything not decided: data {reviewId, instanceId}.
	VerbReviewAccept = "review.accept"
	// VerbReviewSelf answers a self-review ("Do you still need access?"): data {reviewId, instanceId,
	// decisionId, decision} plus justification; decision "check" re-reads the review after My Access.
	VerbReviewSelf = "review.self"

	KeyReviewID   = "reviewId"
	KeyInstanceID = "instanceId"
	KeyDecisionID = "decisionId"
	KeyDecision   = "decision"
	KeyItems      = "items"
)

// Review decisions as the cards send them (Graph's decision values).
const (
	ReviewApprove  = "Approve"
	ReviewDeny     = "Deny"
	ReviewDontKnow = "DontKnow"
	// ReviewCheck asks the bot to look for a decision made in My Access.
	ReviewCheck = "check"
	// ReviewNotReviewed is an item nobody decided yet.
	ReviewNotReviewed = "NotReviewed"
	// RecommendNoInfo is Graph's recommendation when there is no sign-in data.
	RecommendNoInfo = "NoInfoAvailable"
)

// MaxReviewItems is the most people one review card shows; the bot pages by it.
const MaxReviewItems = 10

// ReviewItemView is one person whose access a reviewer decides on, with the evidence.
type ReviewItemView struct {
	DecisionID string
	Name       string
	// Detail is their principal name or mail.
	Detail string
	// Recommendation is Approve, Deny or NoInfoAvailable ("" when recommendations are off).
	Recommendation string
	LastSignIn     time.Time
	// Obtained says how they got the access ("Requested, approved", "Assigned by an admin"); Since is when.
	Obtained string
	Since    time.Time
	// AccessEnds is when the access ends; zero when it does not.
	AccessEnds time.Time
	// Decision is NotReviewed, Approve, Deny or DontKnow; DecidedBy and Justification say who and why.
	Decision      string
	DecidedBy     string
	Justification string
	// Earlier are the decisions earlier stages of a multi-stage review recorded on this person (evidence).
	Earlier []EarlierDecisionView
}

// EarlierDecisionView is what an earlier stage of a multi-stage review decided on a person.
type EarlierDecisionView struct {
	// Stage is the 1-based stage number.
	Stage         int
	Decision      string
	DecidedBy     string
	Justification string
}

// ReviewView is a reviewer's card for one page of an access review instance.
type ReviewView struct {
	ReviewID   string
	InstanceID string
	// StageID, Stage and StageCount name the stage of a multi-stage review ("Stage 2 of 2"); empty/0 otherwise.
	StageID    string
	Stage      int
	StageCount int
	Name       string
	// Resource is what is reviewed ("Falcon Production Access") and ResourceKind its kind ("access package").
	Resource     string
	ResourceKind string
	Deadline     time.Time
	Now          time.Time
	// Open is false once the instance is no longer in progress (then no buttons are shown); Status says why.
	Open   bool
	Status string
	// Items is this page; Page is 1-based; Total counts all the reviewer's items, Remaining the undecided ones.
	Items     []ReviewItemView
	Page      int
	PageCount int
	Total     int
	Remaining int
	// JustificationRequired: approving needs a justification.
	JustificationRequired bool
	// Recommendations shows the "Accept recommendations" button.
	Recommendations bool
	// Note is a line at the top ("Reminder: …"); Error is shown under the justification input.
	Note  string
	Error string
}

func recommendationLine(l *i18n.Localizer, r string) (string, string) {
	switch r {
	case ReviewApprove:
		return l.T("review.recApprove"), ColorGood
	case ReviewDeny:
		return l.T("review.recDeny"), ColorAttention
	case RecommendNoInfo:
		return l.T("review.recNone"), ""
	}
	return "", ""
}

func reviewDecisionLabel(l *i18n.Localizer, d string) (string, string) {
	switch d {
	case ReviewApprove:
		return l.T("review.approved"), ColorGood
	case ReviewDeny:
		return l.T("review.denied"), ColorAttention
	case ReviewDontKnow:
		return l.T("review.dontKnow"), ColorWarning
	}
	return l.T("review.notDecided"), ""
}

// Review is the reviewer's card: what is reviewed, the deadline, and one row per person with the evidence and
// Approve / Deny / Don't know; plus Accept recommendations, decide the page or everything remaining, and paging.
// It shows at most MaxReviewItems people (the page size the bot uses) and stays under MaxCardBytes.
func Review(l *i18n.Localizer, v ReviewView) *Card {
	name := safe(orDefault(v.Name, l.T("review.defaultName")), maxName)
	head := l.T("review.title", "Name", name)
	c := newCard(l, head)
	ids := []string{KeyReviewID, v.ReviewID, KeyInstanceID, v.InstanceID}
	// KeyStageID names the stage of a multi-stage review (absent for a single-stage one).
	if v.StageID != "" {
		ids = append(ids, KeyStageID, v.StageID)
	}
	page := strconv.Itoa(max(v.Page, 1))
	c.add(title(head))
	res := safe(orDefault(v.Resource, l.T("review.thisAccess")), maxName)
	if v.ResourceKind != "" {
		c.add(subtitle(l.T("review.questionKind", "Resource", res, "Kind", safe(v.ResourceKind, 40))))
	} else {
		c.add(subtitle(l.T("review.question", "Resource", res)))
	}
	if n := safe(v.Note, maxShort); n != "" {
		c.add(banner(StyleWarning, n, ""))
	}
	if v.Stage > 0 && v.StageCount > 0 {
		c.add(stageLine(l, v.Stage, v.StageCount))
	}
	c.add(facts(l.T("review.decideBy"), whenOrEmpty(v.Deadline),
		l.T("review.progress"), l.T("review.progressValue", "Decided", v.Total-v.Remaining, "Total", v.Total),
		l.T("review.status"), safe(v.Status, 40)))
	if v.Open && !v.Deadline.IsZero() && !v.Now.IsZero() && v.Deadline.Sub(v.Now) <= 48*time.Hour && v.Deadline.After(v.Now) {
		c.add(TextBlock{Text: l.T("review.timeLeft", "Left", l.Duration(v.Deadline.Sub(v.Now)+time.Minute)), Wrap: true, Weight: WeightBolder, Color: ColorAttention})
	}
	var undecided []string
	for i, it := range v.Items {
		if i == MaxReviewItems {
			c.add(moreLine(l.N("review.morePeople", len(v.Items)-i)))
			break
		}
		c.add(reviewItem(l, it, v.Open, ids, page, i == 0))
		if it.Decision == "" || it.Decision == ReviewNotReviewed {
			undecided = append(undecided, it.DecisionID)
		}
	}
	refresh := noInputs(execute(l.T("button.refresh"), VerbReviewOpen, append(ids, KeyPage, page)...))
	if !v.Open {
		c.add(footnote(l.T("review.closed", "Status", orDefault(safe(v.Status, 40), l.T("review.closedStatus")))))
		c.Actions = []Action{refresh}
		return c
	}
	label := l.T("review.justification")
	if v.JustificationRequired {
		label = l.T("review.justificationRequired")
	}
	c.add(InputText{ID: InputJustification, Label: label, IsMultiline: true, MaxLength: maxLong, Spacing: SpacingLarge, Separator: true,
		Placeholder: l.T("review.justificationPlaceholder")})
	if v.Error != "" {
		c.add(fieldError(v.Error))
	}
	if len(undecided) > 0 && v.PageCount > 1 {
		items := strings.Join(undecided, ",")
		c.add(ActionSet{Spacing: SpacingSmall, Actions: []Action{
			execute(l.T("review.approvePage", "Count", len(undecided)), VerbReviewDecidePage, append(ids, KeyPage, page, KeyDecision, ReviewApprove, KeyItems, items)...),
			execute(l.T("review.denyPage", "Count", len(undecided)), VerbReviewDecidePage, append(ids, KeyPage, page, KeyDecision, ReviewDeny, KeyItems, items)...),
		}})
	}
	if v.Remaining > 0 {
		c.add(ActionSet{Spacing: SpacingSmall, Actions: []Action{
			execute(l.T("review.approveRest", "Count", v.Remaining), VerbReviewDecideAll, append(ids, KeyDecision, ReviewApprove)...),
			execute(l.T("review.denyRest", "Count", v.Remaining), VerbReviewDecideAll, append(ids, KeyDecision, ReviewDeny)...),
		}})
	}
	if v.PageCount > 1 {
		var nav []Action
		if v.Page > 1 {
			nav = append(nav, noInputs(execute(l.T("review.previous"), VerbReviewOpen, append(ids, KeyPage, strconv.Itoa(v.Page-1))...)))
		}
		if v.Page < v.PageCount {
			nav = append(nav, noInputs(execute(l.T("review.next"), VerbReviewOpen, append(ids, KeyPage, strconv.Itoa(v.Page+1))...)))
		}
		c.add(TextBlock{Text: l.T("review.page", "Page", v.Page, "Pages", v.PageCount), Wrap: true, IsSubtle: true, Size: SizeSmall, Spacing: SpacingMedium})
		c.add(ActionSet{Spacing: SpacingSmall, Actions: nav})
	}
	c.add(footnote(l.T("review.delegatedNote")))
	if v.Remaining > 0 && v.Recommendations {
		c.Actions = append(c.Actions, noInputs(execute(l.T("review.acceptRecommendations"), VerbReviewAccept, ids...)))
	}
	c.Actions = append(c.Actions, refresh)
	return c
}

func obtained(l *i18n.Localizer, it ReviewItemView) string {
	s := safe(it.Obtained, 120)
	if !it.Since.IsZero() {
		s = l.T("review.since", "How", s, "Date", day(it.Since))
	}
	return orDefault(strings.TrimSpace(s), "—")
}

func reviewItem(l *i18n.Localizer, it ReviewItemView, open bool, ids []string, page string, first bool) Container {
	items := []Element{TextBlock{Text: safe(orDefault(it.Name, l.T("common.someone")), 80), Wrap: true, Weight: WeightBolder}}
	if d := safe(it.Detail, 80); d != "" {
		items = append(items, TextBlock{Text: d, Wrap: true, IsSubtle: true, Size: SizeSmall, Spacing: SpacingNone})
	}
	if line, color := recommendationLine(l, it.Recommendation); line != "" {
		items = append(items, TextBlock{Text: line, Wrap: true, Color: color, Size: SizeSmall, Spacing: SpacingSmall})
	}
	signIn := l.T("review.neverSeen")
	if !it.LastSignIn.IsZero() {
		signIn = day(it.LastSignIn)
	}
	ends := l.T("review.noEnd")
	if !it.AccessEnds.IsZero() {
		ends = day(it.AccessEnds)
	}
	items = append(items, FactSet{Spacing: SpacingSmall, Facts: []Fact{
		{Title: l.T("review.lastSignIn"), Value: signIn},
		{Title: l.T("review.access"), Value: obtained(l, it)},
		{Title: l.T("review.ends"), Value: ends},
	}})
	label, color := reviewDecisionLabel(l, it.Decision)
	if it.DecidedBy != "" {
		label = l.T("review.decidedBy", "Decision", label, "Name", safe(it.DecidedBy, 60))
	}
	items = append(items, TextBlock{Text: label, Wrap: true, Weight: WeightBolder, Color: color, Size: SizeSmall, Spacing: SpacingSmall})
	if j := safe(it.Justification, 140); j != "" {
		items = append(items, TextBlock{Text: l.T("common.quoted", "Text", j), Wrap: true, IsSubtle: true, Size: SizeSmall, Spacing: SpacingNone})
	}
	items = append(items, earlierLines(l, it.Earlier)...)
	if open {
		data := append(ids, KeyPage, page, KeyDecisionID, it.DecisionID)
		approve := l.T("review.approve")
		if it.Decision != "" && it.Decision != ReviewNotReviewed {
			approve = l.T("review.changeToApprove")
		}
		items = append(items, ActionSet{Spacing: SpacingSmall, Actions: []Action{
			execute(approve, VerbReviewDecide, append(data, KeyDecision, ReviewApprove)...),
			execute(l.T("review.deny"), VerbReviewDecide, append(data, KeyDecision, ReviewDeny)...),
			execute(l.T("review.dontKnow"), VerbReviewDecide, append(data, KeyDecision, ReviewDontKnow)...),
		}})
	}
	return Container{Items: items, Separator: !first, Spacing: SpacingMedium}
}

// stageLine is "Stage 2 of 3" on a multi-stage review's cards.
func stageLine(l *i18n.Localizer, stage, count int) TextBlock {
	return TextBlock{Text: l.T("stage.of", "Stage", stage, "Count", count), Wrap: true, Weight: WeightBolder, Color: ColorAccent, Spacing: SpacingSmall}
}

// earlierLines shows what earlier stages decided on a person ("Stage 1: Approved by Aaron Approver").
func earlierLines(l *i18n.Localizer, es []EarlierDecisionView) []Element {
	var out []Element
	for _, e := range es {
		label, _ := reviewDecisionLabel(l, e.Decision)
		line := l.T("stage.earlier", "Stage", e.Stage, "Decision", label)
		if e.DecidedBy != "" {
			line = l.T("stage.earlierBy", "Stage", e.Stage, "Decision", label, "Name", safe(e.DecidedBy, 60))
		}
		if j := safe(e.Justification, 140); j != "" {
			line += " — " + l.T("common.quoted", "Text", j)
		}
		out = append(out, TextBlock{Text: line, Wrap: true, IsSubtle: true, Size: SizeSmall, Spacing: SpacingSmall})
	}
	return out
}

// SelfReviewView asks a user about their own access ("Do you still need access to …?").
type SelfReviewView struct {
	ReviewID   string
	InstanceID string
	DecisionID string
	Resource   string
	OrgName    string
	Deadline   time.Time
	// Decision is what is recorded so far (NotReviewed, Approve, Deny); Open is false after the review ended.
	Decision string
	Open     bool
	// MyAccessURL is the tenant-scoped link to the review in My Access. LinkOnly is true when the bot cannot
	// record the answer for this user (no delegated token for the resource tenant): then the card says to
	// answer there, and "I've answered" checks Graph.
	MyAccessURL string
	LinkOnly    bool
	Note        string
	Error       string
	// StageID, Stage and StageCount name the stage of a multi-stage review that asks the user ("Stage 2 of
	// 2"; the answer is recorded on that stage); empty/0 otherwise.
	StageID    string
	Stage      int
	StageCount int
}

// SelfReview is the "do you still need this?" card for a user who reviews their own access (partner guests).
func SelfReview(l *i18n.Localizer, v SelfReviewView) *Card {
	res := safe(orDefault(v.Resource, l.T("review.thisAccess")), maxName)
	org := safe(orDefault(v.OrgName, l.T("common.theOrganization")), maxName)
	head := l.T("self.title", "Resource", res)
	c := newCard(l, head)
	ids := []string{KeyReviewID, v.ReviewID, KeyInstanceID, v.InstanceID, KeyDecisionID, v.DecisionID}
	if v.StageID != "" {
		ids = append(ids, KeyStageID, v.StageID)
	}
	c.add(title(head))
	c.add(subtitle(l.T("self.subtitle", "Org", org, "When", whenOrEmpty(v.Deadline))))
	if v.Stage > 0 && v.StageCount > 0 {
		c.add(stageLine(l, v.Stage, v.StageCount))
	}
	if n := safe(v.Note, maxShort); n != "" {
		c.add(banner(StyleWarning, n, ""))
	}
	switch v.Decision {
	case ReviewApprove:
		c.add(banner(StyleGood, l.T("self.saidYes"), l.T("self.saidYesDetail", "Org", org)))
	case ReviewDeny:
		c.add(banner(StyleEmphasis, l.T("self.saidNo"), l.T("self.saidNoDetail")))
	}
	if !v.Open {
		c.add(footnote(l.T("self.ended")))
		return c
	}
	if v.LinkOnly {
		c.add(text(l.T("self.linkOnly", "Org", org)))
		if v.MyAccessURL != "" {
			c.Actions = append(c.Actions, ActionOpenURL{Title: l.T("self.answerInMyAccess"), URL: v.MyAccessURL})
		}
		c.Actions = append(c.Actions, noInputs(execute(l.T("self.answered"), VerbReviewSelf, append(ids, KeyDecision, ReviewCheck)...)))
		return c
	}
	c.add(InputText{ID: InputJustification, Label: l.T("self.why"), IsMultiline: true, MaxLength: maxLong, Spacing: SpacingMedium,
		Placeholder: l.T("self.whyPlaceholder")})
	if v.Error != "" {
		c.add(fieldError(v.Error))
	}
	c.Actions = []Action{
		execute(l.T("self.yes"), VerbReviewSelf, append(ids, KeyDecision, ReviewApprove)...),
		noInputs(execute(l.T("self.no"), VerbReviewSelf, append(ids, KeyDecision, ReviewDeny)...)),
	}
	if v.MyAccessURL != "" {
		c.Actions = append(c.Actions, ActionOpenURL{Title: l.T("self.openMyAccess"), URL: v.MyAccessURL})
	}
	return c
}

// MyAccessReviewsURL is the tenant-scoped My Access page listing the signed-in user's access reviews.
func MyAccessReviewsURL(tenantDomain string) string {
	if tenantDomain == "" {
		return "https://myaccess.microsoft.com/#/access-reviews"
	}
	return "https://myaccess.microsoft.com/@" + tenantDomain + "#/access-reviews"
}
