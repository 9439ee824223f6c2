package builder

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/accessbot/accessbot/internal/entitlement"
)

// RoleOptions are the roles the resources step offers: every role of the catalog's resources, then the roles of
// each group, site or application found by the last search that is not in the catalog yet (added to it on
// Create; a group found without roles offers Member and Owner).
func RoleOptions(resources []entitlement.CatalogResource, found []entitlement.DirectoryResource) []RoleDraft {
	var out []RoleDraft
	inCatalog := map[string]bool{}
	for _, r := range resources {
		inCatalog[r.OriginID] = true
		for _, role := range r.Roles {
			out = append(out, RoleDraft{ResourceID: r.ID, ResourceName: r.Name, ResourceOriginID: r.OriginID,
				OriginSystem: r.OriginSystem, RoleName: role.Name, RoleOriginID: role.OriginID})
		}
	}
	for _, f := range found {
		if inCatalog[f.OriginID] {
			continue
		}
		roles := f.Roles
		if len(roles) == 0 {
			roles = []string{groupRoleMember, groupRoleOwner}
		}
		for _, role := range roles {
			out = append(out, RoleDraft{ResourceName: f.Name, ResourceOriginID: f.OriginID, OriginSystem: f.OriginSystem,
				RoleName: role, Pending: true})
		}
	}
	return out
}

// The texts Create writes into Entra (policy and catalog names and descriptions): directory data of the
// tenant, one text for every reader, kept in English like the rest of what AccessBot records; the builder's
// cards show them as data. Group roles are Entra's own names.
const (
	policyNameMembers     = "Members of the directory"
	policyNameOrgs        = "Users of %s"
	policyNameAllOrgs     = "Users of connected organizations"
	policyNameAdmins      = "Assigned by admins"
	policyNameSomeOrgs    = "connected organizations"
	policyNameAnd         = "%s and %s"
	policyDescription     = "Created with AccessBot by %s."
	policyDescriptionAnon = "an admin"
	catalogDescription    = "Created with AccessBot for %s."
	groupRoleMember       = "Member"
	groupRoleOwner        = "Owner"
)

// PolicyName is the name Create gives the policy (editing: the policy's own name).
func (d *Draft) PolicyName() string {
	if d.Edit && d.PolicyLabel != "" {
		return d.PolicyLabel
	}
	switch d.Who {
	case WhoMembers:
		return policyNameMembers
	case WhoOrgs:
		return fmt.Sprintf(policyNameOrgs, joinAnd(d.OrgNames))
	case WhoAllOrgs:
		return policyNameAllOrgs
	}
	return policyNameAdmins
}

func joinAnd(names []string) string {
	switch len(names) {
	case 0:
		return policyNameSomeOrgs
	case 1:
		return names[0]
	}
	return fmt.Sprintf(policyNameAnd, strings.Join(names[:len(names)-1], ", "), names[len(names)-1])
}

