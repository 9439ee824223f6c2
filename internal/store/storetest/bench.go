package storetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/accessbot/accessbot/internal/store"
)

// BenchTurns measures the state work of one incoming message as the bot does it: claim the activity id,
// append an audit entry and complete the turn (the completion and the usually unchanged conversation
// reference in one write). 16 turns run
// concurrently per CPU's worth of goroutines (b.SetParallelism(8)); it reports messages/s and the p99
// latency of one turn, so backends can be compared side by side (make bench).
func BenchTurns(b *testing.B, s store.Backend) {
	ctx := context.Background()
	run := time.Now().UnixNano() // the benchmark function runs several times on one store: keys stay fresh
	var n atomic.Int64
	var mu sync.Mutex
	lat := make([]time.Duration, 0, b.N)
	b.SetParallelism(8)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		for pb.Next() {
			t0 := time.Now()
			if err := turn(ctx, s, run, n.Add(1)); err != nil {
				b.Error(err)
				return
			}
			mine = append(mine, time.Since(t0))
		}
		mu.Lock()
		lat = append(lat, mine...)
		mu.Unlock()
	})
	elapsed := time.Since(start)
	b.StopTimer()
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

func turn(ctx context.Context, s store.Backend, run, i int64) error {
	key := fmt.Sprintf("msteams|a:conv-%d|act-%d-%d", i%100, run, i)
	c, err := s.ClaimActivity(ctx, key, 15*time.Second)
	if err != nil || !c.Won {
		return fmt.Errorf("claim %s: %+v %v", key, c, err)
	}
	ref := store.ConversationRef{TenantID: "11111111-1111-1111-1111-111111111111", AADObjectID: fmt.Sprintf("user-%d", i%100),
		ConversationID: fmt.Sprintf("a:conv-%d", i%100), ServiceURL: "https://smba.trafficmanager.net/teams/"}
	if _, err := s.AppendAudit(ctx, store.AuditEntry{Action: "message", Mode: store.ModeSystem, ActorID: ref.AADObjectID}); err != nil {
		return err
	}
	return s.CompleteTurn(ctx, key, c.Token, []byte(`{"status":200}`), store.TurnWrites{Ref: &ref})
}
