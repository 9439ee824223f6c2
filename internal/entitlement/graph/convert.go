package graph

import (
	"fmt"
	"strings"
	"time"

	"github.com/accessbot/accessbot/internal/entitlement"
	absser "github.com/microsoft/kiota-abstractions-go/serialization"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
)

// Every getter of the SDK returns a pointer or interface that may be nil (absent, null, or an enum
// string this SDK version does not know): the helpers below read them defensively.

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func boolv(p *bool) bool { return p != nil && *p }

func tm(p *time.Time) time.Time {
	if p == nil {
		return time.Time{}
	}
	return p.UTC()
}

func i32(p *int32) int {
	if p == nil {
		return 0
	}
	return int(*p)
}

// isoString writes an ISO-8601 duration without weeks (Kiota's String() writes P30D as P4W2D).
func isoString(d *absser.ISODuration) string {
	if d == nil {
		return ""
	}
	days := d.GetWeeks()*7 + d.GetDays()
	var b strings.Builder
	b.WriteString("P")
	if y := d.GetYears(); y != 0 {
		fmt.Fprintf(&b, "%dY", y)
	}
	if days != 0 {
		fmt.Fprintf(&b, "%dD", days)
	}
	h, m, s, ms := d.GetHours(), d.GetMinutes(), d.GetSeconds(), d.GetMilliSeconds()
	if h != 0 || m != 0 || s != 0 || ms != 0 {
		b.WriteString("T")
		if h != 0 {
			fmt.Fprintf(&b, "%dH", h)
		}
		if m != 0 {
			fmt.Fprintf(&b, "%dM", m)
		}
		if s != 0 || ms != 0 {
			if ms != 0 {
				fmt.Fprintf(&b, "%d.%03dS", s, ms)
			} else {
				fmt.Fprintf(&b, "%dS", s)
			}
		}
	}
	if b.Len() == 1 {
		return "PT0S"
	}
	return b.String()
}

func additionalString(m map[string]any, key string) string {
	if m == nil {
		return ""
	}
	switch v := m[key].(type) {
	case *string:
		return str(v)
	case string:
		return v
	case fmt.Stringer:
		return v.String()
	}
	return ""
}

func toCatalog(m models.AccessPackageCatalogable) entitlement.Catalog {
	if m == nil {
		return entitlement.Catalog{}
	}
	c := entitlement.Catalog{
		ID:                  str(m.GetId()),
		Name:                str(m.GetDisplayName()),
		Description:         str(m.GetDescription()),
		IsExternallyVisible: boolv(m.GetIsExternallyVisible()),
		CreatedAt:           tm(m.GetCreatedDateTime()),
		ModifiedAt:          tm(m.GetModifiedDateTime()),
	}
	if v := m.GetState(); v != nil {
		c.State = v.String()
	}
	if v := m.GetCatalogType(); v != nil {
		c.Type = v.String()
	}
	return c
}

func toPackage(m models.AccessPackageable) entitlement.Package {
	if m == nil {
		return entitlement.Package{}
	}
	p := entitlement.Package{
		ID:          str(m.GetId()),
		Name:        str(m.GetDisplayName()),
		Description: str(m.GetDescription()),
		IsHidden:    boolv(m.GetIsHidden()),
		CreatedAt:   tm(m.GetCreatedDateTime()),
		ModifiedAt:  tm(m.GetModifiedDateTime()),
	}
	if cat := m.GetCatalog(); cat != nil {
		p.CatalogID = str(cat.GetId())
		p.CatalogName = str(cat.GetDisplayName())
	}
	for _, rrs := range m.GetResourceRoleScopes() {
		if rrs == nil {
			continue
		}
		rr := entitlement.ResourceRole{RoleScopeID: str(rrs.GetId())}
		if role := rrs.GetRole(); role != nil {
			rr.RoleName = str(role.GetDisplayName())
			rr.RoleOriginID = str(role.GetOriginId())
			rr.OriginSystem = str(role.GetOriginSystem())
			if res := role.GetResource(); res != nil {
				fillResource(&rr, res)
			}
		}
		if sc := rrs.GetScope(); sc != nil && rr.ResourceID == "" {
			if res := sc.GetResource(); res != nil {
				fillResource(&rr, res)
			}
		}
		p.Resources = append(p.Resources, rr)
	}
	return p
}

