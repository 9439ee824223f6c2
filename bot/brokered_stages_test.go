package bot

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/accessbot/accessbot/cards"
	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/lifecycle"
	"github.com/accessbot/accessbot/internal/store"
)

func TestBrokeredStageClockRules(t *testing.T) {
	tests := []struct {
		name        string
		ritaDecides bool
		advance     time.Duration
		wantState   entitlement.RequestState
		wantAdds    int
	}{
		{name: "escalated approver decides", ritaDecides: true, advance: 0, wantState: entitlement.StateDelivering, wantAdds: 1},
		{name: "nobody decides: denied automatically", advance: 7 * 24 * time.Hour, wantState: entitlement.StateDenied},
	}
	t.Run("a click after the deadline is too late even before the follow-up ran", func(t *testing.T) {
		e := newPtEnv(t, true)
		key, card := e.pendingPartnerRequest(ptPatti)
		e.clock.Advance(15 * 24 * time.Hour) // P14D, no drain: the follow-up has not looked yet
		c := e.click(ptUPatti, card, cards.VerbApprovalApprove, map[string]any{cards.KeyRequestID: key, cards.KeyStageID: "stage-1"})
		if !strings.Contains(c, "Expired: nobody decided in time") || !strings.Contains(c, "Your click changed nothing") || e.port.addCount() != 0 {
			t.Errorf("late click answer: %s (adminAdd calls %d)", c, e.port.addCount())
		}
	})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newPtEnv(t, true)
			e.hello(ptUGus)
			e.hello(ptUPatti)
			e.hello(ptURita)
			tu := e.turn(ptUGus)
			md, _ := e.bot.requestMode(context.Background(), tu)
			_, key, err := e.bot.brokeredSubmit(context.Background(), tu, md, entitlement.NewRequest{PackageID: ptPkgExt, Justification: "wiki",
				Answers: []entitlement.Answer{{QuestionID: "q1", Value: "FAL-7"}}})
			if err != nil {
				t.Fatalf("submit: %v", err)
			}
			e.bot.storeCard(context.Background(), key, cardKindStatus, 0, ptFabrikam, ptGus, "chat-"+ptGus, "https://smba.example/emea/", "status-1")
			e.drain(0)
			data := map[string]any{cards.KeyRequestID: key, cards.KeyStageID: "stage-1", cards.InputJustification: "fine"}
			// Before the escalation time Rita is not an approver.
			if c := e.click(ptURita, "x", cards.VerbApprovalApprove, data); !strings.Contains(c, "not an approver") {
				t.Fatalf("Rita before escalation: %s", c)
			}
			n := e.conn.count()
			e.clock.Advance(4 * time.Hour)
			e.drain(2 * time.Minute)
			ritaCard, ritaText := e.approvalCardTo(n, ptRita)
			if !strings.Contains(ritaText, "Escalated to you") {
				t.Errorf("escalation card: %s", ritaText)
			}
			if tc.ritaDecides {
				if c := e.click(ptURita, ritaCard, cards.VerbApprovalApprove, data); !strings.Contains(c, "You approved this request") {
					t.Fatalf("Rita after escalation: %s", c)
				}
			}
			n = e.conn.count()
			e.clock.Advance(tc.advance)
			e.drain(2 * time.Minute)
			br, err := e.bot.core.GetBrokered(context.Background(), key)
			if err != nil || br.State != tc.wantState || e.port.addCount() != tc.wantAdds {
				t.Fatalf("state %s (err %v), adminAdd calls %d; want %s, %d", br.State, err, e.port.addCount(), tc.wantState, tc.wantAdds)
			}
			if tc.wantState == entitlement.StateDenied {
				var expired, autoDenied bool
				for _, s := range e.conn.since(n) {
					if s.Op == "update" && s.ID == "status-1" && strings.Contains(s.text(), "Expired") {
						expired = true
					}
					if s.Op == "update" && s.ID == ritaCard && strings.Contains(s.text(), "Expired: nobody decided in time") {
						autoDenied = true
					}
				}
				if !expired || !autoDenied {
					t.Errorf("after the timeout: status expired %v, approver card auto-denied %v", expired, autoDenied)
				}
				if c := e.click(ptUPatti, "x", cards.VerbApprovalApprove, data); strings.Contains(c, "You approved") {
					t.Errorf("approval after the timeout: %s", c)
				}
			}
			var actions []string
			for _, a := range e.audit(key) {
				actions = append(actions, a.Action+":"+a.Outcome)
			}
			want := "approval.escalate:escalated"
			if !tc.ritaDecides {
				want = "approval.timeout:denied"
			}
			if !strings.Contains(strings.Join(actions, " "), want) {
				t.Errorf("audit lacks %s: %v", want, actions)
			}
		})
	}
}

