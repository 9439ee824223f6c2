package bot

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/accessbot/accessbot/cards"
	"github.com/accessbot/accessbot/internal/botframework"
	"github.com/accessbot/accessbot/internal/builder"
	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/i18n"
	"github.com/accessbot/accessbot/internal/store"
)

// /package {name} edit: a package with one policy opens the wizard on it; a package with several shows them
// all (cards.PolicyChoice) and the admin picks the one to edit (builder.editPolicy). The review says exactly
// which calls Save makes (builder.Remaining) and how the policy changes; the other policies are left alone.

// packageForEdit is what an edit reads before the wizard opens.
type packageForEdit struct {
	pkg  entitlement.Package
	pols []entitlement.Policy
	inc  entitlement.Incompatibilities
}

// readForEdit reads a package, its policies and incompatibilities, after checking that the admin may change it.
func (b *Bot) readForEdit(ctx context.Context, t *turn, g entitlement.Builder, packageID string) (packageForEdit, error) {
	var r packageForEdit
	pkg, err := b.cfg.Entitlement.Package(ctx, packageID)
	if err != nil {
		return r, fmt.Errorf("read access package %s: %w", packageID, err)
	}
	if err := b.checkCatalogManaged(ctx, t.loc, pkg.CatalogID); err != nil {
		return r, err
	}
	if err := b.checkCatalogRights(ctx, t, pkg.CatalogID, orUnknown(pkg.CatalogName, pkg.CatalogID)); err != nil {
		return r, err
	}
	pols, err := b.cfg.Entitlement.Policies(ctx, pkg.ID)
	if err != nil {
		return r, fmt.Errorf("list policies of package %s: %w", pkg.ID, err)
	}
	inc, err := g.Incompatibilities(ctx, pkg.ID)
	if err != nil {
		return r, fmt.Errorf("read incompatibilities of %s: %w", pkg.ID, err)
	}
	return packageForEdit{pkg: pkg, pols: pols, inc: inc}, nil
}

func (b *Bot) editPackage(ctx context.Context, c *adminCall, name string) error {
	g, err := b.builderPorts(c.t.loc)
	if err != nil {
		return err
	}
	found, err := b.resolvePackage(ctx, "package", name)
	if err != nil {
		return err
	}
	r, err := b.readForEdit(ctx, c.t, g, found.ID)
	if err != nil {
		return err
	}
	c.entry.PackageID, c.entry.PackageName = r.pkg.ID, r.pkg.Name
	if len(r.pols) > 1 {
		c.entry.Outcome = "policy choice offered"
		_, err := b.sendCard(ctx, c.t, cards.PolicyChoice(c.t.loc, b.policyChoiceView(ctx, c.t, r)))
		return err
	}
	policyID := ""
	if len(r.pols) == 1 {
		if err := editRefusal(r.pkg, r.pols[0]); err != nil {
			return err
		}
		policyID = r.pols[0].ID
	}
	return b.startWizard(ctx, c, editDraft(ctx, newAdmNamer(b, c.t.loc), r, policyID))
}

// editRefusal refuses to edit a policy the wizard cannot show or keep whole (nil when it can): requestors it
// has no step for, or more approval stages than it offers.
func editRefusal(pkg entitlement.Package, pol entitlement.Policy) *adminError {
	switch {
	case !builder.EditableScope(pol.Scope):
		return userErr("builder.edit.scopeTitle", "builder.edit.scopeText", "Name", pkg.Name, "Policy", pol.Name, "Scope", string(pol.Scope))
	case !builder.EditableStages(len(pol.Stages)):
		return userErr("builder.edit.scopeTitle", "builder.edit.stagesText", "Name", pkg.Name, "Policy", pol.Name,
			"Stages", len(pol.Stages), "Max", builder.MaxStages)
	}
	return nil
}

// editDraft is the wizard's draft for editing the package with its policy policyID ("" = none); names names
// the policy's people and organizations (and keeps the names it read).
func editDraft(ctx context.Context, names *admNamer, r packageForEdit, policyID string) builder.Draft {
	var pol *entitlement.Policy
	var others []string
	for i := range r.pols {
		if r.pols[i].ID == policyID {
			pol = &r.pols[i]
		} else {
			others = append(others, r.pols[i].Name)
		}
	}
	d := builder.FromPackage(r.pkg, pol, r.inc, func(s entitlement.SubjectSet) string {
		switch s.Kind {
		case entitlement.SetConnectedOrganizationMembers:
			return names.org(ctx, s.ConnectedOrgID)
		case entitlement.SetSingleUser:
			return names.user(ctx, s.UserID, s.Description)
		}
		return orUnknown(s.Description, s.GroupID)
	})
	d.OtherPolicies = others
	return d
}

