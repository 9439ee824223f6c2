package tenantsim

import (
	"net/http"
	"slices"
	"strings"
)

const emCtx = "identityGovernance/entitlementManagement/"

func errDelegatedOnly(op string) *graphErr {
	return &graphErr{Status: http.StatusForbidden, Code: "AccessDenied",
		Message: "The operation '" + op + "' is only supported with delegated permissions; application-only tokens are not supported. Call it with a token issued for a signed-in user."}
}

// isEMAdmin reports whether the caller may use administrative operations: an
// app with EntitlementManagement.ReadWrite.All or a member of the admins group.
func (s *Sim) isEMAdmin(c *caller) bool {
	if c.AppOnly {
		return slices.Contains(c.Roles, "EntitlementManagement.ReadWrite.All")
	}
	return s.inGroup(AdminsGroupID, c.OID)
}

func errNotAdmin() *graphErr {
	return &graphErr{Status: http.StatusForbidden, Code: "AccessDenied",
		Message: "The caller is not authorized to perform this operation: it requires an entitlement management administrator or the EntitlementManagement.ReadWrite.All application permission."}
}

func (s *Sim) dispatchEM(g *gctx, seg []string) *graphErr {
	if g.c.TenantID != ContosoTenantID {
		// Only Contoso has entitlement management configured.
		if g.r.Method == http.MethodGet && len(seg) == 1 {
			s.writeCollection(g.w, g.r, g.q, emCtx+seg[0], nil)
			return nil
		}
		return errNotFound(seg[0], strings.Join(seg[1:], "/"))
	}
	switch strings.ToLower(seg[0]) {
	case "accesspackages":
		return s.emPackages(g, seg[1:])
	case "assignmentpolicies":
		return s.emPolicies(g, seg[1:])
	case "assignmentrequests":
		return s.emRequests(g, seg[1:])
	case "assignments":
		return s.emAssignments(g, seg[1:])
	case "accesspackageassignmentapprovals", "assignmentapprovals":
		return s.emApprovals(g, seg[1:])
	case "catalogs":
		return s.emCatalogs(g, seg[1:])
	case "resourcerequests":
		return s.emResourceRequests(g, seg[1:])
	case "connectedorganizations":
		return s.emConnectedOrgs(g, seg[1:])
	case "settings":
		return s.emSettings(g, seg[1:])
	}
	return &graphErr{Status: http.StatusBadRequest, Code: "BadRequest", Message: "Resource not found for the segment '" + seg[0] + "'."}
}

func (s *Sim) packageItems(pkgs []*accessPkg, q *query) []item {
	items := make([]item, 0, len(pkgs))
	for _, p := range pkgs {
		items = append(items, item{full: s.renderPackage(p, all), view: func() map[string]any { return s.renderPackage(p, q.expands) }})
	}
	return items
}

func (s *Sim) callerIdentity(c *caller) (identity, bool) {
	if c.AppOnly || c.TokenUser == nil {
		return identity{}, false
	}
	return s.identityOfUser(c.TokenUser), true
}

// requestablePolicies returns the package's policies the identity may request through.
func (s *Sim) requestablePolicies(pkgID string, id identity) []*policy {
	var out []*policy
	for _, p := range s.policiesOf(pkgID) {
		if p.SelfAdd && s.eligible(p, id) {
			out = append(out, p)
		}
	}
	return out
}

