package bot

import (
	"context"
	"fmt"

	"github.com/accessbot/accessbot/cards"
	"github.com/accessbot/accessbot/internal/botframework"
	"github.com/accessbot/accessbot/internal/builder"
	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/store"
)

// Separation of duties (issue 12): before the request form opens, the requester's current assignments and
// group memberships are checked against the package's incompatibilities, and a conflict is explained instead
// of letting Entra refuse the request. /sod lists who holds incompatible access today.

// sodReader reads what the checks need with the application's identity.
type sodReader struct {
	entitlement.Port
	entitlement.Builder
}

// Packages resolves the ambiguity between the two embedded interfaces (only Port lists packages).
func (r sodReader) Packages(ctx context.Context) ([]entitlement.Package, error) {
	return r.Port.Packages(ctx)
}

// sodCard explains why a resource-tenant user can't request packageID; nil when nothing conflicts (or the
// check itself failed: Entra still refuses the request then, and the failure is logged).
func (b *Bot) sodCard(ctx context.Context, t *turn, packageID string) *cards.Card {
	if b.cfg.Builder == nil || b.cfg.Entitlement == nil || b.isForeign(t) || t.userID == "" {
		return nil
	}
	conflicts, err := builder.Check(ctx, sodReader{b.cfg.Entitlement, b.cfg.Builder}, t.userID, packageID)
	if err != nil {
		t.log.WarnContext(ctx, "separation of duties check failed", "package", packageID, "err", err)
		return nil
	}
	if len(conflicts) == 0 {
		return nil
	}
	name := packageID
	if p, err := b.cfg.Entitlement.Package(ctx, packageID); err == nil {
		name = p.Name
	}
	v := cards.IncompatibleView{PackageName: name}
	for _, c := range conflicts {
		v.Conflicts = append(v.Conflicts, cards.IncompatibleConflict{Group: c.Kind == entitlement.IncompatibleGroup, Name: c.Name,
			PackageID: c.ID, AssignmentID: c.AssignmentID})
	}
	t.log.InfoContext(ctx, "request refused: incompatible access", "package", packageID, "conflicts", len(conflicts))
	return cards.Incompatible(t.loc, v)
}

// incompatibleNames names what a package is incompatible with, for /package {name}; nil without a builder or
// when it can't be read (logged).
func (b *Bot) incompatibleNames(ctx context.Context, t *turn, packageID string) []string {
	if b.cfg.Builder == nil {
		return nil
	}
	inc, err := b.cfg.Builder.Incompatibilities(ctx, packageID)
	if err != nil {
		t.log.WarnContext(ctx, "read incompatibilities", "package", packageID, "err", err)
		return nil
	}
	var out []string
	for _, p := range inc.Packages {
		out = append(out, p.Name)
	}
	for _, g := range inc.Groups {
		out = append(out, t.loc.T("resource.groupNamed", "Name", g.Name))
	}
	return out
}

// adminSoD lists the users who hold incompatible access today.
func (b *Bot) adminSoD(ctx context.Context, c *adminCall) error {
	if err := admNoArgs(c); err != nil {
		return err
	}
	if _, err := b.builderPorts(c.t.loc); err != nil {
		return err
	}
	rep, err := builder.Report(ctx, sodReader{b.cfg.Entitlement, b.cfg.Builder})
	if err != nil {
		return fmt.Errorf("separation of duties report: %w", err)
	}
	l := c.t.loc
	v := cards.AdminTableView{Title: l.T("builder.sod.title"), Subtitle: l.T("builder.sod.subtitle"),
		Columns: []string{l.T("builder.sod.person"), l.T("builder.sod.holds"), l.T("builder.sod.incompatibleWith")}, Total: len(rep),
		EmptyText: l.T("builder.sod.empty"), Footnote: l.T("builder.sod.footnote")}
	for i, h := range rep {
		if i == adminTableRows {
			break
		}
		var with []string
		for _, k := range h.Conflicts {
			w := k.Name
			if k.Kind == entitlement.IncompatibleGroup {
				w = l.T("builder.sod.group", "Name", k.Name)
			}
			with = append(with, w)
		}
		v.Rows = append(v.Rows, cards.AdminRow{Cells: []string{h.UserName, h.PackageName, l.List(with)}})
	}
	c.entry.Outcome = fmt.Sprintf("listed %d", len(rep))
	return b.sendAdminTable(ctx, c.t, v)
}

// verbAccessRemove asks to remove one of the user's own assignments (the "Ask to remove" button of the
// separation-of-duties card and "Request removal" on the My access card): a userRemove request filed with the
// user's own token, so the policy decides whether holders may remove their access.
func (b *Bot) verbAccessRemove(ctx context.Context, t *turn, data map[string]any) (*botframework.InvokeResponse, error) {
	id := str(data, cards.KeyAssignmentID)
	if !validID(id) {
		return noticeCard(t.loc, noticeError, t.loc.T("builder.remove.broken"), t.loc.T("builder.remove.brokenText")), nil
	}
	if b.isForeign(t) {
		return noticeCard(t.loc, noticeInfo, t.loc.T("builder.remove.askSponsor"),
			t.loc.T("builder.remove.askSponsorText", "Org", orUnknown(b.cfg.Tenant.Name, t.loc.T("builder.remove.theOrg")))), nil
	}
	d, err := b.delegated(ctx, t)
	if err != nil {
		return b.failure(ctx, t, t.loc.T("builder.remove.cantAsk"), err, "access")
	}
	sr, ok := d.(entitlement.SelfRemover)
	if !ok {
		return noticeCard(t.loc, noticeInfo, t.loc.T("builder.remove.useMyAccess"),
			t.loc.T("builder.remove.useMyAccessText", "URL", cards.MyAccessURL(b.cfg.Tenant.Domain, ""))), nil
	}
	mine, err := d.MyAssignments(ctx)
	if err != nil {
		return b.failure(ctx, t, t.loc.T("builder.remove.cantRead"), err, "access")
	}
	var held *entitlement.Assignment
	for i := range mine {
		if mine[i].ID == id {
			held = &mine[i]
		}
	}
	if held == nil || !held.State.GrantsAccess() {
		return noticeCard(t.loc, noticeInfo, t.loc.T("builder.remove.gone"), t.loc.T("builder.remove.goneText")), nil
	}
	r, err := sr.RemoveMyAssignment(ctx, id)
	if err != nil {
		return b.failure(ctx, t, t.loc.T("builder.remove.cantAsk"), err, "access")
	}
	name := orUnknown(held.PackageName, held.PackageID)
	b.auditTurn(ctx, t, store.AuditEntry{Action: "access.remove", Mode: store.ModeDelegated, RequestID: r.ID, PackageID: held.PackageID,
		PackageName: name, SubjectID: t.userID, SubjectName: t.userName, Outcome: "removal requested"})
	return noticeCard(t.loc, noticeSuccess, t.loc.T("builder.remove.requested"), t.loc.T("builder.remove.requestedText", "Name", name, "ID", r.ID)), nil
}
