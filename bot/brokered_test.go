package bot

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/accessbot/accessbot/cards"
	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/store"
)

// ---- submit and decisions ----

// submitPartner files Gus's request for the partner package and delivers the approval cards.
func (e *ptEnv) submitPartner() (string, *cards.Card) {
	e.t.Helper()
	e.hello(ptUGus)
	e.hello(ptUPatti)
	e.hello(ptUFiona)
	tu := e.turn(ptUGus)
	md, err := e.bot.requestMode(context.Background(), tu)
	if err != nil {
		e.t.Fatal(err)
	}
	card, key, err := e.bot.brokeredSubmit(context.Background(), tu, md, entitlement.NewRequest{PackageID: ptPkgPart, PolicyID: ptPolPart,
		Justification: "Joint launch"})
	if err != nil {
		e.t.Fatalf("brokeredSubmit: %v", err)
	}
	// The request flow stores the status card it sends under key.
	e.bot.storeCard(context.Background(), key, cardKindStatus, 0, ptFabrikam, ptGus, "chat-"+ptGus, "https://smba.example/emea/", "status-1")
	return key, card
}

// pendingPartnerRequest files Gus's brokered request (submitPartner), delivers its cards and returns its key
// and the id of the approval card sent to approver (a user id).
func (e *ptEnv) pendingPartnerRequest(approver string) (key, cardID string) {
	e.t.Helper()
	n0 := e.conn.count()
	key, _ = e.submitPartner()
	e.drain(0)
	cardID, _ = e.approvalCardTo(n0, approver)
	return key, cardID
}

// approvalCardTo finds the approval card sent to a chat and returns its activity id.
func (e *ptEnv) approvalCardTo(from int, userID string) (string, string) {
	e.t.Helper()
	for _, s := range e.conn.since(from) {
		if s.Op == "send" && s.Conversation == "chat-"+userID && strings.Contains(s.text(), cards.VerbApprovalApprove) {
			return s.ID, s.text()
		}
	}
	e.t.Fatalf("no approval card sent to %s", userID)
	return "", ""
}

