package graph

import (
	"context"
	"fmt"
	"strings"

	"github.com/accessbot/accessbot/internal/entitlement"
	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
)

// ---- connected organizations ----

// ConnectedOrgs lists connected organizations.
func (c *Client) ConnectedOrgs(ctx context.Context) ([]entitlement.ConnectedOrg, error) {
	var out []entitlement.ConnectedOrg
	err := c.call(ctx, "list connected organizations", func(ctx context.Context) error {
		b := c.em.ConnectedOrganizations()
		items, err := collectAll[models.ConnectedOrganizationable](ctx, b, nil)
		for _, it := range items {
			out = append(out, toConnectedOrg(it))
		}
		return err
	})
	return out, err
}

// ConnectedOrg returns one connected organization.
func (c *Client) ConnectedOrg(ctx context.Context, id string) (entitlement.ConnectedOrg, error) {
	if err := needID("connected organization id", id); err != nil {
		return entitlement.ConnectedOrg{}, err
	}
	var out entitlement.ConnectedOrg
	err := c.call(ctx, "get connected organization "+id, func(ctx context.Context) error {
		m, err := c.em.ConnectedOrganizations().ByConnectedOrganizationId(id).Get(ctx, nil)
		if err != nil {
			return err
		}
		out = toConnectedOrg(m)
		return nil
	})
	return out, err
}

// CreateConnectedOrg creates a connected organization for a tenant id or a domain.
func (c *Client) CreateConnectedOrg(ctx context.Context, in entitlement.NewConnectedOrg) (entitlement.ConnectedOrg, error) {
	in.Name = strings.TrimSpace(in.Name)
	in.TenantID = strings.TrimSpace(in.TenantID)
	in.Domain = strings.ToLower(strings.TrimSpace(in.Domain))
	switch {
	case in.Name == "":
		return entitlement.ConnectedOrg{}, entitlement.Invalid("name", "is required")
	case in.TenantID == "" && in.Domain == "":
		return entitlement.ConnectedOrg{}, entitlement.Invalid("tenant id or domain", "is required (for example fabrikam.example)")
	case in.TenantID != "" && !isGUID(in.TenantID):
		return entitlement.ConnectedOrg{}, entitlement.Invalid("tenant id", fmt.Sprintf("%q is not a GUID", in.TenantID))
	case in.Domain != "" && !isDomain(in.Domain):
		return entitlement.ConnectedOrg{}, entitlement.Invalid("domain", fmt.Sprintf("%q is not a domain name", in.Domain))
	}
	state := in.State
	if state == "" {
		state = entitlement.OrgConfigured
	}
	if state != entitlement.OrgConfigured && state != entitlement.OrgProposed {
		return entitlement.ConnectedOrg{}, entitlement.Invalid("state", fmt.Sprintf("must be configured or proposed, not %q", state))
	}
	body := models.NewConnectedOrganization()
	body.SetDisplayName(&in.Name)
	if in.Description != "" {
		body.SetDescription(&in.Description)
	}
	st := models.CONFIGURED_CONNECTEDORGANIZATIONSTATE
	if state == entitlement.OrgProposed {
		st = models.PROPOSED_CONNECTEDORGANIZATIONSTATE
	}
	body.SetState(&st)
	if in.TenantID != "" {
		src := models.NewAzureActiveDirectoryTenant()
		name := in.TenantName
		if name == "" {
			name = in.Name
		}
		src.SetTenantId(&in.TenantID)
		src.SetDisplayName(&name)
		body.SetIdentitySources([]models.IdentitySourceable{src})
	} else {
		src := models.NewDomainIdentitySource()
		src.SetDomainName(&in.Domain)
		src.SetDisplayName(&in.Domain)
		body.SetIdentitySources([]models.IdentitySourceable{src})
	}
	var out entitlement.ConnectedOrg
	err := c.call(ctx, "create connected organization "+in.Name, func(ctx context.Context) error {
		m, err := c.em.ConnectedOrganizations().Post(ctx, body, nil)
		if err != nil {
			return err
		}
		out = toConnectedOrg(m)
		return nil
	})
	return out, err
}

// DeleteConnectedOrg deletes a connected organization.
func (c *Client) DeleteConnectedOrg(ctx context.Context, id string) error {
	if err := needID("connected organization id", id); err != nil {
		return err
	}
	return c.call(ctx, "delete connected organization "+id, func(ctx context.Context) error {
		return c.em.ConnectedOrganizations().ByConnectedOrganizationId(id).Delete(ctx, nil)
	})
}

// Sponsors lists the internal and external sponsors of a connected organization.
func (c *Client) Sponsors(ctx context.Context, orgID string) (entitlement.Sponsors, error) {
	if err := needID("connected organization id", orgID); err != nil {
		return entitlement.Sponsors{}, err
	}
	var out entitlement.Sponsors
	err := c.call(ctx, "list sponsors of connected organization "+orgID, func(ctx context.Context) error {
		for _, k := range []struct {
			kind entitlement.SponsorKind
			dst  *[]entitlement.User
		}{{entitlement.SponsorInternal, &out.Internal}, {entitlement.SponsorExternal, &out.External}} {
			users, err := c.listDirectoryObjects(ctx, c.sponsorsURL(orgID, k.kind))
			if err != nil {
				return err
			}
			*k.dst = users
		}
		return nil
	})
	return out, err
}

// sponsorsURL is the connected organization's internalSponsors or externalSponsors collection.
func (c *Client) sponsorsURL(orgID string, kind entitlement.SponsorKind) string {
	return c.base + emPath + "connectedOrganizations/" + orgID + "/" + string(kind) + "Sponsors"
}

// checkSponsor validates the arguments of AddSponsor and RemoveSponsor.
func checkSponsor(orgID string, kind entitlement.SponsorKind, userID string) error {
	if err := needID("connected organization id", orgID); err != nil {
		return err
	}
	if err := needID("user id", userID); err != nil {
		return err
	}
	if kind != entitlement.SponsorInternal && kind != entitlement.SponsorExternal {
		return entitlement.Invalid("sponsor kind", fmt.Sprintf("must be internal or external, not %q", kind))
	}
	return nil
}

// AddSponsor adds a user as an internal or external sponsor ($ref).
func (c *Client) AddSponsor(ctx context.Context, orgID string, kind entitlement.SponsorKind, userID string) error {
	if err := checkSponsor(orgID, kind, userID); err != nil {
		return err
	}
	return c.call(ctx, fmt.Sprintf("add %s sponsor %s to connected organization %s", kind, userID, orgID), func(ctx context.Context) error {
		_, err := c.sendJSON(ctx, abs.POST, c.sponsorsURL(orgID, kind)+"/$ref", map[string]any{"@odata.id": c.base + "/directoryObjects/" + userID}, nil)
		return err
	})
}

// RemoveSponsor removes an internal or external sponsor.
func (c *Client) RemoveSponsor(ctx context.Context, orgID string, kind entitlement.SponsorKind, userID string) error {
	if err := checkSponsor(orgID, kind, userID); err != nil {
		return err
	}
	return c.call(ctx, fmt.Sprintf("remove %s sponsor %s from connected organization %s", kind, userID, orgID), func(ctx context.Context) error {
		_, err := c.sendJSON(ctx, abs.DELETE, c.sponsorsURL(orgID, kind)+"/"+userID+"/$ref", nil, nil)
		return err
	})
}
