package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/accessbot/accessbot/internal/entitlement"
	abs "github.com/microsoft/kiota-abstractions-go"
	ig "github.com/microsoftgraph/msgraph-sdk-go/identitygovernance"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
)

// The package builder's writes (entitlement.Builder). Bodies whose durations matter (policies) are written
// as plain JSON so ISO durations stay as given (Kiota would write P30D as P4W2D); answers are parsed with
// the SDK's models.

var _ entitlement.Builder = (*Client)(nil)

const emPath = "/identityGovernance/entitlementManagement/"

// forgetEM drops the cached catalog, package, policy and incompatibility reads after a write.
func (c *Client) forgetEM() {
	for _, k := range []string{keyCatalogs, keyPackages, keyCatalogPkgs, keyPackage, keyPolicies, keyPolicy, keyIncompatible} {
		c.cache.drop(k)
	}
}

// sendJSON sends body as JSON with method to rawURL and parses the answer with factory (nil: no content).
func (c *Client) sendJSON(ctx context.Context, method abs.HttpMethod, rawURL string, body any,
	factory func(p absserParseNode) (absserParsable, error)) (absserParsable, error) {
	ri := abs.NewRequestInformation()
	ri.Method = method
	ri.SetUri(mustURL(rawURL))
	ri.Headers.TryAdd("Accept", "application/json")
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("encode request body: %w", err)
		}
		ri.SetStreamContentAndContentType(raw, "application/json")
	}
	if factory == nil {
		return nil, c.adapter.SendNoContent(ctx, ri, errorMapping)
	}
	return c.adapter.Send(ctx, ri, factory, errorMapping)
}

// CreateCatalog creates a published catalog.
func (c *Client) CreateCatalog(ctx context.Context, in entitlement.NewCatalog) (entitlement.Catalog, error) {
	name := strings.TrimSpace(in.Name)
	if name == "" {
		return entitlement.Catalog{}, entitlement.Invalid("catalog name", "is required")
	}
	body := models.NewAccessPackageCatalog()
	body.SetDisplayName(&name)
	desc := strings.TrimSpace(in.Description)
	body.SetDescription(&desc)
	body.SetIsExternallyVisible(&in.ExternallyVisible)
	var out entitlement.Catalog
	err := c.call(ctx, "create catalog "+name, func(ctx context.Context) error {
		m, err := c.em.Catalogs().Post(ctx, body, nil)
		if err != nil {
			return err
		}
		out = toCatalog(m)
		return nil
	})
	c.forgetEM()
	return out, err
}

// DeleteCatalog deletes a catalog (Graph refuses while it has access packages).
func (c *Client) DeleteCatalog(ctx context.Context, catalogID string) error {
	if err := needID("catalog id", catalogID); err != nil {
		return err
	}
	err := c.call(ctx, "delete catalog "+catalogID, func(ctx context.Context) error {
		return c.em.Catalogs().ByAccessPackageCatalogId(catalogID).Delete(ctx, nil)
	})
	c.forgetEM()
	return err
}

// CatalogResources lists a catalog's resources with their roles.
func (c *Client) CatalogResources(ctx context.Context, catalogID string) ([]entitlement.CatalogResource, error) {
	if err := needID("catalog id", catalogID); err != nil {
		return nil, err
	}
	var out []entitlement.CatalogResource
	err := c.call(ctx, "list resources of catalog "+catalogID, func(ctx context.Context) error {
		b := c.em.Catalogs().ByAccessPackageCatalogId(catalogID).Resources()
		cfg := &ig.EntitlementManagementCatalogsItemResourcesRequestBuilderGetRequestConfiguration{
			QueryParameters: &ig.EntitlementManagementCatalogsItemResourcesRequestBuilderGetQueryParameters{Expand: []string{"roles"}, Top: c.top},
		}
		items, err := collectAll[models.AccessPackageResourceable](ctx, b, cfg)
		for _, it := range items {
			if it != nil {
				out = append(out, toCatalogResource(it))
			}
		}
		return err
	})
	return out, err
}

