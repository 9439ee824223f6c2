package lifecycle

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/store"
)

// A record gets its ClosedAt when it closes (tracked: a final state; brokered: the follow-up is done), keeps
// it on later writes, loses it when it opens again, and maintenance's prune then removes only the long-closed.
func TestClosedAtFollowsTheRecord(t *testing.T) { onEachBackend(t, testClosedAtFollowsTheRecord) }

func testClosedAtFollowsTheRecord(t *testing.T, st store.Backend) {
	ctx := context.Background()
	c, err := New(Config{Store: st, Entitlement: &countingPort{}, PollInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	seed(t, c, "req-1")
	closedAt := func(id string) time.Time {
		t.Helper()
		r, err := st.GetRequest(ctx, id)
		if err != nil {
			t.Fatalf("GetRequest %s: %v", id, err)
		}
		return r.ClosedAt
	}
	if at := closedAt("req-1"); !at.IsZero() {
		t.Fatalf("open record has ClosedAt %s", at)
	}
	c.PollDue(ctx) // the port reports it delivered: the record closes
	first := closedAt("req-1")
	if first.IsZero() {
		t.Fatal("closed record has no ClosedAt")
	}
	if _, err := c.update(ctx, "req-1", false, func(tr *Tracked, _ bool) error {
		tr.AddEvent(time.Now(), Say("history.note"))
		return nil
	}); err != nil {
		t.Fatalf("update: %v", err)
	}
	if at := closedAt("req-1"); !at.Equal(first) {
		t.Errorf("a later write moved ClosedAt from %s to %s", first, at)
	}
	c.PollSoon(ctx, "req-1")
	if at := closedAt("req-1"); !at.IsZero() {
		t.Errorf("reopened record keeps ClosedAt %s", at)
	}

	br := &Brokered{ID: BrokeredPrefix + "b1", PackageID: "pkg", State: entitlement.StateDenied,
		Requester: BrokeredRequester{ID: "gus", TenantID: "fabrikam"}, CreatedAt: time.Now()}
	if err := c.SaveBrokered(ctx, br); err != nil {
		t.Fatalf("SaveBrokered: %v", err)
	}
	if at := closedAt(br.ID); !at.IsZero() {
		t.Errorf("brokered record not done has ClosedAt %s", at)
	}
	br.Done = true
	if err := c.SaveBrokered(ctx, br); err != nil {
		t.Fatalf("SaveBrokered: %v", err)
	}
	if at := closedAt(br.ID); at.IsZero() {
		t.Error("done brokered record has no ClosedAt")
	}
	all, err := c.ListBrokered(ctx)
	if err != nil || len(all) != 1 {
		t.Errorf("ListBrokered = %d records, %v; want the done one", len(all), err)
	}
	if open, err := c.OpenBrokered(ctx); err != nil || len(open) != 0 {
		t.Errorf("OpenBrokered = %d records, %v; want none (the only one is done)", len(open), err)
	}
}

// Records closed by an older build (no ClosedAt) are stamped once with their last update; the second run
// reads nothing.
func TestBackfillClosedAt(t *testing.T) { onEachBackend(t, testBackfillClosedAt) }

func testBackfillClosedAt(t *testing.T, st store.Backend) {
	ctx := context.Background()
	old := time.Now().Add(-200 * 24 * time.Hour)
	for _, r := range []struct {
		id, kind string
		body     any
	}{
		{"closed", store.KindTracked, Tracked{State: entitlement.StateDelivered, Closed: true}},
		{"open", store.KindTracked, Tracked{State: entitlement.StatePendingApproval}},
		{BrokeredPrefix + "done", store.KindBrokered, Brokered{State: entitlement.StateDenied, Done: true, Requester: BrokeredRequester{ID: "gus"}}},
		{BrokeredPrefix + "running", store.KindBrokered, Brokered{State: entitlement.StatePendingApproval, Requester: BrokeredRequester{ID: "gus"}}},
	} {
		body, err := json.Marshal(r.body)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.CreateRequest(ctx, store.Request{ID: r.id, Kind: r.kind, State: "x", CreatedAt: old, Body: body}); err != nil {
			t.Fatalf("CreateRequest %s: %v", r.id, err)
		}
	}
	c, err := New(Config{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := c.BackfillClosedAt(ctx); err != nil || n != 2 {
		t.Fatalf("BackfillClosedAt = %d, %v; want 2", n, err)
	}
	for id, wantClosed := range map[string]bool{"closed": true, "open": false, BrokeredPrefix + "done": true, BrokeredPrefix + "running": false} {
		r, err := st.GetRequest(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if r.ClosedAt.IsZero() == wantClosed {
			t.Errorf("%s: ClosedAt %s, want closed=%v", id, r.ClosedAt, wantClosed)
		}
	}
	if n, err := c.BackfillClosedAt(ctx); err != nil || n != 0 {
		t.Errorf("second BackfillClosedAt = %d, %v; want 0", n, err)
	}
	if n, err := st.PruneRequests(ctx, time.Hour); err != nil || n != 0 {
		t.Errorf("PruneRequests(1h) right after the backfill = %d, %v; want 0 (stamped with their last update, now)", n, err)
	}
}