// policyChoiceView shows each policy as the wizard's review would: who may request, approval, lifetime. A
// person or organization several policies name is read once.
func (b *Bot) policyChoiceView(ctx context.Context, t *turn, r packageForEdit) cards.PolicyChoiceView {
	v := cards.PolicyChoiceView{PackageID: r.pkg.ID, PackageName: r.pkg.Name}
	names := newAdmNamer(b, t.loc)
	for _, p := range r.pols {
		d := editDraft(ctx, names, r, p.ID)
		facts := policyFacts(t.loc, &d)
		if !builder.EditableScope(p.Scope) {
			// The draft reads an unknown scope as "nobody": say what Entra has instead.
			for i := range facts {
				if facts[i].Title == t.loc.T("builder.view.requesters") {
					facts[i].Value = t.loc.T("builder.edit.scopeOther", "Scope", string(p.Scope))
				}
			}
		}
		v.Policies = append(v.Policies, cards.PolicyChoiceItem{ID: p.ID, Name: p.Name, Facts: facts})
	}
	return v
}

// policyFacts are the review's facts of the policy steps (who may request, approval, lifetime).
func policyFacts(l *i18n.Localizer, d *builder.Draft) []cards.Fact {
	var out []cards.Fact
	for _, s := range reviewSections(l, d) {
		switch builder.Step(s.Step) {
		case builder.StepWho, builder.StepApproval, builder.StepLifetime:
			out = append(out, s.Facts...)
		}
	}
	return out
}

// verbBuilderEditPolicy opens the wizard on the policy the admin picked; the picker card becomes the wizard.
func (b *Bot) verbBuilderEditPolicy(ctx context.Context, t *turn, data map[string]any) (*botframework.InvokeResponse, error) {
	b.checkAdmin(ctx, t)
	if !t.admin {
		return noticeCard(t.loc, noticeError, t.loc.T("builder.bot.notAllowed"), t.loc.T("builder.bot.notAllowedText")), nil
	}
	e := b.adminEntry(t, "admin.package.edit")
	g, err := b.builderPorts(t.loc)
	if err == nil {
		var r packageForEdit
		if r, err = b.readForEdit(ctx, t, g, str(data, cards.KeyPackageID)); err == nil {
			e.PackageID, e.PackageName = r.pkg.ID, r.pkg.Name
			return b.openPolicyEdit(ctx, t, r, str(data, cards.KeyPolicyID), e)
		}
	}
	var ae *adminError
	if errors.As(err, &ae) {
		return b.refuseEdit(ctx, t, e, ae, noticeError), nil
	}
	return b.failure(ctx, t, t.loc.T("builder.bot.cantReadChoices"), err, "")
}

// openPolicyEdit stores the edit draft of policyID and answers with its first step.
func (b *Bot) openPolicyEdit(ctx context.Context, t *turn, r packageForEdit, policyID string, e store.AuditEntry) (*botframework.InvokeResponse, error) {
	i := slices.IndexFunc(r.pols, func(p entitlement.Policy) bool { return p.ID == policyID })
	if i < 0 {
		e.Outcome = "rejected: the policy is gone"
		b.appendAudit(ctx, e)
		return noticeCard(t.loc, noticeWarning, t.loc.T("builder.pick.gone"), t.loc.T("builder.pick.goneText", "Name", r.pkg.Name)), nil
	}
	if ae := editRefusal(r.pkg, r.pols[i]); ae != nil {
		return b.refuseEdit(ctx, t, e, ae, noticeWarning), nil
	}
	d := editDraft(ctx, newAdmNamer(b, t.loc), r, policyID)
	if err := b.storeNewDraft(ctx, t, &d); err != nil {
		return nil, err
	}
	e.Outcome = "wizard started (policy " + policyID + ")"
	b.appendAudit(ctx, e)
	return b.answer(ctx, t, b.wizardCard(ctx, t, &d, nil))
}

// refuseEdit records a refused edit in the audit (in English) and shows the admin why, in their language.
func (b *Bot) refuseEdit(ctx context.Context, t *turn, e store.AuditEntry, ae *adminError, kind cards.NoticeKind) *botframework.InvokeResponse {
	e.Outcome = "rejected: " + admClip(ae.text, 300)
	b.appendAudit(ctx, e)
	ae = ae.localized(t.loc)
	return noticeCard(t.loc, kind, ae.title, ae.text)
}

// editChanges fills the edit review's confirmation: the calls Save makes, how the policy changes, the
// policies it leaves alone.
func editChanges(l *i18n.Localizer, d *builder.Draft, v *cards.PackageWizardView) error {
	plan, err := builder.Remaining(*d)
	if err != nil {
		return err
	}
	for _, m := range plan {
		v.Changes = append(v.Changes, l.T(m.ID, m.KV()...))
	}
	v.OtherPolicies = d.OtherPolicies
	if d.Before == nil {
		return nil
	}
	was, now := policyFacts(l, d.Before), policyFacts(l, d)
	for _, f := range now {
		old := factValue(was, f.Title)
		if old != f.Value {
			v.ChangedFacts = append(v.ChangedFacts, cards.Fact{Title: f.Title, Value: l.T("builder.changes.fromTo", "Before", admOrDash(old), "After", admOrDash(f.Value))})
		}
	}
	for _, f := range was {
		if factValue(now, f.Title) == "" && f.Value != "" {
			v.ChangedFacts = append(v.ChangedFacts, cards.Fact{Title: f.Title, Value: l.T("builder.changes.fromTo", "Before", f.Value, "After", "—")})
		}
	}
	return nil
}

func factValue(fs []cards.Fact, title string) string {
	for _, f := range fs {
		if f.Title == title {
			return f.Value
		}
	}
	return ""
}
