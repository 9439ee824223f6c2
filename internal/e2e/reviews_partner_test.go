package e2e

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/accessbot/accessbot/cards"
	"github.com/accessbot/accessbot/internal/lifecycle"
	"github.com/accessbot/accessbot/internal/store"
	"github.com/accessbot/accessbot/internal/teamsfake"
	"github.com/accessbot/accessbot/internal/tenantsim"
)

// A partner guest typing `reviews` in his home tenant's chat: the bot maps his Fabrikam identity to his guest
// account in Contoso (by the requests it brokered for him, or by his address) and shows his self-review; his
// answer is recorded with his own identity (where that fails, the card sends him to My Access: verbReviewSelf).
func TestReviewPartnerSeesSelfReviewFromHomeChat(t *testing.T) {
	member := func(u teamsfake.User, email string) teamsfake.Member {
		return teamsfake.Member{ID: u.ID, Name: u.Name, AADObjectID: u.AADObjectID, TenantID: u.TenantID, Email: email}
	}
	for _, tc := range []struct {
		name string
		// email is what Teams tells the bot about Gus's address ("" = nothing).
		email string
		// brokered records a request the bot brokered for Gus, naming his guest account.
		brokered bool
	}{
		{name: "by his address", email: partnerEmail[tenantsim.UserGus]},
		{name: "by a brokered request", brokered: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newFlowEnv(t, envOptions{Reviews: true, Members: []teamsfake.Member{member(gus, tc.email),
				member(nina, partnerEmail[tenantsim.UserNina])}})
			e.sim.SeedReviews()
			guest := e.guestOf()
			if tc.brokered {
				br := &lifecycle.Brokered{ID: lifecycle.BrokeredPrefix + "gus-1", PackageID: tenantsim.PkgPartner, State: "delivered",
					Requester: lifecycle.BrokeredRequester{TenantID: tenantsim.FabrikamTenantID, ID: tenantsim.UserGus, Name: "Gus Guest"},
					Guest:     lifecycle.GuestRecord{UserID: guest.AADObjectID}, CreatedAt: e.sim.Now()}
				body, _ := json.Marshal(br)
				if _, err := e.store.CreateRequest(e.ctx(), store.Request{ID: br.ID, Kind: store.KindBrokered, Body: body, State: string(br.State),
					TenantID: tenantsim.FabrikamTenantID, RequestorID: tenantsim.UserGus, PackageID: br.PackageID, CreatedAt: br.CreatedAt}); err != nil {
					t.Fatal(err)
				}
			}
			g := gus
			card := e.say(g, "reviews", "Do you still need access to Falcon Partner Collaboration?")
			if strings.Contains(card.CardText(), "No access review is waiting") {
				t.Fatalf("Gus's reviews: %s", card.CardText())
			}
			yes := actionTitled(t, card.Card(), cards.VerbReviewSelf, "Yes")
			yes["justification"] = "Still on the Falcon rollout"
			// His Teams sign-in is exchanged (on behalf of him) in Contoso, where it is his guest account: the
			// answer is recorded with his own identity, never the bot's.
			if got, _ := e.click(g, card.ID, cards.VerbReviewSelf, yes); !strings.Contains(got, "You said you still need it") {
				t.Fatalf("Gus's answer from his home chat: %s", got)
			}
			if _, ds := e.decisions(tenantsim.ReviewPartnerID); ds[guest.AADObjectID].ReviewedBy.ID != guest.AADObjectID {
				t.Fatalf("Gus's decision, want it recorded by his guest account: %+v", ds[guest.AADObjectID])
			}
			// Nina (Northwind) has no guest account in Contoso: nothing waits for her.
			e.say(nina, "reviews", "No access review is waiting for you.")
		})
	}
}

// Once Gus reached his review from his home chat, the sweep's cards for his guest account go there too: his
// answer given in My Access is confirmed in the chat he uses, once.
func TestReviewPartnerConfirmedInHomeChat(t *testing.T) {
	e := newFlowEnv(t, envOptions{Reviews: true, Members: []teamsfake.Member{{ID: gus.ID, Name: gus.Name,
		AADObjectID: gus.AADObjectID, TenantID: gus.TenantID, Email: partnerEmail[tenantsim.UserGus]}}})
	e.sim.SeedReviews()
	// Megan's message tells the bot Contoso's service URL (for the chats it creates with the other reviewers).
	e.say(megan, "help", "help")
	g := gus
	e.say(g, "reviews", "Do you still need access to Falcon Partner Collaboration?")
	e.decideInMyAccess(tenantsim.ReviewPartnerID, tenantsim.UserGus, "Approve", "answered in My Access")
	from := e.conn.Len()
	e.sweep()
	e.conn.WaitFor(t, from, wait, "the confirmation in Gus's home chat", func(a teamsfake.Activity) bool {
		return a.Op == "send" && a.ConversationID == g.ConversationID && strings.Contains(a.CardText(), "Your answer is recorded")
	})
	e.sweep()
	if n := e.countSent(g.ConversationID, "Your answer is recorded"); n != 1 {
		t.Fatalf("confirmation sent %d times", n)
	}
}

// An address is trusted only when its domain belongs to the tenant the user chats from: Nina (Northwind) whose
// Teams profile claims Gus's Fabrikam address sees no review of his, and his notices stay where they were.
func TestReviewPartnerAddressOfAnotherTenantIsNotTrusted(t *testing.T) {
	e := newFlowEnv(t, envOptions{Reviews: true, Members: []teamsfake.Member{{ID: nina.ID, Name: nina.Name,
		AADObjectID: nina.AADObjectID, TenantID: nina.TenantID, Email: partnerEmail[tenantsim.UserGus]}}})
	e.sim.SeedReviews()
	card := e.say(nina, "reviews", "No access review is waiting for you.")
	if strings.Contains(card.CardText(), "Falcon Partner Collaboration") {
		t.Fatalf("Nina sees Gus's review: %s", card.CardText())
	}
}
