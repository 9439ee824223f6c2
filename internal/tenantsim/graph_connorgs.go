package tenantsim

import (
	"net/http"
	"slices"
	"strings"
)

func (s *Sim) connectedOrgItems() []item {
	var items []item
	for _, co := range sortedBy(s.w.ConnectedOrgs, func(c *connectedOrg) int64 { return c.Ord }) {
		items = append(items, sameItem(s.renderConnectedOrg(co)))
	}
	return items
}

func (s *Sim) emConnectedOrgs(g *gctx, seg []string) *graphErr {
	const ctx = emCtx + "connectedOrganizations"
	if len(seg) == 0 {
		switch g.r.Method {
		case http.MethodGet:
			s.writeCollection(g.w, g.r, g.q, ctx, s.connectedOrgItems())
			return nil
		case http.MethodPost:
			return s.createConnectedOrg(g)
		}
		return methodNotAllowed(g.r)
	}
	co := s.w.ConnectedOrgs[seg[0]]
	if co == nil {
		return errNotFound("connectedOrganization", seg[0])
	}
	if len(seg) == 1 {
		switch g.r.Method {
		case http.MethodGet:
			s.writeEntity(g.w, http.StatusOK, g.q, ctx, s.renderConnectedOrg(co))
			return nil
		case http.MethodPatch:
			return s.updateConnectedOrg(g, co)
		case http.MethodDelete:
			if !s.isEMAdmin(g.c) {
				return errNotAdmin()
			}
			for _, p := range s.w.Policies {
				for _, t := range p.SpecificTargets {
					if t.ConnectedOrg == co.ID {
						return errBadRequest("Connected organization '%s' is used by policy '%s'; remove it from the policy first.", co.DisplayName, p.DisplayName)
					}
				}
			}
			delete(s.w.ConnectedOrgs, co.ID)
			g.mutated = true
			g.w.WriteHeader(http.StatusNoContent)
			return nil
		}
		return methodNotAllowed(g.r)
	}
	var list *[]string
	switch strings.ToLower(seg[1]) {
	case "internalsponsors":
		list = &co.InternalSponsors
	case "externalsponsors":
		list = &co.ExternalSponsors
	default:
		return errNotFound("segment", strings.Join(seg, "/"))
	}
	switch {
	case len(seg) == 2 && g.r.Method == http.MethodGet:
		var users []*user
		for _, id := range *list {
			if u := s.w.Users[id]; u != nil {
				users = append(users, u)
			}
		}
		s.writeCollection(g.w, g.r, g.q, "directoryObjects", s.userItems(users, g.q))
		return nil
	case len(seg) == 3 && seg[2] == "$ref" && g.r.Method == http.MethodPost:
		if !s.isEMAdmin(g.c) {
			return errNotAdmin()
		}
		body, gerr := readJSONObject(g.r)
		if gerr != nil {
			return gerr
		}
		ref := jstr(body, "@odata.id")
		if ref == "" {
			return errBadRequest("The request body must contain '@odata.id' referencing a user, e.g. https://graph.microsoft.com/v1.0/users/{id}.")
		}
		id := strings.Trim(ref[strings.LastIndex(ref, "/")+1:], "'()")
		if strings.Contains(ref, "directoryObjects('") || strings.Contains(ref, "users('") {
			if i := strings.Index(ref, "('"); i >= 0 {
				id = strings.TrimSuffix(ref[i+2:], "')")
			}
		}
		u := s.w.Users[id]
		if u == nil {
			return errBadRequest("The referenced user '%s' does not exist.", id)
		}
		if strings.EqualFold(seg[1], "internalSponsors") && u.TenantID != ContosoTenantID {
			return errBadRequest("Internal sponsors must be users of this directory; '%s' is not.", id)
		}
		if slices.Contains(*list, id) {
			return errBadRequest("One or more added object references already exist for the following modified properties: '%s'.", seg[1])
		}
		*list = append(*list, id)
		g.mutated = true
		g.w.WriteHeader(http.StatusNoContent)
		return nil
	case len(seg) == 4 && seg[3] == "$ref" && g.r.Method == http.MethodDelete:
		if !s.isEMAdmin(g.c) {
			return errNotAdmin()
		}
		if !slices.Contains(*list, seg[2]) {
			return errNotFound("sponsor", seg[2])
		}
		*list = slices.DeleteFunc(*list, func(id string) bool { return id == seg[2] })
		g.mutated = true
		g.w.WriteHeader(http.StatusNoContent)
		return nil
	}
	return methodNotAllowed(g.r)
}

