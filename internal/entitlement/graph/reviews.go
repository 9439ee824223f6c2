package graph

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"strings"

	"github.com/accessbot/accessbot/internal/entitlement"
	ig "github.com/microsoftgraph/msgraph-sdk-go/identitygovernance"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
)

// Access reviews (identityGovernance/accessReviews, v1.0). App-only calls read and manage reviews
// (AccessReview.ReadWrite.All application permission); decisions are recorded only through ForReviewer, with the
// reviewer's own delegated token (PATCH of a decision item and acceptRecommendations accept no app token).

var _ entitlement.Reviews = (*Client)(nil)

func (c *Client) ar() *ig.AccessReviewsDefinitionsRequestBuilder {
	return ig.NewIdentityGovernanceRequestBuilderInternal(map[string]string{"baseurl": c.base}, c.adapter).AccessReviews().Definitions()
}

func (c *Client) inst(defID, instID string) *ig.AccessReviewsDefinitionsItemInstancesAccessReviewInstanceItemRequestBuilder {
	return c.ar().ByAccessReviewScheduleDefinitionId(defID).Instances().ByAccessReviewInstanceId(instID)
}

func needIDs(defID, instID string) error {
	if err := needID("review id", defID); err != nil {
		return err
	}
	return needID("review instance id", instID)
}

var pkgScopeRE = regexp.MustCompile(`accessPackageAssignments\?\$filter=\(accessPackageId eq '([^']+)'`)

func toReviewDef(m models.AccessReviewScheduleDefinitionable) entitlement.ReviewDefinition {
	d := entitlement.ReviewDefinition{ID: str(m.GetId()), Name: str(m.GetDisplayName()), Description: str(m.GetDescriptionForReviewers()),
		Status: str(m.GetStatus()), CreatedAt: tm(m.GetCreatedDateTime()), ScopeKind: entitlement.ReviewOfOther}
	if q, ok := m.GetScope().(models.AccessReviewQueryScopeable); ok && q != nil {
		query := str(q.GetQuery())
		switch {
		case pkgScopeRE.MatchString(query):
			d.ScopeKind, d.ResourceID = entitlement.ReviewOfAccessPackage, pkgScopeRE.FindStringSubmatch(query)[1]
		case strings.HasPrefix(query, "/groups/"):
			d.ScopeKind = entitlement.ReviewOfGroup
			d.ResourceID, _, _ = strings.Cut(strings.TrimPrefix(query, "/groups/"), "/")
		case strings.HasPrefix(query, "/servicePrincipals/"):
			d.ScopeKind = entitlement.ReviewOfApp
			d.ResourceID, _, _ = strings.Cut(strings.TrimPrefix(query, "/servicePrincipals/"), "/")
		}
	}
	d.ReviewerQueries = scopeQueries(m.GetReviewers())
	if s := m.GetSettings(); s != nil {
		d.JustificationRequired, d.RecommendationsEnabled = boolv(s.GetJustificationRequiredOnApproval()), boolv(s.GetRecommendationsEnabled())
		d.DefaultDecision, d.DefaultDecisionEnabled = str(s.GetDefaultDecision()), boolv(s.GetDefaultDecisionEnabled())
		d.AutoApply, d.DurationDays = boolv(s.GetAutoApplyDecisionsEnabled()), i32(s.GetInstanceDurationInDays())
		if r := s.GetRecurrence(); r != nil && r.GetPattern() != nil && r.GetPattern().GetTypeEscaped() != nil {
			d.Recurrence = r.GetPattern().GetTypeEscaped().String()
		}
	}
	d.Stages = toStageSettings(m.GetStageSettings())
	// A multi-stage review's reviewers are its stages' (Graph ignores the definition's own).
	d.SelfReview = len(d.ReviewerQueries) == 0 && len(d.Stages) == 0
	return d
}

func toReviewInstance(defID string, m models.AccessReviewInstanceable) entitlement.ReviewInstance {
	return entitlement.ReviewInstance{ID: str(m.GetId()), DefinitionID: defID, Status: entitlement.ReviewStatus(str(m.GetStatus())),
		Start: tm(m.GetStartDateTime()), End: tm(m.GetEndDateTime())}
}

