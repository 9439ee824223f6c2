package graph

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
)

// catalogScopePrefix starts the appScopeId of an entitlement management role assignment scoped to a catalog.
const catalogScopePrefix = "/AccessPackageCatalog/"

// maxInValues is how many principal ids one "principalId in (…)" filter carries.
const maxInValues = 15

// principal is a user (group "") or one of their role-assignable groups.
type principal struct{ id, group string }

// AdminRights reads what lets the user manage entitlement management, in two Graph calls when the Identity
// Governance Administrator role is active and four otherwise (one more per further page of a listing, or per
// 15 more role-assignable groups of the user):
//
//  1. GET /users/{id}/transitiveMemberOf?$select=id,displayName,isAssignableToRole — the user's role-assignable
//     groups, direct or nested (only such groups can hold roles) (User.Read.All);
//  2. GET /roleManagement/directory/roleAssignmentScheduleInstances?$filter=roleDefinitionId eq '{IGA}' — the
//     role's active assignments: permanent or timed, to a user or a group, or activated in PIM
//     (RoleManagement.Read.Directory); it counts for the user or one of their groups, tenant-wide ("/").
//
// When it is not active:
//
//  3. GET /roleManagement/entitlementManagement/roleAssignments?$filter=principalId in ('{user}', '{group}', …)
//     — the catalog roles of the user and those groups (EntitlementManagement.ReadWrite.All);
//  4. GET /roleManagement/directory/roleEligibilityScheduleInstances?$filter=roleDefinitionId eq '{IGA}' —
//     whether the user (or a group) is eligible for the role in PIM but has not activated it.
//
// Without RoleManagement.Read.Directory, calls 2 and 4 are refused: DirectoryRolesUnreadable is set and only
// the catalog roles count.
func (c *Client) AdminRights(ctx context.Context, userID string) (entitlement.AdminRights, error) {
	var out entitlement.AdminRights
	if err := needID("user id", userID); err != nil {
		return out, err
	}
	who, err := c.roleAssignableGroups(ctx, userID)
	if err != nil {
		return out, err
	}
	out.GovernanceAdmin, err = c.roleHold(ctx, "roleAssignmentScheduleInstances", entitlement.RoleIdentityGovernanceAdmin, who)
	switch {
	case errors.Is(err, entitlement.ErrForbidden):
		out.DirectoryRolesUnreadable = true
	case err != nil:
		return out, err
	case out.GovernanceAdmin.Active:
		return out, nil
	}
	if out.CatalogRoles, err = c.catalogRoles(ctx, who); err != nil {
		return out, err
	}
	if out.DirectoryRolesUnreadable {
		return out, nil
	}
	el, err := c.roleHold(ctx, "roleEligibilityScheduleInstances", entitlement.RoleIdentityGovernanceAdmin, who)
	if err != nil {
		return out, err
	}
	out.GovernanceAdmin = entitlement.RoleHold{Eligible: el.Active, Group: el.Group}
	return out, nil
}

// roleAssignableGroups is the user followed by the role-assignable groups they are a (transitive) member of.
func (c *Client) roleAssignableGroups(ctx context.Context, userID string) ([]principal, error) {
	out := []principal{{id: userID}}
	err := c.call(ctx, "list role-assignable groups of "+userID, func(ctx context.Context) error {
		items, err := collectURL[models.DirectoryObjectable, models.DirectoryObjectCollectionResponseable](ctx, c,
			c.base+"/users/"+url.PathEscape(userID)+"/transitiveMemberOf", url.Values{"$select": {"id,displayName,isAssignableToRole"}},
			models.CreateDirectoryObjectCollectionResponseFromDiscriminatorValue, "collection")
		for _, it := range items {
			if g, ok := it.(models.Groupable); ok && g != nil && boolv(g.GetIsAssignableToRole()) && str(g.GetId()) != "" {
				out = append(out, principal{id: str(g.GetId()), group: firstNonEmpty(str(g.GetDisplayName()), str(g.GetId()))})
			}
		}
		return err
	})
	return out, err
}

