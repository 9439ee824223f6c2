package tenantsim

import (
	"slices"
	"testing"
	"time"
)

// TestBuilderSeedFlow creates what the seed's admin builds: a catalog, a group added to it, a package with
// the group's Member role, a policy for a connected organization with one approval stage, then an
// incompatibility; and checks that Nina's request is then refused by the incompatibility with a group.
func TestBuilderSeedFlow(t *testing.T) {
	e := newEnv(t)
	app := e.appToken()

	r := e.do("POST", em+"catalogs", app, map[string]any{"displayName": "Northwind Pilot", "description": "pilot", "isExternallyVisible": true})
	wantStatus(t, r, 201)
	catID := str(r.body["id"])

	r = e.do("POST", em+"resourceRequests", app, map[string]any{"requestType": "adminAdd",
		"resource": map[string]any{"originId": FalconTeamGroupID, "originSystem": "AadGroup"}, "catalog": map[string]any{"id": catID}})
	wantStatus(t, r, 201)
	if r.body["state"] != "delivered" {
		t.Fatalf("resource request %s", r.raw)
	}
	wantGraphError(t, e.do("POST", em+"resourceRequests", app, map[string]any{"requestType": "adminAdd",
		"resource": map[string]any{"originId": FalconTeamGroupID, "originSystem": "AadGroup"}, "catalog": map[string]any{"id": catID}}), 400, "ResourceAlreadyOnboarded")

	r = e.do("GET", em+"catalogs/"+catID+"/resources?$expand=roles", app, nil)
	wantStatus(t, r, 200)
	res := values(t, r)
	if len(res) != 1 {
		t.Fatalf("resources %s", r.raw)
	}
	var member map[string]any
	for _, role := range res[0]["roles"].([]any) {
		if rm := role.(map[string]any); rm["displayName"] == "Member" {
			member = rm
		}
	}
	if member == nil {
		t.Fatalf("no Member role in %s", r.raw)
	}

	r = e.do("POST", em+"accessPackages", app, map[string]any{"displayName": "Northwind Pilot", "catalog": map[string]any{"id": catID}})
	wantStatus(t, r, 201)
	pkgID := str(r.body["id"])
	scope := map[string]any{"role": map[string]any{"originId": member["originId"], "originSystem": "AadGroup",
		"resource": map[string]any{"id": res[0]["id"]}}, "scope": map[string]any{"originId": FalconTeamGroupID, "originSystem": "AadGroup", "isRootScope": true}}
	wantStatus(t, e.do("POST", em+"accessPackages/"+pkgID+"/resourceRoleScopes", app, scope), 201)
	wantGraphError(t, e.do("POST", em+"accessPackages/"+pkgID+"/resourceRoleScopes", app, scope), 400, "ResourceRoleScopeAlreadyExists")

	policy := func(stages []any) map[string]any {
		return map[string]any{"displayName": "Fabrikam users", "accessPackage": map[string]any{"id": pkgID},
			"allowedTargetScope": "specificConnectedOrganizationUsers",
			"specificAllowedTargets": []any{map[string]any{"@odata.type": "#microsoft.graph.connectedOrganizationMembers",
				"connectedOrganizationId": FabrikamConnectedOrgID}},
			"expiration":              map[string]any{"type": "afterDuration", "duration": "P30D"},
			"requestorSettings":       map[string]any{"enableTargetsToSelfAddAccess": true},
			"requestApprovalSettings": map[string]any{"isApprovalRequiredForAdd": true, "stages": stages}}
	}
	tests := []struct {
		name   string
		body   map[string]any
		status int
		code   string
	}{
		{"no stages", policy(nil), 400, "BadRequest"},
		{"stage without approvers", policy([]any{map[string]any{"durationBeforeAutomaticDenial": "P14D", "primaryApprovers": []any{}}}), 400, "InvalidApprovalStage"},
		{"manager only for externals", policy([]any{map[string]any{"primaryApprovers": []any{map[string]any{"@odata.type": "#microsoft.graph.requestorManager", "managerLevel": 1}}}}), 400, "InvalidApprovalStage"},
		{"unknown approver", policy([]any{map[string]any{"primaryApprovers": []any{map[string]any{"@odata.type": "#microsoft.graph.singleUser", "userId": "nobody"}}}}), 400, "BadRequest"},
		{"patti approves", policy([]any{map[string]any{"durationBeforeAutomaticDenial": "P14D", "primaryApprovers": []any{map[string]any{"@odata.type": "#microsoft.graph.singleUser", "userId": UserPatti}}}}), 201, ""},
	}
	var polID string
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("POST", em+"assignmentPolicies", app, tc.body)
			if tc.code != "" {
				wantGraphError(t, r, tc.status, tc.code)
				return
			}
			wantStatus(t, r, tc.status)
			polID = str(r.body["id"])
			if r.body["allowedTargetScope"] != "specificConnectedOrganizationUsers" {
				t.Fatalf("policy %s", r.raw)
			}
		})
	}
	if polID == "" {
		t.Fatal("policy not created")
	}
	upd := policy([]any{map[string]any{"primaryApprovers": []any{map[string]any{"@odata.type": "#microsoft.graph.singleUser", "userId": UserPatti}}}})
	upd["expiration"] = map[string]any{"type": "noExpiration"}
	r = e.do("PUT", em+"assignmentPolicies/"+polID, app, upd)
	wantStatus(t, r, 200)
	if exp := r.body["expiration"].(map[string]any); exp["type"] != "noExpiration" {
		t.Fatalf("updated policy %s", r.raw)
	}

	wantStatus(t, e.do("POST", em+"accessPackages/"+pkgID+"/incompatibleGroups/$ref", app,
		map[string]any{"@odata.id": e.base + "/v1.0/groups/" + ReviewersGroupID}), 204)
	wantStatus(t, e.do("POST", em+"accessPackages/"+pkgID+"/incompatibleAccessPackages/$ref", app,
		map[string]any{"@odata.id": e.base + "/v1.0/identityGovernance/entitlementManagement/accessPackages/" + PkgBreakGlass}), 204)
	wantGraphError(t, e.do("POST", em+"accessPackages/"+pkgID+"/incompatibleAccessPackages/$ref", app,
		map[string]any{"@odata.id": e.base + "/v1.0/identityGovernance/entitlementManagement/accessPackages/" + pkgID}), 400, "BadRequest")
	r = e.do("GET", em+"accessPackages/"+pkgID+"/incompatibleGroups", app, nil)
	if got := ids(t, r); len(got) != 1 || got[0] != ReviewersGroupID {
		t.Fatalf("incompatible groups %s", r.raw)
	}
	r = e.do("GET", em+"accessPackages/"+PkgBreakGlass+"/accessPackagesIncompatibleWith", app, nil)
	if got := ids(t, r); !slices.Contains(got, pkgID) {
		t.Fatalf("packages that marked break-glass incompatible %s, want %s among them", r.raw, pkgID)
	}
	wantStatus(t, e.do("DELETE", em+"accessPackages/"+pkgID+"/incompatibleAccessPackages/"+PkgBreakGlass+"/$ref", app, nil), 204)
	r = e.do("GET", em+"accessPackages/"+PkgBreakGlass+"/accessPackagesIncompatibleWith", app, nil)
	if got := ids(t, r); slices.Contains(got, pkgID) {
		t.Fatalf("packages that marked break-glass incompatible after delete %s", r.raw)
	}
	r = e.do("GET", em+"accessPackages/"+pkgID+"/incompatibleAccessPackages", app, nil)
	if got := ids(t, r); len(got) != 0 {
		t.Fatalf("incompatible packages after delete %s", r.raw)
	}

	wantStatus(t, e.do("PATCH", em+"accessPackages/"+pkgID, app, map[string]any{"description": "For Northwind"}), 204)
	wantStatus(t, e.do("DELETE", em+"accessPackages/"+pkgID, app, nil), 204)
	wantGraphError(t, e.do("GET", em+"assignmentPolicies/"+polID, app, nil), 404, "ResourceNotFound")
}

