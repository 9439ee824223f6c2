package tenantsim

import (
	"context"
	"net/url"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/accessbot/accessbot/manifest"
)

func TestUsersManagerGroups(t *testing.T) {
	e := newEnv(t)
	app := e.appToken()
	r := e.do("GET", "/v1.0/users/"+UserRita+"?$select=id,displayName,userType,externalUserState,mail,userPrincipalName", app, nil)
	wantStatus(t, r, 200)
	if r.body["displayName"] != "Rita Requester" || r.body["userType"] != "Member" || r.body["mail"] != "rita@contoso.example" ||
		r.body["userPrincipalName"] != "rita@contoso.example" || r.body["jobTitle"] != nil {
		t.Fatalf("%s", r.raw)
	}
	if _, ok := r.body["externalUserState"]; !ok {
		t.Fatal("selected externalUserState must be present (null for members)")
	}
	if r.body["@odata.context"] != e.base+"/v1.0/$metadata#users/$entity" {
		t.Fatalf("context %v", r.body["@odata.context"])
	}
	// Without $select, Graph's default property set: no userType or accountEnabled.
	r = e.do("GET", "/v1.0/users/"+UserRita, app, nil)
	if _, has := r.body["userType"]; has || r.body["displayName"] != "Rita Requester" || r.body["jobTitle"] != "Engineer" {
		t.Fatalf("default properties: %s", r.raw)
	}
	if _, has := r.body["accountEnabled"]; has {
		t.Fatalf("accountEnabled returned without $select: %s", r.raw)
	}
	r = e.do("GET", "/v1.0/users?$filter="+url.QueryEscape("userType eq 'Member' and startswith(displayName,'N')"), app, nil)
	if got := ids(t, r); !slices.Equal(got, []string{UserNestor}) {
		t.Fatalf("filter on a non-default property %v", got)
	}
	// By UPN too.
	if r := e.do("GET", "/v1.0/users/aaron@contoso.example", app, nil); r.body["id"] != UserAaron {
		t.Fatalf("%s", r.raw)
	}
	// Users of another tenant are not in Contoso's directory.
	wantGraphError(t, e.do("GET", "/v1.0/users/"+UserGus, app, nil), 404, "Request_ResourceNotFound")

	tests := []struct {
		user, manager string
	}{
		{UserRita, UserAaron}, {UserMegan, UserAaron}, {UserAaron, UserPatti}, {UserAdele, UserPatti},
	}
	for _, tc := range tests {
		r := e.do("GET", "/v1.0/users/"+tc.user+"/manager", app, nil)
		wantStatus(t, r, 200)
		if r.body["id"] != tc.manager || r.body["@odata.type"] != "#microsoft.graph.user" {
			t.Fatalf("manager of %s: %s", tc.user, r.raw)
		}
	}
	wantGraphError(t, e.do("GET", "/v1.0/users/"+UserNestor+"/manager", app, nil), 404, "Request_ResourceNotFound")

	r = e.do("GET", "/v1.0/users/"+UserAdele+"/memberOf", app, nil)
	if got := ids(t, r); !slices.Equal(got, []string{AdminsGroupID}) {
		t.Fatalf("adele memberOf %v", got)
	}
	r = e.do("GET", "/v1.0/groups/"+ReviewersGroupID+"/members", app, nil)
	if got := ids(t, r); !slices.Equal(got, []string{UserIsaiah, UserLynne}) {
		t.Fatalf("reviewers %v", got)
	}
	r = e.do("GET", "/v1.0/users?$filter="+url.QueryEscape("startswith(displayName,'a')"), app, nil)
	if got := ids(t, r); !slices.Equal(got, []string{UserAaron, UserAdele}) {
		t.Fatalf("users filter %v", got)
	}
	// /me with a delegated token.
	if r := e.do("GET", "/v1.0/me", e.userToken(UserLynne), nil); r.body["id"] != UserLynne {
		t.Fatalf("me %s", r.raw)
	}
	wantGraphError(t, e.do("GET", "/v1.0/me", app, nil), 400, "BadRequest")
	// A Fabrikam app token sees Fabrikam's directory and no entitlement management.
	fab := e.form("/"+FabrikamTenantID+"/oauth2/v2.0/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {BotAppID},
		"client_secret": {e.sim.Info().BotClientSecret}, "scope": {"https://graph.microsoft.com/.default"}}).body["access_token"].(string)
	if r := e.do("GET", "/v1.0/users/"+UserGus, fab, nil); r.body["mail"] != "gus@fabrikam.example" {
		t.Fatalf("%s", r.raw)
	}
	if got := ids(t, e.do("GET", em+"accessPackages", fab, nil)); len(got) != 0 {
		t.Fatalf("fabrikam packages %v", got)
	}
}

