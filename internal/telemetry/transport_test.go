package telemetry

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// statusRT answers every request with the status its path ends in ("/busy": 429), without a network.
type statusRT struct{}

func (statusRT) RoundTrip(req *http.Request) (*http.Response, error) {
	code := http.StatusOK
	if strings.HasSuffix(req.URL.Path, "/busy") {
		code = http.StatusTooManyRequests
	}
	return &http.Response{StatusCode: code, Header: http.Header{}, Body: io.NopCloser(strings.NewReader("{}")), Request: req}, nil
}

// TestTransportRemembersOperations: requests counted through the remembered operations land on the same
// series as before, per operation and status, and the memory stays bounded (one opMetrics per operation).
func TestTransportRemembersOperations(t *testing.T) {
	m := NewMetrics()
	rt := m.Transport("graph", statusRT{})
	do := func(path string) {
		t.Helper()
		req, _ := http.NewRequest("GET", "http://graph.example"+path, nil)
		resp, err := rt.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	for range 3 {
		do("/v1.0/identityGovernance/entitlementManagement/assignmentRequests/filterByCurrentUser(on='target')")
	}
	do("/v1.0/groups/aaaaaaaa-0000-0000-0000-000000000001/busy")
	do("/v1.0/groups/aaaaaaaa-0000-0000-0000-000000000001/busy")
	users := maxOps + 10
	for i := range users {
		do(fmt.Sprintf("/v1.0/users/%08x-0000-0000-0000-000000000001", i))
	}
	for _, tc := range []struct {
		op, status string
		want       float64
	}{
		{"GET /v1.0/identityGovernance/entitlementManagement/assignmentRequests/filterByCurrentUser(on='…')", "200", 3},
		{"GET /v1.0/groups/{id}/busy", "429", 2},
		{"GET /v1.0/users/{id}", "200", float64(users)},
	} {
		if got := testutil.ToFloat64(m.outCalls.WithLabelValues("graph", tc.op, tc.status)); got != tc.want {
			t.Errorf("%s %s: %v calls, want %v", tc.op, tc.status, got, tc.want)
		}
	}
	if got := testutil.CollectAndCount(m.outDuration); got != 3 {
		t.Errorf("%d duration series, want 3", got)
	}
	if tr := rt.(*transport); tr.ops.Len() > maxOps || len(tr.byOp) != 3 {
		t.Errorf("%d paths and %d operations remembered, want at most %d and 3", tr.ops.Len(), len(tr.byOp), maxOps)
	}
}

// BenchmarkTransport is what the transport adds to one Graph request (no network).
func BenchmarkTransport(b *testing.B) {
	rt := NewMetrics().Transport("graph", statusRT{})
	req, _ := http.NewRequest("GET", "http://graph.example/v1.0/identityGovernance/entitlementManagement/accessPackages/filterByCurrentUser(on='allowedRequestor')", nil)
	b.ReportAllocs()
	for b.Loop() {
		resp, err := rt.RoundTrip(req)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
	}
}
