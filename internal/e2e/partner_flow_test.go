package e2e

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/store"
	"github.com/accessbot/accessbot/internal/teamsfake"
	"github.com/accessbot/accessbot/internal/tenantsim"
	"github.com/accessbot/accessbot/internal/testkit"
)

// The seed's story: Gus (Fabrikam, a connected organization) requests Falcon Partner Collaboration from his
// own tenant; the bot runs the policy's sponsor stage itself (brokered); Patti, the internal sponsor,
// approves; the bot files adminAdd by email; the simulator creates the guest PendingAcceptance; Gus gets the
// guidance card (redemption link, consent, Teams switch) and his status card waits for him; he redeems the
// invitation; the bot confirms "You're in"; before the 30-day assignment ends he is told what happens.
func TestPartnerGuestBrokeredStory(t *testing.T) {
	e := newPartnerEnv(t, true)
	e.say(patti, "hi", "AccessBot") // Patti has the app: the bot has her chat

	// Gus finds the partner package and requests it.
	list := e.say(gus, "packages", "Falcon Partner Collaboration")
	if strings.Contains(list.CardText(), "Falcon Team Member") || strings.Contains(list.CardText(), "Break-glass") {
		t.Errorf("Gus is offered packages his organization may not request: %s", list.CardText())
	}
	form := e.say(gus, "request Falcon Partner Collaboration", "request.submit")
	data := actionData(t, form.Card(), "request.submit")
	data["justification"] = "Joint launch with Contoso"
	start := e.conn.Len()
	status, _ := e.click(gus, form.ID, "request.submit", data)
	for _, want := range []string{"Pending approval", "Patti Fernandez", "brokered"} {
		if !strings.Contains(status, want) {
			t.Errorf("status card after submit lacks %q: %s", want, status)
		}
	}
	recs := brokeredRecords(t, e.store)
	if len(recs) != 1 {
		t.Fatalf("brokered records = %d, want 1", len(recs))
	}
	reqID, _ := recs[0]["id"].(string)
	if req, _ := recs[0]["requester"].(map[string]any); req["email"] != "gus@fabrikam.example" || req["org"] != tenantsim.FabrikamConnectedOrgID {
		t.Errorf("brokered requester = %v", req)
	}
	// Nothing is filed in Entra before the approval.
	if got := e.requestsFor(tenantsim.PkgPartner); len(got) != 0 {
		t.Fatalf("requests in Entra before approval: %+v", got)
	}

	// Patti, internal sponsor, gets the approval card in her chat; Fiona (external sponsor) in hers.
	p := patti
	card := e.approvalCardFor(start, &p, "Gus Guest")
	for _, want := range []string{"Falcon Partner Collaboration", "Joint launch with Contoso", "Fabrikam", "AccessBot ran this approval"} {
		if !strings.Contains(card.CardText(), want) {
			t.Errorf("Patti's approval card lacks %q: %s", want, card.CardText())
		}
	}
	e.conn.WaitFor(t, start, wait, "approval card for Fiona (external sponsor)", func(a teamsfake.Activity) bool {
		return a.Op == "send" && a.ConversationID != p.ConversationID && a.ConversationID != gus.ConversationID &&
			strings.Contains(a.CardText(), "Approval needed") && strings.Contains(a.CardText(), "Gus Guest")
	})

	// Gus cannot approve his own request.
	approve := actionData(t, card.Card(), "approval.approve")
	if answer, _ := e.click(gus, "forwarded", "approval.approve", approve); !strings.Contains(answer, "not an approver") {
		t.Fatalf("Gus approving his own request: %s", answer)
	}

	from := e.conn.Len()
	if answer, _ := e.click(p, card.ID, "approval.approve", approve); !strings.Contains(answer, "You approved this request") {
		t.Fatalf("Patti's approval: %s", answer)
	}
	// A second click is one decision too many.
	if answer, _ := e.click(p, card.ID, "approval.approve", approve); !strings.Contains(answer, "You approved this request") {
		t.Fatalf("Patti's second click: %s", answer)
	}
	reqs := e.requestsFor(tenantsim.PkgPartner)
	if len(reqs) != 1 || reqs[0].Type != entitlement.RequestAdminAdd {
		t.Fatalf("requests in Entra after approval = %+v, want one adminAdd", reqs)
	}

	// The simulator delivers: the guest exists, PendingAcceptance.
	e.sim.Advance(5 * time.Second)
	guide := e.conn.WaitFor(t, from, wait, "guest guidance card for Gus", func(a teamsfake.Activity) bool {
		return a.ConversationID == gus.ConversationID && a.Op == "send" && strings.Contains(a.CardText(), "added you as a guest")
	})
	for _, want := range []string{"Accept the invitation", "consent", "Accounts and orgs", "Falcon Team",
		"https://teams.microsoft.com/?tenantId=" + tenantsim.ContosoTenantID} {
		if !strings.Contains(guide.CardText()+rawCard(guide), want) {
			t.Errorf("guidance card lacks %q: %s", want, guide.CardText())
		}
	}
	redeem := openURL(t, guide.Card(), "Accept the invitation")
	if !strings.HasPrefix(redeem, e.url+"/_sim/redeem/") {
		t.Fatalf("redemption link %q is not the simulator's", redeem)
	}
	e.conn.WaitFor(t, from, wait, "status card waiting for the invitation", func(a teamsfake.Activity) bool {
		return a.Op == "update" && a.ID == form.ID && strings.Contains(a.CardText(), "waiting for you to accept the invitation")
	})
	guest := e.partnerGuest(tenantsim.PkgPartner)
	if !guest.IsGuest() || guest.ExternalUserState != "PendingAcceptance" || !strings.EqualFold(guest.Mail, "gus@fabrikam.example") {
		t.Fatalf("guest after delivery = %+v", guest)
	}

	// Gus redeems the invitation: the bot confirms.
	from = e.conn.Len()
	resp, err := http.Get(redeem)
	if err != nil {
		t.Fatalf("redeem: %v", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("redeem: status %d", resp.StatusCode)
	}
	in := e.conn.WaitFor(t, from, wait, "You're in", func(a teamsfake.Activity) bool {
		return a.ConversationID == gus.ConversationID && strings.Contains(a.CardText(), "You're in")
	})
	if !strings.Contains(rawCard(in), "tenantId="+tenantsim.ContosoTenantID) {
		t.Errorf("You're in card has no switch link: %s", rawCard(in))
	}
	// The last step ends in the team itself: Graph's team webUrl (GET /teams/{id}), which carries the tenant.
	if team := openURL(t, in.Card(), "Open Falcon Team"); !strings.Contains(team, "groupId="+tenantsim.FalconTeamGroupID) ||
		!strings.Contains(team, "tenantId="+tenantsim.ContosoTenantID) {
		t.Errorf("team link %q does not open Falcon Team in Contoso", team)
	}
	e.waitUpdate(from, form.ID, "Delivered")
	if g := e.partnerGuest(tenantsim.PkgPartner); g.ExternalUserState != "Accepted" {
		t.Fatalf("guest after redemption = %+v", g)
	}

	// Three days before the 30-day assignment ends, Gus is told what happens.
	from = e.conn.Len()
	e.sim.Advance(27*24*time.Hour + time.Hour)
	ending := e.conn.WaitFor(t, from, wait, "end-of-access notice", func(a teamsfake.Activity) bool {
		return a.ConversationID == gus.ConversationID && strings.Contains(a.CardText(), "ends soon")
	})
	for _, want := range []string{"blocked", "deleted", "Falcon Partner Collaboration"} {
		if !strings.Contains(ending.CardText(), want) {
			t.Errorf("end-of-access notice lacks %q: %s", want, ending.CardText())
		}
	}

	// Every step is in the audit log as brokered, Patti's decision with her name (the last entry is written
	// right after the notice is sent: poll for it).
	want := []string{"request.submit:submitted:Gus Guest", "approval.approve:approved:Patti Fernandez",
		"assignment.adminAdd:filed:Patti Fernandez", "guest.accepted:accepted:AccessBot", "guest.ending-notice:sent:AccessBot"}
	var seen map[string]bool
	eventually(t, "the brokered audit trail", func() bool {
		entries, err := e.store.Audit(context.Background(), store.AuditQuery{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		seen = map[string]bool{}
		for _, a := range entries {
			if a.RequestID == reqID && a.Mode == store.ModeBrokered {
				seen[a.Action+":"+a.Outcome+":"+a.ActorName] = true
			}
		}
		for _, w := range want {
			if !seen[w] {
				return false
			}
		}
		return true
	})
	entries, _ := e.store.Audit(context.Background(), store.AuditQuery{Limit: 100})
	for _, a := range entries {
		if a.RequestID == reqID && a.Mode != store.ModeBrokered {
			t.Errorf("audit %s has mode %s", a.Action, a.Mode)
		}
	}
}

// eventually polls cond until it holds or the deadline (wait) passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testkit.EventuallyWithin(t, wait, what, cond)
}

// Nina's tenant (Northwind) is not a connected organization: she gets an explanation, and nothing is filed.
func TestPartnerUnconnectedTenantExplained(t *testing.T) {
	e := newPartnerEnv(t, true)
	for _, text := range []string{"packages", "request Falcon Partner Collaboration"} {
		a := e.say(nina, text, "not connected to Contoso")
		if strings.Contains(a.CardText(), "request.submit") || strings.Contains(rawCard(a), "request.submit") {
			t.Errorf("%q offered Nina a request form: %s", text, a.CardText())
		}
	}
	if recs := brokeredRecords(t, e.store); len(recs) != 0 {
		t.Errorf("brokered records for Nina: %v", recs)
	}
	reqs, err := e.client.Requests(context.Background(), entitlement.RequestFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(reqs) != 0 {
		t.Errorf("requests filed in Entra: %+v", reqs)
	}
}

// With brokered requests turned off, a Fabrikam user is sent to Contoso's tenant-scoped My Access page.
func TestPartnerLinkOutWhenBrokeredOff(t *testing.T) {
	e := newPartnerEnv(t, false)
	a := e.say(gus, "request Falcon Partner Collaboration", "My Access")
	if !strings.Contains(rawCard(a), "https://myaccess.microsoft.com/@contoso.onmicrosoft.com#/access-packages") {
		t.Errorf("link-out card lacks the tenant-scoped My Access link: %s", rawCard(a))
	}
	if recs := brokeredRecords(t, e.store); len(recs) != 0 {
		t.Errorf("brokered records with brokered mode off: %v", recs)
	}
}

// requestsFor lists Entra's requests for a package.
func (e *flowEnv) requestsFor(pkg string) []entitlement.Request {
	e.t.Helper()
	reqs, err := e.client.Requests(context.Background(), entitlement.RequestFilter{PackageID: pkg})
	if err != nil {
		e.t.Fatalf("list requests: %v", err)
	}
	return reqs
}

// partnerGuest reads the guest the package's assignment targets.
func (e *flowEnv) partnerGuest(pkg string) entitlement.User {
	e.t.Helper()
	as, err := e.client.Assignments(context.Background(), entitlement.AssignmentFilter{PackageID: pkg})
	if err != nil || len(as) != 1 || as[0].Target.ID == "" {
		e.t.Fatalf("assignments of %s = %+v, %v", pkg, as, err)
	}
	u, err := e.client.User(context.Background(), as[0].Target.ID)
	if err != nil {
		e.t.Fatalf("read guest %s: %v", as[0].Target.ID, err)
	}
	return u
}

// Fiona, the external sponsor (a Fabrikam account), approves from the card the bot pushed into a chat it
// created in her tenant; Patti's later click changes nothing and says who decided.
func TestPartnerExternalSponsorApproves(t *testing.T) {
	e := newPartnerEnv(t, true)
	p, pattiCard, start := e.gusRequestsPartnerPackage(t)
	fionaCard := e.conn.WaitFor(t, start, wait, "approval card for Fiona", func(a teamsfake.Activity) bool {
		return a.Op == "send" && a.ConversationID != p.ConversationID && a.ConversationID != gus.ConversationID &&
			strings.Contains(a.CardText(), "Approval needed")
	})
	var created bool
	for _, c := range e.conn.Conversations() {
		if strings.Contains(rawJSON(c), tenantsim.UserFiona) && strings.Contains(rawJSON(c), tenantsim.FabrikamTenantID) {
			created = true
		}
	}
	if !created {
		t.Fatalf("the bot did not create Fiona's chat in Fabrikam: %v", e.conn.Conversations())
	}
	fiona := teamsfake.User{ID: "29:fiona", Name: "Fiona Partner", AADObjectID: tenantsim.UserFiona,
		TenantID: tenantsim.FabrikamTenantID, ConversationID: fionaCard.ConversationID}
	approve := actionData(t, fionaCard.Card(), "approval.approve")
	from := e.conn.Len()
	if answer, _ := e.click(fiona, fionaCard.ID, "approval.approve", approve); !strings.Contains(answer, "You approved this request") {
		t.Fatalf("Fiona's approval: %s", answer)
	}
	if answer, _ := e.click(p, pattiCard.ID, "approval.approve", actionData(t, pattiCard.Card(), "approval.approve")); !strings.Contains(answer, "Already approved by Fiona") {
		t.Fatalf("Patti's late click: %s", answer)
	}
	e.waitUpdate(from, pattiCard.ID, "Approved by Fiona Partner")
	if reqs := e.requestsFor(tenantsim.PkgPartner); len(reqs) != 1 {
		t.Fatalf("requests in Entra = %+v, want one adminAdd", reqs)
	}
}

// Northwind known to Contoso as a proposed (not yet approved) connected organization: Nina is told so.
func TestPartnerProposedOrganizationExplained(t *testing.T) {
	e := newPartnerEnv(t, true)
	if _, err := e.client.CreateConnectedOrg(context.Background(), entitlement.NewConnectedOrg{Name: "Northwind",
		State: entitlement.OrgProposed, TenantID: tenantsim.NorthwindTenantID}); err != nil {
		t.Fatalf("create proposed organization: %v", err)
	}
	a := e.say(nina, "request Falcon Partner Collaboration", "not yet approved")
	if !strings.Contains(a.CardText(), "Northwind is known to Contoso") {
		t.Errorf("explanation: %s", a.CardText())
	}
	if recs := brokeredRecords(t, e.store); len(recs) != 0 {
		t.Errorf("brokered records: %v", recs)
	}
}