// appendDecisions converts the decision items of instance instID (of stage stageID; "" for the whole
// instance) and appends them to out, skipping nil items.
func appendDecisions(out []entitlement.ReviewDecision, instID, stageID string, items []models.AccessReviewInstanceDecisionItemable) []entitlement.ReviewDecision {
	for _, it := range items {
		if it != nil {
			d := toReviewDecision(instID, it)
			d.StageID = stageID
			out = append(out, d)
		}
	}
	return out
}

func toReviewDecision(instID string, m models.AccessReviewInstanceDecisionItemable) entitlement.ReviewDecision {
	d := entitlement.ReviewDecision{ID: str(m.GetId()), InstanceID: firstNonEmpty(str(m.GetAccessReviewId()), instID),
		Decision: entitlement.ReviewResult(str(m.GetDecision())), Recommendation: entitlement.Recommendation(str(m.GetRecommendation())),
		Justification: str(m.GetJustification()), ReviewedAt: tm(m.GetReviewedDateTime()), ApplyResult: str(m.GetApplyResult())}
	if p := m.GetPrincipal(); p != nil {
		d.Principal = entitlement.Subject{ID: str(p.GetId()), Name: str(p.GetDisplayName()), Kind: entitlement.SubjectUser}
		if u, ok := p.(models.UserIdentityable); ok {
			d.Principal.PrincipalName = str(u.GetUserPrincipalName())
		}
	}
	if r := m.GetResource(); r != nil {
		d.ResourceID, d.ResourceName = str(r.GetId()), str(r.GetDisplayName())
	}
	if rb := m.GetReviewedBy(); rb != nil && str(rb.GetId()) != "" && str(rb.GetId()) != "00000000-0000-0000-0000-000000000000" {
		d.ReviewedBy = entitlement.Subject{ID: str(rb.GetId()), Name: str(rb.GetDisplayName()), PrincipalName: str(rb.GetUserPrincipalName())}
	}
	for _, in := range m.GetInsights() {
		if si, ok := in.(models.UserSignInInsightable); ok && si != nil {
			d.LastSignIn = tm(si.GetLastSignInDateTime())
		}
	}
	return d
}

// ReviewDefinitions lists all access review definitions.
func (c *Client) ReviewDefinitions(ctx context.Context) ([]entitlement.ReviewDefinition, error) {
	var out []entitlement.ReviewDefinition
	err := c.call(ctx, "list access reviews", func(ctx context.Context) error {
		items, err := collectAll[models.AccessReviewScheduleDefinitionable](ctx, c.ar(), (*ig.AccessReviewsDefinitionsRequestBuilderGetRequestConfiguration)(nil))
		for _, it := range items {
			if it != nil {
				out = append(out, toReviewDef(it))
			}
		}
		return err
	})
	return out, err
}

// ReviewDefinition returns one definition.
func (c *Client) ReviewDefinition(ctx context.Context, defID string) (entitlement.ReviewDefinition, error) {
	if err := needID("review id", defID); err != nil {
		return entitlement.ReviewDefinition{}, err
	}
	var out entitlement.ReviewDefinition
	err := c.call(ctx, "get access review "+defID, func(ctx context.Context) error {
		m, err := c.ar().ByAccessReviewScheduleDefinitionId(defID).Get(ctx, nil)
		if err == nil && m != nil {
			out = toReviewDef(m)
		}
		return err
	})
	return out, err
}

// ReviewInstances lists a definition's instances.
func (c *Client) ReviewInstances(ctx context.Context, defID string) ([]entitlement.ReviewInstance, error) {
	if err := needID("review id", defID); err != nil {
		return nil, err
	}
	var out []entitlement.ReviewInstance
	err := c.call(ctx, "list instances of access review "+defID, func(ctx context.Context) error {
		b := c.ar().ByAccessReviewScheduleDefinitionId(defID).Instances()
		items, err := collectAll[models.AccessReviewInstanceable](ctx, b, (*ig.AccessReviewsDefinitionsItemInstancesRequestBuilderGetRequestConfiguration)(nil))
		for _, it := range items {
			if it != nil {
				out = append(out, toReviewInstance(defID, it))
			}
		}
		return err
	})
	return out, err
}

