package graph

import (
	"context"
	"net/http"
	"sync"
	"testing"

	"github.com/accessbot/accessbot/internal/entitlement"
)

// TestListFiltersOnTheWire: the admin list calls put the caller's filter into $filter with Graph's property
// paths (and nothing when the filter is empty).
func TestListFiltersOnTheWire(t *testing.T) {
	ctx := context.Background()
	f := newFakeGraph(t)
	var mu sync.Mutex
	got := map[string]string{}
	record := func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got[r.URL.Path] = r.URL.Query().Get("$filter")
		mu.Unlock()
		jsonReply(http.StatusOK, []byte(`{"value":[]}`))(w, r)
	}
	f.on("GET", em+"/assignmentRequests", record)
	f.on("GET", em+"/assignments", record)
	c := newTestClient(t, f)

	tests := []struct {
		name string
		call func() error
		path string
		want string
	}{
		{"requests: package, requestor and states", func() error {
			_, err := c.Requests(ctx, entitlement.RequestFilter{PackageID: "p1", RequestorID: "u1",
				States: []entitlement.RequestState{entitlement.StatePendingApproval, entitlement.StateSubmitted}})
			return err
		}, "/v1.0" + em + "/assignmentRequests",
			"accessPackage/id eq 'p1' and requestor/objectId eq 'u1' and (state eq 'pendingApproval' or state eq 'submitted')"},
		{"requests: no filter", func() error { _, err := c.Requests(ctx, entitlement.RequestFilter{}); return err },
			"/v1.0" + em + "/assignmentRequests", ""},
		{"assignments: package and target", func() error {
			_, err := c.Assignments(ctx, entitlement.AssignmentFilter{PackageID: "p1", TargetID: "u2"})
			return err
		}, "/v1.0" + em + "/assignments", "accessPackage/id eq 'p1' and target/objectId eq 'u2'"},
		{"assignments: target only", func() error {
			_, err := c.Assignments(ctx, entitlement.AssignmentFilter{TargetID: "u2"})
			return err
		}, "/v1.0" + em + "/assignments", "target/objectId eq 'u2'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			if got[tt.path] != tt.want {
				t.Errorf("$filter = %q, want %q", got[tt.path], tt.want)
			}
		})
	}
}
