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
