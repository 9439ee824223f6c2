package bot

import (
	"context"
	"fmt"

	"github.com/accessbot/accessbot/internal/builder"
	"github.com/accessbot/accessbot/internal/entitlement"
)

// adminRightsReader reads what an admin may manage in entitlement management: the Identity Governance
// Administrator role held directly, through a role-assignable group or by a PIM activation, and catalog roles
// (the Graph client implements it).
type adminRightsReader interface {
	AdminRights(ctx context.Context, userID string) (entitlement.AdminRights, error)
}

// entitlementRoleNames are the catalog ids naming the entitlement management roles (as the Entra admin
// center does).
var entitlementRoleNames = map[string]string{
	entitlement.RoleCatalogOwner:                   "builder.role.catalogOwner",
	entitlement.RoleCatalogReader:                  "builder.role.catalogReader",
	entitlement.RoleAccessPackageManager:           "builder.role.packageManager",
	entitlement.RoleAccessPackageAssignmentManager: "builder.role.assignmentManager",
	entitlement.RoleCatalogCreator:                 "builder.role.catalogCreator",
}

// mayManageCatalog decides whether an admin may create and change packages in catalogID (a new catalog when
// catalogID is ""): an active Identity Governance Administrator role allows everything (an eligible one that
// is not activated does not); a catalog needs Catalog owner or Access package manager on it, a new catalog
// needs Catalog creator, held by the admin or a group of theirs. held are the catalog ids of the roles the
// admin has there, for the refusal.
func mayManageCatalog(rights entitlement.AdminRights, catalogID string) (ok bool, held []string) {
	if rights.GovernanceAdmin.Active {
		return true, nil
	}
	for _, r := range rights.CatalogRoles {
		if r.CatalogID != catalogID {
			continue
		}
		switch r.RoleDefinitionID {
		case entitlement.RoleCatalogOwner, entitlement.RoleAccessPackageManager:
			ok = ok || catalogID != ""
		case entitlement.RoleCatalogCreator:
			ok = ok || catalogID == ""
		}
		if name := entitlementRoleNames[r.RoleDefinitionID]; name != "" {
			held = append(held, name)
		}
	}
	return ok, held
}

// catalogRefusal checks the admin's roles for the catalog (catalogID "" = creating catalogName) and returns
// the problem to show when they may not manage it (nil when they may, or when the client cannot tell).
func (b *Bot) catalogRefusal(ctx context.Context, t *turn, catalogID, catalogName string) (*builder.Message, error) {
	r, ok := b.cfg.Builder.(adminRightsReader)
	if !ok {
		return nil, nil
	}
	rights, err := r.AdminRights(ctx, t.userID)
	if err != nil {
		return nil, fmt.Errorf("read the entitlement management rights of %s: %w", t.userID, err)
	}
	if rights.DirectoryRolesUnreadable {
		// Without RoleManagement.Read.Directory only the catalog roles can allow it.
		t.log.WarnContext(ctx, "directory roles not readable; checking catalog roles only")
	}
	allowed, held := mayManageCatalog(rights, catalogID)
	if allowed {
		iga := rights.GovernanceAdmin
		t.log.DebugContext(ctx, "package builder rights", "catalog", catalogID, "governanceAdmin", iga.Active, "group", iga.Group, "activated", iga.Activated)
		return nil, nil
	}
	if iga := rights.GovernanceAdmin; iga.Eligible {
		via := t.loc.T("builder.perm.direct")
		if iga.Group != "" {
			via = t.loc.T("builder.perm.viaGroup", "Group", iga.Group)
		}
		id := "builder.perm.catalogPIM"
		if catalogID == "" {
			id = "builder.perm.newCatalogPIM"
		}
		m := builder.Msg(id, "Catalog", catalogName, "Via", via)
		return &m, nil
	}
	has := t.loc.T("builder.perm.none")
	if len(held) > 0 {
		names := make([]string, len(held))
		for i, id := range held {
			names[i] = t.loc.T(id)
		}
		has = t.loc.List(names)
	}
	id := "builder.perm.catalog"
	if catalogID == "" {
		id = "builder.perm.newCatalog"
	}
	m := builder.Msg(id, "Catalog", catalogName, "Held", has)
	return &m, nil
}

// checkCatalogRights refuses (as an admin error) a catalog the admin may not manage, with the reason.
func (b *Bot) checkCatalogRights(ctx context.Context, t *turn, catalogID, catalogName string) error {
	m, err := b.catalogRefusal(ctx, t, catalogID, catalogName)
	if err != nil || m == nil {
		return err
	}
	return &adminError{title: t.loc.T("builder.perm.title", "Catalog", catalogName), text: t.loc.T(m.ID, m.KV()...)}
}
