package tenantsim

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Assignment policy writes (POST assignmentPolicies, PUT/DELETE assignmentPolicies/{id}) with the checks
// Graph makes: a known package and target scope, targets for the specific… scopes, an expiration that can
// be computed, and approval stages that have someone to ask (an approval policy without approvers, or one
// for external users whose only approver is the requestor's manager without fallback approvers, is refused).

const maxApprovalStages = 3

// emPolicyWrites handles the policy writes; false when the request is not one of them.
func (s *Sim) emPolicyWrites(g *gctx, seg []string) (bool, *graphErr) {
	m := g.r.Method
	switch {
	case len(seg) == 0 && m == http.MethodPost:
		return true, s.adminOnly(g, func(g *gctx) *graphErr { return s.putPolicy(g, nil) })
	case len(seg) == 1 && (m == http.MethodPut || m == http.MethodDelete):
		pol := s.w.Policies[seg[0]]
		if pol == nil {
			return true, errNotFound("accessPackageAssignmentPolicy", seg[0])
		}
		if m == http.MethodPut {
			return true, s.adminOnly(g, func(g *gctx) *graphErr { return s.putPolicy(g, pol) })
		}
		return true, s.adminOnly(g, func(g *gctx) *graphErr {
			for _, a := range s.w.Assignments {
				if a.PolicyID == pol.ID && isActiveAssignment(a) {
					return &graphErr{Status: http.StatusBadRequest, Code: "PolicyHasAssignments",
						Message: "The policy '" + pol.DisplayName + "' cannot be deleted because assignments were made through it."}
				}
			}
			delete(s.w.Policies, pol.ID)
			g.mutated = true
			g.w.WriteHeader(http.StatusNoContent)
			return nil
		})
	}
	return false, nil
}

// putPolicy creates a policy (old nil) or replaces old with the body.
func (s *Sim) putPolicy(g *gctx, old *policy) *graphErr {
	body, gerr := readJSONObject(g.r)
	if gerr != nil {
		return gerr
	}
	p, gerr := s.parsePolicy(body)
	if gerr != nil {
		return gerr
	}
	status := http.StatusCreated
	if old != nil {
		if p.PackageID != old.PackageID && jstr(jobj(body, "accessPackage"), "id") != "" {
			return errBadRequest("The access package of a policy cannot be changed.")
		}
		p.ID, p.Ord, p.PackageID, p.Created = old.ID, old.Ord, old.PackageID, old.Created
		status = http.StatusOK
	} else {
		if p.PackageID == "" {
			return errBadRequest("The property 'accessPackage' with the access package's 'id' is required to create a policy.")
		}
		p.ID, p.Ord, p.Created = newID(), s.w.nextOrd(), s.now()
	}
	p.Modified = s.now()
	s.w.Policies[p.ID] = p
	g.mutated = true
	s.writeEntity(g.w, status, g.q, emCtx+"assignmentPolicies", s.renderPolicy(p, all))
	return nil
}

func (s *Sim) parsePolicy(body map[string]any) (*policy, *graphErr) {
	p := &policy{DisplayName: strings.TrimSpace(jstr(body, "displayName")), Description: jstr(body, "description"),
		AllowedTargetScope: jstr(body, "allowedTargetScope")}
	if p.DisplayName == "" {
		return nil, errBadRequest("The property 'displayName' is required for an accessPackageAssignmentPolicy.")
	}
	if id := jstr(jobj(body, "accessPackage"), "id"); id != "" {
		if s.w.Packages[id] == nil {
			return nil, errBadRequest("The access package '%s' referenced by 'accessPackage.id' does not exist.", id)
		}
		p.PackageID = id
	}
	if gerr := s.parseTargets(p, body); gerr != nil {
		return nil, gerr
	}
	exp, gerr := parseExpiration(jobj(body, "expiration"), s.now())
	if gerr != nil {
		return nil, gerr
	}
	p.Expiration = exp
	rs := jobj(body, "requestorSettings")
	p.SelfAdd = jbool(rs, "enableTargetsToSelfAddAccess")
	p.SelfRemove = jbool(rs, "enableTargetsToSelfRemoveAccess")
	p.AllowCustomSchedule = jbool(rs, "allowCustomAssignmentSchedule")
	if gerr := s.parseApproval(p, jobj(body, "requestApprovalSettings")); gerr != nil {
		return nil, gerr
	}
	qs, gerr := parseQuestions(jarr(body, "questions"))
	if gerr != nil {
		return nil, gerr
	}
	p.Questions = qs
	p.Extra = unmodelled(body, "id", "displayName", "description", "allowedTargetScope", "specificAllowedTargets", "expiration",
		"requestorSettings", "requestApprovalSettings", "questions", "accessPackage", "catalog", "createdDateTime", "modifiedDateTime")
	p.RequestorExtra = unmodelled(rs, "enableTargetsToSelfAddAccess", "enableTargetsToSelfUpdateAccess",
		"enableTargetsToSelfRemoveAccess", "allowCustomAssignmentSchedule")
	p.ApprovalExtra = unmodelled(jobj(body, "requestApprovalSettings"), "isApprovalRequiredForAdd", "isApprovalRequiredForUpdate",
		"isRequestorJustificationRequired", "stages")
	return p, nil
}

