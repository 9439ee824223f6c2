package tenantsim

import (
	"net/url"
	"slices"
	"testing"
)

// TestDirectoryRoleAssignments: roleManagement/directory/roleAssignments answers in Graph's shape, filters
// by principalId, holds Adele's seeded Identity Governance Administrator role and refuses a caller without
// a role-management permission.
func TestDirectoryRoleAssignments(t *testing.T) {
	e := newEnv(t)
	app := e.appToken()
	const path = "/v1.0/roleManagement/directory/roleAssignments"
	byPrincipal := func(oid string) string {
		return path + "?$filter=" + url.QueryEscape("principalId eq '"+oid+"'")
	}
	// The id Entra gives a direct assignment: base64url of the role definition's and the principal's GUIDs
	// in binary layout, then "-1" (the docs' example lAPpYvVpN0KRkAEhdxReE… starts with 62e90394-…'s bytes).
	if got := roleAssignmentID("62e90394-69f5-4237-9190-012177145e10", "acE08EC9-aa11-4ada-9145-addf0398233e"); got != "lAPpYvVpN0KRkAEhdxReEMmO4KwRqtpKkUWt3wOYIz4-1" {
		t.Fatalf("roleAssignmentID = %q, want the docs' example id", got)
	}

	tests := []struct {
		name       string
		query      string
		principals []string // principalId of each returned Identity Governance Administrator assignment
	}{
		{"Adele holds Identity Governance Administrator", byPrincipal(UserAdele), []string{UserAdele}},
		{"Rita holds no role", byPrincipal(UserRita), nil},
		{"Lynne holds none directly (her group does)", byPrincipal(UserLynne), nil},
		{"all assignments", path, []string{UserAdele, GovernanceAdminsGroupID}},
		{"filter on the role", path + "?$filter=" + url.QueryEscape("roleDefinitionId eq '"+IdentityGovernanceAdminRoleID+"'"), []string{UserAdele, GovernanceAdminsGroupID}},
		{"the user and her groups", path + "?$filter=" + url.QueryEscape("principalId in ('"+UserLynne+"', '"+GovernanceAdminsGroupID+"')"), []string{GovernanceAdminsGroupID}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("GET", tc.query, app, nil)
			wantStatus(t, r, 200)
			if r.body["@odata.context"] != e.base+"/v1.0/$metadata#roleManagement/directory/roleAssignments" {
				t.Errorf("context %v", r.body["@odata.context"])
			}
			var got []string
			for _, v := range values(t, r) {
				got = append(got, str(v["principalId"]))
				if v["roleDefinitionId"] != IdentityGovernanceAdminRoleID || v["directoryScopeId"] != "/" || v["id"] != roleAssignmentID(IdentityGovernanceAdminRoleID, str(v["principalId"])) {
					t.Errorf("assignment %v", v)
				}
				if _, ok := v["appScopeId"]; !ok {
					t.Errorf("appScopeId missing (Graph sends null): %v", v)
				}
			}
			if !slices.Equal(got, tc.principals) {
				t.Fatalf("principals %v, want %v (%s)", got, tc.principals, r.raw)
			}
		})
	}

	// Get by id.
	id := roleAssignmentID(IdentityGovernanceAdminRoleID, UserAdele)
	r := e.do("GET", path+"/"+id, app, nil)
	wantStatus(t, r, 200)
	if r.body["roleDefinitionId"] != IdentityGovernanceAdminRoleID || r.body["principalId"] != UserAdele {
		t.Fatalf("get by id: %s", r.raw)
	}
	wantGraphError(t, e.do("GET", path+"/nope-1", app, nil), 404, "ResourceNotFound")

	// Adele is still in the admin group too; Rita is in neither.
	if got := ids(t, e.do("GET", "/v1.0/users/"+UserAdele+"/transitiveMemberOf", app, nil)); !slices.Equal(got, []string{AdminsGroupID}) {
		t.Fatalf("adele transitiveMemberOf %v", got)
	}
	// A delegated token without a role-management scope is refused like Graph does; writes are not served.
	wantGraphError(t, e.do("GET", byPrincipal(UserRita), e.userToken(UserRita), nil), 403, "Authorization_RequestDenied")
	wantGraphError(t, e.do("POST", path, app, map[string]any{"principalId": UserRita}), 405, "Request_BadRequest")
	wantGraphError(t, e.do("GET", "/v1.0/roleManagement/deviceManagement/roleAssignments", app, nil), 400, "BadRequest")
}

