package tenantsim

import (
	"net/url"
	"strings"
	"testing"
)

// TestGetTeamWebURL: GET /teams/{id} answers a Team with its "Get link to team" webUrl, which names the group
// and the tenant; a group that is not a Team and an unknown id are 404.
func TestGetTeamWebURL(t *testing.T) {
	e := newEnv(t)
	app := e.appToken()
	r := e.do("GET", "/v1.0/teams/"+FalconTeamGroupID+"?$select=id,displayName,webUrl", app, nil)
	wantStatus(t, r, 200)
	web, _ := r.body["webUrl"].(string)
	u, err := url.Parse(web)
	if err != nil || u.Host != "teams.microsoft.com" || !strings.HasPrefix(u.Path, "/l/team/19:") ||
		u.Query().Get("groupId") != FalconTeamGroupID || u.Query().Get("tenantId") != ContosoTenantID {
		t.Fatalf("webUrl %q: %s", web, r.raw)
	}
	if r.body["displayName"] != "Falcon Team" || r.body["@odata.context"] != e.base+"/v1.0/$metadata#teams/$entity" {
		t.Fatalf("%s", r.raw)
	}
	if _, has := r.body["isArchived"]; has {
		t.Fatalf("$select not applied: %s", r.raw)
	}
	for _, id := range []string{ReviewersGroupID, "00000000-0000-0000-0000-000000000000"} {
		wantStatus(t, e.do("GET", "/v1.0/teams/"+id, app, nil), 404)
	}
	wantStatus(t, e.do("DELETE", "/v1.0/teams/"+FalconTeamGroupID, app, nil), 405)
}
