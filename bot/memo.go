package bot

import "sync"

// memo is a bounded in-memory record, safe for concurrent use, of what this process already knows the store
// or Teams holds (which users' conversation references are stored, what an updated message shows, a tenant's
// stored service URL). It is forgotten all at once when it reaches its size: losing it costs one look or one
// write again, never a wrong answer.
type memo[V any] struct {
	mu  sync.Mutex
	max int
	m   map[string]V
}

func newMemo[V any](maxEntries int) *memo[V] {
	return &memo[V]{max: maxEntries}
}

// get returns what is remembered under k.
func (m *memo[V]) get(k string) (V, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.m[k]
	return v, ok
}

// put remembers v under k, first forgetting everything when the memo is full.
func (m *memo[V]) put(k string, v V) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil || len(m.m) >= m.max {
		m.m = make(map[string]V)
	}
	m.m[k] = v
}
