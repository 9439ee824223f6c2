package storetest

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/accessbot/accessbot/internal/store"
)

// testRequestDueIndex: a DueBefore listing follows NextCheckAt as updates move it, clear it (closing) and
// delete the request.
func testRequestDueIndex(t *testing.T, open Factory) {
	s, ctx := open(t), ctxT(t)
	base := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	for i, id := range []string{"a", "b", "c", "d"} {
		r := sampleRequest(id)
		r.CreatedAt, r.NextCheckAt = base.Add(time.Duration(i)*time.Second), base.Add(time.Duration(i)*time.Minute)
		if _, err := s.CreateRequest(ctx, r); err != nil {
			t.Fatalf("CreateRequest %s: %v", id, err)
		}
	}
	set := func(id string, fn func(r *store.Request)) {
		t.Helper()
		if _, err := s.UpdateRequest(ctx, id, func(r *store.Request) error { fn(r); return nil }); err != nil {
			t.Fatalf("UpdateRequest %s: %v", id, err)
		}
	}
	for _, step := range []struct {
		name string
		do   func()
		want []string // due at base+3m
	}{
		{"as created", func() {}, []string{"a", "b", "c", "d"}},
		{"a moved later", func() { set("a", func(r *store.Request) { r.NextCheckAt = base.Add(time.Hour) }) }, []string{"b", "c", "d"}},
		{"b closed", func() {
			set("b", func(r *store.Request) { r.NextCheckAt, r.ClosedAt, r.State = time.Time{}, base, "denied" })
		}, []string{"c", "d"}},
		{"a moved back", func() { set("a", func(r *store.Request) { r.NextCheckAt = base }) }, []string{"a", "c", "d"}},
		{"c deleted", func() {
			if err := s.DeleteRequest(ctx, "c"); err != nil {
				t.Fatalf("DeleteRequest: %v", err)
			}
		}, []string{"a", "d"}},
		{"body only", func() { set("d", func(r *store.Request) { r.State = "pendingApproval" }) }, []string{"a", "d"}},
	} {
		step.do()
		got, err := s.ListRequests(ctx, store.RequestQuery{DueBefore: base.Add(3 * time.Minute)})
		if err != nil {
			t.Fatalf("%s: ListRequests: %v", step.name, err)
		}
		if ids := requestIDs(got); !slices.Equal(ids, step.want) {
			t.Errorf("%s: due %v, want %v", step.name, ids, step.want)
		}
	}
}

// testRequestPrune: PruneRequests deletes exactly the requests closed longer ago than the retention, with
// their card references; reopening a request takes it out of the pruning, closing one puts it in.
func testRequestPrune(t *testing.T, open Factory) {
	s, ctx := open(t), ctxT(t)
	now := time.Now()
	const keep = 90 * 24 * time.Hour
	for _, tc := range []struct {
		id     string
		closed time.Time
	}{
		{"open", time.Time{}},
		{"old", now.Add(-keep - time.Hour)},
		{"older", now.Add(-2 * keep)},
		{"recent", now.Add(-keep + time.Hour)},
		{"reopened", now.Add(-2 * keep)},
		{"closed-late", time.Time{}},
	} {
		r := sampleRequest(tc.id)
		r.ClosedAt = tc.closed
		if _, err := s.CreateRequest(ctx, r); err != nil {
			t.Fatalf("CreateRequest %s: %v", tc.id, err)
		}
		if err := s.PutCard(ctx, store.CardRef{Key: tc.id, Kind: "status", TenantID: "t", AADObjectID: "u",
			ConversationID: "a:1", ServiceURL: "https://smba.example/", ActivityID: "m-" + tc.id}); err != nil {
			t.Fatalf("PutCard %s: %v", tc.id, err)
		}
	}
	for id, closed := range map[string]time.Time{"reopened": {}, "closed-late": now.Add(-keep - time.Minute)} {
		if _, err := s.UpdateRequest(ctx, id, func(r *store.Request) error { r.ClosedAt = closed; return nil }); err != nil {
			t.Fatalf("UpdateRequest %s: %v", id, err)
		}
	}
	if n, err := s.PruneRequests(ctx, 0); !errors.Is(err, store.ErrInvalid) || n != 0 {
		t.Errorf("PruneRequests(0) = %d, %v; want ErrInvalid", n, err)
	}
	if n, err := s.PruneRequests(ctx, keep); err != nil || n != 3 {
		t.Fatalf("PruneRequests = %d, %v; want 3 (old, older, closed-late)", n, err)
	}
	all, err := s.ListRequests(ctx, store.RequestQuery{})
	if err != nil {
		t.Fatalf("ListRequests: %v", err)
	}
	if ids := requestIDs(all); !slices.Equal(ids, []string{"open", "recent", "reopened"}) {
		t.Errorf("left %v, want [open recent reopened]", ids)
	}
	for _, tc := range []struct {
		id    string
		cards int
	}{{"old", 0}, {"closed-late", 0}, {"recent", 1}, {"open", 1}} {
		if refs, err := s.Cards(ctx, tc.id); err != nil || len(refs) != tc.cards {
			t.Errorf("Cards(%s) = %d, %v; want %d", tc.id, len(refs), err, tc.cards)
		}
	}
	if _, err := s.GetRequest(ctx, "old"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetRequest(pruned) err = %v, want ErrNotFound", err)
	}
	if n, err := s.PruneRequests(ctx, keep); err != nil || n != 0 {
		t.Errorf("second PruneRequests = %d, %v; want 0", n, err)
	}
}

