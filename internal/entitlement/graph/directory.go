package graph

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/accessbot/accessbot/internal/entitlement"
	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoft/kiota-abstractions-go/serialization"
	"github.com/microsoftgraph/msgraph-sdk-go/invitations"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
)

// errorMapping parses every 4xx/5xx body as an OData error.
var errorMapping = abs.ErrorMappings{"XXX": odataerrors.CreateODataErrorFromDiscriminatorValue}

const userSelect = "id,displayName,mail,userPrincipalName,userType,externalUserState,accountEnabled,jobTitle"

func mustURL(raw string) url.URL {
	u, err := url.Parse(raw)
	if err != nil {
		// Only reachable with a base URL New validated plus escaped segments.
		panic(fmt.Sprintf("graph: bad URL %q: %v", raw, err))
	}
	return *u
}

var (
	guidRE   = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	domainRE = regexp.MustCompile(`^(?i)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$`)
	emailRE  = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
)

func isGUID(s string) bool   { return guidRE.MatchString(s) }
func isDomain(s string) bool { return domainRE.MatchString(s) }
func isEmail(s string) bool  { return emailRE.MatchString(s) }

// get sends a GET for rawURL and parses the body with factory.
func (c *Client) get(ctx context.Context, rawURL string, query url.Values, factory func(p absserParseNode) (absserParsable, error)) (absserParsable, error) {
	ri := abs.NewRequestInformation()
	ri.Method = abs.GET
	u := mustURL(rawURL)
	if len(query) > 0 {
		u.RawQuery = strings.ReplaceAll(query.Encode(), "+", "%20")
	}
	ri.SetUri(u)
	ri.Headers.TryAdd("Accept", "application/json")
	return c.adapter.Send(ctx, ri, factory, errorMapping)
}

// collectURL GETs the collection at rawURL with query and follows its @odata.nextLink pages; what names
// the collection in the error for an answer of another type.
func collectURL[T any, P pageOf[T]](ctx context.Context, c *Client, rawURL string, query url.Values,
	factory func(p absserParseNode) (absserParsable, error), what string) ([]T, error) {
	page := func(ctx context.Context, u string, q url.Values) (P, error) {
		m, err := c.get(ctx, u, q, factory)
		if err != nil {
			var none P
			return none, err
		}
		r, ok := m.(P)
		if !ok {
			return r, fmt.Errorf("response is not a %s", what)
		}
		return r, nil
	}
	return collect[T](ctx,
		func(ctx context.Context) (P, error) { return page(ctx, rawURL, query) },
		func(ctx context.Context, u string) (P, error) { return page(ctx, u, nil) })
}

// User returns a user by object id or user principal name.
func (c *Client) User(ctx context.Context, idOrUPN string) (entitlement.User, error) {
	idOrUPN = strings.TrimSpace(idOrUPN)
	if idOrUPN == "" {
		return entitlement.User{}, entitlement.Invalid("user", "is required (an object id or user principal name)")
	}
	var out entitlement.User
	err := c.call(ctx, "get user "+idOrUPN, func(ctx context.Context) error {
		m, err := c.get(ctx, c.base+"/users/"+url.PathEscape(idOrUPN), url.Values{"$select": {userSelect}}, models.CreateUserFromDiscriminatorValue)
		if err != nil {
			return err
		}
		u, _ := m.(models.Userable)
		out, err = c.readUser(u)
		return err
	})
	return out, err
}

// readUser converts a user Graph returned; a missing object, or a user without an id (nothing could be
// done with it: no approval card, no assignment), is an unreadable answer for every directory call.
func (c *Client) readUser(m models.Userable) (entitlement.User, error) {
	if m == nil {
		return entitlement.User{}, errors.New("response is not a user")
	}
	u := c.toUser(m)
	if strings.TrimSpace(u.ID) == "" {
		return entitlement.User{}, fmt.Errorf("response has a user without an id (%q)", u.Name)
	}
	return u, nil
}

// Manager returns the user's manager; ErrNotFound when they have none.
func (c *Client) Manager(ctx context.Context, userID string) (entitlement.User, error) {
	if err := needID("user id", userID); err != nil {
		return entitlement.User{}, err
	}
	var out entitlement.User
	err := c.call(ctx, "get manager of "+userID, func(ctx context.Context) error {
		m, err := c.get(ctx, c.base+"/users/"+url.PathEscape(userID)+"/manager", url.Values{"$select": {userSelect}}, models.CreateUserFromDiscriminatorValue)
		if err != nil {
			return err
		}
		u, _ := m.(models.Userable)
		out, err = c.readUser(u)
		return err
	})
	return out, err
}

