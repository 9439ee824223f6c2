package graph

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/accessbot/accessbot/internal/entitlement"
	absser "github.com/microsoft/kiota-abstractions-go/serialization"
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
	for _, r := range m.GetReviewers() {
		if r != nil {
			d.ReviewerQueries = append(d.ReviewerQueries, str(r.GetQuery()))
		}
	}
	d.SelfReview = len(d.ReviewerQueries) == 0
	if s := m.GetSettings(); s != nil {
		d.JustificationRequired, d.RecommendationsEnabled = boolv(s.GetJustificationRequiredOnApproval()), boolv(s.GetRecommendationsEnabled())
		d.DefaultDecision, d.DefaultDecisionEnabled = str(s.GetDefaultDecision()), boolv(s.GetDefaultDecisionEnabled())
		d.AutoApply, d.DurationDays = boolv(s.GetAutoApplyDecisionsEnabled()), i32(s.GetInstanceDurationInDays())
		if r := s.GetRecurrence(); r != nil && r.GetPattern() != nil && r.GetPattern().GetTypeEscaped() != nil {
			d.Recurrence = r.GetPattern().GetTypeEscaped().String()
		}
	}
	d.Stages = toStageSettings(m.GetStageSettings())
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

// ContactedReviewers lists the people asked to review an instance.
func (c *Client) ContactedReviewers(ctx context.Context, defID, instID string) ([]entitlement.Subject, error) {
	return c.contactedSince(ctx, defID, instID, time.Time{})
}

