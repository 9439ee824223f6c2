package bot

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/accessbot/accessbot/cards"
	"github.com/accessbot/accessbot/internal/entitlement"
)

// An approver who never opened the bot, and for whom the app is not installed, is reached after the bot
// installs the app for them through Graph.
func TestApproverReachedAfterAppInstall(t *testing.T) {
	e := newFlEnv(t)
	e.conn.notInstalled = map[string]bool{flAaron: true}
	e.conn.installed = func(u string) bool {
		e.port.mu.Lock()
		defer e.port.mu.Unlock()
		for _, i := range e.port.installs {
			if strings.HasPrefix(i, u+"/") {
				return true
			}
		}
		return false
	}
	data := e.openForm(flRita, "Rita Requester", "request Falcon Team Member")
	_, resp := e.execute(flRita, "Rita Requester", "form", cards.VerbRequestSubmit, data)
	respCard(t, resp)
	e.drain()
	if got := e.port.installs; len(got) != 1 || got[0] != flAaron+"/app" {
		t.Fatalf("installs = %v, want the app installed for Aaron", got)
	}
	if got := e.cardsTo("conv-" + flAaron); len(got) != 1 || !strings.Contains(got[0].text(), "Approval needed") {
		t.Fatalf("approval card after install: %+v", got)
	}
	ref, err := e.store.Conversation(context.Background(), flTenant, flAaron)
	if err != nil || ref.ConversationID != "conv-"+flAaron {
		t.Fatalf("stored conversation = %+v, %v", ref, err)
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
			got := e.bot.resolveApprovers(context.Background(), &trackedRequest{ID: "r", RequestorID: tc.requestor}, tc.stage, false)
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

// cancel by command and by button: the request is canceled with the requester's token, the status card
// updated, and someone else's request cannot be canceled.
func TestCancelAndStatus(t *testing.T) {
	e := newFlEnv(t)
	data := e.openForm(flRita, "Rita Requester", "request Falcon Team Member")
	act, resp := e.execute(flRita, "Rita Requester", "form", cards.VerbRequestSubmit, data)
	respCard(t, resp)
	e.drain()
	var reqID string
	for id := range e.port.requests {
		reqID = id
	}
	e.message(flRita, "Rita Requester", "my requests")
	if c := e.conn.all()[len(e.conn.all())-1].text(); !strings.Contains(c, "Falcon Team Member") || !strings.Contains(c, "waiting for Aaron Approver") {
		t.Fatalf("my requests: %s", c)
	}
	_, resp = e.execute(flMegan, "Megan Bowen", "x", cards.VerbRequestCancel, map[string]any{cards.KeyRequestID: reqID})
	if c := respCard(t, resp); !strings.Contains(c, "Not found") || e.port.requests[reqID].State != entitlement.StatePendingApproval {
		t.Fatalf("Megan canceling Rita's request: state %s, %s", e.port.requests[reqID].State, c)
	}
	from := len(e.conn.all())
	e.message(flRita, "Rita Requester", "cancel falcon team")
	if e.port.requests[reqID].State != entitlement.StateCanceled {
		t.Fatalf("state after cancel = %s", e.port.requests[reqID].State)
	}
	e.drain()
	var updated, aaronUpdated bool
	for _, s := range e.conn.all()[from:] {
		if s.Op == "update" && s.ID == act.ReplyToID && strings.Contains(s.text(), "You canceled the request") {
			updated = true
		}
		if s.Op == "update" && s.Conversation == "conv-"+flAaron && strings.Contains(s.text(), "Canceled by the requester") && !strings.Contains(s.text(), "Not decided yet") {
			aaronUpdated = true
		}
		if s.Op == "send" && strings.Contains(s.Act.Text, "was canceled") {
			t.Errorf("the requester was notified of her own cancel: %q", s.Act.Text)
		}
	}
	if !updated || !aaronUpdated {
		t.Fatalf("status card updated = %v, approver card updated = %v", updated, aaronUpdated)
	}
	e.message(flRita, "Rita Requester", "cancel")
	if c := e.conn.all()[len(e.conn.all())-1].text(); !strings.Contains(c, "no open requests") {
		t.Fatalf("cancel with nothing open: %s", c)
	}
}

// extend opens the form only where the policy allows it; access lists what the user holds.
func TestAccessAndExtend(t *testing.T) {
	e := newFlEnv(t)
	e.port.assignments = append(e.port.assignments, entitlement.Assignment{ID: "as-1", PackageID: flPkgTeam, PolicyID: flPolTeam,
		State: entitlement.AssignmentDelivered, Target: entitlement.Subject{ID: flRita}})
	e.message(flRita, "Rita Requester", "access")
	c := e.conn.all()[len(e.conn.all())-1].text()
	if !strings.Contains(c, "Falcon Team Member") || !strings.Contains(c, "Falcon Team (Team)") || strings.Contains(c, cards.VerbAccessExtend) {
		t.Fatalf("access card: %s", c)
	}
	e.message(flRita, "Rita Requester", "extend falcon team")
	if c := e.conn.all()[len(e.conn.all())-1].text(); !strings.Contains(c, "can't be extended") {
		t.Fatalf("extend not allowed: %s", c)
	}
	pol := e.port.policies[flPolTeam]
	pol.SelfUpdateAllowed = true
	e.port.policies[flPolTeam] = pol
	_, resp := e.execute(flRita, "Rita Requester", "access-card", cards.VerbAccessExtend, map[string]any{cards.KeyAssignmentID: "as-1"})
	form := respCard(t, resp)
	if !strings.Contains(form, "Extend your access") || !strings.Contains(form, cards.VerbRequestSubmit) {
		t.Fatalf("extend form: %s", form)
	}
	i := strings.Index(form, `"formId":"`)
	formID := form[i+10:]
	formID = formID[:strings.Index(formID, `"`)]
	_, resp = e.execute(flRita, "Rita Requester", "access-card", cards.VerbRequestSubmit, map[string]any{cards.KeyFormID: formID})
	respCard(t, resp)
	var got entitlement.Request
	for _, r := range e.port.requests {
		got = *r
	}
	if got.ID == "" {
		t.Fatal("no extension request filed")
	}
	if e.port.lastExtend != "as-1" {
		t.Fatalf("extension filed for assignment %q, want as-1", e.port.lastExtend)
	}
}

// A stage decided outside Teams (My Access) is learned when a next-stage approver opens the request from
// their inbox: the tracker moves to stage 2 and asks the other reviewer too.
func TestDecisionOutsideTeamsLearned(t *testing.T) {
	e := newFlEnv(t)
	reqID := e.submitProd()
	e.port.mu.Lock()
	st := e.port.approvals[reqID].stages[0]
	st.result, st.by, st.at, st.just = entitlement.ReviewApprove, flAaron, e.clock.Now(), "approved in My Access"
	e.port.mu.Unlock()
	e.poll()
	if got := e.cardsTo("conv-" + flLynne); len(got) != 0 {
		t.Fatalf("stage 2 started before anyone could know: %+v", got)
	}
	e.message(flIsaiah, "Isaiah Langer", "approvals")
	inbox := e.conn.all()[len(e.conn.all())-1].text()
	if !strings.Contains(inbox, "Falcon Production Access") || !strings.Contains(inbox, cards.VerbApprovalOpen) {
		t.Fatalf("inbox: %s", inbox)
	}
	_, resp := e.execute(flIsaiah, "Isaiah Langer", "inbox", cards.VerbApprovalOpen, map[string]any{cards.KeyRequestID: reqID, cards.KeyStageID: "stage-1"})
	if c := respCard(t, resp); !strings.Contains(c, "Approved by Aaron Approver") {
		t.Fatalf("open from the inbox with the stale stage: %s", c)
	}
	_, resp = e.execute(flIsaiah, "Isaiah Langer", "inbox", cards.VerbApprovalOpen, map[string]any{cards.KeyRequestID: reqID})
	if c := respCard(t, resp); !strings.Contains(c, cards.VerbApprovalApprove) || !strings.Contains(c, "stage 2 of 2") {
		t.Fatalf("open from the inbox: %s", c)
	}
	e.drain()
	e.poll()
	if got := e.cardsTo("conv-" + flLynne); len(got) != 1 || !strings.Contains(got[0].text(), "stage 2 of 2") {
		t.Fatalf("Lynne's stage-2 card: %+v", got)
	}
}

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
				data := e.openForm(flRita, "Rita Requester", "request Falcon Team Member")
				_, resp := e.execute(flRita, "Rita Requester", "form", cards.VerbRequestSubmit, data)
				respCard(t, resp)
				e.drain()
				for id := range e.port.requests {
					reqID = id
				}
				_, resp = e.execute(flAaron, "Aaron Approver", "c", cards.VerbApprovalApprove, map[string]any{cards.KeyRequestID: reqID, cards.KeyStageID: "stage-1"})
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
			var tr trackedRequest
			if err := e.store.Get(context.Background(), bucketTracked, reqID, &tr); err != nil || tr.Stage != tc.stage {
				t.Fatalf("tracked stage = %d (%v), want %d", tr.Stage, err, tc.stage)
			}
		})
	}
}

