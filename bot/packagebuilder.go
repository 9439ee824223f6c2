package bot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/accessbot/accessbot/cards"
	"github.com/accessbot/accessbot/internal/botframework"
	"github.com/accessbot/accessbot/internal/builder"
	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/i18n"
)

// The package builder (issue 12): /package new and /package {name} edit open a card wizard whose state is the
// admin's draft in the store (internal/builder); /package {name} delete asks for confirmation. The wizard's
// logic, validation and Graph calls are in internal/builder; this file only maps cards to it.

// registerBuilder registers the wizard's verbs and /sod.
func (b *Bot) registerBuilder() {
	for verb, h := range map[string]draftHandler{
		cards.VerbBuilderNext: b.verbBuilderNext, cards.VerbBuilderBack: b.verbBuilderBack, cards.VerbBuilderGoto: b.verbBuilderGoto,
		cards.VerbBuilderSearch: b.verbBuilderSearch, cards.VerbBuilderCreate: b.verbBuilderCreate,
		cards.VerbBuilderUndo: b.verbBuilderUndo, cards.VerbBuilderCancel: b.verbBuilderCancel,
	} {
		b.onVerb(verb, b.builderVerb(h))
	}
	b.onVerb(cards.VerbBuilderEditPolicy, b.verbBuilderEditPolicy)
	b.adminCommand("sod", b.adminSoD)
	b.onVerb(cards.VerbAccessRemove, b.verbAccessRemove)
}

// packageBuilderCommand runs "/package new", "/package {name} edit" and "/package {name} delete"; false when
// the command is a plain "/package {name}".
func (b *Bot) packageBuilderCommand(ctx context.Context, c *adminCall) (bool, error) {
	args := c.cmd.Args
	if len(args) == 0 {
		return false, nil
	}
	first, last := strings.ToLower(args[0]), strings.ToLower(args[len(args)-1])
	switch {
	case len(args) == 1 && first == "new":
		if d, err := builder.Load(ctx, b.cfg.Store, c.t.tenantID, c.t.userID, ""); err == nil && unfinished(d) {
			c.entry.Outcome = "unfinished wizard offered"
			l := c.t.loc
			return true, b.sendNotice(ctx, c.t, noticeInfo, l.T("builder.bot.unfinishedTitle"),
				l.T("builder.bot.unfinishedText", "Name", orUnknown(d.Name, l.T("builder.bot.aNewPackage")),
					"Step", max(1, d.Step.Index()), "Count", len(builder.Steps)),
				[]cards.Suggestion{{Title: l.T("builder.bot.resume"), Command: "/package resume"}, {Title: l.T("builder.bot.startOver"), Command: "/package new over"}})
		}
		return true, b.startWizard(ctx, c, builder.Draft{})
	case len(args) == 2 && first == "new" && last == "over":
		return true, b.startWizard(ctx, c, builder.Draft{})
	case len(args) == 1 && first == "resume":
		return true, b.resumeWizard(ctx, c)
	case len(args) > 1 && last == "edit":
		return true, b.editPackage(ctx, c, strings.Join(args[:len(args)-1], " "))
	case len(args) > 1 && last == "delete":
		return true, b.deletePackage(ctx, c, strings.Join(args[:len(args)-1], " "))
	}
	return false, nil
}

// unfinished reports whether a draft is still being edited or failed part-way (so it can be resumed).
func unfinished(d builder.Draft) bool {
	return d.State == builder.StateEditing || d.State == builder.StateFailed || d.State == builder.StateCreating
}

// resumeWizard shows the admin's unfinished wizard where they left it (or, after a failed Create, its outcome
// with Finish and Undo).
func (b *Bot) resumeWizard(ctx context.Context, c *adminCall) error {
	d, err := builder.Load(ctx, b.cfg.Store, c.t.tenantID, c.t.userID, "")
	if errors.Is(err, builder.ErrStale) || (err == nil && !unfinished(d)) {
		return &adminError{title: c.t.loc.T("builder.bot.nothingToResume"), text: c.t.loc.T("builder.bot.nothingToResumeText")}
	}
	if err != nil {
		return err
	}
	c.entry.Outcome = "wizard resumed"
	if d.State == builder.StateFailed || d.State == builder.StateCreating {
		_, err = b.sendCard(ctx, c.t, cards.PackageBuilt(c.t.loc, b.builtView(c.t.loc, d)))
		return err
	}
	_, err = b.sendCard(ctx, c.t, b.wizardCard(ctx, c.t, &d, nil))
	return err
}

