package reviews

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/accessbot/accessbot/cards"
	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/i18n"
)

// sweepReviews is the Graph side of a two-stage review for the sweep: the instance's contacted reviewers (the
// reads counted), its decisions and its stage's.
type sweepReviews struct {
	stageReviews
	contacted []entitlement.ContactedReviewer
	listed    int
}

func (f *sweepReviews) ContactedReviewers(context.Context, string, string) ([]entitlement.ContactedReviewer, error) {
	f.listed++
	return f.contacted, nil
}

func (f *sweepReviews) InstanceDecisions(context.Context, string, string) ([]entitlement.ReviewDecision, error) {
	return f.items, nil
}

// sentCards records who got a card.
type sentCards struct {
	mu sync.Mutex
	to []string
}

func (n *sentCards) Deliver(_ context.Context, to Recipient, _ *cards.Card) (Delivery, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.to = append(n.to, to.UserID)
	return Delivery{ActivityID: "a" + to.UserID}, nil
}

func (n *sentCards) Update(context.Context, Delivery, *cards.Card) error { return nil }

func (n *sentCards) Localizer(context.Context, Recipient) *i18n.Localizer { return i18n.English() }

// sweepT0 is when stage 1 of twoStageSweep's review started.
var sweepT0 = time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)

// twoStageSweep is a service on a fresh store, reading rv and dir, and a two-stage review in its second stage
// (started a day after sweepT0, an hour before the service's clock): stage 1 asks stage1Query, stage 2 managers.
func twoStageSweep(t *testing.T, rv *sweepReviews, dir *orgDir, stage1Query string) (*Service, Active) {
	t.Helper()
	st := openStore(t)
	t0 := sweepT0
	stages := []entitlement.ReviewStage{{ID: "s1", Number: 1, Status: entitlement.ReviewCompleted, Start: t0, End: t0.Add(24 * time.Hour)},
		{ID: "s2", Number: 2, Status: entitlement.ReviewInProgress, Start: t0.Add(24 * time.Hour), End: t0.Add(30 * 24 * time.Hour)}}
	s := &Service{cfg: Config{Reviews: rv, Directory: dir, Store: st, RemindBefore: time.Hour}, log: slog.New(slog.DiscardHandler),
		now: func() time.Time { return t0.Add(25 * time.Hour) }}
	a := Active{Def: entitlement.ReviewDefinition{ID: "def", Name: "Two stages", Stages: []entitlement.ReviewStageSetting{
		{StageID: "1", ReviewerQueries: []string{stage1Query}}, {StageID: "2", ReviewerQueries: []string{entitlement.ReviewerManager}}}},
		Inst: entitlement.ReviewInstance{ID: "inst", Status: entitlement.ReviewInProgress}, Stages: stages, Stage: &stages[1]}
	return s, a
}

// TestSweepStageReviewersOnce: the multi-stage sweep reads the instance's reviewer list once per sweep, and each
// reviewer of the stage in progress — also one an earlier stage asked already — gets exactly one card for it
// over several sweeps.
func TestSweepStageReviewersOnce(t *testing.T) {
	rv := &sweepReviews{stageReviews: stageReviews{items: []entitlement.ReviewDecision{{ID: "d1", Principal: entitlement.Subject{ID: "rita"}}}},
		contacted: []entitlement.ContactedReviewer{{Subject: entitlement.Subject{ID: "adele"}, Since: sweepT0}, {Subject: entitlement.Subject{ID: "aaron"}, Since: sweepT0},
			{Subject: entitlement.Subject{ID: "patti"}, Since: sweepT0.Add(24 * time.Hour)}}}
	dir := &orgDir{managers: map[string]string{"rita": "aaron"}}
	s, a := twoStageSweep(t, rv, dir, "/users/adele")
	n := &sentCards{}
	for sweep := 1; sweep <= 3; sweep++ {
		if err := s.sweepReviewers(context.Background(), n, a); err != nil {
			t.Fatal(err)
		}
		if rv.listed != sweep {
			t.Fatalf("sweep %d read contactedReviewers %d times in all, want once per sweep", sweep, rv.listed)
		}
		// Whom the stage's manager query names among the earlier contacts is read once per stage.
		if dir.reads != 1 {
			t.Fatalf("sweep %d: %d manager reads in all, want 1 (kept for the stage)", sweep, dir.reads)
		}
	}
	got := map[string]int{}
	for _, id := range n.to {
		got[id]++
	}
	if len(got) != 2 || got["patti"] != 1 || got["aaron"] != 1 {
		t.Fatalf("cards sent %v, want one each to patti (asked at stage 2) and aaron (stage 1, and Rita's manager)", got)
	}
}

// TestSweepStageItemsLate: Graph lists a new stage's items a little after the stage starts; a sweep that finds
// none yet does not keep "no managers" for the stage, so the earlier reviewer who manages someone in it gets
// the stage's card once the items show.
func TestSweepStageItemsLate(t *testing.T) {
	rv := &sweepReviews{contacted: []entitlement.ContactedReviewer{{Subject: entitlement.Subject{ID: "aaron"}, Since: sweepT0}}}
	s, a := twoStageSweep(t, rv, &orgDir{managers: map[string]string{"rita": "aaron"}}, "/users/aaron")
	n := &sentCards{}
	if err := s.sweepReviewers(context.Background(), n, a); err != nil {
		t.Fatal(err)
	}
	if len(n.to) != 0 {
		t.Fatalf("cards sent %v before the stage lists its items", n.to)
	}
	rv.items = []entitlement.ReviewDecision{{ID: "d1", Principal: entitlement.Subject{ID: "rita"}}}
	if err := s.sweepReviewers(context.Background(), n, a); err != nil {
		t.Fatal(err)
	}
	if len(n.to) != 1 || n.to[0] != "aaron" {
		t.Fatalf("cards sent %v, want one to aaron (Rita's manager, asked in stage 1 too)", n.to)
	}
}
