package wal

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// frameAt is the file offset of the frame of the i-th record (from 0) of a log whose records all have n bytes.
func frameAt(i, n int) int64 { return headerSize + int64(i*(frameOverhead+n)) }

// mangle changes the file at path in place.
func mangle(t *testing.T, path string, f func(b []byte)) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f(raw)
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
}

func zero(b []byte) {
	for i := range b {
		b[i] = 0
	}
}

// TestTornLastGroup: a crash during the flush of the last group leaves its frames torn; recovery returns
// exactly the records before it, and the log goes on after them.
func TestTornLastGroup(t *testing.T) {
	const n = 100
	last := frameAt(5, n) // the frame of record 6, the first of the last group (records 6 to 8)
	tests := []struct {
		name string
		tear func(b []byte)
	}{
		{"payload byte flipped", func(b []byte) { b[last+frameOverhead+n/2] ^= 0x40 }},
		{"tail zeroed", func(b []byte) { zero(b[last+frameOverhead+n-10 : frameAt(8, n)]) }},
		{"magic zeroed", func(b []byte) { zero(b[last : last+4]) }},
		{"length zeroed", func(b []byte) { zero(b[last+16 : last+20]) }},
		{"length too large", func(b []byte) { b[last+16] = 0x7f }},
		{"sequence number changed", func(b []byte) { b[last+15]++ }},
		{"whole group zeroed", func(b []byte) { zero(b[last:frameAt(8, n)]) }},
		// The group's first frame never reached the disk, the others did.
		{"first frame lost", func(b []byte) { zero(b[last : last+frameOverhead+n]) }},
		{"first frame torn, second lost", func(b []byte) { zero(b[last+frameOverhead : frameAt(7, n)]) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "state.wal")
			l, _ := mustOpen(t, path, MinSize, 0)
			mustAppend(t, l, group(1, 2, n), 2)
			mustAppend(t, l, group(3, 3, n), 5)
			mustAppend(t, l, group(6, 3, n), 8)
			_ = l.Close()
			mangle(t, path, tt.tear)

			l, recs := mustOpen(t, path, MinSize, 0)
			checkRecords(t, recs, want(1, 5, n))
			if l.Used() != frameAt(5, n)-headerSize {
				t.Fatalf("Used = %d, want %d", l.Used(), frameAt(5, n)-headerSize)
			}
			// Records of the same size as the torn ones: they land exactly on the torn group's frames.
			mustAppend(t, l, group(6, 1, n), 6)
			_ = l.Close()
			l, recs = mustOpen(t, path, MinSize, 0)
			checkRecords(t, recs, want(1, 6, n))
			mustAppend(t, l, group(7, 1, n), 7)
			_ = l.Close()
			_, recs = mustOpen(t, path, MinSize, 0)
			checkRecords(t, recs, want(1, 7, n))
		})
	}
}

// TestTornGroupAfterReset: the first group after a Reset is torn so that only its first frame is lost; what
// recovery finds and what is appended next must not bring the group's other frames back.
func TestTornGroupAfterReset(t *testing.T) {
	const n = 60
	path := filepath.Join(t.TempDir(), "state.wal")
	l, _ := mustOpen(t, path, MinSize, 0)
	mustAppend(t, l, group(1, 4, n), 4)
	l.Reset()
	mustAppend(t, l, group(5, 3, n), 7) // never acknowledged: the crash tears it
	_ = l.Close()
	mangle(t, path, func(b []byte) { zero(b[frameAt(0, n) : frameAt(0, n)+8]) })

	l, recs := mustOpen(t, path, MinSize, 4)
	checkRecords(t, recs, nil)
	mustAppend(t, l, group(5, 1, n), 5)
	_ = l.Close()
	_, recs = mustOpen(t, path, MinSize, 4)
	checkRecords(t, recs, want(5, 5, n))
}

// TestStaleFrameCannotContinue documents why recovery can stop at the first frame out of sequence: after a
// Reset, the frames the new records did not overwrite were all written before it, so their sequence numbers
// are below the new records' (which rise for the life of the log), never the one that would continue them.
// Here the new records are exactly as long as the stale ones, so a stale frame follows them on a frame
// boundary, intact: its sequence number is the only thing that stops recovery there.
func TestStaleFrameCannotContinue(t *testing.T) {
	const n = 40
	path := filepath.Join(t.TempDir(), "state.wal")
	l, _ := mustOpen(t, path, MinSize, 0)
	mustAppend(t, l, group(1, 6, n), 6)
	l.Reset()
	mustAppend(t, l, group(7, 2, n), 8)
	_ = l.Close()

	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := 2; i < 6; i++ { // the stale frames of records 3 to 6, intact, after the new records 7 and 8
		r := newFrameReader(raw[frameAt(i, n):])
		seq, _, size := readFrame(r, int64(len(raw))-frameAt(i, n), l.salt)
		if size == 0 || seq != uint64(i)+1 || seq >= 7 {
			t.Fatalf("stale frame %d: seq %d, size %d; want an intact record %d below the new records", i, seq, size, i+1)
		}
	}
	_, recs := mustOpen(t, path, MinSize, 6)
	checkRecords(t, recs, want(7, 8, n))
}

// TestBroken: once a write fails, every later Append fails with ErrBroken, even after a Reset.
func TestBroken(t *testing.T) {
	tests := []struct {
		name   string
		break_ func(t *testing.T, l *Log)
	}{
		{"read-only file", func(t *testing.T, l *Log) {
			ro, err := os.Open(l.path)
			if err != nil {
				t.Fatal(err)
			}
			_ = l.f.Close()
			l.f = ro
		}},
		{"closed file", func(t *testing.T, l *Log) { _ = l.f.Close() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "state.wal")
			l, _, err := Open(path, MinSize, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			mustAppend(t, l, group(1, 1, 10), 1)
			tt.break_(t, l)
			if _, err := l.Append(group(2, 1, 10)); err == nil || errors.Is(err, ErrBroken) {
				t.Fatalf("first failing Append = %v, want the write's own error", err)
			}
			for range 2 {
				if _, err := l.Append(group(2, 1, 10)); !errors.Is(err, ErrBroken) {
					t.Fatalf("later Append = %v, want ErrBroken", err)
				}
			}
			l.Reset()
			if _, err := l.Append(group(2, 1, 10)); !errors.Is(err, ErrBroken) {
				t.Fatalf("Append after Reset = %v, want ErrBroken", err)
			}
			// What was durable before the failure is still found.
			_, recs := mustOpen(t, path, MinSize, 0)
			checkRecords(t, recs, want(1, 1, 10))
		})
	}
}

// TestFdatasync: the flush works on an open log file and fails, without touching any descriptor, on a closed one.
func TestFdatasync(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.wal")
	l, _, err := Open(path, MinSize, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := fdatasync(l.f); err != nil {
		t.Fatalf("fdatasync of the open log: %v", err)
	}
	_ = l.Close()
	// Not EBADF from a descriptor number used after Close (which another file may have taken by then).
	if err := fdatasync(l.f); err == nil || errors.Is(err, syscall.EBADF) {
		t.Fatalf("fdatasync of the closed log = %v, want the file's own closed-file error", err)
	}
}
