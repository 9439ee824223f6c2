package bot

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/accessbot/accessbot/cards"
	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/lifecycle"
)

func TestBrokeredAdminAddFailure(t *testing.T) {
	e := newPtEnv(t, true)
	key, card := e.pendingPartnerRequest(ptPatti)
	e.port.addErr, e.port.addFailures = fmt.Errorf("add: %w", entitlement.ErrForbidden), -1
	e.click(ptUPatti, card, cards.VerbApprovalApprove, map[string]any{cards.KeyRequestID: key, cards.KeyStageID: "stage-1"})
	br, err := e.bot.core.GetBrokered(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	if br.State != entitlement.StateDeliveryFailed || !br.Done || br.ReasonMsg.Msg != "reason.fileFailed" {
		t.Errorf("record after a failed adminAdd: state %s done %v reason %+v", br.State, br.Done, br.ReasonMsg)
	}
	var failed bool
	for _, a := range e.audit(key) {
		if a.Action == "assignment.adminAdd" && a.Outcome == "failed" && strings.Contains(a.Details["error"], "not allowed") {
			failed = true
		}
	}
	if !failed {
		t.Error("failed adminAdd not audited with its reason")
	}
}

func TestBrokeredDecisionIgnoresDelegatedIDs(t *testing.T) {
	e := newPtEnv(t, true)
	tu := e.turn(ptUPatti)
	for _, id := range []string{"", "7c1e0000-0000-0000-0000-000000000001", "brk-../../x"} {
		_, handled, err := e.bot.brokeredDecision(context.Background(), tu, map[string]any{cards.KeyRequestID: id}, entitlement.ReviewApprove)
		if handled || err != nil {
			t.Errorf("id %q: handled %v err %v; want not handled", id, handled, err)
		}
	}
}

func TestBrokeredAdminAddTransientFailure(t *testing.T) {
	tests := []struct {
		name      string
		failures  int
		lost      bool
		wantAdds  int
		wantState entitlement.RequestState
		wantAudit string
	}{
		{name: "throttled once, filed on retry", failures: 1, wantAdds: 1, wantState: entitlement.StateDelivering, wantAudit: "retrying filed"},
		{name: "answer lost in transit: the request it made is adopted", failures: 1, lost: true, wantAdds: 1, wantState: entitlement.StateDelivering, wantAudit: "retrying found"},
		{name: "still failing after the last attempt", failures: -1, wantAdds: 0, wantState: entitlement.StateDeliveryFailed,
			wantAudit: "retrying retrying retrying retrying failed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newPtEnv(t, true)
			key, card := e.pendingPartnerRequest(ptPatti)
			e.port.addErr, e.port.addFailures, e.port.lost = &entitlement.ThrottledError{RetryAfter: time.Second}, tc.failures, tc.lost
			if c := e.click(ptUPatti, card, cards.VerbApprovalApprove, map[string]any{cards.KeyRequestID: key, cards.KeyStageID: "stage-1"}); !strings.Contains(c, "You approved") {
				t.Fatalf("approval: %s", c)
			}
			for range lifecycle.MaxFileAttempts {
				e.drain(2 * time.Minute)
			}
			br, err := e.bot.core.GetBrokered(context.Background(), key)
			if err != nil {
				t.Fatal(err)
			}
			if e.port.addCount() != tc.wantAdds || br.State != tc.wantState || br.FilePending {
				t.Errorf("adminAdd calls %d, state %s, pending %v; want %d, %s", e.port.addCount(), br.State, br.FilePending, tc.wantAdds, tc.wantState)
			}
			if tc.wantState == entitlement.StateDelivering && br.GraphRequestID == "" {
				t.Error("no Graph request followed")
			}
			var outcomes []string
			for _, a := range e.audit(key) {
				if a.Action == "assignment.adminAdd" {
					outcomes = append([]string{a.Outcome}, outcomes...) // the log lists newest first
				}
			}
			if strings.Join(outcomes, " ") != tc.wantAudit {
				t.Errorf("adminAdd audit outcomes %v, want %s", outcomes, tc.wantAudit)
			}
		})
	}
}

// TestBrokeredDecisionDuringGraphOutage: with Graph down, a real sponsor's Approve is not refused as "not an
// approver": the card says Microsoft Graph is unavailable and nothing changed, the audit records an error
// (no refusal), nothing is filed — and the same click works once Graph answers again.
func TestBrokeredDecisionDuringGraphOutage(t *testing.T) {
	e := newPtEnv(t, true)
	key, pattiCard := e.pendingPartnerRequest(ptPatti)
	data := map[string]any{cards.KeyRequestID: key, cards.KeyStageID: "stage-1"}

	e.port.mu.Lock()
	e.port.sponsorsErr = fmt.Errorf("read sponsors: %w", entitlement.ErrUnavailable)
	e.port.mu.Unlock()
	c := e.click(ptUPatti, pattiCard, cards.VerbApprovalApprove, data)
	if !strings.Contains(c, "Microsoft Graph is unavailable") || !strings.Contains(c, "nothing was changed") || strings.Contains(c, "not an approver") {
		t.Fatalf("click during the outage: %s", c)
	}
	if e.port.addCount() != 0 {
		t.Fatal("a click during the outage filed the assignment")
	}
	var outcomes []string
	for _, a := range e.audit(key) {
		outcomes = append(outcomes, a.Action+":"+a.Outcome)
	}
	got := strings.Join(outcomes, " ")
	if !strings.Contains(got, "approval.approve:error") || strings.Contains(got, "refused-not-approver") {
		t.Fatalf("audit during the outage = %v, want an error and no refusal", outcomes)
	}

	e.port.mu.Lock()
	e.port.sponsorsErr = nil
	e.port.mu.Unlock()
	if c := e.click(ptUPatti, pattiCard, cards.VerbApprovalApprove, data); !strings.Contains(c, "You approved this request") {
		t.Fatalf("the same click after recovery: %s", c)
	}
	if e.port.addCount() != 1 {
		t.Fatalf("adminAdd calls after recovery = %d, want 1", e.port.addCount())
	}
}
