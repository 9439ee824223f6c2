package bot

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/accessbot/accessbot/cards"
	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/lifecycle"
)

// Tests of stage approvers (approvers.go): resolution, escalation and reminders.

func TestEscalationAndReminder(t *testing.T) {
	e := newFlEnv(t)
	reqID := e.submitProd()
	_, resp := e.execute(flAaron, "Aaron Approver", "c", cards.VerbApprovalApprove,
		map[string]any{cards.KeyRequestID: reqID, cards.KeyStageID: "stage-1", cards.InputJustification: "ok"})
	respCard(t, resp)
	e.poll() // stage 2 starts
	e.clock.Advance(5 * time.Hour)
	e.poll()
	got := e.cardsTo("conv-" + flPatti)
	if len(got) == 0 || !strings.Contains(got[0].text(), "Escalated to you") {
		t.Fatalf("escalation card to Patti: %+v", got)
	}
	from := len(e.conn.all())
	e.clock.Advance(25 * time.Hour)
	e.poll()
	reminded := 0
	for _, s := range e.conn.all()[from:] {
		if strings.Contains(s.text(), "Reminder: this request has been waiting") {
			reminded++
		}
	}
	if reminded != 3 { // Isaiah, Lynne and Patti
		t.Fatalf("reminders = %d, want 3", reminded)
	}
}

// Without a manager the policy's fallback approvers are asked; the requester is never their own approver.
func TestApproverResolution(t *testing.T) {
	tests := []struct {
		name      string
		requestor string
		stage     entitlement.Stage
		want      []string
		wantErr   error
	}{
		{"manager", flRita, entitlement.Stage{PrimaryApprovers: []entitlement.SubjectSet{{Kind: entitlement.SetRequestorManager}},
			FallbackPrimaryApprovers: []entitlement.SubjectSet{{Kind: entitlement.SetSingleUser, UserID: flPatti}}}, []string{flAaron}, nil},
		{"no manager: fallback", flPatti, entitlement.Stage{PrimaryApprovers: []entitlement.SubjectSet{{Kind: entitlement.SetRequestorManager}},
			FallbackPrimaryApprovers: []entitlement.SubjectSet{{Kind: entitlement.SetSingleUser, UserID: flAaron}}}, []string{flAaron}, nil},
		{"group without the requestor", flIsaiah, entitlement.Stage{PrimaryApprovers: []entitlement.SubjectSet{{Kind: entitlement.SetGroupMembers, GroupID: flReviewers}}}, []string{flLynne}, nil},
		{"only the requestor: fallback", flPatti, entitlement.Stage{PrimaryApprovers: []entitlement.SubjectSet{{Kind: entitlement.SetSingleUser, UserID: flPatti}},
			FallbackPrimaryApprovers: []entitlement.SubjectSet{{Kind: entitlement.SetGroupMembers, GroupID: flReviewers}}}, []string{flIsaiah, flLynne}, nil},
		{"backup approvers are not asked", flRita, entitlement.Stage{PrimaryApprovers: []entitlement.SubjectSet{
			{Kind: entitlement.SetSingleUser, UserID: flPatti, IsBackup: true}, {Kind: entitlement.SetSingleUser, UserID: flMegan}}}, []string{flMegan}, nil},
		{"only the requestor, no fallback: said so", flPatti, entitlement.Stage{PrimaryApprovers: []entitlement.SubjectSet{{Kind: entitlement.SetSingleUser, UserID: flPatti}}},
			nil, lifecycle.ErrOnlyRequester},
		{"a deleted approver is nobody, not an outage", flRita, entitlement.Stage{PrimaryApprovers: []entitlement.SubjectSet{{Kind: entitlement.SetSingleUser, UserID: "gone"}},
			FallbackPrimaryApprovers: []entitlement.SubjectSet{{Kind: entitlement.SetSingleUser, UserID: flPatti}}}, []string{flPatti}, nil},
	}
	e := newFlEnv(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := e.bot.core.ResolveApprovers(context.Background(), &trackedRequest{ID: "r", RequestorID: tc.requestor}, tc.stage, false)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			var ids []string
			for _, p := range got {
				ids = append(ids, p.ID)
			}
			if strings.Join(ids, ",") != strings.Join(tc.want, ",") {
				t.Fatalf("approvers = %v, want %v", ids, tc.want)
			}
		})
	}
}

