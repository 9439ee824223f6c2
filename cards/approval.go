package cards

import (
	"strings"
	"time"

	"github.com/accessbot/accessbot/internal/i18n"
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

// String is "Falcon Team (Team) — Member", clipped and safe for a TextBlock. Kind and Role come localized
// from the caller (or are Graph's own names).
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
func Approval(l *i18n.Localizer, v ApprovalView) *Card {
	pkg := safe(orDefault(v.PackageName, l.T("common.anAccessPackage")), maxName)
	who := safe(orDefault(v.Requester.Name, l.T("common.someone")), maxName)
	c := newCard(l, l.T("approval.fallback", "Who", who, "Package", pkg))
	ids := []string{KeyRequestID, v.RequestID, KeyApprovalID, v.ApprovalID, KeyStageID, v.StageID}

	c.Refresh = &Refresh{Action: noInputs(execute(l.T("button.refresh"), VerbApprovalRefresh, ids...)), UserIDs: refreshIDs(v.ApproverIDs)}

	c.add(title(l.T("approval.title", "Package", pkg)))
	sub := l.T("approval.subtitle")
	if v.StageCount > 1 {
		sub = l.T("approval.subtitleStage", "Stage", max(v.StageIndex, 1), "Stages", v.StageCount)
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
		l.T("approval.requester"), personLine(l, v.Requester),
		l.T("approval.email"), safe(v.Requester.Email, maxName),
		l.T("approval.tenant"), tenant,
		l.T("approval.manager"), safe(v.Requester.Manager, maxName),
		l.T("approval.package"), pkg,
		l.T("approval.catalog"), safe(v.CatalogName, maxName),
		l.T("approval.requested"), whenOrEmpty(v.RequestedAt),
		l.T("approval.access"), accessWindow(l, v.Start, v.End, v.ExpirySummary),
	))
	if res := resourceList(l, v.Resources); res != nil {
		c.add(heading(l.T("approval.grants")))
		c.add(res...)
	}
	if len(v.Answers) > 0 {
		c.add(heading(l.T("approval.answers")))
		c.add(answerFacts(l, v.Answers)...)
	}
	c.add(heading(l.T("common.justification")))
	c.add(text(orDefault(safe(v.Justification, maxLong), l.T("common.noneGiven"))))

	if dl := deadlineLine(l, v.Deadline, v.Now); dl != nil {
		c.add(*dl)
	}
	if d := decisionsList(l, v.Decisions); d != nil {
		c.add(heading(l.T("approval.decisionsSoFar")))
		c.add(d...)
	}

	in := InputText{ID: InputJustification, Label: l.T("approval.yourJustification"), IsMultiline: true, MaxLength: maxLong,
		Value: v.JustificationValue, Placeholder: l.T("approval.justificationPlaceholder"), Spacing: SpacingLarge,
		Separator: true}
	if v.JustificationRequired {
		in.IsRequired = true
		in.ErrorMessage = l.T("approval.justificationRequired")
	} else {
		in.Label = l.T("common.optional", "Label", in.Label)
	}
	c.add(in)
	if v.Error != "" {
		c.add(fieldError(v.Error))
	}
	if note := approvalModeNote(l, v.Mode, v.OrgName); note != "" {
		c.add(footnote(note))
	}
	approve := execute(l.T("button.approve"), VerbApprovalApprove, ids...)
	deny := execute(l.T("button.deny"), VerbApprovalDeny, ids...)
	c.Actions = []Action{approve, deny, noInputs(execute(l.T("button.refresh"), VerbApprovalRefresh, ids...))}
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
func approvalModeNote(l *i18n.Localizer, m Mode, org string) string {
	org = safe(orDefault(org, l.T("common.theOrganization")), maxName)
	switch m {
	case ModeBrokered:
		return l.T("approval.mode.brokered", "Org", org)
	case ModeDelegated:
		return l.T("approval.mode.delegated", "Org", org)
	}
	return ""
}

func personLine(l *i18n.Localizer, p PersonView) string {
	name := safe(orDefault(p.Name, l.T("common.unknown")), maxName)
	switch {
	case p.OrgName != "" && p.External:
		return l.T("approval.personPartner", "Name", name, "Org", safe(p.OrgName, maxName))
	case p.OrgName != "":
		return l.T("approval.personOrg", "Name", name, "Org", safe(p.OrgName, maxName))
	}
	return name
}

func whenOrEmpty(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return when(t)
}

func accessWindow(l *i18n.Localizer, start, end time.Time, expiry string) string {
	from := l.T("approval.fromApproval")
	if !start.IsZero() {
		from = l.T("approval.fromDate", "Date", day(start))
	}
	switch {
	case !end.IsZero():
		return l.T("approval.windowUntil", "From", from, "Until", day(end))
	case expiry != "":
		return l.T("approval.windowFor", "From", from, "Expiry", safe(expiry, maxShort))
	}
	return from
}

func resourceList(l *i18n.Localizer, rs []ResourceRoleView) []Element {
	if len(rs) == 0 {
		return nil
	}
	ct := Container{Spacing: SpacingSmall}
	for i, r := range rs {
		if i == maxResources {
			ct.Items = append(ct.Items, moreLine(l.N("common.moreResources", len(rs)-i)))
			break
		}
		ct.Items = append(ct.Items, TextBlock{Text: bullet + r.String(), Wrap: true, Spacing: SpacingNone})
	}
	return []Element{ct}
}

func answerFacts(l *i18n.Localizer, as []AnswerView) []Element {
	fs := FactSet{Spacing: SpacingSmall}
	for i, a := range as {
		if i == maxAnswers {
			return []Element{fs, moreLine(l.N("approval.moreAnswers", len(as)-i))}
		}
		fs.Facts = append(fs.Facts, Fact{Title: safe(a.Question, 80), Value: orDefault(safe(a.Answer, 300), noValue)})
	}
	return []Element{fs}
}

// deadlineLine says how long is left before the stage is denied automatically.
func deadlineLine(l *i18n.Localizer, deadline, now time.Time) *TextBlock {
	if deadline.IsZero() {
		return nil
	}
	tb := TextBlock{Wrap: true, Spacing: SpacingMedium}
	if now.IsZero() {
		tb.Text = l.T("approval.decideBy", "When", when(deadline))
		return &tb
	}
	left := deadline.Sub(now)
	if left <= 0 {
		tb.Text = l.T("approval.timeUp")
		tb.Color = ColorAttention
		return &tb
	}
	tb.Text = l.T("approval.decideWithin", "In", l.Duration(left), "When", when(deadline))
	if left <= 24*time.Hour {
		tb.Weight = WeightBolder
	}
	return &tb
}

// decisionLabel is a decision in words ("Approved", "Denied", "Not decided yet").
func decisionLabel(l *i18n.Localizer, d Decision) string {
	switch d {
	case DecisionApprove:
		return l.T("state.approved")
	case DecisionDeny:
		return l.T("state.denied")
	}
	return l.T("approval.notDecided")
}

func decisionsList(l *i18n.Localizer, ds []DecisionView) []Element {
	if len(ds) == 0 {
		return nil
	}
	ct := Container{Spacing: SpacingSmall}
	for i, d := range ds {
		if i == maxDecisions {
			ct.Items = append(ct.Items, moreLine(l.N("approval.moreDecisions", len(ds)-i)))
			break
		}
		line := l.T("approval.decisionLine", "Approver", safe(orDefault(d.Approver, l.T("common.anApprover")), maxName),
			"Decision", decisionLabel(l, d.Decision))
		if !d.At.IsZero() {
			line = l.T("approval.decisionLineAt", "Line", line, "When", when(d.At))
		}
		if d.Stage > 0 {
			line = l.T("approval.decisionLineStage", "Stage", d.Stage, "Line", line)
		}
		items := []Element{TextBlock{Text: line, Wrap: true, Spacing: SpacingNone, Color: decisionColor(d.Decision)}}
		if j := safe(d.Justification, 300); j != "" {
			items = append(items, TextBlock{Text: l.T("common.quoted", "Text", j), Wrap: true, IsSubtle: true, Spacing: SpacingNone})
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
