package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/accessbot/accessbot/internal/store"
	"github.com/accessbot/accessbot/internal/teamsfake"
	"github.com/accessbot/accessbot/internal/tenantsim"
)

// newPartnerEnv is the request/approve flows' environment with the partner settings: brokered requests on
// (or off) and the partner users registered with the connector so the bot can look up their email addresses.
func newPartnerEnv(t *testing.T, brokered bool) *flowEnv {
	t.Helper()
	var members []teamsfake.Member
	for _, u := range []teamsfake.User{gus, nina} {
		members = append(members, teamsfake.Member{ID: u.ID, Name: u.Name, AADObjectID: u.AADObjectID, TenantID: u.TenantID,
			Email: partnerEmail[u.AADObjectID]})
	}
	return newFlowEnv(t, envOptions{Brokered: brokered, Members: members})
}

// gusRequestsPartnerPackage: Patti has opened the bot, then Gus requests Falcon Partner Collaboration (a
// brokered request). It returns Patti (with the chat the bot reaches her in), her approval card, and where
// the connector's log stood before the submit.
func (e *flowEnv) gusRequestsPartnerPackage(t *testing.T) (p teamsfake.User, card teamsfake.Activity, start int) {
	t.Helper()
	e.say(patti, "hi", "AccessBot")
	form := e.say(gus, "request Falcon Partner Collaboration", "request.submit")
	data := actionData(t, form.Card(), "request.submit")
	start = e.conn.Len()
	if status, _ := e.click(gus, form.ID, "request.submit", data); !strings.Contains(status, "Pending approval") {
		t.Fatalf("status after submit: %s", status)
	}
	p = patti
	card = e.approvalCardFor(start, &p, "Gus Guest")
	return p, card, start
}

// Seeded partner people (docs/ARCHITECTURE.md) and Patti, the Fabrikam organization's internal sponsor.
var (
	gus   = teamsfake.User{ID: "29:gus", Name: "Gus Guest", AADObjectID: tenantsim.UserGus, TenantID: tenantsim.FabrikamTenantID, ConversationID: "a:gus"}
	nina  = teamsfake.User{ID: "29:nina", Name: "Nina North", AADObjectID: tenantsim.UserNina, TenantID: tenantsim.NorthwindTenantID, ConversationID: "a:nina"}
	patti = teamsfake.User{ID: "29:patti", Name: "Patti Fernandez", AADObjectID: tenantsim.UserPatti, TenantID: tenantsim.ContosoTenantID, ConversationID: "a:patti"}

	partnerEmail = map[string]string{tenantsim.UserGus: "gus@fabrikam.example", tenantsim.UserNina: "nina@northwind.example"}
)

// brokeredRecords reads the bot's brokered request records (the store's requests of Kind brokered, their
// bodies) as JSON objects.
func brokeredRecords(t *testing.T, st *store.Store) []map[string]any {
	t.Helper()
	rs, err := st.ListRequests(context.Background(), store.RequestQuery{Kind: store.KindBrokered})
	if err != nil {
		t.Fatalf("list brokered records: %v", err)
	}
	var out []map[string]any
	for _, r := range rs {
		var m map[string]any
		if err := json.Unmarshal(r.Body, &m); err != nil {
			t.Fatalf("decode brokered record %s: %v", r.ID, err)
		}
		out = append(out, m)
	}
	return out
}

// openURL finds the URL of the Action.OpenUrl titled title anywhere in a card.
func openURL(t *testing.T, card map[string]any, title string) string {
	t.Helper()
	var found string
	walkCard(card, func(x map[string]any) {
		if x["type"] == "Action.OpenUrl" && x["title"] == title && found == "" {
			found, _ = x["url"].(string)
		}
	})
	if found == "" {
		t.Fatalf("card has no %q link: %v", title, card)
	}
	return found
}

// rawJSON renders a value as JSON text (for substring checks).
func rawJSON(v any) string {
	raw, _ := json.Marshal(v)
	return string(raw)
}
