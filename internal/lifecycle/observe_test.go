package lifecycle

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/store"
)

// stagePort has one policy with one stage approved by Patti (the rest of the port is unused).
type stagePort struct {
	entitlement.Port
}

func (stagePort) Policy(_ context.Context, id string) (entitlement.Policy, error) {
	return entitlement.Policy{ID: id, Stages: []entitlement.Stage{{PrimaryApprovers: []entitlement.SubjectSet{
		{Kind: entitlement.SetSingleUser, UserID: "patti"}}}}}, nil
}

func (stagePort) User(_ context.Context, id string) (entitlement.User, error) {
	return entitlement.User{ID: id, Name: "Patti"}, nil
}

// Four replicas apply the same fresh read of a new pending request at once (a poll racing a refresh): the
// record is created once and the stage's approval card is queued once; then the same change read by all of
// them notifies the requester once.
func TestObserveRaceQueuesOnce(t *testing.T) {
	onEachBackend(t, func(t *testing.T, st store.Backend) {
		var cardsQueued, notices atomic.Int32
		var cores []*Core
		for i := range 4 {
			c, err := New(Config{Store: st, Entitlement: stagePort{}, Holder: fmt.Sprintf("r%d", i),
				Enqueue: func(_ context.Context, kind string, _ any) {
					switch kind {
					case OutboxApprovalCard:
						cardsQueued.Add(1)
					case OutboxNotify:
						notices.Add(1)
					}
				}})
			if err != nil {
				t.Fatal(err)
			}
			cores = append(cores, c)
		}
		req := entitlement.Request{ID: "req-1", State: entitlement.StatePendingApproval, PolicyID: "pol", PackageID: "pkg",
			Requestor: entitlement.Subject{ID: "rita", Name: "Rita"}, CreatedAt: time.Now()}
		observeAll := func(req entitlement.Request) { // every core reads the same state at once
			var wg sync.WaitGroup
			for _, c := range cores {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if _, err := c.Observe(context.Background(), req); err != nil {
						t.Errorf("observe: %v", err)
					}
				}()
			}
			wg.Wait()
		}
		observeAll(req)
		if cardsQueued.Load() != 1 || notices.Load() != 0 {
			t.Fatalf("approval cards queued %d times, notices %d; want 1 and 0", cardsQueued.Load(), notices.Load())
		}
		tr, err := cores[0].Get(context.Background(), "req-1")
		if err != nil || tr.Stage != 1 || !tr.IsApprover("patti") {
			t.Fatalf("record = %+v (%v)", tr, err)
		}

		// The same change (delivered) read by all four at once: the requester hears of it once.
		req.State = entitlement.StateDelivered
		observeAll(req)
		if notices.Load() != 1 {
			t.Fatalf("requester notices = %d, want 1", notices.Load())
		}
	})
}
