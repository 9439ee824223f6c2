package tenantsim

import (
	"net/http"
	"strings"
	"testing"
)

// TestFilterByCurrentUserErrorOrder: every filterByCurrentUser function checks the request's shape before who
// asks, as Graph does: a method other than GET is 405, an unknown on is 400 (naming what is expected), an
// application token is 403, and a signed-in user gets the listing.
func TestFilterByCurrentUserErrorOrder(t *testing.T) {
	e := newEnv(t)
	e.sim.SeedReviews()
	app, aaron := e.appToken(), e.userToken(UserAaron)
	inst := prodInst + "/" + firstInstance(t, e, app, ReviewProductionID)
	fn := func(on string) string { return "/filterByCurrentUser(on='" + on + "')" }
	cases := []struct {
		name, path, on, expected string
	}{
		{"packages", em + "accessPackages", "allowedRequestor", "expected 'allowedRequestor'"},
		{"requests", em + "assignmentRequests", "createdBy", "expected 'target', 'createdBy' or 'approver'"},
		{"assignments", em + "assignments", "target", "expected 'target'"},
		{"approvals", em + "accessPackageAssignmentApprovals", "approver", "expected 'approver'"},
		{"review definitions", "/v1.0/identityGovernance/accessReviews/definitions", "reviewer", "expected 'reviewer'"},
		{"review instances", prodInst, "reviewer", "expected 'reviewer'"},
		{"review decisions", inst + "/decisions", "reviewer", "expected 'reviewer'"},
		{"review stages", inst + "/stages", "reviewer", "expected 'reviewer'"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wantGraphError(t, e.do(http.MethodPost, tc.path+fn("nope"), app, nil), http.StatusMethodNotAllowed, "Request_BadRequest")
			r := e.do(http.MethodGet, tc.path+fn("nope"), app, nil)
			wantGraphError(t, r, http.StatusBadRequest, "BadRequest")
			if !strings.Contains(r.raw, tc.expected) {
				t.Errorf("400 says %s, want %q", r.raw, tc.expected)
			}
			wantGraphError(t, e.do(http.MethodGet, tc.path+fn(tc.on), app, nil), http.StatusForbidden, "AccessDenied")
			wantStatus(t, e.do(http.MethodGet, tc.path+fn(strings.ToUpper(tc.on)), aaron, nil), http.StatusOK)
		})
	}
}
