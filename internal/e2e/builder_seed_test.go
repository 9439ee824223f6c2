package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/teamsfake"
	"github.com/accessbot/accessbot/internal/tenantsim"
)

// newBuilderEnv is the partner environment (brokered requests on, Nina registered with the connector) with
// the seed's admin group, so Adele can build packages.
func newBuilderEnv(t *testing.T) *flowEnv {
	t.Helper()
	var members []teamsfake.Member
	for _, u := range []teamsfake.User{gus, nina} {
		members = append(members, teamsfake.Member{ID: u.ID, Name: u.Name, AADObjectID: u.AADObjectID, TenantID: u.TenantID,
			Email: partnerEmail[u.AADObjectID]})
	}
	return newFlowEnv(t, envOptions{Brokered: true, Members: members, AdminGroup: tenantsim.AdminsGroupID})
}

// wizardStep clicks verb on the wizard card (id cardID) as Adele with the card's action data plus inputs, and
// returns the card that replaces it; it must contain want.
func (e *flowEnv) wizardStep(card map[string]any, cardID, verb string, inputs map[string]any, want string) map[string]any {
	e.t.Helper()
	data := actionData(e.t, card, verb)
	for k, v := range inputs {
		data[k] = v
	}
	text, next := e.click(admAdele, cardID, verb, data)
	if !strings.Contains(text+rawJSON(next), want) {
		e.t.Fatalf("after %s with %v the card lacks %q:\n%s", verb, inputs, want, text)
	}
	return next
}

