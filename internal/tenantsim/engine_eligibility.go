package tenantsim

import (
	"slices"
	"strings"
)

func (s *Sim) policiesOf(pkgID string) []*policy {
	var out []*policy
	for _, p := range sortedBy(s.w.Policies, func(p *policy) int64 { return p.Ord }) {
		if p.PackageID == pkgID {
			out = append(out, p)
		}
	}
	return out
}

// identity is whoever a request is for: a user of the resource tenant
// (member or guest) and/or an external user identified by home tenant or email.
type identity struct {
	User           *user // in the resource tenant, nil when not yet there
	HomeTenantID   string
	HomeUserID     string
	Email          string
	DisplayName    string
	ConnectedOrgID string
}

func (s *Sim) identityOfUser(u *user) identity {
	id := identity{User: u, HomeTenantID: u.TenantID, HomeUserID: u.ID, Email: u.Mail, DisplayName: u.DisplayName}
	if u.UserType == "Guest" {
		id.HomeTenantID, id.HomeUserID = u.HomeTenantID, u.HomeUserID
	}
	if id.HomeTenantID != ContosoTenantID {
		if co := s.connectedOrgForTenant(id.HomeTenantID, id.Email); co != nil {
			id.ConnectedOrgID = co.ID
		}
	}
	return id
}

// connectedOrgForTenant finds the connected organization of a tenant id (or,
// for domain-based organizations, of the email's domain).
func (s *Sim) connectedOrgForTenant(tid, email string) *connectedOrg {
	domain := ""
	if i := strings.LastIndex(email, "@"); i >= 0 {
		domain = strings.ToLower(email[i+1:])
	}
	for _, co := range sortedBy(s.w.ConnectedOrgs, func(c *connectedOrg) int64 { return c.Ord }) {
		if tid != "" && strings.EqualFold(co.SourceTenantID, tid) {
			return co
		}
		if domain != "" && co.SourceDomain != "" && strings.EqualFold(co.SourceDomain, domain) {
			return co
		}
	}
	return nil
}

func (s *Sim) tenantOfDomain(domain string) *tenant {
	for _, t := range s.w.Tenants {
		for _, d := range t.Domains {
			if strings.EqualFold(d, domain) {
				return t
			}
		}
	}
	return nil
}

// homeOfEmail finds the simulated tenant that owns an email's domain and, in it, the user with that mail
// (nil when the simulator does not know them).
func (s *Sim) homeOfEmail(email string) (*tenant, *user) {
	at := strings.LastIndex(email, "@")
	if at < 0 {
		return nil, nil
	}
	t := s.tenantOfDomain(email[at+1:])
	if t == nil {
		return nil, nil
	}
	for _, u := range s.w.Users {
		if u.TenantID == t.ID && strings.EqualFold(u.Mail, email) {
			return t, u
		}
	}
	return t, nil
}

func (s *Sim) inGroup(groupID, userID string) bool {
	g := s.w.Groups[groupID]
	return g != nil && slices.Contains(g.Members, userID)
}

// eligible reports whether id is in the policy's allowed target scope.
func (s *Sim) eligible(p *policy, id identity) bool {
	member := id.User != nil && id.User.UserType == "Member" && id.User.TenantID == ContosoTenantID
	external := !member && id.HomeTenantID != ContosoTenantID
	switch p.AllowedTargetScope {
	case "allMemberUsers":
		return member
	case "allDirectoryUsers":
		return id.User != nil
	case "specificDirectoryUsers":
		if id.User == nil {
			return false
		}
		for _, t := range p.SpecificTargets {
			if (t.Type == "singleUser" && t.UserID == id.User.ID) || (t.Type == "groupMembers" && s.inGroup(t.GroupID, id.User.ID)) {
				return true
			}
		}
	case "specificConnectedOrganizationUsers":
		if !external || id.ConnectedOrgID == "" {
			return false
		}
		for _, t := range p.SpecificTargets {
			if t.Type == "connectedOrganizationMembers" && t.ConnectedOrg == id.ConnectedOrgID {
				return true
			}
		}
	case "allConfiguredConnectedOrganizationUsers":
		co := s.w.ConnectedOrgs[id.ConnectedOrgID]
		return external && co != nil && co.State == "configured"
	case "allExternalUsers":
		return external
	}
	return false
}