func toCatalogResource(m models.AccessPackageResourceable) entitlement.CatalogResource {
	r := entitlement.CatalogResource{ID: str(m.GetId()), Name: str(m.GetDisplayName()), Description: str(m.GetDescription()),
		OriginSystem: str(m.GetOriginSystem()), OriginID: str(m.GetOriginId())}
	for _, role := range m.GetRoles() {
		if role == nil {
			continue
		}
		os := str(role.GetOriginSystem())
		if os == "" {
			os = r.OriginSystem
		}
		r.Roles = append(r.Roles, entitlement.CatalogResourceRole{ID: str(role.GetId()), Name: str(role.GetDisplayName()),
			OriginID: str(role.GetOriginId()), OriginSystem: os, ResourceID: r.ID, ResourceOriginID: r.OriginID, ResourceName: r.Name})
	}
	return r
}

// AddCatalogResource files a resourceRequests adminAdd for r and returns the catalog resource with roles.
func (c *Client) AddCatalogResource(ctx context.Context, catalogID string, r entitlement.DirectoryResource) (entitlement.CatalogResource, error) {
	if err := needID("catalog id", catalogID); err != nil {
		return entitlement.CatalogResource{}, err
	}
	if strings.TrimSpace(r.OriginID) == "" {
		return entitlement.CatalogResource{}, entitlement.Invalid("resource", "needs its origin id (group id, site URL or application id)")
	}
	switch r.OriginSystem {
	case entitlement.OriginGroup, entitlement.OriginSharePoint, entitlement.OriginApplication:
	default:
		return entitlement.CatalogResource{}, entitlement.Invalid("resource origin system", fmt.Sprintf("must be AadGroup, SharePointOnline or AadApplication, not %q", r.OriginSystem))
	}
	body := map[string]any{
		"requestType": "adminAdd",
		"resource":    map[string]any{"originId": r.OriginID, "originSystem": r.OriginSystem, "displayName": r.Name},
		"catalog":     map[string]any{"id": catalogID},
	}
	err := c.call(ctx, fmt.Sprintf("add resource %s to catalog %s", r.OriginID, catalogID), func(ctx context.Context) error {
		_, err := c.sendJSON(ctx, abs.POST, c.base+emPath+"resourceRequests", body, models.CreateAccessPackageResourceRequestFromDiscriminatorValue)
		return err
	})
	if err != nil {
		return entitlement.CatalogResource{}, err
	}
	all, err := c.CatalogResources(ctx, catalogID)
	if err != nil {
		return entitlement.CatalogResource{}, fmt.Errorf("read catalog resources after adding %s: %w", r.OriginID, err)
	}
	for _, cr := range all {
		if strings.EqualFold(cr.OriginID, r.OriginID) {
			return cr, nil
		}
	}
	return entitlement.CatalogResource{}, fmt.Errorf("resource %s not in catalog %s after adding it: %w", r.OriginID, catalogID, entitlement.ErrNotFound)
}

func checkNewPackage(in entitlement.NewPackage, needCatalog bool) error {
	if strings.TrimSpace(in.Name) == "" {
		return entitlement.Invalid("package name", "is required")
	}
	if needCatalog {
		return needID("catalog id", in.CatalogID)
	}
	return nil
}

// CreatePackage creates an access package in in.CatalogID.
func (c *Client) CreatePackage(ctx context.Context, in entitlement.NewPackage) (entitlement.Package, error) {
	if err := checkNewPackage(in, true); err != nil {
		return entitlement.Package{}, err
	}
	body := models.NewAccessPackage()
	name, desc := strings.TrimSpace(in.Name), strings.TrimSpace(in.Description)
	body.SetDisplayName(&name)
	body.SetDescription(&desc)
	body.SetIsHidden(&in.IsHidden)
	cat := models.NewAccessPackageCatalog()
	cat.SetId(&in.CatalogID)
	body.SetCatalog(cat)
	var out entitlement.Package
	err := c.call(ctx, "create access package "+name, func(ctx context.Context) error {
		m, err := c.em.AccessPackages().Post(ctx, body, nil)
		if err != nil {
			return err
		}
		out = toPackage(m)
		if out.CatalogID == "" {
			out.CatalogID = in.CatalogID
		}
		return nil
	})
	c.forgetEM()
	return out, err
}

// UpdatePackage changes name, description and visibility (the catalog cannot change).
func (c *Client) UpdatePackage(ctx context.Context, packageID string, in entitlement.NewPackage) error {
	if err := needID("package id", packageID); err != nil {
		return err
	}
	if err := checkNewPackage(in, false); err != nil {
		return err
	}
	body := map[string]any{"displayName": strings.TrimSpace(in.Name), "description": strings.TrimSpace(in.Description), "isHidden": in.IsHidden}
	err := c.call(ctx, "update access package "+packageID, func(ctx context.Context) error {
		_, err := c.sendJSON(ctx, abs.PATCH, c.base+emPath+"accessPackages/"+packageID, body, nil)
		return err
	})
	c.forgetEM()
	return err
}

