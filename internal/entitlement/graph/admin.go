package graph

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/accessbot/accessbot/internal/entitlement"
	ig "github.com/microsoftgraph/msgraph-sdk-go/identitygovernance"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
)

// Cache keys. Catalog, package, policy and incompatibility reads are cached for Config.CacheTTL.
const (
	keyCatalogs     = "catalogs"
	keyPackages     = "packages"
	keyCatalogPkgs  = "catalog-packages:"
	keyPackage      = "package:"
	keyPolicies     = "policies:"
	keyPolicy       = "policy:"
	keyIncompatible = "incompatible:"
)

func needID(field, v string) error {
	if strings.TrimSpace(v) == "" {
		return entitlement.Invalid(field, "is required")
	}
	if strings.ContainsAny(v, "/?#'\"") {
		return entitlement.Invalid(field, fmt.Sprintf("%q is not a valid id", v))
	}
	return nil
}

// Catalogs lists all catalogs (cached).
func (c *Client) Catalogs(ctx context.Context) ([]entitlement.Catalog, error) {
	v, err := cached(c, keyCatalogs, func() ([]entitlement.Catalog, error) {
		var out []entitlement.Catalog
		err := c.call(ctx, "list catalogs", func(ctx context.Context) error {
			items, err := collectAll[models.AccessPackageCatalogable](ctx, c.em.Catalogs(),
				&ig.EntitlementManagementCatalogsRequestBuilderGetRequestConfiguration{
					QueryParameters: &ig.EntitlementManagementCatalogsRequestBuilderGetQueryParameters{Top: c.top},
				})
			for _, it := range items {
				out = append(out, toCatalog(it))
			}
			return err
		})
		return out, err
	})
	return slices.Clone(v), err
}

// CatalogPackages lists the packages of a catalog (cached).
func (c *Client) CatalogPackages(ctx context.Context, catalogID string) ([]entitlement.Package, error) {
	if err := needID("catalog id", catalogID); err != nil {
		return nil, err
	}
	v, err := cached(c, keyCatalogPkgs+catalogID, func() ([]entitlement.Package, error) {
		var out []entitlement.Package
		err := c.call(ctx, "list packages of catalog "+catalogID, func(ctx context.Context) error {
			b := c.em.Catalogs().ByAccessPackageCatalogId(catalogID).AccessPackages()
			cfg := &ig.EntitlementManagementCatalogsItemAccessPackagesRequestBuilderGetRequestConfiguration{
				QueryParameters: &ig.EntitlementManagementCatalogsItemAccessPackagesRequestBuilderGetQueryParameters{Expand: []string{"catalog"}, Top: c.top},
			}
			items, err := collectAll[models.AccessPackageable](ctx, b, cfg)
			for _, it := range items {
				p := toPackage(it)
				if p.CatalogID == "" {
					p.CatalogID = catalogID
				}
				out = append(out, p)
			}
			return err
		})
		return out, err
	})
	return slices.Clone(v), err
}

// Packages lists all packages, hidden ones included, with their catalog (cached).
func (c *Client) Packages(ctx context.Context) ([]entitlement.Package, error) {
	v, err := cached(c, keyPackages, func() ([]entitlement.Package, error) {
		var out []entitlement.Package
		err := c.call(ctx, "list access packages", func(ctx context.Context) error {
			b := c.em.AccessPackages()
			cfg := &ig.EntitlementManagementAccessPackagesRequestBuilderGetRequestConfiguration{
				QueryParameters: &ig.EntitlementManagementAccessPackagesRequestBuilderGetQueryParameters{Expand: []string{"catalog"}, Top: c.top},
			}
			items, err := collectAll[models.AccessPackageable](ctx, b, cfg)
			for _, it := range items {
				out = append(out, toPackage(it))
			}
			return err
		})
		return out, err
	})
	return slices.Clone(v), err
}

// Package returns one package with its catalog and resource roles (cached).
func (c *Client) Package(ctx context.Context, packageID string) (entitlement.Package, error) {
	if err := needID("package id", packageID); err != nil {
		return entitlement.Package{}, err
	}
	return cached(c, keyPackage+packageID, func() (entitlement.Package, error) {
		var out entitlement.Package
		err := c.call(ctx, "get access package "+packageID, func(ctx context.Context) error {
			m, err := c.em.AccessPackages().ByAccessPackageId(packageID).Get(ctx, &ig.EntitlementManagementAccessPackagesAccessPackageItemRequestBuilderGetRequestConfiguration{
				QueryParameters: &ig.EntitlementManagementAccessPackagesAccessPackageItemRequestBuilderGetQueryParameters{
					Expand: []string{"catalog", "resourceRoleScopes($expand=role,scope)"},
				},
			})
			if err != nil {
				return err
			}
			out = toPackage(m)
			return nil
		})
		return out, err
	})
}

// Policies lists the assignment policies of a package, with their questions (cached).
func (c *Client) Policies(ctx context.Context, packageID string) ([]entitlement.Policy, error) {
	if err := needID("package id", packageID); err != nil {
		return nil, err
	}
	v, err := cached(c, keyPolicies+packageID, func() ([]entitlement.Policy, error) {
		var out []entitlement.Policy
		err := c.call(ctx, "list policies of access package "+packageID, func(ctx context.Context) error {
			b := c.em.AssignmentPolicies()
			filter := fmt.Sprintf("accessPackage/id eq '%s'", packageID)
			cfg := &ig.EntitlementManagementAssignmentPoliciesRequestBuilderGetRequestConfiguration{
				QueryParameters: &ig.EntitlementManagementAssignmentPoliciesRequestBuilderGetQueryParameters{
					Filter: &filter, Expand: []string{"accessPackage", "questions"}, Top: c.top,
				},
			}
			items, err := collectAll[models.AccessPackageAssignmentPolicyable](ctx, b, cfg)
			for _, it := range items {
				p := toPolicy(it)
				if p.PackageID == "" {
					p.PackageID = packageID
				}
				if p.PackageID != packageID {
					continue // a server that ignored $filter
				}
				out = append(out, p)
				c.cache.put(keyPolicy+p.ID, p, c.ttl)
			}
			return err
		})
		return out, err
	})
	return slices.Clone(v), err
}

// Policy returns one assignment policy with its questions (cached).
func (c *Client) Policy(ctx context.Context, policyID string) (entitlement.Policy, error) {
	if err := needID("policy id", policyID); err != nil {
		return entitlement.Policy{}, err
	}
	return cached(c, keyPolicy+policyID, func() (entitlement.Policy, error) {
		var out entitlement.Policy
		err := c.call(ctx, "get assignment policy "+policyID, func(ctx context.Context) error {
			m, err := c.em.AssignmentPolicies().ByAccessPackageAssignmentPolicyId(policyID).Get(ctx,
				&ig.EntitlementManagementAssignmentPoliciesAccessPackageAssignmentPolicyItemRequestBuilderGetRequestConfiguration{
					QueryParameters: &ig.EntitlementManagementAssignmentPoliciesAccessPackageAssignmentPolicyItemRequestBuilderGetQueryParameters{
						Expand: []string{"accessPackage", "questions"},
					},
				})
			if err != nil {
				return err
			}
			out = toPolicy(m)
			return nil
		})
		return out, err
	})
}
