package e2e

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/tenantsim"
)

// TestAdminRefusals: people outside the admin group (a Contoso member, a Fabrikam partner) typing admin
// commands are told "not allowed", nothing changes in the tenant, and only the refusal is audited.
func TestAdminRefusals(t *testing.T) {
	e := newAdminEnv(t)
	ctx := context.Background()
	before, err := e.client.ConnectedOrgs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		who  string
		text string
	}{
		{"rita", "/orgs"},
		{"rita", "/connect northwind.example"},
		{"rita", "/disconnect Fabrikam"},
		{"rita", "/sponsors Fabrikam add rita@contoso.example"},
		{"rita", "/catalogs"},
		{"rita", "/package Falcon Team Member"},
		{"rita", "/assign rita@contoso.example Falcon Wiki Reader"},
		{"rita", "/revoke megan@contoso.example Falcon Team Member"},
		{"rita", "/pending"},
		{"rita", "/expiring 30"},
		{"rita", "/audit"},
		{"gus", "/revoke gus@fabrikam.example Falcon Partner Collaboration"},
		{"gus", "/audit"},
	}
	for i, tc := range tests {
		u := rita
		if tc.who == "gus" {
			u = gus
		}
		e.say(u, tc.text, "Not allowed", "is an admin command", "Nothing was changed")
		got := e.auditOutcomes(50)
		if len(got) != i+1 || got[0] != "admin.refused refused: not an admin" {
			t.Fatalf("%s %q: audit = %q", tc.who, tc.text, got)
		}
	}
	after, err := e.client.ConnectedOrgs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) {
		t.Fatalf("connected organizations changed: %d → %d", len(before), len(after))
	}
	as, err := e.client.Assignments(ctx, entitlement.AssignmentFilter{PackageID: tenantsim.PkgWikiReader, TargetID: tenantsim.UserRita})
	if err != nil || len(as) != 0 {
		t.Fatalf("Rita got an assignment: %+v, %v", as, err)
	}
	sp, err := e.client.Sponsors(ctx, tenantsim.FabrikamConnectedOrgID)
	if err != nil || slices.ContainsFunc(sp.Internal, func(u entitlement.User) bool { return u.ID == tenantsim.UserRita }) {
		t.Fatalf("Rita made herself a sponsor: %+v, %v", sp, err)
	}
	// The everyday commands of the same name still work for them: "/help" and "/packages" are the
	// requester's, not the admin ones.
	if a := e.say(rita, "/help", "What I can do"); strings.Contains(a.CardText(), "Admin commands") {
		t.Errorf("Rita's /help shows the admin commands: %s", a.CardText())
	}
	if a := e.say(rita, "/packages"); strings.Contains(a.CardText(), "Not allowed") || strings.Contains(a.CardText(), "hidden ones included") {
		t.Errorf("Rita's /packages is not the requester's list: %s", a.CardText())
	}
	if got := e.auditOutcomes(50); len(got) != len(tests) {
		t.Errorf("audit has %d entries after the refusals and everyday commands, want %d: %q", len(got), len(tests), got)
	}
}

