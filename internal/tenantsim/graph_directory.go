package tenantsim

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"time"
)

// findUser resolves an id or userPrincipalName within a tenant.
func (s *Sim) findUser(tid, key string) *user {
	if u := s.w.Users[key]; u != nil && u.TenantID == tid {
		return u
	}
	for _, u := range s.w.Users {
		if u.TenantID == tid && strings.EqualFold(u.UPN, key) {
			return u
		}
	}
	return nil
}

func userNotFound(key string) *graphErr {
	return &graphErr{Status: http.StatusNotFound, Code: "Request_ResourceNotFound",
		Message: fmt.Sprintf("Resource '%s' does not exist or one of its queried reference-property objects are not present.", key)}
}

// defaultUserProps are the properties Graph returns for a user without
// $select; everything else (userType, accountEnabled, externalUserState, …)
// must be selected explicitly, as on Graph.
var defaultUserProps = []string{"@odata.type", "id", "businessPhones", "displayName", "givenName", "jobTitle", "mail",
	"mobilePhone", "officeLocation", "preferredLanguage", "surname", "userPrincipalName"}

// userView renders a user as Graph does for the query: the default property
// set unless $select names others.
func (s *Sim) userView(u *user, q *query) map[string]any {
	full := s.renderUser(u)
	if q != nil && q.Select != nil {
		return full
	}
	out := make(map[string]any, len(defaultUserProps))
	for _, k := range defaultUserProps {
		out[k] = full[k]
	}
	return out
}

func (s *Sim) userItems(users []*user, q *query) []item {
	items := make([]item, 0, len(users))
	for _, u := range users {
		items = append(items, item{full: s.renderUser(u), view: func() map[string]any { return s.userView(u, q) }})
	}
	return items
}

func (s *Sim) dispatchUsers(g *gctx, seg []string) *graphErr {
	tid := g.c.TenantID
	if len(seg) == 0 {
		if g.r.Method != http.MethodGet {
			return methodNotAllowed(g.r)
		}
		var users []*user
		for _, u := range sortedBy(s.w.Users, func(u *user) int64 { return u.Ord }) {
			if u.TenantID == tid {
				users = append(users, u)
			}
		}
		s.writeCollection(g.w, g.r, g.q, "users", s.userItems(users, g.q), "displayName", "mail", "userPrincipalName")
		return nil
	}
	u := s.findUser(tid, seg[0])
	if u == nil {
		return userNotFound(seg[0])
	}
	if len(seg) == 1 {
		if g.r.Method != http.MethodGet {
			return methodNotAllowed(g.r)
		}
		s.writeEntity(g.w, http.StatusOK, g.q, "users", s.userView(u, g.q))
		return nil
	}
	switch strings.ToLower(seg[1]) {
	case "manager":
		m := s.w.Users[u.ManagerID]
		if u.ManagerID == "" || m == nil {
			return &graphErr{Status: http.StatusNotFound, Code: "Request_ResourceNotFound",
				Message: "Resource 'manager' does not exist or one of its queried reference-property objects are not present."}
		}
		s.writeEntity(g.w, http.StatusOK, g.q, "directoryObjects", s.userView(m, g.q))
		return nil
	case "memberof", "transitivememberof":
		var items []item
		for _, gr := range sortedBy(s.w.Groups, func(g *group) int64 { return g.Ord }) {
			if gr.TenantID == tid && slices.Contains(gr.Members, u.ID) {
				items = append(items, sameItem(s.renderGroup(gr)))
			}
		}
		s.writeCollection(g.w, g.r, g.q, "directoryObjects", items)
		return nil
	case "teamwork":
		if len(seg) >= 3 && strings.EqualFold(seg[2], "installedApps") {
			return s.installedApps(g, u, seg[3:])
		}
	}
	return errNotFound("segment", strings.Join(seg, "/"))
}

func installationID(userID, appID string) string {
	return base64.StdEncoding.EncodeToString([]byte(userID + "##" + appID))
}

func (s *Sim) renderInstallation(u *user, ia installedApp, expand bool) map[string]any {
	m := map[string]any{"id": installationID(u.ID, ia.TeamsAppID), "consentedPermissionSet": nil}
	if expand {
		app := s.renderTeamsApp(ia.TeamsAppID)
		m["teamsApp"] = app
		m["teamsAppDefinition"] = map[string]any{"id": base64.StdEncoding.EncodeToString([]byte(ia.TeamsAppID + "##1.0.0")), "teamsAppId": ia.TeamsAppID, "displayName": app["displayName"], "version": "1.0.0"}
	}
	return m
}

