package memo

import "testing"

// TestForgetsAllWhenFull: a memo keeps up to its size, then starts over with the entry being added.
func TestForgetsAllWhenFull(t *testing.T) {
	m := New[string, int](2)
	m.Put("a", 1)
	m.Put("b", 2)
	m.Put("b", 3) // full: starts over with b
	if m.Len() != 1 {
		t.Errorf("Len() = %d after starting over, want 1", m.Len())
	}
	for _, tc := range []struct {
		key    string
		want   int
		wantOK bool
	}{{"a", 0, false}, {"b", 3, true}} {
		if v, ok := m.Get(tc.key); v != tc.want || ok != tc.wantOK {
			t.Errorf("Get(%q) = %d, %v; want %d, %v", tc.key, v, ok, tc.want, tc.wantOK)
		}
	}
}
