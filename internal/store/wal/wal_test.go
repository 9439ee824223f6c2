package wal

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// payload is the test payload of record seq: n bytes derived from seq, so a record found again can be checked.
func payload(seq uint64, n int) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(seq*31 + uint64(i))
	}
	return p
}

// group is k test records of n bytes each, for sequence numbers first, first+1, ...
func group(first uint64, k, n int) [][]byte {
	recs := make([][]byte, k)
	for i := range recs {
		recs[i] = payload(first+uint64(i), n)
	}
	return recs
}

// want is what recovery returns for records first..last of n bytes each.
func want(first, last uint64, n int) []Record {
	var recs []Record
	for s := first; s <= last; s++ {
		recs = append(recs, Record{Seq: s, Data: payload(s, n)})
	}
	return recs
}

func mustOpen(t *testing.T, path string, size int64, after uint64) (*Log, []Record) {
	t.Helper()
	l, recs, err := Open(path, size, after)
	if err != nil {
		t.Fatalf("Open(%d, after %d): %v", size, after, err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l, recs
}

func mustAppend(t *testing.T, l *Log, recs [][]byte, wantLast uint64) {
	t.Helper()
	last, err := l.Append(recs)
	if err != nil {
		t.Fatalf("Append(%d records): %v", len(recs), err)
	}
	if last != wantLast {
		t.Fatalf("Append(%d records) = %d, want %d", len(recs), last, wantLast)
	}
}

func checkRecords(t *testing.T, got, want []Record) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("recovered %d records (%s), want %d (%s)", len(got), seqs(got), len(want), seqs(want))
	}
	for i := range got {
		if got[i].Seq != want[i].Seq || !bytes.Equal(got[i].Data, want[i].Data) {
			t.Fatalf("record %d: seq %d (%d bytes), want seq %d (%d bytes) or other data", i, got[i].Seq,
				len(got[i].Data), want[i].Seq, len(want[i].Data))
		}
	}
}

func seqs(recs []Record) string {
	var b strings.Builder
	for i, r := range recs {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprint(&b, r.Seq)
	}
	return b.String()
}

func TestCreate(t *testing.T) {
	for _, size := range []int64{MinSize, MinSize + 1, 1 << 20, 3<<16 + 12345} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "state.wal")
			l, recs := mustOpen(t, path, size, 0)
			if len(recs) != 0 || l.Used() != 0 || l.Capacity() != size-headerSize {
				t.Fatalf("new log: %d records, used %d, capacity %d", len(recs), l.Used(), l.Capacity())
			}
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Size() != size || fi.Mode().Perm() != 0o600 {
				t.Fatalf("file: %d bytes, mode %v; want %d bytes, mode 0600", fi.Size(), fi.Mode().Perm(), size)
			}
			if _, err := os.Stat(path + ".new"); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("temporary file: %v, want it gone", err)
			}
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if string(raw[:16]) != headerMagic || binary.BigEndian.Uint64(raw[16:]) != uint64(size) {
				t.Fatalf("header %q", raw[:36])
			}
			if i := bytes.IndexFunc(raw[36:], func(r rune) bool { return r != 0 }); i >= 0 {
				t.Fatalf("byte %d is not zero", 36+i)
			}
		})
	}
}

// TestSaltDiffers: every log gets its own random salt, so a frame copied from one log (or built by someone
// who cannot read the header) does not pass for a frame of another.
func TestSaltDiffers(t *testing.T) {
	dir := t.TempDir()
	a, _ := mustOpen(t, filepath.Join(dir, "a.wal"), MinSize, 0)
	b, _ := mustOpen(t, filepath.Join(dir, "b.wal"), MinSize, 0)
	if a.salt == b.salt {
		t.Fatalf("two logs share the salt %08x", a.salt)
	}
	mustAppend(t, a, group(1, 1, 40), 1)
	_ = a.Close()
	raw, err := os.ReadFile(filepath.Join(dir, "a.wal"))
	if err != nil {
		t.Fatal(err)
	}
	frame := raw[headerSize : headerSize+frameOverhead+40]
	if _, _, n := readFrame(newFrameReader(frame), int64(len(frame)), b.salt); n != 0 {
		t.Fatal("a frame of one log reads as a frame of another")
	}
	if _, _, n := readFrame(newFrameReader(frame), int64(len(frame)), a.salt); n == 0 {
		t.Fatal("the frame does not read in its own log")
	}
}

func TestReopenKeepsItsSize(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.wal")
	l, _ := mustOpen(t, path, 3*MinSize, 0)
	mustAppend(t, l, group(1, 2, 100), 2)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	for _, size := range []int64{MinSize, 10 * MinSize} {
		l, recs := mustOpen(t, path, size, 0)
		checkRecords(t, recs, want(1, 2, 100))
		if l.Capacity() != 3*MinSize-headerSize {
			t.Fatalf("reopened with %d: capacity %d, want %d", size, l.Capacity(), 3*MinSize-headerSize)
		}
		if fi, err := os.Stat(path); err != nil || fi.Size() != 3*MinSize {
			t.Fatalf("reopened with %d: stat %v, %v", size, fi, err)
		}
		_ = l.Close()
	}
}

