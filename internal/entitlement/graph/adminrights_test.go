package graph

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/accessbot/accessbot/internal/entitlement"
)

const (
	groupsPath      = "/users/" + rightsUser + "/transitiveMemberOf"
	activePath      = "/roleManagement/directory/roleAssignmentScheduleInstances"
	eligiblePath    = "/roleManagement/directory/roleEligibilityScheduleInstances"
	emRolesPath     = "/roleManagement/entitlementManagement/roleAssignments"
	rightsUser      = "aaaaaaaa-0000-0000-0000-000000000006"
	igaGroup        = "dddddddd-0000-0000-0000-0000000000a3"
	plainGroup      = "dddddddd-0000-0000-0000-0000000000a2"
	rightsCatalogID = "eeeeeeee-0000-0000-0000-0000000000c1"
)

// TestAdminRights feeds AdminRights Graph's v1.0 shapes (a user's groups, active and eligible schedule
// instances, entitlement management role assignments) and checks what it concludes and which calls it made.
func TestAdminRights(t *testing.T) {
	iga := entitlement.RoleIdentityGovernanceAdmin
	groups := `{"value":[{"@odata.type":"#microsoft.graph.group","id":"` + igaGroup + `","displayName":"Identity Governance Admins","isAssignableToRole":true},
		{"@odata.type":"#microsoft.graph.group","id":"` + plainGroup + `","displayName":"Falcon Security Reviewers","isAssignableToRole":false}]}`
	instance := func(principal, scope, typ string) string {
		return `{"id":"i-` + principal + `","principalId":"` + principal + `","roleDefinitionId":"` + iga + `","directoryScopeId":"` + scope +
			`","appScopeId":null,"assignmentType":"` + typ + `","memberType":"Direct"}`
	}
	list := func(items ...string) string { return `{"value":[` + strings.Join(items, ",") + `]}` }
	owner := `{"id":"em-1","principalId":"` + igaGroup + `","roleDefinitionId":"` + entitlement.RoleCatalogOwner + `","appScopeId":"/AccessPackageCatalog/` + rightsCatalogID + `"}`
	tests := []struct {
		name                    string
		active, eligible, roles string
		want                    entitlement.AdminRights
		calls                   []string
		emFilter                string
	}{
		{"assigned to the user", list(instance(rightsUser, "/", "Assigned")), "", "",
			entitlement.AdminRights{GovernanceAdmin: entitlement.RoleHold{Active: true}}, []string{groupsPath, activePath}, ""},
		{"through a role-assignable group", list(instance(igaGroup, "/", "Assigned")), "", "",
			entitlement.AdminRights{GovernanceAdmin: entitlement.RoleHold{Active: true, Group: "Identity Governance Admins"}}, []string{groupsPath, activePath}, ""},
		{"activated in PIM", list(instance(rightsUser, "/", "Activated")), "", "",
			entitlement.AdminRights{GovernanceAdmin: entitlement.RoleHold{Active: true, Activated: true}}, []string{groupsPath, activePath}, ""},
		{"a group that is not role-assignable does not count", list(instance(plainGroup, "/", "Assigned")), list(), list(),
			entitlement.AdminRights{}, []string{groupsPath, activePath, emRolesPath, eligiblePath}, "principalId in ('" + rightsUser + "', '" + igaGroup + "')"},
		{"scoped to an administrative unit does not count", list(instance(rightsUser, "/administrativeUnits/au1", "Assigned")), list(), list(),
			entitlement.AdminRights{}, []string{groupsPath, activePath, emRolesPath, eligiblePath}, ""},
		{"eligible, not activated", list(), list(instance(rightsUser, "/", "")), list(),
			entitlement.AdminRights{GovernanceAdmin: entitlement.RoleHold{Eligible: true}}, []string{groupsPath, activePath, emRolesPath, eligiblePath}, ""},
		{"catalog owner through the group", list(), list(), list(owner),
			entitlement.AdminRights{CatalogRoles: []entitlement.CatalogRoleAssignment{{RoleDefinitionID: entitlement.RoleCatalogOwner, CatalogID: rightsCatalogID, Group: "Identity Governance Admins"}}},
			[]string{groupsPath, activePath, emRolesPath, eligiblePath}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeGraph(t)
			var emFilter, activeFilter string
			f.on("GET", groupsPath, jsonReply(http.StatusOK, []byte(groups)))
			f.on("GET", activePath, func(w http.ResponseWriter, r *http.Request) {
				activeFilter = r.URL.Query().Get("$filter")
				jsonReply(http.StatusOK, []byte(tt.active))(w, r)
			})
			f.on("GET", eligiblePath, jsonReply(http.StatusOK, []byte(tt.eligible)))
			f.on("GET", emRolesPath, func(w http.ResponseWriter, r *http.Request) {
				emFilter = r.URL.Query().Get("$filter")
				jsonReply(http.StatusOK, []byte(tt.roles))(w, r)
			})
			c := newTestClient(t, f)
			got, err := c.AdminRights(context.Background(), rightsUser)
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("AdminRights = %+v, %v; want %+v", got, err, tt.want)
			}
			for _, p := range []string{groupsPath, activePath, emRolesPath, eligiblePath} {
				want := 0
				if slices.Contains(tt.calls, p) {
					want = 1
				}
				if n := f.callsTo("GET " + p); n != want {
					t.Errorf("GET %s: %d calls, want %d (all: %v)", p, n, want, f.calls)
				}
			}
			if activeFilter != "roleDefinitionId eq '"+iga+"'" {
				t.Errorf("active $filter = %q", activeFilter)
			}
			if tt.emFilter != "" && emFilter != tt.emFilter {
				t.Errorf("entitlement management $filter = %q, want %q", emFilter, tt.emFilter)
			}
		})
	}
}

// TestAdminRightsWithoutDirectoryRoles: without RoleManagement.Read.Directory the PIM listing is refused; the
// catalog roles still count and the eligibility is not asked for.
func TestAdminRightsWithoutDirectoryRoles(t *testing.T) {
	f := newFakeGraph(t)
	f.on("GET", groupsPath, jsonReply(http.StatusOK, []byte(`{"value":[]}`)))
	f.on("GET", activePath, jsonReply(http.StatusForbidden, []byte(`{"error":{"code":"Authorization_RequestDenied","message":"Insufficient privileges to complete the operation."}}`)))
	f.on("GET", emRolesPath, jsonReply(http.StatusOK, []byte(`{"value":[{"id":"em-1","principalId":"`+rightsUser+`","roleDefinitionId":"`+entitlement.RoleCatalogCreator+`","appScopeId":"/"}]}`)))
	c := newTestClient(t, f)
	got, err := c.AdminRights(context.Background(), rightsUser)
	want := entitlement.AdminRights{DirectoryRolesUnreadable: true, CatalogRoles: []entitlement.CatalogRoleAssignment{{RoleDefinitionID: entitlement.RoleCatalogCreator}}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("AdminRights = %+v, %v; want %+v", got, err, want)
	}
	if n := f.callsTo("GET " + eligiblePath); n != 0 {
		t.Errorf("eligibility read %d times without the permission", n)
	}
	if _, err := c.AdminRights(context.Background(), " "); !errors.Is(err, entitlement.ErrInvalidInput) {
		t.Errorf("empty user id: %v", err)
	}
}
