package lifecycle

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/accessbot/accessbot/internal/store"
)

// bucketTracked is the store bucket of the records.
const bucketTracked = "tracked"

// ErrNotFound is returned (wrapped) for a request the core has no record of.
var ErrNotFound = store.ErrNotFound

// errNoChange, returned by an update function, skips the write.
var errNoChange = errors.New("no change")

type keyLock struct {
	ch   chan struct{}
	refs int
}

// lock serializes writes of one record inside this process and returns the unlock function.
func (c *Core) lock(id string) func() {
	c.locksMu.Lock()
	if c.locks == nil {
		c.locks = map[string]*keyLock{}
	}
	l := c.locks[id]
	if l == nil {
		l = &keyLock{ch: make(chan struct{}, 1)}
		c.locks[id] = l
	}
	l.refs++
	c.locksMu.Unlock()
	l.ch <- struct{}{}
	return func() {
		<-l.ch
		c.locksMu.Lock()
		l.refs--
		if l.refs == 0 {
			delete(c.locks, id)
		}
		c.locksMu.Unlock()
	}
}

// Get returns the record of a request; the error matches ErrNotFound when there is none.
func (c *Core) Get(ctx context.Context, id string) (*Tracked, error) {
	var tr Tracked
	if err := c.cfg.Store.Get(ctx, bucketTracked, id, &tr); err != nil {
		return nil, fmt.Errorf("load tracked request %s: %w", id, err)
	}
	return &tr, nil
}

// update reads the record of id (a fresh zero record with only the id when there is none and create is set),
// applies fn and writes the result; fn's errNoChange skips the write and returns the record as read. The
// outbox jobs fn queued are enqueued after the write.
func (c *Core) update(ctx context.Context, id string, create bool, fn func(tr *Tracked, isNew bool) error) (*Tracked, error) {
	unlock := c.lock(id)
	defer unlock()
	tr, err := c.Get(ctx, id)
	isNew := false
	if err != nil {
		if !create || !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		tr, isNew = &Tracked{ID: id}, true
	}
	if err := fn(tr, isNew); err != nil {
		if errors.Is(err, errNoChange) {
			tr.jobs = nil
			return tr, nil
		}
		return nil, err
	}
	tr.UpdatedAt = c.now()
	if err := c.cfg.Store.Put(ctx, bucketTracked, id, tr); err != nil {
		return nil, fmt.Errorf("save tracked request %s: %w", id, err)
	}
	c.flush(ctx, tr)
	return tr, nil
}

// Put stores a record as it is, replacing any earlier one (the brokered flow's mirror of its own record).
func (c *Core) Put(ctx context.Context, tr *Tracked) error {
	_, err := c.update(ctx, tr.ID, true, func(cur *Tracked, _ bool) error {
		*cur = *tr
		cur.jobs = nil
		return nil
	})
	return err
}

// list calls fn for every record (undecodable ones are logged and skipped).
func (c *Core) list(ctx context.Context, fn func(tr *Tracked)) error {
	err := c.cfg.Store.List(ctx, bucketTracked, "", func(key string, raw []byte) error {
		var tr Tracked
		if err := json.Unmarshal(raw, &tr); err != nil {
			c.log.WarnContext(ctx, "decode tracked request", "id", key, "err", err)
			return nil
		}
		fn(&tr)
		return nil
	})
	if err != nil {
		return fmt.Errorf("list tracked requests: %w", err)
	}
	return nil
}

// List returns every record (open and closed).
func (c *Core) List(ctx context.Context) ([]*Tracked, error) {
	var out []*Tracked
	err := c.list(ctx, func(tr *Tracked) { out = append(out, tr) })
	return out, err
}

// Delete forgets a request's record (the tracker stops following it).
func (c *Core) Delete(ctx context.Context, id string) error {
	if err := c.cfg.Store.Delete(ctx, bucketTracked, id); err != nil {
		return fmt.Errorf("delete tracked request %s: %w", id, err)
	}
	return nil
}