// unmodelled is the properties of m other than known and OData annotations (nil when there are none).
func unmodelled(m map[string]any, known ...string) map[string]any {
	var out map[string]any
	for k, v := range m {
		if slices.Contains(known, k) || strings.Contains(k, "@odata.") {
			continue
		}
		if out == nil {
			out = map[string]any{}
		}
		out[k] = v
	}
	return out
}

func jbool(m map[string]any, key string) bool {
	v, _ := jget(m, key)
	b, _ := v.(bool)
	return b
}

func (s *Sim) parseTargets(p *policy, body map[string]any) *graphErr {
	switch p.AllowedTargetScope {
	case "allMemberUsers", "allDirectoryUsers", "allConfiguredConnectedOrganizationUsers", "allExternalUsers", "notSpecified":
	case "specificDirectoryUsers", "specificConnectedOrganizationUsers":
	case "":
		return errBadRequest("The property 'allowedTargetScope' is required.")
	default:
		return errBadRequest("The value '%s' of 'allowedTargetScope' is not valid.", p.AllowedTargetScope)
	}
	sets, gerr := s.parseSubjectSets(jarr(body, "specificAllowedTargets"), "specificAllowedTargets")
	if gerr != nil {
		return gerr
	}
	p.SpecificTargets = sets
	if strings.HasPrefix(p.AllowedTargetScope, "specific") && len(sets) == 0 {
		return errBadRequest("'specificAllowedTargets' must name at least one target when 'allowedTargetScope' is '%s'.", p.AllowedTargetScope)
	}
	for _, t := range sets {
		switch {
		case p.AllowedTargetScope == "specificConnectedOrganizationUsers" && t.Type != "connectedOrganizationMembers":
			return errBadRequest("'specificAllowedTargets' of a specificConnectedOrganizationUsers policy must be connectedOrganizationMembers, not %s.", t.Type)
		case p.AllowedTargetScope == "specificDirectoryUsers" && t.Type != "singleUser" && t.Type != "groupMembers":
			return errBadRequest("'specificAllowedTargets' of a specificDirectoryUsers policy must be singleUser or groupMembers, not %s.", t.Type)
		}
	}
	return nil
}

// parseSubjectSets reads subject sets and checks that the users, groups and organizations they name exist.
func (s *Sim) parseSubjectSets(raw []any, prop string) ([]subjectSet, *graphErr) {
	var out []subjectSet
	for i, v := range raw {
		m, _ := v.(map[string]any)
		typ := strings.TrimPrefix(strings.TrimPrefix(jstr(m, "@odata.type"), "#"), "microsoft.graph.")
		ss := subjectSet{Type: typ, Description: jstr(m, "description")}
		switch typ {
		case "singleUser":
			ss.UserID = jstr(m, "userId")
			if u := s.w.Users[ss.UserID]; u == nil || u.TenantID != ContosoTenantID {
				return nil, errBadRequest("%s[%d]: the user '%s' does not exist in this directory.", prop, i, ss.UserID)
			}
		case "groupMembers":
			ss.GroupID = jstr(m, "groupId")
			if gr := s.w.Groups[ss.GroupID]; gr == nil || gr.TenantID != ContosoTenantID {
				return nil, errBadRequest("%s[%d]: the group '%s' does not exist in this directory.", prop, i, ss.GroupID)
			}
		case "connectedOrganizationMembers":
			ss.ConnectedOrg = jstr(m, "connectedOrganizationId")
			if s.w.ConnectedOrgs[ss.ConnectedOrg] == nil {
				return nil, errBadRequest("%s[%d]: the connected organization '%s' does not exist.", prop, i, ss.ConnectedOrg)
			}
		case "requestorManager":
			ss.ManagerLevel = 1
			if v, ok := jget(m, "managerLevel"); ok {
				f, _ := v.(float64)
				ss.ManagerLevel = int(f)
			}
		case "internalSponsors", "externalSponsors":
		case "":
			return nil, errBadRequest("%s[%d]: '@odata.type' is required (for example #microsoft.graph.singleUser).", prop, i)
		default:
			return nil, errBadRequest("%s[%d]: the subject set type '%s' is not supported.", prop, i, typ)
		}
		out = append(out, ss)
	}
	return out, nil
}

