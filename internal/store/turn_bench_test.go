package store

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkTurnWrites is the state work of one chat turn as the bot does it: claim the activity id (in
// memory), complete the turn with the (usually unchanged) conversation reference in one write. Run with -cpu 1,8,32 to see how
// concurrent turns share the file's single writer (group commit) — ns/op is per turn.
func BenchmarkTurnWrites(b *testing.B) {
	s, _ := openTest(b, Options{})
	ctx := context.Background()
	var n atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			ref := validRef()
			ref.AADObjectID = fmt.Sprintf("user-%d", i%100)
			key := fmt.Sprintf("msteams|a:conv|act-%d", i)
			c, err := s.ClaimActivity(ctx, key, 15*time.Second)
			if err != nil || !c.Won {
				b.Fatalf("claim: %+v %v", c, err)
			}
			if err := s.CompleteTurn(ctx, key, c.Token, nil, &ref); err != nil {
				b.Fatal(err)
			}
		}
	})
}
