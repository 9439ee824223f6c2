package cards

import (
	"strings"

	"github.com/accessbot/accessbot/internal/i18n"
)

// AdminConfirmView describes a destructive admin command awaiting confirmation.
type AdminConfirmView struct {
	// Title is the question ("Revoke Falcon Production Access from Rita Requester?").
	Title string
	// Summary says what will happen, in a sentence or two.
	Summary string
	// Details are title/value facts (user, package, assignment, organization…).
	Details []Fact
	// ConfirmLabel is the confirm button's text ("Revoke"); default "Confirm".
	ConfirmLabel string
	// Token identifies the pending command; it comes back with Confirm or Cancel.
	Token string
	// Irreversible adds "This can't be undone."
	Irreversible bool
}

// AdminConfirm asks an admin to confirm a destructive command.
func AdminConfirm(l *i18n.Localizer, v AdminConfirmView) *Card {
	t := safe(orDefault(v.Title, l.T("confirm.defaultTitle")), maxShort)
	c := newCard(l, t)
	c.add(title(t))
	summary := safe(v.Summary, maxLong)
	if v.Irreversible {
		summary = strings.TrimSpace(summary + " " + l.T("confirm.irreversible"))
	}
	c.add(banner(StyleWarning, l.T("confirm.pleaseConfirm"), summary))
	if len(v.Details) > 0 {
		c.add(factList(SpacingMedium, v.Details, maxFacts, ""))
	}
	c.add(footnote(l.T("confirm.footnote")))
	confirm := noInputs(execute(clip(orDefault(v.ConfirmLabel, l.T("button.confirm")), 30), VerbAdminConfirm, KeyToken, v.Token))
	c.Actions = []Action{confirm, noInputs(execute(l.T("button.cancel"), VerbAdminCancel, KeyToken, v.Token))}
	return c
}

// RowAction is a button on one AdminTable row.
type RowAction struct {
	Title string
	Verb  string
	Data  map[string]string
}

// AdminRow is one row of an AdminTable.
type AdminRow struct {
	// Cells are shown in the order of AdminTableView.Columns; the first is the row's name.
	Cells   []string
	Actions []RowAction
}

// AdminTableView is a titled list for the admin commands (/orgs, /catalogs, /packages, /pending,
// /expiring, /audit).
type AdminTableView struct {
	Title    string
	Subtitle string
	// Columns are the column titles; at most five are shown.
	Columns []string
	Rows    []AdminRow
	// Total is the number of rows found (may exceed len(Rows)).
	Total int
	// EmptyText is shown when there are no rows.
	EmptyText string
	// Footnote is an optional line at the bottom.
	Footnote string
	// MoreCommand is the command that shows the rest ("/audit Rita"); shown with the "and N more" line.
	MoreCommand string
	// MoreAction, when set, is a button that shows the next rows (a page); the "and N more" line then names
	// no command.
	MoreAction *Suggestion
}