// TestBuilderSeedStory is the seed from a reset demo, in chat: Adele connects Northwind and builds "Northwind
// Pilot" (Falcon Team as Member, Northwind users may request, Patti approves, 30 days) with the wizard and
// gets the links to share; Nina of Northwind requests it, Patti approves, Nina is invited and guided.
func TestBuilderSeedStory(t *testing.T) {
	e := newBuilderEnv(t)
	ctx := context.Background()
	e.say(patti, "hi", "AccessBot") // Patti has the app: the bot has her chat

	e.say(admAdele, "/connect northwind.example Northwind", "Connected Northwind")
	orgs, err := e.client.ConnectedOrgs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var northwind string
	for _, o := range orgs {
		if o.TenantID() == tenantsim.NorthwindTenantID {
			northwind = o.ID
		}
	}
	if northwind == "" {
		t.Fatalf("no Northwind organization after /connect: %+v", orgs)
	}

	// A wizard left at step 2 is offered again by /package new and resumed where it was.
	first := e.say(admAdele, "/package new", "builder.next")
	e.wizardStep(first.Card(), first.ID, "builder.next", map[string]any{"pb.name": "Left Behind", "pb.catalog": tenantsim.FalconCatalogID}, "Resources and roles")
	e.say(admAdele, "/package new", "You have an unfinished package")
	e.say(admAdele, "/package resume", "Step 2 of 7")
	// Starting over drops it; its old card is then stale.
	start := e.say(admAdele, "/package new over", "builder.next")
	if text, _ := e.click(admAdele, first.ID, "builder.cancel", actionData(t, first.Card(), "builder.cancel")); !strings.Contains(text, "closed or replaced") {
		t.Errorf("the replaced wizard's card still works: %s", text)
	}
	card := start.Card()
	// Step 1: a missing name is refused and nothing is stored; then name and catalog.
	card = e.wizardStep(card, start.ID, "builder.next", map[string]any{"pb.catalog": tenantsim.FalconCatalogID}, "give the package a name")
	card = e.wizardStep(card, start.ID, "builder.next", map[string]any{"pb.name": "Northwind Pilot",
		"pb.description": "The Falcon team for Northwind's pilot engineers.", "pb.catalog": tenantsim.FalconCatalogID}, "Resources and roles")
	// Step 2: a search finds sites and applications too, with their roles (not picked here).
	card = e.wizardStep(card, start.ID, "builder.search", map[string]any{"pb.search": "Northwind"}, "Northwind Collaboration Visitors")
	for _, want := range []string{"Northwind Extranet", "Partner", "Found 2"} {
		if !strings.Contains(rawJSON(card), want) {
			t.Errorf("the search result lacks %q: %s", want, rawJSON(card))
		}
	}
	// Step 2: Falcon Team as Member.
	card = e.wizardStep(card, start.ID, "builder.next", map[string]any{"pb.roles": tenantsim.FalconTeamGroupID + "|Member"}, "Who may request")
	// Step 3: Northwind's users.
	card = e.wizardStep(card, start.ID, "builder.next", map[string]any{"pb.who": "orgs", "pb.orgs": northwind}, "Approval and questions")
	// Step 4: the requestor's manager alone is refused for partner users (they have no manager here); Patti approves.
	if strings.Contains(rawJSON(card), "pb.stage2.") {
		t.Errorf("the one-stage approval card shows stage 2's inputs: %s", rawJSON(card))
	}
	card = e.wizardStep(card, start.ID, "builder.next", map[string]any{"pb.stages": "1", "pb.stage1.kind": "manager"}, "have no manager here")
	// Choosing two stages shows stage 2's inputs (nothing saved yet, stage 1 kept); back to one stage.
	card = e.wizardStep(card, start.ID, "builder.next", map[string]any{"pb.stages": "2", "pb.stage1.kind": "user",
		"pb.stage1.names": "patti@contoso.example"}, "pb.stage2.kind")
	if !strings.Contains(rawJSON(card), "patti@contoso.example") {
		t.Errorf("stage 1's approver was lost when stage 2 appeared: %s", rawJSON(card))
	}
	card = e.wizardStep(card, start.ID, "builder.next", map[string]any{"pb.stages": "1", "pb.stage1.kind": "user",
		"pb.stage1.names": "patti@contoso.example", "pb.stage1.autoDeny": "14"}, "Lifetime")
	// Step 5: 30 days. Step 6: no incompatibilities. Then the review.
	card = e.wizardStep(card, start.ID, "builder.next", map[string]any{"pb.expiry": "days", "pb.expiryDays": "30"}, "Separation of duties")
	card = e.wizardStep(card, start.ID, "builder.next", nil, "Review")
	for _, want := range []string{"Northwind Pilot", "Falcon Team", "Users of Northwind", "Patti Fernandez", "after 30 days"} {
		if !strings.Contains(rawJSON(card), want) {
			t.Errorf("review lacks %q: %s", want, rawJSON(card))
		}
	}
	created := e.wizardStep(card, start.ID, "builder.create", nil, "Created Northwind Pilot")
	// A second click on Create does not create twice.
	if text, _ := e.click(admAdele, start.ID, "builder.create", actionData(t, card, "builder.create")); !strings.Contains(text, "closed") {
		t.Errorf("second Create: %s", text)
	}

	var pkg entitlement.Package
	all, err := e.client.Packages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range all {
		if p.Name == "Northwind Pilot" {
			if pkg.ID != "" {
				t.Fatalf("two packages named Northwind Pilot")
			}
			pkg = p
		}
	}
	if pkg.ID == "" || pkg.CatalogID != tenantsim.FalconCatalogID {
		t.Fatalf("package after Create = %+v", pkg)
	}
	pols, err := e.client.Policies(ctx, pkg.ID)
	if err != nil || len(pols) != 1 {
		t.Fatalf("policies = %+v, %v", pols, err)
	}
	pol := pols[0]
	if pol.Scope != entitlement.ScopeSpecificConnectedOrganizationUsers || pol.SpecificTargets[0].ConnectedOrgID != northwind ||
		pol.Expiration.Duration != "P30D" || len(pol.Stages) != 1 || pol.Stages[0].PrimaryApprovers[0].UserID != tenantsim.UserPatti {
		t.Fatalf("policy = %+v", pol)
	}
	myAccess := openURL(t, created, "Open in My Access")
	if myAccess != "https://myaccess.microsoft.com/@contoso.onmicrosoft.com#/access-packages/"+pkg.ID {
		t.Errorf("My Access link %q", myAccess)
	}
	if chat := openURL(t, created, "Open in Teams"); !strings.Contains(chat, "message=request%20Northwind%20Pilot") {
		t.Errorf("Teams link %q does not type the request", chat)
	}

	// Nina (Northwind) requests it; Patti approves; Nina is invited and guided.
	form := e.say(nina, "request Northwind Pilot", "request.submit")
	data := actionData(t, form.Card(), "request.submit")
	data["justification"] = "Pilot with Contoso"
	from := e.conn.Len()
	if status, _ := e.click(nina, form.ID, "request.submit", data); !strings.Contains(status, "Patti Fernandez") {
		t.Fatalf("status after Nina's request: %s", status)
	}
	p := patti
	approval := e.approvalCardFor(from, &p, "Nina North")
	if answer, _ := e.click(p, approval.ID, "approval.approve", actionData(t, approval.Card(), "approval.approve")); !strings.Contains(answer, "You approved this request") {
		t.Fatalf("Patti's approval: %s", answer)
	}
	e.sim.Advance(5 * time.Second)
	guide := e.conn.WaitFor(t, from, wait, "guest guidance card for Nina", func(a teamsfake.Activity) bool {
		return a.ConversationID == nina.ConversationID && a.Op == "send" && strings.Contains(a.CardText(), "added you as a guest")
	})
	for _, want := range []string{"Accept the invitation", "Falcon Team", "https://teams.microsoft.com/?tenantId=" + tenantsim.ContosoTenantID} {
		if !strings.Contains(guide.CardText()+rawCard(guide), want) {
			t.Errorf("Nina's guidance lacks %q: %s", want, guide.CardText())
		}
	}
	guest := e.partnerGuest(pkg.ID)
	if !guest.IsGuest() || !strings.EqualFold(guest.Mail, "nina@northwind.example") {
		t.Fatalf("guest after delivery = %+v", guest)
	}
	resp, err := http.Get(openURL(t, guide.Card(), "Accept the invitation"))
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("redeem: %v %v", resp, err)
	}
	_ = resp.Body.Close()
}

