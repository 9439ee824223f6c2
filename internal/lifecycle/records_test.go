package lifecycle

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/store"
	"github.com/accessbot/accessbot/internal/store/postgres"
	"github.com/accessbot/accessbot/internal/store/postgres/pgtest"
)

// Tests of the records' compare-and-swap writes (records.go, decisions.go, legacy.go) on a real bbolt store.
// Each "replica" is its own Core on the one store: nothing in-process is shared between them.

// backends are the store implementations every test here runs on (PostgreSQL is skipped with one line
// without ACCESSBOT_TEST_DATABASE_URL).
var backends = []struct {
	name string
	open func(t *testing.T) store.Backend
}{
	{"bbolt", func(t *testing.T) store.Backend {
		st, err := store.Open(filepath.Join(t.TempDir(), "state.db"), store.Options{})
		if err != nil {
			t.Fatalf("open store: %v", err)
		}
		t.Cleanup(func() { _ = st.Close() })
		return st
	}},
	{"postgres", func(t *testing.T) store.Backend {
		st, err := postgres.Open(context.Background(), pgtest.URL(t), postgres.Options{})
		if err != nil {
			t.Fatalf("open postgres store: %v", err)
		}
		t.Cleanup(func() { _ = st.Close() })
		return st
	}},
}

// onEachBackend runs test once per backend with a fresh store.
func onEachBackend(t *testing.T, test func(t *testing.T, st store.Backend)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { test(t, b.open(t)) })
	}
}

