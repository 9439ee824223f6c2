package entitlement

import (
	"context"
	"time"
)

// Access reviews (Graph v1.0 identityGovernance/accessReviews): definitions → instances → decisions. This is a
// separate port from Port so that the many fakes of Port need not grow; the Graph client implements both.

// ReviewScopeKind says what an access review covers.
type ReviewScopeKind string

// Review scope kinds.
const (
	ReviewOfAccessPackage ReviewScopeKind = "accessPackage"
	ReviewOfGroup         ReviewScopeKind = "group"
	ReviewOfApp           ReviewScopeKind = "application"
	ReviewOfOther         ReviewScopeKind = "other"
)

// ReviewStatus is the status of a review instance (Graph accessReviewInstance.status).
type ReviewStatus string

// Review instance statuses.
const (
	ReviewNotStarted ReviewStatus = "NotStarted"
	ReviewInProgress ReviewStatus = "InProgress"
	ReviewCompleted  ReviewStatus = "Completed"
	ReviewApplying   ReviewStatus = "Applying"
	ReviewApplied    ReviewStatus = "Applied"
)

// Open reports whether reviewers may still record decisions.
func (s ReviewStatus) Open() bool { return s == ReviewInProgress }

// Recommendation is Graph's system recommendation for a decision item (from sign-in activity).
type Recommendation string

// Recommendations.
const (
	RecommendApprove Recommendation = "Approve"
	RecommendDeny    Recommendation = "Deny"
	RecommendNoInfo  Recommendation = "NoInfoAvailable"
)

// ReviewDefinition is an access review schedule definition.
type ReviewDefinition struct {
	ID          string
	Name        string
	Description string
	Status      string
	// ScopeKind and ResourceID say what is reviewed (for an access package, its id).
	ScopeKind  ReviewScopeKind
	ResourceID string
	// SelfReview is true when the reviewers are the reviewed users themselves (no reviewers configured).
	SelfReview bool
	// ReviewerQueries are the reviewers' scope queries as Graph gives them (e.g. "./manager", "/users/{id}").
	ReviewerQueries []string
	// JustificationRequired: a justification is required on approval.
	JustificationRequired bool
	// RecommendationsEnabled: decision items carry recommendations.
	RecommendationsEnabled bool
	// DefaultDecision is applied to items nobody decided ("None", "Approve", "Deny", "Recommendation") when
	// DefaultDecisionEnabled.
	DefaultDecision        string
	DefaultDecisionEnabled bool
	// AutoApply applies the decisions when an instance completes.
	AutoApply bool
	// DurationDays is the length of each instance.
	DurationDays int
	// Recurrence is "" for a one-time review, else the recurrence pattern type (weekly, absoluteMonthly, …).
	Recurrence string
	CreatedAt  time.Time
	// Stages are the stage settings of a multi-stage review, in order; empty for a single-stage review.
	Stages []ReviewStageSetting
}

// MultiStage reports whether the review has stages (its decisions are recorded on the stage in progress).
func (d ReviewDefinition) MultiStage() bool { return len(d.Stages) > 0 }

// StageSetting is the settings of the stage numbered n (1-based); ok is false when there is none.
func (d ReviewDefinition) StageSetting(n int) (ReviewStageSetting, bool) {
	if n < 1 || n > len(d.Stages) {
		return ReviewStageSetting{}, false
	}
	return d.Stages[n-1], true
}

// ReviewStageSetting is one accessReviewStageSettings of a multi-stage review.
type ReviewStageSetting struct {
	StageID   string
	DependsOn []string
	// DurationDays is the stage's length.
	DurationDays int
	// ReviewerQueries are the stage's reviewer scope queries ("./manager", "/users/{id}"); none = self-review.
	ReviewerQueries        []string
	RecommendationsEnabled bool
	// MoveOn lists the decisions that go on to the next stage (Approve, Deny, Recommendation, NotReviewed);
	// empty = all.
	MoveOn []string
	// FallbackQueries review the people the reviewer queries find nobody for (e.g. no manager).
	FallbackQueries []string
}

