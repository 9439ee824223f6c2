package tenantsim

import (
	"maps"
	"strings"
	"time"
)

// Rendering turns internal state into Graph v1.0 JSON (property names and
// @odata.type values as in the v1.0 metadata). Navigation properties are added
// only when expanded (nav(...) returns true).

type expander func(nav string) bool

func all(string) bool  { return true }
func none(string) bool { return false }

func ts(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

func tsPtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return ts(*t)
}

func (s *Sim) renderUser(u *user) map[string]any {
	m := map[string]any{
		"@odata.type":                     "#microsoft.graph.user",
		"id":                              u.ID,
		"displayName":                     u.DisplayName,
		"givenName":                       nilIfEmpty(u.GivenName),
		"surname":                         nilIfEmpty(u.Surname),
		"userPrincipalName":               u.UPN,
		"mail":                            nilIfEmpty(u.Mail),
		"jobTitle":                        nilIfEmpty(u.JobTitle),
		"businessPhones":                  []any{},
		"mobilePhone":                     nil,
		"officeLocation":                  nil,
		"preferredLanguage":               "en-US",
		"userType":                        u.UserType,
		"accountEnabled":                  u.AccountEnabled,
		"createdDateTime":                 ts(u.Created),
		"creationType":                    nilIfEmpty(u.CreationType),
		"externalUserState":               nilIfEmpty(u.ExternalUserState),
		"externalUserStateChangeDateTime": tsPtr(u.ExternalStateAt),
	}
	return m
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (s *Sim) renderGroup(g *group) map[string]any {
	types := []any{}
	if g.IsTeam {
		types = append(types, "Unified")
	}
	m := map[string]any{
		"@odata.type":        "#microsoft.graph.group",
		"id":                 g.ID,
		"displayName":        g.DisplayName,
		"description":        g.Description,
		"mailNickname":       g.MailNick,
		"mailEnabled":        g.IsTeam,
		"securityEnabled":    true,
		"groupTypes":         types,
		"isAssignableToRole": g.IsAssignableToRole,
	}
	if g.IsTeam {
		m["resourceProvisioningOptions"] = []any{"Team"}
		m["mail"] = g.MailNick + "@contoso.example"
	} else {
		m["resourceProvisioningOptions"] = []any{}
	}
	return m
}

func (s *Sim) renderCatalog(c *catalog) map[string]any {
	return map[string]any{
		"id": c.ID, "displayName": c.DisplayName, "description": c.Description, "catalogType": c.CatalogType,
		"state": c.State, "isExternallyVisible": c.IsExternallyVisible,
		"createdDateTime": ts(c.Created), "modifiedDateTime": ts(c.Created),
	}
}

func (s *Sim) renderResource(r *resource, nav expander) map[string]any {
	m := map[string]any{
		"id": r.ID, "displayName": r.DisplayName, "description": r.Description, "originId": r.OriginID,
		"originSystem": r.OriginSystem, "createdDateTime": ts(r.Created), "modifiedDateTime": ts(r.Created),
		"attributes": []any{},
	}
	if nav("roles") {
		roles := []any{}
		for _, role := range r.Roles {
			roles = append(roles, s.renderRole(r, role, none))
		}
		m["roles"] = roles
	}
	if nav("scopes") {
		m["scopes"] = []any{s.renderScope(r)}
	}
	return m
}

func (s *Sim) renderRole(r *resource, role resourceRole, nav expander) map[string]any {
	m := map[string]any{
		"id": role.ID, "displayName": role.DisplayName, "description": role.Description,
		"originId": role.OriginID, "originSystem": r.OriginSystem,
	}
	if nav("resource") {
		m["resource"] = s.renderResource(r, none)
	}
	return m
}

func (s *Sim) renderScope(r *resource) map[string]any {
	return map[string]any{
		"id": r.ScopeID, "displayName": "Root", "description": "Root Scope", "originId": r.OriginID,
		"originSystem": r.OriginSystem, "isRootScope": true,
	}
}

func (s *Sim) renderPackage(p *accessPkg, nav expander) map[string]any {
	m := map[string]any{
		"id": p.ID, "displayName": p.DisplayName, "description": p.Description, "isHidden": p.IsHidden,
		"createdDateTime": ts(p.Created), "modifiedDateTime": ts(p.Modified),
	}
	if nav("catalog") {
		if c := s.w.Catalogs[p.CatalogID]; c != nil {
			m["catalog"] = s.renderCatalog(c)
		}
	}
	if nav("assignmentPolicies") {
		pols := []any{}
		for _, pol := range s.policiesOf(p.ID) {
			pols = append(pols, s.renderPolicy(pol, func(n string) bool { return nav("assignmentPolicies/" + n) }))
		}
		m["assignmentPolicies"] = pols
	}
	if nav("resourceRoleScopes") {
		rs := []any{}
		for _, sc := range p.RoleScopes {
			rs = append(rs, s.renderRoleScope(sc))
		}
		m["resourceRoleScopes"] = rs
	}
	if nav("incompatibleAccessPackages") {
		inc := []any{}
		for _, id := range p.Incompatible {
			if o := s.w.Packages[id]; o != nil {
				inc = append(inc, s.renderPackage(o, none))
			}
		}
		m["incompatibleAccessPackages"] = inc
	}
	if nav("incompatibleGroups") {
		inc := []any{}
		for _, id := range p.IncompatibleGroups {
			if gr := s.w.Groups[id]; gr != nil {
				inc = append(inc, s.renderGroup(gr))
			}
		}
		m["incompatibleGroups"] = inc
	}
	return m
}

func (s *Sim) renderRoleScope(sc roleScope) map[string]any {
	m := map[string]any{"id": sc.ID, "createdDateTime": nil}
	if r := s.w.Resources[sc.ResourceID]; r != nil {
		for _, role := range r.Roles {
			if role.ID == sc.RoleID {
				m["role"] = s.renderRole(r, role, all)
			}
		}
		m["scope"] = s.renderScope(r)
	}
	return m
}

func renderSubjectSets(sets []subjectSet) []any {
	out := []any{}
	for _, ss := range sets {
		m := map[string]any{"@odata.type": "#microsoft.graph." + ss.Type}
		switch ss.Type {
		case "singleUser":
			m["userId"], m["description"] = ss.UserID, nilIfEmpty(ss.Description)
		case "groupMembers":
			m["groupId"], m["description"] = ss.GroupID, nilIfEmpty(ss.Description)
		case "requestorManager":
			lvl := ss.ManagerLevel
			if lvl == 0 {
				lvl = 1
			}
			m["managerLevel"] = lvl
		case "connectedOrganizationMembers":
			m["connectedOrganizationId"], m["description"] = ss.ConnectedOrg, nilIfEmpty(ss.Description)
		}
		out = append(out, m)
	}
	return out
}

func renderExpiration(e expirationPattern) map[string]any {
	typ := e.Type
	if typ == "" {
		typ = "notSpecified"
	}
	return map[string]any{"type": typ, "duration": nilIfEmpty(e.Duration), "endDateTime": tsPtr(e.EndDateTime)}
}

func (s *Sim) renderQuestion(q question) map[string]any {
	m := map[string]any{
		"id": q.ID, "sequence": q.Sequence, "isRequired": q.IsRequired, "isAnswerEditable": q.IsAnswerEdit,
		"text": q.Text, "localizations": []any{},
	}
	if q.Kind == "multipleChoice" {
		m["@odata.type"] = "#microsoft.graph.accessPackageMultipleChoiceQuestion"
		m["isMultipleSelectionAllowed"] = q.MultipleAllowed
		ch := []any{}
		for _, c := range q.Choices {
			cm := map[string]any{"actualValue": c.ActualValue, "text": c.Text, "localizations": []any{}}
			maps.Copy(cm, c.Extra)
			ch = append(ch, cm)
		}
		m["choices"] = ch
	} else {
		m["@odata.type"] = "#microsoft.graph.accessPackageTextInputQuestion"
		m["isSingleLineQuestion"] = q.IsSingleLine
		m["regexPattern"] = nilIfEmpty(q.Regex)
	}
	maps.Copy(m, q.Extra)
	return m
}

func (s *Sim) renderApprovalSettings(p *policy) map[string]any {
	stages := []any{}
	for _, st := range p.Stages {
		sm := map[string]any{
			"durationBeforeAutomaticDenial":   st.DurationBeforeAutomaticDenial,
			"isApproverJustificationRequired": st.IsApproverJustificationRequired,
			"isEscalationEnabled":             st.IsEscalationEnabled,
			"durationBeforeEscalation":        nilIfEmpty(st.DurationBeforeEscalation),
			"primaryApprovers":                renderSubjectSets(st.Primary),
			"fallbackPrimaryApprovers":        renderSubjectSets(st.FallbackPrimary),
			"escalationApprovers":             renderSubjectSets(st.Escalation),
			"fallbackEscalationApprovers":     renderSubjectSets(st.FallbackEscalation),
		}
		maps.Copy(sm, st.Extra)
		stages = append(stages, sm)
	}
	m := map[string]any{
		"isApprovalRequiredForAdd":         p.ApprovalRequired,
		"isApprovalRequiredForUpdate":      p.ApprovalForUpdate,
		"isRequestorJustificationRequired": p.JustificationRequired,
		"stages":                           stages,
	}
	maps.Copy(m, p.ApprovalExtra)
	return m
}

func (s *Sim) renderPolicy(p *policy, nav expander) map[string]any {
	m := map[string]any{
		"id": p.ID, "displayName": p.DisplayName, "description": p.Description,
		"allowedTargetScope": p.AllowedTargetScope, "specificAllowedTargets": renderSubjectSets(p.SpecificTargets),
		"createdDateTime": ts(p.Created), "modifiedDateTime": ts(p.Modified),
		"expiration": renderExpiration(p.Expiration),
		"requestorSettings": map[string]any{
			"enableTargetsToSelfAddAccess":           p.SelfAdd,
			"enableTargetsToSelfUpdateAccess":        p.SelfUpdate,
			"enableTargetsToSelfRemoveAccess":        p.SelfRemove,
			"allowCustomAssignmentSchedule":          p.AllowCustomSchedule,
			"enableOnBehalfRequestorsToAddAccess":    false,
			"enableOnBehalfRequestorsToUpdateAccess": false,
			"enableOnBehalfRequestorsToRemoveAccess": false,
			"onBehalfRequestors":                     []any{},
		},
		"requestApprovalSettings":  s.renderApprovalSettings(p),
		"automaticRequestSettings": nil,
		"reviewSettings":           nil,
		"notificationSettings":     nil,
	}
	maps.Copy(m["requestorSettings"].(map[string]any), p.RequestorExtra)
	maps.Copy(m, p.Extra)
	if nav("questions") {
		qs := []any{}
		for _, q := range p.Questions {
			qs = append(qs, s.renderQuestion(q))
		}
		m["questions"] = qs
	}
	if nav("accessPackage") {
		if pk := s.w.Packages[p.PackageID]; pk != nil {
			m["accessPackage"] = s.renderPackage(pk, none)
		}
	}
	if nav("catalog") {
		if pk := s.w.Packages[p.PackageID]; pk != nil {
			if c := s.w.Catalogs[pk.CatalogID]; c != nil {
				m["catalog"] = s.renderCatalog(c)
			}
		}
	}
	return m
}

func (s *Sim) renderSubject(sub *subject) map[string]any {
	if sub == nil {
		return nil
	}
	m := map[string]any{
		"id": sub.ID, "displayName": sub.DisplayName, "email": nilIfEmpty(sub.Email), "objectId": nilIfEmpty(sub.ObjectID),
		"principalName": nilIfEmpty(sub.PrincipalName), "subjectType": sub.SubjectType, "onPremisesSecurityIdentifier": nil,
	}
	if sub.ConnectedOrgID != "" {
		if co := s.w.ConnectedOrgs[sub.ConnectedOrgID]; co != nil {
			m["connectedOrganization"] = s.renderConnectedOrg(co)
		}
	}
	return m
}

func (s *Sim) renderConnectedOrg(co *connectedOrg) map[string]any {
	src := map[string]any{"@odata.type": "#microsoft.graph." + co.SourceType, "displayName": co.SourceName}
	switch co.SourceType {
	case "azureActiveDirectoryTenant":
		src["tenantId"] = co.SourceTenantID
	case "domainIdentitySource":
		src["domainName"] = co.SourceDomain
	}
	return map[string]any{
		"id": co.ID, "displayName": co.DisplayName, "description": co.Description, "state": co.State,
		"createdDateTime": ts(co.Created), "modifiedDateTime": ts(co.Modified),
		"identitySources": []any{src},
	}
}

func renderSchedule(start *time.Time, e expirationPattern) map[string]any {
	return map[string]any{"startDateTime": tsPtr(start), "recurrence": nil, "expiration": renderExpiration(e)}
}

func (s *Sim) renderAnswers(rq *request) []any {
	out := []any{}
	for _, a := range rq.Answers {
		qtype := "#microsoft.graph.accessPackageTextInputQuestion"
		if a.QuestionType == "multipleChoice" {
			qtype = "#microsoft.graph.accessPackageMultipleChoiceQuestion"
		}
		out = append(out, map[string]any{
			"@odata.type": "#microsoft.graph.accessPackageAnswerString", "value": a.Value, "displayValue": a.DisplayValue,
			"answeredQuestion": map[string]any{"@odata.type": qtype, "id": a.QuestionID},
		})
	}
	return out
}

func (s *Sim) renderRequest(rq *request, nav expander) map[string]any {
	m := map[string]any{
		"id": rq.ID, "requestType": rq.RequestType, "state": rq.State, "status": rq.Status,
		"createdDateTime": ts(rq.Created), "completedDateTime": tsPtr(rq.Completed),
		"justification": nilIfEmpty(rq.Justification), "answers": s.renderAnswers(rq),
		"schedule":                        renderSchedule(rq.Start, rq.Expiration),
		"customExtensionCalloutInstances": []any{},
	}
	if nav("requestor") {
		m["requestor"] = s.renderSubject(s.w.Subjects[rq.RequestorID])
	}
	if nav("accessPackage") {
		if p := s.w.Packages[rq.PackageID]; p != nil {
			m["accessPackage"] = s.renderPackage(p, none)
		}
	}
	if nav("assignment") {
		if a := s.w.Assignments[rq.AssignmentID]; a != nil {
			m["assignment"] = s.renderAssignment(a, func(n string) bool { return strings.EqualFold(n, "target") })
		} else {
			// Not created yet (pending approval, denied, canceled): the requested
			// assignment as filed, with the ids Graph's request bodies carry.
			stub := map[string]any{
				"id": nil, "state": nil, "status": nil, "expiredDateTime": nil,
				"schedule":        renderSchedule(rq.Start, rq.Expiration),
				"accessPackageId": rq.PackageID, "assignmentPolicyId": rq.PolicyID, "targetId": nil,
			}
			if sub := s.w.Subjects[rq.TargetID]; sub != nil {
				stub["targetId"] = nilIfEmpty(sub.ObjectID)
				stub["target"] = s.renderSubject(sub)
			}
			m["assignment"] = stub
		}
	}
	return m
}

func (s *Sim) renderAssignment(a *assignment, nav expander) map[string]any {
	exp := expirationPattern{Type: a.ExpType, Duration: a.Duration, EndDateTime: a.End}
	start := a.Start
	m := map[string]any{
		"id": a.ID, "state": a.State, "status": a.Status, "expiredDateTime": tsPtr(a.Expired),
		"schedule":                        renderSchedule(&start, exp),
		"customExtensionCalloutInstances": []any{},
		// Not in the v1.0 metadata, but Graph's assignment JSON and request
		// bodies carry them; clients read them from additional data.
		"accessPackageId": a.PackageID, "assignmentPolicyId": a.PolicyID, "targetId": nil,
	}
	if sub := s.w.Subjects[a.TargetID]; sub != nil {
		m["targetId"] = nilIfEmpty(sub.ObjectID)
	}
	if nav("target") {
		m["target"] = s.renderSubject(s.w.Subjects[a.TargetID])
	}
	if nav("accessPackage") {
		if p := s.w.Packages[a.PackageID]; p != nil {
			m["accessPackage"] = s.renderPackage(p, none)
		}
	}
	if nav("assignmentPolicy") {
		if p := s.w.Policies[a.PolicyID]; p != nil {
			m["assignmentPolicy"] = s.renderPolicy(p, none)
		}
	}
	return m
}

func (s *Sim) renderStage(st approvalStage, c *caller) map[string]any {
	var rb any
	if st.ReviewedBy != nil {
		rb = map[string]any{"id": st.ReviewedBy.ID, "displayName": st.ReviewedBy.DisplayName}
	}
	mine := false
	if c != nil && !c.AppOnly {
		mine = s.isApprover(st, c.OID)
	}
	return map[string]any{
		"id": st.ID, "displayName": nil, "status": st.Status, "reviewResult": st.ReviewResult,
		"reviewedBy": rb, "reviewedDateTime": tsPtr(st.ReviewedAt), "justification": nilIfEmpty(st.Justification),
		"assignedToMe": mine,
	}
}

// renderApproval includes the stages, as Graph's approval GET does.
func (s *Sim) renderApproval(rq *request, c *caller) map[string]any {
	stages := []any{}
	for _, st := range rq.Stages {
		stages = append(stages, s.renderStage(st, c))
	}
	return map[string]any{"@odata.type": "#microsoft.graph.approval", "id": rq.ID, "stages": stages}
}
