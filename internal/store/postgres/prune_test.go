package postgres_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/accessbot/accessbot/internal/store"
	"github.com/accessbot/accessbot/internal/store/postgres"
	"github.com/accessbot/accessbot/internal/store/postgres/pgtest"
)

// statements is a pgx.QueryTracer that keeps the first word of every statement the pool sends.
type statements struct {
	mu   sync.Mutex
	verb []string
}

func (s *statements) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	s.mu.Lock()
	defer s.mu.Unlock()
	verb, _, _ := strings.Cut(strings.TrimSpace(d.SQL), " ")
	s.verb = append(s.verb, strings.ToUpper(verb))
	return ctx
}

func (s *statements) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (s *statements) take() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.verb
	s.verb = nil
	return v
}

// TestPruneNothingDueIsOneRead: a prune that finds nothing due is a single statement outside any transaction
// (no BEGIN/COMMIT round trips; a DELETE that matches no row assigns no transaction id and writes no WAL), and
// PruneKV with nothing stale sends no DELETE at all.
func TestPruneNothingDueIsOneRead(t *testing.T) {
	ctx := context.Background()
	tr := &statements{}
	s, err := postgres.Open(ctx, pgtest.URL(t), postgres.Options{Tracer: tr})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer func() { _ = s.Close() }()
	if err := s.MarkProcessed(ctx, "act-1", nil); err != nil {
		t.Fatal(err)
	}
	if err := s.PutDialog(ctx, "form/rita", map[string]int{"step": 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateRequest(ctx, store.Request{ID: "req-1", Kind: store.KindTracked, State: "denied", ClosedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "reviews.sent", "review/i1/adele", map[string]bool{"done": true}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		prune func() (int, error)
		want  string
	}{
		{"processed", func() (int, error) { return s.PruneProcessed(ctx, store.DefaultProcessedTTL) }, "DELETE"},
		{"dialogs", func() (int, error) { return s.PruneDialogs(ctx, store.DefaultDialogTTL) }, "DELETE"},
		{"requests", func() (int, error) { return s.PruneRequests(ctx, store.DefaultKeepClosed) }, "WITH"},
		{"records", func() (int, error) {
			return s.PruneKV(ctx, "reviews.sent", func(string, []byte) bool { return false })
		}, "SELECT"},
	} {
		tr.take()
		if n, err := tc.prune(); err != nil || n != 0 {
			t.Fatalf("%s: prune = %d, %v; want 0", tc.name, n, err)
		}
		if got := tr.take(); len(got) != 1 || got[0] != tc.want {
			t.Errorf("%s: a prune with nothing due sent %v, want one %s", tc.name, got, tc.want)
		}
	}
}
