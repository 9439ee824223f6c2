package graph

import (
	"fmt"
	"strings"
	"time"

	"github.com/accessbot/accessbot/internal/entitlement"
)

// policyBody writes an assignment policy as Graph's JSON (accessPackageAssignmentPolicy), durations as the
// ISO strings given. It checks what Graph would refuse without a round trip only where the field is ours
// to name (empty name, unknown kinds); Graph's own rules stay Graph's.
func policyBody(p entitlement.Policy) (map[string]any, error) {
	if strings.TrimSpace(p.Name) == "" {
		return nil, entitlement.Invalid("policy name", "is required")
	}
	targets, err := subjectSetsBody(p.SpecificTargets, "who may request")
	if err != nil {
		return nil, err
	}
	body := map[string]any{
		"displayName":            strings.TrimSpace(p.Name),
		"description":            p.Description,
		"allowedTargetScope":     string(p.Scope),
		"specificAllowedTargets": targets,
		"expiration":             expirationBody(p.Expiration),
		"requestorSettings": map[string]any{
			"enableTargetsToSelfAddAccess":    p.SelfAddAllowed,
			"enableTargetsToSelfUpdateAccess": p.SelfUpdateAllowed,
			"enableTargetsToSelfRemoveAccess": p.SelfRemoveAllowed,
			"allowCustomAssignmentSchedule":   p.CustomScheduleAllowed,
		},
	}
	if p.PackageID != "" {
		body["accessPackage"] = map[string]any{"id": p.PackageID}
	}
	stages := []any{}
	for i, s := range p.Stages {
		sb, err := stageBody(s, i)
		if err != nil {
			return nil, err
		}
		stages = append(stages, sb)
	}
	body["requestApprovalSettings"] = map[string]any{
		"isApprovalRequiredForAdd":         p.ApprovalRequired,
		"isApprovalRequiredForUpdate":      p.ApprovalRequiredForUpdate,
		"isRequestorJustificationRequired": p.RequestorJustificationRequired,
		"stages":                           stages,
	}
	qs := []any{}
	for i, q := range p.Questions {
		qb, err := questionBody(q, i)
		if err != nil {
			return nil, err
		}
		qs = append(qs, qb)
	}
	body["questions"] = qs
	return body, nil
}

func expirationBody(e entitlement.Expiration) map[string]any {
	switch e.Type {
	case entitlement.ExpireAfterDuration:
		return map[string]any{"type": "afterDuration", "duration": e.Duration}
	case entitlement.ExpireAfterDateTime:
		return map[string]any{"type": "afterDateTime", "endDateTime": e.EndDateTime.UTC().Format(time.RFC3339)}
	}
	return map[string]any{"type": "noExpiration"}
}

func stageBody(s entitlement.Stage, i int) (map[string]any, error) {
	field := fmt.Sprintf("approval stage %d", i+1)
	m := map[string]any{
		"durationBeforeAutomaticDenial":   s.DurationBeforeAutomaticDenial,
		"isApproverJustificationRequired": s.ApproverJustificationRequired,
		"isEscalationEnabled":             s.EscalationEnabled,
	}
	if s.EscalationEnabled {
		m["durationBeforeEscalation"] = s.DurationBeforeEscalation
	}
	for _, f := range []struct {
		key  string
		sets []entitlement.SubjectSet
	}{{"primaryApprovers", s.PrimaryApprovers}, {"fallbackPrimaryApprovers", s.FallbackPrimaryApprovers},
		{"escalationApprovers", s.EscalationApprovers}, {"fallbackEscalationApprovers", s.FallbackEscalationApprovers}} {
		b, err := subjectSetsBody(f.sets, field+" "+f.key)
		if err != nil {
			return nil, err
		}
		m[f.key] = b
	}
	return m, nil
}

func subjectSetsBody(sets []entitlement.SubjectSet, field string) ([]any, error) {
	out := []any{}
	for _, s := range sets {
		m := map[string]any{"@odata.type": "#microsoft.graph." + string(s.Kind)}
		switch s.Kind {
		case entitlement.SetSingleUser:
			m["userId"], m["isBackup"] = s.UserID, s.IsBackup
		case entitlement.SetGroupMembers:
			m["groupId"], m["isBackup"] = s.GroupID, s.IsBackup
		case entitlement.SetConnectedOrganizationMembers:
			m["connectedOrganizationId"] = s.ConnectedOrgID
		case entitlement.SetRequestorManager:
			lvl := s.ManagerLevel
			if lvl == 0 {
				lvl = 1
			}
			m["managerLevel"] = lvl
		case entitlement.SetInternalSponsors, entitlement.SetExternalSponsors, entitlement.SetTargetUserSponsors:
		default:
			return nil, entitlement.Invalid(field, fmt.Sprintf("has a rule of unknown kind %q", s.Kind))
		}
		if s.Description != "" {
			m["description"] = s.Description
		}
		out = append(out, m)
	}
	return out, nil
}

func questionBody(q entitlement.Question, i int) (map[string]any, error) {
	m := map[string]any{"text": q.Text, "isRequired": q.Required, "sequence": i + 1, "isAnswerEditable": true}
	if q.ID != "" {
		m["id"] = q.ID // a kept question (an update keeps its other fields, such as its translations)
	}
	switch q.Kind {
	case entitlement.QuestionChoice:
		m["@odata.type"] = "#microsoft.graph.accessPackageMultipleChoiceQuestion"
		m["isMultipleSelectionAllowed"] = q.MultipleSelection
		ch := []any{}
		for _, c := range q.Choices {
			ch = append(ch, map[string]any{"actualValue": c.Value, "text": c.Text})
		}
		m["choices"] = ch
	case entitlement.QuestionText, "":
		m["@odata.type"] = "#microsoft.graph.accessPackageTextInputQuestion"
		m["isSingleLineQuestion"] = !q.MultiLine
		if q.Regex != "" {
			m["regexPattern"] = q.Regex
		}
	default:
		return nil, entitlement.Invalid(fmt.Sprintf("question %d", i+1), fmt.Sprintf("has unknown kind %q", q.Kind))
	}
	return m, nil
}
