package cards

import (
	"fmt"
	"strings"
	"time"
)

// PersonView describes a requester.
type PersonView struct {
	Name  string
	Email string
	// OrgName is their organization ("Contoso", or "Fabrikam" for a partner user); TenantID its tenant.
	OrgName  string
	TenantID string
	// Manager is their manager's name, when known.
	Manager string
	// External is true for a user of a connected organization.
	External bool
}

// ResourceRoleView is a resource and the role a package grants on it.
type ResourceRoleView struct {
	Resource string
	// Kind is "Team", "SharePoint site", "App", "Group"….
	Kind string
	Role string
}

// String is "Falcon Team (Team) — Member", clipped and safe for a TextBlock.
func (r ResourceRoleView) String() string {
	s := safe(r.Resource, maxName)
	if r.Kind != "" {
		s += " (" + safe(r.Kind, 40) + ")"
	}
	if r.Role != "" {
		s += " — " + safe(r.Role, 60)
	}
	return s
}

// AnswerView is a requester's answer to a policy question.
type AnswerView struct {
	Question string
	Answer   string
}

// Decision is an approver's decision on a stage.
type Decision string

// Decisions, as Graph's reviewResult says them.
const (
	DecisionNotReviewed Decision = "NotReviewed"
	DecisionApprove     Decision = "Approve"
	DecisionDeny        Decision = "Deny"
)

// DecisionView is one approver's decision (or pending review) on a stage.
type DecisionView struct {
	Stage         int
	Approver      string
	Decision      Decision
	At            time.Time
	Justification string
}

// ApprovalView is the approval card of one stage for its approvers.
type ApprovalView struct {
	RequestID  string
	ApprovalID string
	StageID    string
	Requester  PersonView
	// PackageName, PackageDescription and CatalogName describe what is requested.
	PackageName        string
	PackageDescription string
	CatalogName        string
	Resources          []ResourceRoleView
	// Start and End are the requested dates; zero means "from approval" / "per policy".
	Start, End time.Time
	// ExpirySummary is the policy's expiry in words ("90 days"), shown when End is zero.
	ExpirySummary string
	Answers       []AnswerView
	Justification string
	RequestedAt   time.Time
	// StageIndex is 1-based.
	StageIndex, StageCount int
	// Deadline is when the stage is automatically denied; Now is the time the card is built at.
	Deadline, Now time.Time
	// JustificationRequired makes the approver's justification mandatory.
	JustificationRequired bool
	// Decisions are the other approvers' decisions so far (all stages).
	Decisions []DecisionView
	// ApproverIDs are the Teams user ids (29:…) of the stage's approvers, for refresh.userIds.
	ApproverIDs []string
	// Note is an extra line at the top such as "Reminder: this request is still waiting for you." or
	// "Escalated to you: Aaron Approver did not decide within 4 hours."
	Note string
	// Error is shown under the justification after a rejected decision ("A justification is required").
	Error string
	// JustificationValue re-fills the justification input.
	JustificationValue string
	Mode               Mode
	OrgName            string
}