func TestInputForField(t *testing.T) {
	req := entitlement.Requirements{Questions: []entitlement.Question{{ID: "t", Text: "Change ticket"}, {ID: "c", Text: "Environment"}}}
	tests := map[string]string{
		"justification":          cards.InputJustification,
		"answers[Change ticket]": cards.QuestionInputID("t"),
		"answers[c]":             cards.QuestionInputID("c"),
		"schedule.startDateTime": cards.InputStartDate,
		"schedule.expiration":    cards.InputEndDate,
		"answers[Unknown]":       "",
		"accessPackageId":        "",
	}
	for field, want := range tests {
		if got := inputForField(field, req); got != want {
			t.Errorf("inputForField(%q) = %q, want %q", field, got, want)
		}
	}
}

// failingPort wraps the fake port so that SubmitRequest fails with a given error.
type failingPort struct {
	*flPort
	submitErr error
}

func (p *failingPort) ForUser(tok entitlement.TokenSource) entitlement.Delegated {
	return &failingDelegated{flDelegated: &flDelegated{p: p.flPort, tok: tok}, err: p.submitErr}
}

type failingDelegated struct {
	*flDelegated
	err error
}

func (d *failingDelegated) SubmitRequest(ctx context.Context, in entitlement.NewRequest) (entitlement.Request, error) {
	return entitlement.Request{}, d.err
}

