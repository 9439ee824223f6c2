package lifecycle

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"
)

// LockTTL is how long a lock taken with Lock holds when its holder dies without releasing it.
const LockTTL = 2 * time.Minute

// Lock takes a named lock that holds across replicas: a store lease (AcquireLease) under a holder name unique to
// this call, so two goroutines of one process exclude each other as two replicas do. It waits (polling the
// lease) until it gets the lock or ctx ends. unlock releases it; a holder that dies frees it after LockTTL.
// Use it around a check-then-act that spans calls to other services (a partner request's decision and the
// adminAdd it files); a single record's read-modify-write needs no lock (update's compare-and-swap).
func (c *Core) Lock(ctx context.Context, name string) (unlock func(), err error) {
	var buf [6]byte
	_, _ = rand.Read(buf[:])
	holder := c.cfg.Holder + "/" + hex.EncodeToString(buf[:])
	lease := "lock:" + name
	wait := 2 * time.Millisecond
	for {
		ok, err := c.cfg.Store.AcquireLease(ctx, lease, holder, LockTTL)
		if err != nil {
			return nil, fmt.Errorf("take lock %s: %w", name, err)
		}
		if ok {
			return func() {
				if err := c.cfg.Store.ReleaseLease(context.WithoutCancel(ctx), lease, holder); err != nil {
					c.log.WarnContext(ctx, "release lock", "lock", name, "err", err)
				}
			}, nil
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("wait for lock %s: %w", name, ctx.Err())
		case <-t.C:
		}
		wait = min(wait*2, 100*time.Millisecond)
	}
}