func TestInstalledApps(t *testing.T) {
	e := newEnv(t)
	app := e.appToken()
	path := "/v1.0/users/" + UserAaron + "/teamwork/installedApps"
	body := map[string]any{"teamsApp@odata.bind": "https://graph.microsoft.com/v1.0/appCatalogs/teamsApps/accessbot-app"}
	r := e.do("POST", path, app, body)
	wantStatus(t, r, 201)
	if r.header.Get("Location") == "" {
		t.Fatal("no Location")
	}
	wantGraphError(t, e.do("POST", path, app, body), 409, "Conflict")
	wantGraphError(t, e.do("POST", path, app, map[string]any{}), 400, "BadRequest")
	r = e.do("GET", path+"?$expand=teamsApp&$filter="+url.QueryEscape("teamsApp/id eq 'accessbot-app'"), app, nil)
	wantStatus(t, r, 200)
	v := values(t, r)
	if len(v) != 1 || v[0]["teamsApp"].(map[string]any)["id"] != "accessbot-app" {
		t.Fatalf("%s", r.raw)
	}
	// Delegated callers manage only their own apps.
	wantGraphError(t, e.do("POST", path, e.userToken(UserRita), body), 403, "AccessDenied")
	wantStatus(t, e.do("POST", "/v1.0/users/"+UserRita+"/teamwork/installedApps", e.userToken(UserRita), body), 201)
	wantStatus(t, e.do("POST", "/v1.0/users/"+UserLynne+"/teamwork/installedApps", app,
		map[string]any{"teamsApp@odata.bind": "https://graph.microsoft.com/v1.0/appCatalogs/teamsApps('accessbot-app')"}), 201)
	wantGraphError(t, e.do("POST", "/v1.0/users/"+UserLynne+"/teamwork/installedApps", app,
		map[string]any{"teamsApp@odata.bind": "https://graph.microsoft.com/v1.0/users/x"}), 400, "BadRequest")
	if got := ids(t, e.do("GET", "/v1.0/users/"+UserLynne+"/teamwork/installedApps", app, nil)); len(got) != 1 {
		t.Fatalf("lynne's apps %v", got)
	}
}

// TestTeamsAppCatalog: like Teams, AccessBot published to Contoso's catalog has a generated id; its manifest id
// is the externalId. Graph installs by catalog id, so installing by the manifest id is a 404, and the catalog
// answers the externalId lookup that finds the catalog id.
func TestTeamsAppCatalog(t *testing.T) {
	e := newEnv(t)
	app := e.appToken()
	r := e.do("GET", "/v1.0/appCatalogs/teamsApps?$filter="+url.QueryEscape("externalId eq '"+BotTeamsAppManifestID+"'"), app, nil)
	wantStatus(t, r, 200)
	v := values(t, r)
	if len(v) != 1 || v[0]["id"] != BotTeamsAppCatalogID || v[0]["externalId"] != BotTeamsAppManifestID || v[0]["distributionMethod"] != "organization" {
		t.Fatalf("catalog lookup by externalId: %s", r.raw)
	}
	if got := values(t, e.do("GET", "/v1.0/appCatalogs/teamsApps?$filter="+url.QueryEscape("externalId eq 'nope'"), app, nil)); len(got) != 0 {
		t.Fatalf("lookup of an unknown externalId = %v", got)
	}
	r = e.do("GET", "/v1.0/appCatalogs/teamsApps/"+BotTeamsAppCatalogID, app, nil)
	if wantStatus(t, r, 200); r.body["externalId"] != BotTeamsAppManifestID {
		t.Fatalf("get by catalog id: %s", r.raw)
	}
	wantGraphError(t, e.do("GET", "/v1.0/appCatalogs/teamsApps/"+BotTeamsAppManifestID, app, nil), 404, "")

	path := "/v1.0/users/" + UserAaron + "/teamwork/installedApps"
	bind := func(id string) map[string]any {
		return map[string]any{"teamsApp@odata.bind": "https://graph.microsoft.com/v1.0/appCatalogs/teamsApps/" + id}
	}
	wantGraphError(t, e.do("POST", path, app, bind(BotTeamsAppManifestID)), 404, "NotFound")
	wantStatus(t, e.do("POST", path, app, bind(BotTeamsAppCatalogID)), 201)
	r = e.do("GET", path+"?$expand=teamsApp&$filter="+url.QueryEscape("teamsApp/externalId eq '"+BotTeamsAppManifestID+"'"), app, nil)
	wantStatus(t, r, 200)
	if v := values(t, r); len(v) != 1 || v[0]["teamsApp"].(map[string]any)["id"] != BotTeamsAppCatalogID {
		t.Fatalf("installed apps by externalId: %s", r.raw)
	}
}

