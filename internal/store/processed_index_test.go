package store

import (
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"testing"
)

// len is the number of (hash, second) pairs of the index (the tests check it against the log).
func (x *processedIndex) len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.live()
}

// times is appendTimes into a new slice (nil when h has no record).
func (x *processedIndex) times(h uint32) []uint32 { return x.appendTimes(nil, h) }

// indexOp is one step of a test of the index: an addition or (remove) a removal of the pair (h, t).
type indexOp struct {
	remove bool
	h, t   uint32
}

func add(h, t uint32) indexOp { return indexOp{h: h, t: t} }
func del(h, t uint32) indexOp { return indexOp{remove: true, h: h, t: t} }

func (x *processedIndex) apply(ops ...indexOp) {
	for _, op := range ops {
		if op.remove {
			x.remove(op.h, op.t)
		} else {
			x.add(op.h, op.t)
		}
	}
}

// TestProcessedIndex covers the bookkeeping of several records per hash, in the loaded base and among the
// pairs added since, and that the hashes beside one (and at the ends of the range) stay apart.
func TestProcessedIndex(t *testing.T) {
	const top = ^uint32(0)
	tests := []struct {
		name string
		base []uint64 // loaded first
		ops  []indexOp
		want map[uint32][]uint32 // the seconds of these hashes (absent: none)
	}{
		{"one added", nil, []indexOp{add(42, 5)}, map[uint32][]uint32{42: {5}}},
		{"added kept sorted", nil, []indexOp{add(42, 9), add(42, 3), add(42, 7)}, map[uint32][]uint32{42: {3, 7, 9}}},
		{"added twice", nil, []indexOp{add(42, 4), add(42, 4)}, map[uint32][]uint32{42: {4}}},
		{"loaded twice", []uint64{indexPair(42, 4), indexPair(42, 4)}, nil, map[uint32][]uint32{42: {4}}},
		{"loaded unsorted", []uint64{indexPair(42, 9), indexPair(7, 1), indexPair(42, 3)}, nil,
			map[uint32][]uint32{42: {3, 9}, 7: {1}}},
		{"base pair added again", []uint64{indexPair(42, 4)}, []indexOp{add(42, 4)}, map[uint32][]uint32{42: {4}}},
		{"base and added interleaved", []uint64{indexPair(42, 1), indexPair(42, 5)}, []indexOp{add(42, 3), add(42, 8)},
			map[uint32][]uint32{42: {1, 3, 5, 8}}},
		{"remove added first", nil, []indexOp{add(42, 1), add(42, 2), add(42, 3), del(42, 1)},
			map[uint32][]uint32{42: {2, 3}}},
		{"remove added middle", nil, []indexOp{add(42, 1), add(42, 2), add(42, 3), del(42, 2)},
			map[uint32][]uint32{42: {1, 3}}},
		{"remove added all", nil, []indexOp{add(42, 1), add(42, 2), del(42, 2), del(42, 1)}, nil},
		{"remove base middle", []uint64{indexPair(42, 1), indexPair(42, 2), indexPair(42, 3)}, []indexOp{del(42, 2)},
			map[uint32][]uint32{42: {1, 3}}},
		{"remove base twice", []uint64{indexPair(42, 1), indexPair(42, 2)}, []indexOp{del(42, 1), del(42, 1)},
			map[uint32][]uint32{42: {2}}},
		{"remove base and added", []uint64{indexPair(42, 1)}, []indexOp{add(42, 2), del(42, 1), del(42, 2)}, nil},
		{"removed base pair added again", []uint64{indexPair(42, 1), indexPair(42, 2)}, []indexOp{del(42, 1), add(42, 1)},
			map[uint32][]uint32{42: {1, 2}}},
		{"remove unknown", []uint64{indexPair(42, 1)}, []indexOp{add(42, 3), del(42, 8), del(41, 1), del(43, 3)},
			map[uint32][]uint32{42: {1, 3}}},
		{"neighbours apart", []uint64{indexPair(41, 7), indexPair(43, 0)}, []indexOp{add(42, top), add(41, 0), add(43, top)},
			map[uint32][]uint32{41: {0, 7}, 42: {top}, 43: {0, top}}},
		{"ends of the range", []uint64{indexPair(0, 0), indexPair(top, top)}, []indexOp{add(0, top), add(top, 0)},
			map[uint32][]uint32{0: {0, top}, top: {0, top}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var x processedIndex
			x.load(slices.Clone(tt.base))
			x.apply(tt.ops...)
			n := 0
			for _, h := range []uint32{0, 1, 7, 41, 42, 43, top - 1, top} {
				want := tt.want[h]
				n += len(want)
				if got := x.times(h); !slices.Equal(got, want) {
					t.Errorf("times(%d) = %v, want %v", h, got, want)
				}
				if got := x.has(h); got != (len(want) > 0) {
					t.Errorf("has(%d) = %v, want %v", h, got, len(want) > 0)
				}
			}
			if x.len() != n {
				t.Errorf("len = %d, want %d", x.len(), n)
			}
		})
	}
}

