package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/tenantsim"
)

// The Falcon site's Member role as the wizard names it ("<resource origin id>|<role name>").
const siteMemberKey = "https://contoso.sharepoint.com/sites/falcon|Falcon Members"

// addPartnerPolicy gives Falcon Team Member a second policy (Fabrikam's users, sponsors approve, 30 days).
func addPartnerPolicy(t *testing.T, e *flowEnv) entitlement.Policy {
	t.Helper()
	pol, err := e.client.CreatePolicy(context.Background(), entitlement.Policy{PackageID: tenantsim.PkgTeamMember, Name: "Fabrikam partners",
		Description: "Fabrikam's users; sponsors approve.", Scope: entitlement.ScopeSpecificConnectedOrganizationUsers,
		SpecificTargets: []entitlement.SubjectSet{{Kind: entitlement.SetConnectedOrganizationMembers, ConnectedOrgID: tenantsim.FabrikamConnectedOrgID}},
		SelfAddAllowed:  true, SelfRemoveAllowed: true, ApprovalRequired: true,
		Stages:     []entitlement.Stage{{DurationBeforeAutomaticDenial: "P14D", PrimaryApprovers: []entitlement.SubjectSet{{Kind: entitlement.SetInternalSponsors}}}},
		Expiration: entitlement.Expiration{Type: entitlement.ExpireAfterDuration, Duration: "P30D"}})
	if err != nil {
		t.Fatal(err)
	}
	return pol
}

// TestBuilderEditPicksPolicyAndRemovesRole: /package … edit on a package with two policies shows both; Adele
// edits the partner policy, unticks the site's role and makes the access last 60 days. The review lists
// exactly the two calls Save makes and the lifetime's change, and names the policy left alone; after Save
// the package grants the team only, the partner policy lasts 60 days under its own name, and the members'
// policy is as it was.
func TestBuilderEditPicksPolicyAndRemovesRole(t *testing.T) {
	e := newBuilderEnv(t)
	ctx := context.Background()
	partner := addPartnerPolicy(t, e)
	pick := e.say(admAdele, "/package Falcon Team Member edit", "Which policy of Falcon Team Member")
	if got := pick.CardText(); !strings.Contains(got, "Fabrikam partners") || !strings.Contains(got, "Employees with manager approval") || !strings.Contains(got, "Users of Fabrikam") {
		t.Fatalf("the choice does not show both policies: %s", got)
	}
	start := e.wizardStep(pick.Card(), pick.ID, "builder.editPolicy", map[string]any{"packageId": tenantsim.PkgTeamMember, "policyId": partner.ID}, "Step 1 of 7")
	card := e.wizardStep(start, pick.ID, "builder.next", map[string]any{"pb.name": "Falcon Team Member",
		"pb.description": "Membership of the Falcon team and its SharePoint site."}, "Review")
	if !strings.Contains(rawJSON(card), "Nothing changes yet") {
		t.Fatalf("an untouched edit's review does not say that nothing changes: %s", rawJSON(card))
	}
	card = e.wizardStep(card, pick.ID, "builder.goto", map[string]any{"target": "resources"}, "Resources and roles")
	if raw := rawJSON(card); !strings.Contains(raw, tenantsim.FalconTeamGroupID+"|Member,"+siteMemberKey) {
		t.Fatalf("the package's roles are not ticked: %s", raw)
	}
	card = e.wizardStep(card, pick.ID, "builder.next", map[string]any{"pb.roles": tenantsim.FalconTeamGroupID + "|Member"}, "Remove Falcon Members of Falcon")
	card = e.wizardStep(card, pick.ID, "builder.goto", map[string]any{"target": "lifetime"}, "Lifetime")
	card = e.wizardStep(card, pick.ID, "builder.next", map[string]any{"pb.expiry": "days", "pb.expiryDays": "60"}, "Review")
	text := rawJSON(card)
	for _, want := range []string{"What Save changes", "Remove Falcon Members of Falcon", "Save the policy Fabrikam partners",
		"after 30 days → after 60 days", "Not touched: the package's other policies (Employees with manager approval)"} {
		if !strings.Contains(text, want) {
			t.Errorf("the review lacks %q: %s", want, text)
		}
	}
	if strings.Contains(text, "Save the name and description") || strings.Contains(text, "Grant ") {
		t.Errorf("the review announces calls that change nothing: %s", text)
	}
	e.wizardStep(card, pick.ID, "builder.create", nil, "Saved Falcon Team Member")

	pkg, err := e.client.Package(ctx, tenantsim.PkgTeamMember)
	if err != nil || len(pkg.Resources) != 1 || pkg.Resources[0].RoleName != "Member" || pkg.Resources[0].ResourceName != "Falcon Team" {
		t.Fatalf("package roles after the edit = %+v, %v", pkg.Resources, err)
	}
	if p, err := e.client.Policy(ctx, partner.ID); err != nil || p.Expiration.Duration != "P60D" || p.Name != "Fabrikam partners" || p.Scope != entitlement.ScopeSpecificConnectedOrganizationUsers {
		t.Fatalf("partner policy after the edit = %+v, %v", p, err)
	}
	if p, err := e.client.Policy(ctx, tenantsim.PolicyTeamMember); err != nil || p.Expiration.Duration != "P180D" || p.Name != "Employees with manager approval" {
		t.Fatalf("the members' policy changed: %+v, %v", p, err)
	}
}

