package graph

import (
	"context"
	"net/http"
	"testing"

	"github.com/accessbot/accessbot/internal/entitlement"
)

// TestWarmCallBudget counts the Graph requests of each user action once caches are warm: none may
// cost more than 3.
func TestWarmCallBudget(t *testing.T) {
	f := newFakeGraph(t)
	f.serveFixture("GET", em+"/accessPackages/filterByCurrentUser(on='allowedRequestor')", "accesspackage-filterbycurrentuser.json")
	f.serveFixture("POST", em+"/accessPackages/"+pkgID+"/getApplicablePolicyRequirements", "accesspackage-getapplicablepolicyrequirements.json")
	f.serveFixture("GET", myReqPath, "accesspackageassignmentrequest-filterbycurrentuser.json")
	f.serveFixture("GET", em+"/assignmentRequests/filterByCurrentUser(on='approver')", "accesspackageassignmentrequest-filterbycurrentuser.json")
	f.serveFixture("GET", myAsgPath, "accesspackageassignment-filterbycurrentuser.json")
	f.serveFixture("GET", em+"/accessPackageAssignmentApprovals/ap-1/stages", "approval-list-stages.json")
	f.serveFixture("GET", em+"/assignmentPolicies/87e1c7f7-c7f7-87e1-f7c7-e187f7c7e187", "accesspackageassignmentpolicy-get.json")
	f.serveFixture("GET", em+"/catalogs", "entitlementmanagement-list-catalogs.json")
	f.serveFixture("GET", em+"/accessPackages", "accesspackage-filterbycurrentuser.json")
	f.on("POST", em+"/assignmentRequests/req-1/cancel", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	c := newTestClient(t, f)
	u := c.ForUser(userToken("tid", "oid"))
	ctx := context.Background()
	actions := []struct {
		name string
		run  func() error
	}{
		{"browse requestable packages", func() error {
			_, err := u.RequestablePackages(ctx, entitlement.PackageQuery{Search: "sales"})
			return err
		}},
		{"open the request form", func() error { _, err := u.Requirements(ctx, pkgID); return err }},
		{"my requests", func() error { _, err := u.MyRequests(ctx); return err }},
		{"my access", func() error { _, err := u.MyAssignments(ctx); return err }},
		{"cancel", func() error { return u.CancelRequest(ctx, "req-1") }},
		{"pending approvals", func() error { _, err := u.PendingApprovals(ctx); return err }},
		{"approval card refresh", func() error { _, err := u.Approval(ctx, "ap-1"); return err }},
		{"policy (admin view)", func() error { _, err := c.Policy(ctx, "87e1c7f7-c7f7-87e1-f7c7-e187f7c7e187"); return err }},
		{"catalogs", func() error { _, err := c.Catalogs(ctx); return err }},
		{"all packages", func() error { _, err := c.Packages(ctx); return err }},
	}
	// Warm up once, then measure.
	for _, a := range actions {
		if err := a.run(); err != nil {
			t.Fatalf("%s (cold): %v", a.name, err)
		}
	}
	for _, a := range actions {
		before := f.count()
		if err := a.run(); err != nil {
			t.Fatalf("%s: %v", a.name, err)
		}
		if n := f.count() - before; n > 3 {
			t.Errorf("%s cost %d Graph calls when warm, want ≤ 3", a.name, n)
		}
	}
	// Cached reads cost nothing when warm.
	for _, name := range []string{"open the request form", "policy (admin view)", "catalogs", "all packages"} {
		for _, a := range actions {
			if a.name != name {
				continue
			}
			before := f.count()
			_ = a.run()
			if n := f.count() - before; n != 0 {
				t.Errorf("%s is cached but cost %d calls", name, n)
			}
		}
	}
}

// TestUnknownEnumsAndDocQuirks: enum strings this SDK does not know parse to nil in the SDK; the client
// reads the capitalised and legacy ones of the doc examples, and keeps a value nobody knows verbatim
// (never silently "unknown"), as a request that is still followed.
func TestUnknownEnumsAndDocQuirks(t *testing.T) {
	f := newFakeGraph(t)
	// Example 4 of the create-request page: "UserAdd", "requestState"/"requestStatus", no "state".
	f.on("GET", myReqPath, jsonReply(200, []byte(`{"value":[
		{"id":"9c1e258d-7723-43b1-ae21-e6eeeb324fe5","requestType":"UserAdd","requestState":"Submitted","requestStatus":"Accepted","status":"Accepted",
		 "createdDateTime":null,"completedDate":null,"justification":"Need access to New Hire access package","isValidationOnly":false,
		 "schedule":{"startDateTime":null,"recurrence":null,"expiration":{"endDateTime":null,"duration":null,"type":"notSpecified"}},"answers":[],"verifiedCredentialsData":[]},
		{"id":"r2","requestType":"someFutureType","state":"someFutureState","status":"Whatever"}
	]}`)))
	c := newTestClient(t, f)
	rs, err := c.ForUser(userToken("t", "o")).MyRequests(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 {
		t.Fatalf("requests = %+v", rs)
	}
	byID := map[string]entitlement.Request{}
	for _, r := range rs {
		byID[r.ID] = r
	}
	r1 := byID["9c1e258d-7723-43b1-ae21-e6eeeb324fe5"]
	if r1.Type != entitlement.RequestUserAdd || r1.State != entitlement.StateSubmitted || r1.Justification != "Need access to New Hire access package" {
		t.Errorf("doc example 4 = %+v", r1)
	}
	if r2 := byID["r2"]; r2.Type != "someFutureType" || r2.State != "someFutureState" || !r2.State.Open() || r2.State.Known() {
		t.Errorf("unknown enums = %+v", r2)
	}
}

// TestIncompatibilitiesCached: the separation-of-duties check reads a package's incompatibilities whenever a
// request form opens; warm they cost no Graph call (they were 2 per form), and a change of them through
// the client is read afresh. They include the packages that marked this one incompatible, so the check
// needs no read per held package.
func TestIncompatibilitiesCached(t *testing.T) {
	f := newFakeGraph(t)
	incPkgs, incGroups := em+"/accessPackages/"+pkgID+"/incompatibleAccessPackages", em+"/accessPackages/"+pkgID+"/incompatibleGroups"
	groups := `{"value":[]}`
	f.on("GET", incPkgs, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"value":[{"id":"pkg-2","displayName":"Sales admin"}]}`))
	})
	f.on("GET", incGroups, func(w http.ResponseWriter, _ *http.Request) {
		f.mu.Lock()
		body := groups
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(body))
	})
	f.on("GET", em+"/accessPackages/"+pkgID+"/accessPackagesIncompatibleWith", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"value":[{"id":"pkg-3","displayName":"Sales auditor"}]}`))
	})
	f.on("POST", incGroups+"/$ref", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	c := newTestClient(t, f)
	ctx := context.Background()
	read := func(wantCalls, wantGroups int) {
		t.Helper()
		before := f.count()
		inc, err := c.Incompatibilities(ctx, pkgID)
		if err != nil {
			t.Fatalf("Incompatibilities: %v", err)
		}
		if n := f.count() - before; n != wantCalls {
			t.Errorf("Incompatibilities cost %d Graph calls, want %d", n, wantCalls)
		}
		if len(inc.Packages) != 1 || inc.Packages[0].ID != "pkg-2" || len(inc.NamedBy) != 1 || inc.NamedBy[0].ID != "pkg-3" || len(inc.Groups) != wantGroups {
			t.Errorf("Incompatibilities = %+v, want pkg-2, named by pkg-3 and %d group(s)", inc, wantGroups)
		}
	}
	read(3, 0) // cold: incompatible packages, the packages naming it, incompatible groups
	read(0, 0) // warm
	if err := c.SetIncompatible(ctx, pkgID, entitlement.IncompatibleRef{Kind: entitlement.IncompatibleGroup, ID: "grp-1"}, true); err != nil {
		t.Fatalf("SetIncompatible: %v", err)
	}
	f.mu.Lock()
	groups = `{"value":[{"id":"grp-1","displayName":"Auditors"}]}`
	f.mu.Unlock()
	read(3, 1) // the write forgot the cached read
	read(0, 1)
}