// loadedIndex is an index loaded with n pairs of distinct hashes (2i+1, second 1000+i).
func loadedIndex(n int) *processedIndex {
	pairs := make([]uint64, n)
	for i := range pairs {
		pairs[i] = indexPair(uint32(2*i+1), uint32(1000+i))
	}
	x := &processedIndex{}
	x.load(pairs)
	return x
}

// TestProcessedIndexCompacts: the additions, or the removals, merge into the base when they pass a sixteenth of
// it (or compactMin), not before, and what the index holds is the same before and after.
func TestProcessedIndexCompacts(t *testing.T) {
	tests := []struct {
		name      string
		base      int
		remove    bool
		threshold int
	}{
		{"additions to an empty index", 0, false, compactMin},
		{"additions to a small base", 1000, false, compactMin},
		{"additions to a large base", 16 * 1000, false, 1000},
		{"removals from a small base", 1000, true, compactMin},
		{"removals from a large base", 16 * 1000, true, 1000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := loadedIndex(tt.base)
			step := func(i int) {
				if tt.remove {
					x.remove(uint32(2*i+1), uint32(1000+i))
				} else {
					x.add(uint32(2*i), 7) // even hashes: not in the base
				}
			}
			for i := range tt.threshold {
				step(i)
			}
			if len(x.base) != tt.base {
				t.Fatalf("compacted after %d changes, want after %d", tt.threshold, tt.threshold+1)
			}
			want := tt.base + tt.threshold
			if tt.remove {
				want = tt.base - tt.threshold
			}
			if x.len() != want {
				t.Fatalf("len before compacting = %d, want %d", x.len(), want)
			}
			step(tt.threshold)
			if tt.remove {
				want--
			} else {
				want++
			}
			if len(x.base) != want || len(x.added) != 0 || x.ndead != 0 || x.dead != nil {
				t.Fatalf("after %d changes: base %d, added %d, removed %d; want a base of %d and nothing else",
					tt.threshold+1, len(x.base), len(x.added), x.ndead, want)
			}
			if !slices.IsSorted(x.base) {
				t.Fatal("the compacted base is not sorted")
			}
			for i := range tt.threshold + 1 {
				h, sec := uint32(2*i), uint32(7)
				if tt.remove {
					h, sec = uint32(2*i+1), 1000+uint32(i)
				}
				if got := x.has(h); got == tt.remove {
					t.Fatalf("after compacting, has(%d) = %v", h, got)
				}
				if !tt.remove && !slices.Equal(x.times(h), []uint32{sec}) {
					t.Fatalf("after compacting, times(%d) = %v, want [%d]", h, x.times(h), sec)
				}
			}
		})
	}
}

