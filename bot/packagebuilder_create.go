package bot

import (
	"context"
	"errors"
	"fmt"

	"github.com/accessbot/accessbot/cards"
	"github.com/accessbot/accessbot/internal/botframework"
	"github.com/accessbot/accessbot/internal/builder"
	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/i18n"
)

// verbBuilderCreate files the Graph calls of the draft (Create, Save, or Finish after a failure). The draft is
// claimed first (compare-and-swap), so a double click or a second replica does not create twice.
func (b *Bot) verbBuilderCreate(ctx context.Context, t *turn, d builder.Draft, _ map[string]any) (*botframework.InvokeResponse, error) {
	if d.State == builder.StateEditing {
		if missing := incomplete(d); missing != "" {
			next := d
			next.Step = builder.Step(missing)
			return b.answer(ctx, t, b.wizardCard(ctx, t, &next, nil))
		}
	}
	claimed, err := builder.Claim(ctx, b.cfg.Store, t.tenantID, t.userID, d.ID, b.now())
	switch {
	case errors.Is(err, builder.ErrBusy):
		return noticeCard(t.loc, noticeWarning, t.loc.T("builder.bot.alreadyWorking"), t.loc.T("builder.bot.busyText")), nil
	case errors.Is(err, builder.ErrStale):
		return noticeCard(t.loc, noticeInfo, t.loc.T("builder.bot.closedTitle"), t.loc.T("builder.bot.closedText")), nil
	case err != nil:
		return nil, err
	}
	save := func(ctx context.Context, cur *builder.Draft) error {
		cur.Updated = b.now()
		_, err := builder.Update(ctx, b.cfg.Store, t.tenantID, t.userID, cur.ID, func(stored *builder.Draft) error {
			*stored = *cur
			return nil
		})
		return err
	}
	cerr := builder.Create(ctx, b.cfg.Builder, &claimed, save)
	e := b.adminEntry(t, "admin.package.create")
	if claimed.Edit {
		e.Action = "admin.package.edit"
	}
	e.PackageID, e.PackageName = claimed.Made.PackageID, claimed.Name
	if cerr != nil {
		t.log.WarnContext(ctx, "package builder create failed", "package", claimed.Name, "err", cerr)
		e.Outcome = "failed: " + entitlement.UserMessage(cerr)
		b.appendAudit(ctx, e)
		return b.answer(ctx, t, cards.PackageBuilt(t.loc, b.builtView(t.loc, claimed)))
	}
	e.Outcome = "done"
	b.appendAudit(ctx, e)
	if err := builder.Close(ctx, b.cfg.Store, t.tenantID, t.userID, claimed.ID); err != nil {
		t.log.WarnContext(ctx, "close finished package draft", "err", err)
	}
	return b.answer(ctx, t, cards.PackageBuilt(t.loc, b.builtView(t.loc, claimed)))
}

// incomplete names the first step the draft still lacks ("" when it can be created).
func incomplete(d builder.Draft) string {
	switch {
	case d.Name == "" || (d.CatalogID == "" && !d.NewCatalog):
		return string(builder.StepBasics)
	case len(d.Roles) == 0:
		return string(builder.StepResources)
	case d.Who == "":
		return string(builder.StepWho)
	case d.Expiry == "":
		return string(builder.StepLifetime)
	}
	return ""
}