// TestAdminOrganizations: /orgs, /connect (by domain, duplicates, unknown domains), /sponsors (list, add,
// remove with confirmation) and /disconnect (confirmation bound to the admin, once) against the simulator.
func TestAdminOrganizations(t *testing.T) {
	e := newAdminEnv(t)
	ctx := context.Background()

	e.say(admAdele, "/help", "Admin commands", "/connect {domain or tenant id} [name]", "/expiring [days]")
	e.say(admAdele, "/orgs", "Connected organizations", "Fabrikam", "configured", tenantsim.FabrikamTenantID)
	e.say(admAdele, "/orgs everything", `/orgs: takes no arguments, got "everything"`)

	// Connect Northwind by its domain: the tenant is resolved through Graph.
	e.say(admAdele, "/connect northwind.example", "Connected Northwind", tenantsim.NorthwindTenantID, "configured")
	orgs, err := e.client.ConnectedOrgs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(orgs, func(o entitlement.ConnectedOrg) bool { return o.TenantID() == tenantsim.NorthwindTenantID })
	if i < 0 {
		t.Fatalf("Northwind is not a connected organization after /connect: %+v", orgs)
	}
	northwind := orgs[i]
	if northwind.State != entitlement.OrgConfigured {
		t.Errorf("Northwind state = %q, want configured", northwind.State)
	}
	e.say(admAdele, "/connect northwind.example", "Already connected", "Nothing was changed")
	e.say(admAdele, "/connect fabrikam.onmicrosoft.com", "Already connected", `"Fabrikam"`)
	e.say(admAdele, "/connect nowhere.example", `no Microsoft Entra tenant has the domain "nowhere.example"`)
	e.say(admAdele, "/connect contoso.example", "own tenant")
	e.say(admAdele, "/connect not/a/domain", "is neither a domain name")
	if orgs2, _ := e.client.ConnectedOrgs(ctx); len(orgs2) != len(orgs) {
		t.Fatalf("refused /connect commands changed the organizations: %d → %d", len(orgs), len(orgs2))
	}

	// Sponsors.
	e.say(admAdele, "/sponsors Fabrikam", "Sponsors of Fabrikam", "Patti Fernandez", "internal", "Fiona Partner", "external")
	e.say(admAdele, "/sponsors Northwind add megan@contoso.example", "Sponsor added", "Megan Bowen", "internal sponsor of Northwind")
	sp, err := e.client.Sponsors(ctx, northwind.ID)
	if err != nil || len(sp.Internal) != 1 || sp.Internal[0].ID != tenantsim.UserMegan {
		t.Fatalf("Northwind sponsors after add = %+v, %v", sp, err)
	}
	e.say(admAdele, "/sponsors Northwind add megan@contoso.example", "already a sponsor")
	e.say(admAdele, "/sponsors Northwind ad megan@contoso.example", `expected add or remove after the organization, got "ad"`)
	e.say(admAdele, "/sponsors Northwind remove nestor@contoso.example", "is not a sponsor of Northwind")
	ask := e.say(admAdele, "/sponsors Northwind remove Megan", "Remove Megan Bowen as a sponsor of Northwind?", "Please confirm")
	if sp, _ := e.client.Sponsors(ctx, northwind.ID); len(sp.Internal) != 1 {
		t.Fatalf("asking for confirmation removed the sponsor: %+v", sp)
	}
	e.clickToken(admAdele, ask.ID, "admin.confirm", confirmToken(t, ask), "Sponsor removed", "Megan Bowen is no longer an internal sponsor of Northwind")
	if sp, err := e.client.Sponsors(ctx, northwind.ID); err != nil || len(sp.Internal) != 0 {
		t.Fatalf("Northwind sponsors after confirmed remove = %+v, %v", sp, err)
	}

	// Disconnect: Rita cannot confirm Adele's card, Adele can, once.
	e.say(admAdele, "/disconnect Globex", `no organization is named "Globex"`)
	ask = e.say(admAdele, "/disconnect north", "Disconnect Northwind?", "This can't be undone.")
	tok := confirmToken(t, ask)
	e.clickToken(rita, ask.ID, "admin.confirm", tok, "Only Adele Vance, who ran the command, can confirm")
	if _, err := e.client.ConnectedOrg(ctx, northwind.ID); err != nil {
		t.Fatalf("Rita's click deleted Northwind: %v", err)
	}
	e.clickToken(admAdele, ask.ID, "admin.confirm", tok, "Disconnected Northwind")
	if _, err := e.client.ConnectedOrg(ctx, northwind.ID); err == nil {
		t.Fatal("Northwind is still connected after the confirmed /disconnect")
	}
	e.clickToken(admAdele, ask.ID, "admin.confirm", tok, "already done")
	e.say(admAdele, "/orgs", "Fabrikam")

	got := e.auditOutcomes(3)
	want := []string{"admin.orgs listed 1", "admin.disconnect.confirm refused: already done", "admin.disconnect.confirm done"}
	if !slices.Equal(got, want) {
		t.Fatalf("newest audit entries = %q, want %q", got, want)
	}
	e.say(admAdele, "/orgz", `I don't know "/orgz"`, "/orgs")
}