// TestProcessedIndexStaysBounded: a day of pruning and turns (every loaded record removed and as many added,
// several times over) keeps the index within a sixteenth of its live records for the base and for the added.
func TestProcessedIndexStaysBounded(t *testing.T) {
	const n = 20_000
	x := loadedIndex(n)
	oldest := make([][2]uint32, 0, 4*n) // the records in write order, as the log holds them
	for i := range n {
		oldest = append(oldest, [2]uint32{uint32(2*i + 1), uint32(1000 + i)})
	}
	for i := range 3 * n {
		x.remove(oldest[0][0], oldest[0][1])
		oldest = oldest[1:]
		h, sec := keyHash("turn-"+strconv.Itoa(i)), uint32(1000+n+i)
		x.add(h, sec)
		oldest = append(oldest, [2]uint32{h, sec})
		if live := x.len(); len(x.base) > live+live/16+compactMin || cap(x.added) > 2*(live/16+compactMin) {
			t.Fatalf("after %d turns: %d live records in a base of %d and added of capacity %d",
				i+1, live, len(x.base), cap(x.added))
		}
	}
	if x.len() != n {
		t.Fatalf("len = %d, want %d", x.len(), n)
	}
	for _, r := range oldest {
		if !slices.Contains(x.times(r[0]), r[1]) {
			t.Fatalf("record (%d, %d) lost", r[0], r[1])
		}
	}
}

// TestProcessedIndexModel runs random additions, removals and reloads against a map of the pairs, over few
// hashes and seconds (collisions and duplicates are common) and enough pairs to compact many times.
func TestProcessedIndexModel(t *testing.T) {
	for seed := range uint64(4) {
		t.Run("seed "+strconv.FormatUint(seed, 10), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 15))
			var x processedIndex
			model := map[uint64]bool{}
			hashes, secs := uint32(64+rng.IntN(64)), uint32(8+rng.IntN(64))
			compactions := 0
			for step := range 30_000 {
				h, sec := rng.Uint32N(hashes), rng.Uint32N(secs)
				base := len(x.base)
				switch r := rng.IntN(1000); {
				case r == 0: // a restart
					pairs := make([]uint64, 0, len(model))
					for p := range model {
						pairs = append(pairs, p, p) // each twice: the log may hold two records of a second
					}
					x.load(pairs)
				case r < 550:
					x.add(h, sec)
					model[indexPair(h, sec)] = true
				default:
					x.remove(h, sec)
					delete(model, indexPair(h, sec))
				}
				if len(x.base) != base {
					compactions++
				}
				check := []uint32{h, rng.Uint32N(hashes)}
				if step%1000 == 999 {
					check = nil
					for h := range hashes {
						check = append(check, h)
					}
					if x.len() != len(model) {
						t.Fatalf("step %d: len = %d, want %d", step, x.len(), len(model))
					}
				}
				for _, h := range check {
					var want []uint32
					for sec := range secs {
						if model[indexPair(h, sec)] {
							want = append(want, sec)
						}
					}
					if got := x.times(h); !slices.Equal(got, want) || x.has(h) != (want != nil) {
						t.Fatalf("step %d: times(%d) = %v, has %v; want %v", step, h, got, x.has(h), want)
					}
				}
			}
			if compactions < 10 {
				t.Fatalf("only %d compactions: the test does not cover them", compactions)
			}
		})
	}
}

// TestProcessedIndexConcurrent: readers see the pairs no writer touches through every addition, removal and
// compaction of the others (run with -race).
func TestProcessedIndexConcurrent(t *testing.T) {
	x := loadedIndex(4096) // odd hashes: read, never written
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 5000 {
				h := uint32(2 * (w*5000 + i)) // even hashes: this writer's own
				x.add(h, uint32(i))
				if !x.has(h) {
					t.Errorf("writer %d: pair (%d, %d) not found after its addition", w, h, i)
					return
				}
				if i%2 == 0 {
					x.remove(h, uint32(i))
				}
				x.remove(uint32(2*((w*5000+i)%4096)+1), 1) // a second the loaded pairs do not have
			}
		})
	}
	for r := range 4 {
		wg.Go(func() {
			var buf [4]uint32
			for i := range 20_000 {
				k := (r*20_000 + i) % 4096
				h := uint32(2*k + 1)
				if got := x.appendTimes(buf[:0], h); len(got) != 1 || got[0] != uint32(1000+k) || !x.has(h) {
					t.Errorf("reader %d: times(%d) = %v, want [%d]", r, h, got, 1000+k)
					return
				}
			}
		})
	}
	wg.Wait()
	if want := 4096 + 4*2500; x.len() != want {
		t.Fatalf("len = %d, want %d", x.len(), want)
	}
}

