package reviews

import (
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