func fillResource(rr *entitlement.ResourceRole, res models.AccessPackageResourceable) {
	rr.ResourceID = str(res.GetId())
	rr.ResourceName = str(res.GetDisplayName())
	rr.OriginID = str(res.GetOriginId())
	if os := str(res.GetOriginSystem()); os != "" {
		rr.OriginSystem = os
	}
	switch rr.OriginSystem {
	case "AadGroup":
		rr.ResourceType = "Group"
	case "SharePointOnline":
		rr.ResourceType = "SharePoint Online Site"
	case "AadApplication":
		rr.ResourceType = "Application"
	default:
		rr.ResourceType = rr.OriginSystem
	}
}

func toExpiration(m models.ExpirationPatternable) entitlement.Expiration {
	if m == nil {
		return entitlement.Expiration{}
	}
	e := entitlement.Expiration{EndDateTime: tm(m.GetEndDateTime()), Duration: isoString(m.GetDuration())}
	if e.Duration == "" {
		// Written by us (or a server) as a plain string in additional data.
		e.Duration = additionalString(m.GetAdditionalData(), "duration")
	}
	if v := m.GetTypeEscaped(); v != nil {
		e.Type = entitlement.ExpirationType(v.String())
	} else {
		switch {
		case e.Duration != "":
			e.Type = entitlement.ExpireAfterDuration
		case !e.EndDateTime.IsZero():
			e.Type = entitlement.ExpireAfterDateTime
		default:
			e.Type = entitlement.ExpireNotSpecified
		}
	}
	return e
}

func toSchedule(m models.EntitlementManagementScheduleable) entitlement.Schedule {
	if m == nil {
		return entitlement.Schedule{}
	}
	return entitlement.Schedule{Start: tm(m.GetStartDateTime()), Expiration: toExpiration(m.GetExpiration())}
}

// toSubjectSet reads one subjectSet. An unknown or '#'-less @odata.type parses to the base type; its
// kind is then taken from the @odata.type string and its fields from additional data.
func toSubjectSet(m models.SubjectSetable) entitlement.SubjectSet {
	if m == nil {
		return entitlement.SubjectSet{Kind: entitlement.SetUnknown}
	}
	switch v := m.(type) {
	case *models.SingleUser:
		return entitlement.SubjectSet{Kind: entitlement.SetSingleUser, UserID: str(v.GetUserId()), Description: str(v.GetDescription())}
	case *models.GroupMembers:
		return entitlement.SubjectSet{Kind: entitlement.SetGroupMembers, GroupID: str(v.GetGroupId()), Description: str(v.GetDescription())}
	case *models.RequestorManager:
		lvl := i32(v.GetManagerLevel())
		if lvl == 0 {
			lvl = 1
		}
		return entitlement.SubjectSet{Kind: entitlement.SetRequestorManager, ManagerLevel: lvl}
	case *models.InternalSponsors:
		return entitlement.SubjectSet{Kind: entitlement.SetInternalSponsors}
	case *models.ExternalSponsors:
		return entitlement.SubjectSet{Kind: entitlement.SetExternalSponsors}
	case *models.ConnectedOrganizationMembers:
		return entitlement.SubjectSet{Kind: entitlement.SetConnectedOrganizationMembers, ConnectedOrgID: str(v.GetConnectedOrganizationId()), Description: str(v.GetDescription())}
	case *models.TargetUserSponsors:
		return entitlement.SubjectSet{Kind: entitlement.SetTargetUserSponsors}
	case *models.AttributeRuleMembers:
		return entitlement.SubjectSet{Kind: entitlement.SetAttributeRuleMembers, Description: str(v.GetDescription())}
	}
	ad := m.GetAdditionalData()
	kind := strings.TrimPrefix(strings.TrimPrefix(str(m.GetOdataType()), "#"), "microsoft.graph.")
	s := entitlement.SubjectSet{Kind: entitlement.SubjectSetKind(kind),
		UserID: additionalString(ad, "userId"), GroupID: additionalString(ad, "groupId"),
		ConnectedOrgID: additionalString(ad, "connectedOrganizationId"), Description: additionalString(ad, "description")}
	switch s.Kind {
	case entitlement.SetSingleUser, entitlement.SetGroupMembers, entitlement.SetRequestorManager,
		entitlement.SetInternalSponsors, entitlement.SetExternalSponsors, entitlement.SetConnectedOrganizationMembers,
		entitlement.SetTargetUserSponsors, entitlement.SetAttributeRuleMembers:
		if s.Kind == entitlement.SetRequestorManager {
			s.ManagerLevel = 1
		}
	default:
		s.Kind = entitlement.SetUnknown
	}
	return s
}

