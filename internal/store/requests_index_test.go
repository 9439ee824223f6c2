package store

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// TestMigrateV4Requests: requests written by schema 4 (no due or closed index) are indexed by migration 5, so
// a due listing finds them without a scan and PruneRequests finds the long-closed ones.
func TestMigrateV4Requests(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "accessbot.db")
	old, err := Open(path, Options{Migrations: Migrations()[:4]})
	if err != nil {
		t.Fatalf("open at schema 4: %v", err)
	}
	now := time.Now()
	for _, r := range []Request{
		{ID: "due", Kind: KindTracked, State: "pendingApproval", NextCheckAt: now.Add(-time.Minute)},
		{ID: "later", Kind: KindTracked, State: "pendingApproval", NextCheckAt: now.Add(time.Hour)},
		{ID: "closed-long-ago", Kind: KindBrokered, State: "denied", ClosedAt: now.Add(-100 * 24 * time.Hour)},
		{ID: "closed-yesterday", Kind: KindTracked, State: "delivered", ClosedAt: now.Add(-24 * time.Hour)},
	} {
		if _, err := old.CreateRequest(ctx, r); err != nil {
			t.Fatalf("CreateRequest %s at schema 4: %v", r.ID, err)
		}
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("open at schema %d: %v", len(Migrations()), err)
	}
	defer func() { _ = s.Close() }()
	due, err := s.ListRequests(ctx, RequestQuery{DueBefore: now})
	if err != nil || len(due) != 1 || due[0].ID != "due" {
		t.Fatalf("due after migration = %+v, %v; want [due]", due, err)
	}
	if n, err := s.PruneRequests(ctx, DefaultKeepClosed); err != nil || n != 1 {
		t.Fatalf("PruneRequests = %d, %v; want 1", n, err)
	}
	all, err := s.ListRequests(ctx, RequestQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range all {
		ids = append(ids, r.ID)
	}
	slices.Sort(ids)
	if !slices.Equal(ids, []string{"closed-yesterday", "due", "later"}) {
		t.Errorf("left %v, want [closed-yesterday due later]", ids)
	}
}

// TestDueListingReadsNoClosedRecord: the tracker's listing (DueBefore) reads only the requests the due index
// names: a closed request, even an unreadable one, is never decoded, while a full listing does read it.
func TestDueListingReadsNoClosedRecord(t *testing.T) {
	ctx := context.Background()
	s, err := Open(filepath.Join(t.TempDir(), "accessbot.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	now := time.Now()
	for _, r := range []Request{
		{ID: "open", Kind: KindTracked, State: "pendingApproval", NextCheckAt: now.Add(-time.Second)},
		{ID: "closed", Kind: KindTracked, State: "delivered", ClosedAt: now.Add(-time.Hour)},
	} {
		if _, err := s.CreateRequest(ctx, r); err != nil {
			t.Fatalf("CreateRequest %s: %v", r.ID, err)
		}
	}
	if err := s.db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketRequests).Put([]byte("closed"), []byte("{not json"))
	}); err != nil {
		t.Fatal(err)
	}
	due, err := s.ListRequests(ctx, RequestQuery{DueBefore: now})
	if err != nil || len(due) != 1 || due[0].ID != "open" {
		t.Fatalf("due listing = %+v, %v; want [open] without reading the closed record", due, err)
	}
	if _, err := s.ListRequests(ctx, RequestQuery{}); err == nil {
		t.Fatal("full listing read the scribbled record without an error: the test proves nothing")
	}
}
