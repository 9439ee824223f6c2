// Package memo is a bounded in-memory map, safe for concurrent use, for what a process remembers only to save
// work: which users' conversation references are stored, what an updated message shows, a tenant's stored
// service URL, the metric children of an outbound path. It is forgotten all at once when it reaches its size,
// so losing it must cost only the work again (one look, one write, one lookup), never a wrong answer.
package memo

import "sync"

// Map is a memo of up to its size entries.
type Map[K comparable, V any] struct {
	mu  sync.Mutex
	max int
	m   map[K]V
}

// New returns an empty memo of up to maxEntries entries.
func New[K comparable, V any](maxEntries int) *Map[K, V] {
	return &Map[K, V]{max: maxEntries}
}

// Get returns what is remembered under k.
func (m *Map[K, V]) Get(k K) (V, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.m[k]
	return v, ok
}

// Put remembers v under k, first forgetting everything when the memo is full.
func (m *Map[K, V]) Put(k K, v V) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil || len(m.m) >= m.max {
		m.m = make(map[K]V)
	}
	m.m[k] = v
}

// Len is the number of entries remembered now.
func (m *Map[K, V]) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.m)
}