func TestBrokeredSponsorApprovesThenGuestGuidance(t *testing.T) {
	e := newPtEnv(t, true)
	n0 := e.conn.count()
	key, status := e.submitPartner()
	if !strings.HasPrefix(key, brokeredPrefix) {
		t.Fatalf("key %q is not a brokered id", key)
	}
	if s := cardJSON(t, status); !strings.Contains(s, "Pending approval") || !strings.Contains(s, "brokered") ||
		!strings.Contains(s, "Patti Fernandez") || !strings.Contains(s, "Fiona Partner") {
		t.Errorf("status card does not show the brokered pending state and approvers: %s", s)
	}
	e.drain(0)
	pattiCard, pattiText := e.approvalCardTo(n0, ptPatti)
	fionaCard, fionaText := e.approvalCardTo(n0, ptFiona) // in her Fabrikam chat: she is a Fabrikam account
	for _, txt := range []string{pattiText, fionaText} {
		if !strings.Contains(txt, "AccessBot ran this approval") || !strings.Contains(txt, "Gus Guest") || !strings.Contains(txt, "Fabrikam") {
			t.Errorf("approval card lacks the brokered note or the requester: %s", txt)
		}
	}
	data := map[string]any{cards.KeyRequestID: key, cards.KeyStageID: "stage-1"}

	// Not an approver, and the requester himself: refused, nothing recorded.
	if c := e.click(ptURita, "x", cards.VerbApprovalApprove, data); !strings.Contains(c, "not an approver") {
		t.Errorf("Rita's click: %s", c)
	}
	if c := e.click(ptUGus, "status-1", cards.VerbApprovalApprove, data); !strings.Contains(c, "not an approver") {
		t.Errorf("requester's own click: %s", c)
	}
	if e.port.addCount() != 0 {
		t.Fatal("a refused click filed the assignment")
	}

	n1 := e.conn.count()
	if c := e.click(ptUPatti, pattiCard, cards.VerbApprovalApprove, data); !strings.Contains(c, "You approved this request") {
		t.Fatalf("Patti's approval answer: %s", c)
	}
	if e.port.addCount() != 1 {
		t.Fatalf("adminAdd calls = %d, want 1", e.port.addCount())
	}
	add := e.port.adds[0]
	if add.TargetEmail != "gus@fabrikam.example" || add.ConnectedOrgID != ptOrgFab || add.PackageID != ptPkgPart ||
		add.PolicyID != ptPolPart || add.Justification != "Joint launch" || add.TargetID != "" {
		t.Errorf("adminAdd input = %+v", add)
	}
	// Fiona's click after Patti's: one decision per stage.
	if c := e.click(ptUFiona, fionaCard, cards.VerbApprovalApprove, data); !strings.Contains(c, "Already approved by Patti at {{TIME("+e.clock.Now().Format("2006-01-02T15:04:05Z")+")}}") {
		t.Errorf("second approver's click: %s", c)
	}
	if e.port.addCount() != 1 {
		t.Fatalf("adminAdd calls = %d after a second click, want 1", e.port.addCount())
	}
	e.drain(0)
	var fionaUpdated, statusDelivering, notified bool
	for _, s := range e.conn.since(n1) {
		switch {
		case s.Op == "update" && s.ID == fionaCard && strings.Contains(s.text(), "Approved by Patti"):
			fionaUpdated = true
		case s.Op == "update" && s.ID == "status-1" && strings.Contains(s.text(), "Delivering"):
			statusDelivering = true
		case s.Op == "send" && s.Conversation == "chat-"+ptGus && strings.Contains(s.text(), "approved by Patti Fernandez"):
			notified = true
		}
	}
	if !fionaUpdated || !statusDelivering || !notified {
		t.Errorf("after approval: Fiona's card updated %v, status delivering %v, requester notified %v", fionaUpdated, statusDelivering, notified)
	}

	// Delivery: Entra creates the guest (PendingAcceptance); the bot sends the guidance.
	e.port.deliver(t, "gus@fabrikam.example")
	n2 := e.conn.count()
	e.drain(2 * time.Second)
	var guidance, waiting string
	for _, s := range e.conn.since(n2) {
		if s.Conversation != "chat-"+ptGus {
			continue
		}
		if s.Op == "send" && strings.Contains(s.text(), "added you as a guest") {
			guidance = s.text()
		}
		if s.Op == "update" && s.ID == "status-1" && strings.Contains(s.text(), "waiting for you to accept the invitation") {
			waiting = s.text()
		}
	}
	for _, want := range []string{"https://sim.example/_sim/redeem/inv-1", "https://teams.microsoft.com/?tenantId=" + ptContoso,
		"Accounts and orgs", "Falcon Team", "Read your name"} {
		if !strings.Contains(guidance, want) {
			t.Errorf("guidance card lacks %q: %s", want, guidance)
		}
	}
	if !strings.Contains(waiting, "inv-1") {
		t.Errorf("status card does not wait for the invitation (with its link): %q", waiting)
	}
	if len(e.port.invites) != 1 || e.port.invites[0].Email != "gus@fabrikam.example" {
		t.Errorf("invitations = %+v", e.port.invites)
	}

	// Not accepted yet: polling sends nothing new to Gus.
	n3 := e.conn.count()
	e.drain(2 * time.Second)
	for _, s := range e.conn.since(n3) {
		if s.Conversation == "chat-"+ptGus {
			t.Errorf("message while still pending: %s", s.text())
		}
	}

	// Redemption: "You're in", the status card says delivered.
	e.port.accept()
	n4 := e.conn.count()
	e.drain(time.Minute)
	var in, delivered bool
	for _, s := range e.conn.since(n4) {
		if s.Op == "send" && strings.Contains(s.text(), "You're in") {
			in = true
		}
		if s.Op == "update" && s.ID == "status-1" && strings.Contains(s.text(), "Delivered") && !strings.Contains(s.text(), "waiting for you") {
			delivered = true
		}
	}
	if !in || !delivered {
		t.Errorf("after redemption: You're in %v, status delivered %v", in, delivered)
	}

	// Three days before the end: the guest is told when access ends and what happens to the account.
	e.clock.Advance(26 * 24 * time.Hour)
	e.drain(time.Minute)
	e.drain(time.Minute)
	n5 := e.conn.count()
	e.clock.Advance(24 * time.Hour)
	e.drain(time.Minute)
	var ending string
	for _, s := range e.conn.since(n5) {
		if strings.Contains(s.text(), "ends soon") {
			ending = s.text()
		}
	}
	if !strings.Contains(ending, "blocked") || !strings.Contains(ending, "deleted") {
		t.Errorf("no end-of-access warning with the account's fate: %q", ending)
	}
	br, err := e.bot.core.GetBrokered(context.Background(), key)
	if err != nil || !br.Done || !br.Guest.EndingWarned {
		t.Errorf("record after the warning: %+v, %v", br, err)
	}

	// Audit: submit, decision, adminAdd, acceptance, ending notice — all brokered.
	var actions []string
	for _, a := range e.audit(key) {
		if a.Mode != store.ModeBrokered {
			t.Errorf("audit entry %s has mode %s", a.Action, a.Mode)
		}
		actions = append(actions, a.Action+":"+a.Outcome)
	}
	for _, want := range []string{"request.submit:submitted", "approval.approve:refused-not-approver", "approval.approve:approved",
		"assignment.adminAdd:filed", "approval.approve:already-decided", "guest.accepted:accepted", "guest.ending-notice:sent"} {
		if !strings.Contains(strings.Join(actions, " "), want) {
			t.Errorf("audit lacks %s: %v", want, actions)
		}
	}
}

