package lifecycle

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/store"
)

func TestValidateBrokeredInput(t *testing.T) {
	pol := entitlement.Policy{ID: "pol", RequestorJustificationRequired: true,
		Questions: []entitlement.Question{
			{ID: "q1", Text: "Project code", Required: true, Regex: `^FAL-\d+$`},
			{ID: "q2", Text: "Site", Choices: []entitlement.Choice{{Value: "ber"}, {Value: "par"}}},
		}}
	code := entitlement.Answer{QuestionID: "q1", Value: "FAL-12"}
	tests := []struct {
		name      string
		in        entitlement.NewRequest
		wantField string
	}{
		{name: "valid", in: entitlement.NewRequest{Justification: "audit", Answers: []entitlement.Answer{code}}},
		{name: "valid choices", in: entitlement.NewRequest{Justification: "audit", Answers: []entitlement.Answer{code, {QuestionID: "q2", Value: "ber, par"}}}},
		{name: "missing justification", in: entitlement.NewRequest{Answers: []entitlement.Answer{code}}, wantField: "justification"},
		{name: "justification too long", in: entitlement.NewRequest{Justification: strings.Repeat("x", MaxJustificationLen+1), Answers: []entitlement.Answer{code}}, wantField: "justification"},
		{name: "missing required answer", in: entitlement.NewRequest{Justification: "x"}, wantField: "answers[Project code]"},
		{name: "answer not matching regex", in: entitlement.NewRequest{Justification: "x", Answers: []entitlement.Answer{{QuestionID: "q1", Value: "12"}}}, wantField: "answers[Project code]"},
		{name: "choice not offered", in: entitlement.NewRequest{Justification: "x", Answers: []entitlement.Answer{code, {QuestionID: "q2", Value: "lon"}}}, wantField: "answers[Site]"},
		{name: "answer to an unknown question", in: entitlement.NewRequest{Justification: "x", Answers: []entitlement.Answer{code, {QuestionID: "zz", Value: "1"}}}, wantField: "answers[zz]"},
		{name: "custom schedule not allowed", in: entitlement.NewRequest{Justification: "x", Answers: []entitlement.Answer{code},
			Schedule: entitlement.Schedule{Start: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)}}, wantField: "schedule"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			in.Answers = append([]entitlement.Answer(nil), tc.in.Answers...)
			err := ValidateBrokeredInput(pol, &in)
			var ie *entitlement.InvalidInputError
			switch {
			case tc.wantField == "" && err != nil:
				t.Fatalf("unexpected error %v", err)
			case tc.wantField != "" && (!errors.As(err, &ie) || ie.Field != tc.wantField):
				t.Fatalf("err = %v, want invalid %s", err, tc.wantField)
			}
			if tc.wantField == "" && in.Answers[0].QuestionText != "Project code" {
				t.Errorf("question text not filled in: %+v", in.Answers)
			}
		})
	}
}

// submitPort answers the directory and assignment reads of a brokered submit, decision and guest follow-up
// (the rest of the port is unused); the user "down" reads as Graph unavailable. Assignments applies the
// filter's package, target and states, as the Graph client does.
type submitPort struct {
	entitlement.Port
	users       map[string]entitlement.User
	assignments []entitlement.Assignment
}

func (p *submitPort) User(_ context.Context, id string) (entitlement.User, error) {
	if u, ok := p.users[id]; ok {
		return u, nil
	}
	if id == "down" {
		return entitlement.User{}, entitlement.ErrUnavailable
	}
	return entitlement.User{}, entitlement.ErrNotFound
}

func (p *submitPort) Assignments(_ context.Context, f entitlement.AssignmentFilter) ([]entitlement.Assignment, error) {
	var out []entitlement.Assignment
	for _, a := range p.assignments {
		if (f.PackageID == "" || a.PackageID == f.PackageID) && (f.TargetID == "" || a.Target.ID == f.TargetID) &&
			(len(f.States) == 0 || slices.Contains(f.States, a.State)) {
			out = append(out, a)
		}
	}
	return out, nil
}