// listDirectoryObjects reads a directoryObject collection of users (following nextLink), skipping non-users.
func (c *Client) listDirectoryObjects(ctx context.Context, rawURL string) ([]entitlement.User, error) {
	items, err := collectURL[models.Userable, models.UserCollectionResponseable](ctx, c, rawURL,
		url.Values{"$select": {userSelect}}, models.CreateUserCollectionResponseFromDiscriminatorValue, "collection")
	var out []entitlement.User
	for _, it := range items {
		if it == nil {
			continue
		}
		if t := str(it.GetOdataType()); t != "" && t != "#microsoft.graph.user" {
			continue
		}
		u, uerr := c.readUser(it)
		if uerr != nil {
			return nil, uerr
		}
		out = append(out, u)
	}
	return out, err
}

// GroupMembers returns the users that are direct members of a group.
func (c *Client) GroupMembers(ctx context.Context, groupID string) ([]entitlement.User, error) {
	return c.groupUsers(ctx, groupID, "members")
}

// TransitiveGroupMembers returns the users that are members of a group directly or through nested groups (as
// an access review's "/groups/{id}/transitiveMembers" reviewer query counts them).
func (c *Client) TransitiveGroupMembers(ctx context.Context, groupID string) ([]entitlement.User, error) {
	return c.groupUsers(ctx, groupID, "transitiveMembers")
}

// groupUsers lists the users of a group's members relation ("members" or "transitiveMembers").
func (c *Client) groupUsers(ctx context.Context, groupID, relation string) ([]entitlement.User, error) {
	if err := needID("group id", groupID); err != nil {
		return nil, err
	}
	var out []entitlement.User
	err := c.call(ctx, "list "+relation+" of group "+groupID, func(ctx context.Context) error {
		var err error
		out, err = c.listDirectoryObjects(ctx, c.base+"/groups/"+url.PathEscape(groupID)+"/"+relation)
		return err
	})
	return out, err
}

// IsMemberOf reports whether the user is a transitive member of the group.
func (c *Client) IsMemberOf(ctx context.Context, userID, groupID string) (bool, error) {
	if err := needID("user id", userID); err != nil {
		return false, err
	}
	if err := needID("group id", groupID); err != nil {
		return false, err
	}
	var found bool
	err := c.call(ctx, fmt.Sprintf("check membership of %s in group %s", userID, groupID), func(ctx context.Context) error {
		items, err := collectURL[models.DirectoryObjectable, models.DirectoryObjectCollectionResponseable](ctx, c,
			c.base+"/users/"+url.PathEscape(userID)+"/transitiveMemberOf", url.Values{"$select": {"id"}},
			models.CreateDirectoryObjectCollectionResponseFromDiscriminatorValue, "collection")
		for _, it := range items {
			if it != nil && strings.EqualFold(str(it.GetId()), groupID) {
				found = true
			}
		}
		return err
	})
	return found, err
}

// HasDirectoryRole reports whether the user holds one of the directory roles roleTemplateIDs through a
// direct, tenant-wide assignment. It reads GET /roleManagement/directory/roleAssignments?$filter=principalId
// eq '{userID}' (application permission RoleManagement.Read.Directory, the least privileged one): each
// unifiedRoleAssignment's roleDefinitionId is the role's template id for a built-in role and the
// definition id for a custom one. Only assignments with directoryScopeId "/" count; one scoped to an
// administrative unit or application does not make the user a tenant-wide role holder.
func (c *Client) HasDirectoryRole(ctx context.Context, userID string, roleTemplateIDs []string) (bool, error) {
	if err := needID("user id", userID); err != nil {
		return false, err
	}
	want := make(map[string]bool, len(roleTemplateIDs))
	for _, id := range roleTemplateIDs {
		id = strings.TrimSpace(id)
		if !isGUID(id) {
			return false, entitlement.Invalid("role template id", fmt.Sprintf("%q is not a GUID like 45d8d3c5-c802-45c6-b32a-1d70b5e1e86e", id))
		}
		want[strings.ToLower(id)] = true
	}
	if len(want) == 0 {
		return false, nil
	}
	var found bool
	err := c.call(ctx, "list directory role assignments of "+userID, func(ctx context.Context) error {
		items, err := collectURL[models.UnifiedRoleAssignmentable, models.UnifiedRoleAssignmentCollectionResponseable](ctx, c,
			c.base+"/roleManagement/directory/roleAssignments", url.Values{"$filter": {fmt.Sprintf("principalId eq '%s'", userID)}},
			models.CreateUnifiedRoleAssignmentCollectionResponseFromDiscriminatorValue, "unifiedRoleAssignment collection")
		if err != nil {
			return err
		}
		for _, a := range items {
			if a == nil || !strings.EqualFold(str(a.GetPrincipalId()), userID) || str(a.GetDirectoryScopeId()) != "/" {
				continue
			}
			if want[strings.ToLower(str(a.GetRoleDefinitionId()))] {
				found = true
				return nil
			}
		}
		return nil
	})
	return found, err
}