// TestBuilderEditFailsPartWay: Graph fails the role's removal; the card says what was done and what was not
// changed (the policy); once Graph is back, Finish makes only what is left.
func TestBuilderEditFailsPartWay(t *testing.T) {
	e := newBuilderEnv(t)
	ctx := context.Background()
	start := e.say(admAdele, "/package Falcon Team Member edit", "builder.next")
	card := e.wizardStep(start.Card(), start.ID, "builder.next", map[string]any{"pb.name": "Falcon Team Member", "pb.description": "The team and its site (edited)."}, "Review")
	card = e.wizardStep(card, start.ID, "builder.goto", map[string]any{"target": "resources"}, "Resources and roles")
	card = e.wizardStep(card, start.ID, "builder.next", map[string]any{"pb.roles": tenantsim.FalconTeamGroupID + "|Member"}, "Review")
	card = e.wizardStep(card, start.ID, "builder.goto", map[string]any{"target": "lifetime"}, "Lifetime")
	card = e.wizardStep(card, start.ID, "builder.next", map[string]any{"pb.expiry": "days", "pb.expiryDays": "90"}, "Review")

	e.sim.SetFault(tenantsim.Fault{Requests: -1, Status: 503, NoRetryAfter: true, Method: "DELETE"})
	failed := e.wizardStep(card, start.ID, "builder.create", nil, "Remove Falcon Members of Falcon")
	text := rawJSON(failed)
	for _, want := range []string{"Save the name and description of Falcon Team Member", "Not changed (Finish does these):", "Save the policy Employees with manager approval"} {
		if !strings.Contains(text, want) {
			t.Errorf("the failure card lacks %q: %s", want, text)
		}
	}
	if p, err := e.client.Policy(ctx, tenantsim.PolicyTeamMember); err != nil || p.Expiration.Duration != "P180D" {
		t.Fatalf("the policy changed although the card says it was not: %+v, %v", p, err)
	}
	e.sim.SetFault(tenantsim.Fault{})
	e.wizardStep(failed, start.ID, "builder.create", nil, "Saved Falcon Team Member")
	pkg, err := e.client.Package(ctx, tenantsim.PkgTeamMember)
	if err != nil || len(pkg.Resources) != 1 || pkg.Description != "The team and its site (edited)." {
		t.Fatalf("package after Finish = %+v, %v", pkg, err)
	}
	if p, err := e.client.Policy(ctx, tenantsim.PolicyTeamMember); err != nil || p.Expiration.Duration != "P90D" {
		t.Fatalf("policy after Finish = %+v, %v", p, err)
	}
}

// TestBuilderEditRefusesUnknownScope: a policy that lets a group's members request (specificDirectoryUsers, a
// scope the wizard has no step for) is shown as Entra has it, and picking it is refused with nothing changed —
// the wizard would have read it as "nobody" and a Save would have replaced who may request.
func TestBuilderEditRefusesUnknownScope(t *testing.T) {
	e := newBuilderEnv(t)
	ctx := context.Background()
	pol, err := e.client.CreatePolicy(ctx, entitlement.Policy{PackageID: tenantsim.PkgTeamMember, Name: "Falcon team's own",
		Description: "The Falcon team's members ask.", Scope: entitlement.ScopeSpecificDirectoryUsers,
		SpecificTargets: []entitlement.SubjectSet{{Kind: entitlement.SetGroupMembers, GroupID: tenantsim.FalconTeamGroupID}},
		SelfAddAllowed:  true, SelfRemoveAllowed: true, Expiration: entitlement.Expiration{Type: entitlement.ExpireAfterDuration, Duration: "P30D"}})
	if err != nil {
		t.Fatal(err)
	}
	pick := e.say(admAdele, "/package Falcon Team Member edit", "Which policy of Falcon Team Member")
	if got := pick.CardText(); !strings.Contains(got, "as set in Microsoft Entra (specificDirectoryUsers)") {
		t.Fatalf("the choice does not say who may request under %s: %s", pol.Name, got)
	}
	e.wizardStep(pick.Card(), pick.ID, "builder.editPolicy", map[string]any{"packageId": tenantsim.PkgTeamMember, "policyId": pol.ID},
		"The policy Falcon team's own can't be edited here")
	if p, err := e.client.Policy(ctx, pol.ID); err != nil || p.Scope != entitlement.ScopeSpecificDirectoryUsers || len(p.SpecificTargets) != 1 {
		t.Fatalf("the policy changed: %+v, %v", p, err)
	}
}
