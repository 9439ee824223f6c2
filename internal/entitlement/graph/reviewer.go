package graph

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/accessbot/accessbot/internal/entitlement"
	abs "github.com/microsoft/kiota-abstractions-go"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
	ig "github.com/microsoftgraph/msgraph-sdk-go/identitygovernance"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
)

// The reviewer's side of access reviews, with their own delegated token. Every call acts on an instance or,
// for a multi-stage review, on one of its stages (…/instances/{id}/stages/{id}/decisions…): Graph records the
// decisions of a multi-stage review per stage.

// ForReviewer returns the reviewer's view, acting with their own delegated token.
func (c *Client) ForReviewer(tok entitlement.TokenSource) entitlement.Reviewer {
	return &reviewerClient{u: &userClient{c: c, ts: tok}}
}

type reviewerClient struct{ u *userClient }

var _ entitlement.Reviewer = (*reviewerClient)(nil)

func needRef(ref entitlement.ReviewRef) error {
	if err := needIDs(ref.DefinitionID, ref.InstanceID); err != nil {
		return err
	}
	if ref.StageID != "" {
		return needID("review stage id", ref.StageID)
	}
	return nil
}

// where names the instance or stage in operation names.
func where(ref entitlement.ReviewRef) string {
	if ref.StageID != "" {
		return "stage " + ref.StageID + " of access review instance " + ref.InstanceID
	}
	return "access review instance " + ref.InstanceID
}

// MyStages lists the stages of an instance in which the user reviews items.
func (r *reviewerClient) MyStages(ctx context.Context, defID, instID string) ([]entitlement.ReviewStage, error) {
	if err := needIDs(defID, instID); err != nil {
		return nil, err
	}
	var out []entitlement.ReviewStage
	err := r.u.call(ctx, "list my stages of access review instance "+instID, func(ctx context.Context) error {
		on := "reviewer"
		b := r.u.c.inst(defID, instID).Stages().FilterByCurrentUserWithOn(&on)
		items, err := collect[models.AccessReviewStageable](ctx,
			func(ctx context.Context) (ig.AccessReviewsDefinitionsItemInstancesItemStagesFilterByCurrentUserWithOnGetResponseable, error) {
				return b.GetAsFilterByCurrentUserWithOnGetResponse(ctx, nil)
			},
			func(ctx context.Context, u string) (ig.AccessReviewsDefinitionsItemInstancesItemStagesFilterByCurrentUserWithOnGetResponseable, error) {
				return b.WithUrl(u).GetAsFilterByCurrentUserWithOnGetResponse(ctx, nil)
			})
		out = toReviewStages(items)
		return err
	})
	return out, reviewerErr(err)
}

// decisionPage is one page of a filterByCurrentUser answer (instance or stage).
type decisionPage interface {
	GetValue() []models.AccessReviewInstanceDecisionItemable
	GetOdataNextLink() *string
	GetOdataCount() *int64
}

// MyDecisions lists one page of the items the user reviews, with the total.
func (r *reviewerClient) MyDecisions(ctx context.Context, ref entitlement.ReviewRef, page entitlement.PageQuery) ([]entitlement.ReviewDecision, int, error) {
	if err := needRef(ref); err != nil {
		return nil, 0, err
	}
	var out []entitlement.ReviewDecision
	total := 0
	err := r.u.call(ctx, "list my decisions in "+where(ref), func(ctx context.Context) error {
		get := r.myDecisionsPage(ref, page)
		res, err := get(ctx, "")
		if err != nil || res == nil {
			return err
		}
		out = appendDecisions(out, ref.InstanceID, ref.StageID, res.GetValue())
		if n := res.GetOdataCount(); n != nil {
			total = int(*n)
			return nil
		}
		// No @odata.count: count by following the remaining pages.
		total = len(out) + max(page.Skip, 0)
		for link, pages := str(res.GetOdataNextLink()), 0; link != "" && pages < maxPages; pages++ {
			next, err := get(ctx, link)
			if err != nil || next == nil {
				return err
			}
			total += len(next.GetValue())
			link = str(next.GetOdataNextLink())
		}
		return nil
	})
	return out, total, reviewerErr(err)
}