// TenantByDomain finds a tenant by one of its domains.
func (c *Client) TenantByDomain(ctx context.Context, domain string) (entitlement.TenantInfo, error) {
	domain = strings.ToLower(strings.TrimSpace(domain))
	if !isDomain(domain) {
		return entitlement.TenantInfo{}, entitlement.Invalid("domain", fmt.Sprintf("%q is not a domain name like fabrikam.example", domain))
	}
	var out entitlement.TenantInfo
	err := c.call(ctx, "find tenant by domain "+domain, func(ctx context.Context) error {
		m, err := c.get(ctx, c.base+"/tenantRelationships/findTenantInformationByDomainName(domainName='"+domain+"')", nil, models.CreateTenantInformationFromDiscriminatorValue)
		if err != nil {
			return err
		}
		ti, ok := m.(models.TenantInformationable)
		if !ok || ti == nil || str(ti.GetTenantId()) == "" {
			return fmt.Errorf("response has no tenantId")
		}
		out = entitlement.TenantInfo{TenantID: str(ti.GetTenantId()), DisplayName: str(ti.GetDisplayName()), DefaultDomain: str(ti.GetDefaultDomainName())}
		return nil
	})
	return out, err
}

// Invite invites an external user as a guest.
func (c *Client) Invite(ctx context.Context, in entitlement.NewInvitation) (entitlement.Invitation, error) {
	in.Email = strings.TrimSpace(in.Email)
	if !isEmail(in.Email) {
		return entitlement.Invitation{}, entitlement.Invalid("email", fmt.Sprintf("%q is not an email address", in.Email))
	}
	if u, err := url.Parse(in.RedirectURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return entitlement.Invitation{}, entitlement.Invalid("redirect URL", fmt.Sprintf("%q is not an absolute http(s) URL", in.RedirectURL))
	}
	body := models.NewInvitation()
	body.SetInvitedUserEmailAddress(&in.Email)
	body.SetInviteRedirectUrl(&in.RedirectURL)
	if in.DisplayName != "" {
		body.SetInvitedUserDisplayName(&in.DisplayName)
	}
	send := in.SendEmail
	body.SetSendInvitationMessage(&send)
	if in.Message != "" {
		info := models.NewInvitedUserMessageInfo()
		info.SetCustomizedMessageBody(&in.Message)
		body.SetInvitedUserMessageInfo(info)
	}
	var out entitlement.Invitation
	err := c.call(ctx, "invite "+in.Email, func(ctx context.Context) error {
		b := invitations.NewInvitationsRequestBuilderInternal(map[string]string{"baseurl": c.base}, c.adapter)
		m, err := b.Post(ctx, body, nil)
		if err != nil {
			return err
		}
		out = entitlement.Invitation{ID: str(m.GetId()), RedeemURL: str(m.GetInviteRedeemUrl()), Status: str(m.GetStatus()), Email: str(m.GetInvitedUserEmailAddress())}
		if u := m.GetInvitedUser(); u != nil {
			out.InvitedUserID = str(u.GetId())
		}
		return nil
	})
	return out, err
}