func toSubjectSets(ms []models.SubjectSetable) []entitlement.SubjectSet {
	if len(ms) == 0 {
		return nil
	}
	out := make([]entitlement.SubjectSet, 0, len(ms))
	for _, m := range ms {
		out = append(out, toSubjectSet(m))
	}
	return out
}

func toQuestion(m models.AccessPackageQuestionable) entitlement.Question {
	if m == nil {
		return entitlement.Question{}
	}
	q := entitlement.Question{
		ID:        str(m.GetId()),
		Text:      str(m.GetText()),
		Localized: toLocalized(str(m.GetText()), m.GetLocalizations()),
		Required:  boolv(m.GetIsRequired()),
		Sequence:  i32(m.GetSequence()),
		Kind:      entitlement.QuestionText,
	}
	switch v := m.(type) {
	case *models.AccessPackageTextInputQuestion:
		q.Regex = str(v.GetRegexPattern())
		q.MultiLine = v.GetIsSingleLineQuestion() != nil && !*v.GetIsSingleLineQuestion()
	case *models.AccessPackageMultipleChoiceQuestion:
		q.Kind = entitlement.QuestionChoice
		q.MultipleSelection = boolv(v.GetIsMultipleSelectionAllowed())
		for _, ch := range v.GetChoices() {
			if ch == nil {
				continue
			}
			c := entitlement.Choice{Value: str(ch.GetActualValue()), Text: str(ch.GetText()),
				Localized: toLocalized(str(ch.GetText()), ch.GetLocalizations())}
			if c.Text == "" {
				c.Text = c.Localized.For("")
			}
			if c.Text == "" {
				c.Text = c.Value
			}
			q.Choices = append(q.Choices, c)
		}
	}
	return q
}

// toLocalized reads a text and its localizations (accessPackageLocalizedText); translations without a
// language code or text are skipped.
func toLocalized(text string, locs []models.AccessPackageLocalizedTextable) entitlement.LocalizedText {
	lt := entitlement.LocalizedText{Default: text}
	for _, l := range locs {
		if l == nil {
			continue
		}
		code, t := strings.TrimSpace(str(l.GetLanguageCode())), str(l.GetText())
		if code == "" || t == "" {
			continue
		}
		if lt.ByLanguage == nil {
			lt.ByLanguage = map[string]string{}
		}
		lt.ByLanguage[code] = t
	}
	return lt
}

func toQuestions(ms []models.AccessPackageQuestionable) []entitlement.Question {
	var out []entitlement.Question
	for _, m := range ms {
		if m != nil {
			out = append(out, toQuestion(m))
		}
	}
	return out
}

