package builder

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/accessbot/accessbot/internal/entitlement"
)

// pilotPackage is "Northwind Pilot" as Entra has it: two roles, two policies (members; Northwind's users).
func pilotPackage() (entitlement.Package, []entitlement.Policy) {
	pkg := entitlement.Package{ID: "p-pilot", Name: "Northwind Pilot", Description: "Falcon for Northwind", CatalogID: "c-falcon", CatalogName: "Project Falcon",
		Resources: []entitlement.ResourceRole{
			{ResourceID: "r-team", ResourceName: "Falcon Team", OriginID: "g-team", OriginSystem: entitlement.OriginGroup, RoleName: "Member", RoleOriginID: "Member_g-team", RoleScopeID: "rs-team"},
			{ResourceID: "r-site", ResourceName: "Falcon", OriginID: "site", OriginSystem: entitlement.OriginSharePoint, RoleName: "Falcon Visitors", RoleOriginID: "4", RoleScopeID: "rs-site"},
		}}
	members := entitlement.Policy{ID: "pol-members", PackageID: pkg.ID, Name: "Employees", Description: "Contoso's own", Scope: entitlement.ScopeAllMemberUsers,
		SelfAddAllowed: true, SelfRemoveAllowed: true, Expiration: entitlement.Expiration{Type: entitlement.ExpireAfterDuration, Duration: "P180D"}}
	partners := entitlement.Policy{ID: "pol-nw", PackageID: pkg.ID, Name: "Northwind partners", Description: "Northwind's pilot engineers",
		Scope: entitlement.ScopeSpecificConnectedOrganizationUsers, SelfAddAllowed: true, SelfRemoveAllowed: true, ApprovalRequired: true,
		SpecificTargets: []entitlement.SubjectSet{{Kind: entitlement.SetConnectedOrganizationMembers, ConnectedOrgID: "o-nw"}},
		Expiration:      entitlement.Expiration{Type: entitlement.ExpireAfterDuration, Duration: "P30D"},
		Stages: []entitlement.Stage{{DurationBeforeAutomaticDenial: "P14D", PrimaryApprovers: []entitlement.SubjectSet{{Kind: entitlement.SetSingleUser, UserID: "u-patti", Description: "Patti"}},
			EscalationEnabled: true, DurationBeforeEscalation: "PT4H", EscalationApprovers: []entitlement.SubjectSet{{Kind: entitlement.SetSingleUser, UserID: "u-adele"}}}}}
	return pkg, []entitlement.Policy{members, partners}
}

func editDraft(t *testing.T, policy int) Draft {
	t.Helper()
	pkg, pols := pilotPackage()
	d := FromPackage(pkg, &pols[policy], entitlement.Incompatibilities{}, func(s entitlement.SubjectSet) string { return s.Description })
	d.ID, d.TenantID, d.AdminID = "d-edit", "t", "adele"
	return d
}

func ids(ms []Message) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.ID)
	}
	return out
}

// TestEditSavesOnlyWhatChanged: an edit that changes nothing makes no call; removing a role deletes its
// role scope (after any role that is added); changing the second policy replaces that one with its own name;
// Remaining shows exactly those calls beforehand.
func TestEditSavesOnlyWhatChanged(t *testing.T) {
	tests := []struct {
		name   string
		policy int
		change func(t *testing.T, d *Draft, g *fakeGraph)
		calls  []string
		plan   []string
	}{
		{"nothing changed", 1, func(*testing.T, *Draft, *fakeGraph) {}, nil, nil},
		{"site role removed", 1, func(t *testing.T, d *Draft, g *fakeGraph) {
			o := opts()
			o.Roles = append(o.Roles, d.ExistingRoles()...)
			if errs, err := Apply(context.Background(), d, StepResources, Input{Roles: "g-team|Member"}, o, g); errs != nil || err != nil {
				t.Fatalf("apply roles: %v %v", errs, err)
			}
		}, []string{"RemoveResourceRole:rs-site"}, []string{"builder.progress.roleRemoved"}},
		{"role swapped", 1, func(t *testing.T, d *Draft, g *fakeGraph) {
			if errs, err := Apply(context.Background(), d, StepResources, Input{Roles: "g-new|Member,site|Falcon Visitors"}, opts(), g); errs != nil || err != nil {
				t.Fatalf("apply roles: %v %v", errs, err)
			}
		}, []string{"AddCatalogResource", "AddResourceRole", "RemoveResourceRole:rs-team"},
			[]string{"builder.progress.resource", "builder.progress.role", "builder.progress.roleRemoved"}},
		{"partner expiry changed", 1, func(t *testing.T, d *Draft, g *fakeGraph) {
			if errs, err := Apply(context.Background(), d, StepLifetime, Input{Expiry: ExpireDays, ExpiryDays: "60"}, opts(), g); errs != nil || err != nil {
				t.Fatalf("apply lifetime: %v %v", errs, err)
			}
		}, []string{"UpdatePolicy"}, []string{"builder.progress.policySaved"}},
		{"draft saved without its start (an older build)", 1, func(_ *testing.T, d *Draft, _ *fakeGraph) { d.Before = nil },
			[]string{"UpdatePackage", "UpdatePolicy"}, []string{"builder.progress.packageSaved", "builder.progress.policySaved"}},
		{"renamed", 0, func(_ *testing.T, d *Draft, _ *fakeGraph) { d.Name = "Northwind Pilot 2" }, []string{"UpdatePackage"}, []string{"builder.progress.packageSaved"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := newFake()
			d := editDraft(t, tc.policy)
			tc.change(t, &d, g)
			plan, err := Remaining(d)
			if err != nil || !slices.Equal(ids(plan), tc.plan) {
				t.Fatalf("Remaining = %v, %v; want %v", ids(plan), err, tc.plan)
			}
			if err := Create(context.Background(), g, &d, func(context.Context, *Draft) error { return nil }); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(g.calls, tc.calls) {
				t.Fatalf("calls %v, want %v", g.calls, tc.calls)
			}
		})
	}
}

