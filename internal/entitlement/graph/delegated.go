package graph

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/accessbot/accessbot/internal/entitlement"
	ig "github.com/microsoftgraph/msgraph-sdk-go/identitygovernance"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
)

// ForUser returns the delegated view acting as the user whose Graph token tok yields. Every call made
// through it carries that user's token; none falls back to the app token.
func (c *Client) ForUser(tok entitlement.TokenSource) entitlement.Delegated {
	return &userClient{c: c, ts: tok}
}

type userClient struct {
	c  *Client
	ts entitlement.TokenSource
}

var _ entitlement.Delegated = (*userClient)(nil)

func (u *userClient) call(ctx context.Context, op string, fn func(ctx context.Context) error) error {
	if u.ts == nil {
		return fmt.Errorf("%s: %w", op, entitlement.ErrSignInRequired)
	}
	return u.c.call(withUser(ctx, u.ts), op, fn)
}

// userKey identifies the acting user for per-user caches: tenant id + object id read (unverified) from
// the token, which came from our own token source. Empty when unknown: then nothing is cached.
func (u *userClient) userKey(ctx context.Context) string {
	if u.ts == nil {
		return ""
	}
	tok, err := u.ts.Token(ctx)
	if err != nil {
		return ""
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return ""
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var claims struct {
		TID string `json:"tid"`
		OID string `json:"oid"`
	}
	if json.Unmarshal(raw, &claims) != nil || claims.OID == "" {
		return ""
	}
	return claims.TID + "/" + claims.OID
}

// RequestablePackages lists the packages the user may request, following every page; Search filters
// by name, description or catalog name.
func (u *userClient) RequestablePackages(ctx context.Context, q entitlement.PackageQuery) ([]entitlement.Package, error) {
	var out []entitlement.Package
	err := u.call(ctx, "list requestable access packages", func(ctx context.Context) error {
		on := "allowedRequestor"
		b := u.c.em.AccessPackages().FilterByCurrentUserWithOn(&on)
		cfg := &ig.EntitlementManagementAccessPackagesFilterByCurrentUserWithOnRequestBuilderGetRequestConfiguration{
			QueryParameters: &ig.EntitlementManagementAccessPackagesFilterByCurrentUserWithOnRequestBuilderGetQueryParameters{Expand: []string{"catalog"}, Top: u.c.top},
		}
		items, err := collect[models.AccessPackageable](ctx,
			func(ctx context.Context) (ig.EntitlementManagementAccessPackagesFilterByCurrentUserWithOnGetResponseable, error) {
				return b.GetAsFilterByCurrentUserWithOnGetResponse(ctx, cfg)
			},
			func(ctx context.Context, link string) (ig.EntitlementManagementAccessPackagesFilterByCurrentUserWithOnGetResponseable, error) {
				return b.WithUrl(link).GetAsFilterByCurrentUserWithOnGetResponse(ctx, nil)
			})
		term := strings.ToLower(strings.TrimSpace(q.Search))
		for _, it := range items {
			p := toPackage(it)
			if term != "" && !strings.Contains(strings.ToLower(p.Name+"\n"+p.Description+"\n"+p.CatalogName), term) {
				continue
			}
			out = append(out, p)
			if q.Max > 0 && len(out) >= q.Max {
				break
			}
		}
		return err
	})
	return out, err
}

// Requirements returns what the user must supply per policy; ErrNotEligible when no policy covers them.
// Cached per user and package for the cache TTL.
func (u *userClient) Requirements(ctx context.Context, packageID string) ([]entitlement.Requirements, error) {
	if err := needID("package id", packageID); err != nil {
		return nil, err
	}
	load := func() ([]entitlement.Requirements, error) {
		var out []entitlement.Requirements
		err := u.call(ctx, "get request requirements of access package "+packageID, func(ctx context.Context) error {
			r, err := u.c.em.AccessPackages().ByAccessPackageId(packageID).GetApplicablePolicyRequirements().PostAsGetApplicablePolicyRequirementsPostResponse(ctx, nil)
			if err != nil {
				return err
			}
			if r == nil {
				return nil
			}
			for _, m := range r.GetValue() {
				if m == nil {
					continue
				}
				req := toRequirements(m)
				if req.PolicyID == "" {
					// Nothing could be filed against it: never offer (or auto-select) it.
					u.c.log.Warn("graph requirements without a policyId; dropped", "package_id", packageID, "policy_name", req.PolicyName)
					continue
				}
				out = append(out, req)
			}
			return nil
		})
		if err != nil {
			if errors.Is(err, entitlement.ErrForbidden) {
				return nil, fmt.Errorf("requirements of access package %s: %w (%w)", packageID, entitlement.ErrNotEligible, err)
			}
			return nil, err
		}
		return out, nil
	}
	var reqs []entitlement.Requirements
	var err error
	if key := u.userKey(ctx); key != "" {
		reqs, err = cached(u.c, "requirements:"+key+":"+packageID, load)
	} else {
		reqs, err = load()
	}
	if err != nil {
		return nil, err
	}
	if len(reqs) == 0 {
		return nil, fmt.Errorf("requirements of access package %s: %w", packageID, entitlement.ErrNotEligible)
	}
	return slices.Clone(reqs), nil
}

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

// holds reports whether the user holds a delivered (or delivering) assignment of the package.
func (u *userClient) holds(ctx context.Context, packageID string) (bool, error) {
	as, err := u.MyAssignments(ctx)
	if err != nil {
		return false, err
	}
	for _, a := range as {
		if a.PackageID == packageID && (a.State == entitlement.AssignmentDelivered || a.State == entitlement.AssignmentDelivering || a.State == entitlement.AssignmentPartiallyDelivered) {
			return true, nil
		}
	}
	return false, nil
}

// MyRequests lists the user's requests, newest first.
func (u *userClient) MyRequests(ctx context.Context) ([]entitlement.Request, error) {
	return u.requestsOn(ctx, "target", "list my requests")
}

// PendingApprovals lists the requests waiting for the user's decision.
func (u *userClient) PendingApprovals(ctx context.Context) ([]entitlement.Request, error) {
	return u.requestsOn(ctx, "approver", "list requests waiting for my approval")
}

func (u *userClient) requestsOn(ctx context.Context, on, op string) ([]entitlement.Request, error) {
	var out []entitlement.Request
	err := u.call(ctx, op, func(ctx context.Context) error {
		b := u.c.em.AssignmentRequests().FilterByCurrentUserWithOn(&on)
		cfg := &ig.EntitlementManagementAssignmentRequestsFilterByCurrentUserWithOnRequestBuilderGetRequestConfiguration{
			QueryParameters: &ig.EntitlementManagementAssignmentRequestsFilterByCurrentUserWithOnRequestBuilderGetQueryParameters{Expand: []string{"accessPackage", "requestor"}, Top: u.c.top},
		}
		items, err := collect[models.AccessPackageAssignmentRequestable](ctx,
			func(ctx context.Context) (ig.EntitlementManagementAssignmentRequestsFilterByCurrentUserWithOnGetResponseable, error) {
				return b.GetAsFilterByCurrentUserWithOnGetResponse(ctx, cfg)
			},
			func(ctx context.Context, link string) (ig.EntitlementManagementAssignmentRequestsFilterByCurrentUserWithOnGetResponseable, error) {
				return b.WithUrl(link).GetAsFilterByCurrentUserWithOnGetResponse(ctx, nil)
			})
		for _, it := range items {
			out = append(out, toRequest(it))
		}
		return err
	})
	sortRequests(out)
	return out, err
}

// MyAssignments lists the user's assignments.
func (u *userClient) MyAssignments(ctx context.Context) ([]entitlement.Assignment, error) {
	var out []entitlement.Assignment
	err := u.call(ctx, "list my assignments", func(ctx context.Context) error {
		on := "target"
		b := u.c.em.Assignments().FilterByCurrentUserWithOn(&on)
		cfg := &ig.EntitlementManagementAssignmentsFilterByCurrentUserWithOnRequestBuilderGetRequestConfiguration{
			QueryParameters: &ig.EntitlementManagementAssignmentsFilterByCurrentUserWithOnRequestBuilderGetQueryParameters{Expand: []string{"accessPackage", "assignmentPolicy"}, Top: u.c.top},
		}
		items, err := collect[models.AccessPackageAssignmentable](ctx,
			func(ctx context.Context) (ig.EntitlementManagementAssignmentsFilterByCurrentUserWithOnGetResponseable, error) {
				return b.GetAsFilterByCurrentUserWithOnGetResponse(ctx, cfg)
			},
			func(ctx context.Context, link string) (ig.EntitlementManagementAssignmentsFilterByCurrentUserWithOnGetResponseable, error) {
				return b.WithUrl(link).GetAsFilterByCurrentUserWithOnGetResponse(ctx, nil)
			})
		for _, it := range items {
			out = append(out, toAssignment(it))
		}
		return err
	})
	return out, err
}

// CancelRequest cancels one of the user's open requests.
func (u *userClient) CancelRequest(ctx context.Context, requestID string) error {
	if err := needID("request id", requestID); err != nil {
		return err
	}
	err := u.call(ctx, "cancel request "+requestID, func(ctx context.Context) error {
		return u.c.em.AssignmentRequests().ByAccessPackageAssignmentRequestId(requestID).Cancel().Post(ctx, nil)
	})
	var se *entitlement.ServiceError
	if errors.As(err, &se) && (se.Status == http.StatusBadRequest || se.Status == http.StatusConflict) {
		se.Kind = entitlement.ErrConflict
		if se.Message == "" {
			se.Message = "the request can no longer be cancelled"
		}
	}
	return err
}

// Approval returns the approval (id = request id) with its stages as the user sees them.
func (u *userClient) Approval(ctx context.Context, approvalID string) (entitlement.Approval, error) {
	if err := needID("approval id", approvalID); err != nil {
		return entitlement.Approval{}, err
	}
	out := entitlement.Approval{ID: approvalID}
	err := u.call(ctx, "get approval "+approvalID, func(ctx context.Context) error {
		b := u.c.em.AccessPackageAssignmentApprovals().ByApprovalId(approvalID).Stages()
		items, err := collectAll[models.ApprovalStageable](ctx, b, nil)
		for _, it := range items {
			if it != nil {
				out.Stages = append(out.Stages, toStage(it))
			}
		}
		return err
	})
	var se *entitlement.ServiceError
	if errors.As(err, &se) && se.Status == http.StatusForbidden {
		se.Kind = entitlement.ErrNotApprover
	}
	return out, err
}

// DecideStage records the user's decision on a stage (GET stages, PATCH; on 409 GET again to say who
// decided).
func (u *userClient) DecideStage(ctx context.Context, approvalID, stageID string, d entitlement.Decision) error {
	if err := needID("approval id", approvalID); err != nil {
		return err
	}
	if err := needID("stage id", stageID); err != nil {
		return err
	}
	if d.Result != entitlement.ReviewApprove && d.Result != entitlement.ReviewDeny {
		return entitlement.Invalid("decision", fmt.Sprintf("must be Approve or Deny, not %q", d.Result))
	}
	if len(d.Justification) > 4000 {
		return entitlement.Invalid("justification", "must be at most 4000 characters")
	}
	decided := func(ap entitlement.Approval) (entitlement.ApprovalStage, error) {
		for _, s := range ap.Stages {
			if s.ID != stageID {
				continue
			}
			if (s.ReviewResult != "" && s.ReviewResult != entitlement.ReviewNotReviewed) || s.Status == entitlement.StageCompleted || s.Status == entitlement.StageExpired {
				return s, &entitlement.AlreadyDecidedError{By: firstNonEmpty(s.ReviewedBy.Name, s.ReviewedBy.ID), At: s.ReviewedAt, Result: s.ReviewResult}
			}
			return s, nil
		}
		return entitlement.ApprovalStage{}, fmt.Errorf("stage %s of approval %s: %w", stageID, approvalID, entitlement.ErrNotFound)
	}
	ap, err := u.Approval(ctx, approvalID)
	if err != nil {
		return err
	}
	st, err := decided(ap)
	if err != nil {
		return err
	}
	if !st.AssignedToMe {
		return fmt.Errorf("decide stage %s of approval %s: %w", stageID, approvalID, entitlement.ErrNotApprover)
	}
	body := models.NewApprovalStage()
	res := string(d.Result)
	body.SetReviewResult(&res)
	j := strings.TrimSpace(d.Justification)
	body.SetJustification(&j)
	err = u.call(ctx, fmt.Sprintf("decide stage %s of approval %s", stageID, approvalID), func(ctx context.Context) error {
		_, err := u.c.em.AccessPackageAssignmentApprovals().ByApprovalId(approvalID).Stages().ByApprovalStageId(stageID).Patch(ctx, body, nil)
		return err
	})
	var se *entitlement.ServiceError
	if !errors.As(err, &se) {
		return err
	}
	switch se.Status {
	case http.StatusConflict:
		ap, gerr := u.Approval(ctx, approvalID)
		if gerr == nil {
			if _, derr := decided(ap); derr != nil {
				var ad *entitlement.AlreadyDecidedError
				if errors.As(derr, &ad) {
					return ad
				}
			}
		}
		return &entitlement.AlreadyDecidedError{}
	case http.StatusForbidden:
		se.Kind = entitlement.ErrNotApprover
	case http.StatusBadRequest:
		if j == "" {
			return fmt.Errorf("%w (%v)", entitlement.Invalid("justification", "is required by this policy"), se)
		}
	}
	return err
}
