package bot

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/accessbot/accessbot/cards"
	"github.com/accessbot/accessbot/internal/entitlement"
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
	}{
		{"manager", flRita, entitlement.Stage{PrimaryApprovers: []entitlement.SubjectSet{{Kind: entitlement.SetRequestorManager}},
			FallbackPrimaryApprovers: []entitlement.SubjectSet{{Kind: entitlement.SetSingleUser, UserID: flPatti}}}, []string{flAaron}},
		{"no manager: fallback", flPatti, entitlement.Stage{PrimaryApprovers: []entitlement.SubjectSet{{Kind: entitlement.SetRequestorManager}},
			FallbackPrimaryApprovers: []entitlement.SubjectSet{{Kind: entitlement.SetSingleUser, UserID: flAaron}}}, []string{flAaron}},
		{"group without the requestor", flIsaiah, entitlement.Stage{PrimaryApprovers: []entitlement.SubjectSet{{Kind: entitlement.SetGroupMembers, GroupID: flReviewers}}}, []string{flLynne}},
		{"only the requestor: fallback", flPatti, entitlement.Stage{PrimaryApprovers: []entitlement.SubjectSet{{Kind: entitlement.SetSingleUser, UserID: flPatti}},
			FallbackPrimaryApprovers: []entitlement.SubjectSet{{Kind: entitlement.SetGroupMembers, GroupID: flReviewers}}}, []string{flIsaiah, flLynne}},
		{"backup approvers are not asked", flRita, entitlement.Stage{PrimaryApprovers: []entitlement.SubjectSet{
			{Kind: entitlement.SetSingleUser, UserID: flPatti, IsBackup: true}, {Kind: entitlement.SetSingleUser, UserID: flMegan}}}, []string{flMegan}},
	}
	e := newFlEnv(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := e.bot.core.ResolveApprovers(context.Background(), &trackedRequest{ID: "r", RequestorID: tc.requestor}, tc.stage, false)
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
