package e2e

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/store"
	"github.com/accessbot/accessbot/internal/teamsfake"
)

// Rita requests Falcon Team Member (manager approval), Aaron approves from the card pushed to him, Rita's
// status card goes to delivered in place.
func TestFlowManagerApprovesDelivered(t *testing.T) {
	e := newFlowEnv(t)
	start := e.conn.Len()
	reqID, statusID, _ := e.openAndSubmit(rita, "I need access to the Falcon Team", map[string]any{"justification": "joining the project"})

	a := aaron
	card := e.approvalCardFor(start, &a, "Rita Requester")
	for _, want := range []string{"Falcon Team Member", "joining the project", "Rita Requester"} {
		if !strings.Contains(card.CardText(), want) {
			t.Errorf("approval card lacks %q: %s", want, card.CardText())
		}
	}
	if len(e.conn.Conversations()) == 0 {
		t.Fatal("the bot did not create a chat with Aaron")
	}

	// Megan, not an approver, clicks Approve with the same data: nothing changes.
	data := actionData(t, card.Card(), "approval.approve")
	answer, _ := e.click(megan, "forwarded-card", "approval.approve", data)
	if !strings.Contains(answer, "Nothing to decide") && !strings.Contains(answer, "not an approver") {
		t.Fatalf("Megan's click: %s", answer)
	}
	if st := e.requestState(reqID); st != entitlement.StatePendingApproval {
		t.Fatalf("after Megan's click the request is %s, want pendingApproval", st)
	}

	from := e.conn.Len()
	data["justification"] = "welcome aboard"
	answer, _ = e.click(a, card.ID, "approval.approve", data)
	if !strings.Contains(answer, "You approved this request") {
		t.Fatalf("Aaron's answer: %s", answer)
	}
	e.sim.Advance(5 * time.Second) // the simulator delivers 2 s after approval
	e.bot.Kick()
	up := e.waitUpdate(from, statusID, "Delivered")
	if !strings.Contains(up.CardText(), "Falcon Team") {
		t.Errorf("delivered card does not say what was granted: %s", up.CardText())
	}
	e.conn.WaitFor(t, from, wait, "notification to Rita", func(x teamsfake.Activity) bool {
		return x.ConversationID == rita.ConversationID && strings.Contains(x.Text(), "You now have access")
	})
	if st := e.requestState(reqID); st != entitlement.StateDelivered {
		t.Fatalf("request state %s, want delivered", st)
	}
	audit, err := e.store.Audit(context.Background(), store.AuditQuery{ActorID: aaron.AADObjectID})
	if err != nil || len(audit) != 1 || audit[0].Mode != store.ModeDelegated || audit[0].Outcome != "approved" {
		t.Fatalf("audit of Aaron's decision = %+v, %v", audit, err)
	}
}