func TestTenantInformation(t *testing.T) {
	e := newEnv(t)
	app := e.appToken()
	tests := []struct {
		domain, tenant, name string
		status               int
	}{
		{"fabrikam.example", FabrikamTenantID, "Fabrikam", 200},
		{"northwind.onmicrosoft.com", NorthwindTenantID, "Northwind", 200},
		{"unknown.example", "", "", 404},
	}
	for _, tc := range tests {
		r := e.do("GET", "/v1.0/tenantRelationships/findTenantInformationByDomainName(domainName='"+tc.domain+"')", app, nil)
		wantStatus(t, r, tc.status)
		if tc.status == 200 && (r.body["tenantId"] != tc.tenant || r.body["displayName"] != tc.name || r.body["defaultDomainName"] == nil) {
			t.Fatalf("%s", r.raw)
		}
	}
}

func TestConnectedOrganizations(t *testing.T) {
	e := newEnv(t)
	app := e.appToken()
	base := em + "connectedOrganizations"
	r := e.do("GET", base+"/"+FabrikamConnectedOrgID, app, nil)
	wantStatus(t, r, 200)
	src := r.body["identitySources"].([]any)[0].(map[string]any)
	if r.body["state"] != "configured" || src["@odata.type"] != "#microsoft.graph.azureActiveDirectoryTenant" || src["tenantId"] != FabrikamTenantID {
		t.Fatalf("%s", r.raw)
	}
	if got := ids(t, e.do("GET", base+"/"+FabrikamConnectedOrgID+"/internalSponsors", app, nil)); !slices.Equal(got, []string{UserPatti}) {
		t.Fatalf("internal sponsors %v", got)
	}
	if got := ids(t, e.do("GET", base+"/"+FabrikamConnectedOrgID+"/externalSponsors", app, nil)); !slices.Equal(got, []string{UserFiona}) {
		t.Fatalf("external sponsors %v", got)
	}

	bad := []map[string]any{
		{"identitySources": []any{}},
		{"displayName": "X", "identitySources": []any{}},
		{"displayName": "X", "identitySources": []any{map[string]any{"@odata.type": "#microsoft.graph.azureActiveDirectoryTenant", "tenantId": "nope"}}},
		{"displayName": "X", "state": "weird", "identitySources": []any{map[string]any{"@odata.type": "#microsoft.graph.azureActiveDirectoryTenant", "tenantId": NorthwindTenantID}}},
	}
	for i, b := range bad {
		if r := e.do("POST", base, app, b); r.status != 400 {
			t.Fatalf("bad[%d]: %d %s", i, r.status, r.raw)
		}
	}
	wantGraphError(t, e.do("POST", base, app, map[string]any{"displayName": "Fabrikam again", "identitySources": []any{
		map[string]any{"@odata.type": "#microsoft.graph.azureActiveDirectoryTenant", "tenantId": FabrikamTenantID}}}), 409, "Conflict")
	wantGraphError(t, e.do("POST", base, e.userToken(UserRita), map[string]any{"displayName": "N", "identitySources": []any{
		map[string]any{"@odata.type": "#microsoft.graph.azureActiveDirectoryTenant", "tenantId": NorthwindTenantID}}}), 403, "AccessDenied")

	r = e.do("POST", base, app, map[string]any{"displayName": "Northwind", "description": "proposed partner", "state": "proposed",
		"identitySources": []any{map[string]any{"@odata.type": "#microsoft.graph.domainIdentitySource", "domainName": "northwind.example", "displayName": "Northwind"}}})
	wantStatus(t, r, 201)
	id := str(r.body["id"])
	if r.header.Get("Location") != e.base+"/v1.0/identityGovernance/entitlementManagement/connectedOrganizations/"+id || r.body["state"] != "proposed" {
		t.Fatalf("%v %s", r.header, r.raw)
	}
	wantStatus(t, e.do("PATCH", base+"/"+id, app, map[string]any{"state": "configured"}), 204)
	wantGraphError(t, e.do("PATCH", base+"/"+id, app, map[string]any{"state": "on"}), 400, "BadRequest")
	ref := base + "/" + id + "/internalSponsors/$ref"
	wantStatus(t, e.do("POST", ref, app, map[string]any{"@odata.id": "https://graph.microsoft.com/v1.0/users/" + UserAdele}), 204)
	wantGraphError(t, e.do("POST", ref, app, map[string]any{"@odata.id": "https://graph.microsoft.com/v1.0/users/" + UserAdele}), 400, "BadRequest")
	wantGraphError(t, e.do("POST", ref, app, map[string]any{"@odata.id": "https://graph.microsoft.com/v1.0/users/" + UserNina}), 400, "BadRequest")
	wantStatus(t, e.do("POST", base+"/"+id+"/externalSponsors/$ref", app, map[string]any{"@odata.id": "https://graph.microsoft.com/v1.0/directoryObjects('" + UserNina + "')"}), 204)
	if got := ids(t, e.do("GET", base+"/"+id+"/externalSponsors", app, nil)); !slices.Equal(got, []string{UserNina}) {
		t.Fatalf("external sponsors %v", got)
	}
	wantStatus(t, e.do("DELETE", base+"/"+id+"/internalSponsors/"+UserAdele+"/$ref", app, nil), 204)
	if got := ids(t, e.do("GET", base+"/"+id+"/internalSponsors", app, nil)); len(got) != 0 {
		t.Fatalf("after delete %v", got)
	}
	r = e.do("GET", base+"?$filter="+url.QueryEscape("state eq 'configured'"), app, nil)
	if got := ids(t, r); !slices.Equal(got, []string{FabrikamConnectedOrgID, id}) {
		t.Fatalf("list %v", got)
	}
	// Northwind users are now in scope of "allConfiguredConnectedOrganizationUsers"-style checks; the
	// Fabrikam org is used by a policy and cannot be deleted.
	wantGraphError(t, e.do("DELETE", base+"/"+FabrikamConnectedOrgID, app, nil), 400, "BadRequest")
	wantStatus(t, e.do("DELETE", base+"/"+id, app, nil), 204)
	wantGraphError(t, e.do("GET", base+"/"+id, app, nil), 404, "ResourceNotFound")
}