func parseExpiration(m map[string]any, now time.Time) (expirationPattern, *graphErr) {
	e := expirationPattern{Type: jstr(m, "type")}
	switch e.Type {
	case "", "notSpecified", "noExpiration":
		if e.Type == "" {
			e.Type = "noExpiration"
		}
	case "afterDuration":
		e.Duration = jstr(m, "duration")
		if d, err := parseISODuration(e.Duration); err != nil || d <= 0 {
			return e, errBadRequest("'expiration.duration' must be a positive ISO-8601 duration such as P30D when the type is afterDuration; got '%s'.", e.Duration)
		}
	case "afterDateTime":
		t, err := time.Parse(time.RFC3339, jstr(m, "endDateTime"))
		if err != nil {
			return e, errBadRequest("'expiration.endDateTime' must be a date and time (ISO 8601) when the type is afterDateTime.")
		}
		if !t.After(now) {
			return e, errBadRequest("'expiration.endDateTime' must be in the future.")
		}
		e.EndDateTime = &t
	default:
		return e, errBadRequest("The value '%s' of 'expiration.type' is not valid.", e.Type)
	}
	return e, nil
}

func (s *Sim) parseApproval(p *policy, m map[string]any) *graphErr {
	p.ApprovalRequired = jbool(m, "isApprovalRequiredForAdd")
	p.JustificationRequired = jbool(m, "isRequestorJustificationRequired")
	stages := jarr(m, "stages")
	if !p.ApprovalRequired {
		if len(stages) > 0 {
			return errBadRequest("'requestApprovalSettings.stages' must be empty when 'isApprovalRequiredForAdd' is false.")
		}
		return nil
	}
	if len(stages) == 0 || len(stages) > maxApprovalStages {
		return errBadRequest("A policy that requires approval needs 1 to %d approval stages in 'requestApprovalSettings.stages'; got %d.", maxApprovalStages, len(stages))
	}
	external := p.AllowedTargetScope == "specificConnectedOrganizationUsers" || p.AllowedTargetScope == "allConfiguredConnectedOrganizationUsers" || p.AllowedTargetScope == "allExternalUsers"
	for i, raw := range stages {
		sm, _ := raw.(map[string]any)
		st, gerr := s.parseStage(sm, fmt.Sprintf("requestApprovalSettings.stages[%d]", i))
		if gerr != nil {
			return gerr
		}
		if len(st.Primary) == 0 {
			return &graphErr{Status: http.StatusBadRequest, Code: "InvalidApprovalStage",
				Message: fmt.Sprintf("Approval stage %d has no primary approvers; a policy that requires approval needs at least one approver in every stage.", i+1)}
		}
		if external && onlyManager(st.Primary) && len(st.FallbackPrimary) == 0 {
			return &graphErr{Status: http.StatusBadRequest, Code: "InvalidApprovalStage",
				Message: fmt.Sprintf("Approval stage %d asks only the requestor's manager, but users from outside the directory have no manager here; add fallback approvers.", i+1)}
		}
		p.Stages = append(p.Stages, st)
	}
	return nil
}

func onlyManager(sets []subjectSet) bool {
	for _, s := range sets {
		if s.Type != "requestorManager" {
			return false
		}
	}
	return len(sets) > 0
}

