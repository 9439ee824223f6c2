package lifecycle

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/accessbot/accessbot/internal/store"
)

// legacyBucket is the generic-record bucket where builds before the store's requests table kept the records.
const legacyBucket = "tracked"

// ImportLegacy moves the records an older build kept in the generic "tracked" bucket into the requests table
// (a record already there wins) and deletes the old copies. It is idempotent; the tracker runs it when it
// starts. It returns how many records it moved.
func (c *Core) ImportLegacy(ctx context.Context) (int, error) {
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
		created, err := c.createIfAbsent(ctx, tr.ID, func(r *store.Request) error { return encodeRecord(tr, r) })
		if err != nil {
			return moved, fmt.Errorf("import legacy tracked request %s: %w", tr.ID, err)
		}
		if created {
			moved++
		}
		if err := c.cfg.Store.Delete(ctx, legacyBucket, tr.ID); err != nil {
			return moved, fmt.Errorf("delete legacy tracked request %s: %w", tr.ID, err)
		}
	}
	if moved > 0 {
		c.log.InfoContext(ctx, "moved tracked requests into the requests table", "count", moved)
	}
	return moved, nil
}
