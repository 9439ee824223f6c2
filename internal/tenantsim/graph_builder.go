package tenantsim

import (
	"net/http"
	"slices"
	"strings"
)

// Entitlement management writes of the package builder (issue 12): create catalogs, add resources to a
// catalog (resourceRequests adminAdd), create/update/delete access packages, add resource role scopes and
// incompatible packages/groups ($ref). Each keeps Graph's validation: missing or unknown references are
// 400 with a message naming the property, as Graph answers.

// emCatalogWrites handles POST catalogs; false when the request is not one of its writes.
func (s *Sim) emCatalogWrites(g *gctx, seg []string) (bool, *graphErr) {
	if len(seg) == 1 && g.r.Method == http.MethodDelete {
		return true, s.adminOnly(g, func(g *gctx) *graphErr { return s.deleteCatalog(g, seg[0]) })
	}
	if len(seg) != 0 || g.r.Method != http.MethodPost {
		return false, nil
	}
	if !s.isEMAdmin(g.c) {
		return true, errNotAdmin()
	}
	body, gerr := readJSONObject(g.r)
	if gerr != nil {
		return true, gerr
	}
	name := strings.TrimSpace(jstr(body, "displayName"))
	if name == "" {
		return true, errBadRequest("The property 'displayName' is required to create an accessPackageCatalog.")
	}
	visible := true
	if v, ok := jget(body, "isExternallyVisible"); ok {
		b, isBool := v.(bool)
		if !isBool {
			return true, errBadRequest("The property 'isExternallyVisible' must be a boolean.")
		}
		visible = b
	}
	c := &catalog{Ord: s.w.nextOrd(), ID: newID(), DisplayName: name, Description: jstr(body, "description"),
		CatalogType: "userManaged", State: "published", IsExternallyVisible: visible, Created: s.now()}
	if st := jstr(body, "state"); st != "" {
		if st != "published" && st != "unpublished" {
			return true, errBadRequest("The value '%s' of property 'state' is not valid; expected 'published' or 'unpublished'.", st)
		}
		c.State = st
	}
	s.w.Catalogs[c.ID] = c
	g.mutated = true
	s.writeEntity(g.w, http.StatusCreated, g.q, emCtx+"catalogs", s.renderCatalog(c))
	return true, nil
}

// deleteCatalog deletes a catalog without access packages, with its resources.
func (s *Sim) deleteCatalog(g *gctx, id string) *graphErr {
	c := s.w.Catalogs[id]
	if c == nil {
		return errNotFound("accessPackageCatalog", id)
	}
	for _, p := range s.w.Packages {
		if p.CatalogID == id {
			return &graphErr{Status: http.StatusBadRequest, Code: "CatalogHasAccessPackages",
				Message: "The catalog '" + c.DisplayName + "' cannot be deleted because it contains access packages. Delete them first."}
		}
	}
	for rid, r := range s.w.Resources {
		if r.CatalogID == id {
			delete(s.w.Resources, rid)
		}
	}
	delete(s.w.Catalogs, id)
	g.mutated = true
	g.w.WriteHeader(http.StatusNoContent)
	return nil
}

// emResourceRequests handles POST resourceRequests (adminAdd only).
func (s *Sim) emResourceRequests(g *gctx, seg []string) *graphErr {
	if len(seg) != 0 || g.r.Method != http.MethodPost {
		return methodNotAllowed(g.r)
	}
	if !s.isEMAdmin(g.c) {
		return errNotAdmin()
	}
	body, gerr := readJSONObject(g.r)
	if gerr != nil {
		return gerr
	}
	if rt := jstr(body, "requestType"); rt != "adminAdd" {
		return errBadRequest("The value '%s' of property 'requestType' is not supported; use 'adminAdd' to add a resource to a catalog.", rt)
	}
	cat := s.w.Catalogs[jstr(jobj(body, "catalog"), "id")]
	if cat == nil {
		return errBadRequest("The property 'catalog' must reference an existing catalog by id.")
	}
	res := jobj(body, "resource")
	originID, originSystem := strings.TrimSpace(jstr(res, "originId")), jstr(res, "originSystem")
	if originID == "" {
		return errBadRequest("The property 'resource.originId' is required.")
	}
	for _, r := range s.w.Resources {
		if r.CatalogID == cat.ID && strings.EqualFold(r.OriginID, originID) {
			return &graphErr{Status: http.StatusBadRequest, Code: "ResourceAlreadyOnboarded",
				Message: "The resource '" + originID + "' is already in the catalog '" + cat.DisplayName + "'."}
		}
	}
	r, gerr := s.newCatalogResource(cat.ID, originSystem, originID, jstr(res, "displayName"))
	if gerr != nil {
		return gerr
	}
	s.w.Resources[r.ID] = r
	g.mutated = true
	writeJSON(g.w, http.StatusCreated, map[string]any{
		"@odata.context": s.graphBase() + "/$metadata#" + emCtx + "resourceRequests/$entity",
		"id":             newID(), "requestType": "adminAdd", "state": "delivered",
	})
	return nil
}