// contactedSince lists the contacted reviewers added at since or later (all with a zero since).
func (c *Client) contactedSince(ctx context.Context, defID, instID string, since time.Time) ([]entitlement.Subject, error) {
	if err := needIDs(defID, instID); err != nil {
		return nil, err
	}
	var out []entitlement.Subject
	err := c.call(ctx, "list reviewers of access review instance "+instID, func(ctx context.Context) error {
		b := c.inst(defID, instID).ContactedReviewers()
		items, err := collectAll[models.AccessReviewReviewerable](ctx, b, (*ig.AccessReviewsDefinitionsItemInstancesItemContactedReviewersRequestBuilderGetRequestConfiguration)(nil))
		for _, it := range items {
			if it == nil || (!since.IsZero() && tm(it.GetCreatedDateTime()).Before(since)) {
				continue
			}
			out = append(out, entitlement.Subject{ID: str(it.GetId()), Name: str(it.GetDisplayName()), PrincipalName: str(it.GetUserPrincipalName()), Kind: entitlement.SubjectUser})
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

// CreateReview creates a (recurring) review of an access package's assignments.
func (c *Client) CreateReview(ctx context.Context, in entitlement.NewReview) (entitlement.ReviewDefinition, error) {
	body, err := reviewBody(in, c.now())
	if err != nil {
		return entitlement.ReviewDefinition{}, err
	}
	var out entitlement.ReviewDefinition
	err = c.call(ctx, "create an access review of package "+in.PackageID, func(ctx context.Context) error {
		m, err := c.ar().Post(ctx, body, nil)
		if err == nil && m != nil {
			out = toReviewDef(m)
		}
		return err
	})
	return out, err
}

func reviewerScope(query string) models.AccessReviewReviewerScopeable {
	s := models.NewAccessReviewReviewerScope()
	qt := "MicrosoftGraph"
	s.SetQuery(&query)
	s.SetQueryType(&qt)
	if query == "./manager" {
		root := "decisions"
		s.SetQueryRoot(&root)
	}
	return s
}

// reviewBody validates a NewReview and builds the definition to POST.
func reviewBody(in entitlement.NewReview, now time.Time) (models.AccessReviewScheduleDefinitionable, error) {
	if err := needID("package", in.PackageID); err != nil {
		return nil, err
	}
	d := models.NewAccessReviewScheduleDefinition()
	name := strings.TrimSpace(in.PackageName + " access review")
	d.SetDisplayName(&name)
	desc := "Created from AccessBot: do the holders of " + in.PackageName + " still need it?"
	d.SetDescriptionForAdmins(&desc)
	d.SetDescriptionForReviewers(&desc)
	scope := models.NewAccessReviewQueryScope()
	q := "/identityGovernance/entitlementManagement/accessPackageAssignments?$filter=(accessPackageId eq '" + in.PackageID + "')"
	qt, ot := "MicrosoftGraph", "#microsoft.graph.accessReviewQueryScope"
	scope.SetQuery(&q)
	scope.SetQueryType(&qt)
	scope.SetOdataType(&ot)
	d.SetScope(scope)
	switch in.Reviewers {
	case "self":
		d.SetReviewers([]models.AccessReviewReviewerScopeable{})
	case "manager":
		d.SetReviewers([]models.AccessReviewReviewerScopeable{reviewerScope("./manager")})
	case "user":
		if err := needID("reviewer", in.ReviewerID); err != nil {
			return nil, err
		}
		d.SetReviewers([]models.AccessReviewReviewerScopeable{reviewerScope("/users/" + in.ReviewerID)})
	default:
		return nil, entitlement.Invalid("reviewers", fmt.Sprintf("must be manager, self or user, not %q", in.Reviewers))
	}
	if in.FallbackReviewerID != "" {
		if err := needID("fallback reviewer", in.FallbackReviewerID); err != nil {
			return nil, err
		}
		d.SetFallbackReviewers([]models.AccessReviewReviewerScopeable{reviewerScope("/users/" + in.FallbackReviewerID)})
	}
	if in.DurationDays < 1 || in.DurationDays > 180 {
		return nil, entitlement.Invalid("duration", "must be between 1 and 180 days")
	}
	s := models.NewAccessReviewScheduleSettings()
	days := int32(in.DurationDays)
	yes := true
	def := orNoneDecision(in.DefaultDecision)
	s.SetInstanceDurationInDays(&days)
	s.SetMailNotificationsEnabled(&yes)
	s.SetReminderNotificationsEnabled(&yes)
	s.SetRecommendationsEnabled(&yes)
	s.SetJustificationRequiredOnApproval(&in.JustificationRequired)
	s.SetAutoApplyDecisionsEnabled(&in.AutoApply)
	dd := def != "None"
	s.SetDefaultDecisionEnabled(&dd)
	s.SetDefaultDecision(&def)
	start := in.Start
	if start.IsZero() {
		start = now
	}
	rec := models.NewPatternedRecurrence()
	pat := models.NewRecurrencePattern()
	typ := models.ABSOLUTEMONTHLY_RECURRENCEPATTERNTYPE
	var interval int32
	switch in.Recurrence {
	case "monthly":
		interval = 1
	case "quarterly":
		interval = 3
	case "":
		interval = 0
	default:
		return nil, entitlement.Invalid("recurrence", fmt.Sprintf("must be monthly, quarterly or empty, not %q", in.Recurrence))
	}
	rng := models.NewRecurrenceRange()
	rt := models.NOEND_RECURRENCERANGETYPE
	if interval == 0 {
		// A one-time review: the pattern repeats once within its range.
		interval, rt = 1, models.NUMBERED_RECURRENCERANGETYPE
		one := int32(1)
		rng.SetNumberOfOccurrences(&one)
	}
	pat.SetTypeEscaped(&typ)
	pat.SetInterval(&interval)
	rng.SetTypeEscaped(&rt)
	sd := absser.NewDateOnly(start.UTC())
	rng.SetStartDate(sd)
	rec.SetPattern(pat)
	rec.SetRangeEscaped(rng)
	s.SetRecurrence(rec)
	d.SetSettings(s)
	return d, nil
}

func orNoneDecision(v string) string {
	switch v {
	case "Approve", "Deny", "Recommendation":
		return v
	}
	return "None"
}
