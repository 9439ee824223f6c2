package bot

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/accessbot/accessbot/cards"
	"github.com/accessbot/accessbot/internal/entitlement"
)

// cardText is everything readable on a card, and the verbs of its actions.
func cardText(t *testing.T, c *cards.Card) (text string, verbs []string) {
	t.Helper()
	raw, err := json.Marshal(c)
	if err != nil {
		t.Fatalf("encode card: %v", err)
	}
	var walk func(v any)
	var sb strings.Builder
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if x["type"] == "Action.Execute" {
				verbs = append(verbs, x["verb"].(string))
			}
			for k, e := range x {
				if s, ok := e.(string); ok && (k == "text" || k == "value" || k == "title") {
					sb.WriteString(s + "\n")
				}
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("decode card: %v", err)
	}
	walk(m)
	return sb.String(), verbs
}

// checkReadOnly fails unless the card's only action is Refresh and it does not claim the stage still waits.
func checkReadOnly(t *testing.T, text string, verbs []string) {
	t.Helper()
	if len(verbs) != 1 || verbs[0] != cards.VerbApprovalRefresh {
		t.Errorf("actions %v, want only %s", verbs, cards.VerbApprovalRefresh)
	}
	if strings.Contains(text, "Not decided yet") {
		t.Errorf("an ended request reads as still waiting:\n%s", text)
	}
}

// Every approver's copy of an approval card, once the request is over, says how it ended: the stage's
// decision when there was one, otherwise canceled / expired / denied automatically and that nothing is left
// to decide; only Refresh remains.
func TestApproverCardOfEndedRequest(t *testing.T) {
	at := time.Date(2026, 11, 26, 11, 0, 0, 0, time.UTC)
	aaronOK := decisionRecord{Stage: 1, ApproverID: flAaron, ApproverName: "Aaron Approver", Result: entitlement.ReviewApprove, At: at}
	isaiahNo := func(stage int) decisionRecord {
		return decisionRecord{Stage: stage, ApproverID: flIsaiah, ApproverName: "Isaiah Langer", Result: entitlement.ReviewDeny, At: at}
	}
	tests := []struct {
		name      string
		tr        trackedRequest
		stage     int
		viewer    string
		want      []string
		wantNot   []string
		wantEnded bool // the headline is the request's end, not a decision
	}{
		{name: "canceled by the requester", stage: 1, viewer: flAaron, wantEnded: true,
			tr:   trackedRequest{State: entitlement.StateCanceled, Status: "Canceled", CanceledByUser: true, StageCount: 1},
			want: []string{"Canceled by the requester", "Nothing is left to decide."}, wantNot: []string{"The requester canceled"}},
		{name: "canceled elsewhere (My Access, an admin)", stage: 1, viewer: flAaron, wantEnded: true,
			tr:   trackedRequest{State: entitlement.StateCanceled, Status: "Canceled", StageCount: 1},
			want: []string{"This request was canceled", "Nothing is left to decide."}},
		{name: "canceled in stage 2: the stage-2 card", stage: 2, viewer: flIsaiah, wantEnded: true,
			tr:   trackedRequest{State: entitlement.StateCanceled, CanceledByUser: true, StageCount: 2, Decisions: []decisionRecord{aaronOK}},
			want: []string{"Canceled by the requester", "Stage 1: Aaron Approver — Approved"}},
		{name: "canceled in stage 2: the stage-1 card keeps its decision", stage: 1, viewer: flAaron,
			tr:   trackedRequest{State: entitlement.StateCanceled, CanceledByUser: true, StageCount: 2, Decisions: []decisionRecord{aaronOK}},
			want: []string{"You approved this request", "Then the requester canceled the request."}},
		{name: "denied by an approver, seen by another", stage: 1, viewer: flLynne,
			tr:   trackedRequest{State: entitlement.StateDenied, Status: "Denied", StageCount: 1, Decisions: []decisionRecord{isaiahNo(1)}},
			want: []string{"Denied by Isaiah Langer"}, wantNot: []string{"automatically"}},
		{name: "denied at stage 2: the stage-1 card", stage: 1, viewer: flAaron,
			tr:   trackedRequest{State: entitlement.StateDenied, Status: "Denied", StageCount: 2, Decisions: []decisionRecord{aaronOK, isaiahNo(2)}},
			want: []string{"You approved this request", "Then stage 2 was denied by Isaiah Langer."}},
		{name: "expired: nobody decided", stage: 1, viewer: flAaron, wantEnded: true,
			tr:   trackedRequest{State: entitlement.StateDenied, Status: "Expired", Expired: true, StageCount: 1},
			want: []string{"Expired: nobody decided in time", "denied automatically", "Nothing is left to decide."}},
		{name: "expired at stage 2: the stage-1 card", stage: 1, viewer: flAaron,
			tr:   trackedRequest{State: entitlement.StateDenied, Status: "Expired", Expired: true, StageCount: 2, Decisions: []decisionRecord{aaronOK}},
			want: []string{"You approved this request", "Then the request expired: nobody decided in time."}},
		{name: "denied automatically (not a timeout)", stage: 1, viewer: flAaron, wantEnded: true,
			tr:   trackedRequest{State: entitlement.StateDenied, Status: "Denied", StageCount: 1},
			want: []string{"Denied automatically", "Nothing is left to decide."}, wantNot: []string{"nobody decided"}},
		{name: "delivered", stage: 1, viewer: flPatti,
			tr:   trackedRequest{State: entitlement.StateDelivered, StageCount: 1, Decisions: []decisionRecord{aaronOK}},
			want: []string{"Approved by Aaron Approver", "Access was delivered."}},
		{name: "delivered, decided where the bot did not see it", stage: 1, viewer: flAaron,
			tr:   trackedRequest{State: entitlement.StateDelivered, StageCount: 1},
			want: []string{"Approved by another approver", "Access was delivered."}},
		{name: "delivery failed", stage: 1, viewer: flAaron,
			tr:   trackedRequest{State: entitlement.StateDeliveryFailed, StageCount: 1, Decisions: []decisionRecord{aaronOK}},
			want: []string{"You approved this request", "Approved, but delivery failed."}},
	}
	e := newFlEnv(t)
	for _, tc := range tests {
		for _, mode := range []cards.Mode{cards.ModeDelegated, cards.ModeBrokered} {
			t.Run(tc.name+"/"+string(mode), func(t *testing.T) {
				tr := tc.tr
				tr.ID, tr.PackageName, tr.RequestorID, tr.RequestorName, tr.Mode = "req-1", "Falcon Production Access", flRita, "Rita Requester", string(mode)
				text, verbs := cardText(t, e.bot.approverCard(context.Background(), nil, &tr, tc.stage, tc.viewer, ""))
				checkReadOnly(t, text, verbs)
				for _, w := range tc.want {
					if !strings.Contains(text, w) {
						t.Errorf("card lacks %q:\n%s", w, text)
					}
				}
				for _, w := range tc.wantNot {
					if strings.Contains(text, w) {
						t.Errorf("card says %q:\n%s", w, text)
					}
				}
				if ended := !strings.Contains(text, "Decided by"); ended != tc.wantEnded {
					t.Errorf("headline is the request's end = %v, want %v:\n%s", ended, tc.wantEnded, text)
				}
				if brokered := strings.Contains(text, "(brokered)"); brokered != (mode == cards.ModeBrokered) {
					t.Errorf("brokered footnote = %v in mode %s", brokered, mode)
				}
			})
		}
	}
}

