package entitlement

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Reviewer queries (accessReviewReviewerScope.query) and the rules of a multi-stage review's stageSettings, as
// the Graph v1.0 pages give them: at most three stages, sequential only (stage N>1 dependsOn stage N-1), each
// with a positive duration whose sum fits in one recurrence, and decisionsThatWillMoveToNextStage a subset of
// Approve, Deny, Recommendation and NotReviewed (none = all move on).

// MaxReviewStages is the most stages a review may have.
const MaxReviewStages = 3

// ReviewerManager is the reviewer query of "each person's manager" (queryRoot decisions).
const ReviewerManager = "./manager"

// Reviewer query kinds (ParseReviewerQuery).
const (
	ReviewerKindManager = "manager"
	ReviewerKindUser    = "user"
	ReviewerKindGroup   = "group"
)

// ReviewerUserQuery is the reviewer query of one user.
func ReviewerUserQuery(userID string) string { return "/users/" + userID }

// ReviewerGroupQuery is the reviewer query of a group's members (transitive, as Graph's examples use).
func ReviewerGroupQuery(groupID string) string { return "/groups/" + groupID + "/transitiveMembers" }

// ParseReviewerQuery says what a reviewer query names: manager, user (with the id) or group (with the id);
// ok is false for a query the bot does not know (e.g. owners of an app).
func ParseReviewerQuery(q string) (kind, id string, ok bool) {
	q = strings.TrimSpace(q)
	if q == ReviewerManager {
		return ReviewerKindManager, "", true
	}
	if rest, found := strings.CutPrefix(q, "/users/"); found && rest != "" && !strings.ContainsAny(rest, "/?") {
		return ReviewerKindUser, rest, true
	}
	if rest, found := strings.CutPrefix(q, "/groups/"); found {
		gid, tail, _ := strings.Cut(rest, "/")
		if gid != "" && (tail == "transitiveMembers" || tail == "members") {
			return ReviewerKindGroup, gid, true
		}
	}
	return "", "", false
}

// The values of decisionsThatWillMoveToNextStage.
const (
	MoveOnApprove        = "Approve"
	MoveOnDeny           = "Deny"
	MoveOnRecommendation = "Recommendation"
	MoveOnNotReviewed    = "NotReviewed"
)

// reviewMoveOn are the values of decisionsThatWillMoveToNextStage.
var reviewMoveOn = []string{MoveOnApprove, MoveOnDeny, MoveOnRecommendation, MoveOnNotReviewed}

// RecurrenceDays is the shortest length of one recurrence ("monthly", "quarterly"; "" = once): the stages'
// durations together must fit in it.
func RecurrenceDays(recurrence string) int {
	switch recurrence {
	case "monthly":
		return 28
	case "quarterly":
		return 89
	}
	return 180
}

// NormalizeReviewStages checks stages by Graph's rules and fills in the stage ids ("1", "2", "3") and the
// sequential dependsOn. Each problem is an InvalidInputError naming the field (stages[2].durationInDays, …).
func NormalizeReviewStages(stages []ReviewStageSetting, recurrence string) ([]ReviewStageSetting, error) {
	if len(stages) < 2 || len(stages) > MaxReviewStages {
		return nil, Invalid("stages", fmt.Sprintf("a multi-stage review has 2 or %d stages, not %d", MaxReviewStages, len(stages)))
	}
	out := make([]ReviewStageSetting, len(stages))
	total := 0
	for i, st := range stages {
		field := "stages[" + strconv.Itoa(i+1) + "]"
		if st.StageID == "" {
			st.StageID = strconv.Itoa(i + 1)
		}
		if slices.ContainsFunc(out[:i], func(p ReviewStageSetting) bool { return p.StageID == st.StageID }) {
			return nil, Invalid(field+".stageId", fmt.Sprintf("%q is used by an earlier stage; stage ids must be unique", st.StageID))
		}
		if err := checkDependsOn(field, st.DependsOn, out[:i]); err != nil {
			return nil, err
		}
		if i > 0 {
			st.DependsOn = []string{out[i-1].StageID}
		}
		if st.DurationDays < 1 {
			return nil, Invalid(field+".durationInDays", fmt.Sprintf("must be at least 1 day, not %d", st.DurationDays))
		}
		total += st.DurationDays
		if err := checkMoveOn(field, st.MoveOn, i == len(stages)-1); err != nil {
			return nil, err
		}
		for _, q := range slices.Concat(st.ReviewerQueries, st.FallbackQueries) {
			if _, _, ok := ParseReviewerQuery(q); !ok {
				return nil, Invalid(field+".reviewers", fmt.Sprintf("%q is not ./manager, /users/{id} or /groups/{id}/transitiveMembers", q))
			}
		}
		out[i] = st
	}
	if limit := RecurrenceDays(recurrence); total > limit {
		return nil, Invalid("stages.durationInDays", fmt.Sprintf("the stages last %d days together; one %s review allows at most %d", total, orOnce(recurrence), limit))
	}
	return out, nil
}

func orOnce(recurrence string) string {
	if recurrence == "" {
		return "one-time"
	}
	return recurrence
}

// checkDependsOn accepts an empty dependsOn (filled in) or exactly the stage before.
func checkDependsOn(field string, deps []string, before []ReviewStageSetting) error {
	if len(deps) == 0 {
		return nil
	}
	if len(before) == 0 {
		return Invalid(field+".dependsOn", "must be empty: the first stage depends on none")
	}
	if prev := before[len(before)-1].StageID; len(deps) != 1 || deps[0] != prev {
		return Invalid(field+".dependsOn", fmt.Sprintf("must be [%q]: Graph supports sequential stages only", prev))
	}
	return nil
}

// checkMoveOn accepts a subset of reviewMoveOn without repeats; the last stage has no next stage.
func checkMoveOn(field string, moveOn []string, last bool) error {
	if len(moveOn) == 0 {
		return nil
	}
	if last {
		return Invalid(field+".decisionsThatWillMoveToNextStage", "must be empty: nothing moves on from the last stage")
	}
	for i, m := range moveOn {
		if !slices.Contains(reviewMoveOn, m) {
			return Invalid(field+".decisionsThatWillMoveToNextStage", fmt.Sprintf("%q is not one of %s", m, strings.Join(reviewMoveOn, ", ")))
		}
		if slices.Contains(moveOn[:i], m) {
			return Invalid(field+".decisionsThatWillMoveToNextStage", fmt.Sprintf("%q is listed twice", m))
		}
	}
	return nil
}