func TestBrokeredDenyAndDuplicates(t *testing.T) {
	e := newPtEnv(t, true)
	key, pattiCard := e.pendingPartnerRequest(ptPatti)

	// A second request for the same package while the first is open is refused.
	tu := e.turn(ptUGus)
	md, _ := e.bot.requestMode(context.Background(), tu)
	if _, _, err := e.bot.brokeredSubmit(context.Background(), tu, md, entitlement.NewRequest{PackageID: ptPkgPart, PolicyID: ptPolPart}); !errors.Is(err, entitlement.ErrAlreadyRequested) {
		t.Fatalf("duplicate submit err = %v, want ErrAlreadyRequested", err)
	}

	n1 := e.conn.count()
	data := map[string]any{cards.KeyRequestID: key, cards.KeyStageID: "stage-1", cards.InputJustification: "Not this quarter"}
	if c := e.click(ptUPatti, pattiCard, cards.VerbApprovalDeny, data); !strings.Contains(c, "You denied this request") {
		t.Fatalf("deny answer: %s", c)
	}
	if e.port.addCount() != 0 {
		t.Fatal("a denied request was filed")
	}
	// Her second click changes nothing and says so.
	if c := e.click(ptUPatti, pattiCard, cards.VerbApprovalApprove, data); !strings.Contains(c, "You denied this request") {
		t.Errorf("second click by the decider: %s", c)
	}
	e.drain(0)
	var told, statusDenied bool
	for _, s := range e.conn.since(n1) {
		if s.Op == "send" && s.Conversation == "chat-"+ptGus && strings.Contains(s.text(), "denied by Patti Fernandez") {
			told = true
		}
		if s.Op == "update" && s.ID == "status-1" && strings.Contains(s.text(), "Not this quarter") {
			statusDenied = true
		}
	}
	if !told || !statusDenied {
		t.Errorf("after deny: requester told %v, status card denied with justification %v", told, statusDenied)
	}
	// Closed: a new request is accepted again.
	if _, _, err := e.bot.brokeredSubmit(context.Background(), tu, md, entitlement.NewRequest{PackageID: ptPkgPart, PolicyID: ptPolPart}); err != nil {
		t.Fatalf("new request after a deny: %v", err)
	}
	// An assignment already held is refused.
	e.port.assignments = append(e.port.assignments, entitlement.Assignment{ID: "a-x", PackageID: ptPkgExt, State: entitlement.AssignmentDelivered,
		Target: entitlement.Subject{Email: "GUS@fabrikam.example"}})
	if _, _, err := e.bot.brokeredSubmit(context.Background(), tu, md, entitlement.NewRequest{PackageID: ptPkgExt, Justification: "x",
		Answers: []entitlement.Answer{{QuestionID: "q1", Value: "FAL-1"}}}); !errors.Is(err, entitlement.ErrAlreadyAssigned) {
		t.Fatalf("submit while assigned err = %v, want ErrAlreadyAssigned", err)
	}
}

