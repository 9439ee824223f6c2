package reviews

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/accessbot/accessbot/cards"
	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/i18n"
)

// Multi-stage reviews: each stage has its own reviewers and decisions (Graph records them per stage). A stage's
// reviewers get their card when the stage starts — not before — and it shows "Stage N of M" and what the earlier
// stages decided on each person (read with the app's identity, as evidence). Send-once keys and tracked cards
// are per stage, so a person who reviews two stages gets a card for each.

// Ref names the instance of a and, for a multi-stage review, its current stage.
func (a Active) Ref() entitlement.ReviewRef {
	r := entitlement.ReviewRef{DefinitionID: a.Def.ID, InstanceID: a.Inst.ID}
	if a.Stage != nil {
		r.StageID = a.Stage.ID
	}
	return r
}

// withStages loads the stages of a multi-stage instance and picks the current one: the stage in progress, else
// the last one that started.
func (s *Service) withStages(ctx context.Context, a *Active) error {
	if !a.Def.MultiStage() {
		return nil
	}
	sts, err := s.cfg.Reviews.ReviewStages(ctx, a.Def.ID, a.Inst.ID)
	if err != nil {
		return fmt.Errorf("list stages of %s: %w", a.Def.Name, err)
	}
	a.Stages, a.Stage = sts, currentStage(sts)
	return nil
}

// currentStage is the stage in progress, else the last started one; nil when none started.
func currentStage(sts []entitlement.ReviewStage) *entitlement.ReviewStage {
	var last *entitlement.ReviewStage
	for i := range sts {
		if sts[i].Status.Open() {
			return &sts[i]
		}
		if sts[i].Status != entitlement.ReviewNotStarted {
			last = &sts[i]
		}
	}
	return last
}

// stageFor picks the stage a reviewer's card shows: ref's stage when named, else the reviewer's stage in
// progress, else their last one. It returns the stage with its number, and how many stages there are.
func (s *Service) stageFor(ctx context.Context, rv entitlement.Reviewer, d entitlement.ReviewDefinition, ref entitlement.ReviewRef) (entitlement.ReviewStage, []entitlement.ReviewStage, error) {
	all, err := s.cfg.Reviews.ReviewStages(ctx, ref.DefinitionID, ref.InstanceID)
	if err != nil {
		return entitlement.ReviewStage{}, nil, fmt.Errorf("list stages of %s: %w", d.Name, err)
	}
	id := ref.StageID
	if id == "" {
		mine, err := rv.MyStages(ctx, ref.DefinitionID, ref.InstanceID)
		if err != nil {
			return entitlement.ReviewStage{}, nil, fmt.Errorf("list my stages of %s: %w", d.Name, err)
		}
		if cur := currentStage(mine); cur != nil {
			id = cur.ID
		}
	}
	for _, st := range all {
		if st.ID == id {
			return st, all, nil
		}
	}
	return entitlement.ReviewStage{}, nil, fmt.Errorf("no stage of %s for this reviewer: %w", d.Name, entitlement.ErrNotApprover)
}

// earlier reads what the stages before st decided on each person (app identity), principal id → decisions.
func (s *Service) earlier(ctx context.Context, ref entitlement.ReviewRef, all []entitlement.ReviewStage, st entitlement.ReviewStage) map[string][]cards.EarlierDecisionView {
	out := map[string][]cards.EarlierDecisionView{}
	for _, prev := range all {
		if prev.Number >= st.Number || prev.Status == entitlement.ReviewNotStarted {
			continue
		}
		ds, err := s.cfg.Reviews.StageDecisions(ctx, entitlement.ReviewRef{DefinitionID: ref.DefinitionID, InstanceID: ref.InstanceID, StageID: prev.ID})
		if err != nil {
			s.log.WarnContext(ctx, "read earlier stage decisions for review evidence", "review", ref.DefinitionID, "stage", prev.Number, "err", err)
			continue
		}
		for _, d := range ds {
			if d.Decided() {
				out[d.Principal.ID] = append(out[d.Principal.ID], cards.EarlierDecisionView{Stage: prev.Number, Decision: string(d.Decision),
					DecidedBy: d.ReviewedBy.Name, Justification: d.Justification})
			}
		}
	}
	return out
}

// sendKey is the send-once key of a reviewer's card (kind "review" or "remind"): per stage for a multi-stage
// review.
func sendKey(kind string, a Active, userID string) string {
	if a.Stage != nil {
		return kind + "/" + a.Inst.ID + "/" + a.Stage.ID + "/" + userID
	}
	return kind + "/" + a.Inst.ID + "/" + userID
}

// refreshStages re-renders the tracked cards of every started stage of a multi-stage instance; contacted is
// everyone the instance asked (a stage's card exists only for those it was sent to). A self-review stage has
// no reviewer cards (its people answer on self-review cards), so it is skipped: no token or card record is
// looked up for it.
func (s *Service) refreshStages(ctx context.Context, n Notifier, a Active, contacted []entitlement.ContactedReviewer, fp string) error {
	revs := subjects(contacted)
	var errs []error
	for i := range a.Stages {
		at := a
		at.Stage = &a.Stages[i]
		if at.Stage.Status == entitlement.ReviewNotStarted || at.SelfReview() {
			continue
		}
		errs = append(errs, s.refreshCards(ctx, n, at, revs, fp))
	}
	return errors.Join(errs...)
}

// stageProgress is the /reviews progress of a multi-stage instance, stage by stage, and who decided how many.
func (s *Service) stageProgress(ctx context.Context, l *i18n.Localizer, a Active) (string, map[string]int, error) {
	var parts []string
	by := map[string]int{}
	for _, st := range a.Stages {
		if st.Status == entitlement.ReviewNotStarted {
			continue
		}
		ds, err := s.cfg.Reviews.StageDecisions(ctx, entitlement.ReviewRef{DefinitionID: a.Def.ID, InstanceID: a.Inst.ID, StageID: st.ID})
		if err != nil {
			return "", nil, fmt.Errorf("load decisions of stage %d of %s: %w", st.Number, a.Def.Name, err)
		}
		decided := countDecided(ds, by)
		parts = append(parts, l.T("stage.progress", "Stage", st.Number, "Decided", decided, "Total", len(ds)))
	}
	return strings.Join(parts, "; "), by, nil
}

// NextStage reports, for a multi-stage instance whose current stage is in progress and not the last, the
// current stage's number and the count of stages; ok is false otherwise (then stopping ends the instance).
func (a Active) NextStage() (cur, count int, ok bool) {
	if a.Stage == nil || !a.Stage.Status.Open() || a.Stage.Number >= len(a.Stages) {
		return 0, 0, false
	}
	return a.Stage.Number, len(a.Stages), true
}
