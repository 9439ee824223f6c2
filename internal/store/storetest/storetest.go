// Package storetest is the contract test suite every storage backend (bbolt, PostgreSQL) must pass. A
// backend's test calls Run with a factory that opens a fresh, empty store for each test.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/accessbot/accessbot/internal/store"
)

// Factory opens a fresh, empty backend for one test and arranges its cleanup with t.Cleanup.
type Factory func(t *testing.T) store.Backend

// Run runs the whole contract suite against the backend open returns.
func Run(t *testing.T, open Factory) {
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, Factory)
	}{
		{"RequestCreateGet", testRequestCreateGet},
		{"RequestUpdate", testRequestUpdate},
		{"RequestConcurrentUpdate", testRequestConcurrentUpdate},
		{"RequestList", testRequestList},
		{"RequestDueIndex", testRequestDueIndex},
		{"RequestPrune", testRequestPrune},
		{"UpdateKV", testUpdateKV},
		{"UpdateKVConcurrent", testUpdateKVConcurrent},
		{"KV", testKV},
		{"PruneKV", testPruneKV},
		{"ClaimActivity", testClaimActivity},
		{"ClaimTakeover", testClaimTakeover},
		{"CompleteTurn", testCompleteTurn},
		{"CompleteTurnDialogs", testCompleteTurnDialogs},
		{"CompleteTurnKeepNewerRef", testCompleteTurnKeepNewerRef},
		{"FirstCompletionKeepsDialogs", testFirstCompletionKeepsDialogs},
		{"ReleaseActivity", testReleaseActivity},
		{"ClaimOwnership", testClaimOwnership},
		{"RenewActivity", testRenewActivity},
		{"Lease", testLease},
		{"LeaseExpiry", testLeaseExpiry},
		{"RunExclusive", testRunExclusive},
		{"OutboxLeasedOnce", testOutboxLeasedOnce},
		{"OutboxFail", testOutboxFail},
		{"Conversations", testConversations},
		{"CardsDialogs", testCardsDialogs},
		{"Audit", testAudit},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open) })
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func sampleRequest(id string) store.Request {
	return store.Request{
		ID: id, Kind: store.KindTracked, State: "pendingApproval",
		TenantID: "11111111-1111-1111-1111-111111111111", RequestorID: "aaaaaaaa-0000-0000-0000-000000000001",
		PackageID: "eeeeeeee-0000-0000-0000-000000000001", Body: json.RawMessage(`{"n":0}`),
	}
}

func testRequestCreateGet(t *testing.T, open Factory) {
	s, ctx := open(t), ctxT(t)
	created, err := s.CreateRequest(ctx, sampleRequest("r1"))
	if err != nil {
		t.Fatalf("CreateRequest: %v", err)
	}
	if created.Version != 1 || created.CreatedAt.IsZero() || created.UpdatedAt.IsZero() {
		t.Fatalf("created = %+v, want version 1 and times set", created)
	}
	got, err := s.GetRequest(ctx, "r1")
	if err != nil {
		t.Fatalf("GetRequest: %v", err)
	}
	assertSameRequest(t, got, created)
	if _, err := s.CreateRequest(ctx, sampleRequest("r1")); !errors.Is(err, store.ErrExists) {
		t.Fatalf("second CreateRequest err = %v, want ErrExists", err)
	}
	if _, err := s.GetRequest(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetRequest(missing) err = %v, want ErrNotFound", err)
	}
	for _, tc := range []struct {
		name   string
		mutate func(*store.Request)
	}{
		{"no id", func(r *store.Request) { r.ID = "" }},
		{"bad kind", func(r *store.Request) { r.Kind = "other" }},
		{"no state", func(r *store.Request) { r.State = "" }},
		{"bad body", func(r *store.Request) { r.Body = json.RawMessage(`{`) }},
	} {
		r := sampleRequest("bad-" + tc.name)
		tc.mutate(&r)
		if _, err := s.CreateRequest(ctx, r); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", tc.name, err)
		}
	}
	if err := s.DeleteRequest(ctx, "r1"); err != nil {
		t.Fatalf("DeleteRequest: %v", err)
	}
	if _, err := s.GetRequest(ctx, "r1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after delete err = %v, want ErrNotFound", err)
	}
}

