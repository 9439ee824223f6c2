package bot

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/accessbot/accessbot/cards"
	"github.com/accessbot/accessbot/internal/builder"
	"github.com/accessbot/accessbot/internal/entitlement"
)

// wizardCard is the draft's current step; in, when set, is a refused submit whose values the card keeps.
func (b *Bot) wizardCard(ctx context.Context, t *turn, d *builder.Draft, in *builder.Input) *cards.Card {
	return cards.PackageWizard(t.loc, b.wizardView(ctx, t, d, in))
}

func (b *Bot) wizardView(ctx context.Context, t *turn, d *builder.Draft, in *builder.Input) cards.PackageWizardView {
	step := d.Step
	if step.Index() == 0 {
		step = builder.StepBasics
	}
	v := cards.PackageWizardView{DraftID: d.ID, Step: string(step), StepIndex: step.Index(), StepCount: len(builder.Steps),
		Edit: d.Edit, PackageName: d.Name, CatalogName: d.CatalogName}
	keys := make([]string, 0, len(d.Errors))
	for k := range d.Errors {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v.Errors = append(v.Errors, d.Errors[k])
	}
	opts, err := b.wizardOptions(ctx, d, step)
	if err != nil {
		t.log.WarnContext(ctx, "read wizard choices", "step", step, "err", err)
		v.Errors = append(v.Errors, "I couldn't read the choices for this step: "+entitlement.UserMessage(err))
	}
	fillDraftValues(&v, d)
	if in != nil {
		fillInputValues(&v, *in)
	}
	for _, c := range opts.Catalogs {
		v.Catalogs = append(v.Catalogs, cards.Choice{Title: c.Name, Value: c.ID})
	}
	for _, r := range opts.Roles {
		title := fmt.Sprintf("%s (%s): %s", r.ResourceName, builderResourceKind(r.OriginSystem), r.RoleName)
		if r.Pending {
			title = fmt.Sprintf("%s (%s, added to the catalog on create): %s", r.ResourceName, builderResourceKind(r.OriginSystem), r.RoleName)
		}
		v.RoleChoices = append(v.RoleChoices, cards.Choice{Title: title, Value: builder.RoleOption(r)})
	}
	for _, o := range opts.Orgs {
		v.OrgChoices = append(v.OrgChoices, cards.Choice{Title: o.Name, Value: o.ID})
	}
	for _, p := range opts.Packages {
		if p.ID != d.Made.PackageID {
			v.PackageChoices = append(v.PackageChoices, cards.Choice{Title: p.Name, Value: p.ID})
		}
	}
	if step == builder.StepReview {
		v.Review = reviewSections(d)
	}
	return v
}

func builderResourceKind(originSystem string) string {
	switch originSystem {
	case entitlement.OriginGroup:
		return "group or Team"
	case entitlement.OriginSharePoint:
		return "SharePoint site"
	case entitlement.OriginApplication:
		return "app"
	}
	return originSystem
}

// fillDraftValues puts the draft's choices into the card's inputs.
func fillDraftValues(v *cards.PackageWizardView, d *builder.Draft) {
	v.Name, v.Description = d.Name, d.Description
	v.Catalog = d.CatalogID
	if d.NewCatalog {
		v.Catalog, v.NewCatalogName = "new", d.CatalogName
	}
	var roles []string
	for _, r := range d.Roles {
		if !r.Existing {
			roles = append(roles, r.Key())
		}
	}
	v.Roles = strings.Join(roles, ",")
	v.Who, v.Orgs = string(d.Who), strings.Join(d.OrgIDs, ",")
	v.StageCount = strconv.Itoa(len(d.Stages))
	if d.Who == "" {
		v.StageCount = "1"
	}
	for i, s := range d.Stages {
		if i >= len(v.Stages) {
			break
		}
		sv := cards.WizardStageView{Justification: s.JustificationRequired, AutoDenyDays: strconv.Itoa(s.AutoDenyDays),
			Fallback: approverIDs(s.Fallback), EscalateTo: approverIDs(s.EscalateTo)}
		if s.EscalateAfterHours > 0 {
			sv.EscalateHours = strconv.Itoa(s.EscalateAfterHours)
		}
		if len(s.Approvers) > 0 {
			sv.Kind = string(s.Approvers[0].Kind)
			sv.Names = approverIDs(s.Approvers)
			if s.Approvers[0].Kind == builder.ApproverGroup {
				sv.Names = s.Approvers[0].Name
			}
		}
		v.Stages[i] = sv
	}
	v.RequestorJustification = d.RequestorJustification
	for i, q := range d.Questions {
		if i < len(v.Questions) {
			v.Questions[i] = cards.WizardQuestionView{Text: q.Text, Format: q.Regex, Choices: strings.Join(q.Choices, ", "), Required: q.Required}
		}
	}
	v.Expiry, v.Extension = d.Expiry, d.ExtensionAllowed
	if d.ExpiryDays > 0 {
		v.ExpiryDays = strconv.Itoa(d.ExpiryDays)
	}
	if !d.ExpiryDate.IsZero() {
		v.ExpiryDate = d.ExpiryDate.Format("2006-01-02")
	}
	var pk, gr []string
	for _, i := range d.Incompatible {
		if i.Kind == entitlement.IncompatiblePackage {
			pk = append(pk, i.ID)
		} else {
			gr = append(gr, i.Name)
		}
	}
	v.IncompatiblePackages, v.IncompatibleGroups = strings.Join(pk, ","), strings.Join(gr, ", ")
}

// approverIDs lists people as the card takes them (their ids resolve like sign-in names).
func approverIDs(as []builder.Approver) string {
	var out []string
	for _, a := range as {
		if a.ID != "" {
			out = append(out, a.ID)
		}
	}
	return strings.Join(out, ", ")
}

