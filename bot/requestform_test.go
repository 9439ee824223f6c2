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

// Tests of the request form (requestform.go): validation, input mapping, errors shown on the form.

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
		{"regex mismatch", prod, with("q_t", "INC12"), map[string]string{"q_t": "expected format: INC followed by at least 4 digits, e.g. INC1234"}, 1},
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
			in, errs, vals := validateForm(nil, tc.req, tc.data, now)
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
	in, errs, _ := validateForm(nil, prod, with("startDate", "2026-12-01", "endDate", "2026-12-31"), now)
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
		{"throttled", &entitlement.ThrottledError{RetryAfter: 30 * time.Second}, []string{"try again in 30 seconds", "Try again"}},
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
			all, _ := e.bot.core.List(context.Background())
			if n := len(all); n != 0 {
				t.Errorf("%d requests tracked after a failed submit", n)
			}
		})
	}
}
