package bot

import (
	"context"
	"sync"
	"testing"
)

// TestConcurrentDuplicateDeliveriesProcessOnce: Teams redelivers an activity while the first delivery is still
// being answered; however the deliveries interleave, the bot answers once.
func TestConcurrentDuplicateDeliveriesProcessOnce(t *testing.T) {
	for round := range 20 {
		e := newFlEnv(t)
		act := e.activity(flRita, "Rita Requester", "message")
		act.Text = "help"
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				dup := *act
				if _, err := e.bot.OnActivity(context.Background(), &dup); err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("round %d: %v", round, err)
		}
		if n := len(e.conn.all()); n != 1 {
			t.Fatalf("round %d: 8 concurrent deliveries of one activity sent %d replies, want 1", round, n)
		}
		// A later redelivery (after the first finished) is acknowledged without a reply.
		dup := *act
		if _, err := e.bot.OnActivity(context.Background(), &dup); err != nil {
			t.Fatal(err)
		}
		if n := len(e.conn.all()); n != 1 {
			t.Fatalf("round %d: redelivery sent a reply (%d total)", round, n)
		}
	}
}

// TestDuplicateDeliveryAtAnotherReplicaProcessesOnce: two bots (replicas) on one store get the same activity
// at once, four times each; it is answered once, and both replicas return the same stored answer afterwards.
func TestDuplicateDeliveryAtAnotherReplicaProcessesOnce(t *testing.T) {
	e := newFlEnv(t)
	other, err := New(e.bot.cfg)
	if err != nil {
		t.Fatal(err)
	}
	act := e.activity(flRita, "Rita Requester", "message")
	act.Text = "help"
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dup := *act
			replica := e.bot
			if i%2 == 1 {
				replica = other
			}
			if _, err := replica.OnActivity(context.Background(), &dup); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := len(e.conn.all()); n != 1 {
		t.Fatalf("8 deliveries to two replicas sent %d replies, want 1", n)
	}
}
