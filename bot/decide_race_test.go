package bot

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/infracloudio/msbotbuilder-go/schema"

	"github.com/accessbot/accessbot/cards"
	"github.com/accessbot/accessbot/internal/botframework"
	"github.com/accessbot/accessbot/internal/store"
)

// The same approver double-clicks Approve: two invokes (distinct activity ids) read the open approval and
// reach Graph at the same instant; Graph takes one and answers the other 409. One decision is recorded, one
// audit line written, and both clicks are answered "You approved".
func TestDoubleClickAtTheSameInstantDecidesOnce(t *testing.T) {
	e := newFlEnv(t)
	_, reqID := e.ritaRequestsFalconTeam(t)
	// Both clicks wait for each other just before their PATCH, so both have read the stage as open.
	var gate sync.WaitGroup
	gate.Add(2)
	released := make(chan struct{})
	go func() { gate.Wait(); close(released) }()
	e.port.decideGate = func() {
		gate.Done()
		select {
		case <-released:
		case <-time.After(5 * time.Second): // the other click never came: the assertions below say so
		}
	}
	acts := []*schema.Activity{e.activity(flAaron, "Aaron Approver", "invoke"), e.activity(flAaron, "Aaron Approver", "invoke")}
	resps := make([]*botframework.InvokeResponse, len(acts))
	errs := make([]error, len(acts))
	var wg sync.WaitGroup
	for i, act := range acts {
		act.Name = "adaptiveCard/action"
		act.ReplyToID = "card-aaron"
		act.Value = map[string]any{"action": map[string]any{"type": "Action.Execute", "verb": cards.VerbApprovalApprove,
			"data": map[string]any{cards.KeyRequestID: reqID, cards.KeyStageID: "stage-1"}}}
		wg.Add(1)
		go func() {
			defer wg.Done()
			resps[i], errs[i] = e.bot.OnActivity(context.Background(), act)
		}()
	}
	wg.Wait()
	for i := range acts {
		if errs[i] != nil {
			t.Fatalf("click %d: %v", i, errs[i])
		}
		if c := respCard(t, resps[i]); !strings.Contains(c, "You approved") {
			t.Errorf("click %d answer: %s", i, c)
		}
	}
	if e.port.decideCalls != 2 {
		t.Fatalf("DecideStage calls = %d, want 2 (both clicks reached Graph)", e.port.decideCalls)
	}
	audit, err := e.store.Audit(context.Background(), store.AuditQuery{ActorID: flAaron})
	if err != nil || len(audit) != 1 || audit[0].Outcome != "approved" {
		t.Fatalf("audit = %+v, %v; want one approved line", audit, err)
	}
	tr, err := e.bot.core.Get(context.Background(), reqID)
	if err != nil || len(tr.Decisions) != 1 || !strings.EqualFold(tr.Decisions[0].ApproverID, flAaron) {
		t.Fatalf("record decisions = %+v, %v; want Aaron's one", tr, err)
	}
}
