package graph

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/accessbot/accessbot/internal/entitlement"
	ig "github.com/microsoftgraph/msgraph-sdk-go/identitygovernance"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
)

// ---- assignments and requests (app-only) ----

// assignmentBody builds the "assignment" of a request. The v1.0 metadata lacks accessPackageId,
// assignmentPolicyId and targetId although Graph requires them: they go through additional data.
func assignmentBody(packageID, policyID, targetID string) models.AccessPackageAssignmentable {
	a := models.NewAccessPackageAssignment()
	ad := map[string]any{}
	if packageID != "" {
		ad["accessPackageId"] = packageID
	}
	if policyID != "" {
		ad["assignmentPolicyId"] = policyID
	}
	if targetID != "" {
		ad["targetId"] = targetID
	}
	a.SetAdditionalData(ad)
	return a
}

// scheduleBody writes a schedule. The duration is written as a plain string in additional data: Kiota
// would write P30D as P4W2D.
func scheduleBody(s entitlement.Schedule, now time.Time) models.EntitlementManagementScheduleable {
	sch := models.NewEntitlementManagementSchedule()
	start := s.Start
	if start.IsZero() {
		start = now
	}
	start = start.UTC()
	sch.SetStartDateTime(&start)
	exp := models.NewExpirationPattern()
	switch s.Expiration.Type {
	case entitlement.ExpireAfterDateTime:
		t := models.AFTERDATETIME_EXPIRATIONPATTERNTYPE
		exp.SetTypeEscaped(&t)
		end := s.Expiration.EndDateTime.UTC()
		exp.SetEndDateTime(&end)
	case entitlement.ExpireAfterDuration:
		t := models.AFTERDURATION_EXPIRATIONPATTERNTYPE
		exp.SetTypeEscaped(&t)
		exp.SetAdditionalData(map[string]any{"duration": s.Expiration.Duration})
	case entitlement.ExpireNever:
		t := models.NOEXPIRATION_EXPIRATIONPATTERNTYPE
		exp.SetTypeEscaped(&t)
	default:
		t := models.NOTSPECIFIED_EXPIRATIONPATTERNTYPE
		exp.SetTypeEscaped(&t)
	}
	sch.SetExpiration(exp)
	return sch
}

func answersBody(answers []entitlement.Answer) []models.AccessPackageAnswerable {
	var out []models.AccessPackageAnswerable
	for _, a := range answers {
		ans := models.NewAccessPackageAnswerString()
		v := a.Value
		ans.SetValue(&v)
		dv := a.DisplayValue
		if dv == "" {
			dv = a.Value
		}
		ans.SetDisplayValue(&dv)
		q := models.NewAccessPackageQuestion()
		id := a.QuestionID
		q.SetId(&id)
		ans.SetAnsweredQuestion(q)
		out = append(out, ans)
	}
	return out
}

func validSchedule(s entitlement.Schedule, now time.Time) error {
	switch s.Expiration.Type {
	case "", entitlement.ExpireNotSpecified, entitlement.ExpireNever:
	case entitlement.ExpireAfterDuration:
		if _, err := entitlement.ParseISODuration(s.Expiration.Duration); err != nil {
			return entitlement.Invalid("schedule duration", fmt.Sprintf("must be an ISO-8601 duration like P30D or PT8H: %v", err))
		}
	case entitlement.ExpireAfterDateTime:
		if s.Expiration.EndDateTime.IsZero() {
			return entitlement.Invalid("schedule end", "is required for an end date")
		}
		start := s.Start
		if start.IsZero() {
			start = now
		}
		if !s.Expiration.EndDateTime.After(start) {
			return entitlement.Invalid("schedule end", "must be after the start")
		}
	default:
		return entitlement.Invalid("schedule expiration type", fmt.Sprintf("%q is not one of noExpiration, afterDateTime, afterDuration", s.Expiration.Type))
	}
	return nil
}

func hasSchedule(s entitlement.Schedule) bool {
	return !s.Start.IsZero() || (s.Expiration.Type != "" && s.Expiration.Type != entitlement.ExpireNotSpecified)
}