// renderTeamsApp is a catalog app, or for an id the catalog does not hold (installed before the catalog
// existed, or a store app the simulator does not list) a store app whose id is its manifest id.
func (s *Sim) renderTeamsApp(id string) map[string]any {
	if a := s.w.TeamsApps[id]; a != nil {
		return map[string]any{"id": a.ID, "externalId": a.ExternalID, "displayName": a.DisplayName, "distributionMethod": a.DistributionMethod}
	}
	return map[string]any{"id": id, "externalId": nil, "displayName": "AccessBot", "distributionMethod": "store"}
}

// appCatalog serves appCatalogs/teamsApps (list with $filter, e.g. externalId eq '{manifest id}', and get).
func (s *Sim) appCatalog(g *gctx, seg []string) *graphErr {
	if len(seg) == 0 || !strings.EqualFold(seg[0], "teamsApps") || len(seg) > 2 {
		return errNotFound("segment", "appCatalogs/"+strings.Join(seg, "/"))
	}
	if g.r.Method != http.MethodGet {
		return methodNotAllowed(g.r)
	}
	if g.c.AppOnly && !slices.Contains(g.c.Roles, "AppCatalog.Read.All") && !slices.Contains(g.c.Roles, "AppCatalog.ReadWrite.All") {
		return errForbidden("Listing the Teams app catalog requires the AppCatalog.Read.All application permission.")
	}
	if len(seg) == 2 {
		a := s.w.TeamsApps[seg[1]]
		if a == nil {
			return errNotFound("teamsApp", seg[1])
		}
		s.writeEntity(g.w, http.StatusOK, g.q, "appCatalogs/teamsApps", s.renderTeamsApp(a.ID))
		return nil
	}
	var items []item
	for _, a := range sortedBy(s.w.TeamsApps, func(a *teamsApp) int64 { return a.Ord }) {
		items = append(items, sameItem(s.renderTeamsApp(a.ID)))
	}
	s.writeCollection(g.w, g.r, g.q, "appCatalogs/teamsApps", items)
	return nil
}

func (s *Sim) installedApps(g *gctx, u *user, rest []string) *graphErr {
	if !g.c.AppOnly && g.c.OID != u.ID {
		return errForbidden("A delegated caller can only manage apps installed for the signed-in user.")
	}
	ctxPath := fmt.Sprintf("users('%s')/teamwork/installedApps", u.ID)
	if len(rest) == 1 {
		for _, ia := range u.InstalledApps {
			if installationID(u.ID, ia.TeamsAppID) != rest[0] {
				continue
			}
			switch g.r.Method {
			case http.MethodGet:
				s.writeEntity(g.w, http.StatusOK, g.q, ctxPath, s.renderInstallation(u, ia, g.q.expands("teamsApp") || g.q.expands("teamsAppDefinition")))
			case http.MethodDelete:
				u.InstalledApps = slices.DeleteFunc(u.InstalledApps, func(x installedApp) bool { return x.TeamsAppID == ia.TeamsAppID })
				g.mutated = true
				g.w.WriteHeader(http.StatusNoContent)
			default:
				return methodNotAllowed(g.r)
			}
			return nil
		}
		return errNotFound("userScopeTeamsAppInstallation", rest[0])
	}
	if len(rest) > 1 {
		return errNotFound("segment", strings.Join(rest, "/"))
	}
	switch g.r.Method {
	case http.MethodGet:
		var items []item
		for _, ia := range u.InstalledApps {
			items = append(items, item{full: s.renderInstallation(u, ia, true), view: func() map[string]any {
				return s.renderInstallation(u, ia, g.q.expands("teamsApp") || g.q.expands("teamsAppDefinition"))
			}})
		}
		s.writeCollection(g.w, g.r, g.q, ctxPath, items)
		return nil
	case http.MethodPost:
		body, gerr := readJSONObject(g.r)
		if gerr != nil {
			return gerr
		}
		bind := jstr(body, "teamsApp@odata.bind")
		if bind == "" {
			return errBadRequest("The request body must contain 'teamsApp@odata.bind' (e.g. https://graph.microsoft.com/v1.0/appCatalogs/teamsApps/{id}).")
		}
		var appID string
		if i := strings.LastIndex(bind, "/teamsApps/"); i >= 0 {
			appID = strings.Trim(bind[i+len("/teamsApps/"):], "/")
		} else if i := strings.LastIndex(bind, "/teamsApps('"); i >= 0 && strings.HasSuffix(bind, "')") {
			appID = bind[i+len("/teamsApps('") : len(bind)-2]
		} else {
			return errBadRequest("'teamsApp@odata.bind' must reference appCatalogs/teamsApps/{id}, got %q.", bind)
		}
		if appID == "" {
			return errBadRequest("'teamsApp@odata.bind' has an empty app id.")
		}
		for _, a := range s.w.TeamsApps {
			if strings.EqualFold(a.ExternalID, appID) && !strings.EqualFold(a.ID, appID) {
				// Like Graph: an organization app is installed by its catalog id; its manifest id is unknown here.
				return &graphErr{Status: http.StatusNotFound, Code: "NotFound",
					Message: fmt.Sprintf("The teamsApp '%s' was not found in the app catalog. Apps published to the organization's catalog are installed by their catalog id (appCatalogs/teamsApps?$filter=externalId eq '%s').", appID, appID)}
			}
		}
		for _, ia := range u.InstalledApps {
			if strings.EqualFold(ia.TeamsAppID, appID) {
				return errConflict("The app '%s' is already installed for user '%s'.", appID, u.ID)
			}
		}
		u.InstalledApps = append(u.InstalledApps, installedApp{ID: installationID(u.ID, appID), TeamsAppID: appID, Installed: s.now()})
		g.mutated = true
		g.w.Header().Set("Location", s.graphBase()+"/"+ctxPath+"/"+installationID(u.ID, appID))
		g.w.WriteHeader(http.StatusCreated)
		return nil
	}
	return methodNotAllowed(g.r)
}

