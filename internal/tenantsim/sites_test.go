package tenantsim

import (
	"net/url"
	"testing"
)

// TestSitesAndAppsToCatalog: a SharePoint site found by search or URL and an application found by name are
// added to a catalog (resourceRequests adminAdd) with their roles: the site's Owners/Visitors/Members groups,
// the app's Default Access and app roles; unknown ones are refused.
func TestSitesAndAppsToCatalog(t *testing.T) {
	e := newEnv(t)
	app := e.appToken()
	base := "/v1.0/"

	r := e.do("GET", base+"sites?search=northwind", app, nil)
	wantStatus(t, r, 200)
	sites := values(t, r)
	if len(sites) != 1 || sites[0]["webUrl"] != NorthwindSiteURL || sites[0]["displayName"] != "Northwind Collaboration" {
		t.Fatalf("site search: %s", r.raw)
	}
	r = e.do("GET", base+"sites/contoso.sharepoint.com:/sites/northwind-collab", app, nil)
	wantStatus(t, r, 200)
	if r.body["webUrl"] != NorthwindSiteURL {
		t.Fatalf("site by URL: %s", r.raw)
	}
	wantStatus(t, e.do("GET", base+"sites/contoso.sharepoint.com:/sites/nope", app, nil), 404)

	r = e.do("GET", base+"servicePrincipals?$filter="+url.QueryEscape("startswith(displayName,'northwind')"), app, nil)
	wantStatus(t, r, 200)
	sps := values(t, r)
	if len(sps) != 1 || sps[0]["id"] != NorthwindExtranetSPID || len(sps[0]["appRoles"].([]any)) != 2 {
		t.Fatalf("service principal search: %s", r.raw)
	}

	tests := []struct {
		name, originSystem, originID string
		status                       int
		roles                        []string
	}{
		{"site", "SharePointOnline", NorthwindSiteURL, 201, []string{"Northwind Collaboration Owners", "Northwind Collaboration Visitors", "Northwind Collaboration Members"}},
		{"app", "AadApplication", NorthwindExtranetSPID, 201, []string{"Default Access", "Partner", "Reviewer"}},
		{"unknown site", "SharePointOnline", "https://contoso.sharepoint.com/sites/nope", 400, nil},
		{"unknown app", "AadApplication", "dddddddd-0000-0000-0000-0000000000ff", 400, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do("POST", em+"resourceRequests", app, map[string]any{"requestType": "adminAdd",
				"resource": map[string]any{"originId": tt.originID, "originSystem": tt.originSystem}, "catalog": map[string]any{"id": FalconCatalogID}})
			wantStatus(t, r, tt.status)
			if tt.status != 201 {
				return
			}
			r = e.do("GET", em+"catalogs/"+FalconCatalogID+"/resources?$expand=roles", app, nil)
			for _, res := range values(t, r) {
				if res["originId"] != tt.originID {
					continue
				}
				var got []string
				for _, role := range res["roles"].([]any) {
					got = append(got, str(role.(map[string]any)["displayName"]))
				}
				if len(got) != len(tt.roles) {
					t.Fatalf("roles %v, want %v", got, tt.roles)
				}
				for i := range got {
					if got[i] != tt.roles[i] {
						t.Fatalf("roles %v, want %v", got, tt.roles)
					}
				}
				return
			}
			t.Fatalf("%s not in the catalog: %s", tt.originID, r.raw)
		})
	}
}