func TestSizeBelowMinimum(t *testing.T) {
	for _, size := range []int64{-1, 0, headerSize, MinSize - 1} {
		path := filepath.Join(t.TempDir(), "state.wal")
		_, _, err := Open(path, size, 0)
		if err == nil || !strings.Contains(err.Error(), "below the minimum") {
			t.Fatalf("Open(size %d) = %v, want an error about the minimum size", size, err)
		}
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("Open(size %d) left a file: %v", size, err)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name   string
		groups [][2]int // records, payload bytes
	}{
		{"one record", [][2]int{{1, 10}}},
		{"empty payload", [][2]int{{1, 0}, {2, 0}}},
		{"several groups", [][2]int{{1, 10}, {4, 600}, {2, 1}, {7, 33}}},
		{"exactly full", [][2]int{{2, (MinSize-headerSize)/2 - frameOverhead}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "state.wal")
			l, _ := mustOpen(t, path, MinSize, 0)
			var all []Record
			used := int64(0)
			for _, g := range tt.groups {
				first := uint64(len(all)) + 1
				mustAppend(t, l, group(first, g[0], g[1]), first+uint64(g[0])-1)
				all = append(all, want(first, first+uint64(g[0])-1, g[1])...)
				used += int64(g[0] * (frameOverhead + g[1]))
				if l.Used() != used {
					t.Fatalf("Used = %d, want %d", l.Used(), used)
				}
			}
			_ = l.Close()
			l, recs := mustOpen(t, path, MinSize, 0)
			checkRecords(t, recs, all)
			if l.Used() != used {
				t.Fatalf("reopened: Used = %d, want %d", l.Used(), used)
			}
		})
	}
}

func TestAfter(t *testing.T) {
	tests := []struct {
		name      string
		after     uint64
		wantFirst uint64 // 0: none
		wantNext  uint64
	}{
		{"nothing applied", 0, 1, 6},
		{"some applied", 3, 4, 6},
		{"all applied", 5, 0, 6},
		{"more applied than logged", 9, 0, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "state.wal")
			l, _ := mustOpen(t, path, MinSize, 0)
			mustAppend(t, l, group(1, 2, 50), 2)
			mustAppend(t, l, group(3, 3, 50), 5)
			_ = l.Close()

			l, recs := mustOpen(t, path, MinSize, tt.after)
			if tt.wantFirst == 0 {
				checkRecords(t, recs, nil)
			} else {
				checkRecords(t, recs, want(tt.wantFirst, 5, 50))
			}
			mustAppend(t, l, group(tt.wantNext, 2, 50), tt.wantNext+1)
			_ = l.Close()

			// The records appended after the reopen are found again, following what the owner holds.
			_, recs = mustOpen(t, path, MinSize, tt.wantNext-1)
			checkRecords(t, recs, want(tt.wantNext, tt.wantNext+1, 50))
		})
	}
}

func TestFull(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.wal")
	l, _ := mustOpen(t, path, MinSize, 0)
	mustAppend(t, l, group(1, 2, 1000), 2)
	used := l.Used()
	free := l.Capacity() - used
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, recs := range [][][]byte{
		group(3, 1, int(free)-frameOverhead+1),
		group(3, 2, int(free)/2-frameOverhead+1),
		group(3, 1, int(l.Capacity())),
	} {
		if _, err := l.Append(recs); !errors.Is(err, ErrFull) {
			t.Fatalf("Append(%d records of %d bytes) with %d bytes free = %v, want ErrFull", len(recs), len(recs[0]), free, err)
		}
		if l.Used() != used {
			t.Fatalf("Used = %d after ErrFull, want %d", l.Used(), used)
		}
	}
	if after, err := os.ReadFile(path); err != nil || !bytes.Equal(after, before) {
		t.Fatalf("ErrFull changed the file (%v)", err)
	}
	if l.Fits(1, int(l.Capacity())) || !l.Fits(1, int(l.Capacity())-frameOverhead) {
		t.Fatal("Fits disagrees with the capacity")
	}
	mustAppend(t, l, group(3, 1, int(free)-frameOverhead), 3) // exactly what is left
	_ = l.Close()
	_, recs := mustOpen(t, path, MinSize, 0)
	checkRecords(t, recs, append(want(1, 2, 1000), Record{Seq: 3, Data: payload(3, int(free)-frameOverhead)}))
}

