package bot

import (
	"context"
	"strings"
	"testing"
)

// TestContosoApproverInboxListsBrokeredRequests: a Contoso sponsor's `approvals` shows the partner requests the
// bot brokers (they wait in the bot's store, not in Graph) next to the delegated ones.
func TestContosoApproverInboxListsBrokeredRequests(t *testing.T) {
	e := newPtEnv(t, true)
	e.submitPartner()
	e.drain(0)
	n := e.conn.count()
	act := e.activity(ptUPatti, "message")
	act.Text = "approvals"
	if _, err := e.bot.OnActivity(context.Background(), act); err != nil {
		t.Fatal(err)
	}
	var inbox string
	for _, s := range e.conn.since(n) {
		inbox += s.text()
	}
	if !strings.Contains(inbox, "Gus Guest") || !strings.Contains(inbox, "Falcon Partner Collaboration") {
		t.Fatalf("Patti's inbox lacks Gus's brokered request:\n%s", inbox)
	}
}

// TestUnconnectedTenantFreeTextIsExplained: "I need access to Falcon" from a tenant that is not a connected
// organization gets the explanation, not "I don't know".
func TestUnconnectedTenantFreeTextIsExplained(t *testing.T) {
	e := newPtEnv(t, true)
	n := e.conn.count()
	act := e.activity(ptUNina, "message")
	act.Text = "I need access to Falcon"
	if _, err := e.bot.OnActivity(context.Background(), act); err != nil {
		t.Fatal(err)
	}
	var got string
	for _, s := range e.conn.since(n) {
		got += s.text()
	}
	if !strings.Contains(got, "You can't request access here") || strings.Contains(got, "I don't know") {
		t.Fatalf("Nina's free text was not explained:\n%s", got)
	}
}