// InstallAppForUser installs the Teams app for the user; already installed (409) is success. teamsAppID may
// be the manifest id: an app published to the organization's catalog has a generated catalog id (its
// manifest id is the externalId), and Graph installs by catalog id, so the id is looked up first (cached).
func (c *Client) InstallAppForUser(ctx context.Context, userID, teamsAppID string) error {
	if err := needID("user id", userID); err != nil {
		return err
	}
	if err := needID("teams app id", teamsAppID); err != nil {
		return err
	}
	catalogID, err := c.teamsAppCatalogID(ctx, teamsAppID)
	if err != nil {
		return err
	}
	return c.call(ctx, fmt.Sprintf("install Teams app %s for %s", catalogID, userID), func(ctx context.Context) error {
		ri := abs.NewRequestInformation()
		ri.Method = abs.POST
		ri.SetUri(mustURL(c.base + "/users/" + url.PathEscape(userID) + "/teamwork/installedApps"))
		ri.Headers.TryAdd("Accept", "application/json")
		body := models.NewUserScopeTeamsAppInstallation()
		body.SetAdditionalData(map[string]any{"teamsApp@odata.bind": c.base + "/appCatalogs/teamsApps/" + catalogID})
		if err := ri.SetContentFromParsable(ctx, c.adapter, "application/json", body); err != nil {
			return fmt.Errorf("encode installation: %w", err)
		}
		err := c.adapter.SendNoContent(ctx, ri, errorMapping)
		if err != nil && statusOf(ctx) == http.StatusConflict {
			return nil
		}
		return err
	})
}

// teamsAppCatalogID returns the app catalog id of the app whose manifest id (externalId) is id, or id itself
// when the catalog has no such app (a store app, whose catalog id is its manifest id, or id already is a
// catalog id). When the catalog cannot be read for lack of permission (AppCatalog.Read.All), id is used as
// given and the problem is logged; other failures are returned.
func (c *Client) teamsAppCatalogID(ctx context.Context, id string) (string, error) {
	op := "look up Teams app " + id + " in the app catalog"
	catalogID, err := cached(c, "teamsapp:"+strings.ToLower(id), func() (string, error) {
		out := id
		err := c.call(ctx, op, func(ctx context.Context) error {
			m, err := c.get(ctx, c.base+"/appCatalogs/teamsApps", url.Values{"$filter": {fmt.Sprintf("externalId eq '%s'", id)}},
				models.CreateTeamsAppCollectionResponseFromDiscriminatorValue)
			if err != nil {
				return err
			}
			r, ok := m.(models.TeamsAppCollectionResponseable)
			if !ok {
				return fmt.Errorf("response is not a teamsApp collection")
			}
			for _, a := range r.GetValue() {
				if a != nil && str(a.GetId()) != "" {
					out = str(a.GetId())
					return nil
				}
			}
			return nil
		})
		return out, err
	})
	if errors.Is(err, entitlement.ErrForbidden) || errors.Is(err, entitlement.ErrNotFound) {
		c.log.Warn("Teams app catalog not readable; installing by the configured id (grant AppCatalog.Read.All if the app is published to the organization's catalog)",
			"op", op, "err", err.Error())
		return id, nil
	}
	return catalogID, err
}

// statusOf returns the HTTP status of the last exchange of the current call.
func statusOf(ctx context.Context) int {
	if ci, ok := ctx.Value(callInfoKey{}).(*callInfo); ok {
		return ci.status
	}
	return 0
}

type (
	absserParseNode = serialization.ParseNode
	absserParsable  = serialization.Parsable
)

// TeamWebURL returns a Team's webUrl, the "Get link to team" deep link that opens the team itself in the
// Teams client, in the right tenant (GET /teams/{id}, application permission Team.ReadBasic.All).
func (c *Client) TeamWebURL(ctx context.Context, teamID string) (string, error) {
	if err := needID("team id", teamID); err != nil {
		return "", err
	}
	var out string
	err := c.call(ctx, "get team "+teamID, func(ctx context.Context) error {
		m, err := c.get(ctx, c.base+"/teams/"+url.PathEscape(teamID), url.Values{"$select": {"id,displayName,webUrl"}},
			models.CreateTeamFromDiscriminatorValue)
		if err != nil {
			return err
		}
		t, ok := m.(models.Teamable)
		if !ok || t == nil {
			return fmt.Errorf("response is not a team")
		}
		out = str(t.GetWebUrl())
		return nil
	})
	return out, err
}