// Approval is the card approvers decide on: who asks for what, why, until when, and Approve / Deny.
// Its refresh lists the stage's approvers (at most MaxRefreshUserIDs; the others use the Refresh button) so
// that each sees the current state when they open the chat.
func Approval(v ApprovalView) *Card {
	pkg := safe(orDefault(v.PackageName, "an access package"), maxName)
	who := safe(orDefault(v.Requester.Name, "Someone"), maxName)
	c := newCard(who + " requests " + pkg)
	ids := []string{KeyRequestID, v.RequestID, KeyApprovalID, v.ApprovalID, KeyStageID, v.StageID}

	c.Refresh = &Refresh{Action: noInputs(execute("Refresh", VerbApprovalRefresh, ids...)), UserIDs: refreshIDs(v.ApproverIDs)}

	c.add(title("Approval needed: " + pkg))
	sub := "Access request"
	if v.StageCount > 1 {
		sub = fmt.Sprintf("Access request · stage %d of %d", max(v.StageIndex, 1), v.StageCount)
	}
	c.add(subtitle(sub))
	if n := safe(v.Note, maxShort); n != "" {
		c.add(banner(StyleWarning, n, ""))
	}
	if d := safe(v.PackageDescription, maxDescription); d != "" {
		c.add(TextBlock{Text: d, Wrap: true, IsSubtle: true, Spacing: SpacingSmall})
	}

	tenant := ""
	if v.Requester.External {
		tenant = safe(v.Requester.TenantID, maxName)
	}
	c.add(facts(
		"Requester", personLine(v.Requester),
		"Email", safe(v.Requester.Email, maxName),
		"Tenant", tenant,
		"Manager", safe(v.Requester.Manager, maxName),
		"Package", pkg,
		"Catalog", safe(v.CatalogName, maxName),
		"Requested", whenOrEmpty(v.RequestedAt),
		"Access", accessWindow(v.Start, v.End, v.ExpirySummary),
	))
	if res := resourceList(v.Resources); res != nil {
		c.add(heading("Grants"))
		c.add(res...)
	}
	if len(v.Answers) > 0 {
		c.add(heading("Answers"))
		c.add(answerFacts(v.Answers)...)
	}
	c.add(heading("Justification"))
	c.add(text(orDefault(safe(v.Justification, maxLong), "None given.")))

	if dl := deadlineLine(v.Deadline, v.Now); dl != nil {
		c.add(*dl)
	}
	if d := decisionsList(v.Decisions); d != nil {
		c.add(heading("Decisions so far"))
		c.add(d...)
	}

	in := InputText{ID: InputJustification, Label: "Your justification", IsMultiline: true, MaxLength: maxLong,
		Value: v.JustificationValue, Placeholder: "Seen by the requester and the other approvers", Spacing: SpacingLarge,
		Separator: true}
	if v.JustificationRequired {
		in.IsRequired = true
		in.ErrorMessage = "A justification is required to approve or deny."
	} else {
		in.Label += " (optional)"
	}
	c.add(in)
	if v.Error != "" {
		c.add(fieldError(v.Error))
	}
	if note := approvalModeNote(v.Mode, v.OrgName); note != "" {
		c.add(footnote(note))
	}
	approve := execute("Approve", VerbApprovalApprove, ids...)
	deny := execute("Deny", VerbApprovalDeny, ids...)
	c.Actions = []Action{approve, deny, noInputs(execute("Refresh", VerbApprovalRefresh, ids...))}
	return c
}

// refreshIDs keeps the first MaxRefreshUserIDs distinct non-empty ids.
func refreshIDs(ids []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, id := range ids {
		if id = strings.TrimSpace(id); id == "" || seen[id] {
			continue
		}
		seen[id] = true
		out = append(out, id)
		if len(out) == MaxRefreshUserIDs {
			break
		}
	}
	return out
}

// approvalModeNote is the approval card's footnote.
func approvalModeNote(m Mode, org string) string {
	org = safe(orDefault(org, "the organization"), maxName)
	switch m {
	case ModeBrokered:
		return "AccessBot ran this approval on behalf of " + org + " (brokered): your decision is recorded in its audit log."
	case ModeDelegated:
		return "Your decision is sent to " + org + "'s Entra ID with your own account (delegated)."
	}
	return ""
}

func personLine(p PersonView) string {
	s := safe(orDefault(p.Name, "Unknown"), maxName)
	if p.OrgName != "" {
		s += " (" + safe(p.OrgName, maxName)
		if p.External {
			s += ", partner organization"
		}
		s += ")"
	}
	return s
}

func whenOrEmpty(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return when(t)
}

func accessWindow(start, end time.Time, expiry string) string {
	from := "from approval"
	if !start.IsZero() {
		from = "from " + day(start)
	}
	switch {
	case !end.IsZero():
		return from + " until " + day(end)
	case expiry != "":
		return from + ", for " + safe(expiry, maxShort)
	}
	return from
}

func resourceList(rs []ResourceRoleView) []Element {
	if len(rs) == 0 {
		return nil
	}
	ct := Container{Spacing: SpacingSmall}
	for i, r := range rs {
		if i == maxResources {
			ct.Items = append(ct.Items, moreLine(len(rs)-i, "resources"))
			break
		}
		ct.Items = append(ct.Items, TextBlock{Text: "• " + r.String(), Wrap: true, Spacing: SpacingNone})
	}
	return []Element{ct}
}

func answerFacts(as []AnswerView) []Element {
	fs := FactSet{Spacing: SpacingSmall}
	for i, a := range as {
		if i == maxAnswers {
			return []Element{fs, moreLine(len(as)-i, "answers")}
		}
		fs.Facts = append(fs.Facts, Fact{Title: safe(a.Question, 80), Value: orDefault(safe(a.Answer, 300), "—")})
	}
	return []Element{fs}
}

