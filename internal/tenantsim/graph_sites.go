package tenantsim

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// SharePoint sites and service principals (applications) of Contoso: what the package builder searches to add
// to a catalog (GET /sites?search=, GET /sites/{hostname}:/{path}, GET /servicePrincipals?$filter=startswith(…)).

// Seeded sites and applications besides the catalog's Falcon site and Falcon Portal.
const (
	// NorthwindSiteURL is the "Northwind Collaboration" SharePoint site (not in any catalog).
	NorthwindSiteURL = "https://contoso.sharepoint.com/sites/northwind-collab"
	// NorthwindExtranetSPID is the "Northwind Extranet" service principal (not in any catalog), app roles
	// Partner and Reviewer.
	NorthwindExtranetSPID = "dddddddd-0000-0000-0000-0000000000b2"
)

// site is a SharePoint site; its catalog roles are its default SharePoint groups ("{name} Owners/Members/Visitors").
type site struct {
	Ord         int64  `json:"ord"`
	ID          string `json:"id"`
	Name        string `json:"name"`
	DisplayName string `json:"displayName"`
	Description string `json:"description"`
	WebURL      string `json:"webUrl"`
}

// servicePrincipal is an application in the directory with the app roles users can be assigned.
type servicePrincipal struct {
	Ord         int64     `json:"ord"`
	ID          string    `json:"id"`
	AppID       string    `json:"appId"`
	DisplayName string    `json:"displayName"`
	Description string    `json:"description"`
	AppRoles    []appRole `json:"appRoles"`
}

type appRole struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
	Value       string `json:"value"`
	Description string `json:"description"`
}

// seedSitesAndApps adds Contoso's sites and service principals (if missing, e.g. in a state saved before them).
func seedSitesAndApps(w *world) {
	if w.Sites == nil {
		w.Sites = map[string]*site{}
	}
	if w.ServicePrincipals == nil {
		w.ServicePrincipals = map[string]*servicePrincipal{}
	}
	if len(w.Sites) > 0 || len(w.ServicePrincipals) > 0 {
		return
	}
	addSite := func(id, name, display, desc, webURL string) {
		w.Sites[id] = &site{Ord: w.nextOrd(), ID: id, Name: name, DisplayName: display, Description: desc, WebURL: webURL}
	}
	addSite("contoso.sharepoint.com,00000000-0000-0000-0000-00000000f001,00000000-0000-0000-0000-00000000f002",
		"falcon", "Falcon", "Project Falcon SharePoint site", falconSiteURL)
	addSite("contoso.sharepoint.com,00000000-0000-0000-0000-00000000f003,00000000-0000-0000-0000-00000000f004",
		"northwind-collab", "Northwind Collaboration", "Shared documents with Northwind", NorthwindSiteURL)
	w.ServicePrincipals[falconPortalApp] = &servicePrincipal{Ord: w.nextOrd(), ID: falconPortalApp,
		AppID: "dddddddd-0000-0000-0000-0000000000a1", DisplayName: "Falcon Portal", Description: "Project Falcon web portal",
		AppRoles: []appRole{{ID: "dddddddd-0000-0000-0000-0000000000c1", DisplayName: "User", Value: "Portal.User", Description: "Portal user"}}}
	w.ServicePrincipals[NorthwindExtranetSPID] = &servicePrincipal{Ord: w.nextOrd(), ID: NorthwindExtranetSPID,
		AppID: "dddddddd-0000-0000-0000-0000000000a2", DisplayName: "Northwind Extranet", Description: "Order tracking for Northwind",
		AppRoles: []appRole{
			{ID: "dddddddd-0000-0000-0000-0000000000c2", DisplayName: "Partner", Value: "Extranet.Partner", Description: "Partner user"},
			{ID: "dddddddd-0000-0000-0000-0000000000c3", DisplayName: "Reviewer", Value: "Extranet.Reviewer", Description: "Reviews partner orders"},
		}}
}

func renderSite(st *site) map[string]any {
	return map[string]any{"id": st.ID, "name": st.Name, "displayName": st.DisplayName, "description": st.Description, "webUrl": st.WebURL}
}