// TestEditKeepsThePolicy: the edited policy keeps its name, description and escalation; it is the one chosen.
func TestEditKeepsThePolicy(t *testing.T) {
	d := editDraft(t, 1)
	if d.Made.PolicyID != "pol-nw" || d.Who != WhoOrgs {
		t.Fatalf("edit draft of the partner policy: %+v", d)
	}
	p := d.Policy(d.Made.PackageID)
	if p.Name != "Northwind partners" || p.Description != "Northwind's pilot engineers" {
		t.Errorf("policy renamed: %q / %q", p.Name, p.Description)
	}
	if len(p.Stages) != 1 || !p.Stages[0].EscalationEnabled || p.Stages[0].DurationBeforeEscalation != "PT4H" || p.Stages[0].EscalationApprovers[0].UserID != "u-adele" {
		t.Errorf("escalation lost: %+v", p.Stages)
	}
	if m := editDraft(t, 0); m.Made.PolicyID != "pol-members" || m.Who != WhoMembers || m.ExpiryDays != 180 {
		t.Errorf("edit draft of the members policy: %+v", m)
	}
	// A setting no step shows survives the policy's replacement.
	pkg, pols := pilotPackage()
	pols[1].CustomScheduleAllowed = true
	c := FromPackage(pkg, &pols[1], entitlement.Incompatibilities{}, func(s entitlement.SubjectSet) string { return s.Description })
	c.ExpiryDays = 60
	if !c.Policy(c.Made.PackageID).CustomScheduleAllowed {
		t.Errorf("the policy's custom schedule is lost on Save")
	}
}

// TestEditRemovalFailsPartWay: a removal Graph refuses stops Create with the log saying what was done, and
// Remaining then names what was not; Finish removes only what is left.
func TestEditRemovalFailsPartWay(t *testing.T) {
	g := newFake()
	d := editDraft(t, 1)
	d.Name = "Northwind Pilot (ending)"
	if errs, err := Apply(context.Background(), &d, StepResources, Input{Roles: "g-new|Member"}, opts(), g); errs != nil || err != nil {
		t.Fatalf("apply roles: %v %v", errs, err)
	}
	g.failOn, g.failErr = "RemoveResourceRole:rs-site", entitlement.ErrUnavailable
	err := Create(context.Background(), g, &d, func(context.Context, *Draft) error { return nil })
	if !errors.Is(err, entitlement.ErrUnavailable) || d.State != StateFailed {
		t.Fatalf("create = %v, %q", err, d.State)
	}
	rest, err := Remaining(d)
	if err != nil || !slices.Equal(ids(rest), []string{"builder.progress.roleRemoved"}) || rest[0].Args["Role"] != "Falcon Visitors" {
		t.Fatalf("Remaining after the failure = %+v, %v", rest, err)
	}
	g.calls = nil
	if err := Create(context.Background(), g, &d, func(context.Context, *Draft) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(g.calls, []string{"RemoveResourceRole:rs-site"}) {
		t.Fatalf("finish calls %v", g.calls)
	}
}

// TestApplyRolesRefusesRemovingEverything: unticking every role is refused on the field and changes nothing.
func TestApplyRolesRefusesRemovingEverything(t *testing.T) {
	d := editDraft(t, 0)
	before := len(d.Roles)
	errs, err := Apply(context.Background(), &d, StepResources, Input{}, opts(), newFake())
	if err != nil || errs["roles"].ID != "builder.problem.roles" || len(d.Roles) != before {
		t.Fatalf("Apply = %v, %v; roles %d", errs, err, len(d.Roles))
	}
}

// TestEditableScope: only the scopes the wizard's "who may request" step offers can be edited.
func TestEditableScope(t *testing.T) {
	for _, tc := range []struct {
		scope entitlement.TargetScope
		want  bool
	}{
		{"", true}, {entitlement.ScopeNotSpecified, true}, {entitlement.ScopeAllMemberUsers, true},
		{entitlement.ScopeSpecificConnectedOrganizationUsers, true}, {entitlement.ScopeAllConfiguredConnectedOrganizationUsers, true},
		{entitlement.ScopeSpecificDirectoryUsers, false}, {entitlement.ScopeAllDirectoryUsers, false},
		{entitlement.ScopeSpecificDirectoryServicePrincipals, false}, {entitlement.ScopeAllExternalUsers, false},
	} {
		if got := EditableScope(tc.scope); got != tc.want {
			t.Errorf("EditableScope(%q) = %v, want %v", tc.scope, got, tc.want)
		}
	}
}

// TestEditableStages: a policy with more approval stages than the wizard offers cannot be edited here.
func TestEditableStages(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want bool
	}{{0, true}, {1, true}, {MaxStages, true}, {MaxStages + 1, false}} {
		if got := EditableStages(tc.n); got != tc.want {
			t.Errorf("EditableStages(%d) = %v, want %v", tc.n, got, tc.want)
		}
	}
}
