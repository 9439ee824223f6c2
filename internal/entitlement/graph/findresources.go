package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"

	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
)

// defaultAccessRole is the role Entra offers for every application added to a catalog.
const defaultAccessRole = "Default Access"

// FindResources searches groups (and Teams) and applications (service principals) whose display name starts
// with search, and SharePoint sites matching it (GET /sites?search=); a search that is a site URL looks that
// site up (GET /sites/{hostname}:/{path}). Sites and applications the app may not read (Sites.Read.All,
// Application.Read.All not granted) are left out with a warning in the log: groups are still found.
func (c *Client) FindResources(ctx context.Context, search string) ([]entitlement.DirectoryResource, error) {
	search = strings.TrimSpace(search)
	if search == "" {
		return nil, entitlement.Invalid("search", "is required (the start of a group, Team or application name, a site name or a site URL)")
	}
	if strings.HasPrefix(strings.ToLower(search), "https://") {
		return c.siteByURL(ctx, search)
	}
	out, err := c.findGroups(ctx, search)
	if err != nil {
		return nil, err
	}
	for _, find := range []func(context.Context, string) ([]entitlement.DirectoryResource, error){c.findSites, c.findApps} {
		found, err := find(ctx, search)
		if errors.Is(err, entitlement.ErrForbidden) {
			c.log.WarnContext(ctx, "resource search skipped: permission missing", slog.String("search", search), slog.Any("err", err))
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, found...)
	}
	return out, nil
}

func (c *Client) findGroups(ctx context.Context, search string) ([]entitlement.DirectoryResource, error) {
	q := url.Values{
		"$filter": {"startswith(displayName,'" + strings.ReplaceAll(search, "'", "''") + "')"},
		"$select": {"id,displayName,description,resourceProvisioningOptions"},
		"$top":    {"20"},
	}
	var out []entitlement.DirectoryResource
	err := c.call(ctx, "search groups "+search, func(ctx context.Context) error {
		m, err := c.get(ctx, c.base+"/groups", q, models.CreateGroupCollectionResponseFromDiscriminatorValue)
		if err != nil {
			return err
		}
		page, ok := m.(models.GroupCollectionResponseable)
		if !ok {
			return fmt.Errorf("response is not a group collection")
		}
		for _, g := range page.GetValue() {
			if g == nil {
				continue
			}
			r := entitlement.DirectoryResource{OriginSystem: entitlement.OriginGroup, OriginID: str(g.GetId()),
				Name: str(g.GetDisplayName()), Description: str(g.GetDescription()), Roles: []string{"Member", "Owner"}}
			r.IsTeam = isTeam(g.GetAdditionalData()["resourceProvisioningOptions"])
			out = append(out, r)
		}
		return nil
	})
	return out, err
}

// isTeam reads resourceProvisioningOptions (not in the v1.0 metadata of group: it arrives as additional data).
func isTeam(v any) bool {
	opts, _ := v.([]any)
	for _, o := range opts {
		if s, _ := o.(*string); s != nil && *s == "Team" {
			return true
		}
		if s, _ := o.(string); s == "Team" {
			return true
		}
	}
	return false
}

// siteRoles are the roles a catalog offers for a site: its default SharePoint groups.
func siteRoles(name string) []string {
	return []string{name + " Owners", name + " Members", name + " Visitors"}
}

func toSite(s models.Siteable) entitlement.DirectoryResource {
	name := str(s.GetDisplayName())
	if name == "" {
		name = str(s.GetName())
	}
	return entitlement.DirectoryResource{OriginSystem: entitlement.OriginSharePoint, OriginID: str(s.GetWebUrl()),
		Name: name, Description: str(s.GetDescription()), Roles: siteRoles(name)}
}

func (c *Client) findSites(ctx context.Context, search string) ([]entitlement.DirectoryResource, error) {
	q := url.Values{"search": {search}, "$select": {"id,name,displayName,description,webUrl"}}
	var out []entitlement.DirectoryResource
	err := c.call(ctx, "search sites "+search, func(ctx context.Context) error {
		m, err := c.get(ctx, c.base+"/sites", q, models.CreateSiteCollectionResponseFromDiscriminatorValue)
		if err != nil {
			return err
		}
		page, ok := m.(models.SiteCollectionResponseable)
		if !ok {
			return fmt.Errorf("response is not a site collection")
		}
		for _, s := range page.GetValue() {
			if s != nil && s.GetWebUrl() != nil {
				out = append(out, toSite(s))
			}
		}
		return nil
	})
	return out, err
}

// siteByURL looks a site up by its URL (https://{hostname}/{path}); none is an empty result, not an error.
func (c *Client) siteByURL(ctx context.Context, raw string) ([]entitlement.DirectoryResource, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return nil, entitlement.Invalid("site URL", fmt.Sprintf("must look like https://contoso.sharepoint.com/sites/name, not %q", raw))
	}
	path := strings.TrimRight(u.EscapedPath(), "/")
	var out []entitlement.DirectoryResource
	err = c.call(ctx, "find site "+u.Host+path, func(ctx context.Context) error {
		m, err := c.get(ctx, c.base+"/sites/"+u.Host+":"+path, url.Values{"$select": {"id,name,displayName,description,webUrl"}},
			models.CreateSiteFromDiscriminatorValue)
		if err != nil {
			return err
		}
		if s, ok := m.(models.Siteable); ok && s.GetWebUrl() != nil {
			out = append(out, toSite(s))
		}
		return nil
	})
	if errors.Is(err, entitlement.ErrNotFound) {
		return nil, nil
	}
	return out, err
}

func (c *Client) findApps(ctx context.Context, search string) ([]entitlement.DirectoryResource, error) {
	q := url.Values{
		"$filter": {"startswith(displayName,'" + strings.ReplaceAll(search, "'", "''") + "')"},
		"$select": {"id,displayName,description,appRoles"},
		"$top":    {"20"},
	}
	var out []entitlement.DirectoryResource
	err := c.call(ctx, "search applications "+search, func(ctx context.Context) error {
		m, err := c.get(ctx, c.base+"/servicePrincipals", q, models.CreateServicePrincipalCollectionResponseFromDiscriminatorValue)
		if err != nil {
			return err
		}
		page, ok := m.(models.ServicePrincipalCollectionResponseable)
		if !ok {
			return fmt.Errorf("response is not a service principal collection")
		}
		for _, sp := range page.GetValue() {
			if sp == nil {
				continue
			}
			r := entitlement.DirectoryResource{OriginSystem: entitlement.OriginApplication, OriginID: str(sp.GetId()),
				Name: str(sp.GetDisplayName()), Description: str(sp.GetDescription()), Roles: []string{defaultAccessRole}}
			for _, ar := range sp.GetAppRoles() {
				if ar != nil && ar.GetIsEnabled() != nil && *ar.GetIsEnabled() && assignableToUsers(ar.GetAllowedMemberTypes()) {
					r.Roles = append(r.Roles, str(ar.GetDisplayName()))
				}
			}
			out = append(out, r)
		}
		return nil
	})
	return out, err
}

func assignableToUsers(types []string) bool {
	for _, t := range types {
		if t == "User" {
			return true
		}
	}
	return false
}
