package botframework

import (
	"context"
	"sync"
	"time"
)

// TeamsTenantRate is Teams' documented global limit of Bot Connector operations per app per tenant
// (requests per second; "Optimize your bot with rate limiting in Teams", per bot per thread limit note). The
// per-conversation limits (7 operations a second, 8 in two, 60 in thirty) do not bind a fan-out, which sends
// one card per approver's conversation; a reply that is throttled anyway is retried after its Retry-After.
const TeamsTenantRate = 30

// pacer spaces Connector operations evenly (first come, first served), so a fan-out of approval cards to a
// large group stays under the tenant limit instead of bursting into 429s, while chat replies keep their place
// in the queue: their wait is bounded by the few operations already waiting. Slots are planned windowMargin
// apart × 1/rate: an operation only ever starts late, never early, so any second at the service sees at most
// rate of them as long as the lateness stays under the margin (50 ms at 30 per second). A 429 with Retry-After
// holds every following operation until that time.
type pacer struct {
	interval time.Duration
	now      func() time.Time
	sleep    func(ctx context.Context, d time.Duration) error

	mu   sync.Mutex
	next time.Time // earliest start of the next operation
	// bg lets one background operation at a time hold a reserved slot, so an interactive one waits for at
	// most that slot, not for every queued card of a fan-out.
	bg chan struct{}
}

// windowMargin spreads rate operations over 1.05 s instead of one second: requests reach the service with a
// little jitter, and 31 of them must never land inside one second there.
const windowMargin = 1.05

func newPacer(rate float64, now func() time.Time, sleep func(ctx context.Context, d time.Duration) error) *pacer {
	if rate <= 0 {
		return nil
	}
	return &pacer{interval: time.Duration(windowMargin * float64(time.Second) / rate), now: now, sleep: sleep, bg: make(chan struct{}, 1)}
}

// interactiveKey marks a context that serves an activity (a user waits for the answer).
type interactiveKey struct{}

// WithInteractive marks ctx as serving an inbound activity: Connector operations made with it go ahead of
// queued background work (approval fan-out, notifications) instead of queueing behind it; they still take a
// paced slot, so the tenant's limit holds. The Endpoint marks every activity.
func WithInteractive(ctx context.Context) context.Context {
	return context.WithValue(ctx, interactiveKey{}, true)
}

func isInteractive(ctx context.Context) bool {
	v, _ := ctx.Value(interactiveKey{}).(bool)
	return v
}

// wait reserves the next slot and sleeps until it. Background operations queue for the right to reserve, one
// at a time; an interactive operation reserves at once, so it waits at most for the one background slot
// already reserved. A nil pacer never waits.
func (p *pacer) wait(ctx context.Context) error {
	if p == nil {
		return nil
	}
	if !isInteractive(ctx) {
		select {
		case p.bg <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		defer func() { <-p.bg }()
	}
	p.mu.Lock()
	now := p.now()
	slot := p.next
	if slot.Before(now) {
		slot = now
	}
	p.next = slot.Add(p.interval)
	p.mu.Unlock()
	return p.sleep(ctx, slot.Sub(now))
}

// hold keeps every operation from starting before now+d (the server's Retry-After).
func (p *pacer) hold(d time.Duration) {
	if p == nil || d <= 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if until := p.now().Add(d); until.After(p.next) {
		p.next = until
	}
}
