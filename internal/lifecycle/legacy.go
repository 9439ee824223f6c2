package lifecycle

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/accessbot/accessbot/internal/store"
)

// Generic-record buckets where builds before the store's requests table kept the records.
const (
	legacyBucket         = "tracked"
	legacyBrokeredBucket = "brokered"
)

// ImportLegacy moves the records an older build kept in the generic "brokered" and "tracked" buckets into the
// requests table and deletes the old copies: a brokered record replaces the read-only mirror an older build
// kept in its place; a tracked record already in the table wins; mirrors in the "tracked" bucket are dropped
// (the brokered record is the source). It is idempotent; the tracker runs it when it starts. It returns how
// many records it moved.
func (c *Core) ImportLegacy(ctx context.Context) (int, error) {
	nb, err := c.importLegacyBrokered(ctx)
	if err != nil {
		return nb, err
	}
	nt, err := c.importLegacyTracked(ctx)
	if n := nb + nt; n > 0 {
		c.log.InfoContext(ctx, "moved request records into the requests table", "brokered", nb, "tracked", nt)
	}
	return nb + nt, err
}

func (c *Core) importLegacyBrokered(ctx context.Context) (int, error) {
	var old []*Brokered
	err := c.cfg.Store.List(ctx, legacyBrokeredBucket, "", func(key string, raw []byte) error {
		var br Brokered
		if err := json.Unmarshal(raw, &br); err != nil || br.ID == "" {
			c.log.WarnContext(ctx, "skip an undecodable legacy brokered request", "id", key, "err", err)
			return nil
		}
		old = append(old, &br)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("list legacy brokered requests: %w", err)
	}
	moved := 0
	for _, br := range old {
		if cur, err := c.GetBrokered(ctx, br.ID); err == nil && cur != nil {
			// Already moved (a crash before the delete below): the table's copy wins.
		} else if err := c.writeBrokered(ctx, br); err != nil {
			return moved, fmt.Errorf("import legacy brokered request %s: %w", br.ID, err)
		} else {
			moved++
		}
		if err := c.cfg.Store.Delete(ctx, legacyBrokeredBucket, br.ID); err != nil {
			return moved, fmt.Errorf("delete legacy brokered request %s: %w", br.ID, err)
		}
	}
	return moved, nil
}

// writeBrokered stores br as it is (no UpdatedAt stamp), replacing a mirror stored in its place.
func (c *Core) writeBrokered(ctx context.Context, br *Brokered) error {
	created, err := c.createIfAbsent(ctx, br.ID, func(r *store.Request) error { return encodeBrokered(br, r) })
	if err != nil || created {
		return err
	}
	_, err = c.cfg.Store.UpdateRequest(ctx, br.ID, func(r *store.Request) error { return encodeBrokered(br, r) })
	return err
}

func (c *Core) importLegacyTracked(ctx context.Context) (int, error) {
	var old []*Tracked
	err := c.cfg.Store.List(ctx, legacyBucket, "", func(key string, raw []byte) error {
		var tr Tracked
		if err := json.Unmarshal(raw, &tr); err != nil || tr.ID == "" {
			c.log.WarnContext(ctx, "skip an undecodable legacy tracked request", "id", key, "err", err)
			return nil
		}
		old = append(old, &tr)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("list legacy tracked requests: %w", err)
	}
	moved := 0
	for _, tr := range old {
		if tr.Mode != ModeBrokered { // a brokered request's mirror is not kept: its record is
			created, err := c.createIfAbsent(ctx, tr.ID, func(r *store.Request) error { return encodeRecord(tr, r) })
			if err != nil {
				return moved, fmt.Errorf("import legacy tracked request %s: %w", tr.ID, err)
			}
			if created {
				moved++
			}
		}
		if err := c.cfg.Store.Delete(ctx, legacyBucket, tr.ID); err != nil {
			return moved, fmt.Errorf("delete legacy tracked request %s: %w", tr.ID, err)
		}
	}
	return moved, nil
}