// DeletePackage deletes an access package (Graph refuses while it has assignments).
func (c *Client) DeletePackage(ctx context.Context, packageID string) error {
	if err := needID("package id", packageID); err != nil {
		return err
	}
	err := c.call(ctx, "delete access package "+packageID, func(ctx context.Context) error {
		return c.em.AccessPackages().ByAccessPackageId(packageID).Delete(ctx, nil)
	})
	c.forgetEM()
	return err
}

// AddResourceRole adds role (of a resource already in the package's catalog) to the package.
func (c *Client) AddResourceRole(ctx context.Context, packageID string, role entitlement.CatalogResourceRole) (string, error) {
	if err := needID("package id", packageID); err != nil {
		return "", err
	}
	if err := needID("resource id", role.ResourceID); err != nil {
		return "", err
	}
	if strings.TrimSpace(role.OriginID) == "" {
		return "", entitlement.Invalid("role", "needs its origin id (from the catalog's resource roles)")
	}
	body := map[string]any{
		"role": map[string]any{"originId": role.OriginID, "originSystem": role.OriginSystem, "displayName": role.Name,
			"resource": map[string]any{"id": role.ResourceID, "originId": role.ResourceOriginID, "originSystem": role.OriginSystem}},
		"scope": map[string]any{"originId": role.ResourceOriginID, "originSystem": role.OriginSystem, "isRootScope": true},
	}
	var id string
	err := c.call(ctx, fmt.Sprintf("add role %s of %s to access package %s", role.Name, role.ResourceName, packageID), func(ctx context.Context) error {
		m, err := c.sendJSON(ctx, abs.POST, c.base+emPath+"accessPackages/"+packageID+"/resourceRoleScopes", body,
			models.CreateAccessPackageResourceRoleScopeFromDiscriminatorValue)
		if err != nil {
			return err
		}
		if rs, ok := m.(models.AccessPackageResourceRoleScopeable); ok {
			id = str(rs.GetId())
		}
		return nil
	})
	c.forgetEM()
	return id, err
}

// RemoveResourceRole removes the resource role scope roleScopeID from the package:
// DELETE /identityGovernance/entitlementManagement/accessPackages/{id}/resourceRoleScopes/{id}
// (EntitlementManagement.ReadWrite.All). Entra then removes the role from everyone who holds the package.
func (c *Client) RemoveResourceRole(ctx context.Context, packageID, roleScopeID string) error {
	if err := needID("package id", packageID); err != nil {
		return err
	}
	if err := needID("resource role scope id", roleScopeID); err != nil {
		return err
	}
	err := c.call(ctx, fmt.Sprintf("remove role scope %s from access package %s", roleScopeID, packageID), func(ctx context.Context) error {
		_, err := c.sendJSON(ctx, abs.DELETE, c.base+emPath+"accessPackages/"+url.PathEscape(packageID)+"/resourceRoleScopes/"+url.PathEscape(roleScopeID), nil, nil)
		return err
	})
	c.forgetEM()
	return err
}

// CreatePolicy creates an assignment policy for p.PackageID.
func (c *Client) CreatePolicy(ctx context.Context, p entitlement.Policy) (entitlement.Policy, error) {
	if err := needID("package id", p.PackageID); err != nil {
		return entitlement.Policy{}, err
	}
	body, err := policyBody(p)
	if err != nil {
		return entitlement.Policy{}, err
	}
	return c.writePolicy(ctx, abs.POST, c.base+emPath+"assignmentPolicies", "create policy for access package "+p.PackageID, body, p.PackageID)
}

func (c *Client) writePolicy(ctx context.Context, method abs.HttpMethod, rawURL, op string, body map[string]any, packageID string) (entitlement.Policy, error) {
	var out entitlement.Policy
	err := c.call(ctx, op, func(ctx context.Context) error {
		m, err := c.sendJSON(ctx, method, rawURL, body, models.CreateAccessPackageAssignmentPolicyFromDiscriminatorValue)
		if err != nil {
			return err
		}
		pol, ok := m.(models.AccessPackageAssignmentPolicyable)
		if !ok {
			return fmt.Errorf("response is not an assignment policy")
		}
		out = toPolicy(pol)
		if out.PackageID == "" {
			out.PackageID = packageID
		}
		return nil
	})
	c.forgetEM()
	return out, err
}