// builderPorts returns the builder's Graph writes, or an admin error (in l's language) when this installation
// has none.
func (b *Bot) builderPorts(l *i18n.Localizer) (entitlement.Builder, error) {
	if b.cfg.Builder == nil || b.cfg.Entitlement == nil {
		return nil, &adminError{title: l.T("builder.bot.unavailable"), text: l.T("builder.bot.unavailableText")}
	}
	return b.cfg.Builder, nil
}

// startWizard stores a new draft for the admin (replacing any earlier one) and shows its first step.
func (b *Bot) startWizard(ctx context.Context, c *adminCall, d builder.Draft) error {
	if _, err := b.builderPorts(c.t.loc); err != nil {
		return err
	}
	if err := b.storeNewDraft(ctx, c.t, &d); err != nil {
		return err
	}
	c.entry.Outcome = "wizard started"
	_, err := b.sendCard(ctx, c.t, b.wizardCard(ctx, c.t, &d, nil))
	return err
}

// storeNewDraft gives d a new id and the admin, and stores it as the admin's draft at its first step.
func (b *Bot) storeNewDraft(ctx context.Context, t *turn, d *builder.Draft) error {
	id, err := builder.NewID()
	if err != nil {
		return err
	}
	d.ID, d.TenantID, d.AdminID, d.AdminName = id, t.tenantID, t.userID, t.userName
	d.Started, d.Updated, d.Step = b.now(), b.now(), builder.StepBasics
	return builder.Start(ctx, b.cfg.Store, *d)
}

// checkCatalogManaged refuses a catalog that Entra manages itself (serviceManaged): its packages cannot be
// changed by an admin.
func (b *Bot) checkCatalogManaged(ctx context.Context, l *i18n.Localizer, catalogID string) error {
	cats, err := b.cfg.Entitlement.Catalogs(ctx)
	if err != nil {
		return fmt.Errorf("list catalogs: %w", err)
	}
	for _, cat := range cats {
		if cat.ID == catalogID && cat.Type == "serviceManaged" {
			return &adminError{title: l.T("builder.bot.catalogManaged"), text: l.T("builder.bot.catalogManagedText", "Name", cat.Name)}
		}
	}
	return nil
}

// deletePackage asks to confirm deleting a package; refused up front while it has assignments (Graph refuses).
func (b *Bot) deletePackage(ctx context.Context, c *adminCall, name string) error {
	if _, err := b.builderPorts(c.t.loc); err != nil {
		return err
	}
	pkg, err := b.resolvePackage(ctx, "package", name)
	if err != nil {
		return err
	}
	if err := b.checkCatalogRights(ctx, c.t, pkg.CatalogID, orUnknown(pkg.CatalogName, pkg.CatalogID)); err != nil {
		return err
	}
	asg, err := b.cfg.Entitlement.Assignments(ctx, entitlement.AssignmentFilter{PackageID: pkg.ID})
	if err != nil {
		return fmt.Errorf("list assignments of %s: %w", pkg.ID, err)
	}
	active := slices.DeleteFunc(asg, func(a entitlement.Assignment) bool { return !a.State.GrantsAccess() })
	l := c.t.loc
	if len(active) > 0 {
		return &adminError{title: l.T("builder.bot.cantDelete", "Name", pkg.Name),
			text: l.N("builder.bot.cantDeleteText", len(active), "Name", pkg.Name)}
	}
	c.entry.PackageID, c.entry.PackageName = pkg.ID, pkg.Name
	return b.askConfirmation(ctx, c, adminPendingOp{Op: opPackageDelete, PackageID: pkg.ID, PackageName: pkg.Name},
		cards.AdminConfirmView{Title: l.T("builder.bot.deleteTitle", "Name", pkg.Name), ConfirmLabel: l.T("builder.bot.delete"), Irreversible: true,
			Summary: l.T("builder.bot.deleteSummary"),
			Details: []cards.Fact{{Title: l.T("builder.bot.package"), Value: pkg.Name}, {Title: l.T("builder.bot.catalog"), Value: orUnknown(pkg.CatalogName, pkg.CatalogID)}}})
}

// runPackageDelete deletes a package's policies, then the package (a confirmed /package … delete).
func (b *Bot) runPackageDelete(ctx context.Context, l *i18n.Localizer, op adminPendingOp) (string, string, error) {
	g, err := b.builderPorts(l)
	if err != nil {
		return "", "", err
	}
	pols, err := b.cfg.Entitlement.Policies(ctx, op.PackageID)
	if err != nil {
		return "", "", fmt.Errorf("list policies of %s: %w", op.PackageID, err)
	}
	for _, p := range pols {
		if err := g.DeletePolicy(ctx, p.ID); err != nil {
			return "", "", fmt.Errorf("delete policy %s of %s: %w", p.ID, op.PackageID, err)
		}
	}
	if err := g.DeletePackage(ctx, op.PackageID); err != nil {
		return "", "", fmt.Errorf("delete access package %s: %w", op.PackageID, err)
	}
	return l.T("builder.bot.deleted", "Name", op.PackageName), l.N("builder.bot.deletedText", len(pols), "Name", op.PackageName), nil
}