func TestThrottling(t *testing.T) {
	e := newEnv(t)
	app := e.appToken()
	r := e.do("POST", "/_sim/throttle", "", map[string]any{"requests": 2, "retryAfterSeconds": 7})
	wantStatus(t, r, 200)
	for i := 0; i < 2; i++ {
		r := e.do("GET", em+"accessPackages", app, nil)
		wantGraphError(t, r, 429, "TooManyRequests")
		if r.header.Get("Retry-After") != "7" {
			t.Fatalf("Retry-After %q", r.header.Get("Retry-After"))
		}
	}
	wantStatus(t, e.do("GET", em+"accessPackages", app, nil), 200)

	e.sim.SetThrottle(-1, 0)
	for i := 0; i < 3; i++ {
		r := e.do("GET", "/v1.0/users/"+UserRita, app, nil)
		wantGraphError(t, r, 429, "TooManyRequests")
		if r.header.Get("Retry-After") != "0" {
			t.Fatalf("Retry-After %q", r.header.Get("Retry-After"))
		}
	}
	wantStatus(t, e.do("POST", "/_sim/throttle", "", map[string]any{"enabled": false}), 200)
	wantStatus(t, e.do("GET", "/v1.0/users/"+UserRita, app, nil), 200)
	wantStatus(t, e.do("POST", "/_sim/throttle", "", map[string]any{"bogus": 1}), 400)
}