// The brokered flow's own records end the same way: canceled by the partner, expired by the bot's clock
// rules, stopped with a reason, denied by a sponsor, delivered.
func TestBrokeredApproverCardOfEndedRequest(t *testing.T) {
	at := time.Date(2026, 11, 26, 11, 0, 0, 0, time.UTC)
	pending := func() []brokeredStage {
		return []brokeredStage{{Index: 1, Approvers: []personRef{{ID: flPatti, Name: "Patti Fernandez"}}, StartedAt: at}}
	}
	decided := func(r entitlement.ReviewResult) []brokeredStage {
		s := pending()
		s[0].Decision, s[0].By, s[0].ByName, s[0].At = r, flPatti, "Patti Fernandez", at
		return s
	}
	tests := []struct {
		name string
		br   brokeredRequest
		want []string
	}{
		{"canceled by the partner", brokeredRequest{State: entitlement.StateCanceled, Canceled: true, Done: true, Stages: pending()},
			[]string{"Canceled by the requester", "Nothing is left to decide."}},
		{"expired", brokeredRequest{State: entitlement.StateDenied, Reason: "The request expired: nobody decided within 14 days.", Done: true, Stages: pending()},
			[]string{"Expired: nobody decided in time"}},
		{"stopped with a reason", brokeredRequest{State: entitlement.StateDenied, Reason: "Nobody can approve the next stage (no approver is set).", Done: true, Stages: pending()},
			[]string{"Denied automatically", "Nobody can approve the next stage (no approver is set). Nothing is left to decide."}},
		{"denied by the sponsor", brokeredRequest{State: entitlement.StateDenied, Done: true, Stages: decided(entitlement.ReviewDeny)},
			[]string{"Denied by Patti Fernandez"}},
		{"delivered", brokeredRequest{State: entitlement.StateDelivered, Stages: decided(entitlement.ReviewApprove)},
			[]string{"Approved by Patti Fernandez"}},
		{"delivery failed", brokeredRequest{State: entitlement.StateDeliveryFailed, Reason: "Approved, but Contoso could not assign it.", Done: true, Stages: decided(entitlement.ReviewApprove)},
			[]string{"Approved by Patti Fernandez", "Approved, but delivery failed."}},
	}
	e := newFlEnv(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			br := tc.br
			br.ID, br.PackageName, br.StageCount = "brk-1", "Falcon Partner Collaboration", 1
			br.Requester = brokeredRequester{TenantID: ptFabrikam, ID: ptGus, Name: "Gus Guest", OrgName: "Fabrikam"}
			for _, viewer := range []string{flAaron, flLynne} { // not Patti: she would read "You approved"
				text, verbs := cardText(t, e.bot.brokeredApproverCard(context.Background(), nil, &br, 1, viewer, "", ""))
				checkReadOnly(t, text, verbs)
				for _, w := range append(tc.want, "Gus Guest's request (Fabrikam)", "(brokered)") {
					if !strings.Contains(text, w) {
						t.Errorf("viewer %s: card lacks %q:\n%s", viewer, w, text)
					}
				}
			}
		})
	}
}