// deadlineLine says how long is left before the stage is denied automatically.
func deadlineLine(deadline, now time.Time) *TextBlock {
	if deadline.IsZero() {
		return nil
	}
	tb := TextBlock{Wrap: true, Spacing: SpacingMedium}
	if now.IsZero() {
		tb.Text = "Decide by " + when(deadline) + ", or the request is denied automatically."
		return &tb
	}
	left := deadline.Sub(now)
	if left <= 0 {
		tb.Text = "The time to decide has run out; the request is being denied automatically."
		tb.Color = ColorAttention
		return &tb
	}
	tb.Text = "Decide within " + humanDuration(left) + " (by " + when(deadline) + "), or the request is denied automatically."
	if left <= 24*time.Hour {
		tb.Weight = WeightBolder
	}
	return &tb
}

func decisionLabel(d Decision) string {
	switch d {
	case DecisionApprove:
		return "Approved"
	case DecisionDeny:
		return "Denied"
	}
	return "Not decided yet"
}

func decisionsList(ds []DecisionView) []Element {
	if len(ds) == 0 {
		return nil
	}
	ct := Container{Spacing: SpacingSmall}
	for i, d := range ds {
		if i == maxDecisions {
			ct.Items = append(ct.Items, moreLine(len(ds)-i, "decisions"))
			break
		}
		line := safe(orDefault(d.Approver, "An approver"), maxName) + " — " + decisionLabel(d.Decision)
		if !d.At.IsZero() {
			line += " on " + when(d.At)
		}
		if d.Stage > 0 {
			line = fmt.Sprintf("Stage %d: %s", d.Stage, line)
		}
		items := []Element{TextBlock{Text: line, Wrap: true, Spacing: SpacingNone, Color: decisionColor(d.Decision)}}
		if j := safe(d.Justification, 300); j != "" {
			items = append(items, TextBlock{Text: "\"" + j + "\"", Wrap: true, IsSubtle: true, Spacing: SpacingNone})
		}
		ct.Items = append(ct.Items, Container{Items: items, Spacing: SpacingSmall})
	}
	return []Element{ct}
}

func decisionColor(d Decision) string {
	switch d {
	case DecisionApprove:
		return ColorGood
	case DecisionDeny:
		return ColorAttention
	}
	return ""
}

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
func closureBanner(c Closure, reason string) (headline, style, detail string) {
	nothing := "Nothing is left to decide."
	switch c {
	case ClosureCanceledByRequester:
		return "Canceled by the requester", StyleEmphasis, nothing
	case ClosureCanceled:
		return "This request was canceled", StyleEmphasis, nothing
	case ClosureExpired:
		return "Expired: nobody decided in time", StyleAttention, "The request was denied automatically. " + nothing
	case ClosureAutoDenied:
		d := nothing
		if r := safe(reason, maxShort); r != "" {
			d = strings.TrimSuffix(r, ".") + ". " + nothing
		}
		return "Denied automatically", StyleAttention, d
	}
	return "", "", ""
}