func (s *Sim) createConnectedOrg(g *gctx) *graphErr {
	if !s.isEMAdmin(g.c) {
		return errNotAdmin()
	}
	body, gerr := readJSONObject(g.r)
	if gerr != nil {
		return gerr
	}
	name := strings.TrimSpace(jstr(body, "displayName"))
	if name == "" {
		return errBadRequest("displayName is required.")
	}
	srcs := jarr(body, "identitySources")
	if len(srcs) != 1 {
		return errBadRequest("identitySources must contain exactly one identity source (got %d).", len(srcs))
	}
	src, _ := srcs[0].(map[string]any)
	co := &connectedOrg{Ord: s.w.nextOrd(), ID: newID(), DisplayName: name, Description: jstr(body, "description"),
		State: "configured", Created: s.now(), Modified: s.now()}
	if st := jstr(body, "state"); st != "" {
		if st != "configured" && st != "proposed" {
			return errBadRequest("state %q is not valid; expected 'configured' or 'proposed'.", st)
		}
		co.State = st
	}
	switch typ := strings.TrimPrefix(jstr(src, "@odata.type"), "#"); typ {
	case "microsoft.graph.azureActiveDirectoryTenant":
		tid := jstr(src, "tenantId")
		t := s.tenantByID(tid)
		if t == nil {
			return errBadRequest("identitySources[0].tenantId '%s' is not a known tenant.", tid)
		}
		if t.ID == ContosoTenantID {
			return errBadRequest("A tenant cannot be a connected organization of itself.")
		}
		co.SourceType, co.SourceTenantID, co.SourceName = "azureActiveDirectoryTenant", t.ID, jstr(src, "displayName")
		if co.SourceName == "" {
			co.SourceName = t.Name
		}
	case "microsoft.graph.domainIdentitySource":
		d := strings.ToLower(jstr(src, "domainName"))
		if d == "" {
			return errBadRequest("identitySources[0].domainName is required for a domainIdentitySource.")
		}
		co.SourceType, co.SourceDomain, co.SourceName = "domainIdentitySource", d, jstr(src, "displayName")
		if t := s.tenantOfDomain(d); t != nil {
			co.SourceType, co.SourceTenantID, co.SourceName = "azureActiveDirectoryTenant", t.ID, t.Name
		}
	default:
		return errBadRequest("identitySources[0] has unsupported @odata.type %q; expected #microsoft.graph.azureActiveDirectoryTenant or #microsoft.graph.domainIdentitySource.", jstr(src, "@odata.type"))
	}
	for _, o := range s.w.ConnectedOrgs {
		if (co.SourceTenantID != "" && o.SourceTenantID == co.SourceTenantID) || (co.SourceDomain != "" && o.SourceDomain == co.SourceDomain) {
			return &graphErr{Status: http.StatusConflict, Code: "Conflict", Message: "A connected organization for this identity source already exists: " + o.ID + "."}
		}
	}
	s.w.ConnectedOrgs[co.ID] = co
	g.mutated = true
	g.w.Header().Set("Location", s.graphBase()+"/"+emCtx+"connectedOrganizations/"+co.ID)
	s.writeEntity(g.w, http.StatusCreated, nil, emCtx+"connectedOrganizations", s.renderConnectedOrg(co))
	return nil
}

func (s *Sim) updateConnectedOrg(g *gctx, co *connectedOrg) *graphErr {
	if !s.isEMAdmin(g.c) {
		return errNotAdmin()
	}
	body, gerr := readJSONObject(g.r)
	if gerr != nil {
		return gerr
	}
	next := *co
	if v, ok := jget(body, "displayName"); ok {
		n, _ := v.(string)
		if strings.TrimSpace(n) == "" {
			return errBadRequest("displayName cannot be empty.")
		}
		next.DisplayName = n
	}
	if v, ok := jget(body, "description"); ok {
		next.Description, _ = v.(string)
	}
	if v, ok := jget(body, "state"); ok {
		st, _ := v.(string)
		if st != "configured" && st != "proposed" {
			return errBadRequest("state %q is not valid; expected 'configured' or 'proposed'.", st)
		}
		next.State = st
	}
	next.Modified = s.now()
	*co = next
	g.mutated = true
	g.w.WriteHeader(http.StatusNoContent)
	return nil
}
