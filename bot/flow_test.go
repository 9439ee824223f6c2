package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/accessbot/accessbot/cards"
	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/store"
	"github.com/infracloudio/msbotbuilder-go/schema"
)

// ritaRequestsFalconTeam submits Rita's request for Falcon Team Member (Aaron approves it), delivers the
// outbox and returns the submit activity and the request's Graph id.
func (e *flEnv) ritaRequestsFalconTeam(t *testing.T) (*schema.Activity, string) {
	t.Helper()
	data := e.openForm(flRita, "Rita Requester", "request Falcon Team Member")
	act, resp := e.execute(flRita, "Rita Requester", "form", cards.VerbRequestSubmit, data)
	respCard(t, resp)
	e.drain()
	var reqID string
	for id := range e.port.requests {
		reqID = id
	}
	return act, reqID
}

// openForm asks for a package's form by typing and returns the form's submit data.
func (e *flEnv) openForm(user, name, text string) map[string]any {
	e.t.Helper()
	from := len(e.conn.all())
	e.message(user, name, text)
	sent := e.conn.all()[from:]
	if len(sent) == 0 {
		e.t.Fatalf("%q: no answer", text)
	}
	card := sent[len(sent)-1].text()
	if !strings.Contains(card, cards.VerbRequestSubmit) {
		e.t.Fatalf("%q: answer is not a request form: %s", text, card)
	}
	return map[string]any{cards.KeyFormID: formIDIn(card)}
}

func TestRequestApproveDeliver(t *testing.T) {
	e := newFlEnv(t)
	ctx := context.Background()
	data := e.openForm(flRita, "Rita Requester", "I need access to the Falcon Team")
	act, resp := e.execute(flRita, "Rita Requester", "form-1", cards.VerbRequestSubmit, data)
	if c := respCard(t, resp); !strings.Contains(c, "Pending approval") || !strings.Contains(c, "Aaron Approver") {
		t.Fatalf("status card after submit: %s", c)
	}
	refs := e.cardRefs(t)
	if len(refs) != 1 || refs[0].ActivityID != act.ReplyToID || refs[0].AADObjectID != flRita {
		t.Fatalf("status card reference = %+v, want the form's message (%s)", refs, act.ReplyToID)
	}
	reqID := refs[0].Key

	// Submitting the same form again shows the same request and files nothing new.
	_, again := e.execute(flRita, "Rita Requester", "form-1", cards.VerbRequestSubmit, data)
	if c := respCard(t, again); !strings.Contains(c, reqID) {
		t.Fatalf("second submit did not show the first request: %s", c)
	}
	if n := len(e.port.requests); n != 1 {
		t.Fatalf("requests filed = %d, want 1", n)
	}

	e.drain()
	toAaron := e.cardsTo("conv-" + flAaron)
	if len(toAaron) != 1 || !strings.Contains(toAaron[0].text(), cards.VerbApprovalApprove) || !strings.Contains(toAaron[0].text(), "Rita Requester") {
		t.Fatalf("approval card to Aaron: %+v", toAaron)
	}
	if c := e.conn.created; len(c) != 1 || c[0].Members[0].AadObjectID != flAaron || c[0].TenantID != flTenant {
		t.Fatalf("created conversations = %+v", c)
	}

	from := len(e.conn.all())
	e.clock.Advance(2 * time.Hour) // Aaron decides two hours after Rita filed
	_, resp = e.execute(flAaron, "Aaron Approver", toAaron[0].ID, cards.VerbApprovalApprove,
		map[string]any{cards.KeyRequestID: reqID, cards.KeyApprovalID: reqID, cards.KeyStageID: "stage-1", cards.InputJustification: "ok"})
	if c := respCard(t, resp); !strings.Contains(c, "You approved this request") {
		t.Fatalf("answer to Aaron: %s", c)
	}
	if f, d := e.metrics.filed, e.metrics.decided; !slices.Equal(f, []string{"delegated"}) || !slices.Equal(d, []string{"delegated/approved/2h0m0s"}) {
		t.Fatalf("metrics: filed %q decided %q, want one delegated filing and one approval after 2h", f, d)
	}
	if e.port.decideCalls != 1 {
		t.Fatalf("DecideStage calls = %d, want 1", e.port.decideCalls)
	}
	audit, err := e.store.Audit(ctx, store.AuditQuery{ActorID: flAaron})
	if err != nil || len(audit) != 1 || audit[0].Mode != store.ModeDelegated || audit[0].Outcome != "approved" || audit[0].RequestID != reqID {
		t.Fatalf("audit = %+v, %v", audit, err)
	}
	e.drain()
	e.poll() // delivering
	e.port.deliver(reqID)
	e.poll() // delivered
	var delivered, notified bool
	for _, s := range e.conn.all()[from:] {
		if s.Op == "update" && s.ID == act.ReplyToID && strings.Contains(s.text(), "Delivered") && strings.Contains(s.text(), "Falcon Team") {
			delivered = true
		}
		if s.Op == "send" && s.Conversation == "chat-"+flRita && strings.Contains(s.Act.Text, "You now have access") {
			notified = true
		}
	}
	if !delivered || !notified {
		t.Fatalf("status card updated to delivered = %v, requester notified = %v; sent: %+v", delivered, notified, e.conn.all()[from:])
	}
	if tr, err := e.bot.core.Get(ctx, reqID); err != nil || !tr.Closed {
		t.Fatalf("tracked request %+v (%v), want closed after delivery", tr, err)
	}
}