// TestBuilderSeparationOfDuties: a requester holding an incompatible package, or in an incompatible group,
// gets the explanation instead of the request form; nothing is filed.
func TestBuilderSeparationOfDuties(t *testing.T) {
	e := newBuilderEnv(t)
	ctx := context.Background()
	// Rita holds Falcon Break-glass (incompatible with Falcon Production Access).
	if _, err := e.client.AdminAdd(ctx, entitlement.AdminAddInput{PackageID: tenantsim.PkgBreakGlass, PolicyID: tenantsim.PolicyBreakGlass,
		TargetID: tenantsim.UserRita, Justification: "outage"}); err != nil {
		t.Fatal(err)
	}
	e.waitAssignment(t, wait, "Break-glass for Rita", func() ([]entitlement.Assignment, error) {
		return e.client.Assignments(ctx, entitlement.AssignmentFilter{PackageID: tenantsim.PkgBreakGlass, TargetID: tenantsim.UserRita})
	}, func(a entitlement.Assignment) bool { return a.State == entitlement.AssignmentDelivered })
	// Isaiah holds Falcon Team Member before it is made incompatible with his group: /sod reports him.
	if _, err := e.client.AdminAdd(ctx, entitlement.AdminAddInput{PackageID: tenantsim.PkgTeamMember, PolicyID: tenantsim.PolicyTeamMember,
		TargetID: tenantsim.UserIsaiah, Justification: "team"}); err != nil {
		t.Fatal(err)
	}
	e.waitAssignment(t, wait, "Team Member for Isaiah", func() ([]entitlement.Assignment, error) {
		return e.client.Assignments(ctx, entitlement.AssignmentFilter{PackageID: tenantsim.PkgTeamMember, TargetID: tenantsim.UserIsaiah})
	}, func(a entitlement.Assignment) bool { return a.State == entitlement.AssignmentDelivered })
	// Falcon Team Member is made incompatible with the Falcon Security Reviewers group (Isaiah is a member).
	if err := e.client.SetIncompatible(ctx, tenantsim.PkgTeamMember, entitlement.IncompatibleRef{Kind: entitlement.IncompatibleGroup, ID: tenantsim.ReviewersGroupID}, true); err != nil {
		t.Fatal(err)
	}
	isaiahChat := inChat(isaiah)
	cases := []struct {
		name string
		who  teamsfake.User
		text string
		want []string
	}{
		{"package", rita, "request Falcon Production Access", []string{"You can't request Falcon Production Access while you hold Falcon Break-glass", "access.remove"}},
		{"group", isaiahChat, "request Falcon Team Member", []string{"while you're a member of the group Falcon Security Reviewers"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := e.say(tc.who, tc.text, "You can't request")
			for _, w := range tc.want {
				if !strings.Contains(a.CardText()+rawCard(a), w) {
					t.Errorf("answer lacks %q: %s", w, a.CardText())
				}
			}
			if strings.Contains(rawCard(a), "request.submit") {
				t.Errorf("a request form was offered: %s", rawCard(a))
			}
		})
	}
	// Rita asks to remove Break-glass from the explanation card; once it is gone she may request Production.
	refusal := e.say(rita, "request Falcon Production Access", "You can't request")
	if answer, _ := e.click(rita, refusal.ID, "access.remove", actionData(t, refusal.Card(), "access.remove")); !strings.Contains(answer, "Removal requested") {
		t.Fatalf("Ask to remove: %s", answer)
	}
	e.sim.Advance(5 * time.Second)
	deadline := time.Now().Add(wait)
	for {
		as, err := e.client.Assignments(ctx, entitlement.AssignmentFilter{PackageID: tenantsim.PkgBreakGlass, TargetID: tenantsim.UserRita, States: []entitlement.AssignmentState{entitlement.AssignmentDelivered}})
		if err == nil && len(as) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Break-glass still held after the removal request: %+v, %v", as, err)
		}
		e.sim.Advance(time.Second)
	}
	e.say(rita, "request Falcon Production Access", "request.submit")
	// /sod lists Isaiah, who holds Falcon Team Member and is in the incompatible group.
	sod := e.say(admAdele, "/sod", "Incompatible access held today")
	for _, want := range []string{"Isaiah Langer", "Falcon Team Member", "Falcon Security Reviewers (group)"} {
		if !strings.Contains(sod.CardText(), want) {
			t.Errorf("/sod lacks %q: %s", want, sod.CardText())
		}
	}
	// Admins see the incompatibilities on /package.
	e.say(admAdele, "/package Falcon Break-glass", "Incompatible with")
	e.say(admAdele, "/package Falcon Team Member", "Falcon Security Reviewers (group)")
	// Rita may still request a package that conflicts with nothing she holds.
	e.say(rita, "request Falcon Wiki Reader", "request.submit")
}