// AdminTable shows a list as a table: the first column bold, the others beside it, per-row buttons below.
func AdminTable(l *i18n.Localizer, v AdminTableView) *Card {
	t := safe(orDefault(v.Title, l.T("table.defaultTitle")), maxShort)
	c := newCard(l, t)
	c.add(title(t))
	if s := safe(v.Subtitle, maxShort); s != "" {
		c.add(subtitle(s))
	}
	total := max(v.Total, len(v.Rows))
	if total == 0 {
		c.add(text(orDefault(safe(v.EmptyText, maxShort), l.T("table.empty"))))
		return c
	}
	cols := v.Columns
	if len(cols) > maxAdminCols {
		cols = cols[:maxAdminCols]
	}
	ncol := len(cols)
	for _, r := range v.Rows {
		ncol = max(ncol, min(len(r.Cells), maxAdminCols))
	}
	if len(cols) > 0 {
		hdr := ColumnSet{Spacing: SpacingMedium}
		for i := 0; i < ncol; i++ {
			h := ""
			if i < len(cols) {
				h = safe(cols[i], 40)
			}
			hdr.Columns = append(hdr.Columns, Column{Width: colWidth(i), Items: []Element{
				TextBlock{Text: h, Wrap: true, Weight: WeightBolder, Size: SizeSmall, IsSubtle: true},
			}})
		}
		c.add(hdr)
	}
	rows := v.Rows
	if len(rows) > maxAdminRows {
		rows = rows[:maxAdminRows]
	}
	for _, r := range rows {
		cs := ColumnSet{Separator: true, Spacing: SpacingSmall}
		for i := 0; i < ncol; i++ {
			cell := ""
			if i < len(r.Cells) {
				cell = safe(r.Cells[i], maxCell)
			}
			tb := TextBlock{Text: orDefault(cell, noValue), Wrap: true, Size: SizeSmall}
			if i == 0 {
				tb.Weight = WeightBolder
				tb.Size = ""
			}
			cs.Columns = append(cs.Columns, Column{Width: colWidth(i), Items: []Element{tb}})
		}
		c.add(cs)
		if len(r.Actions) > 0 {
			as := ActionSet{Spacing: SpacingSmall}
			for i, a := range r.Actions {
				if i == maxRowActions {
					break
				}
				ex := ActionExecute{Title: clip(a.Title, 30), Verb: a.Verb}
				if len(a.Data) > 0 {
					ex.Data = make(map[string]any, len(a.Data))
					for k, val := range a.Data {
						ex.Data[k] = val
					}
				}
				as.Actions = append(as.Actions, ex)
			}
			c.add(as)
		}
	}
	if rest := total - len(rows); rest > 0 {
		more := l.N("table.moreRows", rest)
		if v.MoreCommand != "" && v.MoreAction == nil {
			more = l.N("table.moreRowsHint", rest, "Command", safe(v.MoreCommand, 80))
		}
		c.add(moreLine(more))
		if a := v.MoreAction; a != nil {
			c.Actions = append(c.Actions, commandButton(orDefault(a.Title, a.Command), orDefault(a.Command, a.Title)))
		}
	}
	if f := safe(v.Footnote, maxShort); f != "" {
		c.add(footnote(f))
	}
	return c
}

// colWidth gives the first (name) column twice the weight of the others.
func colWidth(i int) string {
	if i == 0 {
		return widthNameColumn
	}
	return widthColumn
}

// Relative column widths of an AdminTable.
const (
	widthNameColumn = "3"
	widthColumn     = "2"
)

// StageView is one approval stage of a policy.
type StageView struct {
	// Approvers are the primary approvers ("Requestor's manager", "Falcon Security Reviewers (group)").
	Approvers []string
	// Fallback are the fallback approvers; Escalation describes escalation ("after 4 hours to Patti").
	Fallback   []string
	Escalation string
	// Timeout is how long before automatic denial ("14 days").
	Timeout string
	// JustificationRequired is the approver justification flag.
	JustificationRequired bool
}

// PolicyDetailView is one assignment policy of a package, as admins see it.
type PolicyDetailView struct {
	ID   string
	Name string
	// WhoCanRequest is the allowed target scope in words ("All members", "Users of Fabrikam").
	WhoCanRequest string
	// Expiry is the assignment expiry in words ("90 days").
	Expiry                string
	JustificationRequired bool
	CustomSchedule        bool
	Stages                []StageView
	Questions             []string
}

// PackageDetailsView is an access package with its policies, for /package.
type PackageDetailsView struct {
	ID          string
	Name        string
	Description string
	CatalogName string
	Hidden      bool
	Resources   []ResourceRoleView
	Policies    []PolicyDetailView
	// TenantDomain builds the tenant-scoped My Access link.
	TenantDomain string
	// Incompatible names the packages and groups whose holders can't get this package (separation of duties).
	Incompatible []string
	// Editable adds the button that opens the package builder on this package.
	Editable bool
}

