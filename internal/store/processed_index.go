package store

import (
	"iter"
	"slices"
	"sync"
)

// processedIndex is the set of (hash of an activity key, second) pairs of the processed log's records: the
// seconds in which records of each hash were written. A hash has more than one second only when two keys
// collide, or when an activity's completion was written twice (a turn whose claim was taken over).
//
// A pair is one uint64 (hash<<32 | second), so the pairs of a hash are adjacent in ascending order and their
// seconds come out earliest first. The pairs known at the last compaction are a sorted slice (base: 8 bytes a
// record, where a map of the same records costs 12 bytes at its exact size and twice that once it has grown);
// a base pair removed since is marked in a bitset (dead), and a pair added since is in a small sorted slice of
// its own (added). When the additions or the removals pass a sixteenth of the base, the live pairs of both are
// merged into a new base (compact), so the index stays within about an eighth of its records while pruning
// removes every record of a day and turns add as many. Lookups are binary searches and allocate nothing.
type processedIndex struct {
	mu    sync.RWMutex
	base  []uint64 // the pairs at the last compaction, ascending, each once
	dead  []uint64 // a bit per base pair: removed since (nil until the first removal after a compaction)
	ndead int      // the bits set in dead
	added []uint64 // the pairs added since the last compaction that base lacks, ascending
	seq   uint32   // the last sequence number given (nextSeq)
}

// compactMin is the number of additions or removals below which the index does not compact (a small base).
const compactMin = 256

// compactShift sets the fraction of the base (1/2^compactShift) that the additions or the removals pass to
// make the index compact: each compaction copies the base, so it runs once every len(base)/16 changes.
const compactShift = 4

// indexPair is the index's pair of hash h and second t.
func indexPair(h, t uint32) uint64 { return uint64(h)<<32 | uint64(t) }

// hashSpan returns the bounds [i, j) of the pairs of hash h in the ascending pairs s.
func hashSpan(s []uint64, h uint32) (i, j int) {
	i, _ = slices.BinarySearch(s, uint64(h)<<32)
	for j = i; j < len(s) && uint32(s[j]>>32) == h; j++ {
	}
	return i, j
}

// nextSeq is the sequence number of the next record written.
func (x *processedIndex) nextSeq() uint32 {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.seq++
	return x.seq
}

// continueAfter makes nextSeq give numbers above seq (a record replayed from the write-ahead log has it).
func (x *processedIndex) continueAfter(seq uint32) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.seq = max(x.seq, seq)
}

// load replaces the index's pairs with pairs (in any order, duplicates allowed), which it keeps and sorts.
func (x *processedIndex) load(pairs []uint64) {
	slices.Sort(pairs)
	pairs = slices.Compact(pairs)
	x.mu.Lock()
	defer x.mu.Unlock()
	x.base, x.dead, x.ndead, x.added = pairs, nil, 0, nil
}

// has reports whether the log holds a record of hash h.
func (x *processedIndex) has(h uint32) bool {
	x.mu.RLock()
	defer x.mu.RUnlock()
	for i, j := hashSpan(x.base, h); i < j; i++ {
		if !x.removed(i) {
			return true
		}
	}
	i, j := hashSpan(x.added, h)
	return i < j
}

// appendTimes appends the seconds of hash h's records to dst, earliest first, and returns the extended slice
// (a caller with a small array on its stack allocates nothing).
func (x *processedIndex) appendTimes(dst []uint32, h uint32) []uint32 {
	x.mu.RLock()
	defer x.mu.RUnlock()
	bi, bj := hashSpan(x.base, h)
	ai, aj := hashSpan(x.added, h)
	for bi < bj || ai < aj {
		if ai == aj || (bi < bj && x.base[bi] < x.added[ai]) { // a pair is never in both
			if !x.removed(bi) {
				dst = append(dst, uint32(x.base[bi]))
			}
			bi++
		} else {
			dst = append(dst, uint32(x.added[ai]))
			ai++
		}
	}
	return dst
}

// add records that the log holds a record of hash h written in second t.
func (x *processedIndex) add(h, t uint32) {
	p := indexPair(h, t)
	x.mu.Lock()
	defer x.mu.Unlock()
	if i, ok := slices.BinarySearch(x.base, p); ok {
		if x.removed(i) {
			x.dead[i/64] &^= 1 << (i % 64)
			x.ndead--
		}
		return
	}
	i, ok := slices.BinarySearch(x.added, p)
	if ok {
		return
	}
	x.added = slices.Insert(x.added, i, p)
	if len(x.added) > x.compactAt() {
		x.compact()
	}
}

// remove forgets the records of hash h written in second t.
func (x *processedIndex) remove(h, t uint32) {
	p := indexPair(h, t)
	x.mu.Lock()
	defer x.mu.Unlock()
	if i, ok := slices.BinarySearch(x.base, p); ok {
		if x.removed(i) {
			return
		}
		if x.dead == nil {
			x.dead = make([]uint64, (len(x.base)+63)/64)
		}
		x.dead[i/64] |= 1 << (i % 64)
		if x.ndead++; x.ndead > x.compactAt() {
			x.compact()
		}
		return
	}
	if i, ok := slices.BinarySearch(x.added, p); ok {
		x.added = slices.Delete(x.added, i, i+1)
	}
}

// removed reports whether base pair i was removed since the last compaction (x.mu held).
func (x *processedIndex) removed(i int) bool {
	return x.dead != nil && x.dead[i/64]&(1<<(i%64)) != 0
}

// compactAt is the number of additions, or of removals, above which the index compacts (x.mu held).
func (x *processedIndex) compactAt() int {
	return max(compactMin, len(x.base)>>compactShift)
}

// live is the number of pairs in the index (x.mu held).
func (x *processedIndex) live() int { return len(x.base) - x.ndead + len(x.added) }

// all yields the index's pairs in ascending order, each once: the base pairs not removed merged with the added
// ones, what a compaction makes the new base (x.mu held while it runs).
func (x *processedIndex) all() iter.Seq[uint64] {
	return func(yield func(uint64) bool) {
		ai := 0
		for i, p := range x.base {
			for ; ai < len(x.added) && x.added[ai] < p; ai++ {
				if !yield(x.added[ai]) {
					return
				}
			}
			if !x.removed(i) && !yield(p) {
				return
			}
		}
		for _, p := range x.added[ai:] {
			if !yield(p) {
				return
			}
		}
	}
}

// compact merges the live base pairs and the added ones into a new base (x.mu held for writing). The added
// slice keeps its array for the next additions unless the base shrank to well below what it was sized for.
func (x *processedIndex) compact() {
	merged := slices.AppendSeq(make([]uint64, 0, x.live()), x.all())
	x.base, x.dead, x.ndead = merged, nil, 0
	if cap(x.added) > 2*x.compactAt() {
		x.added = nil
	} else {
		x.added = x.added[:0]
	}
}
