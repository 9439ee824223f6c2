package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/accessbot/accessbot/internal/store"
)

// Retention: a record the lifecycle has closed (a tracked request in a final state, a brokered request whose
// follow-up is done) carries store.Request.ClosedAt, the time it closed; the store's maintenance deletes the
// records closed longer than its retention (store.Maintenance.KeepClosed, 90 days by default) through an
// index, so neither the pruning nor the tracker's wake-up ever decodes a closed record. A record that opens
// again (PollSoon) loses its ClosedAt.

// closedAt is the ClosedAt to store for a record: zero while open; once closed, the time already stored or
// else the record's last update (its creation when it has none).
func closedAt(closed bool, stored, updated, created time.Time) time.Time {
	switch {
	case !closed:
		return time.Time{}
	case !stored.IsZero():
		return stored
	case !updated.IsZero():
		return updated
	case !created.IsZero():
		return created
	}
	return time.Now()
}

// Where BackfillClosedAt records that it has run (a generic record).
const (
	retentionBucket = "lifecycle"
	backfillKey     = "closed-at-backfill"
)

// BackfillClosedAt gives the records closed by a build before ClosedAt existed their closing time (their last
// update), so maintenance prunes them too. It reads every record once per store, then records that it ran; the
// tracker calls it when it starts. It returns how many records it stamped.
func (c *Core) BackfillClosedAt(ctx context.Context) (int, error) {
	var done bool
	if err := c.cfg.Store.Get(ctx, retentionBucket, backfillKey, &done); err == nil && done {
		return 0, nil
	} else if err != nil && !errors.Is(err, store.ErrNotFound) {
		return 0, fmt.Errorf("read closed-at backfill mark: %w", err)
	}
	rs, err := c.cfg.Store.ListRequests(ctx, store.RequestQuery{})
	if err != nil {
		return 0, fmt.Errorf("list requests to backfill closing times: %w", err)
	}
	n := 0
	for _, r := range rs {
		if !r.ClosedAt.IsZero() || !recordClosed(r) {
			continue
		}
		_, err := c.cfg.Store.UpdateRequest(ctx, r.ID, func(cur *store.Request) error {
			if !cur.ClosedAt.IsZero() || !recordClosed(*cur) {
				return store.ErrNoChange
			}
			cur.ClosedAt = closedAt(true, time.Time{}, cur.UpdatedAt, cur.CreatedAt)
			return nil
		})
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return n, fmt.Errorf("backfill closing time of %s: %w", r.ID, err)
		}
		n++
	}
	if err := c.cfg.Store.Put(ctx, retentionBucket, backfillKey, true); err != nil {
		return n, fmt.Errorf("record closed-at backfill: %w", err)
	}
	if n > 0 {
		c.log.InfoContext(ctx, "stamped the closing time of closed requests", "count", n)
	}
	return n, nil
}

// recordClosed reports whether a stored record is closed (undecodable records count as open: kept).
func recordClosed(r store.Request) bool {
	if br, ok, err := decodeBrokered(r); err != nil || ok {
		return err == nil && br.Done
	}
	tr, err := decodeRecord(r)
	return err == nil && tr.Closed
}
