package bot

import (
	"context"
	"strings"
	"testing"

	"github.com/accessbot/accessbot/cards"
	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/i18n"
	"github.com/accessbot/accessbot/internal/lifecycle"
	"github.com/accessbot/accessbot/internal/store"
)

// TestStatusCardConsistentAfterDecision: between an approver's decision and Entra's next state the status
// card does not say "Pending approval — stage 1 of 2, waiting for Aaron" next to "Stage 1 denied by Aaron"
// (issue 13 item 7).
func TestStatusCardConsistentAfterDecision(t *testing.T) {
	e := newFlEnv(t)
	at := e.clock.Now()
	cases := []struct {
		name           string
		stage, stages  int
		result         entitlement.ReviewResult
		want, unwanted []string
	}{
		{"denied at stage 1 of 2", 1, 2, entitlement.ReviewDeny, []string{"Denied by Aaron Approver"},
			[]string{"Pending approval", "stage 1 of 2", "Waiting for", "Cancel request"}},
		{"last stage approved", 2, 2, entitlement.ReviewApprove, []string{"Approved by Aaron Approver"},
			[]string{"Pending approval", "Waiting for"}},
		{"first of two approved stays pending", 1, 2, entitlement.ReviewApprove, []string{"Pending approval"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tr := &trackedRequest{ID: "r1", PackageName: "Falcon Production Access", State: entitlement.StatePendingApproval,
				Stage: c.stage, StageCount: c.stages, Approvers: []lifecycle.Person{{ID: flAaron, Name: "Aaron Approver"}},
				Decisions: []lifecycle.Decision{{Stage: c.stage, ApproverName: "Aaron Approver", Result: c.result, At: at}}}
			text, _ := cardText(t, cards.RequestStatus(i18n.English(), e.bot.statusView(context.Background(), nil, tr)))
			for _, w := range c.want {
				if !strings.Contains(text, w) {
					t.Errorf("card lacks %q:\n%s", w, text)
				}
			}
			for _, w := range c.unwanted {
				if strings.Contains(text, w) {
					t.Errorf("card contradicts itself with %q:\n%s", w, text)
				}
			}
		})
	}
}

// TestIdenticalCardUpdateSentOnce: an update that would show the message's current card again is not sent;
// a changed card is (issue 13 item 7).
func TestIdenticalCardUpdateSentOnce(t *testing.T) {
	e := newFlEnv(t)
	ref := store.CardRef{Key: "r1", ConversationID: "chat-1", ServiceURL: "https://smba.example/emea/", ActivityID: "act-1"}
	pending := cards.Notice(nil, cards.NoticeView{Title: "Pending approval"})
	n := e.conn.count()
	for i := 0; i < 2; i++ {
		if err := e.bot.updateCard(context.Background(), ref, pending); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.bot.updateCard(context.Background(), ref, cards.Notice(nil, cards.NoticeView{Title: "Denied"})); err != nil {
		t.Fatal(err)
	}
	var updates int
	for _, s := range e.conn.since(n) {
		if s.Op == "update" {
			updates++
		}
	}
	if updates != 2 {
		t.Errorf("updates sent = %d, want 2 (the identical one skipped)", updates)
	}
}
