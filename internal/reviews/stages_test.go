package reviews

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/accessbot/accessbot/internal/entitlement"
)

func TestCurrentStageAndNext(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	st := func(id string, n int, s entitlement.ReviewStatus) entitlement.ReviewStage {
		return entitlement.ReviewStage{ID: id, Number: n, Status: s, Start: t0.Add(time.Duration(n) * 24 * time.Hour)}
	}
	cases := []struct {
		name     string
		stages   []entitlement.ReviewStage
		wantID   string
		wantNext bool
		wantKey  string
	}{
		{"single stage review", nil, "", false, "review/i/u"},
		{"stage 1 of 2 running", []entitlement.ReviewStage{st("s1", 1, entitlement.ReviewInProgress), st("s2", 2, entitlement.ReviewNotStarted)}, "s1", true, "review/i/s1/u"},
		{"stage 2 of 2 running", []entitlement.ReviewStage{st("s1", 1, entitlement.ReviewCompleted), st("s2", 2, entitlement.ReviewInProgress)}, "s2", false, "review/i/s2/u"},
		{"all done: the last started", []entitlement.ReviewStage{st("s1", 1, entitlement.ReviewCompleted), st("s2", 2, entitlement.ReviewCompleted)}, "s2", false, "review/i/s2/u"},
		{"nothing moved on", []entitlement.ReviewStage{st("s1", 1, entitlement.ReviewCompleted), st("s2", 2, entitlement.ReviewNotStarted)}, "s1", false, "review/i/s1/u"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := Active{Inst: entitlement.ReviewInstance{ID: "i"}, Stages: c.stages, Stage: currentStage(c.stages)}
			got := ""
			if a.Stage != nil {
				got = a.Stage.ID
			}
			if got != c.wantID {
				t.Errorf("current stage %q, want %q", got, c.wantID)
			}
			if _, _, ok := a.NextStage(); ok != c.wantNext {
				t.Errorf("NextStage ok = %v, want %v", ok, c.wantNext)
			}
			if k := sendKey("review", a, "u"); k != c.wantKey {
				t.Errorf("send key %q, want %q", k, c.wantKey)
			}
			if r := a.Ref(); r.StageID != c.wantID || r.InstanceID != "i" {
				t.Errorf("ref %+v", r)
			}
		})
	}
}

// stageReviews answers StageReviewers from a list; the other Reviews methods are not used here.
type stageReviews struct {
	entitlement.Reviews
	contacted []entitlement.Subject
}

func (f stageReviews) StageReviewers(context.Context, entitlement.ReviewRef, time.Time) ([]entitlement.Subject, error) {
	return f.contacted, nil
}

// TestReviewersNowNamedStageReviewer: a user the stage's settings name reviews the stage even when Graph
// contacted them for an earlier stage (contactedReviewers dates them by that stage).
func TestReviewersNowNamedStageReviewer(t *testing.T) {
	stage2 := entitlement.ReviewStage{ID: "s2", Number: 2, Status: entitlement.ReviewInProgress}
	def := entitlement.ReviewDefinition{Stages: []entitlement.ReviewStageSetting{{StageID: "1", ReviewerQueries: []string{"./manager"}},
		{StageID: "2", ReviewerQueries: []string{"/users/aaron", "/users/adele"}}}}
	cases := []struct {
		name      string
		contacted []entitlement.Subject
		want      []string
	}{
		{"named reviewers added", nil, []string{"aaron", "adele"}},
		{"no duplicates", []entitlement.Subject{{ID: "adele", Name: "Adele Vance"}}, []string{"adele", "aaron"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := &Service{cfg: Config{Reviews: stageReviews{contacted: c.contacted}}}
			a := Active{Def: def, Inst: entitlement.ReviewInstance{ID: "i"}, Stages: []entitlement.ReviewStage{{ID: "s1", Number: 1}, stage2}, Stage: &stage2}
			got, err := s.reviewersNow(context.Background(), a)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, r := range got {
				ids = append(ids, r.ID)
			}
			if strings.Join(ids, ",") != strings.Join(c.want, ",") {
				t.Fatalf("reviewers %v, want %v", ids, c.want)
			}
		})
	}
}
