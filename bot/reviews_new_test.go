package bot

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/i18n"
)

// TestParseReviewStages: "/review new … stages …" reads each stage's reviewers, length and what moves on, and
// refuses bad input naming the stage and the word.
func TestParseReviewStages(t *testing.T) {
	cases := []struct {
		in      string
		want    string // who/days/moveOn per stage
		wantErr string // part of the English error
	}{
		{"manager (approved) then adele@contoso.example 5d then self", "manager/7/[Approve] | adele@contoso.example/5/[] | self/7/[]", ""},
		{"manager (approved, not reviewed); group Falcon Owners 10 days", "manager/7/[Approve NotReviewed] | group Falcon Owners/10/[]", ""},
		{"Megan Bowen 3d (denied or recommended), self", "Megan Bowen/3/[Deny Recommendation] | self/7/[]", ""},
		{"manager (all) THEN self", "manager/7/[] | self/7/[]", ""},
		{"manager", "", "2 or 3 stages"},
		{"manager then self then self then manager", "", "got 4"},
		{"manager (maybe) then self", "", `stage 1: "maybe" is not a decision`},
		{"manager then self (approved)", "", "stage 2 is the last one"},
		{"manager 0d then self", "", "stage 1: a stage lasts 1 to 180 days"},
		{"manager then 200d", "", "stage 2: a stage lasts 1 to 180 days"},
		{"manager (approved then self", "", "stage 1: put what moves on in parentheses"},
		{"manager then (approved)", "", "stage 2 is the last one"},
		{"manager (approved) then 5d", "", "stage 2: say who reviews it"},
		{"manager (approved) then sponsors", "", "stage 2: sponsors can't be a stage's reviewers"},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			got, err := parseReviewStages(c.in)
			if c.wantErr != "" {
				var ae *adminError
				if !errors.As(err, &ae) || !strings.Contains(ae.text, c.wantErr) {
					t.Fatalf("error %v, want one saying %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var parts []string
			for _, st := range got {
				parts = append(parts, fmt.Sprintf("%s/%d/%v", st.who, st.days, st.moveOn))
			}
			if s := strings.Join(parts, " | "); s != c.want {
				t.Fatalf("stages %s, want %s", s, c.want)
			}
		})
	}
}

func TestReviewGroupArg(t *testing.T) {
	cases := []struct {
		in, want string
		ok       bool
	}{
		{"group Falcon Security Reviewers", "Falcon Security Reviewers", true},
		{"Group:Falcon Owners", "Falcon Owners", true},
		{"group", "", true},
		{"groupie@contoso.example", "", false},
		{"Megan Bowen", "", false},
	}
	for _, c := range cases {
		if got, ok := reviewGroupArg(c.in); got != c.want || ok != c.ok {
			t.Errorf("reviewGroupArg(%q) = %q, %v; want %q, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

// TestCutStages: the stages start at the first "stages" after the package's first word, so a package named
// "Stages …" keeps its name.
func TestCutStages(t *testing.T) {
	cases := []struct {
		in, rest, stages string
		staged           bool
	}{
		{"Falcon Team Member quarterly stages manager then self", "Falcon Team Member quarterly", "manager then self", true},
		{"Stages Pilot stages: manager then self", "Stages Pilot", "manager then self", true},
		{"Falcon stages", "Falcon", "", true},
		{"Stages Pilot monthly", "Stages Pilot monthly", "", false},
		{"Falcon", "Falcon", "", false},
	}
	for _, c := range cases {
		rest, stages, staged := cutStages(strings.Fields(c.in))
		if strings.Join(rest, " ") != c.rest || stages != c.stages || staged != c.staged {
			t.Errorf("cutStages(%q) = %q, %q, %v; want %q, %q, %v", c.in, strings.Join(rest, " "), stages, staged, c.rest, c.stages, c.staged)
		}
	}
	// "stages" with nothing after is refused, not read as a single-stage review.
	if _, err := parseReviewStages(""); err == nil {
		t.Error("no stages after \"stages\" accepted")
	}
}

// TestStageFactsJoinsDecisions: what moves on is listed with the language's list join, like every list of
// names.
func TestStageFactsJoinsDecisions(t *testing.T) {
	plan := reviewStagePlan{who: []string{"each person's manager", "self"}, settings: []entitlement.ReviewStageSetting{
		{DurationDays: 7, MoveOn: []string{entitlement.MoveOnApprove, entitlement.MoveOnNotReviewed}}, {DurationDays: 3}}}
	fs := stageFacts(i18n.English(), plan)
	if len(fs) != 2 || !strings.HasSuffix(fs[0].Value, "moves on: approved and not reviewed") {
		t.Fatalf("stage facts %+v, want stage 1 to end in \"moves on: approved and not reviewed\"", fs)
	}
}
