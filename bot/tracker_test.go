package bot

import (
	"context"
	"strings"
	"testing"

	"github.com/accessbot/accessbot/cards"
	"github.com/accessbot/accessbot/internal/entitlement"
)

// Tests of the request tracker (tracker.go): lagging reads, restart.

// Graph may lag behind a decision: while it still says pendingApproval after the last stage was approved, or
// after a denial at stage 2, polling neither re-sends cards nor invents a stage.
func TestLaggingStateAfterFinalDecision(t *testing.T) {
	for _, tc := range []struct {
		name  string
		prod  bool
		stage int
	}{{"approved single stage", false, 1}, {"denied at stage 2", true, 2}} {
		t.Run(tc.name, func(t *testing.T) {
			e := newFlEnv(t)
			var reqID string
			if tc.prod {
				reqID = e.submitProd()
				_, resp := e.execute(flAaron, "Aaron Approver", "c", cards.VerbApprovalApprove,
					map[string]any{cards.KeyRequestID: reqID, cards.KeyStageID: "stage-1", cards.InputJustification: "ok"})
				respCard(t, resp)
				e.poll()
				_, resp = e.execute(flIsaiah, "Isaiah Langer", "c", cards.VerbApprovalDeny,
					map[string]any{cards.KeyRequestID: reqID, cards.KeyStageID: "stage-2", cards.InputJustification: "no"})
				respCard(t, resp)
			} else {
				_, reqID = e.ritaRequestsFalconTeam(t)
				_, resp := e.execute(flAaron, "Aaron Approver", "c", cards.VerbApprovalApprove, map[string]any{cards.KeyRequestID: reqID, cards.KeyStageID: "stage-1"})
				respCard(t, resp)
			}
			e.port.mu.Lock()
			e.port.requests[reqID].State = entitlement.StatePendingApproval // Graph has not caught up yet
			e.port.mu.Unlock()
			e.poll()
			from := len(e.conn.all())
			for range 3 {
				e.poll()
			}
			if got := e.conn.all()[from:]; len(got) != 0 {
				t.Fatalf("polls of an unchanged request sent %d activities: %+v", len(got), got)
			}
			tr, err := e.bot.core.Get(context.Background(), reqID)
			if err != nil || tr.Stage != tc.stage {
				t.Fatalf("tracked record %+v (%v), want stage %d", tr, err, tc.stage)
			}
		})
	}
}

// The tracker's state is in the store: a restarted bot keeps following open requests and updates the cards
// the first one sent.
func TestTrackerResumesAfterRestart(t *testing.T) {
	e := newFlEnv(t)
	act, reqID := e.ritaRequestsFalconTeam(t)
	_, resp := e.execute(flAaron, "Aaron Approver", "c", cards.VerbApprovalApprove, map[string]any{cards.KeyRequestID: reqID, cards.KeyStageID: "stage-1"})
	respCard(t, resp)

	restarted, err := New(e.bot.cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.bot = restarted
	e.port.mu.Lock()
	e.port.requests[reqID].State = entitlement.StateDelivering
	e.port.mu.Unlock()
	e.port.deliver(reqID)
	from := len(e.conn.all())
	e.poll()
	for _, s := range e.conn.all()[from:] {
		if s.Op == "update" && s.ID == act.ReplyToID && strings.Contains(s.text(), "Delivered") {
			return
		}
	}
	t.Fatalf("the restarted bot did not update the status card: %+v", e.conn.all()[from:])
}
