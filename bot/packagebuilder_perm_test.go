package bot

import (
	"slices"
	"testing"

	"github.com/accessbot/accessbot/internal/entitlement"
)

func TestMayManageCatalog(t *testing.T) {
	on := func(role, cat string) entitlement.CatalogRoleAssignment {
		return entitlement.CatalogRoleAssignment{RoleDefinitionID: role, CatalogID: cat}
	}
	active, none := entitlement.RoleHold{Active: true}, entitlement.RoleHold{}
	tests := []struct {
		name    string
		iga     entitlement.RoleHold
		roles   []entitlement.CatalogRoleAssignment
		catalog string
		want    bool
		held    []string
	}{
		{"identity governance administrator manages any catalog", active, nil, "c1", true, nil},
		{"identity governance administrator creates catalogs", active, nil, "", true, nil},
		{"identity governance administrator through a group", entitlement.RoleHold{Active: true, Group: "Identity Governance Admins"}, nil, "c1", true, nil},
		{"identity governance administrator activated in PIM", entitlement.RoleHold{Active: true, Activated: true}, nil, "", true, nil},
		{"eligible but not activated", entitlement.RoleHold{Eligible: true}, nil, "c1", false, nil},
		{"catalog owner through a group", none, []entitlement.CatalogRoleAssignment{{RoleDefinitionID: entitlement.RoleCatalogOwner, CatalogID: "c1", Group: "Falcon Owners"}}, "c1", true, []string{"builder.role.catalogOwner"}},
		{"catalog owner of it", none, []entitlement.CatalogRoleAssignment{on(entitlement.RoleCatalogOwner, "c1")}, "c1", true, []string{"builder.role.catalogOwner"}},
		{"access package manager of it", none, []entitlement.CatalogRoleAssignment{on(entitlement.RoleAccessPackageManager, "c1")}, "c1", true, []string{"builder.role.packageManager"}},
		{"owner of another catalog", none, []entitlement.CatalogRoleAssignment{on(entitlement.RoleCatalogOwner, "c2")}, "c1", false, nil},
		{"reader only", none, []entitlement.CatalogRoleAssignment{on(entitlement.RoleCatalogReader, "c1")}, "c1", false, []string{"builder.role.catalogReader"}},
		{"assignment manager only", none, []entitlement.CatalogRoleAssignment{on(entitlement.RoleAccessPackageAssignmentManager, "c1")}, "c1", false, []string{"builder.role.assignmentManager"}},
		{"no role at all", none, nil, "c1", false, nil},
		{"catalog creator creates a catalog", none, []entitlement.CatalogRoleAssignment{on(entitlement.RoleCatalogCreator, "")}, "", true, []string{"builder.role.catalogCreator"}},
		{"catalog owner may not create one", none, []entitlement.CatalogRoleAssignment{on(entitlement.RoleCatalogOwner, "c1")}, "", false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, held := mayManageCatalog(entitlement.AdminRights{GovernanceAdmin: tt.iga, CatalogRoles: tt.roles}, tt.catalog)
			if got != tt.want || !slices.Equal(held, tt.held) {
				t.Errorf("mayManageCatalog = %v, %v; want %v, %v", got, held, tt.want, tt.held)
			}
		})
	}
}
