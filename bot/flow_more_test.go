package bot

import (
	"context"
	"strings"
	"testing"

	"github.com/accessbot/accessbot/cards"
	"github.com/accessbot/accessbot/internal/entitlement"
)

// A stage decided outside Teams (My Access) is learned when a next-stage approver opens the request from
// their inbox: the tracker moves to stage 2 and asks the other reviewer too.
func TestDecisionOutsideTeamsLearned(t *testing.T) {
	e := newFlEnv(t)
	reqID := e.submitProd()
	e.port.mu.Lock()
	st := e.port.approvals[reqID].stages[0]
	st.result, st.by, st.at, st.just = entitlement.ReviewApprove, flAaron, e.clock.Now(), "approved in My Access"
	e.port.mu.Unlock()
	e.poll()
	if got := e.cardsTo("conv-" + flLynne); len(got) != 0 {
		t.Fatalf("stage 2 started before anyone could know: %+v", got)
	}
	e.message(flIsaiah, "Isaiah Langer", "approvals")
	inbox := e.conn.all()[len(e.conn.all())-1].text()
	if !strings.Contains(inbox, "Falcon Production Access") || !strings.Contains(inbox, cards.VerbApprovalOpen) {
		t.Fatalf("inbox: %s", inbox)
	}
	_, resp := e.execute(flIsaiah, "Isaiah Langer", "inbox", cards.VerbApprovalOpen, map[string]any{cards.KeyRequestID: reqID, cards.KeyStageID: "stage-1"})
	if c := respCard(t, resp); !strings.Contains(c, "Approved by Aaron Approver") {
		t.Fatalf("open from the inbox with the stale stage: %s", c)
	}
	_, resp = e.execute(flIsaiah, "Isaiah Langer", "inbox", cards.VerbApprovalOpen, map[string]any{cards.KeyRequestID: reqID})
	if c := respCard(t, resp); !strings.Contains(c, cards.VerbApprovalApprove) || !strings.Contains(c, "stage 2 of 2") {
		t.Fatalf("open from the inbox: %s", c)
	}
	e.drain()
	e.poll()
	if got := e.cardsTo("conv-" + flLynne); len(got) != 1 || !strings.Contains(got[0].text(), "stage 2 of 2") {
		t.Fatalf("Lynne's stage-2 card: %+v", got)
	}
}

// A card button sent as Action.Submit (a message with a value) is answered with a new message.
func TestVerbBySubmit(t *testing.T) {
	e := newFlEnv(t)
	act := e.activity(flRita, "Rita Requester", "message")
	act.Value = map[string]any{"verb": cards.VerbRequestOpen, cards.KeyPackageID: flPkgTeam}
	if _, err := e.bot.OnActivity(context.Background(), act); err != nil {
		t.Fatal(err)
	}
	sent := e.conn.all()
	if len(sent) != 1 || sent[0].Op != "send" || !strings.Contains(sent[0].text(), "Request Falcon Team Member") {
		t.Fatalf("answer to the submit: %+v", sent)
	}
}