func toPolicy(m models.AccessPackageAssignmentPolicyable) entitlement.Policy {
	if m == nil {
		return entitlement.Policy{}
	}
	p := entitlement.Policy{
		ID:              str(m.GetId()),
		Name:            str(m.GetDisplayName()),
		Description:     str(m.GetDescription()),
		Scope:           entitlement.ScopeNotSpecified,
		SpecificTargets: toSubjectSets(m.GetSpecificAllowedTargets()),
		Expiration:      toExpiration(m.GetExpiration()),
		Questions:       toQuestions(m.GetQuestions()),
		CreatedAt:       tm(m.GetCreatedDateTime()),
		ModifiedAt:      tm(m.GetModifiedDateTime()),
	}
	if v := m.GetAllowedTargetScope(); v != nil {
		p.Scope = entitlement.TargetScope(v.String())
	}
	if ap := m.GetAccessPackage(); ap != nil {
		p.PackageID = str(ap.GetId())
	}
	if p.PackageID == "" {
		p.PackageID = additionalString(m.GetAdditionalData(), "accessPackageId")
	}
	if rs := m.GetRequestorSettings(); rs != nil {
		p.SelfAddAllowed = boolv(rs.GetEnableTargetsToSelfAddAccess())
		p.SelfRemoveAllowed = boolv(rs.GetEnableTargetsToSelfRemoveAccess())
		p.SelfUpdateAllowed = boolv(rs.GetEnableTargetsToSelfUpdateAccess())
		p.CustomScheduleAllowed = boolv(rs.GetAllowCustomAssignmentSchedule())
	}
	if as := m.GetRequestApprovalSettings(); as != nil {
		p.ApprovalRequired = boolv(as.GetIsApprovalRequiredForAdd())
		p.ApprovalRequiredForUpdate = boolv(as.GetIsApprovalRequiredForUpdate())
		p.RequestorJustificationRequired = boolv(as.GetIsRequestorJustificationRequired())
		for _, st := range as.GetStages() {
			if st == nil {
				continue
			}
			p.Stages = append(p.Stages, entitlement.Stage{
				DurationBeforeAutomaticDenial: durationOf(st.GetDurationBeforeAutomaticDenial(), st.GetAdditionalData(), "durationBeforeAutomaticDenial"),
				ApproverJustificationRequired: boolv(st.GetIsApproverJustificationRequired()),
				EscalationEnabled:             boolv(st.GetIsEscalationEnabled()),
				DurationBeforeEscalation:      durationOf(st.GetDurationBeforeEscalation(), st.GetAdditionalData(), "durationBeforeEscalation"),
				PrimaryApprovers:              toSubjectSets(st.GetPrimaryApprovers()),
				FallbackPrimaryApprovers:      toSubjectSets(st.GetFallbackPrimaryApprovers()),
				EscalationApprovers:           toSubjectSets(st.GetEscalationApprovers()),
				FallbackEscalationApprovers:   toSubjectSets(st.GetFallbackEscalationApprovers()),
			})
		}
	}
	return p
}

func durationOf(d *absser.ISODuration, ad map[string]any, key string) string {
	if s := isoString(d); s != "" {
		return s
	}
	return additionalString(ad, key)
}

func toRequirements(m models.AccessPackageAssignmentRequestRequirementsable) entitlement.Requirements {
	if m == nil {
		return entitlement.Requirements{}
	}
	r := entitlement.Requirements{
		PolicyID:                       str(m.GetPolicyId()),
		PolicyName:                     str(m.GetPolicyDisplayName()),
		PolicyDescription:              str(m.GetPolicyDescription()),
		RequestorJustificationRequired: boolv(m.GetIsRequestorJustificationRequired()),
		ApprovalRequired:               boolv(m.GetIsApprovalRequiredForAdd()),
		ApprovalRequiredForUpdate:      boolv(m.GetIsApprovalRequiredForUpdate()),
		CustomScheduleAllowed:          boolv(m.GetAllowCustomAssignmentSchedule()),
		Questions:                      toQuestions(m.GetQuestions()),
		Schedule:                       toSchedule(m.GetSchedule()),
	}
	return r
}

