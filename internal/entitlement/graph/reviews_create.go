package graph

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/accessbot/accessbot/internal/entitlement"
	absser "github.com/microsoft/kiota-abstractions-go/serialization"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
)

// Creating an access review of an access package's assignments (POST /identityGovernance/accessReviews/
// definitions): single-stage with the definition's reviewers, or multi-stage with stageSettings.

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
	if query == entitlement.ReviewerManager {
		root := "decisions"
		s.SetQueryRoot(&root)
	}
	return s
}

func reviewerScopes(queries []string) []models.AccessReviewReviewerScopeable {
	out := []models.AccessReviewReviewerScopeable{}
	for _, q := range queries {
		out = append(out, reviewerScope(q))
	}
	return out
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
	days := in.DurationDays
	if len(in.Stages) > 0 {
		stages, err := stageSettingsBody(in.Stages, in.Recurrence)
		if err != nil {
			return nil, err
		}
		d.SetStageSettings(stages)
		days = 0
		for _, st := range in.Stages {
			days += st.DurationDays
		}
	} else if err := setReviewers(d, in); err != nil {
		return nil, err
	}
	if days < 1 || days > 180 {
		return nil, entitlement.Invalid("duration", "must be between 1 and 180 days")
	}
	rec, err := recurrenceBody(in.Recurrence, in.Start, now)
	if err != nil {
		return nil, err
	}
	d.SetSettings(scheduleSettings(in, days, rec))
	return d, nil
}

// setReviewers sets a single-stage review's reviewers and fallback reviewers.
func setReviewers(d models.AccessReviewScheduleDefinitionable, in entitlement.NewReview) error {
	switch in.Reviewers {
	case "self":
		d.SetReviewers([]models.AccessReviewReviewerScopeable{})
	case "manager":
		d.SetReviewers([]models.AccessReviewReviewerScopeable{reviewerScope(entitlement.ReviewerManager)})
	case "user":
		if err := needID("reviewer", in.ReviewerID); err != nil {
			return err
		}
		d.SetReviewers([]models.AccessReviewReviewerScopeable{reviewerScope(entitlement.ReviewerUserQuery(in.ReviewerID))})
	default:
		return entitlement.Invalid("reviewers", fmt.Sprintf("must be manager, self or user, not %q", in.Reviewers))
	}
	if in.FallbackReviewerID != "" {
		if err := needID("fallback reviewer", in.FallbackReviewerID); err != nil {
			return err
		}
		d.SetFallbackReviewers([]models.AccessReviewReviewerScopeable{reviewerScope(entitlement.ReviewerUserQuery(in.FallbackReviewerID))})
	}
	return nil
}

// stageSettingsBody checks the stages by Graph's rules and builds stageSettings.
func stageSettingsBody(in []entitlement.ReviewStageSetting, recurrence string) ([]models.AccessReviewStageSettingsable, error) {
	stages, err := entitlement.NormalizeReviewStages(in, recurrence)
	if err != nil {
		return nil, err
	}
	var out []models.AccessReviewStageSettingsable
	for _, st := range stages {
		m := models.NewAccessReviewStageSettings()
		id, days, recs := st.StageID, int32(st.DurationDays), st.RecommendationsEnabled
		m.SetStageId(&id)
		m.SetDependsOn(st.DependsOn)
		m.SetDurationInDays(&days)
		m.SetRecommendationsEnabled(&recs)
		if len(st.MoveOn) > 0 {
			m.SetDecisionsThatWillMoveToNextStage(st.MoveOn)
		}
		m.SetReviewers(reviewerScopes(st.ReviewerQueries))
		if len(st.FallbackQueries) > 0 {
			m.SetFallbackReviewers(reviewerScopes(st.FallbackQueries))
		}
		out = append(out, m)
	}
	return out, nil
}

// scheduleSettings are the definition's settings (for a multi-stage review, days is the stages' total).
func scheduleSettings(in entitlement.NewReview, days int, rec models.PatternedRecurrenceable) models.AccessReviewScheduleSettingsable {
	s := models.NewAccessReviewScheduleSettings()
	d32 := int32(days)
	yes := true
	def := orNoneDecision(in.DefaultDecision)
	s.SetInstanceDurationInDays(&d32)
	s.SetMailNotificationsEnabled(&yes)
	s.SetReminderNotificationsEnabled(&yes)
	s.SetRecommendationsEnabled(&yes)
	s.SetJustificationRequiredOnApproval(&in.JustificationRequired)
	s.SetAutoApplyDecisionsEnabled(&in.AutoApply)
	dd := def != "None"
	s.SetDefaultDecisionEnabled(&dd)
	s.SetDefaultDecision(&def)
	s.SetRecurrence(rec)
	return s
}

// recurrenceBody is the recurrence of "monthly", "quarterly" or "" (once) from start (now when zero).
func recurrenceBody(recurrence string, start, now time.Time) (models.PatternedRecurrenceable, error) {
	if start.IsZero() {
		start = now
	}
	rec := models.NewPatternedRecurrence()
	pat := models.NewRecurrencePattern()
	typ := models.ABSOLUTEMONTHLY_RECURRENCEPATTERNTYPE
	var interval int32
	switch recurrence {
	case "monthly":
		interval = 1
	case "quarterly":
		interval = 3
	case "":
		interval = 0
	default:
		return nil, entitlement.Invalid("recurrence", fmt.Sprintf("must be monthly, quarterly or empty, not %q", recurrence))
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
	return rec, nil
}

func orNoneDecision(v string) string {
	switch v {
	case "Approve", "Deny", "Recommendation":
		return v
	}
	return "None"
}