// TestAdminPackagesAndAssignments: /catalogs, /packages, /package, /assign (direct, confirmed), /expiring,
// /pending, /revoke (cancel, then confirm) and /audit against the simulator.
func TestAdminPackagesAndAssignments(t *testing.T) {
	e := newAdminEnv(t)
	ctx := context.Background()

	e.say(admAdele, "/catalogs", "Project Falcon", "5")
	e.say(admAdele, "/catalogs all", `/catalogs: takes no arguments, got "all"`)
	e.say(admAdele, "/packages", "Falcon Team Member", "Falcon Production Access", "Falcon Break-glass", "hidden")
	e.say(admAdele, "/packages project", "Access packages of the catalog Project Falcon", "Falcon Wiki Reader")
	e.say(admAdele, "/packages Nope", `no catalog is named "Nope"`)
	e.say(admAdele, "/package Falcon Production Access", "Requestor's manager", "Falcon Security Reviewers", "90 days",
		"https://myaccess.microsoft.com/@contoso.onmicrosoft.com#/access-packages/"+tenantsim.PkgProduction)
	e.say(admAdele, "/package "+tenantsim.PkgPartner, "Users of Fabrikam", "Internal sponsors", "External sponsors", "30 days")
	e.say(admAdele, "/package Falcon", `"Falcon" matches 5 packages`)

	// Direct assignment, confirmed: Entra (the simulator) delivers it without approval.
	e.say(admAdele, "/assign nestor@contoso.example", "/assign: expected a user and a package, got 1 argument(s)")
	e.say(admAdele, "/assign nobody@contoso.example Falcon Wiki Reader", "is not in the Contoso directory")
	ask := e.say(admAdele, `/assign nestor@contoso.example "Falcon Wiki Reader"`, "Assign Falcon Wiki Reader to Nestor Wilke?", "Direct assignment")
	if as, _ := e.client.Assignments(ctx, entitlement.AssignmentFilter{PackageID: tenantsim.PkgWikiReader, TargetID: tenantsim.UserNestor}); len(as) != 0 {
		t.Fatalf("asking for confirmation assigned already: %+v", as)
	}
	e.clickToken(admAdele, ask.ID, "admin.confirm", confirmToken(t, ask), "Assigned Falcon Wiki Reader", "without approval")
	asg := e.waitAssignment(t, wait, tenantsim.UserNestor+" never got a delivered assignment of "+tenantsim.PkgWikiReader,
		func() ([]entitlement.Assignment, error) {
			return e.client.Assignments(context.Background(), entitlement.AssignmentFilter{PackageID: tenantsim.PkgWikiReader, TargetID: tenantsim.UserNestor})
		}, func(a entitlement.Assignment) bool { return a.State == entitlement.AssignmentDelivered })
	e.say(admAdele, "/assign nestor@contoso.example Falcon Wiki Reader", "already has Falcon Wiki Reader")

	// Expiring: the 365-day assignment shows within a year, not within two weeks.
	e.say(admAdele, "/expiring 365", "Nestor Wilke", "Falcon Wiki Reader")
	if a := e.say(admAdele, "/expiring"); strings.Contains(a.CardText(), "Nestor Wilke") {
		t.Errorf("/expiring (14 days) lists a 365-day assignment: %s", a.CardText())
	}
	e.say(admAdele, "/expiring abc", `/expiring: days must be a whole number between 1 and 365, got "abc"`)
	e.say(admAdele, "/expiring 400", `got "400"`)

	// Pending: Rita's request for the Falcon Team waits for her manager.
	req, err := e.as(contoso, tenantsim.UserRita).SubmitRequest(ctx, entitlement.NewRequest{PackageID: tenantsim.PkgTeamMember, Justification: "joining"})
	if err != nil {
		t.Fatalf("Rita's request: %v", err)
	}
	deadline := time.Now().Add(wait)
	for e.requestState(req.ID) != entitlement.StatePendingApproval {
		if time.Now().After(deadline) {
			t.Fatalf("Rita's request never reached pendingApproval")
		}
		e.sim.Advance(time.Second)
	}
	e.say(admAdele, "/pending", "Rita Requester", "Falcon Team Member", "Pending approval")
	e.say(admAdele, "/pending Falcon Wiki", "Nothing is waiting for approval.")
	e.say(admAdele, "/pending Nope", `/pending: no package is named "Nope"`)

	// Revoke: cancel first (nothing happens), then confirm.
	e.say(admAdele, "/revoke rita@contoso.example Falcon Wiki Reader", "holds no active assignment of Falcon Wiki Reader")
	ask = e.say(admAdele, "/revoke nestor@contoso.example Falcon Wiki Reader", "Revoke Falcon Wiki Reader from Nestor Wilke?", asg.ID)
	e.clickToken(admAdele, ask.ID, "admin.cancel", confirmToken(t, ask), "Cancelled", "Nothing was changed")
	e.clickToken(admAdele, ask.ID, "admin.confirm", confirmToken(t, ask), "already cancelled")
	if a := e.mustAssignment(asg.ID); !a.State.GrantsAccess() {
		t.Fatalf("a cancelled /revoke removed the assignment: %+v", a)
	}
	ask = e.say(admAdele, "/revoke Nestor Falcon Wiki", "Revoke Falcon Wiki Reader from Nestor Wilke?")
	e.clickToken(admAdele, ask.ID, "admin.confirm", confirmToken(t, ask), "Revoked Falcon Wiki Reader")
	reqs, err := e.client.Requests(ctx, entitlement.RequestFilter{PackageID: tenantsim.PkgWikiReader})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(reqs, func(r entitlement.Request) bool { return r.Type == entitlement.RequestAdminRemove }) {
		t.Fatalf("no adminRemove request after the confirmed /revoke: %+v", reqs)
	}

	// The audit log has the whole story, and /audit filters it by user and by package.
	e.say(admAdele, "/audit nestor@contoso.example", "Entries about or by Nestor Wilke", "assign.confirm", "revoke.confirm", "revoke.cancel")
	a := e.say(admAdele, "/audit Falcon Production Access", "Entries about the package Falcon Production Access", `"text":"package"`, "viewed")
	if strings.Contains(a.CardText(), "assign") {
		t.Errorf("/audit {package} shows another package's entries: %s", a.CardText())
	}
	e.say(admAdele, "/audit zed@contoso.example", "is neither a package nor a user")
}