// SelfReview reports whether the people under review review themselves in this stage (no reviewers).
func (s ReviewStageSetting) SelfReview() bool { return len(s.ReviewerQueries) == 0 }

// ReviewStage is one stage of a multi-stage review instance (accessReviewStage).
type ReviewStage struct {
	ID string
	// Number is the stage's 1-based position (stages are ordered by start).
	Number int
	// Status is NotStarted, InProgress, Completed (Graph also has Initializing, Starting, Completing,
	// AutoReviewing, AutoReviewed).
	Status ReviewStatus
	Start  time.Time
	End    time.Time
}

// ReviewRef names where a reviewer acts: an instance, or one stage of a multi-stage instance.
type ReviewRef struct {
	DefinitionID string
	InstanceID   string
	// StageID is set for a multi-stage review: decisions are then read and recorded on that stage.
	StageID string
}

// ContactedReviewer is one accessReviewReviewer of an instance: a person Graph asked to review, and when it
// first did (createdDateTime).
type ContactedReviewer struct {
	Subject
	Since time.Time
}

// ReviewInstance is one run of a review definition.
type ReviewInstance struct {
	ID           string
	DefinitionID string
	Status       ReviewStatus
	Start        time.Time
	End          time.Time
}

// ReviewDecision is one decision item: one principal's access to one resource in an instance.
type ReviewDecision struct {
	ID         string
	InstanceID string
	// StageID is the stage the item belongs to when it was read from a stage ("" for an instance's item).
	StageID string
	// Principal is the reviewed user (ID, Name, PrincipalName).
	Principal Subject
	// ResourceID / ResourceName name what the principal has access to.
	ResourceID   string
	ResourceName string
	// Decision is NotReviewed, Approve, Deny or DontKnow.
	Decision       ReviewResult
	Recommendation Recommendation
	Justification  string
	ReviewedBy     Subject
	ReviewedAt     time.Time
	// ApplyResult is Graph's applyResult (New, AppliedSuccessfully, …).
	ApplyResult string
	// LastSignIn is from the userSignInInsight when Graph gave one; zero otherwise.
	LastSignIn time.Time
}

// Decided reports whether a reviewer recorded a decision.
func (d ReviewDecision) Decided() bool { return d.Decision != "" && d.Decision != ReviewNotReviewed }

// ReviewVerdict is a reviewer's decision on an item.
type ReviewVerdict struct {
	// Decision is Approve, Deny or DontKnow.
	Decision      ReviewResult
	Justification string
}

// ReviewItemVerdict is a verdict for one decision item (for DecideItems).
type ReviewItemVerdict struct {
	DecisionID string
	ReviewVerdict
}

// PageQuery pages a list ($skip/$top).
type PageQuery struct {
	Skip int
	Top  int
	// Undecided keeps only items not reviewed yet ($filter=decision eq 'NotReviewed').
	Undecided bool
}

// NewReview creates a recurring review of an access package's assignments.
type NewReview struct {
	PackageID   string
	PackageName string
	// Reviewers: "manager" (the user's manager, Patti-style fallback below), "self" (each user reviews their own
	// access) or "user" (ReviewerID).
	Reviewers  string
	ReviewerID string
	// FallbackReviewerID is used when a reviewed user has no manager.
	FallbackReviewerID string
	// Recurrence is "monthly", "quarterly" or "" (once).
	Recurrence            string
	DurationDays          int
	JustificationRequired bool
	AutoApply             bool
	// DefaultDecision applies to undecided items at the end: "None", "Approve", "Deny" or "Recommendation".
	DefaultDecision string
	Start           time.Time
	// Stages make a multi-stage review (at most MaxReviewStages; then Reviewers, ReviewerID and DurationDays are
	// not used): each with its reviewer queries, duration and the decisions that move on. StageID and DependsOn
	// may be left empty: they are numbered 1, 2, 3 in order (Graph supports sequential stages only).
	Stages []ReviewStageSetting
}