// verbBuilderUndo removes what a failed Create made.
func (b *Bot) verbBuilderUndo(ctx context.Context, t *turn, d builder.Draft, _ map[string]any) (*botframework.InvokeResponse, error) {
	if d.State != builder.StateFailed || d.Edit {
		return noticeCard(t.loc, noticeInfo, t.loc.T("builder.bot.nothingToUndo"), t.loc.T("builder.bot.nothingToUndoText")), nil
	}
	claimed, err := builder.Claim(ctx, b.cfg.Store, t.tenantID, t.userID, d.ID, b.now())
	if err != nil {
		return noticeCard(t.loc, noticeWarning, t.loc.T("builder.bot.notNow"), userMessage(t.loc, err)), nil
	}
	left, uerr := builder.Undo(ctx, b.cfg.Builder, &claimed)
	e := b.adminEntry(t, "admin.package.undo")
	e.PackageName = claimed.Name
	if uerr != nil {
		claimed.State = builder.StateFailed
		if _, err := builder.Update(ctx, b.cfg.Store, t.tenantID, t.userID, claimed.ID, func(s *builder.Draft) error { *s = claimed; return nil }); err != nil {
			t.log.WarnContext(ctx, "record failed undo", "err", err)
		}
		e.Outcome = "failed: " + entitlement.UserMessage(uerr)
		b.appendAudit(ctx, e)
		return b.answer(ctx, t, cards.Notice(t.loc, cards.NoticeView{Kind: noticeError, Title: t.loc.T("builder.bot.undoFailed"),
			Text: t.loc.T("builder.bot.undoFailedText", "Reason", userMessage(t.loc, uerr))}))
	}
	e.Outcome = "undone"
	b.appendAudit(ctx, e)
	if err := builder.Close(ctx, b.cfg.Store, t.tenantID, t.userID, claimed.ID); err != nil {
		t.log.WarnContext(ctx, "close undone package draft", "err", err)
	}
	v := b.builtView(t.loc, claimed)
	v.Undone, v.Failed, v.Left = true, false, left
	return b.answer(ctx, t, cards.PackageBuilt(t.loc, v))
}

// builtView is the outcome card of a draft after Create.
func (b *Bot) builtView(l *i18n.Localizer, d builder.Draft) cards.PackageBuiltView {
	v := cards.PackageBuiltView{DraftID: d.ID, PackageName: d.Name, Edit: d.Edit, Failed: d.State == builder.StateFailed,
		CanUndo: !d.Edit && (d.Made.PackageID != "" || d.Made.CatalogID != "")}
	for _, p := range d.Made.Log {
		v.Progress = append(v.Progress, cards.ProgressLine{What: l.T(p.What.ID, p.What.KV()...), OK: p.OK, Err: recordedErrorText(l, p.Err)})
	}
	if v.Failed {
		rest, err := builder.Remaining(d)
		if err != nil {
			b.log.Warn("plan what a failed package build has left", "err", err)
		}
		for i, m := range rest {
			if i == 0 && len(d.Made.Log) > 0 && !d.Made.Log[len(d.Made.Log)-1].OK {
				continue // the failed step, shown above
			}
			v.NotDone = append(v.NotDone, l.T(m.ID, m.KV()...))
		}
	}
	if d.State == builder.StateDone && d.Who != builder.WhoNobody {
		v.MyAccessURL = cards.MyAccessURL(b.cfg.Tenant.Domain, d.Made.PackageID)
		if b.cfg.BotID != "" {
			v.ChatURL = cards.BotChatMessageURL(b.cfg.BotID, "request "+d.Name)
		}
	}
	return v
}

// resolver finds approvers and groups for the wizard.
func (b *Bot) resolver() builder.Resolver {
	return builderResolver{dir: b.cfg.Entitlement, find: b.cfg.Builder}
}

type builderResolver struct {
	dir  entitlement.Directory
	find entitlement.Builder
}

// User finds a user of the resource tenant.
func (r builderResolver) User(ctx context.Context, idOrUPN string) (entitlement.User, error) {
	return r.dir.User(ctx, idOrUPN)
}

// FindResources finds groups and Teams by the start of their name.
func (r builderResolver) FindResources(ctx context.Context, search string) ([]entitlement.DirectoryResource, error) {
	return r.find.FindResources(ctx, search)
}