func (e *flEnv) cardRefs(t *testing.T) []store.CardRef {
	t.Helper()
	var out []store.CardRef
	for id := range e.port.requests {
		refs, err := e.store.Cards(context.Background(), id)
		if err != nil {
			t.Fatalf("cards: %v", err)
		}
		out = append(out, refs...)
	}
	if len(e.port.requests) == 0 {
		// The card is stored under the request id; with no request there is nothing to find.
		return nil
	}
	return out
}

// submitProd files a Falcon Production Access request for Rita and delivers the stage-1 cards.
func (e *flEnv) submitProd() string {
	e.t.Helper()
	data := e.openForm(flRita, "Rita Requester", "request Falcon Production Access")
	data["justification"], data["q_"+flQTicket], data["q_"+flQEnv] = "deploy", "INC0042", "prod-us"
	_, resp := e.execute(flRita, "Rita Requester", "form-prod", cards.VerbRequestSubmit, data)
	if c := respCard(e.t, resp); !strings.Contains(c, "Pending approval") {
		e.t.Fatalf("status after submit: %s", c)
	}
	e.drain()
	for id := range e.port.requests {
		return id
	}
	e.t.Fatal("no request filed")
	return ""
}

func TestTwoStageDenyAndGuards(t *testing.T) {
	e := newFlEnv(t)
	reqID := e.submitProd()
	approve := func(user, name, stage, just string) string {
		_, resp := e.execute(user, name, "card-"+user, cards.VerbApprovalApprove,
			map[string]any{cards.KeyRequestID: reqID, cards.KeyApprovalID: reqID, cards.KeyStageID: stage, cards.InputJustification: just})
		return respCard(t, resp)
	}
	// Justification required by the stage: the card comes back with the error, nothing decided.
	if c := approve(flAaron, "Aaron Approver", "stage-1", ""); !strings.Contains(c, "justification is required") || e.port.decideCalls != 0 {
		t.Fatalf("missing justification: calls=%d card=%s", e.port.decideCalls, c)
	}
	if c := approve(flAaron, "Aaron Approver", "stage-1", "fine"); !strings.Contains(c, "You approved") {
		t.Fatalf("stage 1: %s", c)
	}
	e.drain()
	e.poll()
	for _, u := range []string{flIsaiah, flLynne} {
		if got := e.cardsTo("conv-" + u); len(got) != 1 || !strings.Contains(got[0].text(), "stage 2 of 2") {
			t.Fatalf("stage-2 card to %s: %+v", u, got)
		}
	}

	tests := []struct {
		name, user, userName, verb string
		data                       map[string]any
		want                       string
	}{
		{"non-approver", flMegan, "Megan Bowen", cards.VerbApprovalApprove, map[string]any{cards.KeyRequestID: reqID, cards.KeyStageID: "stage-2", cards.InputJustification: "x"}, "Nothing to decide"},
		{"stage-1 approver on stage 2", flAaron, "Aaron Approver", cards.VerbApprovalApprove, map[string]any{cards.KeyRequestID: reqID, cards.KeyStageID: "stage-2", cards.InputJustification: "x"}, "not an approver of this stage"},
		{"stale stage-1 card", flAaron, "Aaron Approver", cards.VerbApprovalDeny, map[string]any{cards.KeyRequestID: reqID, cards.KeyStageID: "stage-1", cards.InputJustification: "x"}, "You approved"},
		{"tampered request id", flIsaiah, "Isaiah Langer", cards.VerbApprovalApprove, map[string]any{cards.KeyRequestID: "../../users", cards.InputJustification: "x"}, "not valid"},
		{"unknown request id", flIsaiah, "Isaiah Langer", cards.VerbApprovalApprove, map[string]any{cards.KeyRequestID: "10000000-0000-0000-0000-999999999999", cards.InputJustification: "x"}, "Nothing to decide"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, resp := e.execute(tc.user, tc.userName, "card", tc.verb, tc.data)
			if c := respCard(t, resp); !strings.Contains(c, tc.want) {
				t.Fatalf("answer lacks %q: %s", tc.want, c)
			}
			if e.port.decideCalls != 1 || e.port.requests[reqID].State != entitlement.StatePendingApproval {
				t.Fatalf("something changed: calls=%d state=%s", e.port.decideCalls, e.port.requests[reqID].State)
			}
		})
	}

	from := len(e.conn.all())
	_, resp := e.execute(flIsaiah, "Isaiah Langer", "card-isaiah", cards.VerbApprovalDeny,
		map[string]any{cards.KeyRequestID: reqID, cards.KeyStageID: "stage-2", cards.InputJustification: "no ticket"})
	if c := respCard(t, resp); !strings.Contains(c, "You denied") {
		t.Fatalf("deny: %s", c)
	}
	// Lynne clicks too late: already decided, nothing changes.
	_, resp = e.execute(flLynne, "Lynne Robbins", "card-lynne", cards.VerbApprovalApprove,
		map[string]any{cards.KeyRequestID: reqID, cards.KeyStageID: "stage-2", cards.InputJustification: "ok"})
	if c := respCard(t, resp); !strings.Contains(c, "Already denied by Isaiah") {
		t.Fatalf("late click: %s", c)
	}
	if e.port.requests[reqID].State != entitlement.StateDenied {
		t.Fatalf("state = %s, want denied", e.port.requests[reqID].State)
	}
	e.drain()
	e.poll()
	var lynneUpdated, ritaDenied bool
	for _, s := range e.conn.all()[from:] {
		if s.Op == "update" && s.Conversation == "conv-"+flLynne && strings.Contains(s.text(), "Denied by Isaiah Langer") {
			lynneUpdated = true
		}
		if s.Op == "update" && s.Conversation == "chat-"+flRita && strings.Contains(s.text(), "Denied by Isaiah Langer") {
			ritaDenied = true
		}
	}
	if !lynneUpdated || !ritaDenied {
		t.Fatalf("copies updated: lynne=%v rita=%v", lynneUpdated, ritaDenied)
	}
}

