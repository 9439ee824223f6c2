package store_test

import (
	"path/filepath"
	"testing"

	"github.com/accessbot/accessbot/internal/store"
	"github.com/accessbot/accessbot/internal/store/storetest"
)

// BenchmarkTurns is one message's state work on the bbolt file (compare BenchmarkTurns in store/postgres).
func BenchmarkTurns(b *testing.B) {
	s, err := store.Open(filepath.Join(b.TempDir(), "accessbot.db"), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	b.Run("bbolt", func(b *testing.B) { storetest.BenchTurns(b, s) })
}
