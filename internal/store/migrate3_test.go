package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// TestMigrateV2File: a file written by schema 2 opens at the current schema; its processed ids read as completed
// claims and the request and lease buckets work.
func TestMigrateV2File(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "accessbot.db")
	old, err := Open(path, Options{Migrations: Migrations()[:2]})
	if err != nil {
		t.Fatalf("open at schema 2: %v", err)
	}
	putLegacyProcessed(t, old, "act", legacyProcessed{At: time.Now(), Resp: []byte(`{"status":200}`)}, time.Time{})
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("open at schema 3: %v", err)
	}
	defer func() { _ = s.Close() }()
	if v, err := s.SchemaVersion(); err != nil || v != len(Migrations()) {
		t.Fatalf("SchemaVersion = %d, %v; want %d", v, err, len(Migrations()))
	}
	c, err := s.ClaimActivity(ctx, "act", time.Minute)
	if err != nil || c.Won || !c.Done || string(c.Response) != `{"status":200}` {
		t.Fatalf("claim of an old processed id = %+v, %v; want done with its response", c, err)
	}
	if _, err := s.CreateRequest(ctx, Request{ID: "r", Kind: KindTracked, State: "new"}); err != nil {
		t.Fatalf("CreateRequest after migration: %v", err)
	}
	if ok, err := s.AcquireLease(ctx, "poller", "me", time.Minute); err != nil || !ok {
		t.Fatalf("AcquireLease after migration: %v, %v", ok, err)
	}
}