// roleHold reads the schedule instances listing (roleAssignmentScheduleInstances or
// roleEligibilityScheduleInstances) of roleID and reports whether one of who holds it tenant-wide (Active
// means "listed"; Activated is set for an active assignment made by a PIM activation).
func (c *Client) roleHold(ctx context.Context, listing, roleID string, who []principal) (entitlement.RoleHold, error) {
	var out entitlement.RoleHold
	q := url.Values{"$filter": {fmt.Sprintf("roleDefinitionId eq '%s'", roleID)}}
	err := c.call(ctx, "list "+listing+" of role "+roleID, func(ctx context.Context) error {
		if listing == "roleEligibilityScheduleInstances" {
			items, err := collectURL[models.UnifiedRoleEligibilityScheduleInstanceable, models.UnifiedRoleEligibilityScheduleInstanceCollectionResponseable](ctx, c,
				c.base+"/roleManagement/directory/"+listing, q, models.CreateUnifiedRoleEligibilityScheduleInstanceCollectionResponseFromDiscriminatorValue, listing)
			for _, it := range items {
				if it != nil {
					hold(&out, who, str(it.GetPrincipalId()), str(it.GetRoleDefinitionId()), roleID, str(it.GetDirectoryScopeId()), "")
				}
			}
			return err
		}
		items, err := collectURL[models.UnifiedRoleAssignmentScheduleInstanceable, models.UnifiedRoleAssignmentScheduleInstanceCollectionResponseable](ctx, c,
			c.base+"/roleManagement/directory/"+listing, q, models.CreateUnifiedRoleAssignmentScheduleInstanceCollectionResponseFromDiscriminatorValue, listing)
		for _, it := range items {
			if it != nil {
				hold(&out, who, str(it.GetPrincipalId()), str(it.GetRoleDefinitionId()), roleID, str(it.GetDirectoryScopeId()), str(it.GetAssignmentType()))
			}
		}
		return err
	})
	return out, err
}

// hold records in h an instance of roleID at the tenant scope whose principal is one of who (the user's own
// instance wins over a group's).
func hold(h *entitlement.RoleHold, who []principal, principalID, roleDefID, roleID, scope, assignmentType string) {
	if scope != "/" || !strings.EqualFold(roleDefID, roleID) {
		return
	}
	for _, p := range who {
		if !strings.EqualFold(p.id, principalID) || (h.Active && h.Group == "") {
			continue
		}
		h.Active, h.Group = true, p.group
		h.Activated = strings.EqualFold(assignmentType, "Activated")
	}
}

// catalogRoles lists the entitlement management roles of who (the user and their role-assignable groups):
// GET /roleManagement/entitlementManagement/roleAssignments?$filter=principalId in (…), 15 ids a call.
func (c *Client) catalogRoles(ctx context.Context, who []principal) ([]entitlement.CatalogRoleAssignment, error) {
	var out []entitlement.CatalogRoleAssignment
	for start := 0; start < len(who); start += maxInValues {
		part := who[start:min(len(who), start+maxInValues)]
		ids := make([]string, len(part))
		for i, p := range part {
			ids[i] = "'" + p.id + "'"
		}
		filter := "principalId in (" + strings.Join(ids, ", ") + ")"
		if len(part) == 1 {
			filter = "principalId eq " + ids[0]
		}
		err := c.call(ctx, "list entitlement management role assignments of "+who[0].id, func(ctx context.Context) error {
			items, err := collectURL[models.UnifiedRoleAssignmentable, models.UnifiedRoleAssignmentCollectionResponseable](ctx, c,
				c.base+"/roleManagement/entitlementManagement/roleAssignments", url.Values{"$filter": {filter}},
				models.CreateUnifiedRoleAssignmentCollectionResponseFromDiscriminatorValue, "unifiedRoleAssignment collection")
			for _, a := range items {
				if ra, ok := catalogRole(a, part); ok {
					out = append(out, ra)
				}
			}
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// catalogRole reads one entitlement management role assignment of one of who; false for another principal or
// a scope that grants nothing over catalogs.
func catalogRole(a models.UnifiedRoleAssignmentable, who []principal) (entitlement.CatalogRoleAssignment, bool) {
	if a == nil {
		return entitlement.CatalogRoleAssignment{}, false
	}
	for _, p := range who {
		if !strings.EqualFold(str(a.GetPrincipalId()), p.id) {
			continue
		}
		scope := str(a.GetAppScopeId())
		ra := entitlement.CatalogRoleAssignment{RoleDefinitionID: strings.ToLower(str(a.GetRoleDefinitionId())), Group: p.group}
		if len(scope) > len(catalogScopePrefix) && strings.EqualFold(scope[:len(catalogScopePrefix)], catalogScopePrefix) {
			ra.CatalogID = scope[len(catalogScopePrefix):]
		} else if scope != "/" {
			return ra, false
		}
		return ra, true
	}
	return entitlement.CatalogRoleAssignment{}, false
}