func TestPersistenceAndReset(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sim.db")
	e := newEnvAt(t, path, false)
	secret := e.sim.Info().BotClientSecret
	r := e.do("POST", em+"assignmentRequests", e.userToken(UserRita), userAdd(PkgTeamMember, "", "", nil))
	wantStatus(t, r, 201)
	reqID := str(r.body["id"])
	clock := e.do("POST", "/_sim/clock", "", map[string]any{"advance": "PT2H"})
	wantStatus(t, clock, 200)
	if clock.body["offsetSeconds"] != float64(7200) {
		t.Fatalf("clock %s", clock.raw)
	}
	wantStatus(t, e.do("POST", "/_sim/clock", "", map[string]any{"advance": "two hours"}), 400)
	e.sim.SetThrottle(-1, time.Second)
	e.close()

	e2 := newEnvAt(t, path, false)
	if e2.sim.Info().BotClientSecret != secret {
		t.Fatal("client secret changed across restart")
	}
	got := e2.getRequest(reqID) // also proves throttling was switched off by the restart
	if got["state"] != "pendingApproval" {
		t.Fatalf("request after restart %v", got)
	}
	if c := e2.do("GET", "/_sim/clock", "", nil); c.body["offsetSeconds"] != float64(7200) {
		t.Fatalf("clock after restart %s", c.raw)
	}
	// The signing key survives the restart (tokens issued before stay valid).
	if e.sim.kid != e2.sim.kid {
		t.Fatal("signing key changed across restart")
	}
	e2.close()

	e3 := newEnvAt(t, path, true)
	if e3.sim.Info().BotClientSecret != secret {
		t.Fatal("reset must keep the client secret")
	}
	wantGraphError(t, e3.do("GET", em+"assignmentRequests/"+reqID, e3.appToken(), nil), 404, "ResourceNotFound")
	// /_sim/reset at runtime.
	r = e3.do("POST", em+"assignmentRequests", e3.userToken(UserRita), userAdd(PkgTeamMember, "", "", nil))
	wantStatus(t, r, 201)
	wantStatus(t, e3.do("POST", "/_sim/reset", "", nil), 200)
	wantGraphError(t, e3.do("GET", em+"assignmentRequests/"+str(r.body["id"]), e3.appToken(), nil), 404, "ResourceNotFound")
}

func TestInfoAndOptions(t *testing.T) {
	e := newEnv(t)
	info := e.sim.Info()
	if len(info.Tenants) != 3 || info.BotAppID != BotAppID || info.BotTeamsID != "28:"+BotAppID || len(info.BotClientSecret) < 20 ||
		info.GraphBaseURL != e.base+"/v1.0" || info.AuthorityHost != e.base+"/" || info.ResourceTenant != ContosoTenantID {
		t.Fatalf("info %+v", info)
	}
	if len(info.Users) != 12 || info.Users[0].ID != UserRita || info.Users[0].TeamsID != "29:rita" || info.Users[8].TenantID != FabrikamTenantID {
		t.Fatalf("users %+v", info.Users)
	}
	for i, o := range []Options{{BaseURL: "http://x"}, {Path: "x"}, {Path: "x", BaseURL: "127.0.0.1:1"}} {
		if _, err := New(o); err == nil {
			t.Fatalf("options[%d] accepted", i)
		}
	}
}