// A stage whose only approver is the requester (Patti requesting a package she approves) does not sit
// "Pending approval" with nobody named: its escalation approvers are asked at once, or — when the policy
// has none — Patti is told plainly that nobody can act.
func TestOnlyApproverIsTheRequester(t *testing.T) {
	tests := []struct {
		name       string
		escalation []entitlement.SubjectSet
		wantCardTo string // "" when nobody gets an approval card
		wantNotice string
	}{
		{"escalation approvers are asked at once", []entitlement.SubjectSet{{Kind: entitlement.SetSingleUser, UserID: flAaron}},
			flAaron, "so I asked Aaron Approver instead"},
		{"nobody else: the requester is told", nil, "", "nobody can act on it"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newFlEnv(t)
			pol := e.port.policies[flPolTeam]
			pol.Stages = []entitlement.Stage{{DurationBeforeAutomaticDenial: "P14D",
				PrimaryApprovers:  []entitlement.SubjectSet{{Kind: entitlement.SetSingleUser, UserID: flPatti}},
				EscalationEnabled: tc.escalation != nil, DurationBeforeEscalation: "PT4H", EscalationApprovers: tc.escalation}}
			e.port.policies[flPolTeam] = pol
			e.message(flAaron, "Aaron Approver", "hi") // the bot has Aaron's chat
			data := e.openForm(flPatti, "Patti Fernandez", "request Falcon Team Member")
			_, resp := e.execute(flPatti, "Patti Fernandez", "form-team", cards.VerbRequestSubmit, data)
			if c := respCard(t, resp); !strings.Contains(c, "Pending approval") {
				t.Fatalf("status after submit: %s", c)
			}
			e.drain()
			e.poll()
			e.drain()
			var toAaron, notice string
			for _, s := range e.conn.all() {
				switch {
				case s.Conversation == "chat-"+flAaron && strings.Contains(s.text(), cards.VerbApprovalApprove):
					toAaron = s.text()
				case s.Conversation == "chat-"+flPatti && strings.Contains(s.text(), "only approver"):
					notice = s.text()
				}
			}
			if (toAaron != "") != (tc.wantCardTo != "") {
				t.Errorf("approval card to Aaron = %v, want %v", toAaron != "", tc.wantCardTo != "")
			}
			if tc.wantCardTo != "" && !strings.Contains(toAaron, "only approver of this stage is Patti Fernandez") {
				t.Errorf("Aaron's card does not say why he is asked: %s", toAaron)
			}
			if !strings.Contains(notice, tc.wantNotice) {
				t.Errorf("Patti's notice = %q, want it to contain %q", notice, tc.wantNotice)
			}
		})
	}
}

// A request in a state this version does not know (Graph added one) is not closed: the bot keeps following
// it, shows the state humanised, and notices when it later becomes one it knows.
func TestUnknownRequestStateKeepsBeingFollowed(t *testing.T) {
	e := newFlEnv(t)
	reqID := e.submitProd()
	e.port.mu.Lock()
	e.port.requests[reqID].State = "awaitingCallback"
	e.port.mu.Unlock()
	e.poll()
	tr, err := e.bot.core.Get(context.Background(), reqID)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Closed || tr.State != "awaitingCallback" {
		t.Fatalf("tracked record = closed %v, state %q; want open and the state kept", tr.Closed, tr.State)
	}
	_, resp := e.execute(flRita, "Rita Requester", "status-1", cards.VerbRequestRefresh, map[string]any{cards.KeyRequestID: reqID})
	if got := respCard(t, resp); !strings.Contains(got, "Unknown (awaiting callback)") {
		t.Errorf("status card does not show the state humanised: %s", got)
	}
	e.port.mu.Lock()
	e.port.requests[reqID].State = entitlement.StateDenied
	e.port.mu.Unlock()
	e.poll()
	if tr, _ = e.bot.core.Get(context.Background(), reqID); !tr.Closed || tr.State != entitlement.StateDenied {
		t.Fatalf("after Graph says denied: closed %v, state %q", tr.Closed, tr.State)
	}
}