// AdminAdd assigns a package directly with the application's permission: it bypasses approval. The
// target must not already hold the package.
func (c *Client) AdminAdd(ctx context.Context, in entitlement.AdminAddInput) (entitlement.Request, error) {
	if err := needID("package id", in.PackageID); err != nil {
		return entitlement.Request{}, err
	}
	if err := needID("policy id", in.PolicyID); err != nil {
		return entitlement.Request{}, err
	}
	in.TargetEmail = strings.TrimSpace(in.TargetEmail)
	switch {
	case in.TargetID == "" && in.TargetEmail == "":
		return entitlement.Request{}, entitlement.Invalid("target", "needs an object id, or an email and a connected organization")
	case in.TargetID != "" && in.TargetEmail != "":
		return entitlement.Request{}, entitlement.Invalid("target", "give an object id or an email, not both")
	case in.TargetID != "":
		if err := needID("target id", in.TargetID); err != nil {
			return entitlement.Request{}, err
		}
	default:
		if !isEmail(in.TargetEmail) {
			return entitlement.Request{}, entitlement.Invalid("target email", fmt.Sprintf("%q is not an email address", in.TargetEmail))
		}
		if err := needID("connected organization id", in.ConnectedOrgID); err != nil {
			return entitlement.Request{}, err
		}
	}
	if hasSchedule(in.Schedule) {
		if err := validSchedule(in.Schedule, c.now()); err != nil {
			return entitlement.Request{}, err
		}
	}
	if in.TargetID != "" {
		existing, err := c.Assignments(ctx, entitlement.AssignmentFilter{PackageID: in.PackageID, TargetID: in.TargetID,
			States: entitlement.GrantingAssignmentStates()})
		if err != nil {
			return entitlement.Request{}, fmt.Errorf("check existing assignment: %w", err)
		}
		if len(existing) > 0 {
			return entitlement.Request{}, fmt.Errorf("admin add %s for %s: %w", in.PackageID, in.TargetID, entitlement.ErrAlreadyAssigned)
		}
	}
	body := models.NewAccessPackageAssignmentRequest()
	rt := models.ADMINADD_ACCESSPACKAGEREQUESTTYPE
	body.SetRequestType(&rt)
	asg := assignmentBody(in.PackageID, in.PolicyID, in.TargetID)
	if in.TargetID == "" {
		target := models.NewAccessPackageSubject()
		email := in.TargetEmail
		target.SetEmail(&email)
		if in.TargetName != "" {
			name := in.TargetName
			target.SetDisplayName(&name)
		}
		co := models.NewConnectedOrganization()
		coID := in.ConnectedOrgID
		co.SetId(&coID)
		target.SetConnectedOrganization(co)
		asg.SetTarget(target)
	}
	if hasSchedule(in.Schedule) {
		asg.SetSchedule(scheduleBody(in.Schedule, c.now()))
	}
	body.SetAssignment(asg)
	if in.Justification != "" {
		j := in.Justification
		body.SetJustification(&j)
	}
	if len(in.Answers) > 0 {
		body.SetAnswers(answersBody(in.Answers))
	}
	var out entitlement.Request
	err := c.call(ctx, "admin add access package "+in.PackageID, func(ctx context.Context) error {
		m, err := c.em.AssignmentRequests().Post(ctx, body, nil)
		if err != nil {
			return err
		}
		out = toRequest(m)
		return nil
	})
	if out.PackageID == "" {
		out.PackageID = in.PackageID
	}
	if out.PolicyID == "" {
		out.PolicyID = in.PolicyID
	}
	return out, err
}

// AdminRemove removes an assignment (adminRemove request).
func (c *Client) AdminRemove(ctx context.Context, assignmentID, justification string) (entitlement.Request, error) {
	if err := needID("assignment id", assignmentID); err != nil {
		return entitlement.Request{}, err
	}
	body := models.NewAccessPackageAssignmentRequest()
	rt := models.ADMINREMOVE_ACCESSPACKAGEREQUESTTYPE
	body.SetRequestType(&rt)
	asg := models.NewAccessPackageAssignment()
	id := assignmentID
	asg.SetId(&id)
	body.SetAssignment(asg)
	if justification != "" {
		body.SetJustification(&justification)
	}
	var out entitlement.Request
	err := c.call(ctx, "admin remove assignment "+assignmentID, func(ctx context.Context) error {
		m, err := c.em.AssignmentRequests().Post(ctx, body, nil)
		if err != nil {
			return err
		}
		out = toRequest(m)
		return nil
	})
	return out, err
}

// idClause is one optional "path eq 'id'" condition of a list filter; field names the input in errors.
type idClause struct{ field, path, id string }

// idClauses validates the ids that are set and returns their $filter conditions.
func idClauses(cs ...idClause) ([]string, error) {
	var out []string
	for _, c := range cs {
		if c.id == "" {
			continue
		}
		if err := needID(c.field, c.id); err != nil {
			return nil, err
		}
		out = append(out, fmt.Sprintf("%s eq '%s'", c.path, c.id))
	}
	return out, nil
}

// andFilter joins $filter conditions with "and"; nil (no $filter) when there are none.
func andFilter(clauses []string) *string {
	if len(clauses) == 0 {
		return nil
	}
	filter := strings.Join(clauses, " and ")
	return &filter
}

// firstN returns at most n items of xs; n <= 0 means no limit.
func firstN[T any](xs []T, n int) []T {
	if n > 0 && len(xs) > n {
		return xs[:n]
	}
	return xs
}

var requestExpand = []string{"accessPackage", "requestor", "assignment"}

