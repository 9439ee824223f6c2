package lifecycle

import (
	"context"
	"errors"
	"time"

	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/store"
)

// The polling loop: every open record is read again (app-only) when its next poll is due, with its own
// exponential backoff (PollInterval doubling up to PollMax, reset on every change); escalation and reminders
// of a waiting stage are checked on each read (observe.go).

// Kick wakes the tracker so it polls the requests that are due now. It never blocks.
func (c *Core) Kick() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// TrackerLease is the lease under which one replica at a time runs the tracker.
const TrackerLease = "lifecycle.tracker"

// RunTracker polls the open requests until ctx ends, on one replica at a time: it holds the store lease
// TrackerLease (Config.LeaseTTL; a dead holder's tracker moves to another replica within about twice that)
// and, once it has it, imports legacy records (ImportLegacy), stamps the closing time of records closed by
// older builds (BackfillClosedAt) and polls. Kick wakes it early. It returns nil
// when ctx is cancelled.
func (c *Core) RunTracker(ctx context.Context) error {
	return store.RunExclusive(ctx, c.cfg.Store, TrackerLease, c.cfg.Holder, c.cfg.LeaseTTL, c.runTracker)
}

func (c *Core) runTracker(ctx context.Context) error {
	if _, err := c.ImportLegacy(ctx); err != nil {
		c.log.ErrorContext(ctx, "import legacy tracked requests", "err", err)
	}
	if _, err := c.BackfillClosedAt(ctx); err != nil {
		c.log.ErrorContext(ctx, "backfill closing times", "err", err)
	}
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		case <-c.kick:
		}
		next := c.PollDue(ctx)
		wait := c.cfg.PollMax
		if !next.IsZero() {
			wait = min(max(next.Sub(c.now()), 20*time.Millisecond), c.cfg.PollMax)
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(wait)
	}
}

// PollDue polls every open record whose next poll is due and returns when the next one is due (zero when
// none is open). RunTracker calls it; tests may call it directly.
func (c *Core) PollDue(ctx context.Context) time.Time {
	now := c.now()
	// The records due now and those due before the loop's longest wait (the next wake-up); closed records
	// have no next check and are never listed.
	soon, err := c.query(ctx, store.RequestQuery{DueBefore: now.Add(c.cfg.PollMax)})
	if err != nil {
		c.log.ErrorContext(ctx, "list tracked requests", "err", err)
		return now.Add(c.cfg.PollInterval)
	}
	var due []string
	var next time.Time
	for _, tr := range soon {
		if tr.Closed {
			continue
		}
		if !tr.NextPoll.After(now) {
			due = append(due, tr.ID)
			continue
		}
		if next.IsZero() || tr.NextPoll.Before(next) {
			next = tr.NextPoll
		}
	}
	for _, id := range due {
		if ctx.Err() != nil {
			return next
		}
		n := c.pollOne(ctx, id)
		if !n.IsZero() && (next.IsZero() || n.Before(next)) {
			next = n
		}
	}
	return next
}

// pollOne reads one request with the app's identity and applies it; on failure it backs off.
func (c *Core) pollOne(ctx context.Context, id string) time.Time {
	req, err := c.cfg.Entitlement.Request(ctx, id)
	if err != nil {
		c.log.WarnContext(ctx, "poll request", "request", id, "err", err)
		return c.backOff(ctx, id, err)
	}
	tr, err := c.Observe(ctx, req)
	if err != nil {
		c.log.ErrorContext(ctx, "apply request state", "request", id, "err", err)
		return c.now().Add(c.cfg.PollInterval)
	}
	if tr.Closed {
		return time.Time{}
	}
	return tr.NextPoll
}

// backOff delays the next poll of a request whose read failed (closing the record of one that no longer
// exists) and returns when it is due (zero when closed or unknown).
func (c *Core) backOff(ctx context.Context, id string, readErr error) time.Time {
	tr, err := c.update(ctx, id, false, func(tr *Tracked, _ bool) error {
		wait := min(max(tr.Delay*2, c.cfg.PollInterval), c.cfg.PollMax)
		var te *entitlement.ThrottledError
		if errors.As(readErr, &te) && te.RetryAfter > wait {
			wait = te.RetryAfter
		}
		if errors.Is(readErr, entitlement.ErrNotFound) {
			tr.Closed = true
			tr.AddEvent(c.now(), Say("event.gone"))
		}
		tr.Delay = wait
		tr.NextPoll = c.now().Add(wait)
		return nil
	})
	if err != nil {
		if !errors.Is(err, ErrNotFound) {
			c.log.ErrorContext(ctx, "save tracked request", "request", id, "err", err)
		}
		return time.Time{}
	}
	if tr.Closed {
		return time.Time{}
	}
	return tr.NextPoll
}

// PollSoon makes the tracker read a request at once (after a decision or a cancel) and wakes it.
func (c *Core) PollSoon(ctx context.Context, id string) {
	_, err := c.update(ctx, id, false, func(tr *Tracked, _ bool) error {
		tr.Delay = c.cfg.PollInterval
		tr.NextPoll = c.now()
		tr.Closed = false
		return nil
	})
	if err != nil && !errors.Is(err, ErrNotFound) {
		c.log.WarnContext(ctx, "save tracked request", "request", id, "err", err)
	}
	c.Kick()
}
