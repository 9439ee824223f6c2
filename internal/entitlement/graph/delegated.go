package graph

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

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