func (s *Sim) parseStage(m map[string]any, prop string) (stageDef, *graphErr) {
	st := stageDef{DurationBeforeAutomaticDenial: jstr(m, "durationBeforeAutomaticDenial"),
		IsApproverJustificationRequired: jbool(m, "isApproverJustificationRequired"),
		IsEscalationEnabled:             jbool(m, "isEscalationEnabled"),
		DurationBeforeEscalation:        jstr(m, "durationBeforeEscalation"),
		Extra: unmodelled(m, "durationBeforeAutomaticDenial", "isApproverJustificationRequired", "isEscalationEnabled", "durationBeforeEscalation",
			"primaryApprovers", "fallbackPrimaryApprovers", "escalationApprovers", "fallbackEscalationApprovers")}
	if st.DurationBeforeAutomaticDenial == "" {
		st.DurationBeforeAutomaticDenial = "P14D"
	}
	deny, err := parseISODuration(st.DurationBeforeAutomaticDenial)
	if err != nil || deny <= 0 || deny > 14*24*time.Hour {
		return st, errBadRequest("%s.durationBeforeAutomaticDenial must be a duration of at most 14 days (P14D); got '%s'.", prop, st.DurationBeforeAutomaticDenial)
	}
	var gerr *graphErr
	for _, f := range []struct {
		key string
		dst *[]subjectSet
	}{{"primaryApprovers", &st.Primary}, {"fallbackPrimaryApprovers", &st.FallbackPrimary},
		{"escalationApprovers", &st.Escalation}, {"fallbackEscalationApprovers", &st.FallbackEscalation}} {
		if *f.dst, gerr = s.parseSubjectSets(jarr(m, f.key), prop+"."+f.key); gerr != nil {
			return st, gerr
		}
	}
	if st.IsEscalationEnabled {
		esc, err := parseISODuration(st.DurationBeforeEscalation)
		if err != nil || esc <= 0 || esc >= deny {
			return st, errBadRequest("%s.durationBeforeEscalation must be a duration shorter than durationBeforeAutomaticDenial; got '%s'.", prop, st.DurationBeforeEscalation)
		}
		if len(st.Escalation) == 0 {
			return st, errBadRequest("%s.escalationApprovers must name at least one approver when escalation is enabled.", prop)
		}
	}
	return st, nil
}

func parseQuestions(raw []any) ([]question, *graphErr) {
	var out []question
	for i, v := range raw {
		m, _ := v.(map[string]any)
		q := question{ID: newID(), Text: strings.TrimSpace(jstr(m, "text")), IsRequired: jbool(m, "isRequired"),
			Sequence: i + 1, IsAnswerEdit: jbool(m, "isAnswerEditable"),
			Extra: unmodelled(m, "id", "text", "isRequired", "sequence", "isAnswerEditable", "regexPattern", "isSingleLineQuestion",
				"choices", "isMultipleSelectionAllowed")}
		if id := jstr(m, "id"); id != "" {
			q.ID = id // a question kept by an update keeps its id
		}
		if q.Text == "" {
			return nil, errBadRequest("questions[%d].text is required.", i)
		}
		switch strings.TrimPrefix(jstr(m, "@odata.type"), "#") {
		case "microsoft.graph.accessPackageTextInputQuestion":
			q.Kind, q.IsSingleLine, q.Regex = "text", jbool(m, "isSingleLineQuestion"), jstr(m, "regexPattern")
		case "microsoft.graph.accessPackageMultipleChoiceQuestion":
			q.Kind, q.MultipleAllowed = "multipleChoice", jbool(m, "isMultipleSelectionAllowed")
			for _, c := range jarr(m, "choices") {
				cm, _ := c.(map[string]any)
				q.Choices = append(q.Choices, choice{ActualValue: jstr(cm, "actualValue"), Text: jstr(cm, "text"),
					Extra: unmodelled(cm, "actualValue", "text")})
			}
			if len(q.Choices) < 2 {
				return nil, errBadRequest("questions[%d]: a multiple choice question needs at least two choices.", i)
			}
		default:
			return nil, errBadRequest("questions[%d]: '@odata.type' must be #microsoft.graph.accessPackageTextInputQuestion or #microsoft.graph.accessPackageMultipleChoiceQuestion.", i)
		}
		out = append(out, q)
	}
	return out, nil
}