func TestBrokeredExternalSponsorApproves(t *testing.T) {
	e := newPtEnv(t, true)
	key, fionaCard := e.pendingPartnerRequest(ptFiona)
	data := map[string]any{cards.KeyRequestID: key, cards.KeyStageID: "stage-1"}
	if c := e.click(ptUFiona, fionaCard, cards.VerbApprovalApprove, data); !strings.Contains(c, "You approved this request") {
		t.Fatalf("Fiona's approval: %s", c)
	}
	if e.port.addCount() != 1 {
		t.Fatalf("adminAdd calls = %d, want 1", e.port.addCount())
	}
	var entry store.AuditEntry
	for _, a := range e.audit(key) {
		if a.Action == "approval.approve" {
			entry = a
		}
	}
	if entry.ActorID != ptFiona || entry.ActorTenant != ptFabrikam || entry.Outcome != "approved" {
		t.Errorf("audit of the external sponsor's decision = %+v", entry)
	}
	// One follow-up chain: after the approval, only the newest follow-up job is live.
	pending, err := e.store.Pending(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	br, _ := e.bot.core.GetBrokered(context.Background(), key)
	live := 0
	for _, it := range pending {
		var job lifecycle.BrokeredFollowJob
		if it.Kind == OutboxBrokeredFollow && json.Unmarshal(it.Payload, &job) == nil && job.Gen == br.FollowGen {
			live++
		}
	}
	if live != 1 {
		t.Errorf("live follow-up jobs = %d, want 1", live)
	}
}

func TestBrokeredReminder(t *testing.T) {
	e := newPtEnv(t, true)
	key, first := e.pendingPartnerRequest(ptPatti)
	n1 := e.conn.count()
	e.clock.Advance(23 * time.Hour)
	e.drain(2 * time.Minute)
	for _, s := range e.conn.since(n1) {
		if s.Op == "send" && strings.Contains(s.text(), "Reminder") {
			t.Fatalf("reminder before ReminderAfter: %s", s.text())
		}
	}
	e.clock.Advance(time.Hour)
	e.drain(2 * time.Minute)
	again, text := e.approvalCardTo(n1, ptPatti)
	if again == first || !strings.Contains(text, "Reminder: this request has been waiting for your decision for 1 day") {
		t.Errorf("reminder card %s: %s", again, text)
	}
	// Either copy decides the stage once.
	data := map[string]any{cards.KeyRequestID: key, cards.KeyStageID: "stage-1"}
	if c := e.click(ptUPatti, again, cards.VerbApprovalApprove, data); !strings.Contains(c, "You approved this request") {
		t.Fatalf("approval from the reminder: %s", c)
	}
	if c := e.click(ptUPatti, first, cards.VerbApprovalApprove, data); !strings.Contains(c, "You approved this request") || e.port.addCount() != 1 {
		t.Errorf("click on the first copy: %s (adminAdd calls %d)", c, e.port.addCount())
	}
}

func TestBrokeredApproverInbox(t *testing.T) {
	e := newPtEnv(t, true)
	key, _ := e.submitPartner()
	e.drain(0)
	items, err := e.bot.brokeredInboxItems(context.Background(), ptPatti)
	if err != nil || len(items) != 1 || items[0].RequestID != key || items[0].RequesterOrg != "Fabrikam" || items[0].Deadline.IsZero() {
		t.Fatalf("Patti's brokered inbox = %+v, %v", items, err)
	}
	if items, _ := e.bot.brokeredInboxItems(context.Background(), ptRita); len(items) != 0 {
		t.Errorf("Rita is no approver but has %+v", items)
	}
	// Fiona (a Fabrikam account) asks for her approvals: the brokered inbox, not a sign-in card.
	inbox := e.say(ptUFiona, "approvals")
	if !strings.Contains(inbox, "Falcon Partner Collaboration") || !strings.Contains(inbox, key) {
		t.Errorf("Fiona's inbox: %s", inbox)
	}
	// Once decided, the inbox is empty.
	e.click(ptUPatti, "x", cards.VerbApprovalApprove, map[string]any{cards.KeyRequestID: key, cards.KeyStageID: "stage-1"})
	if items, _ := e.bot.brokeredInboxItems(context.Background(), ptFiona); len(items) != 0 {
		t.Errorf("inbox after the decision: %+v", items)
	}
}

func TestBrokeredTwoStages(t *testing.T) {
	tests := []struct {
		name        string
		noStage2    bool
		wantState   entitlement.RequestState
		wantAdds    int
		wantToGus   string
		wantRitaGet bool
	}{
		{name: "both stages approve", wantState: entitlement.StateDelivering, wantAdds: 1,
			wantToGus: "Stage 1 of your request for Falcon Partner Admin was approved by Patti Fernandez; now waiting for Rita Requester", wantRitaGet: true},
		{name: "no approver for stage 2", noStage2: true, wantState: entitlement.StateDenied, wantToGus: "was stopped: Nobody can approve the next stage"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newPtEnv(t, true)
			if tc.noStage2 {
				delete(e.port.users, ptRita)
			}
			e.hello(ptUGus)
			e.hello(ptUPatti)
			e.hello(ptURita)
			tu := e.turn(ptUGus)
			md, _ := e.bot.requestMode(context.Background(), tu)
			n0 := e.conn.count()
			_, key, err := e.bot.brokeredSubmit(context.Background(), tu, md, entitlement.NewRequest{PackageID: ptPkgTwo})
			if err != nil {
				t.Fatalf("submit: %v", err)
			}
			e.bot.storeCard(context.Background(), key, cardKindStatus, 0, ptFabrikam, ptGus, "chat-"+ptGus, "https://smba.example/emea/", "status-1")
			e.drain(0)
			card, _ := e.approvalCardTo(n0, ptPatti)
			n1 := e.conn.count()
			c := e.click(ptUPatti, card, cards.VerbApprovalApprove, map[string]any{cards.KeyRequestID: key, cards.KeyStageID: "stage-1"})
			if !strings.Contains(c, "You approved this request") {
				t.Fatalf("stage 1: %s", c)
			}
			e.drain(0)
			var toGus, stage2Status bool
			for _, s := range e.conn.since(n1) {
				if s.Op == "send" && s.Conversation == "chat-"+ptGus && strings.Contains(s.text(), tc.wantToGus) {
					toGus = true
				}
				if s.Op == "update" && s.ID == "status-1" && strings.Contains(s.text(), "stage 2 of 2") {
					stage2Status = true
				}
			}
			if !toGus {
				t.Errorf("Gus was not told %q", tc.wantToGus)
			}
			if tc.wantRitaGet {
				if !stage2Status {
					t.Error("status card does not show stage 2 of 2")
				}
				ritaCard, _ := e.approvalCardTo(n1, ptRita)
				data := map[string]any{cards.KeyRequestID: key, cards.KeyStageID: "stage-2"}
				if c := e.click(ptUPatti, card, cards.VerbApprovalApprove, data); !strings.Contains(c, "not an approver") {
					t.Errorf("Patti on stage 2: %s", c)
				}
				if c := e.click(ptURita, ritaCard, cards.VerbApprovalApprove, data); !strings.Contains(c, "justification is required") {
					t.Errorf("stage 2 without justification: %s", c)
				}
				data[cards.InputJustification] = "ok"
				if c := e.click(ptURita, ritaCard, cards.VerbApprovalApprove, data); !strings.Contains(c, "You approved this request") {
					t.Fatalf("stage 2: %s", c)
				}
			}
			br, _ := e.bot.core.GetBrokered(context.Background(), key)
			if br.State != tc.wantState || e.port.addCount() != tc.wantAdds {
				t.Errorf("state %s, adminAdd calls %d; want %s, %d", br.State, e.port.addCount(), tc.wantState, tc.wantAdds)
			}
		})
	}
}