// Policy is the assignment policy the draft describes, for packageID.
func (d *Draft) Policy(packageID string) entitlement.Policy {
	p := entitlement.Policy{
		PackageID:                      packageID,
		Name:                           d.PolicyName(),
		Description:                    d.policyDescription(),
		SelfAddAllowed:                 d.Who != WhoNobody,
		SelfRemoveAllowed:              d.Who != WhoNobody,
		SelfUpdateAllowed:              d.Who != WhoNobody && d.ExtensionAllowed,
		CustomScheduleAllowed:          d.Who != WhoNobody && d.CustomSchedule,
		RequestorJustificationRequired: d.RequestorJustification,
		ApprovalRequired:               len(d.Stages) > 0,
		ApprovalRequiredForUpdate:      len(d.Stages) > 0 && d.ExtensionAllowed,
	}
	switch d.Who {
	case WhoMembers:
		p.Scope = entitlement.ScopeAllMemberUsers
	case WhoOrgs:
		p.Scope = entitlement.ScopeSpecificConnectedOrganizationUsers
		for _, id := range d.OrgIDs {
			p.SpecificTargets = append(p.SpecificTargets, entitlement.SubjectSet{Kind: entitlement.SetConnectedOrganizationMembers, ConnectedOrgID: id})
		}
	case WhoAllOrgs:
		p.Scope = entitlement.ScopeAllConfiguredConnectedOrganizationUsers
	default:
		p.Scope = entitlement.ScopeNotSpecified
	}
	switch d.Expiry {
	case ExpireDays:
		p.Expiration = entitlement.Expiration{Type: entitlement.ExpireAfterDuration, Duration: "P" + strconv.Itoa(d.ExpiryDays) + "D"}
	case ExpireDate:
		p.Expiration = entitlement.Expiration{Type: entitlement.ExpireAfterDateTime, EndDateTime: d.ExpiryDate}
	default:
		p.Expiration = entitlement.Expiration{Type: entitlement.ExpireNever}
	}
	for _, s := range d.Stages {
		st := entitlement.Stage{
			DurationBeforeAutomaticDenial: fmt.Sprintf("P%dD", max(1, s.AutoDenyDays)),
			ApproverJustificationRequired: s.JustificationRequired,
			PrimaryApprovers:              subjectSets(s.Approvers),
			FallbackPrimaryApprovers:      subjectSets(s.Fallback),
		}
		if s.EscalateAfterHours > 0 {
			st.EscalationEnabled = true
			st.DurationBeforeEscalation = fmt.Sprintf("PT%dH", s.EscalateAfterHours)
			st.EscalationApprovers = subjectSets(s.EscalateTo)
		}
		p.Stages = append(p.Stages, st)
	}
	for _, q := range d.Questions {
		eq := entitlement.Question{ID: q.ID, Text: q.Text, Required: q.Required, Kind: entitlement.QuestionText, Regex: q.Regex}
		if len(q.Choices) > 0 {
			eq.Kind, eq.Regex = entitlement.QuestionChoice, ""
			for _, c := range q.Choices {
				eq.Choices = append(eq.Choices, entitlement.Choice{Value: c, Text: c})
			}
		}
		p.Questions = append(p.Questions, eq)
	}
	return p
}

// policyDescription is the policy's description: its own when editing, else who created it.
func (d *Draft) policyDescription() string {
	if d.Edit && d.PolicyLabel != "" {
		return d.PolicyDescription
	}
	return fmt.Sprintf(policyDescription, orDefault(d.AdminName, policyDescriptionAnon))
}