// TestBuilderEditAndDelete: /package {name} edit saves a changed lifetime; /package {name} delete asks to
// confirm and is refused while the package has assignments.
func TestBuilderEditAndDelete(t *testing.T) {
	e := newBuilderEnv(t)
	ctx := context.Background()
	start := e.say(admAdele, "/package Falcon Wiki Reader edit", "builder.next")
	card := e.wizardStep(start.Card(), start.ID, "builder.next", map[string]any{"pb.name": "Falcon Wiki Reader",
		"pb.description": "Read the Falcon wiki."}, "Review")
	card = e.wizardStep(card, start.ID, "builder.goto", map[string]any{"target": "lifetime"}, "Lifetime")
	card = e.wizardStep(card, start.ID, "builder.next", map[string]any{"pb.expiry": "days", "pb.expiryDays": "60"}, "Review")
	e.wizardStep(card, start.ID, "builder.create", nil, "Saved Falcon Wiki Reader")
	pol, err := e.client.Policy(ctx, tenantsim.PolicyWikiReader)
	if err != nil || pol.Expiration.Duration != "P60D" || pol.Scope != entitlement.ScopeAllMemberUsers {
		t.Fatalf("policy after edit = %+v, %v", pol, err)
	}

	if _, err := e.client.AdminAdd(ctx, entitlement.AdminAddInput{PackageID: tenantsim.PkgWikiReader, PolicyID: tenantsim.PolicyWikiReader,
		TargetID: tenantsim.UserMegan, Justification: "wiki"}); err != nil {
		t.Fatal(err)
	}
	e.waitAssignment(t, wait, "Wiki Reader for Megan", func() ([]entitlement.Assignment, error) {
		return e.client.Assignments(ctx, entitlement.AssignmentFilter{PackageID: tenantsim.PkgWikiReader})
	}, func(a entitlement.Assignment) bool { return a.State == entitlement.AssignmentDelivered })
	e.say(admAdele, "/package Falcon Wiki Reader delete", "Can't delete Falcon Wiki Reader")

	confirm := e.say(admAdele, "/package Falcon Partner Collaboration delete", "admin.confirm")
	e.click(admAdele, confirm.ID, "admin.confirm", map[string]any{"token": confirmToken(t, confirm)})
	if _, err := e.client.Package(ctx, tenantsim.PkgPartner); err == nil {
		t.Fatal("package still exists after a confirmed delete")
	}
}

