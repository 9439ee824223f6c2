package cards

import (
	"fmt"
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
}

// ReviewView is a reviewer's card for one page of an access review instance.
type ReviewView struct {
	ReviewID   string
	InstanceID string
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

func recommendationLine(r string) (string, string) {
	switch r {
	case ReviewApprove:
		return "Recommended: approve (signed in recently)", ColorGood
	case ReviewDeny:
		return "Recommended: deny (no sign-in for 30 days or more)", ColorAttention
	case "NoInfoAvailable":
		return "No recommendation (no sign-in data)", ""
	}
	return "", ""
}

func reviewDecisionLabel(d string) (string, string) {
	switch d {
	case ReviewApprove:
		return "Approved", ColorGood
	case ReviewDeny:
		return "Denied", ColorAttention
	case ReviewDontKnow:
		return "Don't know", ColorWarning
	}
	return "Not decided yet", ""
}

// Review is the reviewer's card: what is reviewed, the deadline, and one row per person with the evidence and
// Approve / Deny / Don't know; plus Accept recommendations, decide the page or everything remaining, and paging.
// It shows at most MaxReviewItems people (the page size the bot uses) and stays under MaxCardBytes.
func Review(l *i18n.Localizer, v ReviewView) *Card {
	name := safe(orDefault(v.Name, "Access review"), maxName)
	c := newCard(l, "Access review: " + name)
	ids := []string{KeyReviewID, v.ReviewID, KeyInstanceID, v.InstanceID}
	page := strconv.Itoa(max(v.Page, 1))
	c.add(title("Access review: " + name))
	what := "Do these people still need " + safe(orDefault(v.Resource, "this access"), maxName)
	if v.ResourceKind != "" {
		what += " (" + safe(v.ResourceKind, 40) + ")"
	}
	c.add(subtitle(what + "?"))
	if n := safe(v.Note, maxShort); n != "" {
		c.add(banner(StyleWarning, n, ""))
	}
	progress := fmt.Sprintf("%d of %d decided", v.Total-v.Remaining, v.Total)
	c.add(facts("Decide by", whenOrEmpty(v.Deadline), "Progress", progress, "Status", safe(v.Status, 40)))
	if v.Open && !v.Deadline.IsZero() && !v.Now.IsZero() && v.Deadline.Sub(v.Now) <= 48*time.Hour && v.Deadline.After(v.Now) {
		c.add(TextBlock{Text: "Less than " + l.Duration(v.Deadline.Sub(v.Now)+time.Minute) + " left to decide.", Wrap: true, Weight: WeightBolder, Color: ColorAttention})
	}
	var undecided []string
	for i, it := range v.Items {
		if i == MaxReviewItems {
			c.add(moreLine(fmt.Sprintf("…and %d more people on this page", len(v.Items)-i)))
			break
		}
		c.add(reviewItem(it, v.Open, ids, page, i == 0))
		if it.Decision == "" || it.Decision == "NotReviewed" {
			undecided = append(undecided, it.DecisionID)
		}
	}
	if !v.Open {
		c.add(footnote("This review is " + orDefault(safe(v.Status, 40), "closed") + ": decisions can no longer be changed."))
		c.Actions = []Action{noInputs(execute("Refresh", VerbReviewOpen, append(ids, KeyPage, page)...))}
		return c
	}
	label := "Justification (optional)"
	if v.JustificationRequired {
		label = "Justification (required to approve)"
	}
	c.add(InputText{ID: InputJustification, Label: label, IsMultiline: true, MaxLength: maxLong, Spacing: SpacingLarge, Separator: true,
		Placeholder: "Used for the decisions you record from this card"})
	if v.Error != "" {
		c.add(fieldError(v.Error))
	}
	if len(undecided) > 0 && v.PageCount > 1 {
		items := joinIDs(undecided)
		c.add(ActionSet{Spacing: SpacingSmall, Actions: []Action{
			execute(fmt.Sprintf("Approve page (%d)", len(undecided)), VerbReviewDecidePage, append(ids, KeyPage, page, KeyDecision, ReviewApprove, KeyItems, items)...),
			execute(fmt.Sprintf("Deny page (%d)", len(undecided)), VerbReviewDecidePage, append(ids, KeyPage, page, KeyDecision, ReviewDeny, KeyItems, items)...),
		}})
	}
	if v.Remaining > 0 {
		c.add(ActionSet{Spacing: SpacingSmall, Actions: []Action{
			execute(fmt.Sprintf("Approve rest (%d)", v.Remaining), VerbReviewDecideAll, append(ids, KeyDecision, ReviewApprove)...),
			execute(fmt.Sprintf("Deny rest (%d)", v.Remaining), VerbReviewDecideAll, append(ids, KeyDecision, ReviewDeny)...),
		}})
	}
	if v.PageCount > 1 {
		var nav []Action
		if v.Page > 1 {
			nav = append(nav, noInputs(execute("◀ Previous", VerbReviewOpen, append(ids, KeyPage, strconv.Itoa(v.Page-1))...)))
		}
		if v.Page < v.PageCount {
			nav = append(nav, noInputs(execute("Next ▶", VerbReviewOpen, append(ids, KeyPage, strconv.Itoa(v.Page+1))...)))
		}
		c.add(TextBlock{Text: fmt.Sprintf("Page %d of %d", v.Page, v.PageCount), Wrap: true, IsSubtle: true, Size: SizeSmall, Spacing: SpacingMedium})
		c.add(ActionSet{Spacing: SpacingSmall, Actions: nav})
	}
	c.add(footnote("Your decisions are recorded in Entra ID with your own account (delegated), like in My Access."))
	if v.Remaining > 0 && v.Recommendations {
		c.Actions = append(c.Actions, noInputs(execute("Accept recommendations", VerbReviewAccept, ids...)))
	}
	c.Actions = append(c.Actions, noInputs(execute("Refresh", VerbReviewOpen, append(ids, KeyPage, page)...)))
	return c
}

func obtained(it ReviewItemView) string {
	s := safe(it.Obtained, 120)
	if !it.Since.IsZero() {
		s = strings.TrimSpace(s + " since " + day(it.Since))
	}
	return orDefault(s, "—")
}

func joinIDs(ids []string) string {
	out := ""
	for i, id := range ids {
		if i > 0 {
			out += ","
		}
		out += id
	}
	return out
}

func reviewItem(it ReviewItemView, open bool, ids []string, page string, first bool) Container {
	items := []Element{TextBlock{Text: safe(orDefault(it.Name, "Someone"), 80), Wrap: true, Weight: WeightBolder}}
	if d := safe(it.Detail, 80); d != "" {
		items = append(items, TextBlock{Text: d, Wrap: true, IsSubtle: true, Size: SizeSmall, Spacing: SpacingNone})
	}
	if line, color := recommendationLine(it.Recommendation); line != "" {
		items = append(items, TextBlock{Text: line, Wrap: true, Color: color, Size: SizeSmall, Spacing: SpacingSmall})
	}
	signIn := "never seen"
	if !it.LastSignIn.IsZero() {
		signIn = day(it.LastSignIn)
	}
	ends := "no end date"
	if !it.AccessEnds.IsZero() {
		ends = day(it.AccessEnds)
	}
	items = append(items, FactSet{Spacing: SpacingSmall, Facts: []Fact{
		{Title: "Last sign-in", Value: signIn},
		{Title: "Access", Value: obtained(it)},
		{Title: "Ends", Value: ends},
	}})
	label, color := reviewDecisionLabel(it.Decision)
	if it.DecidedBy != "" {
		label += " by " + safe(it.DecidedBy, 60)
	}
	items = append(items, TextBlock{Text: label, Wrap: true, Weight: WeightBolder, Color: color, Size: SizeSmall, Spacing: SpacingSmall})
	if j := safe(it.Justification, 140); j != "" {
		items = append(items, TextBlock{Text: "\"" + j + "\"", Wrap: true, IsSubtle: true, Size: SizeSmall, Spacing: SpacingNone})
	}
	if open {
		data := append(ids, KeyPage, page, KeyDecisionID, it.DecisionID)
		verb := "Approve"
		if it.Decision != "" && it.Decision != "NotReviewed" {
			verb = "Change to approve"
		}
		items = append(items, ActionSet{Spacing: SpacingSmall, Actions: []Action{
			execute(verb, VerbReviewDecide, append(data, KeyDecision, ReviewApprove)...),
			execute("Deny", VerbReviewDecide, append(data, KeyDecision, ReviewDeny)...),
			execute("Don't know", VerbReviewDecide, append(data, KeyDecision, ReviewDontKnow)...),
		}})
	}
	return Container{Items: items, Separator: !first, Spacing: SpacingMedium}
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
}

// SelfReview is the "do you still need this?" card for a user who reviews their own access (partner guests).
func SelfReview(l *i18n.Localizer, v SelfReviewView) *Card {
	res := safe(orDefault(v.Resource, "this access"), maxName)
	org := safe(orDefault(v.OrgName, "the organization"), maxName)
	c := newCard(l, "Do you still need access to "+res+"?")
	ids := []string{KeyReviewID, v.ReviewID, KeyInstanceID, v.InstanceID, KeyDecisionID, v.DecisionID}
	c.add(title("Do you still need access to " + res + "?"))
	c.add(subtitle(org + " reviews who still needs this access. Please answer by " + whenOrEmpty(v.Deadline) + "."))
	if n := safe(v.Note, maxShort); n != "" {
		c.add(banner(StyleWarning, n, ""))
	}
	switch v.Decision {
	case ReviewApprove:
		c.add(banner(StyleGood, "You said you still need it", "Thanks, your answer is recorded in "+org+"'s review."))
	case ReviewDeny:
		c.add(banner(StyleEmphasis, "You said you no longer need it", "Your access ends when the review is applied."))
	}
	if !v.Open {
		c.add(footnote("This review has ended."))
		return c
	}
	if v.LinkOnly {
		c.add(text("I can't record your answer from this chat: your Teams sign-in belongs to your own organization, and " +
			org + " records review answers only with an account of " + org + ". Answer in My Access (it opens " + org +
			"'s review directly), then tell me and I'll confirm once your answer shows up."))
		if v.MyAccessURL != "" {
			c.Actions = append(c.Actions, ActionOpenURL{Title: "Answer in My Access", URL: v.MyAccessURL})
		}
		c.Actions = append(c.Actions, noInputs(execute("I've answered", VerbReviewSelf, append(ids, KeyDecision, ReviewCheck)...)))
		return c
	}
	c.add(InputText{ID: InputJustification, Label: "Why do you still need it?", IsMultiline: true, MaxLength: maxLong, Spacing: SpacingMedium,
		Placeholder: "For example: the project runs until March"})
	if v.Error != "" {
		c.add(fieldError(v.Error))
	}
	c.Actions = []Action{
		execute("Yes, I still need it", VerbReviewSelf, append(ids, KeyDecision, ReviewApprove)...),
		noInputs(execute("No, remove it", VerbReviewSelf, append(ids, KeyDecision, ReviewDeny)...)),
	}
	if v.MyAccessURL != "" {
		c.Actions = append(c.Actions, ActionOpenURL{Title: "Open in My Access", URL: v.MyAccessURL})
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
