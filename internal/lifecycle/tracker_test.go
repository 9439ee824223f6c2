package lifecycle

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/store"
	"github.com/accessbot/accessbot/internal/testkit"
)

// countingPort answers Request with a pending request and counts the reads (the rest of the port is unused).
type countingPort struct {
	entitlement.Port
	reads atomic.Int32
}

func (p *countingPort) Request(_ context.Context, id string) (entitlement.Request, error) {
	p.reads.Add(1)
	return entitlement.Request{ID: id, State: entitlement.StateDelivered}, nil
}

// Two replicas run the tracker: only the lease holder polls; when it stops, the other takes over.
func TestTrackerRunsOnOneReplica(t *testing.T) { onEachBackend(t, testTrackerOnOneReplica) }

func testTrackerOnOneReplica(t *testing.T, st store.Backend) {
	ports := []*countingPort{{}, {}}
	var cores []*Core
	cancels := make([]context.CancelFunc, 2)
	done := make([]chan struct{}, 2)
	for i, p := range ports {
		c, err := New(Config{Store: st, Entitlement: p, Holder: []string{"a", "b"}[i], LeaseTTL: 300 * time.Millisecond,
			PollInterval: 10 * time.Millisecond, PollMax: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		cores = append(cores, c)
	}
	seed(t, cores[0], "req-1")
	for i, c := range cores {
		ctx, cancel := context.WithCancel(context.Background())
		cancels[i], done[i] = cancel, make(chan struct{})
		go func() { defer close(done[i]); _ = c.RunTracker(ctx) }()
	}
	t.Cleanup(func() {
		for i := range cores {
			cancels[i]()
			<-done[i]
		}
	})
	testkit.Eventually(t, "the first poll", func() bool { return ports[0].reads.Load()+ports[1].reads.Load() > 0 })
	holder := 0
	if ports[1].reads.Load() > 0 {
		holder = 1
	}
	if ports[1-holder].reads.Load() != 0 {
		t.Fatalf("both replicas polled: %d and %d reads", ports[0].reads.Load(), ports[1].reads.Load())
	}
	cancels[holder]()
	<-done[holder]
	seed(t, cores[holder], "req-2")
	testkit.Eventually(t, "the other replica to poll", func() bool { return ports[1-holder].reads.Load() > 0 })
}