// Reviews reads access reviews and runs the admin actions with the application's identity
// (AccessReview.ReadWrite.All application permission). It never records a reviewer's decision: that needs the
// reviewer's own token (ForReviewer).
type Reviews interface {
	// ReviewDefinitions lists all access review definitions.
	ReviewDefinitions(ctx context.Context) ([]ReviewDefinition, error)
	// ReviewDefinition returns one definition.
	ReviewDefinition(ctx context.Context, defID string) (ReviewDefinition, error)
	// ReviewInstances lists a definition's instances.
	ReviewInstances(ctx context.Context, defID string) ([]ReviewInstance, error)
	// ReviewInstance returns one instance.
	ReviewInstance(ctx context.Context, defID, instID string) (ReviewInstance, error)
	// ContactedReviewers lists the people asked to review an instance, each with when Graph first asked them
	// (one entry per person for the whole instance: Graph keeps no per-stage list).
	ContactedReviewers(ctx context.Context, defID, instID string) ([]ContactedReviewer, error)
	// InstanceDecisions lists all decision items of an instance (all pages).
	InstanceDecisions(ctx context.Context, defID, instID string) ([]ReviewDecision, error)
	// ReviewStages lists the stages of a multi-stage instance in order (none for a single-stage one).
	ReviewStages(ctx context.Context, defID, instID string) ([]ReviewStage, error)
	// StageDecisions lists all decision items of one stage (all pages), with StageID set.
	StageDecisions(ctx context.Context, ref ReviewRef) ([]ReviewDecision, error)
	// StopStage ends the stage in progress early; the decisions that move on go to the next stage.
	StopStage(ctx context.Context, ref ReviewRef) error
	// SendReviewReminder asks Entra to remind the reviewers who have not finished.
	SendReviewReminder(ctx context.Context, defID, instID string) error
	// StopReview ends an instance before its end date.
	StopReview(ctx context.Context, defID, instID string) error
	// ApplyReviewDecisions applies the decisions of a completed instance (denied access is removed).
	ApplyReviewDecisions(ctx context.Context, defID, instID string) error
	// CreateReview creates a review definition of an access package's assignments.
	CreateReview(ctx context.Context, in NewReview) (ReviewDefinition, error)
	// ForReviewer returns the reviewer's view acting with their own delegated token.
	ForReviewer(tok TokenSource) Reviewer
}

// Reviewer acts as a signed-in reviewer (delegated token: AccessReview.ReadWrite.All delegated). Each call
// acts on ref's instance, or on ref's stage when ref.StageID is set (multi-stage reviews).
type Reviewer interface {
	// MyStages lists the stages of an instance in which the user reviews items
	// (stages/filterByCurrentUser(on='reviewer')).
	MyStages(ctx context.Context, defID, instID string) ([]ReviewStage, error)
	// MyDecisions lists one page of the decision items the user reviews (filterByCurrentUser(on='reviewer')),
	// with the total count. ErrNotApprover when they review none.
	MyDecisions(ctx context.Context, ref ReviewRef, page PageQuery) ([]ReviewDecision, int, error)
	// Decide records a decision on one item (PATCH). InvalidInputError naming "justification" when required.
	Decide(ctx context.Context, ref ReviewRef, decisionID string, v ReviewVerdict) error
	// DecideItems records several decisions in one Graph JSON batch request (at most 20).
	DecideItems(ctx context.Context, ref ReviewRef, items []ReviewItemVerdict) error
	// DecideAll records one verdict on every item the user reviews and has not decided (batchRecordDecisions).
	DecideAll(ctx context.Context, ref ReviewRef, v ReviewVerdict) error
	// AcceptRecommendations accepts the recommendation on every item not yet reviewed.
	AcceptRecommendations(ctx context.Context, ref ReviewRef) error
}