func TestBuilderWritesNeedAdmin(t *testing.T) {
	e := newEnv(t)
	rita := e.userToken(UserRita)
	wantGraphError(t, e.do("POST", em+"catalogs", rita, map[string]any{"displayName": "x"}), 403, "AccessDenied")
	wantGraphError(t, e.do("POST", em+"accessPackages", rita, map[string]any{"displayName": "x"}), 403, "AccessDenied")
	app := e.appToken()
	wantGraphError(t, e.do("POST", em+"accessPackages", app, map[string]any{"displayName": "x", "catalog": map[string]any{"id": "nope"}}), 400, "BadRequest")

	// Rita holds Wiki Reader: the package cannot be deleted, and Megan of the Reviewers group is refused
	// a package incompatible with that group.
	r := e.do("POST", em+"assignmentRequests", app, map[string]any{"requestType": "adminAdd", "assignment": map[string]any{
		"accessPackageId": PkgWikiReader, "assignmentPolicyId": PolicyWikiReader, "targetId": UserRita}})
	wantStatus(t, r, 201)
	e.sim.Advance(3 * time.Second)
	wantGraphError(t, e.do("DELETE", em+"accessPackages/"+PkgWikiReader, app, nil), 400, "AccessPackageHasAssignments")
	wantStatus(t, e.do("POST", em+"accessPackages/"+PkgTeamMember+"/incompatibleGroups/$ref", app,
		map[string]any{"@odata.id": e.base + "/v1.0/groups/" + ReviewersGroupID}), 204)
	wantGraphError(t, e.do("POST", em+"assignmentRequests", e.userToken(UserIsaiah), userAdd(PkgTeamMember, "", "join", nil)), 400, "IncompatibleGroup")
}

