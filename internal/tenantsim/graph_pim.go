package tenantsim

import (
	"fmt"
	"net/http"
	"strings"
)

// Privileged Identity Management for Microsoft Entra roles, as far as AccessBot reads it:
// roleManagement/directory/roleAssignmentScheduleInstances (the active assignments: direct, to a group, or
// activated) and roleEligibilityScheduleInstances (eligible assignments). The seed makes Lynne hold Identity
// Governance Administrator through the role-assignable group "Identity Governance Admins" and Isaiah eligible
// for it (not activated); ActivateRole activates an eligibility.

// Permissions Graph accepts for the PIM reads (least privileged first).
var (
	roleAssignmentSchedulePermissions  = []string{"RoleAssignmentSchedule.Read.Directory", "RoleAssignmentSchedule.ReadWrite.Directory", "RoleManagement.Read.All", "RoleManagement.Read.Directory", "RoleManagement.ReadWrite.Directory"}
	roleEligibilitySchedulePermissions = []string{"RoleEligibilitySchedule.Read.Directory", "RoleEligibilitySchedule.ReadWrite.Directory", "RoleManagement.Read.All", "RoleManagement.Read.Directory", "RoleManagement.ReadWrite.Directory"}
)

// seedPIM adds the role-assignable group holding Identity Governance Administrator (with Lynne) and Isaiah's
// eligibility, unless the world has them (a state saved before they existed gets them).
func seedPIM(w *world) {
	if w.RoleEligibilities == nil {
		w.RoleEligibilities = map[string]*roleAssignment{}
	}
	if w.Groups[GovernanceAdminsGroupID] != nil {
		return
	}
	w.Groups[GovernanceAdminsGroupID] = &group{Ord: w.nextOrd(), ID: GovernanceAdminsGroupID, TenantID: ContosoTenantID,
		DisplayName: "Identity Governance Admins", Description: "Holds the Identity Governance Administrator role",
		MailNick: "igadmins", Members: []string{UserLynne}, IsAssignableToRole: true}
	a := newTenantWideRole(w, GovernanceAdminsGroupID, IdentityGovernanceAdminRoleID)
	w.RoleAssignments[a.ID] = a
	e := newTenantWideRole(w, UserIsaiah, IdentityGovernanceAdminRoleID)
	w.RoleEligibilities[e.ID] = e
}

// ActivateRole activates the principal's eligible assignment of roleDefinitionID (as the person would in PIM's
// My roles): it becomes an active assignment with assignmentType Activated. An error when there is no such
// eligibility.
func (s *Sim) ActivateRole(principalID, roleDefinitionID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range s.w.RoleEligibilities {
		if strings.EqualFold(e.PrincipalID, principalID) && strings.EqualFold(e.RoleDefinitionID, roleDefinitionID) {
			a := *e
			a.Ord, a.AssignmentType = s.w.nextOrd(), "Activated"
			s.w.RoleAssignments[a.ID] = &a
			s.persistLocked()
			return nil
		}
	}
	return fmt.Errorf("tenantsim: %s is not eligible for role %s", principalID, roleDefinitionID)
}

// roleScheduleInstances serves roleManagement/directory/roleAssignmentScheduleInstances and
// roleEligibilityScheduleInstances (GET; $filter, e.g. roleDefinitionId eq '{id}').
func (s *Sim) roleScheduleInstances(g *gctx, name string) *graphErr {
	if g.r.Method != http.MethodGet {
		return methodNotAllowed(g.r)
	}
	eligible := strings.EqualFold(name, "roleEligibilityScheduleInstances")
	perms, from := roleAssignmentSchedulePermissions, s.w.RoleAssignments
	if eligible {
		perms, from = roleEligibilitySchedulePermissions, s.w.RoleEligibilities
	}
	if gerr := needPermission(g, perms); gerr != nil {
		return gerr
	}
	return s.writeRoleAssignments(g, "roleManagement/directory/"+name, from, nil, func(a *roleAssignment) map[string]any {
		m := map[string]any{"id": a.ID, "principalId": a.PrincipalID, "roleDefinitionId": a.RoleDefinitionID,
			"directoryScopeId": a.DirectoryScopeID, "appScopeId": nil, "startDateTime": nil, "endDateTime": nil, "memberType": "Direct"}
		if eligible {
			m["roleEligibilityScheduleId"] = a.ID
		} else {
			typ := a.AssignmentType
			if typ == "" {
				typ = "Assigned"
			}
			m["assignmentType"], m["roleAssignmentOriginId"], m["roleAssignmentScheduleId"] = typ, a.ID, a.ID
		}
		return m
	})
}
