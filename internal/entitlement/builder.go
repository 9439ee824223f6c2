package entitlement

import "context"

// Builder creates and changes catalogs, catalog resources, access packages, their assignment policies and
// their incompatibilities with the application's identity (issue 12, the package builder). It is a separate
// small interface (not part of Port) so the many fakes of Port stay as they are; the Graph client implements
// both.
type Builder interface {
	// CreateCatalog creates a catalog (published, userManaged).
	CreateCatalog(ctx context.Context, in NewCatalog) (Catalog, error)
	// DeleteCatalog deletes a catalog; Graph refuses while it has access packages.
	DeleteCatalog(ctx context.Context, catalogID string) error
	// CatalogResources lists the resources of a catalog with their roles.
	CatalogResources(ctx context.Context, catalogID string) ([]CatalogResource, error)
	// FindResources searches the directory for groups/Teams and applications by display name prefix
	// (case-insensitive) and SharePoint sites by keyword, or a site by its URL, for adding to a catalog.
	FindResources(ctx context.Context, search string) ([]DirectoryResource, error)
	// AddCatalogResource adds a resource to a catalog (resourceRequests, requestType adminAdd) and returns it
	// with its roles.
	AddCatalogResource(ctx context.Context, catalogID string, r DirectoryResource) (CatalogResource, error)

	// CreatePackage creates an access package in a catalog.
	CreatePackage(ctx context.Context, in NewPackage) (Package, error)
	// UpdatePackage changes an access package's name, description and visibility.
	UpdatePackage(ctx context.Context, packageID string, in NewPackage) error
	// DeletePackage deletes an access package; Graph refuses while it has assignments.
	DeletePackage(ctx context.Context, packageID string) error
	// AddResourceRole adds a catalog resource role to an access package (resourceRoleScopes) and returns the
	// role scope id.
	AddResourceRole(ctx context.Context, packageID string, role CatalogResourceRole) (string, error)
	// RemoveResourceRole removes a resource role from an access package (DELETE resourceRoleScopes/{id});
	// people who hold the package lose that role.
	RemoveResourceRole(ctx context.Context, packageID, roleScopeID string) error

	// CreatePolicy creates an assignment policy for p.PackageID (p.ID is ignored).
	CreatePolicy(ctx context.Context, p Policy) (Policy, error)
	// UpdatePolicy changes the assignment policy after.ID from before (the policy as it was read) to after:
	// only what differs between them is written; every other property keeps the value Entra has, including
	// those this model does not hold (the policy's access reviews, custom extensions, translations, …).
	// A question with an ID is the same question (its other fields are kept).
	UpdatePolicy(ctx context.Context, before, after Policy) (Policy, error)
	// DeletePolicy deletes an assignment policy.
	DeletePolicy(ctx context.Context, policyID string) error

	// Incompatibilities lists the packages and groups an access package is incompatible with.
	Incompatibilities(ctx context.Context, packageID string) (Incompatibilities, error)
	// SetIncompatible adds (add true) or removes an incompatible package or group of an access package.
	SetIncompatible(ctx context.Context, packageID string, ref IncompatibleRef, add bool) error
}

// NewCatalog is the input of Builder.CreateCatalog.
type NewCatalog struct {
	Name        string
	Description string
	// ExternallyVisible lets users of connected organizations request the catalog's packages.
	ExternallyVisible bool
}

// Origin systems of catalog resources.
const (
	OriginGroup       = "AadGroup"
	OriginSharePoint  = "SharePointOnline"
	OriginApplication = "AadApplication"
)

// DirectoryResource is something that can be added to a catalog: a group or Team, a SharePoint site or an
// application, named by its origin system and id.
type DirectoryResource struct {
	OriginSystem string
	// OriginID is the group id, site URL or application (service principal) id.
	OriginID    string
	Name        string
	Description string
	// IsTeam marks a group that is a Team.
	IsTeam bool
	// Roles are the names of the roles a catalog will offer once the resource is added: Member and Owner of a
	// group, a site's default SharePoint groups ("{site} Owners/Visitors/Members"), an application's
	// "Default Access" and app roles.
	Roles []string
}

// CatalogResource is a resource of a catalog with the roles packages can grant.
type CatalogResource struct {
	ID           string
	Name         string
	Description  string
	OriginSystem string
	OriginID     string
	Roles        []CatalogResourceRole
}

// CatalogResourceRole is one role of a catalog resource (Member/Owner of a group, a site role, an app role),
// with what resourceRoleScopes needs to grant it.
type CatalogResourceRole struct {
	ID           string
	Name         string
	OriginID     string
	OriginSystem string
	ResourceID   string
	// ResourceOriginID is the resource's origin id (the root scope's origin id).
	ResourceOriginID string
	ResourceName     string
}

// NewPackage is the input of Builder.CreatePackage and UpdatePackage.
type NewPackage struct {
	Name        string
	Description string
	CatalogID   string
	IsHidden    bool
}

// Incompatibilities are the packages and groups whose holders may not get an access package.
type Incompatibilities struct {
	Packages []Package
	Groups   []Group
	// NamedBy are the packages that marked this one incompatible (Graph's accessPackagesIncompatibleWith):
	// their holders may not get it either.
	NamedBy []Package
}

// Group is a directory group (name and id).
type Group struct {
	ID   string
	Name string
}

// IncompatibleKind says whether an incompatibility names a package or a group.
type IncompatibleKind string

// Incompatibility kinds.
const (
	IncompatiblePackage IncompatibleKind = "package"
	IncompatibleGroup   IncompatibleKind = "group"
)

// IncompatibleRef names one incompatible package or group.
type IncompatibleRef struct {
	Kind IncompatibleKind
	ID   string
}
