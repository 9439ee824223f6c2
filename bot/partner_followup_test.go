package bot

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/accessbot/accessbot/cards"
	"github.com/accessbot/accessbot/internal/botframework"
)

// TestContosoApproverInboxListsBrokeredRequests: a Contoso sponsor's `approvals` shows the partner requests the
// bot brokers (they wait in the bot's store, not in Graph) next to the delegated ones.
func TestContosoApproverInboxListsBrokeredRequests(t *testing.T) {
	e := newPtEnv(t, true)
	e.submitPartner()
	e.drain(0)
	inbox := e.say(ptUPatti, "approvals")
	if !strings.Contains(inbox, "Gus Guest") || !strings.Contains(inbox, "Falcon Partner Collaboration") {
		t.Fatalf("Patti's inbox lacks Gus's brokered request:\n%s", inbox)
	}
}

// TestUnconnectedTenantFreeTextIsExplained: "I need access to Falcon" from a tenant that is not a connected
// organization gets the explanation, not "I don't know".
func TestUnconnectedTenantFreeTextIsExplained(t *testing.T) {
	e := newPtEnv(t, true)
	got := e.say(ptUNina, "I need access to Falcon")
	if !strings.Contains(got, "You can't request access here") || strings.Contains(got, "I don't know") {
		t.Fatalf("Nina's free text was not explained:\n%s", got)
	}
}

// TestDisconnectTakesEffectForPartnersAtOnce: after /disconnect, a partner user of that organization is no longer
// offered requests, even though the organization list was cached a moment before.
func TestDisconnectTakesEffectForPartnersAtOnce(t *testing.T) {
	ctx := context.Background()
	e := newAdmEnv(t)
	gus := e.bot.newTurn(ctx, e.activity(admGus, "message"))
	md, err := e.bot.requestMode(ctx, gus)
	if err != nil || !md.Allowed {
		t.Fatalf("before /disconnect: mode %+v, err %v; want allowed", md, err)
	}
	e.say(admAdele, "/disconnect Fabrikam")
	if got := e.click(admAdele, cards.VerbAdminConfirm, map[string]any{cards.KeyToken: e.lastToken()}); !strings.Contains(got, "Disconnected Fabrikam") {
		t.Fatalf("confirm answer: %s", got)
	}
	gus = e.bot.newTurn(ctx, e.activity(admGus, "message"))
	if md, err := e.bot.requestMode(ctx, gus); err != nil || md.Allowed {
		t.Fatalf("after /disconnect: mode %+v, err %v; want not allowed", md, err)
	}
}

// TestBrokeredCardUpdateSkipsDeletedMessages: a card copy whose message was deleted (404) does not fail the
// update job (which would retry and re-update every other copy forever); other failures still do.
func TestBrokeredCardUpdateSkipsDeletedMessages(t *testing.T) {
	tests := []struct {
		name    string
		fail    error
		wantErr bool
	}{
		{"message deleted", &botframework.APIError{Status: 404, Code: "NotFound"}, false},
		{"connector down", &botframework.APIError{Status: 503, Code: "ServiceUnavailable"}, true},
		{"all fine", nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newPtEnv(t, true)
			key, _ := e.submitPartner()
			e.drain(0)
			e.conn.failUpdate = tc.fail
			raw, _ := json.Marshal(brokeredCardsJob{RequestID: key})
			err := e.bot.deliverBrokeredCards(context.Background(), raw)
			if (err != nil) != tc.wantErr {
				t.Fatalf("deliverBrokeredCards error = %v, want error %v", err, tc.wantErr)
			}
		})
	}
}
