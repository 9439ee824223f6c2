package bot

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/accessbot/accessbot/cards"
	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/store"
)

func TestValidateForm(t *testing.T) {
	now := time.Date(2026, 11, 26, 15, 0, 0, 0, time.UTC)
	prod := entitlement.Requirements{PolicyID: "p", RequestorJustificationRequired: true, CustomScheduleAllowed: true,
		Questions: []entitlement.Question{
			{ID: "t", Text: "Change ticket", Required: true, Kind: entitlement.QuestionText, Regex: `^INC\d{4,}$`},
			{ID: "c", Text: "Environment", Required: true, Kind: entitlement.QuestionChoice,
				Choices: []entitlement.Choice{{Value: "prod-eu", Text: "Production EU"}, {Value: "prod-us"}}},
			{ID: "o", Text: "Notes", Kind: entitlement.QuestionText},
		}}
	noDates := entitlement.Requirements{PolicyID: "p"}
	valid := map[string]any{"justification": "on-call", "q_t": "INC12345", "q_c": "prod-eu"}
	with := func(kv ...string) map[string]any {
		m := map[string]any{}
		for k, v := range valid {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name    string
		req     entitlement.Requirements
		data    map[string]any
		errs    map[string]string // input id → substring of the error
		answers int
	}{
		{"valid", prod, valid, nil, 2},
		{"justification required", prod, with("justification", "  "), map[string]string{"justification": "required"}, 2},
		{"justification optional", noDates, map[string]any{}, nil, 0},
		{"regex mismatch", prod, with("q_t", "INC12"), map[string]string{"q_t": "expected format"}, 1},
		{"required answer missing", prod, with("q_t", ""), map[string]string{"q_t": "required"}, 1},
		{"choice not offered", prod, with("q_c", "prod-mars"), map[string]string{"q_c": "prod-eu, prod-us"}, 1},
		{"optional answer kept", prod, with("q_o", "hello"), nil, 3},
		{"start in the past", prod, with("startDate", "2026-11-25"), map[string]string{"startDate": "past"}, 2},
		{"start today is fine", prod, with("startDate", "2026-11-26", "endDate", "2026-12-01"), nil, 2},
		{"end before start", prod, with("startDate", "2026-12-10", "endDate", "2026-12-09"), map[string]string{"endDate": "after the start"}, 2},
		{"end equal to today", prod, with("endDate", "2026-11-26"), map[string]string{"endDate": "after today"}, 2},
		{"not a date", prod, with("startDate", "next week"), map[string]string{"startDate": "YYYY-MM-DD"}, 2},
		{"dates not allowed", noDates, map[string]any{"endDate": "2027-01-01"}, map[string]string{"endDate": "does not let you choose dates"}, 0},
		{"too long", prod, with("justification", strings.Repeat("x", maxJustifyLen+1)), map[string]string{"justification": "at most"}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in, errs, vals := validateForm(tc.req, tc.data, now)
			if len(errs) != len(tc.errs) {
				t.Fatalf("errors = %v, want keys of %v", errs, tc.errs)
			}
			for id, want := range tc.errs {
				if !strings.Contains(errs[id], want) {
					t.Errorf("error for %s = %q, want it to mention %q", id, errs[id], want)
				}
			}
			if len(in.Answers) != tc.answers {
				t.Errorf("answers = %+v, want %d", in.Answers, tc.answers)
			}
			if j, _ := tc.data["justification"].(string); vals["justification"] != strings.TrimSpace(j) {
				t.Errorf("values do not re-fill the justification: %q", vals["justification"])
			}
		})
	}
	in, errs, _ := validateForm(prod, with("startDate", "2026-12-01", "endDate", "2026-12-31"), now)
	if len(errs) != 0 {
		t.Fatalf("unexpected errors %v", errs)
	}
	if !in.Schedule.Start.Equal(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)) ||
		in.Schedule.Expiration.Type != entitlement.ExpireAfterDateTime ||
		!in.Schedule.Expiration.EndDateTime.Equal(time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("schedule = %+v", in.Schedule)
	}
	for _, a := range in.Answers {
		if a.QuestionID == "c" && a.DisplayValue != "Production EU" {
			t.Errorf("choice display value = %q, want the choice text", a.DisplayValue)
		}
	}
}

func TestParseISODuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		err  bool
	}{
		{"P180D", 180 * 24 * time.Hour, false},
		{"PT4H", 4 * time.Hour, false},
		{"P4W2D", 30 * 24 * time.Hour, false},
		{"P1DT12H", 36 * time.Hour, false},
		{"PT30M", 30 * time.Minute, false},
		{"P1Y", 365 * 24 * time.Hour, false},
		{"", 0, true},
		{"180D", 0, true},
		{"P5", 0, true},
		{"PT4X", 0, true},
		{"P1H", 0, true},
	}
	for _, tc := range tests {
		got, err := parseISODuration(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("parseISODuration(%q) = %v, %v; want %v, err=%v", tc.in, got, err, tc.want, tc.err)
		}
	}
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
	i := strings.Index(card, `"formId":"`)
	formID := card[i+len(`"formId":"`):]
	formID = formID[:strings.Index(formID, `"`)]
	return map[string]any{cards.KeyFormID: formID}
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
	_, resp = e.execute(flAaron, "Aaron Approver", toAaron[0].ID, cards.VerbApprovalApprove,
		map[string]any{cards.KeyRequestID: reqID, cards.KeyApprovalID: reqID, cards.KeyStageID: "stage-1", cards.InputJustification: "ok"})
	if c := respCard(t, resp); !strings.Contains(c, "You approved this request") {
		t.Fatalf("answer to Aaron: %s", c)
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
	var tr trackedRequest
	if err := e.store.Get(ctx, bucketTracked, reqID, &tr); err != nil || !tr.Closed {
		t.Fatalf("tracked request closed = %v (%v), want closed after delivery", tr.Closed, err)
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

func TestRequestFormErrorsOnCard(t *testing.T) {
	e := newFlEnv(t)
	data := e.openForm(flRita, "Rita Requester", "request Falcon Production Access")
	data["q_"+flQTicket], data["q_"+flQEnv] = "CHG1", "prod-eu"
	_, resp := e.execute(flRita, "Rita Requester", "form-x", cards.VerbRequestSubmit, data)
	c := respCard(t, resp)
	for _, want := range []string{"Please check the form", "justification is required", "not in the expected format", `"value":"CHG1"`, cards.VerbRequestSubmit} {
		if !strings.Contains(c, want) {
			t.Errorf("re-rendered form lacks %q: %s", want, c)
		}
	}
	if len(e.port.requests) != 0 {
		t.Fatalf("an invalid form filed a request")
	}
	// A form id that is not Rita's changes nothing.
	_, resp = e.execute(flMegan, "Megan Bowen", "form-x", cards.VerbRequestSubmit, data)
	if c := respCard(t, resp); !strings.Contains(c, "no longer valid") {
		t.Fatalf("someone else's form: %s", c)
	}
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
	data := e.openForm(flRita, "Rita Requester", "request Falcon Team Member")
	_, resp := e.execute(flRita, "Rita Requester", "form-1", cards.VerbRequestSubmit, data)
	respCard(t, resp)
	e.drain()
	var reqID string
	for id := range e.port.requests {
		reqID = id
	}
	// Patti is made an approver too; she decides first between Aaron's read and his PATCH (Graph's 409).
	e.port.approvals[reqID].stages[0].approvers = append(e.port.approvals[reqID].stages[0].approvers, flPatti)
	e.port.raceDecide = flPatti
	_, resp = e.execute(flAaron, "Aaron Approver", "card-aaron", cards.VerbApprovalApprove,
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