// Requests lists assignment requests, newest first.
func (c *Client) Requests(ctx context.Context, f entitlement.RequestFilter) ([]entitlement.Request, error) {
	clauses, err := idClauses(
		idClause{"package id", "accessPackage/id", f.PackageID},
		idClause{"requestor id", "requestor/objectId", f.RequestorID})
	if err != nil {
		return nil, err
	}
	if len(f.States) > 0 {
		var or []string
		for _, s := range f.States {
			if !s.Known() {
				// Only Graph's enum values go into $filter: anything else is a caller bug (or an attempt to
				// rewrite the filter with a quote).
				return nil, entitlement.Invalid("request state", fmt.Sprintf("%q is not an assignment request state", s))
			}
			or = append(or, fmt.Sprintf("state eq '%s'", s))
		}
		clauses = append(clauses, "("+strings.Join(or, " or ")+")")
	}
	var out []entitlement.Request
	err = c.call(ctx, "list assignment requests", func(ctx context.Context) error {
		b := c.em.AssignmentRequests()
		qp := &ig.EntitlementManagementAssignmentRequestsRequestBuilderGetQueryParameters{Expand: requestExpand, Top: c.top, Filter: andFilter(clauses)}
		items, err := collectAll[models.AccessPackageAssignmentRequestable](ctx, b, &ig.EntitlementManagementAssignmentRequestsRequestBuilderGetRequestConfiguration{QueryParameters: qp})
		for _, it := range items {
			r := toRequest(it)
			if requestMatches(r, f) { // also guards against a server that ignored $filter
				out = append(out, r)
			}
		}
		return err
	})
	sortRequests(out)
	return firstN(out, f.Max), err
}

func requestMatches(r entitlement.Request, f entitlement.RequestFilter) bool {
	return idMatches(f.PackageID, r.PackageID) && idMatches(f.RequestorID, r.Requestor.ID) &&
		(len(f.States) == 0 || slices.Contains(f.States, r.State))
}

// idMatches reports whether an item's id got passes a filter's id want: no filter, no id read, or the same.
func idMatches(want, got string) bool { return want == "" || got == "" || got == want }

func sortRequests(rs []entitlement.Request) {
	slices.SortStableFunc(rs, func(a, b entitlement.Request) int { return b.CreatedAt.Compare(a.CreatedAt) })
}

// Request returns one assignment request.
func (c *Client) Request(ctx context.Context, requestID string) (entitlement.Request, error) {
	if err := needID("request id", requestID); err != nil {
		return entitlement.Request{}, err
	}
	var out entitlement.Request
	err := c.call(ctx, "get assignment request "+requestID, func(ctx context.Context) error {
		m, err := c.em.AssignmentRequests().ByAccessPackageAssignmentRequestId(requestID).Get(ctx,
			&ig.EntitlementManagementAssignmentRequestsAccessPackageAssignmentRequestItemRequestBuilderGetRequestConfiguration{
				QueryParameters: &ig.EntitlementManagementAssignmentRequestsAccessPackageAssignmentRequestItemRequestBuilderGetQueryParameters{Expand: requestExpand},
			})
		if err != nil {
			return err
		}
		out = toRequest(m)
		return nil
	})
	return out, err
}

var assignmentExpand = []string{"accessPackage", "target", "assignmentPolicy"}

// Assignments lists assignments.
func (c *Client) Assignments(ctx context.Context, f entitlement.AssignmentFilter) ([]entitlement.Assignment, error) {
	clauses, err := idClauses(
		idClause{"package id", "accessPackage/id", f.PackageID},
		idClause{"target id", "target/objectId", f.TargetID})
	if err != nil {
		return nil, err
	}
	var out []entitlement.Assignment
	err = c.call(ctx, "list assignments", func(ctx context.Context) error {
		b := c.em.Assignments()
		qp := &ig.EntitlementManagementAssignmentsRequestBuilderGetQueryParameters{Expand: assignmentExpand, Top: c.top, Filter: andFilter(clauses)}
		items, err := collectAll[models.AccessPackageAssignmentable](ctx, b, &ig.EntitlementManagementAssignmentsRequestBuilderGetRequestConfiguration{QueryParameters: qp})
		for _, it := range items {
			a := toAssignment(it)
			if assignmentMatches(a, f) {
				out = append(out, a)
			}
		}
		return err
	})
	return firstN(out, f.Max), err
}

func assignmentMatches(a entitlement.Assignment, f entitlement.AssignmentFilter) bool {
	if !idMatches(f.PackageID, a.PackageID) || !idMatches(f.TargetID, a.Target.ID) {
		return false
	}
	if len(f.States) > 0 && !slices.Contains(f.States, a.State) {
		return false
	}
	if !f.ExpiringBefore.IsZero() {
		end := a.EndsAt()
		if end.IsZero() || !end.Before(f.ExpiringBefore) {
			return false
		}
	}
	return true
}