func TestDurations(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"P30D", 30 * 24 * time.Hour, true},
		{"P4W2D", 30 * 24 * time.Hour, true},
		{"PT8H", 8 * time.Hour, true},
		{"P1DT2H30M", 26*time.Hour + 30*time.Minute, true},
		{"PT1.5S", 1500 * time.Millisecond, true},
		{"P", 0, false},
		{"PT", 0, false},
		{"30D", 0, false},
		{"", 0, false},
	}
	for _, tc := range tests {
		got, err := parseISODuration(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseISODuration(%q) = %v, %v; want %v ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestRunTicks(t *testing.T) {
	clock := &testClock{t: baseTime}
	sim, err := New(Options{Path: filepath.Join(t.TempDir(), "sim.db"), BaseURL: "http://127.0.0.1:1", Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	sim.mu.Lock()
	rq := &request{Ord: sim.w.nextOrd(), ID: newID(), RequestType: "adminAdd", State: "submitted", Status: "Accepted",
		Created: baseTime, TargetID: sim.subjectFor(sim.identityOfUser(sim.w.Users[UserMegan])).ID, PackageID: PkgWikiReader, PolicyID: PolicyWikiReader}
	sim.w.Requests[rq.ID] = rq
	sim.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { sim.Run(ctx, time.Millisecond); close(done) }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		sim.mu.Lock()
		state := rq.State
		sim.mu.Unlock()
		if state == "delivering" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Run did not process the request (state %s)", state)
		}
		runtime.Gosched()
	}
	cancel()
	<-done
}

// TestSeedMatchesArchitecture pins the seed to docs/ARCHITECTURE.md.
func TestSeedMatchesArchitecture(t *testing.T) {
	e := newEnv(t)
	w := e.sim.w
	users := []struct {
		id, tenant, name, upn, manager string
	}{
		{UserRita, ContosoTenantID, "Rita Requester", "rita@contoso.example", UserAaron},
		{UserAaron, ContosoTenantID, "Aaron Approver", "aaron@contoso.example", UserPatti},
		{UserAdele, ContosoTenantID, "Adele Vance", "adele@contoso.example", UserPatti},
		{UserIsaiah, ContosoTenantID, "Isaiah Langer", "isaiah@contoso.example", UserPatti},
		{UserPatti, ContosoTenantID, "Patti Fernandez", "patti@contoso.example", ""},
		{UserLynne, ContosoTenantID, "Lynne Robbins", "lynne@contoso.example", UserPatti},
		{UserMegan, ContosoTenantID, "Megan Bowen", "megan@contoso.example", UserAaron},
		{UserNestor, ContosoTenantID, "Nestor Wilke", "nestor@contoso.example", ""},
		{UserGus, FabrikamTenantID, "Gus Guest", "gus@fabrikam.example", ""},
		{UserFiona, FabrikamTenantID, "Fiona Partner", "fiona@fabrikam.example", ""},
		{UserFrank, FabrikamTenantID, "Frank Miller", "frank@fabrikam.example", ""},
		{UserNina, NorthwindTenantID, "Nina North", "nina@northwind.example", ""},
	}
	for _, tc := range users {
		u := w.Users[tc.id]
		if u == nil || u.TenantID != tc.tenant || u.DisplayName != tc.name || u.UPN != tc.upn || u.ManagerID != tc.manager ||
			u.TeamsID != "29:"+strings.Split(tc.upn, "@")[0] {
			t.Errorf("user %s = %+v", tc.id, u)
		}
	}
	groups := map[string][]string{AdminsGroupID: {UserAdele}, ReviewersGroupID: {UserIsaiah, UserLynne}}
	for id, members := range groups {
		if g := w.Groups[id]; g == nil || !slices.Equal(g.Members, members) {
			t.Errorf("group %s = %+v", id, g)
		}
	}
	if g := w.Groups[FalconTeamGroupID]; g == nil || !g.IsTeam || g.DisplayName != "Falcon Team" {
		t.Errorf("falcon team %+v", g)
	}
	co := w.ConnectedOrgs[FabrikamConnectedOrgID]
	if co == nil || co.State != "configured" || co.SourceTenantID != FabrikamTenantID || !slices.Equal(co.InternalSponsors, []string{UserPatti}) ||
		!slices.Equal(co.ExternalSponsors, []string{UserFiona}) {
		t.Errorf("connected org %+v", co)
	}
	policies := []struct {
		id, pkg, scope, duration string
		stages                   int
		hidden                   bool
	}{
		{PolicyTeamMember, PkgTeamMember, "allMemberUsers", "P180D", 1, false},
		{PolicyProduction, PkgProduction, "allMemberUsers", "P90D", 2, false},
		{PolicyPartner, PkgPartner, "specificConnectedOrganizationUsers", "P30D", 1, false},
		{PolicyWikiReader, PkgWikiReader, "allMemberUsers", "P365D", 0, false},
		{PolicyBreakGlass, PkgBreakGlass, "allMemberUsers", "PT8H", 1, true},
	}
	for _, tc := range policies {
		p, pkg := w.Policies[tc.id], w.Packages[tc.pkg]
		if p == nil || pkg == nil || p.PackageID != tc.pkg || p.AllowedTargetScope != tc.scope || p.Expiration.Duration != tc.duration ||
			len(p.Stages) != tc.stages || pkg.IsHidden != tc.hidden || pkg.CatalogID != FalconCatalogID || p.ApprovalRequired != (tc.stages > 0) {
			t.Errorf("policy %s = %+v, package %+v", tc.id, p, pkg)
		}
	}
	if st := w.Policies[PolicyBreakGlass].Stages[0].Primary; st[0].Type != "singleUser" || st[0].UserID != UserPatti {
		t.Errorf("break-glass approver %+v", st)
	}
	if fb := w.Policies[PolicyTeamMember].Stages[0].FallbackPrimary; fb[0].UserID != UserPatti {
		t.Errorf("team member fallback %+v", fb)
	}
}

// TestBotTeamsAppManifestIDIsWhatTheManifestDerives pins the seeded externalId to the id `accessbot manifest`
// writes for BotAppID, so the demo bot's app is the one in the simulated catalog.
func TestBotTeamsAppManifestIDIsWhatTheManifestDerives(t *testing.T) {
	id, err := manifest.DeriveAppID(BotAppID)
	if err != nil {
		t.Fatal(err)
	}
	if id != BotTeamsAppManifestID {
		t.Fatalf("manifest.DeriveAppID(BotAppID) = %s, seed has BotTeamsAppManifestID = %s", id, BotTeamsAppManifestID)
	}
}
