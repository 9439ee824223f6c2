package bot

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/accessbot/accessbot/cards"
	"github.com/accessbot/accessbot/internal/entitlement"
)

// The request mode per user and partner routing: which tenant is a connected organization, a member's
// address, which policies admit an organization, and the packages and requirements a partner user may request.

// requestMode decides the request mode for the turn's user: delegated for the resource tenant; for another
// tenant, brokered (or link-out when brokered mode is off) when it is a configured connected organization,
// and an explanation when it is proposed or unknown. Only a failure to read the connected organizations is
// an error.
func (b *Bot) requestMode(ctx context.Context, t *turn) (modeDecision, error) {
	if b.cfg.Tenant.ID == "" || t.tenantID == "" || strings.EqualFold(t.tenantID, b.cfg.Tenant.ID) {
		return modeDecision{Mode: cards.ModeDelegated, Allowed: true}, nil
	}
	org := b.cfg.Tenant.Name
	if org == "" {
		org = t.loc.T("mode.thisOrganization")
	}
	orgs, err := b.connectedOrgs(ctx)
	if err != nil {
		return modeDecision{}, fmt.Errorf("request mode for tenant %s: %w", t.tenantID, err)
	}
	co, found := orgOfTenant(orgs, t.tenantID)
	if !found {
		return modeDecision{Mode: cards.ModeLinkOut, Allowed: false,
			Reason: t.loc.T("mode.notConnected", "Org", org)}, nil
	}
	md := modeDecision{OrgID: co.ID, OrgName: orUnknown(co.Name, t.loc.T("common.yourOrganization"))}
	if co.State != entitlement.OrgConfigured {
		md.Mode = cards.ModeLinkOut
		md.Reason = t.loc.T("mode.notConfigured", "Partner", md.OrgName, "Org", org)
		return md, nil
	}
	md.Allowed = true
	if !b.cfg.Brokered {
		md.Mode = cards.ModeLinkOut
		md.Reason = t.loc.T("mode.linkOutPartner", "Partner", md.OrgName, "Org", org)
		return md, nil
	}
	md.Mode = cards.ModeBrokered
	md.Email = b.memberEmail(ctx, t)
	return md, nil
}

// connectedOrgs lists the connected organizations, cached for partnerCacheTTL.
func (b *Bot) connectedOrgs(ctx context.Context) ([]entitlement.ConnectedOrg, error) {
	now := b.now()
	b.prt.mu.Lock()
	if b.prt.orgs != nil && now.Before(b.prt.orgsUntil) {
		orgs := b.prt.orgs
		b.prt.mu.Unlock()
		return orgs, nil
	}
	b.prt.mu.Unlock()
	if b.cfg.Entitlement == nil {
		return nil, fmt.Errorf("list connected organizations: %w", entitlement.ErrUnavailable)
	}
	orgs, err := b.cfg.Entitlement.ConnectedOrgs(ctx)
	if err != nil {
		return nil, fmt.Errorf("list connected organizations: %w", err)
	}
	if orgs == nil {
		orgs = []entitlement.ConnectedOrg{}
	}
	b.prt.mu.Lock()
	b.prt.orgs, b.prt.orgsUntil = orgs, now.Add(partnerCacheTTL)
	b.prt.mu.Unlock()
	return orgs, nil
}

// forgetConnectedOrgs drops the cached organization list and names, so a /connect or /disconnect takes effect
// for partner users at once.
func (b *Bot) forgetConnectedOrgs() {
	b.prt.mu.Lock()
	b.prt.orgs = nil
	b.prt.mu.Unlock()
	b.adm.forgetOrgs()
}

// orgOfTenant finds the connected organization whose Entra tenant identity source is tenantID.
func orgOfTenant(orgs []entitlement.ConnectedOrg, tenantID string) (entitlement.ConnectedOrg, bool) {
	for _, o := range orgs {
		for _, s := range o.Sources {
			if s.Kind == entitlement.SourceTenant && strings.EqualFold(s.TenantID, tenantID) {
				return o, true
			}
		}
	}
	return entitlement.ConnectedOrg{}, false
}

// memberEmail is the turn user's address as Teams knows it (mail, else UPN), cached; empty when the
// connector cannot tell.
func (b *Bot) memberEmail(ctx context.Context, t *turn) string {
	key := t.tenantID + "|" + t.userID
	now := b.now()
	b.prt.mu.Lock()
	if e, ok := b.prt.members[key]; ok && now.Before(e.until) {
		b.prt.mu.Unlock()
		return e.email
	}
	b.prt.mu.Unlock()
	mg, ok := b.cfg.Connector.(memberGetter)
	if !ok || t.act.From.ID == "" || t.act.Conversation.ID == "" {
		return ""
	}
	// The Agents Playground looks members up by channel id (29:…) only, so ask with that.
	m, err := mg.GetMember(ctx, t.act.ServiceURL, t.act.Conversation.ID, t.act.From.ID)
	if err != nil {
		t.log.WarnContext(ctx, "look up partner user's address", "err", err)
		return "" // not cached: the next turn asks again
	}
	email := strings.TrimSpace(m.Email)
	if email == "" && strings.Contains(m.UserPrincipalName, "@") && !strings.Contains(m.UserPrincipalName, "#EXT#") {
		email = strings.TrimSpace(m.UserPrincipalName)
	}
	b.prt.mu.Lock()
	if b.prt.members == nil {
		b.prt.members = map[string]memberEntry{}
	}
	if now.Sub(b.prt.swept) >= partnerCacheTTL {
		b.prt.swept = now
		sweepExpired(b.prt.members, func(e memberEntry) time.Time { return e.until }, now)
	}
	b.prt.members[key] = memberEntry{email: email, until: now.Add(partnerCacheTTL)}
	b.prt.mu.Unlock()
	return email
}

