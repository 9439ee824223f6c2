package bot

import "testing"

// TestMemoForgetsAllWhenFull: a memo keeps up to its size, then starts over with the entry being added.
func TestMemoForgetsAllWhenFull(t *testing.T) {
	m := newMemo[int](2)
	m.put("a", 1)
	m.put("b", 2)
	m.put("b", 3) // full: starts over with b
	for _, tc := range []struct {
		key    string
		want   int
		wantOK bool
	}{{"a", 0, false}, {"b", 3, true}} {
		if v, ok := m.get(tc.key); v != tc.want || ok != tc.wantOK {
			t.Errorf("get(%q) = %d, %v; want %d, %v", tc.key, v, ok, tc.want, tc.wantOK)
		}
	}
}
