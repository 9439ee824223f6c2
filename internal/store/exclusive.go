package store

import (
	"context"
	"fmt"
	"time"
)

// RunExclusive runs run while holder holds the lease name, so a job runs on one replica at a time. It tries
// to acquire the lease every ttl/3; once it has it, it starts run and renews every ttl/3. When a renewal is
// refused, or no renewal succeeded for ttl, run's context is cancelled, RunExclusive waits for run to return
// and goes back to trying. With ttl 15s a dead holder's job starts elsewhere within about 20s.
//
// RunExclusive returns nil when ctx is cancelled, or run's error (wrapped) when run returns while the lease
// is held; the lease is released in both cases.
func RunExclusive(ctx context.Context, l Leaser, name, holder string, ttl time.Duration, run func(ctx context.Context) error) error {
	if err := CheckLeaseArgs("run exclusive", name, holder, ttl); err != nil {
		return err
	}
	if run == nil {
		return invalid("run exclusive", "run", "is required")
	}
	tick := time.NewTicker(ttl / 3)
	defer tick.Stop()
	for {
		if ok, _ := l.AcquireLease(ctx, name, holder, ttl); ok {
			done, err := holdAndRun(ctx, l, name, holder, ttl, tick.C, run)
			if done {
				_ = l.ReleaseLease(context.WithoutCancel(ctx), name, holder)
				if err != nil {
					return fmt.Errorf("run exclusive %s: %w", name, err)
				}
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// holdAndRun runs run and renews the lease on every tick. done is false when the lease was lost (run was
// cancelled and has returned); otherwise run returned or ctx ended, and err is run's error.
func holdAndRun(ctx context.Context, l Leaser, name, holder string, ttl time.Duration, tick <-chan time.Time,
	run func(ctx context.Context) error) (done bool, err error) {
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	result := make(chan error, 1)
	go func() { result <- run(rctx) }()
	renewed := time.Now()
	for {
		select {
		case err := <-result:
			if ctx.Err() != nil {
				return true, nil
			}
			return true, err
		case <-tick:
			ok, rerr := l.AcquireLease(ctx, name, holder, ttl)
			switch {
			case ok:
				renewed = time.Now()
				continue
			case rerr == nil || time.Since(renewed) >= ttl:
				cancel()
				<-result
				return ctx.Err() != nil, nil
			}
		}
	}
}