// TestAdminAssignPartnerByMail: /assign for a Fabrikam user who is not yet in Contoso targets their mail and
// the connected organization; Entra (the simulator) creates the guest.
func TestAdminAssignPartnerByMail(t *testing.T) {
	e := newAdminEnv(t)
	ctx := context.Background()
	e.say(admAdele, "/assign frank@fabrikam.example Falcon Wiki Reader", "no policy of Falcon Wiki Reader covers users of connected organizations")
	e.say(admAdele, "/assign nina@northwind.example Falcon Partner", `"northwind.example" is not the domain of a connected organization`)
	ask := e.say(admAdele, "/assign frank@fabrikam.example Falcon Partner", "Assign Falcon Partner Collaboration to frank@fabrikam.example?",
		"Fabrikam, not yet a guest", "Bypassed")
	e.clickToken(admAdele, ask.ID, "admin.confirm", confirmToken(t, ask), "Assigned Falcon Partner Collaboration")
	e.waitAssignment(t, wait, "no assignment for frank@fabrikam.example", func() ([]entitlement.Assignment, error) {
		return e.client.Assignments(ctx, entitlement.AssignmentFilter{PackageID: tenantsim.PkgPartner})
	}, func(a entitlement.Assignment) bool {
		return strings.EqualFold(a.Target.Email, "frank@fabrikam.example") && a.State.GrantsAccess()
	})
}

func (e *adminEnv) mustAssignment(id string) entitlement.Assignment {
	e.t.Helper()
	as, err := e.client.Assignments(context.Background(), entitlement.AssignmentFilter{})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, a := range as {
		if a.ID == id {
			return a
		}
	}
	e.t.Fatalf("assignment %s not found", id)
	return entitlement.Assignment{}
}