// Errors of the port become clear cards: a field error from Entra lands under its input, throttling and
// duplicates get a warning with a way forward, and nothing is tracked.
func TestSubmitErrorsBecomeCards(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want []string
	}{
		{"field refused by Entra", entitlement.Invalid("answers[Change ticket]", "does not match the ticket system"), []string{"Does not match the ticket system", "Entra ID refused an answer", cards.VerbRequestSubmit}},
		{"throttled", &entitlement.ThrottledError{RetryAfter: 30 * time.Second}, []string{"try again in 30s", "Try again"}},
		{"duplicate", fmt.Errorf("submit: %w", entitlement.ErrAlreadyRequested), []string{"already have an open request", "My requests"}},
		{"consent", entitlement.ErrConsentRequired, []string{"AccessBot needs your permission"}},
		{"service failure", &entitlement.ServiceError{Op: "post request", Status: 500, Code: "InternalError", Kind: entitlement.ErrUnavailable}, []string{"unavailable"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newFlEnv(t)
			e.bot.cfg.Entitlement = &failingPort{flPort: e.port, submitErr: tc.err}
			data := e.openForm(flRita, "Rita Requester", "request Falcon Production Access")
			data["justification"], data["q_"+flQTicket], data["q_"+flQEnv] = "deploy", "INC0042", "prod-us"
			_, resp := e.execute(flRita, "Rita Requester", "form", cards.VerbRequestSubmit, data)
			c := respCard(t, resp)
			for _, w := range tc.want {
				if !strings.Contains(c, w) {
					t.Errorf("card lacks %q: %s", w, c)
				}
			}
			if strings.Contains(c, "InternalError") || strings.Contains(c, "status 500") {
				t.Errorf("service internals leaked into the card: %s", c)
			}
			n := 0
			_ = e.store.List(context.Background(), bucketTracked, "", func(string, []byte) error { n++; return nil })
			if n != 0 {
				t.Errorf("%d requests tracked after a failed submit", n)
			}
		})
	}
}

// A card button sent as Action.Submit (a message with a value) is answered with a new message.
func TestVerbBySubmit(t *testing.T) {
	e := newFlEnv(t)
	act := e.activity(flRita, "Rita Requester", "message")
	act.Value = map[string]any{"verb": cards.VerbRequestOpen, cards.KeyPackageID: flPkgTeam}
	if _, err := e.bot.OnActivity(context.Background(), act); err != nil {
		t.Fatal(err)
	}
	sent := e.conn.all()
	if len(sent) != 1 || sent[0].Op != "send" || !strings.Contains(sent[0].text(), "Request Falcon Team Member") {
		t.Fatalf("answer to the submit: %+v", sent)
	}
}

// The tracker's state is in the store: a restarted bot keeps following open requests and updates the cards
// the first one sent.
func TestTrackerResumesAfterRestart(t *testing.T) {
	e := newFlEnv(t)
	data := e.openForm(flRita, "Rita Requester", "request Falcon Team Member")
	act, resp := e.execute(flRita, "Rita Requester", "form", cards.VerbRequestSubmit, data)
	respCard(t, resp)
	e.drain()
	var reqID string
	for id := range e.port.requests {
		reqID = id
	}
	_, resp = e.execute(flAaron, "Aaron Approver", "c", cards.VerbApprovalApprove, map[string]any{cards.KeyRequestID: reqID, cards.KeyStageID: "stage-1"})
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

func TestPackageSearchByWords(t *testing.T) {
	e := newFlEnv(t)
	tests := []struct {
		text string
		want []string
		not  []string
	}{
		{"packages production", []string{"Falcon Production Access", "1 package"}, []string{"Falcon Team Member"}},
		{"packages falcon production", []string{"Falcon Production Access"}, []string{"Falcon Team Member"}},
		{"packages falcon", []string{"Falcon Production Access", "Falcon Team Member", "2 packages"}, nil},
		{"packages zebra", []string{"Nothing you can request matches"}, nil},
	}
	for _, tc := range tests {
		e.message(flRita, "Rita Requester", tc.text)
		c := e.conn.all()[len(e.conn.all())-1].text()
		for _, w := range tc.want {
			if !strings.Contains(c, w) {
				t.Errorf("%q: card lacks %q: %s", tc.text, w, c)
			}
		}
		for _, w := range tc.not {
			if strings.Contains(c, w) {
				t.Errorf("%q: card shows %q: %s", tc.text, w, c)
			}
		}
	}
}