// submitProduction files Falcon Production Access for Rita and has Aaron approve stage 1; it returns the
// request id, Rita's status card id and the stage-2 cards of Isaiah and Lynne.
func submitProduction(t *testing.T, e *flowEnv) (string, string, teamsfake.User, teamsfake.Activity, teamsfake.User, teamsfake.Activity) {
	t.Helper()
	start := e.conn.Len()
	form := e.say(rita, "request Falcon Production Access", "request.submit")
	data := actionData(t, form.Card(), "request.submit")
	// A first try with a bad ticket number comes back with the error on the card.
	bad := map[string]any{"justification": "release 42"}
	for k, v := range data {
		bad[k] = v
	}
	inputs := questionInputs(t, form.Card())
	for id, kind := range inputs {
		if kind == "text" {
			bad[id] = "CHG-1"
		} else {
			bad[id] = "prod-eu"
		}
	}
	answer, _ := e.click(rita, form.ID, "request.submit", bad)
	if !strings.Contains(answer, "not in the expected format") {
		t.Fatalf("bad ticket answer: %s", answer)
	}
	for id, kind := range inputs {
		if kind == "text" {
			data[id] = "INC123456"
		} else {
			data[id] = "prod-eu"
		}
	}
	data["justification"] = "release 42"
	from := e.conn.Len()
	status, _ := e.click(rita, form.ID, "request.submit", data)
	if !strings.Contains(status, "Submitted") && !strings.Contains(status, "stage 1 of 2") {
		t.Fatalf("status after submit: %s", status)
	}
	e.waitUpdate(from, form.ID, "stage 1 of 2")
	refs := e.statusRefs(form.ID)
	if len(refs) != 1 {
		t.Fatalf("status refs: %+v", refs)
	}
	reqID := refs[0].Key

	a := aaron
	card := e.approvalCardFor(start, &a, "Falcon Production Access")
	approve := actionData(t, card.Card(), "approval.approve")
	// The stage requires a justification from the approver.
	if answer, _ := e.click(a, card.ID, "approval.approve", approve); !strings.Contains(answer, "justification is required") {
		t.Fatalf("approve without justification: %s", answer)
	}
	from = e.conn.Len()
	approve["justification"] = "ticket checked"
	if answer, _ := e.click(a, card.ID, "approval.approve", approve); !strings.Contains(answer, "You approved this request") {
		t.Fatalf("stage 1: %s", answer)
	}
	e.waitUpdate(from, form.ID, "stage 2 of 2")
	is, ly := isaiah, lynne
	ci := e.approvalCardFor(from, &is, "stage 2 of 2")
	cl := e.approvalCardFor(from, &ly, "stage 2 of 2")
	return reqID, form.ID, is, ci, ly, cl
}