func TestResetThenRecover(t *testing.T) {
	tests := []struct {
		name     string
		newGroup [2]int // records, bytes after the Reset (0 records: none)
	}{
		{"new group longer", [2]int{5, 300}},
		{"new group shorter", [2]int{1, 10}},
		{"new group the same size as a stale record", [2]int{1, 200}},
		{"new group ends in a stale frame's header", [2]int{1, 200 + 7}},
		{"nothing new", [2]int{0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "state.wal")
			l, _ := mustOpen(t, path, MinSize, 0)
			mustAppend(t, l, group(1, 3, 200), 3)
			mustAppend(t, l, group(4, 3, 200), 6)
			l.Reset() // records 1 to 6 are applied
			if l.Used() != 0 {
				t.Fatalf("Used = %d after Reset", l.Used())
			}
			k, n := tt.newGroup[0], tt.newGroup[1]
			if k > 0 {
				mustAppend(t, l, group(7, k, n), 6+uint64(k))
			}
			_ = l.Close()

			l, recs := mustOpen(t, path, MinSize, 6)
			var wantRecs []Record
			if k > 0 {
				wantRecs = want(7, 6+uint64(k), n)
			}
			checkRecords(t, recs, wantRecs)
			// And the log goes on from there.
			next := 7 + uint64(k)
			mustAppend(t, l, group(next, 1, 20), next)
			_ = l.Close()
			_, recs = mustOpen(t, path, MinSize, 6)
			checkRecords(t, recs, append(wantRecs, want(next, next, 20)...))
		})
	}
}

func TestGap(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.wal")
	l, _ := mustOpen(t, path, MinSize, 9) // the owner holds 1 to 9: the log starts at 10
	mustAppend(t, l, group(10, 3, 20), 12)
	_ = l.Close()
	for _, after := range []uint64{0, 5, 8} {
		if _, _, err := Open(path, MinSize, after); !errors.Is(err, ErrGap) {
			t.Fatalf("Open(after %d) of records 10 to 12 = %v, want ErrGap", after, err)
		}
	}
	_, recs := mustOpen(t, path, MinSize, 9)
	checkRecords(t, recs, want(10, 12, 20))
}

func TestBadFile(t *testing.T) {
	valid := func(t *testing.T) (string, []byte) {
		path := filepath.Join(t.TempDir(), "state.wal")
		l, _ := mustOpen(t, path, MinSize, 0)
		mustAppend(t, l, group(1, 2, 20), 2)
		_ = l.Close()
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return path, raw
	}
	tests := []struct {
		name   string
		mangle func([]byte) []byte
		want   string
	}{
		{"empty", func([]byte) []byte { return nil }, "read header"},
		{"header cut", func(b []byte) []byte { return b[:20] }, "read header"},
		{"header only", func(b []byte) []byte { return b[:headerSize] }, "header says"},
		{"truncated", func(b []byte) []byte { return b[:len(b)-1] }, "header says"},
		{"extended", func(b []byte) []byte { return append(b, 0) }, "header says"},
		{"bad magic", func(b []byte) []byte { b[0] ^= 1; return b }, "bad header"},
		{"other version", func(b []byte) []byte { b[15] = 2; return b }, "bad header"},
		{"bad size", func(b []byte) []byte { b[23] ^= 1; return b }, "bad header"},
		{"bad header CRC", func(b []byte) []byte { b[27] ^= 1; return b }, "bad header"},
		{"not a log", func(b []byte) []byte { return bytes.Repeat([]byte("text\n"), 2000) }, "bad header"},
		{"size below the minimum", func(b []byte) []byte { return withSize(b[:headerSize], headerSize) }, "header says"},
		{"size field differs", func(b []byte) []byte { return withSize(b, MinSize*2) }, "header says"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, raw := valid(t)
			if err := os.WriteFile(path, tt.mangle(raw), 0o600); err != nil {
				t.Fatal(err)
			}
			l, _, err := Open(path, MinSize, 0)
			if err == nil {
				_ = l.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), path) {
				t.Fatalf("Open = %v, want an error naming the file and %q", err, tt.want)
			}
		})
	}
}

// withSize rewrites b's header to say size bytes, with a valid CRC.
func withSize(b []byte, size uint64) []byte {
	binary.BigEndian.PutUint64(b[16:], size)
	binary.BigEndian.PutUint32(b[32:], crcOf(b[:32]))
	return b
}

func crcOf(b []byte) uint32 { return crc32.Checksum(b, crcTable) }

// newFrameReader reads frames from b.
func newFrameReader(b []byte) *bufio.Reader { return bufio.NewReader(bytes.NewReader(b)) }

// TestUsedWhileAppending: Used, Capacity and Fits may be called while a group is appended (run with -race).
func TestUsedWhileAppending(t *testing.T) {
	l, _ := mustOpen(t, filepath.Join(t.TempDir(), "state.wal"), MinSize, 0)
	done := make(chan struct{})
	errs := make(chan error, 1)
	go func() {
		defer close(errs)
		prev := int64(0)
		for {
			select {
			case <-done:
				return
			default:
			}
			u := l.Used()
			if u < prev || u > l.Capacity() || !l.Fits(1, 0) {
				errs <- fmt.Errorf("Used = %d after %d, capacity %d", u, prev, l.Capacity())
				return
			}
			prev = u
		}
	}()
	for i := uint64(1); i <= 20; i++ {
		mustAppend(t, l, group(i, 1, 100), i)
	}
	close(done)
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
}
