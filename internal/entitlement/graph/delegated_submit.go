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
	"github.com/microsoftgraph/msgraph-sdk-go/models"
)

// Submitting a request as the signed-in user: checked against the policy, the user's open request and
// assignment first; a POST lost in transit is not repeated blindly.

// validateRequest checks a new request against the policy requirements; the error names the field.
func validateRequest(in entitlement.NewRequest, r entitlement.Requirements, now time.Time) error {
	if r.RequestorJustificationRequired && strings.TrimSpace(in.Justification) == "" {
		return entitlement.Invalid("justification", "is required by this policy")
	}
	if len(in.Justification) > 4000 {
		return entitlement.Invalid("justification", "must be at most 4000 characters")
	}
	byID := map[string]entitlement.Question{}
	for _, q := range r.Questions {
		byID[q.ID] = q
	}
	answered := map[string]bool{}
	for _, a := range in.Answers {
		q, ok := byID[a.QuestionID]
		if !ok {
			return entitlement.Invalid("answers", fmt.Sprintf("answer to unknown question %q", a.QuestionID))
		}
		if answered[a.QuestionID] {
			return entitlement.Invalid(fmt.Sprintf("answers[%s]", q.Text), "is answered twice")
		}
		val := strings.TrimSpace(a.Value)
		if val == "" {
			continue
		}
		answered[a.QuestionID] = true
		switch q.Kind {
		case entitlement.QuestionChoice:
			ok := false
			var allowed []string
			for _, ch := range q.Choices {
				allowed = append(allowed, ch.Value)
				ok = ok || ch.Value == val
			}
			if !ok {
				return entitlement.Invalid(fmt.Sprintf("answers[%s]", q.Text), fmt.Sprintf("must be one of %s", strings.Join(allowed, ", ")))
			}
		default:
			if q.Regex != "" {
				re, err := regexp.Compile(q.Regex)
				if err == nil && !re.MatchString(val) {
					return entitlement.Invalid(fmt.Sprintf("answers[%s]", q.Text), fmt.Sprintf("must match the pattern %s", q.Regex))
				}
			}
		}
	}
	for _, q := range r.Questions {
		if q.Required && !answered[q.ID] {
			return entitlement.Invalid(fmt.Sprintf("answers[%s]", q.Text), "is required")
		}
	}
	if hasSchedule(in.Schedule) {
		if !r.CustomScheduleAllowed {
			return entitlement.Invalid("schedule", "is not allowed by this policy (it sets the dates itself)")
		}
		if err := validSchedule(in.Schedule, now); err != nil {
			return err
		}
	}
	return nil
}

