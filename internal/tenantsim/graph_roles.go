package tenantsim

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// roleReadPermissions are the permissions Graph accepts for listing directory role assignments (List
// unifiedRoleAssignments, directory provider), least privileged first; the same names serve as
// application roles and delegated scopes.
var roleReadPermissions = []string{"RoleManagement.Read.Directory", "RoleManagement.Read.All", "Directory.Read.All",
	"RoleManagement.ReadWrite.Directory", "Directory.ReadWrite.All"}

// needPermission refuses a caller holding none of perms (application roles for an app token, delegated scopes
// otherwise) as Graph does: 403 Authorization_RequestDenied.
func needPermission(g *gctx, perms []string) *graphErr {
	granted := g.c.Roles
	if !g.c.AppOnly {
		granted = g.c.Scopes
	}
	if !slices.ContainsFunc(perms, func(p string) bool { return slices.Contains(granted, p) }) {
		return &graphErr{Status: http.StatusForbidden, Code: "Authorization_RequestDenied",
			Message: "Insufficient privileges to complete the operation."}
	}
	return nil
}

// roleManagement serves roleManagement/directory/roleAssignments[/{id}] (GET; $filter, e.g.
// principalId eq '{id}' or principalId in ('{id}', …)), the PIM schedule instances (graph_pim.go) and
// roleManagement/entitlementManagement/roleAssignments.
func (s *Sim) roleManagement(g *gctx, seg []string) *graphErr {
	if len(seg) == 2 && strings.EqualFold(seg[0], "directory") &&
		(strings.EqualFold(seg[1], "roleAssignmentScheduleInstances") || strings.EqualFold(seg[1], "roleEligibilityScheduleInstances")) {
		return s.roleScheduleInstances(g, seg[1])
	}
	if len(seg) < 2 || len(seg) > 3 || !strings.EqualFold(seg[1], "roleAssignments") {
		return &graphErr{Status: http.StatusBadRequest, Code: "BadRequest",
			Message: fmt.Sprintf("Resource not found for the segment '%s'.", strings.Join(seg, "/"))}
	}
	if g.r.Method != http.MethodGet {
		return methodNotAllowed(g.r)
	}
	if strings.EqualFold(seg[0], "entitlementManagement") {
		return s.emRoleAssignments(g, seg[2:])
	}
	if !strings.EqualFold(seg[0], "directory") {
		return &graphErr{Status: http.StatusBadRequest, Code: "BadRequest",
			Message: fmt.Sprintf("Resource not found for the segment '%s'.", seg[0])}
	}
	if gerr := needPermission(g, roleReadPermissions); gerr != nil {
		return gerr
	}
	return s.writeRoleAssignments(g, "roleManagement/directory/roleAssignments", s.w.RoleAssignments, seg[2:], renderRoleAssignment)
}

// writeRoleAssignments writes the caller's tenant's assignments of from, in the order they were made, rendered by
// render: the one named by rest[0] (404 when it is not there or in another tenant), or all of them when rest is
// empty, as an OData collection.
func (s *Sim) writeRoleAssignments(g *gctx, ctxPath string, from map[string]*roleAssignment, rest []string, render func(*roleAssignment) map[string]any) *graphErr {
	tid := g.c.TenantID
	if len(rest) == 1 {
		a := from[rest[0]]
		if a == nil || a.TenantID != tid {
			return errNotFound("unifiedRoleAssignment", rest[0])
		}
		s.writeEntity(g.w, http.StatusOK, g.q, ctxPath, render(a))
		return nil
	}
	var items []item
	for _, a := range sortedBy(from, func(a *roleAssignment) int64 { return a.Ord }) {
		if a.TenantID == tid {
			items = append(items, sameItem(render(a)))
		}
	}
	s.writeCollection(g.w, g.r, g.q, ctxPath, items)
	return nil
}

// renderRoleAssignment is a unifiedRoleAssignment as Graph v1.0 returns it (resourceScope is the deprecated
// twin of directoryScopeId that Graph still sends).
func renderRoleAssignment(a *roleAssignment) map[string]any {
	return map[string]any{
		"id":               a.ID,
		"principalId":      a.PrincipalID,
		"roleDefinitionId": a.RoleDefinitionID,
		"directoryScopeId": a.DirectoryScopeID,
		"resourceScope":    a.DirectoryScopeID,
		"appScopeId":       nil,
		"condition":        nil,
	}
}

// roleAssignmentID builds an id the way Entra does for a direct assignment: the role definition's and the
// principal's GUIDs in their binary (mixed-endian) layout, base64url without padding, then "-1".
func roleAssignmentID(roleDefinitionID, principalID string) string {
	return base64.RawURLEncoding.EncodeToString(append(guidBytes(roleDefinitionID), guidBytes(principalID)...)) + "-1"
}

// guidBytes is a GUID's 16-byte binary form (first three groups little-endian); nil when id is not a GUID.
func guidBytes(id string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(id, "-", ""))
	if err != nil || len(b) != 16 {
		return nil
	}
	slices.Reverse(b[0:4])
	slices.Reverse(b[4:6])
	slices.Reverse(b[6:8])
	return b
}

// emRoleReadPermissions are the permissions Graph accepts for listing entitlement management role assignments.
var emRoleReadPermissions = []string{"EntitlementManagement.Read.All", "EntitlementManagement.ReadWrite.All"}

// emRoleAssignments serves roleManagement/entitlementManagement/roleAssignments (GET; $filter, e.g.
// principalId eq '{id}'): catalog-scoped roles carry appScopeId /AccessPackageCatalog/{id}.
func (s *Sim) emRoleAssignments(g *gctx, rest []string) *graphErr {
	if gerr := needPermission(g, emRoleReadPermissions); gerr != nil {
		return gerr
	}
	return s.writeRoleAssignments(g, "roleManagement/entitlementManagement/roleAssignments", s.w.EMRoleAssignments, rest,
		func(a *roleAssignment) map[string]any {
			return map[string]any{"id": a.ID, "principalId": a.PrincipalID, "roleDefinitionId": a.RoleDefinitionID,
				"appScopeId": a.AppScopeID, "directoryScopeId": nil, "condition": nil}
		})
}

// Entitlement management role definition ids (built in, the same in every tenant).
const (
	// CatalogOwnerRoleID is the Catalog owner role.
	CatalogOwnerRoleID = "ae79f266-94d4-4dab-b730-feca7e132178"
	// CatalogReaderRoleID is the Catalog reader role.
	CatalogReaderRoleID = "44272f93-9762-48e8-af59-1b5351b1d6b3"
)

// seedEMRoleAssignments makes Patti owner of the Project Falcon catalog and Megan its reader, unless the world
// already has entitlement management role assignments.
func seedEMRoleAssignments(w *world) {
	if w.EMRoleAssignments == nil {
		w.EMRoleAssignments = map[string]*roleAssignment{}
	}
	if len(w.EMRoleAssignments) > 0 {
		return
	}
	for _, a := range []*roleAssignment{
		{PrincipalID: UserPatti, RoleDefinitionID: CatalogOwnerRoleID},
		{PrincipalID: UserMegan, RoleDefinitionID: CatalogReaderRoleID},
	} {
		a.Ord, a.TenantID, a.AppScopeID = w.nextOrd(), ContosoTenantID, "/AccessPackageCatalog/"+FalconCatalogID
		a.ID = roleAssignmentID(a.RoleDefinitionID, a.PrincipalID)
		w.EMRoleAssignments[a.ID] = a
	}
}