// policyAdmitsOrg reports whether a policy lets users of the connected organization orgID request.
func policyAdmitsOrg(p entitlement.Policy, orgID string) bool {
	if !p.SelfAddAllowed {
		return false
	}
	switch p.Scope {
	case entitlement.ScopeSpecificConnectedOrganizationUsers:
		return slices.ContainsFunc(p.SpecificTargets, func(s entitlement.SubjectSet) bool {
			return strings.EqualFold(s.ConnectedOrgID, orgID)
		})
	case entitlement.ScopeAllConfiguredConnectedOrganizationUsers, entitlement.ScopeAllExternalUsers:
		return true
	}
	return false
}

// brokeredPolicies returns the policies of a package that admit the organization.
func (b *Bot) brokeredPolicies(ctx context.Context, packageID, orgID string) ([]entitlement.Policy, error) {
	pols, err := b.cfg.Entitlement.Policies(ctx, packageID)
	if err != nil {
		return nil, fmt.Errorf("list policies of package %s: %w", packageID, err)
	}
	var out []entitlement.Policy
	for _, p := range pols {
		if policyAdmitsOrg(p, orgID) {
			out = append(out, p)
		}
	}
	return out, nil
}

// brokeredPackages lists the packages a partner user's connected organization may request (app-only): not
// hidden, with a policy that admits the organization, filtered by query words (name, description, catalog).
func (b *Bot) brokeredPackages(ctx context.Context, t *turn, md modeDecision, query string) ([]entitlement.Package, error) {
	if md.Mode != cards.ModeBrokered || md.OrgID == "" {
		return nil, fmt.Errorf("list packages for a partner user: %w", entitlement.ErrNotEligible)
	}
	pkgs, err := b.cfg.Entitlement.Packages(ctx)
	if err != nil {
		return nil, fmt.Errorf("list packages for %s: %w", md.OrgName, err)
	}
	words := strings.Fields(strings.ToLower(query))
	var out []entitlement.Package
	for _, p := range pkgs {
		if p.IsHidden || !matchesWords(p, words) {
			continue
		}
		pols, err := b.brokeredPolicies(ctx, p.ID, md.OrgID)
		if err != nil {
			return nil, err
		}
		if len(pols) > 0 {
			out = append(out, p)
		}
	}
	return out, nil
}

// matchesWords reports whether every word occurs in the package's name, description or catalog name.
func matchesWords(p entitlement.Package, words []string) bool {
	hay := strings.ToLower(p.Name + " " + p.Description + " " + p.CatalogName)
	for _, w := range words {
		if !strings.Contains(hay, w) {
			return false
		}
	}
	return true
}

// brokeredRequirements returns what a partner user must supply for a package, read from its policies that
// admit their organization (app-only). ErrNotEligible when none does or the package is hidden.
func (b *Bot) brokeredRequirements(ctx context.Context, t *turn, md modeDecision, packageID string) ([]entitlement.Requirements, error) {
	if md.Mode != cards.ModeBrokered || md.OrgID == "" {
		return nil, fmt.Errorf("requirements of package %s for a partner user: %w", packageID, entitlement.ErrNotEligible)
	}
	pkg, err := b.cfg.Entitlement.Package(ctx, packageID)
	if err != nil {
		return nil, fmt.Errorf("read package %s: %w", packageID, err)
	}
	if pkg.IsHidden {
		return nil, fmt.Errorf("package %s is hidden: %w", packageID, entitlement.ErrNotEligible)
	}
	pols, err := b.brokeredPolicies(ctx, packageID, md.OrgID)
	if err != nil {
		return nil, err
	}
	if len(pols) == 0 {
		return nil, fmt.Errorf("no policy of package %s admits %s: %w", packageID, md.OrgName, entitlement.ErrNotEligible)
	}
	out := make([]entitlement.Requirements, 0, len(pols))
	for _, p := range pols {
		out = append(out, requirementsOf(p))
	}
	return out, nil
}

// requirementsOf is what a policy asks of a requestor.
func requirementsOf(p entitlement.Policy) entitlement.Requirements {
	qs := slices.Clone(p.Questions)
	slices.SortStableFunc(qs, func(a, b entitlement.Question) int { return a.Sequence - b.Sequence })
	return entitlement.Requirements{
		PolicyID:                       p.ID,
		PolicyName:                     p.Name,
		PolicyDescription:              p.Description,
		RequestorJustificationRequired: p.RequestorJustificationRequired,
		ApprovalRequired:               p.ApprovalRequired,
		ApprovalRequiredForUpdate:      p.ApprovalRequiredForUpdate,
		CustomScheduleAllowed:          p.CustomScheduleAllowed,
		Questions:                      qs,
		Schedule:                       entitlement.Schedule{Expiration: p.Expiration},
	}
}
