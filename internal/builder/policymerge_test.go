package builder

import (
	"context"
	"reflect"
	"slices"
	"testing"

	"github.com/accessbot/accessbot/internal/entitlement"
)

// TestEditUpdatesPolicyFromBefore: Save hands UpdatePolicy the policy as it was read and as it is now, so
// only the difference is written; the questions keep their ids (the place on the card names the question),
// so a changed question keeps what the wizard does not show of it.
func TestEditUpdatesPolicyFromBefore(t *testing.T) {
	questions := []entitlement.Question{
		{ID: "q-why", Text: "Why?", Kind: entitlement.QuestionText, Required: true},
		{ID: "q-site", Text: "Which site?", Kind: entitlement.QuestionChoice, Choices: []entitlement.Choice{{Value: "a", Text: "A"}, {Value: "b", Text: "B"}}},
	}
	tests := []struct {
		name    string
		step    Step
		in      Input
		wantIDs []string
		change  func(p *entitlement.Policy) // what after differs in from before
	}{
		{"expiry only", StepLifetime, Input{Expiry: ExpireDays, ExpiryDays: "60"}, []string{"q-why", "q-site"},
			func(p *entitlement.Policy) { p.Expiration.Duration = "P60D" }},
		{"first question removed, second edited", StepApproval, Input{StageCount: "0", Questions: [MaxQuestions]QuestionInput{
			{}, {Text: "Which site now?", Choices: "a, b"}}}, []string{"q-site"},
			func(p *entitlement.Policy) {
				p.Questions = []entitlement.Question{{ID: "q-site", Text: "Which site now?", Kind: entitlement.QuestionChoice,
					Choices: []entitlement.Choice{{Value: "a", Text: "a"}, {Value: "b", Text: "b"}}}}
			}},
		{"question added", StepApproval, Input{StageCount: "0", Questions: [MaxQuestions]QuestionInput{
			{Text: "Why?", Required: "true"}, {Text: "Which site?", Choices: "a, b"}, {Text: "Team?"}}}, []string{"q-why", "q-site", ""},
			func(p *entitlement.Policy) {
				p.Questions = append(p.Questions, entitlement.Question{Text: "Team?", Kind: entitlement.QuestionText})
			}},
		{"a question the card has no place for is kept", StepApproval, Input{StageCount: "0", Questions: [MaxQuestions]QuestionInput{
			{Text: "Why?", Required: "true"}, {Text: "Which site?", Choices: "a, b"}, {Text: "Team?"}}}, []string{"q-why", "q-site", "q-team", "q-4"},
			func(p *entitlement.Policy) { p.Questions[2].Text = "Team?" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pkg, pols := pilotPackage()
			pol := pols[0]
			pol.Questions = questions
			if len(tc.wantIDs) > MaxQuestions {
				pol.Questions = append(slices.Clone(questions), entitlement.Question{ID: "q-team", Text: "Team", Kind: entitlement.QuestionText},
					entitlement.Question{ID: "q-4", Text: "Cost centre?", Kind: entitlement.QuestionText})
			}
			d := FromPackage(pkg, &pol, entitlement.Incompatibilities{}, func(s entitlement.SubjectSet) string { return s.Description })
			d.ID, d.TenantID, d.AdminID = "d-edit", "t", "adele"
			g := newFake()
			if errs, err := Apply(context.Background(), &d, tc.step, tc.in, opts(), g); errs != nil || err != nil {
				t.Fatalf("apply %s: %v %v", tc.step, errs, err)
			}
			if err := Create(context.Background(), g, &d, func(context.Context, *Draft) error { return nil }); err != nil {
				t.Fatalf("save: %v", err)
			}
			if len(g.updates) != 1 {
				t.Fatalf("UpdatePolicy calls = %d, want 1 (calls %v)", len(g.updates), g.calls)
			}
			before, after := g.updates[0][0], g.updates[0][1]
			if before.ID != "pol-members" || after.ID != "pol-members" {
				t.Errorf("policy ids = %q, %q; want pol-members for both", before.ID, after.ID)
			}
			var got []string
			for _, q := range after.Questions {
				got = append(got, q.ID)
			}
			if !reflect.DeepEqual(got, tc.wantIDs) {
				t.Errorf("question ids after = %q, want %q", got, tc.wantIDs)
			}
			want := before
			tc.change(&want)
			if !reflect.DeepEqual(after, want) {
				t.Errorf("after differs from before in more than the edit:\n got %+v\nwant %+v", after, want)
			}
		})
	}
}