// wizardOptions reads what the step offers (catalogs, the catalog's roles, organizations, packages).
func (b *Bot) wizardOptions(ctx context.Context, d *builder.Draft, step builder.Step) (builder.Options, error) {
	o := builder.Options{Now: b.now()}
	var err error
	switch step {
	case builder.StepBasics:
		o.Catalogs, err = b.cfg.Entitlement.Catalogs(ctx)
		o.Catalogs = manageable(o.Catalogs)
	case builder.StepResources:
		var res []entitlement.CatalogResource
		if d.CatalogID != "" {
			if res, err = b.cfg.Builder.CatalogResources(ctx, d.CatalogID); err != nil {
				return o, fmt.Errorf("list resources of catalog %s: %w", d.CatalogID, err)
			}
		}
		o.Roles = builder.RoleOptions(res, d.Found)
		for _, r := range append(d.ExistingRoles(), d.Roles...) {
			if (r.Pending || r.Existing) && !containsRole(o.Roles, r.Key()) {
				o.Roles = append(o.Roles, r)
			}
		}
	case builder.StepWho:
		if o.Orgs, err = b.cfg.Entitlement.ConnectedOrgs(ctx); err == nil {
			o.Catalogs, err = b.cfg.Entitlement.Catalogs(ctx)
		}
	case builder.StepSoD:
		o.Packages, err = b.cfg.Entitlement.Packages(ctx)
	}
	if err != nil {
		return o, fmt.Errorf("read the choices of step %s: %w", step, err)
	}
	return o, nil
}

// manageable drops catalogs Entra manages itself (their packages can't be changed by admins).
func manageable(cats []entitlement.Catalog) []entitlement.Catalog {
	var out []entitlement.Catalog
	for _, c := range cats {
		if c.Type != "serviceManaged" {
			out = append(out, c)
		}
	}
	return out
}

func containsRole(rs []builder.RoleDraft, key string) bool {
	for _, r := range rs {
		if r.Key() == key {
			return true
		}
	}
	return false
}

// wizardInput reads a wizard card's inputs.
func wizardInput(data map[string]any) builder.Input {
	in := builder.Input{
		Name: str(data, cards.InputPBName), Description: str(data, cards.InputPBDescription),
		Catalog: str(data, cards.InputPBCatalog), NewCatalogName: str(data, cards.InputPBNewCatalog),
		Roles: str(data, cards.InputPBRoles), Who: str(data, cards.InputPBWho), Orgs: str(data, cards.InputPBOrgs),
		StageCount: str(data, cards.InputPBStages), RequestorJustification: str(data, cards.InputPBJustification),
		Expiry: str(data, cards.InputPBExpiry), ExpiryDays: str(data, cards.InputPBExpiryDays),
		ExpiryDate: str(data, cards.InputPBExpiryDate), Extension: str(data, cards.InputPBExtension),
		IncompatiblePackages: str(data, cards.InputPBIncompatPkgs), IncompatibleGroups: str(data, cards.InputPBIncompatGroups),
	}
	for i := range in.Stages {
		n := i + 1
		in.Stages[i] = builder.StageInput{Kind: str(data, cards.InputPBStage(n, "kind")), Names: str(data, cards.InputPBStage(n, "names")),
			Fallback: str(data, cards.InputPBStage(n, "fallback")), Justification: str(data, cards.InputPBStage(n, "justification")),
			AutoDenyDays: str(data, cards.InputPBStage(n, "autoDeny")), EscalateHours: str(data, cards.InputPBStage(n, "escalateHours")),
			EscalateTo: str(data, cards.InputPBStage(n, "escalateTo"))}
	}
	for i := range in.Questions {
		n := i + 1
		in.Questions[i] = builder.QuestionInput{Text: str(data, cards.InputPBQuestion(n, "text")), Format: str(data, cards.InputPBQuestion(n, "format")),
			Choices: str(data, cards.InputPBQuestion(n, "choices")), Required: str(data, cards.InputPBQuestion(n, "required"))}
	}
	return in
}