// newCatalogResource describes a directory object as a catalog resource with the roles Entra offers for it.
func (s *Sim) newCatalogResource(catalogID, originSystem, originID, name string) (*resource, *graphErr) {
	r := &resource{Ord: s.w.nextOrd(), ID: newID(), CatalogID: catalogID, OriginID: originID,
		OriginSystem: originSystem, ScopeID: newID(), Created: s.now()}
	switch originSystem {
	case "AadGroup":
		gr := s.w.Groups[originID]
		if gr == nil || gr.TenantID != ContosoTenantID {
			return nil, errBadRequest("The group '%s' referenced by 'resource.originId' does not exist in this directory.", originID)
		}
		r.DisplayName, r.Description = gr.DisplayName, gr.Description
		r.Roles = []resourceRole{
			{ID: newID(), DisplayName: "Member", Description: "Member of the group", OriginID: "Member_" + gr.ID},
			{ID: newID(), DisplayName: "Owner", Description: "Owner of the group", OriginID: "Owner_" + gr.ID},
		}
	case "SharePointOnline":
		st := s.siteByURL(originID)
		if st == nil {
			return nil, errBadRequest("A SharePoint Online resource needs the URL of an existing site as 'resource.originId'; no site has the URL '%s'.", originID)
		}
		r.OriginID, r.DisplayName, r.Description = st.WebURL, st.DisplayName, st.Description
		r.Roles = []resourceRole{
			{ID: newID(), DisplayName: st.DisplayName + " Owners", Description: "Owner", OriginID: "3"},
			{ID: newID(), DisplayName: st.DisplayName + " Visitors", Description: "Visitor", OriginID: "4"},
			{ID: newID(), DisplayName: st.DisplayName + " Members", Description: "Member", OriginID: "5"},
		}
	case "AadApplication":
		sp := s.w.ServicePrincipals[originID]
		if sp == nil {
			return nil, errBadRequest("The service principal '%s' referenced by 'resource.originId' does not exist in this directory.", originID)
		}
		r.DisplayName, r.Description = sp.DisplayName, sp.Description
		r.Roles = []resourceRole{{ID: newID(), DisplayName: "Default Access", Description: "Default access", OriginID: "00000000-0000-0000-0000-000000000000"}}
		for _, ar := range sp.AppRoles {
			r.Roles = append(r.Roles, resourceRole{ID: newID(), DisplayName: ar.DisplayName, Description: ar.Description, OriginID: ar.ID})
		}
	default:
		return nil, errBadRequest("The value '%s' of 'resource.originSystem' is not valid; expected AadGroup, SharePointOnline or AadApplication.", originSystem)
	}
	return r, nil
}

// emPackageWrites handles POST accessPackages, PATCH/DELETE accessPackages/{id}, POST and DELETE resourceRoleScopes
// and the incompatible packages/groups; false when the request is not one of them.
func (s *Sim) emPackageWrites(g *gctx, seg []string) (bool, *graphErr) {
	m := g.r.Method
	if len(seg) == 0 {
		if m != http.MethodPost {
			return false, nil
		}
		return true, s.adminOnly(g, s.createPackage)
	}
	p := s.w.Packages[seg[0]]
	if p == nil {
		return false, nil
	}
	switch {
	case len(seg) == 1 && m == http.MethodPatch:
		return true, s.adminOnly(g, func(g *gctx) *graphErr { return s.updatePackage(g, p) })
	case len(seg) == 1 && m == http.MethodDelete:
		return true, s.adminOnly(g, func(g *gctx) *graphErr { return s.deletePackage(g, p) })
	case len(seg) == 2 && strings.EqualFold(seg[1], "resourceRoleScopes") && m == http.MethodPost:
		return true, s.adminOnly(g, func(g *gctx) *graphErr { return s.addRoleScope(g, p) })
	case len(seg) == 3 && strings.EqualFold(seg[1], "resourceRoleScopes") && m == http.MethodDelete:
		return true, s.adminOnly(g, func(g *gctx) *graphErr { return s.removeRoleScope(g, p, seg[2]) })
	case len(seg) >= 2 && strings.EqualFold(seg[1], "incompatibleGroups") && m == http.MethodGet && len(seg) == 2:
		var items []item
		for _, id := range p.IncompatibleGroups {
			if gr := s.w.Groups[id]; gr != nil {
				items = append(items, sameItem(s.renderGroup(gr)))
			}
		}
		s.writeCollection(g.w, g.r, g.q, emCtx+"accessPackages('"+p.ID+"')/incompatibleGroups", items)
		return true, nil
	case len(seg) >= 3 && (strings.EqualFold(seg[1], "incompatibleGroups") || strings.EqualFold(seg[1], "incompatibleAccessPackages")):
		return true, s.adminOnly(g, func(g *gctx) *graphErr { return s.incompatibleRef(g, p, seg[1:]) })
	}
	return false, nil
}

