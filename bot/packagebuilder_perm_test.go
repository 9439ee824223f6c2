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
	tests := []struct {
		name    string
		iga     bool
		roles   []entitlement.CatalogRoleAssignment
		catalog string
		want    bool
		held    []string
	}{
		{"identity governance administrator manages any catalog", true, nil, "c1", true, nil},
		{"identity governance administrator creates catalogs", true, nil, "", true, nil},
		{"catalog owner of it", false, []entitlement.CatalogRoleAssignment{on(entitlement.RoleCatalogOwner, "c1")}, "c1", true, []string{"builder.role.catalogOwner"}},
		{"access package manager of it", false, []entitlement.CatalogRoleAssignment{on(entitlement.RoleAccessPackageManager, "c1")}, "c1", true, []string{"builder.role.packageManager"}},
		{"owner of another catalog", false, []entitlement.CatalogRoleAssignment{on(entitlement.RoleCatalogOwner, "c2")}, "c1", false, nil},
		{"reader only", false, []entitlement.CatalogRoleAssignment{on(entitlement.RoleCatalogReader, "c1")}, "c1", false, []string{"builder.role.catalogReader"}},
		{"assignment manager only", false, []entitlement.CatalogRoleAssignment{on(entitlement.RoleAccessPackageAssignmentManager, "c1")}, "c1", false, []string{"builder.role.assignmentManager"}},
		{"no role at all", false, nil, "c1", false, nil},
		{"catalog creator creates a catalog", false, []entitlement.CatalogRoleAssignment{on(entitlement.RoleCatalogCreator, "")}, "", true, []string{"builder.role.catalogCreator"}},
		{"catalog owner may not create one", false, []entitlement.CatalogRoleAssignment{on(entitlement.RoleCatalogOwner, "c1")}, "", false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, held := mayManageCatalog(tt.iga, tt.roles, tt.catalog)
			if got != tt.want || !slices.Equal(held, tt.held) {
				t.Errorf("mayManageCatalog = %v, %v; want %v, %v", got, held, tt.want, tt.held)
			}
		})
	}
}
