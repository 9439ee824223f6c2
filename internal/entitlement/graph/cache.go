package graph

import (
	"sync"
	"time"
)

// ttlCache is a small map cache with per-entry expiry. Values are stored as they were returned and must
// not be mutated by callers (the client hands out copies of slices).
type ttlCache struct {
	mu  sync.Mutex
	now func() time.Time
	m   map[string]cacheEntry
}

type cacheEntry struct {
	v   any
	exp time.Time
}

func newTTLCache(now func() time.Time) *ttlCache {
	return &ttlCache{now: now, m: make(map[string]cacheEntry)}
}

func (c *ttlCache) get(key string) (any, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if !ok {
		return nil, false
	}
	if !c.now().Before(e.exp) {
		delete(c.m, key)
		return nil, false
	}
	return e.v, true
}

func (c *ttlCache) put(key string, v any, ttl time.Duration) {
	if ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) > 4096 { // bound memory: drop expired entries, then everything if still too big
		now := c.now()
		for k, e := range c.m {
			if !now.Before(e.exp) {
				delete(c.m, k)
			}
		}
		if len(c.m) > 4096 {
			c.m = make(map[string]cacheEntry)
		}
	}
	c.m[key] = cacheEntry{v: v, exp: c.now().Add(ttl)}
}

func (c *ttlCache) drop(prefix string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.m {
		if len(k) >= len(prefix) && k[:len(prefix)] == prefix {
			delete(c.m, k)
		}
	}
}

// cached returns the cached value for key or loads, caches and returns it.
func cached[T any](c *Client, key string, load func() (T, error)) (T, error) {
	if v, ok := c.cache.get(key); ok {
		if t, ok := v.(T); ok {
			return t, nil
		}
	}
	v, err := load()
	if err != nil {
		return v, err
	}
	c.cache.put(key, v, c.ttl)
	return v, nil
}