func requestIDs(rs []store.Request) []string {
	var ids []string
	for _, r := range rs {
		ids = append(ids, r.ID)
	}
	return ids
}

// testPruneKV: PruneKV deletes exactly the records of its bucket its predicate calls stale (the predicate sees
// each key and the stored JSON), reports how many, leaves other buckets alone and refuses bad arguments.
func testPruneKV(t *testing.T, open Factory) {
	s, ctx := open(t), ctxT(t)
	base := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	type rec struct {
		At time.Time `json:"at"`
	}
	keys := []string{"review/i1/adele", "review/i2/adele", "expiring/a1/1700000000", "ended/a2"}
	for i, k := range keys {
		for _, b := range []string{"reviews.sent", "welcomed"} {
			if err := s.Put(ctx, b, k, rec{At: base.Add(time.Duration(i) * 24 * time.Hour)}); err != nil {
				t.Fatalf("Put %s/%s: %v", b, k, err)
			}
		}
	}
	olderThan := func(cutoff time.Time) func(string, []byte) bool {
		return func(_ string, raw []byte) bool {
			var r rec
			return json.Unmarshal(raw, &r) == nil && r.At.Before(cutoff)
		}
	}
	for _, tc := range []struct {
		name    string
		bucket  string
		stale   func(key string, raw []byte) bool
		want    int
		wantErr error
		left    []string // reviews.sent's keys after the step
	}{
		{"bad bucket", "Bad Bucket", olderThan(base), 0, store.ErrInvalid, keys},
		{"no predicate", "reviews.sent", nil, 0, store.ErrInvalid, keys},
		{"unused bucket", "empty", func(string, []byte) bool { t.Error("stale called for an unused bucket"); return true }, 0, nil, keys},
		{"nothing stale", "reviews.sent", olderThan(base), 0, nil, keys},
		{"by value", "reviews.sent", olderThan(base.Add(36 * time.Hour)), 2, nil, keys[2:]},
		{"by key", "reviews.sent", func(k string, _ []byte) bool { return strings.HasPrefix(k, "ended/") }, 1, nil, keys[2:3]},
		{"again", "reviews.sent", func(k string, _ []byte) bool { return strings.HasPrefix(k, "ended/") }, 0, nil, keys[2:3]},
	} {
		n, err := s.PruneKV(ctx, tc.bucket, tc.stale)
		if n != tc.want || (tc.wantErr == nil && err != nil) || (tc.wantErr != nil && !errors.Is(err, tc.wantErr)) {
			t.Errorf("%s: PruneKV = %d, %v; want %d, %v", tc.name, n, err, tc.want, tc.wantErr)
		}
		for _, b := range []struct {
			name string
			want []string
		}{{"reviews.sent", tc.left}, {"welcomed", keys}} {
			var left []string
			if err := s.List(ctx, b.name, "", func(k string, _ []byte) error { left = append(left, k); return nil }); err != nil {
				t.Fatalf("%s: List %s: %v", tc.name, b.name, err)
			}
			if want := slices.Sorted(slices.Values(b.want)); !slices.Equal(left, want) {
				t.Errorf("%s: %s holds %v, want %v", tc.name, b.name, left, want)
			}
		}
	}
}