// SubmitRequest files a userAdd (or userUpdate to extend) as the signed-in user.
//
// Calls when warm (requirements cached by a previous Requirements): open-request check, assignment
// check, POST. A POST that fails in transit (no answer, 500/502/503/504) is not repeated blindly: the
// user's requests are read again and a matching open request created meanwhile is returned as success;
// only if there is none is the POST sent once more.
func (u *userClient) SubmitRequest(ctx context.Context, in entitlement.NewRequest) (entitlement.Request, error) {
	if err := needID("package id", in.PackageID); err != nil {
		return entitlement.Request{}, err
	}
	if in.Extend {
		if err := needID("assignment id", in.AssignmentID); err != nil {
			return entitlement.Request{}, err
		}
	}
	reqs, err := u.Requirements(ctx, in.PackageID)
	if err != nil {
		return entitlement.Request{}, err
	}
	var req *entitlement.Requirements
	if in.PolicyID == "" && len(reqs) == 1 {
		in.PolicyID = reqs[0].PolicyID
	}
	for i := range reqs {
		if reqs[i].PolicyID == in.PolicyID {
			req = &reqs[i]
		}
	}
	if req == nil {
		if in.PolicyID == "" {
			var names []string
			for _, r := range reqs {
				names = append(names, fmt.Sprintf("%s (%s)", r.PolicyName, r.PolicyID))
			}
			return entitlement.Request{}, entitlement.Invalid("policy", "must be chosen: one of "+strings.Join(names, ", "))
		}
		return entitlement.Request{}, fmt.Errorf("request access package %s through policy %s: %w", in.PackageID, in.PolicyID, entitlement.ErrNotEligible)
	}
	if err := validateRequest(in, *req, u.c.now()); err != nil {
		return entitlement.Request{}, err
	}

	// Up-front state checks (Graph's own error codes for these are not published).
	open, err := u.openRequest(ctx, in.PackageID)
	if err != nil {
		return entitlement.Request{}, fmt.Errorf("check open requests: %w", err)
	}
	if open != nil {
		return *open, fmt.Errorf("request access package %s: %w (request %s is %s)", in.PackageID, entitlement.ErrAlreadyRequested, open.ID, open.State)
	}
	if !in.Extend {
		held, err := u.holds(ctx, in.PackageID)
		if err != nil {
			return entitlement.Request{}, fmt.Errorf("check existing assignments: %w", err)
		}
		if held {
			return entitlement.Request{}, fmt.Errorf("request access package %s: %w", in.PackageID, entitlement.ErrAlreadyAssigned)
		}
	}

	body := models.NewAccessPackageAssignmentRequest()
	rt := models.USERADD_ACCESSPACKAGEREQUESTTYPE
	asg := assignmentBody(in.PackageID, in.PolicyID, "")
	if in.Extend {
		rt = models.USERUPDATE_ACCESSPACKAGEREQUESTTYPE
		id := in.AssignmentID
		asg.SetId(&id)
	}
	body.SetRequestType(&rt)
	if hasSchedule(in.Schedule) {
		asg.SetSchedule(scheduleBody(in.Schedule, u.c.now()))
	}
	body.SetAssignment(asg)
	if j := strings.TrimSpace(in.Justification); j != "" {
		body.SetJustification(&j)
	}
	if len(in.Answers) > 0 {
		body.SetAnswers(answersBody(in.Answers))
	}

	op := "request access package " + in.PackageID
	kinds := statusKinds{http.StatusForbidden: entitlement.ErrNotEligible, http.StatusConflict: entitlement.ErrAlreadyRequested}
	post := func() (entitlement.Request, int, error) {
		var out entitlement.Request
		status := 0
		err := u.call(ctx, op, func(ctx context.Context) error {
			m, err := u.c.em.AssignmentRequests().Post(ctx, body, nil)
			status = statusOf(ctx)
			if err != nil {
				return err
			}
			out = toRequest(m)
			return nil
		})
		if err != nil {
			var se *entitlement.ServiceError
			if errors.As(err, &se) {
				status = se.Status
				if k := kinds[se.Status]; k != nil {
					se.Kind = k
				}
			}
		}
		return out, status, err
	}
	out, status, err := post()
	if err != nil && inTransit(err, status) {
		// Never re-sent at once: wait the back-off (≥ 1s) first, then check whether the first attempt took
		// effect after all, and only then send it once more.
		d, ok := u.c.retry.next(1, 0, 0)
		if !ok {
			return entitlement.Request{}, err
		}
		u.c.log.Warn("request POST failed in transit; checking for an open request before retrying", "package", in.PackageID, "status", status, "wait", d)
		if serr := sleep(ctx, d); serr != nil {
			return entitlement.Request{}, err
		}
		open, cerr := u.openRequest(ctx, in.PackageID)
		if cerr != nil {
			return entitlement.Request{}, fmt.Errorf("%s: the request may or may not have been filed (could not check: %v): %w: %w", op, cerr, entitlement.ErrOutcomeUnknown, err)
		}
		if open != nil {
			return *open, nil
		}
		out, _, err = post()
	}
	if err != nil {
		return entitlement.Request{}, err
	}
	if out.PackageID == "" {
		out.PackageID = in.PackageID
	}
	if out.PolicyID == "" {
		out.PolicyID = in.PolicyID
	}
	return out, nil
}

// inTransit reports whether a POST may have been processed without us seeing the answer.
func inTransit(err error, status int) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	switch status {
	case 0, http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		var te *tokenError
		return !errors.As(err, &te) && !errors.Is(err, entitlement.ErrSignInRequired) && !errors.Is(err, entitlement.ErrConsentRequired)
	}
	return false
}

// openRequest returns the user's open request for the package, if any.
func (u *userClient) openRequest(ctx context.Context, packageID string) (*entitlement.Request, error) {
	rs, err := u.MyRequests(ctx)
	if err != nil {
		return nil, err
	}
	for i := range rs {
		if rs[i].PackageID == packageID && rs[i].State.Open() {
			return &rs[i], nil
		}
	}
	return nil, nil
}

// holds reports whether the user holds an assignment of the package that grants its access (GrantsAccess).
func (u *userClient) holds(ctx context.Context, packageID string) (bool, error) {
	as, err := u.MyAssignments(ctx)
	if err != nil {
		return false, err
	}
	for _, a := range as {
		if a.PackageID == packageID && a.State.GrantsAccess() {
			return true, nil
		}
	}
	return false, nil
}
