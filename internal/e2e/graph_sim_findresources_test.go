package e2e

import (
	"slices"
	"testing"

	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/tenantsim"
)

// TestGraphSimFindSitesAndApps drives FindResources and AddCatalogResource (the Graph client) against the
// simulator for a SharePoint site (by name and by URL) and an application: each is found with the roles the
// catalog then offers, and added to the catalog with exactly those roles.
func TestGraphSimFindSitesAndApps(t *testing.T) {
	e := newGSEnv(t)
	ctx := e.ctx()
	c := e.client

	found, err := c.FindResources(ctx, "Northwind")
	if err != nil {
		t.Fatalf("find resources: %v", err)
	}
	bySystem := map[string]entitlement.DirectoryResource{}
	for _, f := range found {
		bySystem[f.OriginSystem] = f
	}
	site, app := bySystem[entitlement.OriginSharePoint], bySystem[entitlement.OriginApplication]
	if site.OriginID != tenantsim.NorthwindSiteURL || site.Name != "Northwind Collaboration" {
		t.Fatalf("site not found by name: %+v", found)
	}
	if app.OriginID != tenantsim.NorthwindExtranetSPID || !slices.Equal(app.Roles, []string{"Default Access", "Partner", "Reviewer"}) {
		t.Fatalf("application not found with its roles: %+v", found)
	}
	byURL, err := c.FindResources(ctx, tenantsim.NorthwindSiteURL+"/")
	if err != nil || len(byURL) != 1 || byURL[0].OriginID != tenantsim.NorthwindSiteURL {
		t.Fatalf("site by URL = %+v, %v", byURL, err)
	}
	if none, err := c.FindResources(ctx, "https://contoso.sharepoint.com/sites/nope"); err != nil || len(none) != 0 {
		t.Fatalf("unknown site URL = %+v, %v", none, err)
	}

	for _, r := range []entitlement.DirectoryResource{site, app} {
		res, err := c.AddCatalogResource(ctx, tenantsim.FalconCatalogID, r)
		if err != nil {
			t.Fatalf("add %s: %v", r.Name, err)
		}
		var names []string
		for _, role := range res.Roles {
			names = append(names, role.Name)
		}
		for _, want := range r.Roles {
			if !slices.Contains(names, want) {
				t.Errorf("%s: the catalog offers %v, the search promised %q", r.Name, names, want)
			}
		}
	}
}