// draftHandler answers a wizard verb for the admin's current draft.
type draftHandler func(ctx context.Context, t *turn, d builder.Draft, data map[string]any) (*botframework.InvokeResponse, error)

// builderVerb wraps a wizard verb: admins only, and the card must belong to the admin's current draft.
func (b *Bot) builderVerb(h draftHandler) verbHandler {
	return func(ctx context.Context, t *turn, data map[string]any) (*botframework.InvokeResponse, error) {
		b.checkAdmin(ctx, t)
		if !t.admin {
			return noticeCard(t.loc, noticeError, t.loc.T("builder.bot.notAllowed"), t.loc.T("builder.bot.notAllowedText")), nil
		}
		if _, err := b.builderPorts(t.loc); err != nil {
			var ae *adminError
			errors.As(err, &ae)
			return noticeCard(t.loc, noticeError, ae.title, ae.text), nil
		}
		d, err := builder.Load(ctx, b.cfg.Store, t.tenantID, t.userID, str(data, cards.KeyDraftID))
		if errors.Is(err, builder.ErrStale) {
			return noticeCard(t.loc, noticeInfo, t.loc.T("builder.bot.closedTitle"), t.loc.T("builder.bot.closedText")), nil
		}
		if err != nil {
			return nil, err
		}
		return h(ctx, t, d, data)
	}
}

// saveDraft writes next over the stored draft if nobody changed it since it was loaded as loaded.
func (b *Bot) saveDraft(ctx context.Context, t *turn, loaded builder.Draft, next builder.Draft) (builder.Draft, error) {
	next.Updated = b.now()
	return builder.Update(ctx, b.cfg.Store, t.tenantID, t.userID, loaded.ID, func(d *builder.Draft) error {
		if !d.Updated.Equal(loaded.Updated) || d.State != loaded.State {
			return fmt.Errorf("the wizard changed meanwhile (another click?): %w", builder.ErrBusy)
		}
		*d = next
		return nil
	})
}

func (b *Bot) verbBuilderNext(ctx context.Context, t *turn, d builder.Draft, data map[string]any) (*botframework.InvokeResponse, error) {
	step := builder.Step(str(data, cards.KeyStep))
	if step.Index() == 0 || step == builder.StepReview || d.State != builder.StateEditing {
		return b.answer(ctx, t, b.wizardCard(ctx, t, &d, nil))
	}
	in := wizardInput(data)
	if step == builder.StepApproval && stagesNotShown(data, in.StageCount) {
		// More stages were chosen than the card showed: show their inputs, keeping what was typed.
		shown := d
		shown.Step, shown.Errors = step, nil
		return b.answer(ctx, t, b.wizardCard(ctx, t, &shown, &in))
	}
	opts, err := b.wizardOptions(ctx, &d, step)
	if err != nil {
		return b.failure(ctx, t, t.loc.T("builder.bot.cantReadChoices"), err, "")
	}
	next := d
	problems, err := builder.Apply(ctx, &next, step, in, opts, b.resolver())
	if err != nil {
		return b.failure(ctx, t, t.loc.T("builder.bot.cantCheck"), err, "")
	}
	if problems == nil && step == builder.StepBasics && !next.Edit {
		refusal, err := b.catalogRefusal(ctx, t, next.CatalogID, next.CatalogName)
		if err != nil {
			return b.failure(ctx, t, t.loc.T("builder.bot.cantCheckRights"), err, "")
		}
		if refusal != nil {
			problems = map[string]builder.Message{"catalog": *refusal}
		}
	}
	if problems != nil {
		next = d
		next.Step, next.Errors = step, problems
		return b.answer(ctx, t, b.wizardCard(ctx, t, &next, &in))
	}
	next.Step = builder.Steps[step.Index()] // the following step (review after the last)
	if d.Step == builder.StepReview || reviewed(d) {
		next.Step = builder.StepReview
	}
	saved, err := b.saveDraft(ctx, t, d, next)
	if err != nil {
		return b.answer(ctx, t, cards.Notice(t.loc, cards.NoticeView{Kind: noticeWarning, Title: t.loc.T("builder.bot.notSaved"), Text: t.loc.T("builder.bot.notSavedText", "Reason", userMessage(t.loc, err))}))
	}
	return b.answer(ctx, t, b.wizardCard(ctx, t, &saved, nil))
}

