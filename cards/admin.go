package cards

import (
	"fmt"
	"strings"
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
func AdminConfirm(v AdminConfirmView) *Card {
	t := safe(orDefault(v.Title, "Confirm this change?"), maxShort)
	c := newCard(t)
	c.add(title(t))
	summary := safe(v.Summary, maxLong)
	if v.Irreversible {
		summary = strings.TrimSpace(summary + " This can't be undone.")
	}
	c.add(banner(StyleWarning, "Please confirm", summary))
	if len(v.Details) > 0 {
		fs := FactSet{Spacing: SpacingMedium}
		for i, f := range v.Details {
			if i == maxFacts {
				break
			}
			fs.Facts = append(fs.Facts, Fact{Title: safe(f.Title, 60), Value: safe(f.Value, maxShort)})
		}
		c.add(fs)
	}
	c.add(footnote("Nothing changes until you confirm. The action is recorded in the audit log under your name."))
	confirm := noInputs(execute(clip(orDefault(v.ConfirmLabel, "Confirm"), 30), VerbAdminConfirm, KeyToken, v.Token))
	c.Actions = []Action{confirm, noInputs(execute("Cancel", VerbAdminCancel, KeyToken, v.Token))}
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
}

// AdminTable shows a list as a table: the first column bold, the others beside it, per-row buttons below.
func AdminTable(v AdminTableView) *Card {
	t := safe(orDefault(v.Title, "Results"), maxShort)
	c := newCard(t)
	c.add(title(t))
	if s := safe(v.Subtitle, maxShort); s != "" {
		c.add(subtitle(s))
	}
	total := max(v.Total, len(v.Rows))
	if total == 0 {
		c.add(text(orDefault(safe(v.EmptyText, maxShort), "Nothing to show.")))
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
			tb := TextBlock{Text: orDefault(cell, "—"), Wrap: true, Size: SizeSmall}
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
		what := "rows"
		if v.MoreCommand != "" {
			what = fmt.Sprintf("rows; narrow it down, e.g. %s", safe(v.MoreCommand, 80))
		}
		c.add(moreLine(rest, what))
	}
	if f := safe(v.Footnote, maxShort); f != "" {
		c.add(footnote(f))
	}
	return c
}

// colWidth gives the first (name) column twice the weight of the others.
func colWidth(i int) string {
	if i == 0 {
		return "3"
	}
	return "2"
}

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
}

// PackageDetails shows a package's resources, policies, approvers per stage and expiry, with its My Access
// link.
func PackageDetails(v PackageDetailsView) *Card {
	name := safe(orDefault(v.Name, v.ID), maxName)
	c := newCard("Access package " + name)
	c.add(title(name))
	sub := safe(v.CatalogName, maxName)
	if v.Hidden {
		sub = strings.TrimPrefix(sub+" · hidden (not listed to requesters)", " · ")
	}
	if sub != "" {
		c.add(subtitle(sub))
	}
	if d := safe(v.Description, maxDescription); d != "" {
		c.add(text(d))
	}
	c.add(facts("Package id", safe(v.ID, maxName)))
	if res := resourceList(v.Resources); res != nil {
		c.add(heading("Resources"))
		c.add(res...)
	}
	if len(v.Policies) == 0 {
		c.add(banner(StyleWarning, "No policy", "Nobody can request this package until a policy is added."))
	}
	for i, p := range v.Policies {
		if i == maxPolicyDetails {
			c.add(moreLine(len(v.Policies)-i, "policies"))
			break
		}
		c.add(policyDetail(p))
	}
	c.Actions = []Action{ActionOpenURL{Title: "Open in My Access", URL: MyAccessURL(v.TenantDomain, v.ID)}}
	return c
}

func policyDetail(p PolicyDetailView) Container {
	ct := Container{Separator: true, Spacing: SpacingLarge, Items: []Element{
		TextBlock{Text: "Policy: " + safe(orDefault(p.Name, p.ID), maxName), Wrap: true, Weight: WeightBolder, Size: SizeMedium},
	}}
	yesNo := func(b bool, yes, no string) string {
		if b {
			return yes
		}
		return no
	}
	approval := "None: assigned on request"
	if len(p.Stages) > 0 {
		approval = plural(len(p.Stages), "stage")
	}
	ct.Items = append(ct.Items, facts(
		"Who can request", safe(p.WhoCanRequest, maxShort),
		"Expiry", orDefault(safe(p.Expiry, maxShort), "No expiry"),
		"Justification", yesNo(p.JustificationRequired, "Required", "Optional"),
		"Custom dates", yesNo(p.CustomSchedule, "Allowed", "Not allowed"),
		"Approval", approval,
	))
	for i, s := range p.Stages {
		if i == maxStageLines {
			ct.Items = append(ct.Items, moreLine(len(p.Stages)-i, "stages"))
			break
		}
		lines := []string{"Approvers: " + orDefault(joinNames(s.Approvers), "none configured")}
		if len(s.Fallback) > 0 {
			lines = append(lines, "Fallback: "+joinNames(s.Fallback))
		}
		if s.Escalation != "" {
			lines = append(lines, "Escalation: "+safe(s.Escalation, maxShort))
		}
		if s.Timeout != "" {
			lines = append(lines, "Denied automatically after "+safe(s.Timeout, 60))
		}
		if s.JustificationRequired {
			lines = append(lines, "Approver justification required")
		}
		items := []Element{TextBlock{Text: fmt.Sprintf("Stage %d", i+1), Wrap: true, Weight: WeightBolder}}
		for _, l := range lines {
			items = append(items, TextBlock{Text: l, Wrap: true, Spacing: SpacingNone, Size: SizeSmall})
		}
		ct.Items = append(ct.Items, Container{Style: StyleEmphasis, Spacing: SpacingSmall, Items: items})
	}
	if len(p.Questions) > 0 {
		ct.Items = append(ct.Items, TextBlock{Text: "Questions: " + joinInline(p.Questions, 100, "; ", " (and %d more)"), Wrap: true,
			Size: SizeSmall, Spacing: SpacingSmall})
	}
	return ct
}