func newCores(t *testing.T, st Store, n int) []*Core {
	t.Helper()
	var out []*Core
	for i := range n {
		c, err := New(Config{Store: st, Holder: fmt.Sprintf("replica-%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}

func seed(t *testing.T, c *Core, id string) {
	t.Helper()
	err := c.Put(context.Background(), &Tracked{ID: id, State: entitlement.StatePendingApproval, RequestorID: "rita",
		PackageID: "pkg", StageCount: 8, NextPoll: time.Now()})
	if err != nil {
		t.Fatalf("seed record: %v", err)
	}
}

// Eight writers on two replicas record eight different stage decisions on one record at once: none is lost.
func TestConcurrentDecisionsNoLostUpdate(t *testing.T) { onEachBackend(t, testConcurrentDecisions) }

func testConcurrentDecisions(t *testing.T, st store.Backend) {
	cores := newCores(t, st, 2)
	seed(t, cores[0], "req-1")
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := Decision{Stage: i + 1, ApproverID: fmt.Sprintf("approver-%d", i), ApproverName: fmt.Sprintf("Approver %d", i),
				Result: entitlement.ReviewApprove, At: time.Now()}
			cores[i%2].RecordDecision(context.Background(), "req-1", rec, true)
		}()
	}
	wg.Wait()
	tr, err := cores[0].Get(context.Background(), "req-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Decisions) != 8 {
		t.Fatalf("decisions = %d, want 8 (lost updates): %+v", len(tr.Decisions), tr.Decisions)
	}
	r, err := st.GetRequest(context.Background(), "req-1")
	if err != nil || r.Version != 9 {
		t.Fatalf("store version = %d (%v), want 9 (one create, eight updates)", r.Version, err)
	}
}

// The same approver's decision arrives twice at once (a double click reaching Graph twice), on two replicas:
// exactly one call is told it recorded the decision first; the record holds one decision.
func TestSameDecisionTwiceIsFirstOnce(t *testing.T) {
	tests := []struct {
		name    string
		writers int
	}{{"two clicks", 2}, {"eight clicks", 8}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			onEachBackend(t, func(t *testing.T, st store.Backend) {
				cores := newCores(t, st, 2)
				seed(t, cores[0], "req-1")
				firsts := make(chan bool, tc.writers)
				var wg sync.WaitGroup
				for i := range tc.writers {
					wg.Add(1)
					go func() {
						defer wg.Done()
						rec := Decision{Stage: 1, ApproverID: "aaron", ApproverName: "Aaron", Result: entitlement.ReviewApprove, At: time.Now()}
						_, first := cores[i%2].RecordDecision(context.Background(), "req-1", rec, true)
						firsts <- first
					}()
				}
				wg.Wait()
				close(firsts)
				n := 0
				for f := range firsts {
					if f {
						n++
					}
				}
				tr, err := cores[1].Get(context.Background(), "req-1")
				if err != nil || n != 1 || len(tr.Decisions) != 1 {
					t.Fatalf("first = %d times, decisions = %+v (%v); want one of each", n, tr, err)
				}
			})
		})
	}
}

// A decision learned from a 409 before the approver's own click is recorded is replaced by it, and that click
// is still the first (it is the one audited).
func TestOwnDecisionReplacesLearnedOne(t *testing.T) { onEachBackend(t, testOwnDecisionReplaces) }

func testOwnDecisionReplaces(t *testing.T, st store.Backend) {
	c := newCores(t, st, 1)[0]
	seed(t, c, "req-1")
	ctx := context.Background()
	if _, first := c.RecordDecision(ctx, "req-1", Decision{Stage: 1, ApproverName: "Aaron", Result: entitlement.ReviewApprove}, false); !first {
		t.Fatal("learned decision not recorded")
	}
	tr, first := c.RecordDecision(ctx, "req-1", Decision{Stage: 1, ApproverID: "aaron", ApproverName: "Aaron", Result: entitlement.ReviewApprove, Justification: "ok"}, true)
	if !first || len(tr.Decisions) != 1 || !tr.Decisions[0].ViaBot || tr.Decisions[0].Justification != "ok" {
		t.Fatalf("first = %v, decisions = %+v", first, tr.Decisions)
	}
	if _, first := c.RecordDecision(ctx, "req-1", Decision{Stage: 1, ApproverID: "aaron", Result: entitlement.ReviewApprove}, true); first {
		t.Fatal("the same approver's second click was first again")
	}
}

// Records an older build kept in the generic "tracked" bucket move into the requests table once.
func TestImportLegacy(t *testing.T) { onEachBackend(t, testImportLegacy) }

func testImportLegacy(t *testing.T, st store.Backend) {
	c := newCores(t, st, 1)[0]
	ctx := context.Background()
	for _, id := range []string{"old-1", "old-2"} {
		if err := st.Put(ctx, legacyBucket, id, Tracked{ID: id, State: entitlement.StatePendingApproval, RequestorID: "rita", NextPoll: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	seed(t, c, "old-2") // already moved: the requests table wins
	n, err := c.ImportLegacy(ctx)
	if err != nil || n != 1 {
		t.Fatalf("moved %d (%v), want 1", n, err)
	}
	if n, err := c.ImportLegacy(ctx); err != nil || n != 0 {
		t.Fatalf("second import moved %d (%v), want 0", n, err)
	}
	tr, err := c.Get(ctx, "old-1")
	if err != nil || tr.RequestorID != "rita" {
		t.Fatalf("imported record = %+v (%v)", tr, err)
	}
	r, err := st.GetRequest(ctx, "old-1")
	if err != nil || r.Kind != store.KindTracked || r.State != string(entitlement.StatePendingApproval) || r.NextCheckAt.IsZero() {
		t.Fatalf("indexed fields = %+v (%v)", r, err)
	}
	left := 0
	_ = st.List(ctx, legacyBucket, "", func(string, []byte) error { left++; return nil })
	if left != 0 {
		t.Fatalf("%d legacy records left", left)
	}
}

// A brokered record is read as its closed Mirror by Get, is never written by the tracked-record updates, and
// its legacy copy replaces the mirror an older build stored in its place.
func TestBrokeredRecords(t *testing.T) { onEachBackend(t, testBrokeredRecords) }

func testBrokeredRecords(t *testing.T, st store.Backend) {
	c := newCores(t, st, 1)[0]
	ctx := context.Background()
	br := &Brokered{ID: BrokeredPrefix + "1", PackageID: "pkg", State: entitlement.StatePendingApproval,
		Requester: BrokeredRequester{TenantID: "fab", ID: "gus", Email: "gus@fabrikam.example"}, StageCount: 1,
		Stages: []BrokeredStage{{Index: 1, Approvers: []Person{{ID: "patti"}}}}}
	if err := c.SaveBrokered(ctx, br); err != nil {
		t.Fatal(err)
	}
	tr, err := c.Get(ctx, br.ID)
	if err != nil || !tr.Closed || tr.Mode != ModeBrokered || tr.Stage != 1 || !tr.IsApprover("patti") {
		t.Fatalf("mirror = %+v (%v)", tr, err)
	}
	c.PollSoon(ctx, br.ID) // a tracked-record write: refused, the record stays as it was
	if got, err := c.GetBrokered(ctx, br.ID); err != nil || got.Requester.Email != "gus@fabrikam.example" {
		t.Fatalf("brokered record after a tracked write = %+v (%v)", got, err)
	}
	if all, err := c.ListBrokered(ctx); err != nil || len(all) != 1 {
		t.Fatalf("list = %d (%v)", len(all), err)
	}
	if due := c.PollDue(ctx); !due.IsZero() {
		t.Fatalf("the tracker would poll a brokered request at %v", due)
	}

	// An older build: the record in the "brokered" bucket, its mirror in "tracked" and in the table.
	old := &Brokered{ID: BrokeredPrefix + "2", PackageID: "pkg", State: entitlement.StateDelivered,
		Requester: BrokeredRequester{TenantID: "fab", ID: "frank", Email: "frank@fabrikam.example"}}
	if err := st.Put(ctx, legacyBrokeredBucket, old.ID, old); err != nil {
		t.Fatal(err)
	}
	if err := st.Put(ctx, legacyBucket, old.ID, old.Mirror()); err != nil {
		t.Fatal(err)
	}
	if err := c.Put(ctx, old.Mirror()); err != nil {
		t.Fatal(err)
	}
	if n, err := c.ImportLegacy(ctx); err != nil || n != 1 {
		t.Fatalf("moved %d (%v), want 1", n, err)
	}
	got, err := c.GetBrokered(ctx, old.ID)
	if err != nil || got.Requester.ID != "frank" {
		t.Fatalf("imported brokered record = %+v (%v)", got, err)
	}
}

// TestExpiredRecords: a request denied because nobody decided in time reads as Expired: a tracked record
// from Graph's status (this build sets the flag when it observes it; a record of an older build kept only
// the status), a brokered record from its stop reason (an older build's English reason too), never from
// another reason.
func TestExpiredRecords(t *testing.T) {
	tracked := func(body string) store.Request {
		return store.Request{ID: "req-1", Kind: store.KindTracked, Body: []byte(body)}
	}
	brokered := func(stop string) store.Request {
		return store.Request{ID: BrokeredPrefix + "1", Kind: store.KindBrokered,
			Body: []byte(`{"requester":{"tenantId":"fab","id":"gus"},"state":"denied",` + stop + `}`)}
	}
	cases := []struct {
		name string
		r    store.Request
		want bool
	}{
		{"this build's record", tracked(`{"state":"denied","status":"Expired","expired":true}`), true},
		{"an older build's record: Expired", tracked(`{"state":"denied","status":"Expired"}`), true},
		{"an older build's record: TimedOut", tracked(`{"state":"denied","status":"TimedOut"}`), true},
		{"denied by an approver", tracked(`{"state":"denied","status":"Denied"}`), false},
		{"delivered", tracked(`{"state":"delivered","status":"Delivered"}`), false},
		{"brokered: expired", brokered(`"reasonMsg":{"msg":"reason.expired","data":{"Duration":"168h0m0s"}}`), true},
		{"brokered: no next approver", brokered(`"reasonMsg":{"msg":"reason.noNextApprover"}`), false},
		{"brokered of an older build: expired", brokered(`"reason":"The request expired: nobody decided within 7 days."`), true},
		{"brokered of an older build: another reason", brokered(`"reason":"Nobody can approve the next stage."`), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tr, err := decodeRecord(tc.r)
			if err != nil || tr.Expired != tc.want {
				t.Fatalf("Expired = %v (%v), want %v", tr != nil && tr.Expired, err, tc.want)
			}
			if tr.Mode == ModeBrokered && tr.Status != "" {
				t.Errorf("a brokered mirror's Status = %q: Graph's status, none for a brokered request", tr.Status)
			}
		})
	}
}

// The tracker sets Expired when it observes a request Graph denied because nobody decided in time.
func TestObserveExpired(t *testing.T) {
	c := newCores(t, backends[0].open(t), 1)[0]
	ctx := context.Background()
	for _, status := range []string{"Expired", "Denied"} {
		req := entitlement.Request{ID: "req-" + status, State: entitlement.StateDenied, Status: status, PolicyID: "pol",
			PackageID: "pkg", Requestor: entitlement.Subject{ID: "rita", Name: "Rita"}, CreatedAt: time.Now()}
		if _, err := c.Observe(ctx, req); err != nil {
			t.Fatal(err)
		}
		r, err := c.cfg.Store.GetRequest(ctx, req.ID)
		if err != nil {
			t.Fatal(err)
		}
		if want := status == "Expired"; !strings.Contains(string(r.Body), `"expired":true`) == want {
			t.Errorf("%s: stored %s, want expired %v", status, r.Body, want)
		}
	}
}