func TestRaceAnswersAlreadyDecided(t *testing.T) {
	e := newFlEnv(t)
	_, reqID := e.ritaRequestsFalconTeam(t)
	// Patti is made an approver too; she decides first between Aaron's read and his PATCH (Graph's 409).
	e.port.approvals[reqID].stages[0].approvers = append(e.port.approvals[reqID].stages[0].approvers, flPatti)
	e.port.raceDecide = flPatti
	_, resp := e.execute(flAaron, "Aaron Approver", "card-aaron", cards.VerbApprovalApprove,
		map[string]any{cards.KeyRequestID: reqID, cards.KeyStageID: "stage-1"})
	c := respCard(t, resp)
	if !strings.Contains(c, "Already approved by Patti") || !strings.Contains(c, "changed nothing") {
		t.Fatalf("race answer: %s", c)
	}
	audit, err := e.store.Audit(context.Background(), store.AuditQuery{ActorID: flAaron})
	if err != nil || len(audit) != 1 || audit[0].Outcome != "already-decided" {
		t.Fatalf("audit = %+v, %v", audit, err)
	}
}

func TestDuplicateInvokeDecidesOnce(t *testing.T) {
	e := newFlEnv(t)
	data := e.openForm(flRita, "Rita Requester", "request Falcon Team Member")
	_, resp := e.execute(flRita, "Rita Requester", "form-1", cards.VerbRequestSubmit, data)
	respCard(t, resp)
	var reqID string
	for id := range e.port.requests {
		reqID = id
	}
	act, first := e.execute(flAaron, "Aaron Approver", "card-aaron", cards.VerbApprovalApprove,
		map[string]any{cards.KeyRequestID: reqID, cards.KeyStageID: "stage-1"})
	again, err := e.bot.OnActivity(context.Background(), act) // Teams redelivers the same activity
	if err != nil {
		t.Fatal(err)
	}
	if e.port.decideCalls != 1 {
		t.Fatalf("DecideStage calls = %d, want 1", e.port.decideCalls)
	}
	if canon(t, respCard(t, first)) != canon(t, respCard(t, again)) {
		t.Fatalf("redelivery got a different answer")
	}
	// The answer was encoded once: the endpoint writes these bytes, and the redelivery replays the same ones.
	a, aok := first.Body.(json.RawMessage)
	b, bok := again.Body.(json.RawMessage)
	if !aok || !bok || !bytes.Equal(a, b) {
		t.Fatalf("answers are not the stored encoding: %T %T", first.Body, again.Body)
	}
	// A second, distinct click by the same approver is answered from Graph's state without a second decision.
	_, second := e.execute(flAaron, "Aaron Approver", "card-aaron", cards.VerbApprovalApprove,
		map[string]any{cards.KeyRequestID: reqID, cards.KeyStageID: "stage-1"})
	if c := respCard(t, second); !strings.Contains(c, "You approved") || e.port.decideCalls != 1 {
		t.Fatalf("double click: calls=%d %s", e.port.decideCalls, c)
	}
}

