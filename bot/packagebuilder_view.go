package bot

import (
	"context"
	"sort"
	"strconv"
	"strings"

	"github.com/accessbot/accessbot/cards"
	"github.com/accessbot/accessbot/internal/builder"
	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/i18n"
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
		v.Errors = append(v.Errors, t.loc.T(d.Errors[k].ID, d.Errors[k].KV()...))
	}
	opts, err := b.wizardOptions(ctx, d, step)
	if err != nil {
		t.log.WarnContext(ctx, "read wizard choices", "step", step, "err", err)
		v.Errors = append(v.Errors, t.loc.T("builder.view.noChoices", "Why", userMessage(t.loc, err)))
	}
	fillDraftValues(&v, d)
	if in != nil {
		fillInputValues(&v, *in)
	}
	for _, c := range opts.Catalogs {
		v.Catalogs = append(v.Catalogs, cards.Choice{Title: c.Name, Value: c.ID})
	}
	for _, r := range opts.Roles {
		id := "builder.view.role"
		if r.Pending {
			id = "builder.view.rolePending"
		}
		title := t.loc.T(id, "Name", r.ResourceName, "Kind", t.loc.T(builderResourceKind(r.OriginSystem)), "Role", r.RoleName)
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
		v.Review = reviewSections(t.loc, d)
		if d.Edit {
			if err := editChanges(t.loc, d, &v); err != nil {
				t.log.WarnContext(ctx, "plan the package changes", "err", err)
			}
		}
	}
	return v
}

// builderResourceKind is the message id naming a resource's kind.
func builderResourceKind(originSystem string) string {
	switch originSystem {
	case entitlement.OriginSharePoint:
		return "builder.view.kindSite"
	case entitlement.OriginApplication:
		return "builder.view.kindApp"
	}
	return "builder.view.kindGroup"
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
		roles = append(roles, r.Key())
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
func reviewSections(l *i18n.Localizer, d *builder.Draft) []cards.WizardSection {
	catalog := d.CatalogName
	if d.NewCatalog {
		catalog = l.T("builder.view.newCatalog", "Name", d.CatalogName)
	}
	basics := []cards.Fact{{Title: l.T("builder.name"), Value: d.Name}, {Title: l.T("builder.description"), Value: d.Description},
		{Title: l.T("builder.catalog"), Value: catalog}}
	var res []cards.Fact
	for _, r := range d.Roles {
		val := r.RoleName
		if r.Pending {
			val = l.T("builder.view.roleAdded", "Role", r.RoleName)
		}
		res = append(res, cards.Fact{Title: r.ResourceName, Value: val})
	}
	who := l.T("builder.who." + string(d.Who))
	if d.Who == builder.WhoOrgs {
		who = l.T("builder.view.usersOf", "Names", l.List(d.OrgNames))
	}
	appr := approvalFacts(l, d)
	ends := l.T("builder.expiry.never")
	switch d.Expiry {
	case builder.ExpireDays:
		ends = l.N("builder.view.afterDays", d.ExpiryDays)
	case builder.ExpireDate:
		ends = l.T("builder.view.onDate", "Date", d.ExpiryDate.Format("2006-01-02"))
	}
	ext := l.T("builder.view.notAllowed")
	if d.ExtensionAllowed {
		ext = l.T("builder.view.allowed")
	}
	var inc []string
	for _, i := range d.Incompatible {
		inc = append(inc, l.T("builder.view.incompatible."+string(i.Kind), "Name", i.Name))
	}
	incText := l.T("builder.view.none")
	if len(inc) > 0 {
		incText = l.List(inc)
	}
	step := func(s builder.Step) string { return l.T("builder.step." + string(s)) }
	return []cards.WizardSection{
		{Step: string(builder.StepBasics), Title: step(builder.StepBasics), Facts: basics},
		{Step: string(builder.StepResources), Title: step(builder.StepResources), Facts: res},
		{Step: string(builder.StepWho), Title: step(builder.StepWho), Facts: whoFacts(l, d, who)},
		{Step: string(builder.StepApproval), Title: step(builder.StepApproval), Facts: appr},
		{Step: string(builder.StepLifetime), Title: step(builder.StepLifetime), Facts: []cards.Fact{{Title: l.T("builder.expiry"), Value: ends},
			{Title: l.T("builder.view.extension"), Value: ext}}},
		{Step: string(builder.StepSoD), Title: step(builder.StepSoD), Facts: []cards.Fact{{Title: l.T("details.incompatible"), Value: incText}}},
	}
}

// whoFacts say who may request; editing, also which policy that is.
func whoFacts(l *i18n.Localizer, d *builder.Draft, who string) []cards.Fact {
	fs := []cards.Fact{{Title: l.T("builder.view.requesters"), Value: who}}
	if d.Edit && d.PolicyLabel != "" {
		fs = append([]cards.Fact{{Title: l.T("builder.view.policy"), Value: d.PolicyLabel}}, fs...)
	}
	return fs
}

// approvalFacts describe the draft's approval step: its stages, the requestor's justification, the questions.
func approvalFacts(l *i18n.Localizer, d *builder.Draft) []cards.Fact {
	var appr []cards.Fact
	if len(d.Stages) == 0 {
		appr = append(appr, cards.Fact{Title: l.T("builder.approval"), Value: l.T("builder.approval.none")})
	}
	for i, s := range d.Stages {
		parts := []string{approverWords(l, s.Approvers), l.N("builder.view.daysToDecide", s.AutoDenyDays)}
		if len(s.Fallback) > 0 {
			parts = append(parts, l.T("builder.view.fallback", "Names", approverWords(l, s.Fallback)))
		}
		if s.EscalateAfterHours > 0 {
			parts = append(parts, l.N("builder.view.escalates", s.EscalateAfterHours, "Names", approverWords(l, s.EscalateTo)))
		}
		if s.JustificationRequired {
			parts = append(parts, l.T("builder.approverJustification"))
		}
		appr = append(appr, cards.Fact{Title: l.T("builder.stage", "N", i+1), Value: strings.Join(parts, "; ")})
	}
	just := l.T("builder.view.optional")
	if d.RequestorJustification {
		just = l.T("builder.view.required")
	}
	appr = append(appr, cards.Fact{Title: l.T("builder.view.requestorJustification"), Value: just})
	for i, q := range d.Questions {
		val := q.Text
		if len(q.Choices) > 0 {
			val += " (" + strings.Join(q.Choices, " / ") + ")"
		} else if q.Regex != "" {
			val += " (" + q.Regex + ")"
		}
		appr = append(appr, cards.Fact{Title: l.T("builder.view.question", "N", i+1), Value: val})
	}
	return appr
}

func approverWords(l *i18n.Localizer, as []builder.Approver) string {
	var out []string
	for _, a := range as {
		switch a.Kind {
		case builder.ApproverManager, builder.ApproverInternalSponsors, builder.ApproverExternalSponsors:
			out = append(out, l.T("builder.approver."+string(a.Kind)))
		case builder.ApproverGroup:
			out = append(out, l.T("builder.view.group", "Name", a.Name))
		default:
			out = append(out, orUnknown(a.Name, a.ID))
		}
	}
	return l.Or(out)
}