func renderServicePrincipal(sp *servicePrincipal) map[string]any {
	roles := make([]any, 0, len(sp.AppRoles))
	for _, r := range sp.AppRoles {
		roles = append(roles, map[string]any{"id": r.ID, "displayName": r.DisplayName, "value": r.Value, "description": r.Description,
			"allowedMemberTypes": []any{"User"}, "isEnabled": true, "origin": "Application"})
	}
	return map[string]any{"id": sp.ID, "appId": sp.AppID, "displayName": sp.DisplayName, "description": sp.Description, "appRoles": roles}
}

// siteByURL finds a site by its web URL (case-insensitive, trailing slash ignored).
func (s *Sim) siteByURL(webURL string) *site {
	want := strings.TrimRight(strings.ToLower(webURL), "/")
	for _, st := range s.w.Sites {
		if strings.TrimRight(strings.ToLower(st.WebURL), "/") == want {
			return st
		}
	}
	return nil
}

// dispatchSites serves GET /sites?search={text} and GET /sites/{hostname}:/{server-relative path}.
func (s *Sim) dispatchSites(g *gctx, seg []string) *graphErr {
	if g.r.Method != http.MethodGet {
		return methodNotAllowed(g.r)
	}
	if g.c.AppOnly && !slices.Contains(g.c.Roles, "Sites.Read.All") && !slices.Contains(g.c.Roles, "Sites.ReadWrite.All") {
		return errForbidden("Reading sites requires the Sites.Read.All application permission.")
	}
	if g.c.TenantID != ContosoTenantID {
		return errForbidden("Access denied: the sites of this tenant are not available.")
	}
	if len(seg) == 0 {
		if g.q.Search == "" {
			return errBadRequest("Listing sites needs a search: use ?search={text}.")
		}
		var items []item
		for _, st := range sortedBy(s.w.Sites, func(st *site) int64 { return st.Ord }) {
			items = append(items, sameItem(renderSite(st)))
		}
		s.writeCollection(g.w, g.r, g.q, "sites", items, "displayName", "name", "description", "webUrl")
		return nil
	}
	key, _ := url.PathUnescape(strings.Join(seg, "/"))
	if host, path, ok := strings.Cut(key, ":"); ok {
		key = "https://" + host + strings.TrimSuffix(path, ":")
	}
	st := s.siteByURL(key)
	if st == nil {
		st = s.w.Sites[key]
	}
	if st == nil {
		return errNotFound("site", key)
	}
	s.writeEntity(g.w, http.StatusOK, g.q, "sites", renderSite(st))
	return nil
}

// dispatchServicePrincipals serves GET /servicePrincipals (with $filter) and GET /servicePrincipals/{id}.
func (s *Sim) dispatchServicePrincipals(g *gctx, seg []string) *graphErr {
	if g.r.Method != http.MethodGet {
		return methodNotAllowed(g.r)
	}
	if g.c.AppOnly && !slices.Contains(g.c.Roles, "Application.Read.All") && !slices.Contains(g.c.Roles, "Directory.Read.All") {
		return errForbidden("Reading service principals requires the Application.Read.All application permission.")
	}
	if g.c.TenantID != ContosoTenantID {
		return errForbidden("Access denied: the service principals of this tenant are not available.")
	}
	if len(seg) == 0 {
		var items []item
		for _, sp := range sortedBy(s.w.ServicePrincipals, func(sp *servicePrincipal) int64 { return sp.Ord }) {
			items = append(items, sameItem(renderServicePrincipal(sp)))
		}
		s.writeCollection(g.w, g.r, g.q, "servicePrincipals", items)
		return nil
	}
	sp := s.w.ServicePrincipals[seg[0]]
	if sp == nil || len(seg) > 1 {
		return errNotFound("servicePrincipal", seg[0])
	}
	s.writeEntity(g.w, http.StatusOK, g.q, "servicePrincipals", renderServicePrincipal(sp))
	return nil
}