func TestBrokeredSubmitRefusals(t *testing.T) {
	tests := []struct {
		name      string
		user      ptUser
		in        entitlement.NewRequest
		noEmail   bool
		wantErr   error
		wantField string
	}{
		{name: "no email from Teams", user: ptUGus, noEmail: true, in: entitlement.NewRequest{PackageID: ptPkgPart}, wantField: "email address"},
		{name: "package the org may not request", user: ptUGus, in: entitlement.NewRequest{PackageID: ptPkgTeam}, wantErr: entitlement.ErrNotEligible},
		{name: "hidden package", user: ptUGus, in: entitlement.NewRequest{PackageID: ptPkgHidden}, wantErr: entitlement.ErrNotEligible},
		{name: "policy of another package", user: ptUGus, in: entitlement.NewRequest{PackageID: ptPkgPart, PolicyID: ptPolTeam}, wantErr: entitlement.ErrNotEligible},
		{name: "not a package id", user: ptUGus, in: entitlement.NewRequest{PackageID: "../x"}, wantField: "package"},
		{name: "missing answer", user: ptUGus, in: entitlement.NewRequest{PackageID: ptPkgExt, Justification: "x"}, wantField: "answers[Project code]"},
		{name: "extension", user: ptUGus, in: entitlement.NewRequest{PackageID: ptPkgPart, Extend: true}, wantField: "request"},
		{name: "unknown tenant", user: ptUNina, in: entitlement.NewRequest{PackageID: ptPkgExt}, wantErr: entitlement.ErrNotEligible},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newPtEnv(t, true)
			if tc.noEmail {
				delete(e.conn.members, "29:gus")
			}
			tu := e.turn(tc.user)
			md, err := e.bot.requestMode(context.Background(), tu)
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = e.bot.brokeredSubmit(context.Background(), tu, md, tc.in)
			var ie *entitlement.InvalidInputError
			switch {
			case tc.wantErr != nil && !errors.Is(err, tc.wantErr):
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			case tc.wantField != "" && (!errors.As(err, &ie) || ie.Field != tc.wantField):
				t.Fatalf("err = %v, want invalid %s", err, tc.wantField)
			}
			all, _ := e.bot.core.ListBrokered(context.Background())
			if n := len(all); n != 0 {
				t.Errorf("a refused request was stored (%d records)", n)
			}
			if pending, _ := e.store.Pending(context.Background()); len(pending) != 0 {
				t.Errorf("a refused request queued %d outbox items", len(pending))
			}
		})
	}
}

