package postgres_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/accessbot/accessbot/internal/store"
	"github.com/accessbot/accessbot/internal/store/postgres"
	"github.com/accessbot/accessbot/internal/store/postgres/pgtest"
	"github.com/accessbot/accessbot/internal/telemetry"
)

// TestPutConversationSkipsUnchanged: remembering the same reference again (only UpdatedAt differs) leaves
// the row as it is (same row version, xmin); a changed field rewrites it.
func TestPutConversationSkipsUnchanged(t *testing.T) {
	ctx := context.Background()
	s, err := postgres.Open(ctx, pgtest.URL(t), postgres.Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer func() { _ = s.Close() }()
	ref := store.ConversationRef{TenantID: "t1", AADObjectID: "u1", ConversationID: "a:1", ServiceURL: "https://smba.example/teams/",
		UpdatedAt: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)}
	xmin := func() string {
		var v string
		if err := s.Pool().QueryRow(ctx, "SELECT xmin::text FROM conversations WHERE tenant_id = 't1' AND aad_object_id = 'u1'").Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	if err := s.PutConversation(ctx, ref); err != nil {
		t.Fatal(err)
	}
	first := xmin()
	ref.UpdatedAt = ref.UpdatedAt.Add(time.Hour)
	if err := s.PutConversation(ctx, ref); err != nil {
		t.Fatal(err)
	}
	if got := xmin(); got != first {
		t.Errorf("an unchanged reference was rewritten (xmin %s → %s)", first, got)
	}
	ref.Locale = "de-DE"
	if err := s.PutConversation(ctx, ref); err != nil {
		t.Fatal(err)
	}
	if got := xmin(); got == first {
		t.Error("a changed reference was not written")
	}
	if got, err := s.Conversation(ctx, "t1", "u1"); err != nil || got.Locale != "de-DE" {
		t.Errorf("stored %+v, %v", got, err)
	}
}

// TestTracerRecordsStatements: with the telemetry tracer on the pool, every statement shows up in the store
// latency metric by verb and table (never by its text or arguments).
func TestTracerRecordsStatements(t *testing.T) {
	ctx := context.Background()
	m := telemetry.NewMetrics()
	s, err := postgres.Open(ctx, pgtest.URL(t), postgres.Options{Tracer: m.PgxTracer()})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer func() { _ = s.Close() }()
	ref := store.ConversationRef{TenantID: "t1", AADObjectID: "secret-user", ConversationID: "a:1", ServiceURL: "https://smba.example/teams/"}
	if err := s.PutConversation(ctx, ref); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Conversation(ctx, "t1", "secret-user"); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	page := rec.Body.String()
	for _, want := range []string{
		`accessbot_store_operation_duration_seconds_count{kind="write",op="INSERT conversations"} 1`,
		`accessbot_store_operation_duration_seconds_count{kind="read",op="SELECT conversations"}`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if strings.Contains(page, "secret-user") {
		t.Error("a statement argument reached the metrics")
	}
}