func (s *Sim) emPackages(g *gctx, seg []string) *graphErr {
	if handled, gerr := s.emPackageWrites(g, seg); handled {
		return gerr
	}
	pkgs := sortedBy(s.w.Packages, func(p *accessPkg) int64 { return p.Ord })
	if len(seg) == 0 {
		if g.r.Method != http.MethodGet {
			return methodNotAllowed(g.r)
		}
		s.writeCollection(g.w, g.r, g.q, emCtx+"accessPackages", s.packageItems(pkgs, g.q), "displayName", "description")
		return nil
	}
	if _, ok, gerr := currentUserFilter(g, seg[0], "accessPackage", "allowedRequestor"); gerr != nil {
		return gerr
	} else if ok {
		id, _ := s.callerIdentity(g.c)
		// Hidden packages are listed only when asked for by id (a direct link).
		mentionsID := g.q.Filter != nil && g.q.Filter.mentions("id")
		var out []*accessPkg
		for _, p := range pkgs {
			if p.IsHidden && !mentionsID {
				continue
			}
			if len(s.requestablePolicies(p.ID, id)) > 0 {
				out = append(out, p)
			}
		}
		s.writeCollection(g.w, g.r, g.q, "Collection(microsoft.graph.accessPackage)", s.packageItems(out, g.q), "displayName", "description")
		return nil
	}
	p := s.w.Packages[seg[0]]
	if p == nil {
		return errNotFound("accessPackage", seg[0])
	}
	if len(seg) == 1 {
		if g.r.Method != http.MethodGet {
			return methodNotAllowed(g.r)
		}
		s.writeEntity(g.w, http.StatusOK, g.q, emCtx+"accessPackages", s.renderPackage(p, g.q.expands))
		return nil
	}
	switch strings.ToLower(seg[1]) {
	case "getapplicablepolicyrequirements":
		if g.r.Method != http.MethodPost {
			return methodNotAllowed(g.r)
		}
		if g.c.AppOnly {
			return errDelegatedOnly("accessPackage: getApplicablePolicyRequirements")
		}
		id, _ := s.callerIdentity(g.c)
		vals := []any{}
		for _, pol := range s.requestablePolicies(p.ID, id) {
			qs := []any{}
			for _, q := range pol.Questions {
				qs = append(qs, s.renderQuestion(q))
			}
			vals = append(vals, map[string]any{
				"@odata.type":                      "#microsoft.graph.accessPackageAssignmentRequestRequirements",
				"policyId":                         pol.ID,
				"policyDisplayName":                pol.DisplayName,
				"policyDescription":                pol.Description,
				"isApprovalRequiredForAdd":         pol.ApprovalRequired,
				"isApprovalRequiredForUpdate":      pol.ApprovalForUpdate,
				"isRequestorJustificationRequired": pol.JustificationRequired,
				"allowCustomAssignmentSchedule":    pol.AllowCustomSchedule,
				"schedule":                         renderSchedule(nil, pol.Expiration),
				"questions":                        qs,
			})
		}
		writeJSON(g.w, http.StatusOK, map[string]any{
			"@odata.context": s.graphBase() + "/$metadata#Collection(microsoft.graph.accessPackageAssignmentRequestRequirements)",
			"value":          vals,
		})
		return nil
	case "assignmentpolicies":
		var items []item
		for _, pol := range s.policiesOf(p.ID) {
			items = append(items, item{full: s.renderPolicy(pol, all), view: func() map[string]any { return s.renderPolicy(pol, g.q.expands) }})
		}
		s.writeCollection(g.w, g.r, g.q, emCtx+"accessPackages('"+p.ID+"')/assignmentPolicies", items)
		return nil
	case "resourcerolescopes":
		var items []item
		for _, sc := range p.RoleScopes {
			items = append(items, sameItem(s.renderRoleScope(sc)))
		}
		s.writeCollection(g.w, g.r, g.q, emCtx+"accessPackages('"+p.ID+"')/resourceRoleScopes", items)
		return nil
	case "incompatibleaccesspackages":
		var out []*accessPkg
		for _, id := range p.Incompatible {
			if o := s.w.Packages[id]; o != nil {
				out = append(out, o)
			}
		}
		s.writeCollection(g.w, g.r, g.q, emCtx+"accessPackages('"+p.ID+"')/incompatibleAccessPackages", s.packageItems(out, g.q))
		return nil
	case "accesspackagesincompatiblewith": // the packages that marked this one incompatible
		var out []*accessPkg
		for _, o := range s.w.Packages {
			if slices.Contains(o.Incompatible, p.ID) {
				out = append(out, o)
			}
		}
		slices.SortFunc(out, func(a, b *accessPkg) int { return strings.Compare(a.ID, b.ID) })
		s.writeCollection(g.w, g.r, g.q, emCtx+"accessPackages('"+p.ID+"')/accessPackagesIncompatibleWith", s.packageItems(out, g.q))
		return nil
	}
	return errNotFound("segment", strings.Join(seg, "/"))
}

func (s *Sim) emPolicies(g *gctx, seg []string) *graphErr {
	if handled, gerr := s.emPolicyWrites(g, seg); handled {
		return gerr
	}
	if g.r.Method != http.MethodGet {
		return methodNotAllowed(g.r)
	}
	if len(seg) == 0 {
		var items []item
		for _, pol := range sortedBy(s.w.Policies, func(p *policy) int64 { return p.Ord }) {
			items = append(items, item{full: s.renderPolicy(pol, all), view: func() map[string]any { return s.renderPolicy(pol, g.q.expands) }})
		}
		s.writeCollection(g.w, g.r, g.q, emCtx+"assignmentPolicies", items)
		return nil
	}
	pol := s.w.Policies[seg[0]]
	if pol == nil {
		return errNotFound("accessPackageAssignmentPolicy", seg[0])
	}
	if len(seg) == 1 {
		s.writeEntity(g.w, http.StatusOK, g.q, emCtx+"assignmentPolicies", s.renderPolicy(pol, g.q.expands))
		return nil
	}
	if strings.EqualFold(seg[1], "questions") {
		var items []item
		for _, q := range pol.Questions {
			items = append(items, sameItem(s.renderQuestion(q)))
		}
		s.writeCollection(g.w, g.r, g.q, emCtx+"assignmentPolicies('"+pol.ID+"')/questions", items)
		return nil
	}
	return errNotFound("segment", strings.Join(seg, "/"))
}