// myDecisionsPage returns a reader of the caller's decision items: the first page (link "") with page's query,
// or the page at link.
func (r *reviewerClient) myDecisionsPage(ref entitlement.ReviewRef, page entitlement.PageQuery) func(ctx context.Context, link string) (decisionPage, error) {
	on, yes := "reviewer", true
	var filter *string
	if page.Undecided {
		f := "decision eq 'NotReviewed'"
		filter = &f
	}
	var top, skip *int32
	if page.Top > 0 {
		t, s := int32(page.Top), int32(max(page.Skip, 0))
		top, skip = &t, &s
	}
	inst := r.u.c.inst(ref.DefinitionID, ref.InstanceID)
	if ref.StageID != "" {
		b := inst.Stages().ByAccessReviewStageId(ref.StageID).Decisions().FilterByCurrentUserWithOn(&on)
		return func(ctx context.Context, link string) (decisionPage, error) {
			if link != "" {
				return b.WithUrl(link).GetAsFilterByCurrentUserWithOnGetResponse(ctx, nil)
			}
			return b.GetAsFilterByCurrentUserWithOnGetResponse(ctx, &ig.AccessReviewsDefinitionsItemInstancesItemStagesItemDecisionsFilterByCurrentUserWithOnRequestBuilderGetRequestConfiguration{
				QueryParameters: &ig.AccessReviewsDefinitionsItemInstancesItemStagesItemDecisionsFilterByCurrentUserWithOnRequestBuilderGetQueryParameters{
					Expand: []string{"insights"}, Count: &yes, Filter: filter, Top: top, Skip: skip}})
		}
	}
	b := inst.Decisions().FilterByCurrentUserWithOn(&on)
	return func(ctx context.Context, link string) (decisionPage, error) {
		if link != "" {
			return b.WithUrl(link).GetAsFilterByCurrentUserWithOnGetResponse(ctx, nil)
		}
		return b.GetAsFilterByCurrentUserWithOnGetResponse(ctx, &ig.AccessReviewsDefinitionsItemInstancesItemDecisionsFilterByCurrentUserWithOnRequestBuilderGetRequestConfiguration{
			QueryParameters: &ig.AccessReviewsDefinitionsItemInstancesItemDecisionsFilterByCurrentUserWithOnRequestBuilderGetQueryParameters{
				Expand: []string{"insights"}, Count: &yes, Filter: filter, Top: top, Skip: skip}})
	}
}

// reviewerErr maps 403 to ErrNotApprover (the user is not a reviewer of the item, stage or instance).
func reviewerErr(err error) error {
	var se *entitlement.ServiceError
	if errors.As(err, &se) && se.Status == http.StatusForbidden {
		se.Kind = entitlement.ErrNotApprover
	}
	return err
}

func verdictBody(v entitlement.ReviewVerdict) (models.AccessReviewInstanceDecisionItemable, error) {
	switch v.Decision {
	case entitlement.ReviewApprove, entitlement.ReviewDeny, entitlement.ReviewDontKnow:
	default:
		return nil, entitlement.Invalid("decision", fmt.Sprintf("must be Approve, Deny or DontKnow, not %q", v.Decision))
	}
	if len(v.Justification) > 4000 {
		return nil, entitlement.Invalid("justification", "must be at most 4000 characters")
	}
	m := models.NewAccessReviewInstanceDecisionItem()
	dec, j := string(v.Decision), strings.TrimSpace(v.Justification)
	m.SetDecision(&dec)
	m.SetJustification(&j)
	return m, nil
}

// decideErr turns a 400 on an approval without justification into an InvalidInputError naming the field.
func decideErr(err error, v entitlement.ReviewVerdict) error {
	var se *entitlement.ServiceError
	if errors.As(err, &se) && se.Status == http.StatusBadRequest && v.Decision == entitlement.ReviewApprove && strings.TrimSpace(v.Justification) == "" {
		return fmt.Errorf("%w (%v)", entitlement.Invalid("justification", "is required by this review to approve access"), se)
	}
	return reviewerErr(err)
}

// patchInfo builds the PATCH of one decision item (of the instance, or of ref's stage).
func (r *reviewerClient) patchInfo(ctx context.Context, ref entitlement.ReviewRef, decisionID string, body models.AccessReviewInstanceDecisionItemable) (*abs.RequestInformation, error) {
	inst := r.u.c.inst(ref.DefinitionID, ref.InstanceID)
	if ref.StageID != "" {
		return inst.Stages().ByAccessReviewStageId(ref.StageID).Decisions().ByAccessReviewInstanceDecisionItemId(decisionID).ToPatchRequestInformation(ctx, body, nil)
	}
	return inst.Decisions().ByAccessReviewInstanceDecisionItemId(decisionID).ToPatchRequestInformation(ctx, body, nil)
}

// Decide records one decision (PATCH of the decision item).
func (r *reviewerClient) Decide(ctx context.Context, ref entitlement.ReviewRef, decisionID string, v entitlement.ReviewVerdict) error {
	if err := needRef(ref); err != nil {
		return err
	}
	if err := needID("decision id", decisionID); err != nil {
		return err
	}
	body, err := verdictBody(v)
	if err != nil {
		return err
	}
	err = r.u.call(ctx, "record a decision in "+where(ref), func(ctx context.Context) error {
		ri, err := r.patchInfo(ctx, ref, decisionID, body)
		if err != nil {
			return fmt.Errorf("build decision %s: %w", decisionID, err)
		}
		return r.u.c.adapter.SendNoContent(ctx, ri, errorMapping)
	})
	return decideErr(err, v)
}

