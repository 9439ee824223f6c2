package entitlement

// Built-in roles that let a person manage entitlement management (role definition ids, the same in every tenant).
const (
	// RoleIdentityGovernanceAdmin is the Microsoft Entra directory role Identity Governance Administrator
	// (template id): it manages every catalog.
	RoleIdentityGovernanceAdmin = "45d8d3c5-c802-45c6-b32a-1d70b5e1e86e"
	// RoleCatalogOwner (entitlement management role, scoped to a catalog) edits and manages the catalog.
	RoleCatalogOwner = "ae79f266-94d4-4dab-b730-feca7e132178"
	// RoleCatalogReader views a catalog's access packages.
	RoleCatalogReader = "44272f93-9762-48e8-af59-1b5351b1d6b3"
	// RoleAccessPackageManager edits and manages all access packages of a catalog.
	RoleAccessPackageManager = "7f480852-ebdc-47d4-87de-0d8498384a83"
	// RoleAccessPackageAssignmentManager manages the assignments of a catalog's access packages.
	RoleAccessPackageAssignmentManager = "e2182095-804a-4656-ae11-64734e9b7ae5"
	// RoleCatalogCreator creates catalogs (tenant-wide).
	RoleCatalogCreator = "ba92d953-d8e0-4e39-a797-0cbedb0a89e8"
)

// CatalogRoleAssignment is an entitlement management role a user holds
// (roleManagement/entitlementManagement/roleAssignments).
type CatalogRoleAssignment struct {
	RoleDefinitionID string
	// CatalogID is the catalog the role is scoped to (appScopeId /AccessPackageCatalog/{id}); "" for a
	// tenant-wide role (appScopeId "/"), such as Catalog creator.
	CatalogID string
	// Group names the role-assignable group through which the user holds it ("" = assigned to the user).
	Group string
}

// RoleHold says whether and how a user holds a Microsoft Entra directory role.
type RoleHold struct {
	// Active: the role is in force now: assigned (to the user or a group of theirs) or activated in PIM.
	Active bool
	// Activated: active through a Privileged Identity Management activation.
	Activated bool
	// Eligible: eligible in PIM but not activated (read only when the role is not active).
	Eligible bool
	// Group names the role-assignable group that holds it ("" = the user's own assignment or eligibility).
	Group string
}

// AdminRights are what let a person manage entitlement management: the Identity Governance Administrator
// role and, when that is not active, their entitlement management (catalog) roles.
type AdminRights struct {
	GovernanceAdmin RoleHold
	CatalogRoles    []CatalogRoleAssignment
	// DirectoryRolesUnreadable: the application may not read directory roles (RoleManagement.Read.Directory is
	// missing), so only CatalogRoles count.
	DirectoryRolesUnreadable bool
}