// ApprovalDecided is the read-only view of an approval: who decided, when and why, or how the request ended
// when nobody decided this stage.
func ApprovalDecided(v ApprovalDecidedView) *Card {
	pkg := safe(orDefault(v.PackageName, "an access package"), maxName)
	req := safe(orDefault(v.RequesterName, "Someone"), maxName)
	c := newCard(req + "'s request for " + pkg)
	c.add(title(pkg))
	sub := req + "'s request"
	if v.RequesterOrg != "" {
		sub += " (" + safe(v.RequesterOrg, maxName) + ")"
	}
	if v.StageCount > 1 {
		sub += fmt.Sprintf(" · stage %d of %d", max(v.StageIndex, 1), v.StageCount)
	}
	c.add(subtitle(sub))

	verb := strings.ToLower(decisionLabel(v.Outcome))
	by := safe(orDefault(v.DecidedBy, "another approver"), maxName)
	headline, style, closedDetail := closureBanner(v.Closed, v.Reason)
	decidedStage := headline == "" && v.Outcome != DecisionNotReviewed && v.Outcome != ""
	switch {
	case headline != "":
	case !decidedStage:
		headline = "Not decided yet"
	case v.AlreadyDecided:
		headline = "Already " + verb + " by " + firstName(by)
		if !v.DecidedAt.IsZero() {
			headline += " at " + clock(v.DecidedAt)
		}
	case v.ByYou:
		headline = "You " + verb + " this request"
	default:
		headline = strings.ToUpper(verb[:1]) + verb[1:] + " by " + by
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
			detail = append(detail, "Your click changed nothing.")
		}
	case v.AlreadyDecided:
		detail = append(detail, "Your click changed nothing: a stage takes one decision.")
	}
	if v.NotApprover && closedDetail == "" {
		detail = append(detail, "You are not an approver of this stage, so this card is read-only.")
	}
	c.add(banner(style, headline, strings.Join(detail, " ")))
	if decidedStage {
		c.add(facts(
			"Decided by", by,
			"When", whenOrEmpty(v.DecidedAt),
			"Justification", orDefault(safe(v.Justification, maxLong), "None given."),
		))
	}
	if n := safe(v.Next, maxShort); n != "" {
		c.add(TextBlock{Text: n, Wrap: true, Spacing: SpacingMedium})
	}
	if d := decisionsList(v.Decisions); d != nil {
		c.add(heading("History"))
		c.add(d...)
	}
	if v.Mode == ModeBrokered {
		c.add(footnote("AccessBot ran this approval on behalf of " + safe(orDefault(v.OrgName, "the organization"), maxName) + " (brokered)."))
	}
	c.Actions = []Action{noInputs(execute("Refresh", VerbApprovalRefresh,
		KeyRequestID, v.RequestID, KeyApprovalID, v.ApprovalID, KeyStageID, v.StageID))}
	return c
}

// InboxItemView is one pending decision in the approver's inbox.
type InboxItemView struct {
	RequestID     string
	ApprovalID    string
	StageID       string
	PackageName   string
	RequesterName string
	RequesterOrg  string
	RequestedAt   time.Time
	Deadline      time.Time
	StageIndex    int
	StageCount    int
}

// ApprovalInboxView is the approver's list of pending decisions.
type ApprovalInboxView struct {
	Items []InboxItemView
	Total int
	Now   time.Time
}

// ApprovalInbox lists the approver's pending decisions, each with an Open button.
func ApprovalInbox(v ApprovalInboxView) *Card {
	c := newCard("Requests waiting for your decision.")
	c.add(title("Waiting for your decision"))
	total := max(v.Total, len(v.Items))
	if total == 0 {
		c.add(text("Nothing is waiting for you. When someone asks for access you approve, I'll send you a card here."))
		return c
	}
	c.add(subtitle(plural(total, "request")))
	shown := v.Items
	if len(shown) > maxListItems {
		shown = shown[:maxListItems]
	}
	for i, it := range shown {
		who := safe(orDefault(it.RequesterName, "Someone"), maxName)
		if it.RequesterOrg != "" {
			who += " (" + safe(it.RequesterOrg, maxName) + ")"
		}
		left := []Element{
			TextBlock{Text: safe(orDefault(it.PackageName, it.RequestID), maxName), Wrap: true, Weight: WeightBolder},
			TextBlock{Text: who, Wrap: true, Spacing: SpacingNone},
		}
		var meta []string
		if it.StageCount > 1 {
			meta = append(meta, fmt.Sprintf("stage %d of %d", max(it.StageIndex, 1), it.StageCount))
		}
		if !it.RequestedAt.IsZero() {
			meta = append(meta, "requested "+when(it.RequestedAt))
		}
		if !it.Deadline.IsZero() && !v.Now.IsZero() {
			if left := it.Deadline.Sub(v.Now); left > 0 {
				meta = append(meta, humanDuration(left)+" left")
			} else {
				meta = append(meta, "time is up")
			}
		}
		if len(meta) > 0 {
			left = append(left, TextBlock{Text: strings.Join(meta, " · "), Wrap: true, IsSubtle: true, Size: SizeSmall, Spacing: SpacingNone})
		}
		c.add(Container{Separator: i > 0, Spacing: SpacingMedium, Items: []Element{ColumnSet{Columns: []Column{
			{Width: WidthStretch, Items: left},
			{Width: WidthAuto, VerticalContentAlignment: "center", Items: []Element{ActionSet{Actions: []Action{
				execute("Open", VerbApprovalOpen, KeyRequestID, it.RequestID, KeyApprovalID, it.ApprovalID, KeyStageID, it.StageID),
			}}}},
		}}}})
	}
	if rest := total - len(shown); rest > 0 {
		c.add(moreLine(rest, "requests; decide these first"))
	}
	return c
}