// ReviewInstance returns one instance.
func (c *Client) ReviewInstance(ctx context.Context, defID, instID string) (entitlement.ReviewInstance, error) {
	if err := needIDs(defID, instID); err != nil {
		return entitlement.ReviewInstance{}, err
	}
	var out entitlement.ReviewInstance
	err := c.call(ctx, "get access review instance "+instID, func(ctx context.Context) error {
		m, err := c.inst(defID, instID).Get(ctx, nil)
		if err == nil && m != nil {
			out = toReviewInstance(defID, m)
		}
		return err
	})
	return out, err
}

// ContactedReviewers lists the people asked to review an instance, with when each was first asked.
func (c *Client) ContactedReviewers(ctx context.Context, defID, instID string) ([]entitlement.ContactedReviewer, error) {
	if err := needIDs(defID, instID); err != nil {
		return nil, err
	}
	var out []entitlement.ContactedReviewer
	err := c.call(ctx, "list reviewers of access review instance "+instID, func(ctx context.Context) error {
		b := c.inst(defID, instID).ContactedReviewers()
		items, err := collectAll[models.AccessReviewReviewerable](ctx, b, (*ig.AccessReviewsDefinitionsItemInstancesItemContactedReviewersRequestBuilderGetRequestConfiguration)(nil))
		for _, it := range items {
			if it != nil {
				out = append(out, entitlement.ContactedReviewer{Since: tm(it.GetCreatedDateTime()),
					Subject: entitlement.Subject{ID: str(it.GetId()), Name: str(it.GetDisplayName()), PrincipalName: str(it.GetUserPrincipalName()), Kind: entitlement.SubjectUser}})
			}
		}
		return err
	})
	return out, err
}

// InstanceDecisions lists all decision items of an instance (all pages), with sign-in insights.
func (c *Client) InstanceDecisions(ctx context.Context, defID, instID string) ([]entitlement.ReviewDecision, error) {
	if err := needIDs(defID, instID); err != nil {
		return nil, err
	}
	var out []entitlement.ReviewDecision
	err := c.call(ctx, "list decisions of access review instance "+instID, func(ctx context.Context) error {
		b := c.inst(defID, instID).Decisions()
		cfg := &ig.AccessReviewsDefinitionsItemInstancesItemDecisionsRequestBuilderGetRequestConfiguration{
			QueryParameters: &ig.AccessReviewsDefinitionsItemInstancesItemDecisionsRequestBuilderGetQueryParameters{Expand: []string{"insights"}, Top: c.top}}
		items, err := collectAll[models.AccessReviewInstanceDecisionItemable](ctx, b, cfg)
		out = appendDecisions(out, instID, "", items)
		return err
	})
	return out, err
}

// instanceAction posts one of the instance's admin actions.
func (c *Client) instanceAction(ctx context.Context, defID, instID, what string, post func(ctx context.Context, b *ig.AccessReviewsDefinitionsItemInstancesAccessReviewInstanceItemRequestBuilder) error) error {
	if err := needIDs(defID, instID); err != nil {
		return err
	}
	err := c.call(ctx, what+" access review instance "+instID, func(ctx context.Context) error { return post(ctx, c.inst(defID, instID)) })
	var se *entitlement.ServiceError
	if errors.As(err, &se) && se.Status == http.StatusBadRequest {
		se.Kind = entitlement.ErrConflict
	}
	return err
}

// SendReviewReminder asks Entra to remind the reviewers.
func (c *Client) SendReviewReminder(ctx context.Context, defID, instID string) error {
	return c.instanceAction(ctx, defID, instID, "send a reminder for", func(ctx context.Context, b *ig.AccessReviewsDefinitionsItemInstancesAccessReviewInstanceItemRequestBuilder) error {
		return b.SendReminder().Post(ctx, nil)
	})
}

// StopReview ends an instance early.
func (c *Client) StopReview(ctx context.Context, defID, instID string) error {
	return c.instanceAction(ctx, defID, instID, "stop", func(ctx context.Context, b *ig.AccessReviewsDefinitionsItemInstancesAccessReviewInstanceItemRequestBuilder) error {
		return b.Stop().Post(ctx, nil)
	})
}

// ApplyReviewDecisions applies a completed instance's decisions.
func (c *Client) ApplyReviewDecisions(ctx context.Context, defID, instID string) error {
	return c.instanceAction(ctx, defID, instID, "apply the decisions of", func(ctx context.Context, b *ig.AccessReviewsDefinitionsItemInstancesAccessReviewInstanceItemRequestBuilder) error {
		return b.ApplyDecisions().Post(ctx, nil)
	})
}