func (s *Sim) dispatchGroups(g *gctx, seg []string) *graphErr {
	tid := g.c.TenantID
	if g.r.Method != http.MethodGet {
		return methodNotAllowed(g.r)
	}
	if len(seg) == 0 {
		var items []item
		for _, gr := range sortedBy(s.w.Groups, func(g *group) int64 { return g.Ord }) {
			if gr.TenantID == tid {
				items = append(items, sameItem(s.renderGroup(gr)))
			}
		}
		s.writeCollection(g.w, g.r, g.q, "groups", items)
		return nil
	}
	gr := s.w.Groups[seg[0]]
	if gr == nil || gr.TenantID != tid {
		return userNotFound(seg[0])
	}
	if len(seg) == 1 {
		s.writeEntity(g.w, http.StatusOK, g.q, "groups", s.renderGroup(gr))
		return nil
	}
	switch strings.ToLower(seg[1]) {
	case "members", "transitivemembers":
		var users []*user
		for _, id := range gr.Members {
			if u := s.w.Users[id]; u != nil {
				users = append(users, u)
			}
		}
		s.writeCollection(g.w, g.r, g.q, "directoryObjects", s.userItems(users, g.q), "displayName", "mail")
		return nil
	}
	return errNotFound("segment", strings.Join(seg, "/"))
}

func (s *Sim) renderInvitation(inv *invitation) map[string]any {
	return map[string]any{
		"id": inv.ID, "inviteRedeemUrl": s.opts.BaseURL + "/_sim/redeem/" + inv.ID,
		"invitedUserDisplayName": nilIfEmpty(inv.DisplayName), "invitedUserEmailAddress": inv.Email,
		"invitedUserType": inv.UserType, "inviteRedirectUrl": inv.RedirectURL, "sendInvitationMessage": false,
		"resetRedemption": false, "status": inv.Status,
		"invitedUser":            map[string]any{"id": inv.UserID},
		"invitedUserMessageInfo": map[string]any{"messageLanguage": nil, "customizedMessageBody": nil, "ccRecipients": []any{}},
	}
}

func (s *Sim) createInvitation(g *gctx) *graphErr {
	body, gerr := readJSONObject(g.r)
	if gerr != nil {
		return gerr
	}
	email := strings.TrimSpace(jstr(body, "invitedUserEmailAddress"))
	if email == "" {
		return errBadRequest("The property 'invitedUserEmailAddress' is required.")
	}
	if _, err := mail.ParseAddress(email); err != nil || strings.ContainsAny(email, " <>") {
		return errBadRequest("The property 'invitedUserEmailAddress' is not a valid email address: %q.", email)
	}
	redirect := jstr(body, "inviteRedirectUrl")
	if redirect == "" {
		return errBadRequest("The property 'inviteRedirectUrl' is required.")
	}
	tid := g.c.TenantID
	var guest *user
	for _, u := range s.w.Users {
		if u.TenantID == tid && strings.EqualFold(u.Mail, email) {
			guest = u
		}
	}
	if guest != nil && guest.UserType != "Guest" {
		return errBadRequest("The invited user %s already exists as a member of this directory.", email)
	}
	now := s.now()
	if guest == nil {
		display := jstr(body, "invitedUserDisplayName")
		homeTID, homeOID := "", ""
		if t, home := s.homeOfEmail(email); t != nil {
			homeTID = t.ID
			if home != nil {
				homeOID = home.ID
				if display == "" {
					display = home.DisplayName
				}
			}
		}
		if display == "" {
			display = email
		}
		guest = s.newGuest(tid, display, email, homeTID, homeOID, now)
	}
	inv := &invitation{Ord: s.w.nextOrd(), ID: newID(), Email: email, DisplayName: guest.DisplayName, UserID: guest.ID,
		RedirectURL: redirect, UserType: "Guest", Status: "PendingAcceptance"}
	if guest.ExternalUserState == "Accepted" {
		inv.Status = "Completed"
	}
	s.w.Invitations[inv.ID] = inv
	g.mutated = true
	s.writeEntity(g.w, http.StatusCreated, g.q, "invitations", s.renderInvitation(inv))
	return nil
}