// stagesNotShown reports whether the approval card lacked the inputs of a chosen stage (the card shows a stage's
// inputs only once that many stages are chosen; its toggle and auto-deny field always submit a value, so a stage
// none of whose inputs came back was not on the card).
func stagesNotShown(data map[string]any, count string) bool {
	for n := 1; n <= cards.ShownStages(count); n++ {
		if !anyKey(data, cards.InputPBStage(n, "kind"), cards.InputPBStage(n, "names"),
			cards.InputPBStage(n, "autoDeny"), cards.InputPBStage(n, "justification")) {
			return true
		}
	}
	return false
}

func anyKey(data map[string]any, keys ...string) bool {
	for _, k := range keys {
		if _, ok := data[k]; ok {
			return true
		}
	}
	return false
}

// reviewed reports whether the admin has reached the review once (then Next goes back to it).
func reviewed(d builder.Draft) bool {
	return d.Name != "" && d.Expiry != "" && d.Who != "" && len(d.Roles) > 0
}

func (b *Bot) verbBuilderBack(ctx context.Context, t *turn, d builder.Draft, data map[string]any) (*botframework.InvokeResponse, error) {
	i := builder.Step(str(data, cards.KeyStep)).Index()
	return b.moveTo(ctx, t, d, builder.Steps[max(0, i-2)])
}

func (b *Bot) verbBuilderGoto(ctx context.Context, t *turn, d builder.Draft, data map[string]any) (*botframework.InvokeResponse, error) {
	target := builder.Step(str(data, cards.KeyTarget))
	if target.Index() == 0 {
		target = builder.StepReview
	}
	return b.moveTo(ctx, t, d, target)
}

func (b *Bot) moveTo(ctx context.Context, t *turn, d builder.Draft, step builder.Step) (*botframework.InvokeResponse, error) {
	if d.State != builder.StateEditing {
		return b.answer(ctx, t, b.wizardCard(ctx, t, &d, nil))
	}
	next := d
	next.Step, next.Errors = step, nil
	saved, err := b.saveDraft(ctx, t, d, next)
	if err != nil {
		saved = d
	}
	return b.answer(ctx, t, b.wizardCard(ctx, t, &saved, nil))
}

// verbBuilderSearch finds groups, Teams, sites and applications by name (a site also by URL) for the resources step; the roles ticked so far are kept.
func (b *Bot) verbBuilderSearch(ctx context.Context, t *turn, d builder.Draft, data map[string]any) (*botframework.InvokeResponse, error) {
	in := wizardInput(data)
	next := d
	next.Step = builder.StepResources
	search := str(data, cards.InputPBSearch)
	found, err := b.cfg.Builder.FindResources(ctx, search)
	note := ""
	switch {
	case errors.Is(err, entitlement.ErrInvalidInput):
		note = t.loc.T("builder.searchEmpty")
	case err != nil:
		return b.failure(ctx, t, t.loc.T("builder.bot.cantSearch"), err, "")
	case len(found) == 0:
		note = t.loc.T("builder.searchNone", "Search", search)
	default:
		note = t.loc.N("builder.searchFound", len(found))
	}
	next.Found = found
	opts, err := b.wizardOptions(ctx, &next, builder.StepResources)
	if err != nil {
		return b.failure(ctx, t, t.loc.T("builder.bot.cantReadResources"), err, "")
	}
	// Keep the ticked roles that are still offered (no "pick one" problem while searching).
	_, _ = builder.Apply(ctx, &next, builder.StepResources, in, opts, b.resolver())
	saved, err := b.saveDraft(ctx, t, d, next)
	if err != nil {
		saved = next
	}
	v := b.wizardView(ctx, t, &saved, nil)
	v.Search, v.SearchNote = search, note
	return b.answer(ctx, t, cards.PackageWizard(t.loc, v))
}

func (b *Bot) verbBuilderCancel(ctx context.Context, t *turn, d builder.Draft, _ map[string]any) (*botframework.InvokeResponse, error) {
	if d.State == builder.StateCreating {
		return noticeCard(t.loc, noticeWarning, t.loc.T("builder.bot.stillWorking"), t.loc.T("builder.bot.busyText")), nil
	}
	if err := builder.Close(ctx, b.cfg.Store, t.tenantID, t.userID, d.ID); err != nil && !errors.Is(err, builder.ErrStale) {
		return nil, err
	}
	e := b.adminEntry(t, "admin.package.cancel")
	e.PackageID, e.PackageName, e.Outcome = d.Made.PackageID, d.Name, "wizard closed"
	b.appendAudit(ctx, e)
	text := t.loc.T("builder.bot.nothingCreated")
	if len(d.Made.Log) > 0 {
		text = t.loc.T("builder.bot.closedKeeps", "Name", d.Name)
	}
	return noticeCard(t.loc, noticeInfo, t.loc.T("builder.bot.closed"), text), nil
}