// PackageDetails shows a package's resources, policies, approvers per stage and expiry, with its My Access
// link.
func PackageDetails(l *i18n.Localizer, v PackageDetailsView) *Card {
	name := safe(orDefault(v.Name, v.ID), maxName)
	c := newCard(l, l.T("details.fallback", "Package", name))
	c.add(title(name))
	sub := safe(v.CatalogName, maxName)
	if v.Hidden {
		sub = strings.TrimPrefix(sub+" · "+l.T("details.hidden"), " · ")
	}
	if sub != "" {
		c.add(subtitle(sub))
	}
	if d := safe(v.Description, maxDescription); d != "" {
		c.add(text(d))
	}
	c.add(facts(l.T("details.packageID"), safe(v.ID, maxName)))
	if res := resourceList(l, v.Resources); res != nil {
		c.add(heading(l.T("details.resources")))
		c.add(res...)
	}
	if len(v.Incompatible) > 0 {
		c.add(heading(l.T("details.incompatible")))
		c.add(text(l.T("details.incompatibleText", "Names", safe(joinNames(l, v.Incompatible), maxLong))))
	}
	if len(v.Policies) == 0 {
		c.add(banner(StyleWarning, l.T("details.noPolicy"), l.T("details.noPolicyDetail")))
	}
	for i, p := range v.Policies {
		if i == maxPolicyDetails {
			c.add(moreLine(l.N("details.morePolicies", len(v.Policies)-i)))
			break
		}
		c.add(policyDetail(l, p))
	}
	c.Actions = []Action{ActionOpenURL{Title: l.T("button.openInMyAccess"), URL: MyAccessURL(v.TenantDomain, v.ID)}}
	if v.Editable {
		c.Actions = append(c.Actions, commandButton(l.T("builder.edit"), "/package "+clip(orDefault(v.Name, v.ID), maxName)+editSuffix))
	}
	return c
}

func policyDetail(l *i18n.Localizer, p PolicyDetailView) Container {
	ct := Container{Separator: true, Spacing: SpacingLarge, Items: []Element{
		TextBlock{Text: l.T("details.policy", "Name", safe(orDefault(p.Name, p.ID), maxName)), Wrap: true, Weight: WeightBolder, Size: SizeMedium},
	}}
	yesNo := func(b bool, yes, no string) string {
		if b {
			return l.T(yes)
		}
		return l.T(no)
	}
	approval := l.T("details.noApproval")
	if len(p.Stages) > 0 {
		approval = l.N("details.stages", len(p.Stages))
	}
	ct.Items = append(ct.Items, facts(
		l.T("details.whoCanRequest"), safe(p.WhoCanRequest, maxShort),
		l.T("details.expiry"), orDefault(safe(p.Expiry, maxShort), l.T("details.noExpiry")),
		l.T("common.justification"), yesNo(p.JustificationRequired, "details.required", "details.optional"),
		l.T("details.customDates"), yesNo(p.CustomSchedule, "details.allowed", "details.notAllowed"),
		l.T("details.approval"), approval,
	))
	for i, s := range p.Stages {
		if i == maxStageLines {
			ct.Items = append(ct.Items, moreLine(l.N("details.moreStages", len(p.Stages)-i)))
			break
		}
		ct.Items = append(ct.Items, stageDetail(l, i+1, s))
	}
	if len(p.Questions) > 0 {
		ct.Items = append(ct.Items, TextBlock{Text: l.T("details.questions", "List", joinInline(l, p.Questions, 100, "; ")), Wrap: true,
			Size: SizeSmall, Spacing: SpacingSmall})
	}
	return ct
}

// stageDetail is one approval stage of a policy: approvers, fallback, escalation, timeout.
func stageDetail(l *i18n.Localizer, n int, s StageView) Container {
	lines := []string{l.T("details.approvers", "List", orDefault(joinAnyOf(l, s.Approvers), l.T("details.noneConfigured")))}
	if len(s.Fallback) > 0 {
		lines = append(lines, l.T("details.fallbackApprovers", "List", joinAnyOf(l, s.Fallback)))
	}
	if s.Escalation != "" {
		lines = append(lines, l.T("details.escalation", "Text", safe(s.Escalation, maxShort)))
	}
	if s.Timeout != "" {
		lines = append(lines, l.T("details.timeout", "Duration", safe(s.Timeout, 60)))
	}
	if s.JustificationRequired {
		lines = append(lines, l.T("details.approverJustification"))
	}
	items := []Element{TextBlock{Text: l.T("details.stage", "Stage", n), Wrap: true, Weight: WeightBolder}}
	for _, line := range lines {
		items = append(items, TextBlock{Text: line, Wrap: true, Spacing: SpacingNone, Size: SizeSmall})
	}
	return Container{Style: StyleEmphasis, Spacing: SpacingSmall, Items: items}
}