func TestSignInAndPackagesPaging(t *testing.T) {
	e := newFlEnv(t)
	for i := range 23 {
		e.port.packages = append(e.port.packages, entitlement.Package{ID: "pkg-" + string(rune('a'+i)), Name: "Extra package " + string(rune('a'+i))})
	}
	e.message(flRita, "Rita Requester", "packages")
	first := e.conn.all()[len(e.conn.all())-1].text()
	if !strings.Contains(first, "page 1 of 3") || !strings.Contains(first, cards.VerbPackagesPage) {
		t.Fatalf("first page: %s", first)
	}
	_, resp := e.execute(flRita, "Rita Requester", "list", cards.VerbPackagesPage, map[string]any{cards.KeyQuery: "", cards.KeyPage: "3"})
	if c := respCard(t, resp); !strings.Contains(c, "page 3 of 3") || !strings.Contains(c, "Extra package w") {
		t.Fatalf("page 3: %s", c)
	}
	e.toks.signedOut[flMegan] = true
	e.message(flMegan, "Megan Bowen", "status")
	if c := e.conn.all()[len(e.conn.all())-1].text(); !strings.Contains(c, "couldn't sign you in") {
		t.Fatalf("signed-out user: %s", c)
	}
}

// canon re-encodes JSON with sorted keys.
func canon(t *testing.T, s string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	raw, _ := json.Marshal(v)
	return string(raw)
}
