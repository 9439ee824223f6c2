package reviews

import (
	"context"
	"fmt"
	"strings"

	"github.com/accessbot/accessbot/internal/entitlement"
)

// Decisions are recorded with the reviewer's own token (tok); the app identity never decides for anyone.

// Verdict parses a card's decision value.
func Verdict(decision, justification string) (entitlement.ReviewVerdict, error) {
	v := entitlement.ReviewVerdict{Justification: strings.TrimSpace(justification)}
	switch decision {
	case string(entitlement.ReviewApprove):
		v.Decision = entitlement.ReviewApprove
	case string(entitlement.ReviewDeny):
		v.Decision = entitlement.ReviewDeny
	case string(entitlement.ReviewDontKnow):
		v.Decision = entitlement.ReviewDontKnow
	default:
		return v, entitlement.Invalid("decision", fmt.Sprintf("must be Approve, Deny or DontKnow, not %q", decision))
	}
	return v, nil
}

// needJustification refuses an approval without justification up front when the review requires one, so the
// card can say which field is missing without a round trip to Graph.
func (s *Service) needJustification(ctx context.Context, defID string, v entitlement.ReviewVerdict) error {
	if v.Decision != entitlement.ReviewApprove || v.Justification != "" {
		return nil
	}
	d, err := s.cfg.Reviews.ReviewDefinition(ctx, defID)
	if err != nil {
		return fmt.Errorf("load access review %s: %w", defID, err)
	}
	if d.JustificationRequired {
		return entitlement.Invalid("justification", "is required by this review to approve access")
	}
	return nil
}

// Decide records one decision.
func (s *Service) Decide(ctx context.Context, tok entitlement.TokenSource, ref entitlement.ReviewRef, decisionID string, v entitlement.ReviewVerdict) error {
	if err := s.needJustification(ctx, ref.DefinitionID, v); err != nil {
		return err
	}
	return s.cfg.Reviews.ForReviewer(tok).Decide(ctx, ref, decisionID, v)
}

// DecidePage records one verdict for the listed items of a page in one Graph batch request.
func (s *Service) DecidePage(ctx context.Context, tok entitlement.TokenSource, ref entitlement.ReviewRef, ids []string, v entitlement.ReviewVerdict) error {
	if len(ids) == 0 {
		return entitlement.Invalid("decisions", "no undecided person on this page")
	}
	if len(ids) > PageSize {
		return entitlement.Invalid("decisions", fmt.Sprintf("at most %d per page, not %d", PageSize, len(ids)))
	}
	if err := s.needJustification(ctx, ref.DefinitionID, v); err != nil {
		return err
	}
	items := make([]entitlement.ReviewItemVerdict, 0, len(ids))
	for _, id := range ids {
		items = append(items, entitlement.ReviewItemVerdict{DecisionID: id, ReviewVerdict: v})
	}
	return s.cfg.Reviews.ForReviewer(tok).DecideItems(ctx, ref, items)
}

// DecideAll records one verdict on everything the reviewer has not decided (one batchRecordDecisions call).
func (s *Service) DecideAll(ctx context.Context, tok entitlement.TokenSource, ref entitlement.ReviewRef, v entitlement.ReviewVerdict) error {
	if err := s.needJustification(ctx, ref.DefinitionID, v); err != nil {
		return err
	}
	return s.cfg.Reviews.ForReviewer(tok).DecideAll(ctx, ref, v)
}

// AcceptRecommendations accepts the recommendation on everything the reviewer has not decided.
func (s *Service) AcceptRecommendations(ctx context.Context, tok entitlement.TokenSource, ref entitlement.ReviewRef) error {
	return s.cfg.Reviews.ForReviewer(tok).AcceptRecommendations(ctx, ref)
}

// Stop ends an instance early (admin, app identity).
func (s *Service) Stop(ctx context.Context, a Active) error {
	return s.cfg.Reviews.StopReview(ctx, a.Def.ID, a.Inst.ID)
}

// StopStage ends the stage in progress of a multi-stage review (admin, app identity): the decisions its
// settings move on go to the next stage, which starts now and whose reviewers the next sweep sends their card.
func (s *Service) StopStage(ctx context.Context, ref entitlement.ReviewRef) error {
	if ref.StageID == "" {
		return entitlement.Invalid("stage", "is required to stop a stage")
	}
	return s.cfg.Reviews.StopStage(ctx, ref)
}

// Apply applies a completed instance's decisions (admin, app identity): denied access is removed.
func (s *Service) Apply(ctx context.Context, a Active) error {
	return s.cfg.Reviews.ApplyReviewDecisions(ctx, a.Def.ID, a.Inst.ID)
}

// RemindEntra asks Entra to send its own reminder mail (admin, app identity).
func (s *Service) RemindEntra(ctx context.Context, a Active) error {
	return s.cfg.Reviews.SendReviewReminder(ctx, a.Def.ID, a.Inst.ID)
}

// Create creates a recurring review of an access package's assignments (admin, app identity).
func (s *Service) Create(ctx context.Context, in entitlement.NewReview) (entitlement.ReviewDefinition, error) {
	return s.cfg.Reviews.CreateReview(ctx, in)
}
