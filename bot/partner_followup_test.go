package bot

import (
	"strings"
	"testing"
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