// fillInputValues keeps what the admin typed on a refused submit.
func fillInputValues(v *cards.PackageWizardView, in builder.Input) {
	switch builder.Step(v.Step) {
	case builder.StepBasics:
		v.Name, v.Description, v.Catalog, v.NewCatalogName = in.Name, in.Description, in.Catalog, in.NewCatalogName
	case builder.StepResources:
		v.Roles = in.Roles
	case builder.StepWho:
		v.Who, v.Orgs = in.Who, in.Orgs
	case builder.StepApproval:
		v.StageCount, v.RequestorJustification = in.StageCount, in.RequestorJustification == "true"
		for i, s := range in.Stages {
			v.Stages[i] = cards.WizardStageView{Kind: s.Kind, Names: s.Names, Fallback: s.Fallback, AutoDenyDays: s.AutoDenyDays,
				EscalateHours: s.EscalateHours, EscalateTo: s.EscalateTo, Justification: s.Justification == "true"}
		}
		for i, q := range in.Questions {
			v.Questions[i] = cards.WizardQuestionView{Text: q.Text, Format: q.Format, Choices: q.Choices, Required: q.Required == "true"}
		}
	case builder.StepLifetime:
		v.Expiry, v.ExpiryDays, v.ExpiryDate, v.Extension = in.Expiry, in.ExpiryDays, in.ExpiryDate, in.Extension == "true"
	case builder.StepSoD:
		v.IncompatiblePackages, v.IncompatibleGroups = in.IncompatiblePackages, in.IncompatibleGroups
	}
}

// reviewSections describe every choice of the draft, one section per step.
func reviewSections(d *builder.Draft) []cards.WizardSection {
	catalog := d.CatalogName
	if d.NewCatalog {
		catalog += " (new)"
	}
	basics := []cards.Fact{{Title: "Name", Value: d.Name}, {Title: "Description", Value: d.Description}, {Title: "Catalog", Value: catalog}}
	var res []cards.Fact
	for _, r := range d.Roles {
		val := r.RoleName
		if r.Pending {
			val += " (added to the catalog)"
		}
		res = append(res, cards.Fact{Title: r.ResourceName, Value: val})
	}
	who := map[builder.Who]string{builder.WhoMembers: "Members of this directory", builder.WhoAllOrgs: "Users of all connected organizations",
		builder.WhoNobody: "Nobody (admins assign it)", builder.WhoOrgs: "Users of " + strings.Join(d.OrgNames, ", ")}[d.Who]
	var appr []cards.Fact
	if len(d.Stages) == 0 {
		appr = append(appr, cards.Fact{Title: "Approval", Value: "none"})
	}
	for i, s := range d.Stages {
		val := approverWords(s.Approvers) + fmt.Sprintf("; %d days to decide", s.AutoDenyDays)
		if len(s.Fallback) > 0 {
			val += "; fallback " + approverWords(s.Fallback)
		}
		if s.EscalateAfterHours > 0 {
			val += fmt.Sprintf("; escalates after %dh to %s", s.EscalateAfterHours, approverWords(s.EscalateTo))
		}
		if s.JustificationRequired {
			val += "; approvers justify"
		}
		appr = append(appr, cards.Fact{Title: fmt.Sprintf("Stage %d", i+1), Value: val})
	}
	just := "optional"
	if d.RequestorJustification {
		just = "required"
	}
	appr = append(appr, cards.Fact{Title: "Requestor justification", Value: just})
	for i, q := range d.Questions {
		val := q.Text
		if len(q.Choices) > 0 {
			val += " (" + strings.Join(q.Choices, " / ") + ")"
		} else if q.Regex != "" {
			val += " (format " + q.Regex + ")"
		}
		appr = append(appr, cards.Fact{Title: fmt.Sprintf("Question %d", i+1), Value: val})
	}
	ends := map[string]string{builder.ExpireNever: "never", builder.ExpireDays: fmt.Sprintf("after %d days", d.ExpiryDays),
		builder.ExpireDate: "on " + d.ExpiryDate.Format("2006-01-02")}[d.Expiry]
	ext := "not allowed"
	if d.ExtensionAllowed {
		ext = "allowed"
	}
	var inc []string
	for _, i := range d.Incompatible {
		inc = append(inc, fmt.Sprintf("%s (%s)", i.Name, i.Kind))
	}
	if len(inc) == 0 {
		inc = []string{"none"}
	}
	return []cards.WizardSection{
		{Step: string(builder.StepBasics), Title: "Name and catalog", Facts: basics},
		{Step: string(builder.StepResources), Title: "Resources and roles", Facts: res},
		{Step: string(builder.StepWho), Title: "Who may request", Facts: []cards.Fact{{Title: "Requesters", Value: who}}},
		{Step: string(builder.StepApproval), Title: "Approval and questions", Facts: appr},
		{Step: string(builder.StepLifetime), Title: "Lifetime", Facts: []cards.Fact{{Title: "Access ends", Value: ends}, {Title: "Extension", Value: ext}}},
		{Step: string(builder.StepSoD), Title: "Separation of duties", Facts: []cards.Fact{{Title: "Incompatible with", Value: strings.Join(inc, ", ")}}},
	}
}

func approverWords(as []builder.Approver) string {
	var out []string
	for _, a := range as {
		switch a.Kind {
		case builder.ApproverManager:
			out = append(out, "requestor's manager")
		case builder.ApproverInternalSponsors:
			out = append(out, "internal sponsors")
		case builder.ApproverExternalSponsors:
			out = append(out, "external sponsors")
		case builder.ApproverGroup:
			out = append(out, a.Name+" (group)")
		default:
			out = append(out, orUnknown(a.Name, a.ID))
		}
	}
	return strings.Join(out, ", ")
}