// After Rita cancels, Aaron's approval card is updated to say so, and a late Approve or Deny changes nothing
// and answers the same read-only card, whether Graph still shows the closed approval or hides it.
func TestLateDecisionOnCanceledRequest(t *testing.T) {
	for _, hide := range []bool{false, true} {
		name := "approval still readable"
		if hide {
			name = "approval hidden once the request ended"
		}
		t.Run(name, func(t *testing.T) {
			e := newFlEnv(t)
			e.port.hideClosed = hide
			data := e.openForm(flRita, "Rita Requester", "request Falcon Team Member")
			e.execute(flRita, "Rita Requester", "form", cards.VerbRequestSubmit, data)
			e.drain()
			toAaron := e.cardsTo("conv-" + flAaron)
			if len(toAaron) != 1 {
				t.Fatalf("approval cards to Aaron: %d", len(toAaron))
			}
			reqID := e.cardRefs(t)[0].Key
			from := len(e.conn.all())
			e.message(flRita, "Rita Requester", "cancel falcon team")
			e.drain()
			var updated string
			for _, s := range e.conn.all()[from:] {
				if s.Op == "update" && s.ID == toAaron[0].ID {
					updated = s.text()
				}
			}
			if !strings.Contains(updated, "Canceled by the requester") || strings.Contains(updated, "Not decided yet") ||
				strings.Contains(updated, cards.VerbApprovalApprove) {
				t.Fatalf("Aaron's card after the cancel: %s", updated)
			}
			for _, verb := range []string{cards.VerbApprovalApprove, cards.VerbApprovalDeny, cards.VerbApprovalRefresh} {
				_, resp := e.execute(flAaron, "Aaron Approver", toAaron[0].ID, verb,
					map[string]any{cards.KeyRequestID: reqID, cards.KeyApprovalID: reqID, cards.KeyStageID: "stage-1", cards.InputJustification: "ok"})
				c := respCard(t, resp)
				if !strings.Contains(c, "Canceled by the requester") || !strings.Contains(c, "Nothing is left to decide") ||
					strings.Contains(c, "Not decided yet") || strings.Contains(c, cards.VerbApprovalApprove) || strings.Contains(c, cards.VerbApprovalDeny) {
					t.Errorf("%s after the cancel: %s", verb, c)
				}
				if late := strings.Contains(c, "Your click changed nothing"); late != (verb != cards.VerbApprovalRefresh) {
					t.Errorf("%s: 'your click changed nothing' shown = %v", verb, late)
				}
			}
			if e.port.decideCalls != 0 || e.port.requests[reqID].State != entitlement.StateCanceled {
				t.Errorf("after late clicks: DecideStage calls %d, state %s", e.port.decideCalls, e.port.requests[reqID].State)
			}
		})
	}
}