func assertSameRequest(t *testing.T, got, want store.Request) {
	t.Helper()
	gb, wb := got.Body, want.Body
	got.Body, want.Body = nil, nil
	if !got.CreatedAt.Equal(want.CreatedAt) || !got.UpdatedAt.Equal(want.UpdatedAt) || !got.NextCheckAt.Equal(want.NextCheckAt) ||
		!got.ClosedAt.Equal(want.ClosedAt) {
		t.Fatalf("times differ:\n got %+v\nwant %+v", got, want)
	}
	got.CreatedAt, got.UpdatedAt, got.NextCheckAt, got.ClosedAt = want.CreatedAt, want.UpdatedAt, want.NextCheckAt, want.ClosedAt
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("request differs:\n got %+v\nwant %+v", got, want)
	}
	if !jsonEqual(gb, wb) {
		t.Fatalf("body = %s, want %s", gb, wb)
	}
}

func jsonEqual(a, b []byte) bool {
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b)
	}
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return string(xa) == string(ya)
}

func testRequestUpdate(t *testing.T, open Factory) {
	s, ctx := open(t), ctxT(t)
	created, err := s.CreateRequest(ctx, sampleRequest("r1"))
	if err != nil {
		t.Fatalf("CreateRequest: %v", err)
	}
	due, closed := time.Now().Add(time.Hour), time.Now().Add(-time.Minute)
	upd, err := s.UpdateRequest(ctx, "r1", func(r *store.Request) error {
		r.State, r.NextCheckAt, r.ClosedAt, r.Body = "delivered", due, closed, json.RawMessage(`{"n":1}`)
		return nil
	})
	if err != nil {
		t.Fatalf("UpdateRequest: %v", err)
	}
	if upd.Version != 2 || upd.State != "delivered" || !upd.CreatedAt.Equal(created.CreatedAt) ||
		!upd.ClosedAt.Equal(closed.UTC().Truncate(time.Microsecond)) {
		t.Fatalf("updated = %+v", upd)
	}
	got, err := s.GetRequest(ctx, "r1")
	if err != nil {
		t.Fatalf("GetRequest: %v", err)
	}
	assertSameRequest(t, got, upd)
	for _, tc := range []struct {
		name    string
		fn      func(*store.Request) error
		wantErr error
	}{
		{"no change", func(r *store.Request) error { r.State = "x"; return store.ErrNoChange }, nil},
		{"fn error", func(r *store.Request) error { r.State = "x"; return errBoom }, errBoom},
		{"id changed", func(r *store.Request) error { r.ID = "other"; return nil }, store.ErrInvalid},
		{"bad kind", func(r *store.Request) error { r.Kind = ""; return nil }, store.ErrInvalid},
	} {
		res, err := s.UpdateRequest(ctx, "r1", tc.fn)
		if (tc.wantErr == nil && err != nil) || (tc.wantErr != nil && !errors.Is(err, tc.wantErr)) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.wantErr)
		}
		if tc.wantErr == nil && res.Version != 2 {
			t.Errorf("%s: returned version %d, want the unchanged 2", tc.name, res.Version)
		}
		if now, _ := s.GetRequest(ctx, "r1"); now.Version != 2 || now.State != "delivered" {
			t.Errorf("%s: stored record changed to %+v", tc.name, now)
		}
	}
	if _, err := s.UpdateRequest(ctx, "missing", func(*store.Request) error { return nil }); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("update missing: err = %v, want ErrNotFound", err)
	}
}

var errBoom = errors.New("boom")

