package postgres_test

import (
	"context"
	"testing"

	"github.com/accessbot/accessbot/internal/store/postgres"
	"github.com/accessbot/accessbot/internal/store/postgres/pgtest"
	"github.com/accessbot/accessbot/internal/store/storetest"
)

// BenchmarkTurns is one message's state work on PostgreSQL (compare BenchmarkTurns in internal/store).
func BenchmarkTurns(b *testing.B) {
	s, err := postgres.Open(context.Background(), pgtest.URL(b), postgres.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	b.Run("postgres", func(b *testing.B) { storetest.BenchTurns(b, s) })
}