func newSubmitCore(t *testing.T, st store.Backend, port entitlement.Port) *Core {
	t.Helper()
	c, err := New(Config{Store: st, Entitlement: port, TenantID: "contoso", Holder: "a", BotName: "AccessBot",
		Enqueue: func(context.Context, string, any) {}, Audit: func(context.Context, store.AuditEntry) {}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// A second request for one address and package is refused while the first is open or the address holds it.
func TestCheckBrokeredDuplicate(t *testing.T) {
	onEachBackend(t, func(t *testing.T, st store.Backend) {
		port := &submitPort{assignments: []entitlement.Assignment{{ID: "as1", PackageID: "held", State: entitlement.AssignmentDelivered,
			Target: entitlement.Subject{Email: "Gus@Fabrikam.example"}}}}
		c := newSubmitCore(t, st, port)
		ctx := context.Background()
		open := &Brokered{ID: BrokeredPrefix + "1", PackageID: "open", State: entitlement.StatePendingApproval,
			Requester: BrokeredRequester{Email: "gus@fabrikam.example"}}
		if err := c.SaveBrokered(ctx, open); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name, email, pkg string
			want             error
		}{
			{"open brokered request", "GUS@fabrikam.example", "open", entitlement.ErrAlreadyRequested},
			{"assignment held", "gus@fabrikam.example", "held", entitlement.ErrAlreadyAssigned},
			{"someone else", "nina@fabrikam.example", "open", nil},
			{"another package", "gus@fabrikam.example", "new", nil},
		}
		for _, tc := range tests {
			err := c.CheckBrokeredDuplicate(ctx, tc.email, tc.pkg)
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
			}
		}
	})
}

// StartBrokered: no approval means no stage; a stage's rules naming only the requester ask its escalation
// approvers at once; nobody at all is invalid input naming the approvers.
func TestStartBrokered(t *testing.T) {
	single := func(id string) []entitlement.SubjectSet {
		return []entitlement.SubjectSet{{Kind: entitlement.SetSingleUser, UserID: id}}
	}
	tests := []struct {
		name          string
		pol           entitlement.Policy
		wantStages    int
		wantApprover  string
		wantEscalated bool
		wantField     string
	}{
		{name: "no approval", pol: entitlement.Policy{ID: "pol", Stages: []entitlement.Stage{{PrimaryApprovers: single("patti")}}}},
		{name: "first stage", pol: entitlement.Policy{ID: "pol", ApprovalRequired: true, Stages: []entitlement.Stage{{PrimaryApprovers: single("patti")}}},
			wantStages: 1, wantApprover: "patti"},
		{name: "only the requester escalates", pol: entitlement.Policy{ID: "pol", ApprovalRequired: true,
			Stages: []entitlement.Stage{{PrimaryApprovers: single("gus"), EscalationApprovers: single("patti")}}},
			wantStages: 1, wantApprover: "patti", wantEscalated: true},
		{name: "only the requester, no escalation", pol: entitlement.Policy{ID: "pol", ApprovalRequired: true,
			Stages: []entitlement.Stage{{PrimaryApprovers: single("gus")}}}, wantField: "approvers"},
		{name: "nobody", pol: entitlement.Policy{ID: "pol", ApprovalRequired: true,
			Stages: []entitlement.Stage{{PrimaryApprovers: single("ghost")}}}, wantField: "approvers"},
	}
	port := &submitPort{users: map[string]entitlement.User{"patti": {ID: "patti", Name: "Patti"}, "gus": {ID: "gus", Name: "Gus"}}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newSubmitCore(t, backends[0].open(t), port)
			created := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
			br := &Brokered{ID: BrokeredPrefix + "1", PolicyID: "pol", State: entitlement.StatePendingApproval, CreatedAt: created,
				Requester: BrokeredRequester{TenantID: "fab", ID: "gus", Email: "gus@fabrikam.example", OrgID: "org"}}
			err := c.StartBrokered(context.Background(), br, tc.pol)
			if tc.wantField != "" {
				var ie *entitlement.InvalidInputError
				if !errors.As(err, &ie) || ie.Field != tc.wantField {
					t.Fatalf("err = %v, want invalid %s", err, tc.wantField)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if br.StageCount != tc.wantStages || len(br.Stages) != tc.wantStages || len(br.Timeline) == 0 || !br.Timeline[0].At.Equal(created) {
				t.Fatalf("record = %+v", br)
			}
			if tc.wantStages == 0 {
				return
			}
			st := br.Stages[0]
			if st.Index != 1 || len(st.Approvers) != 1 || st.Approvers[0].ID != tc.wantApprover || st.Escalated != tc.wantEscalated || st.Approvers[0].Escalation != tc.wantEscalated {
				t.Errorf("stage = %+v", st)
			}
		})
	}
}