// testRequestConcurrentUpdate: 8 goroutines increment one counter in the body; no increment may be lost.
func testRequestConcurrentUpdate(t *testing.T, open Factory) {
	s, ctx := open(t), ctxT(t)
	if _, err := s.CreateRequest(ctx, sampleRequest("r1")); err != nil {
		t.Fatalf("CreateRequest: %v", err)
	}
	const workers, each = 8, 20
	runParallel(t, workers, func() error {
		for range each {
			if _, err := s.UpdateRequest(ctx, "r1", func(r *store.Request) error {
				var b struct{ N int }
				if err := json.Unmarshal(r.Body, &b); err != nil {
					return err
				}
				r.Body = json.RawMessage(fmt.Sprintf(`{"n":%d}`, b.N+1))
				return nil
			}); err != nil {
				return err
			}
		}
		return nil
	})
	got, err := s.GetRequest(ctx, "r1")
	if err != nil {
		t.Fatalf("GetRequest: %v", err)
	}
	want := fmt.Sprintf(`{"n":%d}`, workers*each)
	if !jsonEqual(got.Body, []byte(want)) || got.Version != workers*each+1 {
		t.Fatalf("after %d updates: body %s version %d, want %s version %d", workers*each, got.Body, got.Version, want, workers*each+1)
	}
}

func runParallel(t *testing.T, n int, fn func() error) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() { errs <- fn() })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

func testRequestList(t *testing.T, open Factory) {
	s, ctx := open(t), ctxT(t)
	base := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	for i, r := range []store.Request{
		{ID: "a", Kind: store.KindTracked, State: "pendingApproval", RequestorID: "rita", PackageID: "p1", NextCheckAt: base.Add(time.Minute)},
		{ID: "b", Kind: store.KindTracked, State: "delivered", RequestorID: "rita", PackageID: "p2"},
		{ID: "c", Kind: store.KindBrokered, State: "pendingApproval", RequestorID: "gus", PackageID: "p3", NextCheckAt: base.Add(time.Hour)},
		{ID: "d", Kind: store.KindTracked, State: "denied", RequestorID: "megan", PackageID: "p1", NextCheckAt: base},
		{ID: "e", Kind: store.KindBrokered, State: "denied", RequestorID: "gus", PackageID: "p3", ClosedAt: base},
	} {
		r.CreatedAt = base.Add(time.Duration(i) * time.Second)
		if _, err := s.CreateRequest(ctx, r); err != nil {
			t.Fatalf("CreateRequest %s: %v", r.ID, err)
		}
	}
	for _, tc := range []struct {
		name string
		q    store.RequestQuery
		want []string
	}{
		{"all", store.RequestQuery{}, []string{"a", "b", "c", "d", "e"}},
		{"kind", store.RequestQuery{Kind: store.KindBrokered}, []string{"c", "e"}},
		{"open", store.RequestQuery{Open: true}, []string{"a", "b", "c", "d"}},
		{"open of a kind", store.RequestQuery{Kind: store.KindBrokered, Open: true}, []string{"c"}},
		{"states", store.RequestQuery{States: []string{"pendingApproval", "denied"}}, []string{"a", "c", "d", "e"}},
		{"requestor", store.RequestQuery{RequestorID: "rita"}, []string{"a", "b"}},
		{"package", store.RequestQuery{PackageID: "p1"}, []string{"a", "d"}},
		{"due", store.RequestQuery{DueBefore: base.Add(time.Minute)}, []string{"a", "d"}},
		{"limit", store.RequestQuery{Limit: 2}, []string{"a", "b"}},
		{"combined", store.RequestQuery{Kind: store.KindTracked, States: []string{"pendingApproval"}, RequestorID: "rita", PackageID: "p1"}, []string{"a"}},
		{"none", store.RequestQuery{RequestorID: "nobody"}, nil},
	} {
		got, err := s.ListRequests(ctx, tc.q)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var ids []string
		for _, r := range got {
			ids = append(ids, r.ID)
		}
		if !slices.Equal(ids, tc.want) {
			t.Errorf("%s: ids %v, want %v", tc.name, ids, tc.want)
		}
	}
	if _, err := s.ListRequests(ctx, store.RequestQuery{Limit: -1}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("negative limit: err = %v, want ErrInvalid", err)
	}
}
