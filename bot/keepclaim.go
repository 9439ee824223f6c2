package bot

import (
	"context"
	"sync"
	"time"
)

// maxTurnHold is how long a running turn keeps its activity claim by renewing it. A turn still running after
// that is taken to hang: its claim is left to expire, so a redelivery can process the activity.
const maxTurnHold = 2 * time.Minute

// keepClaim renews the turn's activity claim every Config.ClaimRenewal while the turn runs (up to maxTurnHold),
// so that a slow turn (Graph throttling it, say) is not taken over after claimHold by a redelivery, which would
// process the activity a second time; the redelivery waits for the turn's answer instead. A fast turn costs
// a timer and nothing else. stop ends the renewals (waiting for one in flight); the turn calls it before it
// completes or releases its claim.
func (b *Bot) keepClaim(ctx context.Context, key, token string) (stop func()) {
	ctx = context.WithoutCancel(ctx)
	started := b.cfg.Now()
	var mu sync.Mutex
	stopped := false
	var timer *time.Timer
	renew := func() { // holds mu throughout, so stop waits for a renewal in flight
		mu.Lock()
		defer mu.Unlock()
		if stopped {
			return
		}
		rctx, cancel := context.WithTimeout(ctx, b.cfg.ClaimRenewal) // a stuck store must not hold the turn's stop
		held, err := b.cfg.Store.RenewActivity(rctx, key, token)
		cancel()
		switch {
		case err != nil:
			b.log.WarnContext(ctx, "renew activity claim", "key", key, "err", err)
		case !held:
			b.log.WarnContext(ctx, "activity claim taken over while its turn runs", "key", key)
			return
		case b.cfg.Now().Sub(started) >= maxTurnHold:
			b.log.WarnContext(ctx, "turn runs too long: its activity claim is no longer renewed", "key", key,
				"running", b.cfg.Now().Sub(started).String())
			return
		}
		timer.Reset(b.cfg.ClaimRenewal)
	}
	mu.Lock()
	timer = time.AfterFunc(b.cfg.ClaimRenewal, renew)
	mu.Unlock()
	return func() {
		mu.Lock()
		stopped = true
		timer.Stop()
		mu.Unlock()
	}
}