// questionInputs lists the policy question inputs of a request form (id → "text" or "choice").
func questionInputs(t *testing.T, card map[string]any) map[string]string {
	t.Helper()
	out := map[string]string{}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if id, _ := x["id"].(string); strings.HasPrefix(id, "q_") {
				if x["type"] == "Input.ChoiceSet" {
					out[id] = "choice"
				} else {
					out[id] = "text"
				}
			}
			for _, c := range x {
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	walk(card)
	if len(out) != 2 {
		t.Fatalf("form questions = %v, want the ticket and the environment", out)
	}
	return out
}

// The two-stage package: Aaron approves stage 1, Isaiah denies stage 2; Rita's card says who denied it,
// and Lynne's copy turns read-only.
func TestFlowTwoStageDeniedAtStage2(t *testing.T) {
	e := newFlowEnv(t)
	reqID, statusID, is, ci, ly, cl := submitProduction(t, e)
	from := e.conn.Len()
	deny := actionData(t, ci.Card(), "approval.deny")
	deny["justification"] = "no change window"
	if answer, _ := e.click(is, ci.ID, "approval.deny", deny); !strings.Contains(answer, "You denied this request") {
		t.Fatalf("Isaiah's deny: %s", answer)
	}
	up := e.waitUpdate(from, statusID, "Denied")
	if !strings.Contains(up.CardText(), "Isaiah Langer") || !strings.Contains(up.CardText(), "no change window") {
		t.Fatalf("Rita's card does not say who denied and why: %s", up.CardText())
	}
	e.waitUpdate(from, cl.ID, "Denied by Isaiah Langer")
	if st := e.requestState(reqID); st != entitlement.StateDenied {
		t.Fatalf("request state %s, want denied", st)
	}
	// Lynne clicks her (stale) copy afterwards: already decided, nothing changes.
	approve := actionData(t, cl.Card(), "approval.approve")
	approve["justification"] = "late"
	if answer, _ := e.click(ly, cl.ID, "approval.approve", approve); !strings.Contains(answer, "Already denied by Isaiah") {
		t.Fatalf("Lynne's late click: %s", answer)
	}
	if st := e.requestState(reqID); st != entitlement.StateDenied {
		t.Fatalf("request state after the late click %s, want denied", st)
	}
}

// Isaiah and Lynne approve stage 2 at the same moment: Graph takes one decision and answers the other 409,
// which the bot shows as "already decided".
func TestFlowDoubleApproveOneDecision(t *testing.T) {
	e := newFlowEnv(t)
	reqID, statusID, is, ci, ly, cl := submitProduction(t, e)
	from := e.conn.Len()
	e.gate.arm()
	var wg sync.WaitGroup
	answers := make([]string, 2)
	for i, c := range []struct {
		u    teamsfake.User
		card teamsfake.Activity
	}{{is, ci}, {ly, cl}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			data := actionData(t, c.card.Card(), "approval.approve")
			data["justification"] = "ok from " + c.u.Name
			resp, err := e.teams.Execute(context.Background(), c.u, c.card.ID, "approval.approve", data)
			if err != nil || resp.Status != http.StatusOK {
				t.Errorf("%s: %d %v", c.u.Name, resp.Status, err)
				return
			}
			card, _ := resp.Body["value"].(map[string]any)
			answers[i] = teamsfake.Activity{Body: map[string]any{"attachments": []any{map[string]any{
				"contentType": "application/vnd.microsoft.card.adaptive", "content": card}}}}.CardText()
		}()
	}
	wg.Wait()
	won, lost := 0, 0
	for _, a := range answers {
		switch {
		case strings.Contains(a, "You approved this request"):
			won++
		case strings.Contains(a, "Already approved by"):
			lost++
		default:
			t.Errorf("unexpected answer: %s", a)
		}
	}
	if won != 1 || lost != 1 {
		t.Fatalf("answers: %d approved, %d already decided; want 1 and 1", won, lost)
	}
	st := e.gate.statuses()
	if len(st) < 3 || st[len(st)-1]+st[len(st)-2] != http.StatusNoContent+http.StatusConflict && st[len(st)-1]+st[len(st)-2] != http.StatusOK+http.StatusConflict {
		t.Fatalf("stage PATCH statuses = %v, want one success and one 409", st)
	}
	e.sim.Advance(5 * time.Second)
	e.bot.Kick()
	e.waitUpdate(from, statusID, "Delivered")
	if s := e.requestState(reqID); s != entitlement.StateDelivered {
		t.Fatalf("request state %s, want delivered", s)
	}
	audit, err := e.store.Audit(context.Background(), store.AuditQuery{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	outcomes := map[string]int{}
	for _, a := range audit {
		if a.RequestID == reqID && strings.HasPrefix(a.Action, "approval.") {
			outcomes[a.Outcome]++
		}
	}
	if outcomes["approved"] != 2 || outcomes["already-decided"] != 1 { // Aaron at stage 1, one of the reviewers at stage 2
		t.Fatalf("audit outcomes = %v", outcomes)
	}
}

// Nobody decides stage 2 within the policy's escalation time: the simulator escalates to Patti, the bot sends
// her the card with the escalation note, tells the reviewers and Rita, and Patti's approval is taken.
func TestFlowStageEscalates(t *testing.T) {
	e := newFlowEnv(t)
	reqID, statusID, _, _, _, _ := submitProduction(t, e)
	from := e.conn.Len()
	e.sim.Advance(5 * time.Hour)
	e.bot.Kick()
	p := patti // approvalCardFor sets the chat the bot created for her
	card := e.approvalCardFor(from, &p, "Escalated to you")
	e.conn.WaitFor(t, from, wait, "escalation notice to Rita", func(a teamsfake.Activity) bool {
		return a.ConversationID == rita.ConversationID && strings.Contains(a.Text(), "escalated to Patti Fernandez")
	})
	approve := actionData(t, card.Card(), "approval.approve")
	approve["justification"] = "covering for the reviewers"
	if answer, _ := e.click(p, card.ID, "approval.approve", approve); !strings.Contains(answer, "You approved this request") {
		t.Fatalf("Patti's approval: %s", answer)
	}
	e.sim.Advance(5 * time.Second)
	e.bot.Kick()
	e.waitUpdate(from, statusID, "Delivered")
	if st := e.requestState(reqID); st != entitlement.StateDelivered {
		t.Fatalf("request state %s, want delivered", st)
	}
}
