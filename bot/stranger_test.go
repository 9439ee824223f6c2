package bot

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/accessbot/accessbot/cards"
	"github.com/accessbot/accessbot/internal/entitlement"
)

// A user who is neither the requester nor an approver of a request (a tampered requestId, or a card shown to
// the wrong person) learns nothing about it from an approval card action, and the bot does not start pushing
// that request's card updates to them.
func TestStrangerClickOnApprovalShowsNothing(t *testing.T) {
	tests := []struct {
		name  string
		verb  string
		ended bool
	}{
		{"open, open request", cards.VerbApprovalOpen, false},
		{"refresh, open request", cards.VerbApprovalRefresh, false},
		{"approve, open request", cards.VerbApprovalApprove, false},
		{"open, canceled request", cards.VerbApprovalOpen, true},
		{"refresh, canceled request", cards.VerbApprovalRefresh, true},
		{"deny, canceled request", cards.VerbApprovalDeny, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newFlEnv(t)
			data := e.openForm(flRita, "Rita Requester", "request Falcon Team Member")
			e.execute(flRita, "Rita Requester", "form", cards.VerbRequestSubmit, data)
			e.drain()
			reqID := e.cardRefs(t)[0].Key
			if tc.ended {
				e.message(flRita, "Rita Requester", "cancel falcon team")
				e.drain()
			}
			_, resp := e.execute(flMegan, "Megan Bowen", "megan-card", tc.verb,
				map[string]any{cards.KeyRequestID: reqID, cards.KeyApprovalID: reqID, cards.KeyStageID: "stage-1", cards.InputJustification: "x"})
			c := respCard(t, resp)
			for _, secret := range []string{"Rita Requester", "Falcon Team Member", cards.VerbApprovalApprove} {
				if strings.Contains(c, secret) {
					t.Errorf("stranger's answer shows %q: %s", secret, c)
				}
			}
			refs, err := e.store.Cards(context.Background(), reqID)
			if err != nil {
				t.Fatalf("cards: %v", err)
			}
			for _, r := range refs {
				if r.AADObjectID == flMegan {
					t.Errorf("a card of the stranger is stored for updates: %+v", r)
				}
			}
			if e.port.decideCalls != 0 {
				t.Errorf("DecideStage calls = %d, want 0", e.port.decideCalls)
			}
		})
	}
}

// The same for brokered requests: only the request's approvers see its approval card.
func TestStrangerClickOnBrokeredApprovalShowsNothing(t *testing.T) {
	for _, verb := range []string{cards.VerbApprovalOpen, cards.VerbApprovalRefresh, cards.VerbApprovalApprove} {
		t.Run(verb, func(t *testing.T) {
			e := newPtEnv(t, true)
			key, _ := e.submitPartner()
			e.drain(0)
			e.hello(ptURita)
			c := e.click(ptURita, "rita-card", verb, map[string]any{cards.KeyRequestID: key, cards.KeyStageID: "stage-1"})
			for _, secret := range []string{"Gus Guest", "Joint launch", cards.VerbApprovalApprove} {
				if strings.Contains(c, secret) {
					t.Errorf("stranger's answer shows %q: %s", secret, c)
				}
			}
			refs, err := e.store.Cards(context.Background(), key)
			if err != nil {
				t.Fatalf("cards: %v", err)
			}
			for _, r := range refs {
				if r.AADObjectID == ptRita {
					t.Errorf("a card of the stranger is stored for updates: %+v", r)
				}
			}
			if e.port.addCount() != 0 {
				t.Error("a stranger's click filed the request")
			}
		})
	}
}

// A request Graph returns without its requestor (not expanded, or a deleted account) is not anyone's: the
// requester is known from the tracked record, everyone else is refused.
func TestOwnRequestWithoutRequestor(t *testing.T) {
	tests := []struct {
		name    string
		user    string
		tracked bool
		want    bool
	}{
		{"requester, tracked", flRita, true, true},
		{"someone else, tracked", flMegan, true, false},
		{"someone else, not tracked", flMegan, false, false},
		{"requester, not tracked", flRita, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newFlEnv(t)
			data := e.openForm(flRita, "Rita Requester", "request Falcon Team Member")
			e.execute(flRita, "Rita Requester", "form", cards.VerbRequestSubmit, data)
			e.drain()
			reqID := e.cardRefs(t)[0].Key
			e.port.mu.Lock()
			e.port.requests[reqID].Requestor = entitlement.Subject{}
			e.port.mu.Unlock()
			if !tc.tracked {
				if err := e.bot.core.Delete(context.Background(), reqID); err != nil {
					t.Fatalf("forget tracked request: %v", err)
				}
			}
			act := e.activity(tc.user, "user", "message")
			_, err := e.bot.ownRequest(context.Background(), e.bot.newTurn(context.Background(), act), reqID)
			if got := err == nil; got != tc.want {
				t.Fatalf("ownRequest err = %v, want allowed = %v", err, tc.want)
			}
			if !tc.want && !errors.Is(err, entitlement.ErrNotFound) {
				t.Errorf("refusal err = %v, want ErrNotFound", err)
			}
		})
	}
}