// DecideItems records up to 20 decisions in one JSON batch request ($batch) and reports the first failure.
func (r *reviewerClient) DecideItems(ctx context.Context, ref entitlement.ReviewRef, items []entitlement.ReviewItemVerdict) error {
	if err := needRef(ref); err != nil {
		return err
	}
	if len(items) == 0 || len(items) > 20 {
		return entitlement.Invalid("decisions", fmt.Sprintf("a batch takes 1 to 20 decisions, not %d", len(items)))
	}
	c := r.u.c
	return r.u.call(ctx, fmt.Sprintf("record %d decisions in %s", len(items), where(ref)), func(ctx context.Context) error {
		batch := msgraphcore.NewBatchRequest(c.adapter)
		names := map[string]string{}
		for _, it := range items {
			if err := needID("decision id", it.DecisionID); err != nil {
				return err
			}
			body, err := verdictBody(it.ReviewVerdict)
			if err != nil {
				return err
			}
			ri, err := r.patchInfo(ctx, ref, it.DecisionID, body)
			if err != nil {
				return fmt.Errorf("build decision %s: %w", it.DecisionID, err)
			}
			bi, err := batch.AddBatchRequestStep(*ri)
			if err != nil {
				return fmt.Errorf("add decision %s to the batch: %w", it.DecisionID, err)
			}
			names[str(bi.GetId())] = it.DecisionID
		}
		res, err := batch.Send(ctx, c.adapter)
		if err != nil {
			return err
		}
		for id, status := range res.GetFailedResponses() {
			kind := entitlement.ErrUnavailable
			switch status {
			case http.StatusForbidden:
				kind = entitlement.ErrNotApprover
			case http.StatusBadRequest:
				kind = entitlement.ErrInvalidInput
			case http.StatusNotFound:
				kind = entitlement.ErrNotFound
			}
			return &entitlement.ServiceError{Op: "record decision " + names[id], Status: int(status), Kind: kind,
				Message: fmt.Sprintf("the batch answered %d for decision %s", status, names[id])}
		}
		return nil
	})
}

// stageURL is a stage's address (for the stage actions the SDK has no builders for).
func (c *Client) stageURL(ref entitlement.ReviewRef) string {
	return c.base + "/identityGovernance/accessReviews/definitions/" + ref.DefinitionID + "/instances/" + ref.InstanceID + "/stages/" + ref.StageID
}

// DecideAll records one verdict on every item the user has not reviewed yet (batchRecordDecisions of the
// instance, or of ref's stage).
func (r *reviewerClient) DecideAll(ctx context.Context, ref entitlement.ReviewRef, v entitlement.ReviewVerdict) error {
	if err := needRef(ref); err != nil {
		return err
	}
	if _, err := verdictBody(v); err != nil {
		return err
	}
	dec, j := string(v.Decision), strings.TrimSpace(v.Justification)
	err := r.u.call(ctx, "record all remaining decisions in "+where(ref), func(ctx context.Context) error {
		if ref.StageID != "" {
			// accessReviewStage: batchRecordDecisions (v1.0; msgraph-sdk-go v1.89 has no builder for it).
			_, err := r.u.c.sendJSON(ctx, abs.POST, r.u.c.stageURL(ref)+"/batchRecordDecisions", map[string]string{"decision": dec, "justification": j}, nil)
			return err
		}
		body := ig.NewAccessReviewsDefinitionsItemInstancesItemBatchRecordDecisionsPostRequestBody()
		body.SetDecision(&dec)
		body.SetJustification(&j)
		return r.u.c.inst(ref.DefinitionID, ref.InstanceID).BatchRecordDecisions().Post(ctx, body, nil)
	})
	return decideErr(err, v)
}

// AcceptRecommendations accepts the recommendation on every item the user has not reviewed.
func (r *reviewerClient) AcceptRecommendations(ctx context.Context, ref entitlement.ReviewRef) error {
	if err := needRef(ref); err != nil {
		return err
	}
	err := r.u.call(ctx, "accept the recommendations of "+where(ref), func(ctx context.Context) error {
		if ref.StageID != "" {
			// accessReviewStage: acceptRecommendations (v1.0; no builder in msgraph-sdk-go v1.89).
			_, err := r.u.c.sendJSON(ctx, abs.POST, r.u.c.stageURL(ref)+"/acceptRecommendations", nil, nil)
			return err
		}
		return r.u.c.inst(ref.DefinitionID, ref.InstanceID).AcceptRecommendations().Post(ctx, nil)
	})
	return reviewerErr(err)
}