func subjectSets(as []Approver) []entitlement.SubjectSet {
	var out []entitlement.SubjectSet
	for _, a := range as {
		switch a.Kind {
		case ApproverManager:
			out = append(out, entitlement.SubjectSet{Kind: entitlement.SetRequestorManager, ManagerLevel: 1})
		case ApproverInternalSponsors:
			out = append(out, entitlement.SubjectSet{Kind: entitlement.SetInternalSponsors})
		case ApproverExternalSponsors:
			out = append(out, entitlement.SubjectSet{Kind: entitlement.SetExternalSponsors})
		case ApproverUser:
			out = append(out, entitlement.SubjectSet{Kind: entitlement.SetSingleUser, UserID: a.ID, Description: a.Name})
		case ApproverGroup:
			out = append(out, entitlement.SubjectSet{Kind: entitlement.SetGroupMembers, GroupID: a.ID, Description: a.Name})
		}
	}
	return out
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// FromPackage starts an edit draft from an existing package, the policy to edit (nil: none) and its
// incompatibilities; Before records what was read, so Create saves only what the admin changed.
func FromPackage(pkg entitlement.Package, pol *entitlement.Policy, inc entitlement.Incompatibilities, names func(entitlement.SubjectSet) string) Draft {
	d := Draft{Edit: true, Name: pkg.Name, Description: pkg.Description, CatalogID: pkg.CatalogID, CatalogName: pkg.CatalogName}
	d.Made.PackageID = pkg.ID
	for _, r := range pkg.Resources {
		d.Roles = append(d.Roles, RoleDraft{ResourceID: r.ResourceID, ResourceName: r.ResourceName, ResourceOriginID: r.OriginID,
			OriginSystem: r.OriginSystem, RoleName: r.RoleName, RoleOriginID: r.RoleOriginID, Existing: true, RoleScopeID: r.RoleScopeID})
	}
	for _, p := range inc.Packages {
		d.Incompatible = append(d.Incompatible, Incompatible{IncompatibleRef: entitlement.IncompatibleRef{Kind: entitlement.IncompatiblePackage, ID: p.ID}, Name: p.Name})
	}
	for _, g := range inc.Groups {
		d.Incompatible = append(d.Incompatible, Incompatible{IncompatibleRef: entitlement.IncompatibleRef{Kind: entitlement.IncompatibleGroup, ID: g.ID}, Name: g.Name})
	}
	d.WasIncompatible = append([]Incompatible(nil), d.Incompatible...)
	d.Who, d.Expiry = WhoNobody, ExpireNever
	if pol != nil {
		fromPolicy(&d, pol, names)
	}
	before := d
	d.Before = &before
	return d
}

// fromPolicy fills the policy steps of an edit draft from the policy being edited.
func fromPolicy(d *Draft, pol *entitlement.Policy, names func(entitlement.SubjectSet) string) {
	d.Made.PolicyID, d.PolicyLabel, d.PolicyDescription, d.CustomSchedule = pol.ID, pol.Name, pol.Description, pol.CustomScheduleAllowed
	switch pol.Scope {
	case entitlement.ScopeAllMemberUsers:
		d.Who = WhoMembers
	case entitlement.ScopeSpecificConnectedOrganizationUsers:
		d.Who = WhoOrgs
		for _, t := range pol.SpecificTargets {
			if t.Kind == entitlement.SetConnectedOrganizationMembers {
				d.OrgIDs, d.OrgNames = append(d.OrgIDs, t.ConnectedOrgID), append(d.OrgNames, names(t))
			}
		}
	case entitlement.ScopeAllConfiguredConnectedOrganizationUsers:
		d.Who = WhoAllOrgs
	}
	switch pol.Expiration.Type {
	case entitlement.ExpireAfterDuration:
		if days, ok := durationDays(pol.Expiration.Duration); ok {
			d.Expiry, d.ExpiryDays = ExpireDays, days
		}
	case entitlement.ExpireAfterDateTime:
		d.Expiry, d.ExpiryDate = ExpireDate, pol.Expiration.EndDateTime
	}
	d.ExtensionAllowed = pol.SelfUpdateAllowed
	d.RequestorJustification = pol.RequestorJustificationRequired
	if pol.ApprovalRequired {
		for _, s := range pol.Stages {
			st := StageDraft{JustificationRequired: s.ApproverJustificationRequired, AutoDenyDays: 14,
				Approvers: approvers(s.PrimaryApprovers, names), Fallback: approvers(s.FallbackPrimaryApprovers, names)}
			if days, ok := durationDays(s.DurationBeforeAutomaticDenial); ok {
				st.AutoDenyDays = days
			}
			if h, ok := durationHours(s.DurationBeforeEscalation); ok && s.EscalationEnabled && h > 0 {
				st.EscalateAfterHours, st.EscalateTo = h, approvers(s.EscalationApprovers, names)
			}
			d.Stages = append(d.Stages, st)
		}
	}
	for _, q := range pol.Questions {
		qd := QuestionDraft{ID: q.ID, Text: q.Text, Required: q.Required, Regex: q.Regex}
		for _, c := range q.Choices {
			qd.Choices = append(qd.Choices, c.Value)
		}
		d.Questions = append(d.Questions, qd)
	}
}

func approvers(sets []entitlement.SubjectSet, names func(entitlement.SubjectSet) string) []Approver {
	var out []Approver
	for _, s := range sets {
		switch s.Kind {
		case entitlement.SetRequestorManager:
			out = append(out, Approver{Kind: ApproverManager})
		case entitlement.SetInternalSponsors:
			out = append(out, Approver{Kind: ApproverInternalSponsors})
		case entitlement.SetExternalSponsors:
			out = append(out, Approver{Kind: ApproverExternalSponsors})
		case entitlement.SetSingleUser:
			out = append(out, Approver{Kind: ApproverUser, ID: s.UserID, Name: names(s)})
		case entitlement.SetGroupMembers:
			out = append(out, Approver{Kind: ApproverGroup, ID: s.GroupID, Name: names(s)})
		}
	}
	return out
}

// durationDays reads an ISO-8601 duration ("P30D", "P4W2D") as whole days.
func durationDays(iso string) (int, bool) { return wholeUnits(iso, 24*time.Hour) }

// durationHours reads an ISO-8601 duration ("PT4H", "P1DT2H") as whole hours.
func durationHours(iso string) (int, bool) { return wholeUnits(iso, time.Hour) }

// wholeUnits is iso (entitlement.ParseISODuration) as a whole number of units; ok is false when it is not one.
func wholeUnits(iso string, unit time.Duration) (int, bool) {
	d, err := entitlement.ParseISODuration(iso)
	if err != nil || d%unit != 0 {
		return 0, false
	}
	return int(d / unit), true
}