func toSubject(m models.AccessPackageSubjectable) entitlement.Subject {
	if m == nil {
		return entitlement.Subject{}
	}
	s := entitlement.Subject{
		ID:            str(m.GetObjectId()),
		Name:          str(m.GetDisplayName()),
		Email:         str(m.GetEmail()),
		PrincipalName: str(m.GetPrincipalName()),
		Kind:          entitlement.SubjectUnknown,
	}
	if v := m.GetSubjectType(); v != nil {
		s.Kind = entitlement.SubjectKind(v.String())
	}
	if co := m.GetConnectedOrganization(); co != nil {
		s.ConnectedOrgID = str(co.GetId())
		s.TenantID = toConnectedOrg(co).TenantID()
	}
	return s
}

func toConnectedOrg(m models.ConnectedOrganizationable) entitlement.ConnectedOrg {
	if m == nil {
		return entitlement.ConnectedOrg{}
	}
	o := entitlement.ConnectedOrg{
		ID:          str(m.GetId()),
		Name:        str(m.GetDisplayName()),
		Description: str(m.GetDescription()),
		CreatedAt:   tm(m.GetCreatedDateTime()),
		ModifiedAt:  tm(m.GetModifiedDateTime()),
	}
	if v := m.GetState(); v != nil {
		o.State = entitlement.ConnectedOrgState(v.String())
	}
	for _, src := range m.GetIdentitySources() {
		switch v := src.(type) {
		case nil:
		case *models.AzureActiveDirectoryTenant:
			o.Sources = append(o.Sources, entitlement.IdentitySource{Kind: entitlement.SourceTenant, TenantID: str(v.GetTenantId()), DisplayName: str(v.GetDisplayName())})
		case *models.DomainIdentitySource:
			o.Sources = append(o.Sources, entitlement.IdentitySource{Kind: entitlement.SourceDomain, DomainName: str(v.GetDomainName()), DisplayName: str(v.GetDisplayName())})
		case *models.ExternalDomainFederation:
			o.Sources = append(o.Sources, entitlement.IdentitySource{Kind: entitlement.SourceFederation, DomainName: str(v.GetDomainName()), DisplayName: str(v.GetDisplayName()), IssuerURI: str(v.GetIssuerUri())})
		default:
			// An @odata.type without the leading '#' (as in some doc examples) parses to the base type:
			// take the kind from the string and the fields from additional data.
			ad := src.GetAdditionalData()
			kind := entitlement.SourceOther
			switch strings.TrimPrefix(strings.TrimPrefix(str(src.GetOdataType()), "#"), "microsoft.graph.") {
			case "azureActiveDirectoryTenant":
				kind = entitlement.SourceTenant
			case "domainIdentitySource":
				kind = entitlement.SourceDomain
			case "externalDomainFederation":
				kind = entitlement.SourceFederation
			}
			o.Sources = append(o.Sources, entitlement.IdentitySource{Kind: kind,
				TenantID: additionalString(ad, "tenantId"), DomainName: additionalString(ad, "domainName"),
				DisplayName: additionalString(ad, "displayName"), IssuerURI: additionalString(ad, "issuerUri")})
		}
	}
	return o
}

func (c *Client) toUser(m models.Userable) entitlement.User {
	if m == nil {
		return entitlement.User{}
	}
	u := entitlement.User{
		ID:                str(m.GetId()),
		Name:              str(m.GetDisplayName()),
		Mail:              str(m.GetMail()),
		UPN:               str(m.GetUserPrincipalName()),
		UserType:          str(m.GetUserType()),
		ExternalUserState: str(m.GetExternalUserState()),
		AccountEnabled:    m.GetAccountEnabled() == nil || *m.GetAccountEnabled(),
		TenantID:          c.tenant,
		JobTitle:          str(m.GetJobTitle()),
	}
	if u.UserType == "" {
		u.UserType = "Member"
	}
	return u
}
