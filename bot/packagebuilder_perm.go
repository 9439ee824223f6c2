package bot

import (
	"context"
	"errors"
	"fmt"

	"github.com/accessbot/accessbot/internal/builder"
	"github.com/accessbot/accessbot/internal/entitlement"
)

// catalogRoleReader reads what an admin may manage in entitlement management (the Graph client implements it).
type catalogRoleReader interface {
	HasDirectoryRole(ctx context.Context, userID string, roleTemplateIDs []string) (bool, error)
	CatalogRoleAssignments(ctx context.Context, userID string) ([]entitlement.CatalogRoleAssignment, error)
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
// catalogID is ""): the Identity Governance Administrator role (iga) allows everything; a catalog needs
// Catalog owner or Access package manager on it, a new catalog needs Catalog creator. held are the catalog ids of the roles
// the admin has there, for the refusal.
func mayManageCatalog(iga bool, roles []entitlement.CatalogRoleAssignment, catalogID string) (ok bool, held []string) {
	if iga {
		return true, nil
	}
	for _, r := range roles {
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
	r, ok := b.cfg.Builder.(catalogRoleReader)
	if !ok {
		return nil, nil
	}
	iga, err := r.HasDirectoryRole(ctx, t.userID, []string{entitlement.RoleIdentityGovernanceAdmin})
	switch {
	case errors.Is(err, entitlement.ErrForbidden):
		// Without RoleManagement.Read.Directory only the catalog roles can allow it.
		t.log.WarnContext(ctx, "directory roles not readable; checking catalog roles only", "err", err)
	case err != nil:
		return nil, fmt.Errorf("read directory roles of %s: %w", t.userID, err)
	}
	var roles []entitlement.CatalogRoleAssignment
	if !iga {
		if roles, err = r.CatalogRoleAssignments(ctx, t.userID); err != nil {
			return nil, fmt.Errorf("read entitlement management roles of %s: %w", t.userID, err)
		}
	}
	allowed, held := mayManageCatalog(iga, roles, catalogID)
	if allowed {
		return nil, nil
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