// adminOnly runs fn for an entitlement management admin.
func (s *Sim) adminOnly(g *gctx, fn func(g *gctx) *graphErr) *graphErr {
	if !s.isEMAdmin(g.c) {
		return errNotAdmin()
	}
	return fn(g)
}

func (s *Sim) createPackage(g *gctx) *graphErr {
	body, gerr := readJSONObject(g.r)
	if gerr != nil {
		return gerr
	}
	name := strings.TrimSpace(jstr(body, "displayName"))
	if name == "" {
		return errBadRequest("The property 'displayName' is required to create an accessPackage.")
	}
	catID := jstr(jobj(body, "catalog"), "id")
	if catID == "" {
		return errBadRequest("The property 'catalog' with the catalog's 'id' is required to create an accessPackage.")
	}
	if s.w.Catalogs[catID] == nil {
		return errBadRequest("The catalog '%s' referenced by 'catalog.id' does not exist.", catID)
	}
	hidden, _ := jget(body, "isHidden")
	h, _ := hidden.(bool)
	p := &accessPkg{Ord: s.w.nextOrd(), ID: newID(), CatalogID: catID, DisplayName: name,
		Description: jstr(body, "description"), IsHidden: h, Created: s.now(), Modified: s.now()}
	s.w.Packages[p.ID] = p
	g.mutated = true
	s.writeEntity(g.w, http.StatusCreated, g.q, emCtx+"accessPackages", s.renderPackage(p, none))
	return nil
}

func (s *Sim) updatePackage(g *gctx, p *accessPkg) *graphErr {
	body, gerr := readJSONObject(g.r)
	if gerr != nil {
		return gerr
	}
	next := *p
	if v, ok := jget(body, "displayName"); ok {
		name, _ := v.(string)
		if strings.TrimSpace(name) == "" {
			return errBadRequest("The property 'displayName' cannot be empty.")
		}
		next.DisplayName = strings.TrimSpace(name)
	}
	if v, ok := jget(body, "description"); ok {
		next.Description, _ = v.(string)
	}
	if v, ok := jget(body, "isHidden"); ok {
		b, isBool := v.(bool)
		if !isBool {
			return errBadRequest("The property 'isHidden' must be a boolean.")
		}
		next.IsHidden = b
	}
	if _, ok := jget(body, "catalog"); ok {
		return errBadRequest("The catalog of an access package cannot be changed.")
	}
	next.Modified = s.now()
	*p = next
	g.mutated = true
	g.w.WriteHeader(http.StatusNoContent)
	return nil
}

// deletePackage refuses while the package has assignments, like Graph; its policies go with it.
func (s *Sim) deletePackage(g *gctx, p *accessPkg) *graphErr {
	for _, a := range s.w.Assignments {
		if a.PackageID == p.ID && isActiveAssignment(a) {
			return &graphErr{Status: http.StatusBadRequest, Code: "AccessPackageHasAssignments",
				Message: "The access package '" + p.DisplayName + "' cannot be deleted because it has one or more assignments. Remove the assignments first."}
		}
	}
	for id, pol := range s.w.Policies {
		if pol.PackageID == p.ID {
			delete(s.w.Policies, id)
		}
	}
	for _, o := range s.w.Packages {
		o.Incompatible = slices.DeleteFunc(o.Incompatible, func(id string) bool { return id == p.ID })
	}
	delete(s.w.Packages, p.ID)
	g.mutated = true
	g.w.WriteHeader(http.StatusNoContent)
	return nil
}

