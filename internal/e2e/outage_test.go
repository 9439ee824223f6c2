package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/accessbot/accessbot/internal/store"
	"github.com/accessbot/accessbot/internal/teamsfake"
	"github.com/accessbot/accessbot/internal/tenantsim"
)

// TestBrokeredApprovalWhileGraphIsDown: Patti, a real sponsor, approves Gus's brokered request while
// Microsoft Graph and Entra are down (every connection cut). Her click is not refused as "not an approver":
// the card says Graph is unavailable and nothing changed, the audit records an error (no refusal) and
// nothing is filed. Once the simulator is up again the same click approves and files adminAdd.
func TestBrokeredApprovalWhileGraphIsDown(t *testing.T) {
	e := newPartnerEnv(t, true)
	p, card, _ := e.gusRequestsPartnerPackage(t)
	approve := actionData(t, card.Card(), "approval.approve")
	reqID, _ := approve["requestId"].(string)

	e.sim.SetFault(tenantsim.Fault{Requests: -1, Kind: tenantsim.FaultCut, Entra: true})
	answer, _ := e.click(p, card.ID, "approval.approve", approve)
	if !strings.Contains(answer, "Microsoft Graph is unavailable") || !strings.Contains(answer, "nothing was changed") {
		t.Errorf("Patti's click while Graph is down: %s", answer)
	}
	if strings.Contains(answer, "not an approver") || strings.Contains(answer, "sign you in") {
		t.Fatalf("a Graph outage was shown as a refusal or a sign-in problem: %s", answer)
	}
	outcomes := func() []string {
		entries, err := e.store.Audit(context.Background(), store.AuditQuery{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, a := range entries {
			if a.RequestID == reqID && strings.HasPrefix(a.Action, "approval.") {
				out = append(out, a.Action+":"+a.Outcome)
			}
		}
		return out
	}
	got := strings.Join(outcomes(), " ")
	if !strings.Contains(got, "approval.approve:error") || strings.Contains(got, "refused-not-approver") || strings.Contains(got, ":approved") {
		t.Fatalf("audit while Graph is down = %q, want an error, no refusal, no approval", got)
	}

	e.sim.SetFault(tenantsim.Fault{}) // up again
	if reqs := e.requestsFor(tenantsim.PkgPartner); len(reqs) != 0 {
		t.Fatalf("requests filed during the outage: %+v", reqs)
	}
	from := e.conn.Len()
	if answer, _ := e.click(p, card.ID, "approval.approve", approve); !strings.Contains(answer, "You approved this request") {
		t.Fatalf("the same click after recovery: %s", answer)
	}
	if reqs := e.requestsFor(tenantsim.PkgPartner); len(reqs) != 1 {
		t.Fatalf("requests in Entra after recovery = %+v, want one adminAdd", reqs)
	}
	e.conn.WaitFor(t, from, wait, "Gus's status card moves on", func(a teamsfake.Activity) bool {
		return a.ConversationID == gus.ConversationID && strings.Contains(a.CardText(), "Patti")
	})
	if got := strings.Join(outcomes(), " "); !strings.Contains(got, "approval.approve:approved") {
		t.Fatalf("audit after recovery = %q", got)
	}
}

// TestDemoUserDuringOutage: in the demo (the simulator stands in for Teams SSO, Entra and Graph) Rita's
// "packages" while everything is down says that Microsoft Graph is unavailable — not "I couldn't sign you
// in" — and works again once the simulator is up.
func TestDemoUserDuringOutage(t *testing.T) {
	e := newFlowEnv(t)
	e.sim.SetFault(tenantsim.Fault{Requests: -1, Kind: tenantsim.FaultCut, Entra: true})
	got := e.say(rita, "packages", "Microsoft Graph is unavailable")
	if text := got.CardText() + got.Text(); strings.Contains(text, "sign you in") || strings.Contains(text, "Signing you in") {
		t.Fatalf("an outage was shown as a sign-in problem: %s", text)
	}
	e.sim.SetFault(tenantsim.Fault{})
	e.say(rita, "packages", "Falcon Team Member")
}