// TestBuilderCreateFailsThenUndo: Graph refuses the policy part-way (the organization it names was
// disconnected after the review), the card says what exists and offers Finish and Undo; Undo removes the
// package it created.
func TestBuilderCreateFailsThenUndo(t *testing.T) {
	e := newBuilderEnv(t)
	ctx := context.Background()
	e.say(admAdele, "/connect northwind.example Northwind", "Connected Northwind")
	var northwind string
	orgs, _ := e.client.ConnectedOrgs(ctx)
	for _, o := range orgs {
		if o.TenantID() == tenantsim.NorthwindTenantID {
			northwind = o.ID
		}
	}
	start := e.say(admAdele, "/package new", "builder.next")
	card := e.wizardStep(start.Card(), start.ID, "builder.next", map[string]any{"pb.name": "Short Pilot", "pb.catalog": tenantsim.FalconCatalogID}, "Resources and roles")
	card = e.wizardStep(card, start.ID, "builder.next", map[string]any{"pb.roles": tenantsim.FalconTeamGroupID + "|Member"}, "Who may request")
	card = e.wizardStep(card, start.ID, "builder.next", map[string]any{"pb.who": "orgs", "pb.orgs": northwind}, "Approval and questions")
	card = e.wizardStep(card, start.ID, "builder.next", map[string]any{"pb.stages": "1", "pb.stage1.kind": "internalSponsors"}, "Lifetime")
	card = e.wizardStep(card, start.ID, "builder.next", map[string]any{"pb.expiry": "never"}, "Separation of duties")
	card = e.wizardStep(card, start.ID, "builder.next", nil, "Review")
	if err := e.client.DeleteConnectedOrg(ctx, northwind); err != nil {
		t.Fatal(err)
	}
	failed := e.wizardStep(card, start.ID, "builder.create", nil, "Not finished: Short Pilot")
	text := rawJSON(failed)
	for _, want := range []string{"Create the access package Short Pilot", "Grant Member of Falcon Team", "Create the policy", "builder.undo", "builder.create"} {
		if !strings.Contains(text, want) {
			t.Errorf("failure card lacks %q: %s", want, text)
		}
	}
	var made string
	all, _ := e.client.Packages(ctx)
	for _, p := range all {
		if p.Name == "Short Pilot" {
			made = p.ID
		}
	}
	if made == "" {
		t.Fatal("the package made before the failure is not there")
	}
	e.wizardStep(failed, start.ID, "builder.undo", nil, "Undone: Short Pilot")
	if _, err := e.client.Package(ctx, made); err == nil {
		t.Fatal("the package still exists after Undo")
	}
}
