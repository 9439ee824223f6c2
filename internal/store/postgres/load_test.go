package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/accessbot/accessbot/internal/store"
	"github.com/accessbot/accessbot/internal/store/postgres"
	"github.com/accessbot/accessbot/internal/store/postgres/pgtest"
)

// fillBBolt writes one of everything into a fresh bbolt store.
func fillBBolt(t *testing.T) *store.Store {
	t.Helper()
	ctx := context.Background()
	b, err := store.Open(filepath.Join(t.TempDir(), "accessbot.db"), store.Options{})
	if err != nil {
		t.Fatalf("open bbolt: %v", err)
	}
	t.Cleanup(func() { _ = b.Close() })
	steps := []error{
		b.PutConversation(ctx, store.ConversationRef{TenantID: "t", AADObjectID: "u", ConversationID: "a:1", ServiceURL: "https://smba.example/"}),
		b.MarkProcessed(ctx, "act1", []byte(`{"status":200}`)),
		b.PutCard(ctx, store.CardRef{Key: "r1", Kind: "status", ConversationID: "a:1", ServiceURL: "https://smba.example/", ActivityID: "m1"}),
		b.PutDialog(ctx, "d1", map[string]int{"step": 2}),
		b.Put(ctx, "welcome", "t/u", true),
	}
	_, err = b.Enqueue(ctx, "notify", map[string]string{"to": "u"}, time.Time{})
	steps = append(steps, err)
	_, err = b.AppendAudit(ctx, store.AuditEntry{Action: "request", Mode: store.ModeDelegated, SubjectID: "u", PackageID: "p1"})
	steps = append(steps, err)
	_, err = b.CreateRequest(ctx, store.Request{ID: "r1", Kind: store.KindTracked, State: "pendingApproval", Body: []byte(`{"a":1}`)})
	steps = append(steps, err)
	for i, err := range steps {
		if err != nil {
			t.Fatalf("fill step %d: %v", i, err)
		}
	}
	return b
}

func TestLoadFromBBolt(t *testing.T) {
	ctx := context.Background()
	d, err := fillBBolt(t).Dump(ctx)
	if err != nil {
		t.Fatalf("Dump: %v", err)
	}
	pg, err := postgres.Open(ctx, pgtest.URL(t), postgres.Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer func() { _ = pg.Close() }()
	if err := pg.Load(ctx, d, false); err != nil {
		t.Fatalf("Load into an empty database: %v", err)
	}
	counts := func() string {
		c, err := pg.Counts(ctx)
		if err != nil {
			t.Fatalf("Counts: %v", err)
		}
		return fmt.Sprint(c)
	}
	want := fmt.Sprint(d.Counts())
	if got := counts(); got != want {
		t.Fatalf("counts after load %s, want %s", got, want)
	}
	if err := pg.Load(ctx, d, false); !errors.Is(err, postgres.ErrNotEmpty) {
		t.Fatalf("second Load without force: %v, want ErrNotEmpty", err)
	}
	if err := pg.Load(ctx, d, true); err != nil {
		t.Fatalf("Load --force: %v", err)
	}
	if got := counts(); got != want {
		t.Fatalf("counts after a forced second load %s, want %s (idempotent)", got, want)
	}
	// The copied state reads back through the Backend, and new ids continue after the copied ones.
	if resp, ok, err := pg.Processed(ctx, "act1"); err != nil || !ok || string(resp) != `{"status":200}` {
		t.Fatalf("Processed = %s, %v, %v", resp, ok, err)
	}
	if r, err := pg.GetRequest(ctx, "r1"); err != nil || r.Version != 1 || r.State != "pendingApproval" {
		t.Fatalf("GetRequest = %+v, %v", r, err)
	}
	var welcomed bool
	if err := pg.Get(ctx, "welcome", "t/u", &welcomed); err != nil || !welcomed {
		t.Fatalf("Get welcome = %v, %v", welcomed, err)
	}
	id, err := pg.Enqueue(ctx, "notify", "x", time.Time{})
	if err != nil || id <= d.Outbox[0].Item.ID {
		t.Fatalf("Enqueue after load = %s, %v; want an id after %s", id, err, d.Outbox[0].Item.ID)
	}
	seq, err := pg.AppendAudit(ctx, store.AuditEntry{Action: "x", Mode: store.ModeSystem})
	if err != nil || seq <= d.Audit[0].Seq {
		t.Fatalf("AppendAudit after load = %d, %v; want after %d", seq, err, d.Audit[0].Seq)
	}
}