// TestSeedRoleAssignmentsUpgradesOldState: a state saved before role assignments existed (nil map) gets
// Adele's role on load; a world that has assignments is left alone.
func TestSeedRoleAssignmentsUpgradesOldState(t *testing.T) {
	w := &world{}
	seedRoleAssignments(w)
	a := w.RoleAssignments[roleAssignmentID(IdentityGovernanceAdminRoleID, UserAdele)]
	if len(w.RoleAssignments) != 1 || a == nil || a.PrincipalID != UserAdele || a.DirectoryScopeID != "/" || a.TenantID != ContosoTenantID {
		t.Fatalf("seeded %+v", w.RoleAssignments)
	}
	ord := w.Ord
	seedRoleAssignments(w)
	if len(w.RoleAssignments) != 1 || w.Ord != ord {
		t.Fatalf("second seed changed the world: %+v (ord %d → %d)", w.RoleAssignments, ord, w.Ord)
	}
}

// TestEMRoleAssignments: the entitlement management provider lists catalog-scoped roles by principal.
func TestEMRoleAssignments(t *testing.T) {
	e := newEnv(t)
	app := e.appToken()
	tests := []struct {
		user, role string
	}{
		{UserPatti, CatalogOwnerRoleID},
		{UserMegan, CatalogReaderRoleID},
		{UserAdele, ""},
	}
	for _, tt := range tests {
		r := e.do("GET", "/v1.0/roleManagement/entitlementManagement/roleAssignments?$filter="+url.QueryEscape("principalId eq '"+tt.user+"'"), app, nil)
		wantStatus(t, r, 200)
		vs := values(t, r)
		if tt.role == "" {
			if len(vs) != 0 {
				t.Errorf("%s: %s", tt.user, r.raw)
			}
			continue
		}
		if len(vs) != 1 || vs[0]["roleDefinitionId"] != tt.role || vs[0]["appScopeId"] != "/AccessPackageCatalog/"+FalconCatalogID {
			t.Errorf("%s: %s", tt.user, r.raw)
		}
	}
}

// TestPIMScheduleInstances: the active instances hold the direct and the group assignment (assignmentType
// Assigned), Isaiah is only eligible until ActivateRole makes his assignment active (Activated); a group's
// members see that it is role-assignable; a caller without a role-management permission is refused.
func TestPIMScheduleInstances(t *testing.T) {
	e := newEnv(t)
	app := e.appToken()
	const base = "/v1.0/roleManagement/directory/"
	byRole := "?$filter=" + url.QueryEscape("roleDefinitionId eq '"+IdentityGovernanceAdminRoleID+"'")
	instances := func(name string) map[string]string { // principal -> assignmentType ("" for eligibility)
		t.Helper()
		r := e.do("GET", base+name+byRole, app, nil)
		wantStatus(t, r, 200)
		out := map[string]string{}
		for _, v := range values(t, r) {
			if v["directoryScopeId"] != "/" || v["roleDefinitionId"] != IdentityGovernanceAdminRoleID {
				t.Errorf("instance %v", v)
			}
			out[str(v["principalId"])] = str(v["assignmentType"])
		}
		return out
	}
	active := instances("roleAssignmentScheduleInstances")
	if len(active) != 2 || active[UserAdele] != "Assigned" || active[GovernanceAdminsGroupID] != "Assigned" {
		t.Fatalf("active instances %v", active)
	}
	if el := instances("roleEligibilityScheduleInstances"); len(el) != 1 || el[UserIsaiah] != "" {
		t.Fatalf("eligibility instances %v", el)
	}
	if err := e.sim.ActivateRole(UserIsaiah, IdentityGovernanceAdminRoleID); err != nil {
		t.Fatal(err)
	}
	if active = instances("roleAssignmentScheduleInstances"); active[UserIsaiah] != "Activated" {
		t.Fatalf("after activation %v", active)
	}
	if err := e.sim.ActivateRole(UserRita, IdentityGovernanceAdminRoleID); err == nil {
		t.Fatal("Rita, not eligible, activated the role")
	}
	r := e.do("GET", "/v1.0/users/"+UserLynne+"/transitiveMemberOf?$select=id,isAssignableToRole", app, nil)
	wantStatus(t, r, 200)
	if vs := values(t, r); len(vs) != 2 || !slices.ContainsFunc(vs, func(v map[string]any) bool {
		return v["id"] == GovernanceAdminsGroupID && v["isAssignableToRole"] == true
	}) {
		t.Fatalf("Lynne's groups %s", r.raw)
	}
	wantGraphError(t, e.do("GET", base+"roleEligibilityScheduleInstances", e.userToken(UserRita), nil), 403, "Authorization_RequestDenied")
}
