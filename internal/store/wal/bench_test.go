package wal

import (
	"errors"
	"path/filepath"
	"testing"
)

// BenchmarkAppend is one group of 4 records of 600 bytes per op: one pwrite and one fdatasync of the log's
// file (in the benchmark's temporary directory), with a Reset whenever the log is full.
func BenchmarkAppend(b *testing.B) {
	l, _, err := Open(filepath.Join(b.TempDir(), "bench.wal"), 1<<20, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	recs := group(1, 4, 600)
	b.SetBytes(4 * 600)
	b.ReportAllocs()
	for b.Loop() {
		_, err := l.Append(recs)
		if errors.Is(err, ErrFull) {
			l.Reset()
			_, err = l.Append(recs)
		}
		if err != nil {
			b.Fatal(err)
		}
	}
}