// TestRemoveRoleScopeRevokes: removing a role from a package takes it from the package's holders, as Entra
// does, unless another assignment of theirs grants it; the package's other roles stay.
func TestRemoveRoleScopeRevokes(t *testing.T) {
	e := newEnv(t)
	e.sim.SeedTeamHolders() // Rita and Megan hold Falcon Team Member (the team and the site's Members)
	const teamScope, siteScope = "eeeeeeee-0000-0000-0000-0000000002a1", "eeeeeeee-0000-0000-0000-0000000002a3"
	e.sim.mu.Lock()
	team, site := e.sim.w.Resources[e.sim.w.Packages[PkgTeamMember].RoleScopes[0].ResourceID], e.sim.w.Resources[e.sim.w.Packages[PkgTeamMember].RoleScopes[1].ResourceID]
	e.sim.seedAssignment(UserMegan, PkgPartner, e.sim.now(), time.Hour, 30*24*time.Hour) // Megan also gets the team from another package
	e.sim.mu.Unlock()
	wantStatus(t, e.do("DELETE", em+"accessPackages/"+PkgTeamMember+"/resourceRoleScopes/"+teamScope, e.appToken(), nil), 204)
	e.sim.mu.Lock()
	defer e.sim.mu.Unlock()
	members := e.sim.w.Groups[FalconTeamGroupID].Members
	if _, granted := team.Grants[UserRita]; granted || slices.Contains(members, UserRita) {
		t.Errorf("Rita still in the team after its role left the package: grants %v, members %v", team.Grants, members)
	}
	if _, granted := team.Grants[UserMegan]; !granted || !slices.Contains(members, UserMegan) {
		t.Errorf("Megan lost the team her other package grants: grants %v, members %v", team.Grants, members)
	}
	if _, granted := site.Grants[UserRita]; !granted {
		t.Errorf("Rita lost the site role the package still grants (scope %s): %v", siteScope, site.Grants)
	}
}