// DeletePolicy deletes an assignment policy.
func (c *Client) DeletePolicy(ctx context.Context, policyID string) error {
	if err := needID("policy id", policyID); err != nil {
		return err
	}
	err := c.call(ctx, "delete policy "+policyID, func(ctx context.Context) error {
		return c.em.AssignmentPolicies().ByAccessPackageAssignmentPolicyId(policyID).Delete(ctx, nil)
	})
	c.forgetEM()
	return err
}

// Incompatibilities lists the packages and groups a package is incompatible with, and the packages that
// marked it incompatible (cached: the
// separation-of-duties check reads them whenever a request form opens; a write through this client
// forgets them).
func (c *Client) Incompatibilities(ctx context.Context, packageID string) (entitlement.Incompatibilities, error) {
	if err := needID("package id", packageID); err != nil {
		return entitlement.Incompatibilities{}, err
	}
	return cached(c, keyIncompatible+packageID, func() (entitlement.Incompatibilities, error) {
		return c.readIncompatibilities(ctx, packageID)
	})
}

// readIncompatibilities reads a package's incompatible packages and groups from Graph.
func (c *Client) readIncompatibilities(ctx context.Context, packageID string) (entitlement.Incompatibilities, error) {
	var out entitlement.Incompatibilities
	err := c.call(ctx, "list incompatibilities of access package "+packageID, func(ctx context.Context) error {
		base := c.base + emPath + "accessPackages/" + packageID
		pkgs, err := collectURL[models.AccessPackageable, models.AccessPackageCollectionResponseable](ctx, c, base+"/incompatibleAccessPackages",
			nil, models.CreateAccessPackageCollectionResponseFromDiscriminatorValue, "access package collection")
		if err != nil {
			return err
		}
		for _, p := range pkgs {
			if p != nil {
				out.Packages = append(out.Packages, toPackage(p))
			}
		}
		namedBy, err := collectURL[models.AccessPackageable, models.AccessPackageCollectionResponseable](ctx, c, base+"/accessPackagesIncompatibleWith",
			nil, models.CreateAccessPackageCollectionResponseFromDiscriminatorValue, "access package collection")
		if err != nil {
			return err
		}
		for _, p := range namedBy {
			if p != nil {
				out.NamedBy = append(out.NamedBy, toPackage(p))
			}
		}
		groups, err := collectURL[models.Groupable, models.GroupCollectionResponseable](ctx, c, base+"/incompatibleGroups",
			url.Values{"$select": {"id,displayName"}}, models.CreateGroupCollectionResponseFromDiscriminatorValue, "group collection")
		for _, g := range groups {
			if g != nil {
				out.Groups = append(out.Groups, entitlement.Group{ID: str(g.GetId()), Name: str(g.GetDisplayName())})
			}
		}
		return err
	})
	return out, err
}

// SetIncompatible adds or removes an incompatible package or group ($ref).
func (c *Client) SetIncompatible(ctx context.Context, packageID string, ref entitlement.IncompatibleRef, add bool) error {
	if err := needID("package id", packageID); err != nil {
		return err
	}
	if err := needID("incompatible "+string(ref.Kind)+" id", ref.ID); err != nil {
		return err
	}
	nav, target := "incompatibleAccessPackages", c.base+emPath+"accessPackages/"+ref.ID
	switch ref.Kind {
	case entitlement.IncompatiblePackage:
	case entitlement.IncompatibleGroup:
		nav, target = "incompatibleGroups", c.base+"/groups/"+ref.ID
	default:
		return entitlement.Invalid("incompatibility kind", fmt.Sprintf("must be package or group, not %q", ref.Kind))
	}
	base := c.base + emPath + "accessPackages/" + packageID + "/" + nav
	verb := "add"
	if !add {
		verb = "remove"
	}
	err := c.call(ctx, fmt.Sprintf("%s incompatible %s %s of access package %s", verb, ref.Kind, ref.ID, packageID), func(ctx context.Context) error {
		if add {
			_, err := c.sendJSON(ctx, abs.POST, base+"/$ref", map[string]any{"@odata.id": target}, nil)
			return err
		}
		_, err := c.sendJSON(ctx, abs.DELETE, base+"/"+ref.ID+"/$ref", nil, nil)
		return err
	})
	c.forgetEM()
	return err
}