func (s *Sim) emCatalogs(g *gctx, seg []string) *graphErr {
	if handled, gerr := s.emCatalogWrites(g, seg); handled {
		return gerr
	}
	if g.r.Method != http.MethodGet {
		return methodNotAllowed(g.r)
	}
	if len(seg) == 0 {
		var items []item
		for _, c := range sortedBy(s.w.Catalogs, func(c *catalog) int64 { return c.Ord }) {
			items = append(items, sameItem(s.renderCatalog(c)))
		}
		s.writeCollection(g.w, g.r, g.q, emCtx+"catalogs", items)
		return nil
	}
	c := s.w.Catalogs[seg[0]]
	if c == nil {
		return errNotFound("accessPackageCatalog", seg[0])
	}
	if len(seg) == 1 {
		s.writeEntity(g.w, http.StatusOK, g.q, emCtx+"catalogs", s.renderCatalog(c))
		return nil
	}
	base := emCtx + "catalogs('" + c.ID + "')/"
	resources := []*resource{}
	for _, r := range sortedBy(s.w.Resources, func(r *resource) int64 { return r.Ord }) {
		if r.CatalogID == c.ID {
			resources = append(resources, r)
		}
	}
	switch strings.ToLower(seg[1]) {
	case "resources":
		var items []item
		for _, r := range resources {
			items = append(items, item{full: s.renderResource(r, all), view: func() map[string]any { return s.renderResource(r, g.q.expands) }})
		}
		s.writeCollection(g.w, g.r, g.q, base+"resources", items)
		return nil
	case "resourceroles":
		var items []item
		for _, r := range resources {
			for _, role := range r.Roles {
				items = append(items, item{full: s.renderRole(r, role, all), view: func() map[string]any { return s.renderRole(r, role, g.q.expands) }})
			}
		}
		s.writeCollection(g.w, g.r, g.q, base+"resourceRoles", items)
		return nil
	case "resourcescopes":
		var items []item
		for _, r := range resources {
			items = append(items, sameItem(s.renderScope(r)))
		}
		s.writeCollection(g.w, g.r, g.q, base+"resourceScopes", items)
		return nil
	case "accesspackages":
		var pkgs []*accessPkg
		for _, p := range sortedBy(s.w.Packages, func(p *accessPkg) int64 { return p.Ord }) {
			if p.CatalogID == c.ID {
				pkgs = append(pkgs, p)
			}
		}
		s.writeCollection(g.w, g.r, g.q, base+"accessPackages", s.packageItems(pkgs, g.q))
		return nil
	}
	return errNotFound("segment", strings.Join(seg, "/"))
}

func (s *Sim) emSettings(g *gctx, seg []string) *graphErr {
	if len(seg) != 0 {
		return errNotFound("segment", strings.Join(seg, "/"))
	}
	switch g.r.Method {
	case http.MethodGet:
		s.writeEntity(g.w, http.StatusOK, g.q, emCtx+"settings", map[string]any{
			"id": "00000000-0000-0000-0000-000000000000",
			"durationUntilExternalUserDeletedAfterBlocked": s.w.Settings.DurationUntilExternalUserDeletedAfterBlocked,
			"externalUserLifecycleAction":                  s.w.Settings.ExternalUserLifecycleAction,
		})
		return nil
	case http.MethodPatch:
		if !s.isEMAdmin(g.c) {
			return errNotAdmin()
		}
		body, gerr := readJSONObject(g.r)
		if gerr != nil {
			return gerr
		}
		next := s.w.Settings
		if v, ok := jget(body, "durationUntilExternalUserDeletedAfterBlocked"); ok {
			d, _ := v.(string)
			if _, err := parseISODuration(d); err != nil {
				return errBadRequest("Invalid value for 'durationUntilExternalUserDeletedAfterBlocked': %v.", err)
			}
			next.DurationUntilExternalUserDeletedAfterBlocked = d
		}
		if v, ok := jget(body, "externalUserLifecycleAction"); ok {
			a, _ := v.(string)
			switch a {
			case "none", "blockSignIn", "blockSignInAndDelete":
			default:
				return errBadRequest("Invalid value %q for 'externalUserLifecycleAction': expected none, blockSignIn or blockSignInAndDelete.", a)
			}
			next.ExternalUserLifecycleAction = a
		}
		s.w.Settings = next
		g.mutated = true
		g.w.WriteHeader(http.StatusNoContent)
		return nil
	}
	return methodNotAllowed(g.r)
}