// TestProcessedIndexLookupsAllocateNothing: the per-turn lookups (has, and appendTimes into a caller's array as
// findProcessed does) allocate nothing, for a hash in the base, one added since and one unknown.
func TestProcessedIndexLookupsAllocateNothing(t *testing.T) {
	x := loadedIndex(1000)
	x.add(2, 9)
	x.add(3, 7) // hash 3 has a second in the base and one added
	for _, h := range []uint32{1, 2, 3, 4} {
		allocs := testing.AllocsPerRun(100, func() {
			var buf [4]uint32
			if x.has(h) != (len(x.appendTimes(buf[:0], h)) > 0) {
				t.Fatal("has and appendTimes disagree")
			}
		})
		if allocs != 0 {
			t.Errorf("lookup of hash %d: %v allocations, want 0", h, allocs)
		}
	}
}

// benchIndex is an index as a restart leaves it at 100k stored conversations (one record each), after a short
// load: 20k turns added since.
func benchIndex() *processedIndex {
	const loaded, turns = 100_000, 20_000
	pairs := make([]uint64, 0, loaded)
	for i := range loaded {
		pairs = append(pairs, indexPair(keyHash("msteams|a:conv-"+strconv.Itoa(i)+"|act"), 1_800_000_000+uint32(i/2)))
	}
	x := &processedIndex{}
	x.load(pairs)
	for i := range turns {
		x.add(keyHash("msteams|a:conv-"+strconv.Itoa(i)+"|act-2"), 1_800_050_000+uint32(i/4))
	}
	return x
}

// BenchmarkProcessedIndexMemory reports the heap the index holds (heap-B) at 100k records loaded and 20k added.
func BenchmarkProcessedIndexMemory(b *testing.B) {
	var before, after runtime.MemStats
	for b.Loop() {
		runtime.GC()
		runtime.ReadMemStats(&before)
		x := benchIndex()
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc), "heap-B")
		runtime.KeepAlive(x)
	}
}

// BenchmarkProcessedIndexLookup measures the per-turn lookups of BenchmarkProcessedIndexMemory's index: has
// (Processed and the write-ahead log's eligibility) of a hash it holds and of one it does not, and the seconds
// of a hash it holds (findProcessed).
func BenchmarkProcessedIndexLookup(b *testing.B) {
	x := benchIndex()
	known := make([]uint32, 1024)
	unknown := make([]uint32, 1024)
	for i := range known {
		known[i] = keyHash("msteams|a:conv-" + strconv.Itoa(i*97) + "|act")
		unknown[i] = keyHash("msteams|a:other-" + strconv.Itoa(i) + "|act")
	}
	b.Run("has-known", func(b *testing.B) {
		i := 0
		for b.Loop() {
			if !x.has(known[i%1024]) {
				b.Fatal("not found")
			}
			i++
		}
	})
	b.Run("has-unknown", func(b *testing.B) {
		i := 0
		for b.Loop() {
			if x.has(unknown[i%1024]) {
				b.Fatal("found")
			}
			i++
		}
	})
	b.Run("times-known", func(b *testing.B) {
		i := 0
		for b.Loop() {
			var buf [4]uint32
			if len(x.appendTimes(buf[:0], known[i%1024])) == 0 {
				b.Fatal("not found")
			}
			i++
		}
	})
}
