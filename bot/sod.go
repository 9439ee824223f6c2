package bot

import (
	"context"
	"fmt"
	"strings"

	"github.com/accessbot/accessbot/cards"
	"github.com/accessbot/accessbot/internal/builder"
	"github.com/accessbot/accessbot/internal/entitlement"
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
		out = append(out, g.Name+" (group)")
	}
	return out
}

// adminSoD lists the users who hold incompatible access today.
func (b *Bot) adminSoD(ctx context.Context, c *adminCall) error {
	if err := admNoArgs(c); err != nil {
		return err
	}
	if _, err := b.builderPorts(); err != nil {
		return err
	}
	rep, err := builder.Report(ctx, sodReader{b.cfg.Entitlement, b.cfg.Builder})
	if err != nil {
		return fmt.Errorf("separation of duties report: %w", err)
	}
	v := cards.AdminTableView{Title: "Incompatible access held today", Subtitle: "People who hold a package and access it is incompatible with.",
		Columns: []string{"Person", "Holds", "Incompatible with"}, Total: len(rep), EmptyText: "Nobody holds incompatible access.",
		Footnote: "Remove one of the two with /revoke {user} {package}; set incompatibilities with /package {name} edit."}
	for i, h := range rep {
		if i == adminTableRows {
			break
		}
		var with []string
		for _, k := range h.Conflicts {
			w := k.Name
			if k.Kind == entitlement.IncompatibleGroup {
				w += " (group)"
			}
			with = append(with, w)
		}
		v.Rows = append(v.Rows, cards.AdminRow{Cells: []string{h.UserName, h.PackageName, strings.Join(with, ", ")}})
	}
	c.entry.Outcome = fmt.Sprintf("listed %d", len(rep))
	return b.sendAdminTable(ctx, c.t, v)
}
