package lifecycle

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/store"
)

// Records live in the store's requests (store.Request: indexed fields + the Tracked record as JSON Body).
// Every write is a compare-and-swap on the record's version (store.UpdateRequest): the update function may run
// more than once, so it only changes the record and queues outbox jobs, which are enqueued after the write.

// ErrNotFound is returned (wrapped) for a request the core has no record of.
var ErrNotFound = store.ErrNotFound

// errNoChange, returned by an update function, skips the write.
var errNoChange = store.ErrNoChange

// Get returns the record of a request; the error matches ErrNotFound when there is none.
func (c *Core) Get(ctx context.Context, id string) (*Tracked, error) {
	r, err := c.cfg.Store.GetRequest(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("load tracked request %s: %w", id, err)
	}
	return decodeRecord(r)
}

// decodeRecord is the Tracked record of a stored request (a brokered request's Mirror).
func decodeRecord(r store.Request) (*Tracked, error) {
	if br, ok, err := decodeBrokered(r); err != nil || ok {
		if err != nil {
			return nil, err
		}
		return br.Mirror(), nil
	}
	tr := &Tracked{ID: r.ID}
	if len(r.Body) > 0 {
		if err := json.Unmarshal(r.Body, tr); err != nil {
			return nil, fmt.Errorf("decode tracked request %s: %w", r.ID, err)
		}
	}
	tr.ID = r.ID
	if !tr.Expired && tr.deniedExpired() {
		tr.Expired = true // a record of a build before Expired: Graph's status it kept says so
	}
	return tr, nil
}

// encodeRecord writes tr into r: the indexed fields and the JSON body.
func encodeRecord(tr *Tracked, r *store.Request) error {
	body, err := json.Marshal(tr)
	if err != nil {
		return fmt.Errorf("encode tracked request %s: %w", tr.ID, err)
	}
	r.ID, r.Body = tr.ID, body
	r.Kind = store.KindTracked
	if tr.Mode == ModeBrokered {
		r.Kind = store.KindBrokered
	}
	r.State = string(tr.State)
	if r.State == "" {
		r.State = string(entitlement.StateUnknown)
	}
	r.TenantID, r.RequestorID, r.PackageID = tr.RequestorTenant, tr.RequestorID, tr.PackageID
	r.NextCheckAt = time.Time{}
	if !tr.Closed {
		r.NextCheckAt = tr.NextPoll
	}
	r.ClosedAt = closedAt(tr.Closed, r.ClosedAt, tr.UpdatedAt, tr.CreatedAt)
	if r.CreatedAt.IsZero() {
		r.CreatedAt = tr.CreatedAt
	}
	return nil
}

// update reads the record of id (a fresh record with only the id when there is none and create is set),
// applies fn and writes the result with a compare-and-swap, re-running fn when another writer changed the
// record in between. fn's errNoChange skips the write and returns the record as read. The outbox jobs of the
// written record are enqueued after the write.
func (c *Core) update(ctx context.Context, id string, create bool, fn func(tr *Tracked, isNew bool) error) (*Tracked, error) {
	var out *Tracked
	apply := func(r *store.Request, isNew bool) error {
		out = nil
		tr := &Tracked{ID: id}
		if !isNew {
			if _, brokered, _ := decodeBrokered(*r); brokered {
				return fmt.Errorf("update request %s: %w", id, errBrokered)
			}
			var err error
			if tr, err = decodeRecord(*r); err != nil {
				return err
			}
		}
		if err := fn(tr, isNew); err != nil {
			return err
		}
		tr.ID = id
		tr.UpdatedAt = c.now()
		out = tr
		return encodeRecord(tr, r)
	}
	if create {
		created, err := c.createIfAbsent(ctx, id, func(r *store.Request) error { return apply(r, true) })
		if err != nil {
			return nil, err
		}
		if created {
			c.flush(ctx, out)
			return out, nil
		}
	}
	r, err := c.cfg.Store.UpdateRequest(ctx, id, func(r *store.Request) error { return apply(r, false) })
	if err != nil {
		return nil, fmt.Errorf("update tracked request %s: %w", id, err)
	}
	if out == nil { // fn said errNoChange: the record as stored
		return decodeRecord(r)
	}
	c.flush(ctx, out)
	return out, nil
}

// createIfAbsent writes a new record built by apply when there is none. created is false when one exists
// already (read first, or another writer created it in between): the caller updates it instead.
func (c *Core) createIfAbsent(ctx context.Context, id string, apply func(r *store.Request) error) (created bool, err error) {
	if _, err := c.cfg.Store.GetRequest(ctx, id); err == nil {
		return false, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return false, fmt.Errorf("load tracked request %s: %w", id, err)
	}
	var r store.Request
	if err := apply(&r); err != nil {
		return false, err
	}
	if _, err := c.cfg.Store.CreateRequest(ctx, r); err != nil {
		if errors.Is(err, store.ErrExists) {
			return false, nil
		}
		return false, fmt.Errorf("create tracked request %s: %w", id, err)
	}
	return true, nil
}

// Put stores a tracked record as it is, replacing any earlier one (imports, tests).
func (c *Core) Put(ctx context.Context, tr *Tracked) error {
	_, err := c.update(ctx, tr.ID, true, func(cur *Tracked, _ bool) error {
		*cur = *tr
		cur.jobs = nil
		return nil
	})
	return err
}

// List returns every record (open and closed).
func (c *Core) List(ctx context.Context) ([]*Tracked, error) {
	return c.query(ctx, store.RequestQuery{})
}

// query returns the records a store query selects (undecodable ones are logged and skipped).
func (c *Core) query(ctx context.Context, q store.RequestQuery) ([]*Tracked, error) {
	rs, err := c.cfg.Store.ListRequests(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("list tracked requests: %w", err)
	}
	out := make([]*Tracked, 0, len(rs))
	for _, r := range rs {
		tr, err := decodeRecord(r)
		if err != nil {
			c.log.WarnContext(ctx, "decode tracked request", "id", r.ID, "err", err)
			continue
		}
		out = append(out, tr)
	}
	return out, nil
}

// Delete forgets a request's record (the tracker stops following it).
func (c *Core) Delete(ctx context.Context, id string) error {
	if err := c.cfg.Store.DeleteRequest(ctx, id); err != nil {
		return fmt.Errorf("delete tracked request %s: %w", id, err)
	}
	return nil
}