func (s *Sim) getOrganization(g *gctx) *graphErr {
	t := s.tenantByID(g.c.TenantID)
	doms := []any{}
	for i, d := range t.Domains {
		doms = append(doms, map[string]any{"name": d, "isDefault": i == len(t.Domains)-1, "isInitial": i == 0, "type": "Managed", "capabilities": "Email, OfficeCommunicationsOnline"})
	}
	org := map[string]any{"id": t.ID, "displayName": t.Name, "tenantType": "AAD", "verifiedDomains": doms}
	s.writeCollection(g.w, g.r, g.q, "organization", []item{{full: org, view: func() map[string]any { return org }}})
	return nil
}

func (s *Sim) tenantInfo(t *tenant) map[string]any {
	return map[string]any{
		"@odata.context":      s.graphBase() + "/$metadata#microsoft.graph.tenantInformation",
		"tenantId":            t.ID,
		"federationBrandName": nil,
		"displayName":         t.Name,
		"defaultDomainName":   t.Domains[0],
	}
}

func (s *Sim) findTenantByDomain(g *gctx, domain string) *graphErr {
	if domain == "" {
		return errBadRequest("The function parameter 'domainName' is required.")
	}
	t := s.tenantOfDomain(domain)
	if t == nil {
		return &graphErr{Status: http.StatusNotFound, Code: "Request_ResourceNotFound", Message: fmt.Sprintf("No tenant was found for the domain '%s'.", domain)}
	}
	writeJSON(g.w, http.StatusOK, s.tenantInfo(t))
	return nil
}

func (s *Sim) findTenantByID(g *gctx, id string) *graphErr {
	t := s.tenantByID(id)
	if t == nil {
		return &graphErr{Status: http.StatusNotFound, Code: "Request_ResourceNotFound", Message: fmt.Sprintf("No tenant was found with id '%s'.", id)}
	}
	writeJSON(g.w, http.StatusOK, s.tenantInfo(t))
	return nil
}

// redeem marks the invitation's guest as Accepted (the browser-facing redemption URL).
func (s *Sim) redeem(id string, now time.Time) (*user, *tenant, bool) {
	inv := s.w.Invitations[id]
	if inv == nil {
		return nil, nil, false
	}
	u := s.w.Users[inv.UserID]
	if u == nil {
		return nil, nil, false
	}
	t := now
	u.ExternalUserState, u.ExternalStateAt = "Accepted", &t
	inv.Status = "Completed"
	return u, s.tenantByID(u.TenantID), true
}

// dispatchTeams serves GET /teams/{id} (Graph v1.0 "Get team", Team.ReadBasic.All): a group of the caller's
// tenant that is a Team, with its webUrl, the "Get link to team" deep link that carries the tenant. Another
// group or an unknown id is 404 as in Graph.
func (s *Sim) dispatchTeams(g *gctx, seg []string) *graphErr {
	if g.r.Method != http.MethodGet {
		return methodNotAllowed(g.r)
	}
	if len(seg) != 1 {
		return errNotFound("segment", strings.Join(seg, "/"))
	}
	gr := s.w.Groups[seg[0]]
	if gr == nil || gr.TenantID != g.c.TenantID || !gr.IsTeam {
		return &graphErr{Status: http.StatusNotFound, Code: "NotFound", Message: "No team found with Group Id " + seg[0]}
	}
	s.writeEntity(g.w, http.StatusOK, g.q, "teams", renderTeam(gr))
	return nil
}

// renderTeam is a team resource; its thread id is derived from the group id, as stable as Teams' own.
func renderTeam(gr *group) map[string]any {
	thread := "19:" + strings.ReplaceAll(gr.ID, "-", "") + "@thread.tacv2"
	web := "https://teams.microsoft.com/l/team/" + url.QueryEscape(thread) + "/conversations?groupId=" +
		url.QueryEscape(gr.ID) + "&tenantId=" + url.QueryEscape(gr.TenantID)
	return map[string]any{"id": gr.ID, "displayName": gr.DisplayName, "description": nilIfEmpty(gr.Description),
		"internalId": thread, "classification": nil, "specialization": "none", "visibility": "private",
		"webUrl": web, "isArchived": false}
}