// A partner user's typed "my requests", "cancel" and "extend" work on what the bot brokers for them, like
// "status" does: partner users have no delegated token in the resource tenant.
func TestPartnerTypedCommands(t *testing.T) {
	tests := []struct {
		name     string
		text     string
		want     []string
		canceled bool
	}{
		{"my requests", "my requests", []string{"Falcon Partner Collaboration"}, false},
		{"cancel by package", "cancel partner collab", []string{"You canceled the request"}, true},
		{"cancel without words", "cancel", []string{"You canceled the request"}, true},
		{"cancel no match", "cancel payroll", []string{"No matching request", "Cancel Falcon Partner Collaboration"}, false},
		{"extend", "extend partner", []string{"your contact"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newPtEnv(t, true)
			key, _ := e.submitPartner()
			e.drain(0)
			n := e.conn.count()
			act := e.activity(ptUGus, "message")
			act.Text = tc.text
			if _, err := e.bot.OnActivity(context.Background(), act); err != nil {
				t.Fatalf("%q: %v", tc.text, err)
			}
			var answer string
			for _, s := range e.conn.since(n) {
				if s.Conversation == "chat-"+ptGus {
					answer += s.text()
				}
			}
			for _, w := range tc.want {
				if !strings.Contains(answer, w) {
					t.Errorf("%q: answer lacks %q: %s", tc.text, w, answer)
				}
			}
			br, err := e.bot.core.GetBrokered(context.Background(), key)
			if err != nil {
				t.Fatal(err)
			}
			if got := br.Canceled; got != tc.canceled {
				t.Errorf("%q: request canceled = %v, want %v", tc.text, got, tc.canceled)
			}
		})
	}
}

// When Entra's pending approvals can't be read but the bot has brokered decisions for the user, the inbox
// shows those and says that Entra's are missing: an incomplete inbox is never shown as complete.
func TestInboxSaysWhenEntraApprovalsAreMissing(t *testing.T) {
	e := newPtEnv(t, true) // no delegated tokens: PendingApprovals fails for Patti
	key, _ := e.submitPartner()
	e.drain(0)
	answer := e.say(ptUPatti, "approvals")
	for _, w := range []string{key, "Falcon Partner Collaboration", "couldn't read the approvals waiting for you in Contoso"} {
		if !strings.Contains(answer, w) {
			t.Errorf("inbox lacks %q: %s", w, answer)
		}
	}
}

// A stranger's click naming a request the bot does not follow (filed in My Access) does not make the bot
// start following it: no record, no approval cards pushed to its approvers on the stranger's behalf.
func TestStrangerClickDoesNotTrackRequest(t *testing.T) {
	for _, verb := range []string{cards.VerbApprovalRefresh, cards.VerbApprovalOpen, cards.VerbApprovalApprove} {
		t.Run(verb, func(t *testing.T) {
			e := newFlEnv(t)
			data := e.openForm(flRita, "Rita Requester", "request Falcon Team Member")
			e.execute(flRita, "Rita Requester", "form", cards.VerbRequestSubmit, data)
			e.drain()
			reqID := e.cardRefs(t)[0].Key
			ctx := context.Background()
			if err := e.bot.core.Delete(ctx, reqID); err != nil {
				t.Fatal(err)
			}
			n := e.conn.count()
			_, resp := e.execute(flMegan, "Megan Bowen", "megan-card", verb,
				map[string]any{cards.KeyRequestID: reqID, cards.KeyStageID: "stage-1"})
			if c := respCard(t, resp); strings.Contains(c, "Rita Requester") {
				t.Errorf("stranger's answer shows the requester: %s", c)
			}
			e.drain()
			if tr, err := e.bot.core.Get(ctx, reqID); err == nil {
				t.Errorf("the stranger's click made the bot track the request: %+v", tr)
			}
			for _, s := range e.conn.since(n) {
				if s.Conversation != "chat-"+flMegan {
					t.Errorf("the stranger's click sent %s to %s", s.Op, s.Conversation)
				}
			}
		})
	}
}
