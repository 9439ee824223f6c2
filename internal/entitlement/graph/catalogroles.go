package graph

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
)

// catalogScopePrefix starts the appScopeId of an entitlement management role assignment scoped to a catalog.
const catalogScopePrefix = "/AccessPackageCatalog/"

// CatalogRoleAssignments lists the entitlement management roles the user holds directly:
// GET /roleManagement/entitlementManagement/roleAssignments?$filter=principalId eq '{userID}'
// (EntitlementManagement.Read.All). Each has its role definition id and the catalog it is scoped to ("" for
// appScopeId "/").
func (c *Client) CatalogRoleAssignments(ctx context.Context, userID string) ([]entitlement.CatalogRoleAssignment, error) {
	if err := needID("user id", userID); err != nil {
		return nil, err
	}
	var out []entitlement.CatalogRoleAssignment
	err := c.call(ctx, "list entitlement management role assignments of "+userID, func(ctx context.Context) error {
		items, err := collectURL[models.UnifiedRoleAssignmentable, models.UnifiedRoleAssignmentCollectionResponseable](ctx, c,
			c.base+"/roleManagement/entitlementManagement/roleAssignments", url.Values{"$filter": {fmt.Sprintf("principalId eq '%s'", userID)}},
			models.CreateUnifiedRoleAssignmentCollectionResponseFromDiscriminatorValue, "unifiedRoleAssignment collection")
		if err != nil {
			return err
		}
		for _, a := range items {
			if a == nil || !strings.EqualFold(str(a.GetPrincipalId()), userID) {
				continue
			}
			scope := str(a.GetAppScopeId())
			ra := entitlement.CatalogRoleAssignment{RoleDefinitionID: strings.ToLower(str(a.GetRoleDefinitionId()))}
			if len(scope) > len(catalogScopePrefix) && strings.EqualFold(scope[:len(catalogScopePrefix)], catalogScopePrefix) {
				ra.CatalogID = scope[len(catalogScopePrefix):]
			} else if scope != "/" {
				continue // another kind of scope grants nothing over catalogs
			}
			out = append(out, ra)
		}
		return nil
	})
	return out, err
}
