package botframework

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/accessbot/accessbot/internal/teamsfake"
	"github.com/infracloudio/msbotbuilder-go/schema"
)

// fanOut sends one approval card to each of n approvers' conversations from `senders` concurrent workers
// while, every chatEvery, another user's chat gets a reply (an interactive operation, see WithInteractive);
// it returns the fan-out's total time and the
// slowest chat reply.
func fanOut(t testing.TB, c *Client, url string, n, senders int, chatEvery time.Duration) (total, slowestChat time.Duration, chats int) {
	ctx := context.Background()
	jobs := make(chan int)
	var wg sync.WaitGroup
	start := time.Now()
	for range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				if _, err := c.Send(ctx, url, fmt.Sprintf("a:approver-%d", i), cardActivity()); err != nil {
					t.Errorf("card %d: %v", i, err)
				}
			}
		}()
	}
	done := make(chan struct{})
	var chatWG sync.WaitGroup
	chatWG.Add(1)
	go func() { // other users keep chatting with the bot meanwhile
		defer chatWG.Done()
		tick := time.NewTicker(chatEvery)
		defer tick.Stop()
		for k := 0; ; k++ {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			s := time.Now()
			if _, err := c.Reply(WithInteractive(ctx), url, fmt.Sprintf("a:chat-%d", k), "in-1", &schema.Activity{Text: "Here are your requests"}); err != nil {
				t.Errorf("chat reply %d: %v", k, err)
			}
			slowestChat = max(slowestChat, time.Since(s))
			chats++
		}
	}()
	for i := range n {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	total = time.Since(start)
	close(done)
	chatWG.Wait()
	return total, slowestChat, chats
}

// checkDeliveredOnce: every approver's conversation got exactly one card.
func checkDeliveredOnce(t testing.TB, conn *teamsfake.Connector, n int) {
	t.Helper()
	per := map[string]int{}
	for _, a := range conn.Activities() {
		per[a.ConversationID]++
	}
	for i := range n {
		if got := per[fmt.Sprintf("a:approver-%d", i)]; got != 1 {
			t.Fatalf("approver %d got %d cards, want 1", i, got)
		}
	}
}

// TestPacedFanOutStaysUnderTeamsLimits: paced at TeamsTenantRate, a fan-out from concurrent workers with
// chat replies in between never hits the connector's 429 (Teams' documented limits, enforced by the fake),
// and every card is delivered once.
func TestPacedFanOutStaysUnderTeamsLimits(t *testing.T) {
	conn := teamsfake.NewConnector(t)
	conn.EnforceTeamsLimits()
	c := NewClient(ClientConfig{Rate: TeamsTenantRate, CheckServiceURL: CheckLoopbackServiceURL})
	const n = 60
	total, slowest, chats := fanOut(t, c, conn.URL()+"/", n, 4, 250*time.Millisecond)
	if th := conn.Throttled(); th != 0 {
		t.Fatalf("connector answered 429 %d times", th)
	}
	checkDeliveredOnce(t, conn, n)
	t.Logf("%d cards + %d chat replies in %s (floor %s), slowest chat reply %s", n, chats, total,
		time.Duration(float64(n+chats)/TeamsTenantRate*float64(time.Second)), slowest)
}

// TestPacerHonoursRetryAfter: a 429 with Retry-After holds every following operation, not just its retry.
func TestPacerHonoursRetryAfter(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	var slept []time.Duration
	p := newPacer(10, func() time.Time { return now }, func(_ context.Context, d time.Duration) error {
		slept = append(slept, d)
		return nil
	})
	for range 3 {
		if err := p.wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	p.hold(2 * time.Second)
	_ = p.wait(context.Background())
	want := []time.Duration{0, 105 * time.Millisecond, 210 * time.Millisecond, 2 * time.Second}
	if fmt.Sprint(slept) != fmt.Sprint(want) {
		t.Fatalf("waits = %v, want %v (evenly spaced, then held by Retry-After)", slept, want)
	}
	// A chat reply is paced too (it waits out the Retry-After like everyone) and pushes later work back.
	slept = nil
	_ = p.wait(WithInteractive(context.Background()))
	_ = p.wait(context.Background())
	if want := []time.Duration{2*time.Second + 105*time.Millisecond, 2*time.Second + 210*time.Millisecond}; fmt.Sprint(slept) != fmt.Sprint(want) {
		t.Fatalf("waits after a chat reply = %v, want %v", slept, want)
	}
	var none *pacer
	if err := none.wait(context.Background()); err != nil {
		t.Fatal("an unpaced client waited")
	}
}

// BenchmarkApprovalFanOut is the measurement for a stage whose approvers are a 1,000-member group: 1,000
// approval cards from 8 workers, a chat reply to another user every 250 ms meanwhile, against a connector
// enforcing Teams' limits. It reports the total time against the floor those limits set (operations / 30 per
// second) and the slowest chat reply. Run: go test -run '^$' -bench ApprovalFanOut -benchtime 1x
// ./internal/botframework
func BenchmarkApprovalFanOut(b *testing.B) {
	for b.Loop() {
		conn := teamsfake.NewConnector(b)
		conn.EnforceTeamsLimits()
		c := NewClient(ClientConfig{Rate: TeamsTenantRate, CheckServiceURL: CheckLoopbackServiceURL})
		const n = 1000
		total, slowest, chats := fanOut(b, c, conn.URL()+"/", n, 8, 250*time.Millisecond)
		checkDeliveredOnce(b, conn, n)
		floor := float64(n+chats) / TeamsTenantRate
		b.ReportMetric(total.Seconds(), "s-total")
		b.ReportMetric(floor, "s-floor")
		b.ReportMetric(total.Seconds()/floor, "x-floor")
		b.ReportMetric(float64(slowest.Milliseconds()), "ms-slowest-chat")
		b.ReportMetric(float64(conn.Throttled()), "429s")
	}
}
