package e2e

import (
	"errors"
	"testing"

	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/tenantsim"
)

// TestGraphSimBuilder drives entitlement.Builder (the Graph client) against the simulator: catalog, resource,
// package, role, policy (refused without approvers, then created), update, incompatibilities, delete.
func TestGraphSimBuilder(t *testing.T) {
	e := newGSEnv(t)
	ctx := e.ctx()
	c := e.client

	cat, err := c.CreateCatalog(ctx, entitlement.NewCatalog{Name: "Northwind", Description: "Partner pilot", ExternallyVisible: true})
	if err != nil || cat.ID == "" || cat.Name != "Northwind" {
		t.Fatalf("create catalog = %+v, %v", cat, err)
	}
	found, err := c.FindResources(ctx, "falcon t")
	if err != nil || len(found) != 1 || found[0].OriginID != tenantsim.FalconTeamGroupID || !found[0].IsTeam {
		t.Fatalf("find resources = %+v, %v", found, err)
	}
	res, err := c.AddCatalogResource(ctx, cat.ID, found[0])
	if err != nil || res.ID == "" || len(res.Roles) != 2 {
		t.Fatalf("add resource = %+v, %v", res, err)
	}
	if _, err := c.AddCatalogResource(ctx, cat.ID, found[0]); !errors.Is(err, entitlement.ErrInvalidInput) && !errors.Is(err, entitlement.ErrConflict) {
		t.Fatalf("adding the resource twice: %v", err)
	}
	pkg, err := c.CreatePackage(ctx, entitlement.NewPackage{Name: "Northwind Pilot", Description: "Falcon for Northwind", CatalogID: cat.ID})
	if err != nil || pkg.ID == "" || pkg.CatalogID != cat.ID {
		t.Fatalf("create package = %+v, %v", pkg, err)
	}
	var member entitlement.CatalogResourceRole
	for _, r := range res.Roles {
		if r.Name == "Member" {
			member = r
		}
	}
	if _, err := c.AddResourceRole(ctx, pkg.ID, member); err != nil {
		t.Fatalf("add role: %v", err)
	}
	got, err := c.Package(ctx, pkg.ID)
	if err != nil || len(got.Resources) != 1 || got.Resources[0].RoleName != "Member" {
		t.Fatalf("package after role = %+v, %v", got, err)
	}

	pol := entitlement.Policy{PackageID: pkg.ID, Name: "Fabrikam users", Scope: entitlement.ScopeSpecificConnectedOrganizationUsers,
		SpecificTargets: []entitlement.SubjectSet{{Kind: entitlement.SetConnectedOrganizationMembers, ConnectedOrgID: tenantsim.FabrikamConnectedOrgID}},
		Expiration:      entitlement.Expiration{Type: entitlement.ExpireAfterDuration, Duration: "P30D"},
		SelfAddAllowed:  true, ApprovalRequired: true,
		Stages: []entitlement.Stage{{DurationBeforeAutomaticDenial: "P14D"}}}
	if _, err := c.CreatePolicy(ctx, pol); !errors.Is(err, entitlement.ErrInvalidInput) {
		t.Fatalf("policy without approvers: %v, want invalid input", err)
	}
	pol.Stages[0].PrimaryApprovers = []entitlement.SubjectSet{{Kind: entitlement.SetSingleUser, UserID: tenantsim.UserPatti}}
	created, err := c.CreatePolicy(ctx, pol)
	if err != nil || created.ID == "" || created.Expiration.Duration != "P30D" || len(created.Stages) != 1 {
		t.Fatalf("create policy = %+v, %v", created, err)
	}
	before := created
	created.Expiration = entitlement.Expiration{Type: entitlement.ExpireNever}
	if upd, err := c.UpdatePolicy(ctx, before, created); err != nil || upd.Expiration.Type != entitlement.ExpireNever {
		t.Fatalf("update policy = %+v, %v", upd, err)
	}

	for _, ref := range []entitlement.IncompatibleRef{{Kind: entitlement.IncompatiblePackage, ID: tenantsim.PkgBreakGlass},
		{Kind: entitlement.IncompatibleGroup, ID: tenantsim.ReviewersGroupID}} {
		if err := c.SetIncompatible(ctx, pkg.ID, ref, true); err != nil {
			t.Fatalf("add incompatible %+v: %v", ref, err)
		}
	}
	inc, err := c.Incompatibilities(ctx, pkg.ID)
	if err != nil || len(inc.Packages) != 1 || inc.Packages[0].ID != tenantsim.PkgBreakGlass || len(inc.Groups) != 1 || inc.Groups[0].Name != "Falcon Security Reviewers" {
		t.Fatalf("incompatibilities = %+v, %v", inc, err)
	}
	if err := c.SetIncompatible(ctx, pkg.ID, entitlement.IncompatibleRef{Kind: entitlement.IncompatiblePackage, ID: tenantsim.PkgBreakGlass}, false); err != nil {
		t.Fatalf("remove incompatible: %v", err)
	}
	if err := c.UpdatePackage(ctx, pkg.ID, entitlement.NewPackage{Name: "Northwind Pilot", Description: "changed"}); err != nil {
		t.Fatalf("update package: %v", err)
	}
	if err := c.DeletePackage(ctx, pkg.ID); err != nil {
		t.Fatalf("delete package: %v", err)
	}
	if _, err := c.Package(ctx, pkg.ID); !errors.Is(err, entitlement.ErrNotFound) {
		t.Fatalf("package after delete: %v", err)
	}
}