func TestBrokeredFallbackApproverAndJustification(t *testing.T) {
	e := newPtEnv(t, true)
	e.hello(ptUGus)
	e.hello(ptUPatti)
	tu := e.turn(ptUGus)
	md, _ := e.bot.requestMode(context.Background(), tu)
	n0 := e.conn.count()
	_, key, err := e.bot.brokeredSubmit(context.Background(), tu, md, entitlement.NewRequest{PackageID: ptPkgExt, Justification: "wiki",
		Answers: []entitlement.Answer{{QuestionID: "q1", Value: "FAL-7"}}})
	if err != nil {
		t.Fatalf("submit: %v", err)
	}
	e.drain(0)
	// requestorManager does not apply to a partner user: the fallback (Patti) is asked.
	card, _ := e.approvalCardTo(n0, ptPatti)
	data := map[string]any{cards.KeyRequestID: key, cards.KeyStageID: "stage-1"}
	if c := e.click(ptUPatti, card, cards.VerbApprovalApprove, data); !strings.Contains(c, "justification is required") {
		t.Fatalf("approval without the required justification: %s", c)
	}
	if e.port.addCount() != 0 {
		t.Fatal("filed without the required justification")
	}
	data[cards.InputJustification] = "ok for the launch"
	if c := e.click(ptUPatti, card, cards.VerbApprovalApprove, data); !strings.Contains(c, "You approved this request") {
		t.Fatalf("approval with justification: %s", c)
	}
	if e.port.addCount() != 1 || e.port.adds[0].Answers[0].Value != "FAL-7" {
		t.Fatalf("adminAdd = %+v", e.port.adds)
	}
	// The refresh of the card shows the decided view.
	if c := e.click(ptUPatti, card, cards.VerbApprovalRefresh, data); !strings.Contains(c, "You approved this request") {
		t.Errorf("refresh: %s", c)
	}
}

func TestBrokeredStatusRefreshCancelAndList(t *testing.T) {
	e := newPtEnv(t, true)
	key, pattiCard := e.pendingPartnerRequest(ptPatti)
	data := map[string]any{cards.KeyRequestID: key}

	if c := e.click(ptUGus, "status-1", cards.VerbRequestRefresh, data); !strings.Contains(c, "Pending approval") || !strings.Contains(c, "Cancel") {
		t.Errorf("refresh by the requester: %s", c)
	}
	// Someone else's brokered request is not found (nothing about it is shown).
	if c := e.click(ptUFiona, "x", cards.VerbRequestRefresh, data); strings.Contains(c, "Falcon Partner") || !strings.Contains(c, "Not found") {
		t.Errorf("refresh by another user: %s", c)
	}
	if c := e.click(ptUFiona, "x", cards.VerbRequestCancel, data); !strings.Contains(c, "Not found") {
		t.Errorf("cancel by another user: %s", c)
	}

	// The status command lists the partner's brokered requests (they have no delegated token).
	n1 := e.conn.count()
	act := e.activity(ptUGus, "message")
	act.Text = "status"
	if _, err := e.bot.OnActivity(context.Background(), act); err != nil {
		t.Fatal(err)
	}
	var listed bool
	for _, s := range e.conn.since(n1) {
		if strings.Contains(s.text(), "Your requests") && strings.Contains(s.text(), key) && strings.Contains(s.text(), "waiting for Patti Fernandez or Fiona Partner") {
			listed = true
		}
	}
	if !listed {
		t.Error("status did not list the brokered request")
	}

	n2 := e.conn.count()
	if c := e.click(ptUGus, "status-1", cards.VerbRequestCancel, data); !strings.Contains(c, "Canceled") {
		t.Fatalf("cancel answer: %s", c)
	}
	e.drain(0)
	var pattiTold bool
	for _, s := range e.conn.since(n2) {
		if s.Op == "update" && s.ID == pattiCard && strings.Contains(s.text(), "Canceled by the requester") && !strings.Contains(s.text(), cards.VerbApprovalApprove) {
			pattiTold = true
		}
	}
	if !pattiTold {
		t.Error("the approver's card was not updated after the cancel")
	}
	// Too late to approve now.
	if c := e.click(ptUPatti, pattiCard, cards.VerbApprovalApprove, map[string]any{cards.KeyRequestID: key, cards.KeyStageID: "stage-1"}); strings.Contains(c, "You approved") ||
		!strings.Contains(c, "Canceled by the requester") || !strings.Contains(c, "Your click changed nothing") {
		t.Errorf("approval of a canceled request: %s", c)
	}
	if e.port.addCount() != 0 {
		t.Error("a canceled request was filed")
	}
}