// addRoleScope adds a role of a resource of the package's catalog to the package.
func (s *Sim) addRoleScope(g *gctx, p *accessPkg) *graphErr {
	body, gerr := readJSONObject(g.r)
	if gerr != nil {
		return gerr
	}
	role := jobj(body, "role")
	resID := jstr(jobj(role, "resource"), "id")
	r := s.w.Resources[resID]
	if r == nil || r.CatalogID != p.CatalogID {
		return errBadRequest("The resource '%s' referenced by 'role.resource.id' is not in the catalog of access package '%s'; add it to the catalog first.", resID, p.DisplayName)
	}
	roleOrigin := jstr(role, "originId")
	var found *resourceRole
	for i := range r.Roles {
		if r.Roles[i].OriginID == roleOrigin || (r.Roles[i].ID == jstr(role, "id") && roleOrigin == "") {
			found = &r.Roles[i]
		}
	}
	if found == nil {
		return errBadRequest("The role '%s' referenced by 'role.originId' is not a role of the resource '%s'.", roleOrigin, r.DisplayName)
	}
	if sc := jobj(body, "scope"); sc != nil && jstr(sc, "originId") != "" && !strings.EqualFold(jstr(sc, "originId"), r.OriginID) {
		return errBadRequest("The scope '%s' referenced by 'scope.originId' is not a scope of the resource '%s'.", jstr(sc, "originId"), r.DisplayName)
	}
	for _, sc := range p.RoleScopes {
		if sc.ResourceID == r.ID && sc.RoleID == found.ID {
			return &graphErr{Status: http.StatusBadRequest, Code: "ResourceRoleScopeAlreadyExists",
				Message: "The access package already grants the role '" + found.DisplayName + "' of '" + r.DisplayName + "'."}
		}
	}
	sc := roleScope{ID: found.ID + "_" + r.ScopeID, ResourceID: r.ID, RoleID: found.ID}
	p.RoleScopes = append(p.RoleScopes, sc)
	p.Modified = s.now()
	g.mutated = true
	writeJSON(g.w, http.StatusCreated, map[string]any{
		"@odata.context": s.graphBase() + "/$metadata#" + emCtx + "accessPackages('" + p.ID + "')/resourceRoleScopes/$entity",
		"id":             sc.ID, "createdDateTime": ts(s.now()),
	})
	return nil
}

// removeRoleScope removes a resource role scope from the package (204; 404 for an id the package lacks); like
// Entra, it takes the role from the package's holders (unless another assignment of theirs grants it).
func (s *Sim) removeRoleScope(g *gctx, p *accessPkg, id string) *graphErr {
	i := slices.IndexFunc(p.RoleScopes, func(sc roleScope) bool { return sc.ID == id })
	if i < 0 {
		return errNotFound("accessPackageResourceRoleScope", id)
	}
	removed := p.RoleScopes[i]
	p.RoleScopes = slices.Delete(p.RoleScopes, i, i+1)
	for _, a := range sortedBy(s.w.Assignments, func(a *assignment) int64 { return a.Ord }) {
		if a.PackageID == p.ID && isActiveAssignment(a) {
			s.revokeUngranted(a.TargetID, []roleScope{removed}, "")
		}
	}
	p.Modified = s.now()
	g.mutated = true
	g.w.WriteHeader(http.StatusNoContent)
	return nil
}

// incompatibleRef handles POST …/{incompatibleAccessPackages|incompatibleGroups}/$ref and
// DELETE …/{…}/{id}/$ref (seg starts at the navigation name).
func (s *Sim) incompatibleRef(g *gctx, p *accessPkg, seg []string) *graphErr {
	groups := strings.EqualFold(seg[0], "incompatibleGroups")
	list := &p.Incompatible
	if groups {
		list = &p.IncompatibleGroups
	}
	switch {
	case len(seg) == 2 && seg[1] == "$ref" && g.r.Method == http.MethodPost:
		body, gerr := readJSONObject(g.r)
		if gerr != nil {
			return gerr
		}
		ref := jstr(body, "@odata.id")
		id := strings.Trim(ref[strings.LastIndex(ref, "/")+1:], "'()")
		if i := strings.Index(ref, "('"); i >= 0 {
			id = strings.TrimSuffix(ref[i+2:], "')")
		}
		if ref == "" || id == "" {
			return errBadRequest("The request body must contain '@odata.id' referencing an access package or a group.")
		}
		if groups {
			if gr := s.w.Groups[id]; gr == nil || gr.TenantID != ContosoTenantID || !strings.Contains(strings.ToLower(ref), "/groups") {
				return errBadRequest("The group '%s' referenced by '@odata.id' does not exist in this directory.", id)
			}
		} else {
			if s.w.Packages[id] == nil || !strings.Contains(strings.ToLower(ref), "/accesspackages") {
				return errBadRequest("The access package '%s' referenced by '@odata.id' does not exist.", id)
			}
			if id == p.ID {
				return errBadRequest("An access package cannot be incompatible with itself.")
			}
		}
		if slices.Contains(*list, id) {
			return errBadRequest("One or more added object references already exist for the following modified properties: '%s'.", seg[0])
		}
		*list = append(*list, id)
	case len(seg) == 3 && seg[2] == "$ref" && g.r.Method == http.MethodDelete:
		if !slices.Contains(*list, seg[1]) {
			return errNotFound(seg[0], seg[1])
		}
		*list = slices.DeleteFunc(*list, func(id string) bool { return id == seg[1] })
	default:
		return methodNotAllowed(g.r)
	}
	p.Modified = s.now()
	g.mutated = true
	g.w.WriteHeader(http.StatusNoContent)
	return nil
}
