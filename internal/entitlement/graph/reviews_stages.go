package graph

import (
	"context"
	"slices"

	"github.com/accessbot/accessbot/internal/entitlement"
	ig "github.com/microsoftgraph/msgraph-sdk-go/identitygovernance"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
)

// Multi-stage access reviews, app-only side (AccessReview.Read.All to read, AccessReview.ReadWrite.All to stop a
// stage): the stages of an instance and each stage's decisions. Graph keeps no per-stage list of the
// reviewers it asked (contactedReviewers is per instance): internal/reviews works them out.

func toStageSettings(in []models.AccessReviewStageSettingsable) []entitlement.ReviewStageSetting {
	var out []entitlement.ReviewStageSetting
	for _, m := range in {
		if m == nil {
			continue
		}
		set := entitlement.ReviewStageSetting{StageID: str(m.GetStageId()), DependsOn: m.GetDependsOn(), DurationDays: i32(m.GetDurationInDays()),
			RecommendationsEnabled: boolv(m.GetRecommendationsEnabled()), MoveOn: m.GetDecisionsThatWillMoveToNextStage()}
		set.ReviewerQueries, set.FallbackQueries = scopeQueries(m.GetReviewers()), scopeQueries(m.GetFallbackReviewers())
		out = append(out, set)
	}
	return out
}

func scopeQueries(in []models.AccessReviewReviewerScopeable) []string {
	var out []string
	for _, r := range in {
		if r != nil {
			out = append(out, str(r.GetQuery()))
		}
	}
	return out
}

// toReviewStages converts stages and numbers them by start (Graph does not promise an order).
func toReviewStages(in []models.AccessReviewStageable) []entitlement.ReviewStage {
	var out []entitlement.ReviewStage
	for _, m := range in {
		if m != nil {
			out = append(out, entitlement.ReviewStage{ID: str(m.GetId()), Status: entitlement.ReviewStatus(str(m.GetStatus())),
				Start: tm(m.GetStartDateTime()), End: tm(m.GetEndDateTime())})
		}
	}
	slices.SortStableFunc(out, func(a, b entitlement.ReviewStage) int { return a.Start.Compare(b.Start) })
	for i := range out {
		out[i].Number = i + 1
	}
	return out
}

// ReviewStages lists the stages of an instance in order (none for a single-stage review).
func (c *Client) ReviewStages(ctx context.Context, defID, instID string) ([]entitlement.ReviewStage, error) {
	if err := needIDs(defID, instID); err != nil {
		return nil, err
	}
	var out []entitlement.ReviewStage
	err := c.call(ctx, "list stages of access review instance "+instID, func(ctx context.Context) error {
		items, err := collectAll[models.AccessReviewStageable](ctx, c.inst(defID, instID).Stages(), (*ig.AccessReviewsDefinitionsItemInstancesItemStagesRequestBuilderGetRequestConfiguration)(nil))
		out = toReviewStages(items)
		return err
	})
	return out, err
}

// StageDecisions lists all decision items of a stage (all pages), with sign-in insights.
func (c *Client) StageDecisions(ctx context.Context, ref entitlement.ReviewRef) ([]entitlement.ReviewDecision, error) {
	if err := needRef(ref); err != nil {
		return nil, err
	}
	if err := needID("review stage id", ref.StageID); err != nil {
		return nil, err
	}
	var out []entitlement.ReviewDecision
	err := c.call(ctx, "list decisions of "+where(ref), func(ctx context.Context) error {
		b := c.inst(ref.DefinitionID, ref.InstanceID).Stages().ByAccessReviewStageId(ref.StageID).Decisions()
		cfg := &ig.AccessReviewsDefinitionsItemInstancesItemStagesItemDecisionsRequestBuilderGetRequestConfiguration{
			QueryParameters: &ig.AccessReviewsDefinitionsItemInstancesItemStagesItemDecisionsRequestBuilderGetQueryParameters{Expand: []string{"insights"}, Top: c.top}}
		items, err := collectAll[models.AccessReviewInstanceDecisionItemable](ctx, b, cfg)
		out = appendDecisions(out, ref.InstanceID, ref.StageID, items)
		return err
	})
	return out, err
}

// StopStage ends the stage in progress early.
func (c *Client) StopStage(ctx context.Context, ref entitlement.ReviewRef) error {
	if err := needID("review stage id", ref.StageID); err != nil {
		return err
	}
	return c.instanceAction(ctx, ref.DefinitionID, ref.InstanceID, "stop stage "+ref.StageID+" of", func(ctx context.Context, b *ig.AccessReviewsDefinitionsItemInstancesAccessReviewInstanceItemRequestBuilder) error {
		return b.Stages().ByAccessReviewStageId(ref.StageID).Stop().Post(ctx, nil)
	})
}
