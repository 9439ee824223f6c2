package bot

import (
	"strings"
	"testing"

	"github.com/accessbot/accessbot/cards"
	"github.com/accessbot/accessbot/internal/entitlement"
)

// Tests of the requester's own requests and access (myrequests.go).

// cancel by command and by button: the request is canceled with the requester's token, the status card
// updated, and someone else's request cannot be canceled.
func TestCancelAndStatus(t *testing.T) {
	e := newFlEnv(t)
	act, reqID := e.ritaRequestsFalconTeam(t)
	e.message(flRita, "Rita Requester", "my requests")
	if c := e.conn.all()[len(e.conn.all())-1].text(); !strings.Contains(c, "Falcon Team Member") || !strings.Contains(c, "waiting for Aaron Approver") {
		t.Fatalf("my requests: %s", c)
	}
	_, resp := e.execute(flMegan, "Megan Bowen", "x", cards.VerbRequestCancel, map[string]any{cards.KeyRequestID: reqID})
	if c := respCard(t, resp); !strings.Contains(c, "Not found") || e.port.requests[reqID].State != entitlement.StatePendingApproval {
		t.Fatalf("Megan canceling Rita's request: state %s, %s", e.port.requests[reqID].State, c)
	}
	from := len(e.conn.all())
	e.message(flRita, "Rita Requester", "cancel falcon team")
	if e.port.requests[reqID].State != entitlement.StateCanceled {
		t.Fatalf("state after cancel = %s", e.port.requests[reqID].State)
	}
	e.drain()
	var updated, aaronUpdated bool
	for _, s := range e.conn.all()[from:] {
		if s.Op == "update" && s.ID == act.ReplyToID && strings.Contains(s.text(), "You canceled the request") {
			updated = true
		}
		if s.Op == "update" && s.Conversation == "conv-"+flAaron && strings.Contains(s.text(), "Canceled by the requester") && !strings.Contains(s.text(), "Not decided yet") {
			aaronUpdated = true
		}
		if s.Op == "send" && strings.Contains(s.Act.Text, "was canceled") {
			t.Errorf("the requester was notified of her own cancel: %q", s.Act.Text)
		}
	}
	if !updated || !aaronUpdated {
		t.Fatalf("status card updated = %v, approver card updated = %v", updated, aaronUpdated)
	}
	e.message(flRita, "Rita Requester", "cancel")
	if c := e.conn.all()[len(e.conn.all())-1].text(); !strings.Contains(c, "no open requests") {
		t.Fatalf("cancel with nothing open: %s", c)
	}
}

// extend opens the form only where the policy allows it; access lists what the user holds.
func TestAccessAndExtend(t *testing.T) {
	e := newFlEnv(t)
	e.port.assignments = append(e.port.assignments, entitlement.Assignment{ID: "as-1", PackageID: flPkgTeam, PolicyID: flPolTeam,
		State: entitlement.AssignmentDelivered, Target: entitlement.Subject{ID: flRita}})
	e.message(flRita, "Rita Requester", "access")
	c := e.conn.all()[len(e.conn.all())-1].text()
	if !strings.Contains(c, "Falcon Team Member") || !strings.Contains(c, "Falcon Team (Team)") || strings.Contains(c, cards.VerbAccessExtend) {
		t.Fatalf("access card: %s", c)
	}
	e.message(flRita, "Rita Requester", "extend falcon team")
	if c := e.conn.all()[len(e.conn.all())-1].text(); !strings.Contains(c, "can't be extended") {
		t.Fatalf("extend not allowed: %s", c)
	}
	pol := e.port.policies[flPolTeam]
	pol.SelfUpdateAllowed = true
	e.port.policies[flPolTeam] = pol
	_, resp := e.execute(flRita, "Rita Requester", "access-card", cards.VerbAccessExtend, map[string]any{cards.KeyAssignmentID: "as-1"})
	form := respCard(t, resp)
	if !strings.Contains(form, "Extend your access") || !strings.Contains(form, cards.VerbRequestSubmit) {
		t.Fatalf("extend form: %s", form)
	}
	_, resp = e.execute(flRita, "Rita Requester", "access-card", cards.VerbRequestSubmit, map[string]any{cards.KeyFormID: formIDIn(form)})
	respCard(t, resp)
	var got entitlement.Request
	for _, r := range e.port.requests {
		got = *r
	}
	if got.ID == "" {
		t.Fatal("no extension request filed")
	}
	if e.port.lastExtend != "as-1" {
		t.Fatalf("extension filed for assignment %q, want as-1", e.port.lastExtend)
	}
}

// extend offers only assignments that grant access: one that expired, failed delivery or is in a state this
// build does not know is not matched, and the user is told there is nothing to extend.
func TestExtendSkipsAssignmentsWithoutAccess(t *testing.T) {
	for _, state := range []entitlement.AssignmentState{entitlement.AssignmentExpired, entitlement.AssignmentDeliveryFailed, "someFutureState"} {
		t.Run(string(state), func(t *testing.T) {
			e := newFlEnv(t)
			e.port.assignments = append(e.port.assignments, entitlement.Assignment{ID: "as-1", PackageID: flPkgTeam, PolicyID: flPolTeam,
				State: state, Target: entitlement.Subject{ID: flRita}})
			pol := e.port.policies[flPolTeam]
			pol.SelfUpdateAllowed = true
			e.port.policies[flPolTeam] = pol
			e.message(flRita, "Rita Requester", "extend falcon team")
			if c := e.conn.all()[len(e.conn.all())-1].text(); !strings.Contains(c, "Nothing to extend") || strings.Contains(c, cards.VerbRequestSubmit) {
				t.Fatalf("extend of a %s assignment: %s", state, c)
			}
			_, resp := e.execute(flRita, "Rita Requester", "access-card", cards.VerbAccessExtend, map[string]any{cards.KeyAssignmentID: "as-1"})
			if c := respCard(t, resp); !strings.Contains(c, "Nothing to extend") {
				t.Fatalf("extend button on a %s assignment: %s", state, c)
			}
		})
	}
}
