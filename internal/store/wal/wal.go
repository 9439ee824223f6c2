// Package wal is a write-ahead log in one preallocated file. A group of records becomes durable with one write
// and one fdatasync: the file is created at its full size, zero-filled and synced, and records overwrite it in
// place, so a flush changes no file-system metadata (no journal commit of the file system, unlike an append).
// The owner applies the records elsewhere (a checkpoint) and, once that is durable, calls Reset: the next
// records overwrite the log from its start.
//
// A record is framed as magic, CRC-32C, sequence number, length, payload. The CRC starts from a random salt
// stored in the file's header, so bytes inside a record (a user's text, say) can never pass for a frame of
// their own when a shorter record later overwrites the start of that record. Sequence numbers rise by one from
// record to record for the life of the log (Reset does not restart them), so reading the file from its start
// and stopping at the first frame that is torn, unwritten (zero) or out of sequence finds exactly the records
// written since the last Reset: what follows them is older, from before that Reset, or zero (Open zeroes what
// follows the records it found, which may be the remains of a group a crash tore).
package wal

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sync"
)

const (
	headerMagic   = "ACCESSBOT-WAL\x00\x00\x01" // 16 bytes; the last one is the format version
	headerSize    = 4096                        // records start on a page of their own
	frameMagic    = 0x57414c31                  // "WAL1"
	frameOverhead = 4 + 4 + 8 + 4               // magic, CRC, sequence number, length
	// MinSize is the smallest log: its header and one page of records.
	MinSize = 2 * headerSize
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// ErrFull is returned by Append when the records do not fit in the space left before the end of the file;
// nothing was written. Checkpoint, Reset and append again.
var ErrFull = errors.New("write-ahead log is full")

// ErrBroken is returned (wrapped) by Append after an earlier write or flush failed: what that write left in
// the file is unknown, so a record written after it might not be found again by recovery. Close the log and
// let the next Open recover it.
var ErrBroken = errors.New("write-ahead log failed earlier")

// ErrGap is returned (wrapped) by Open when the log's records start after the sequence number that follows
// after: records in between are missing from what the log is applied to.
var ErrGap = errors.New("write-ahead log does not continue the state it is applied to")

// Record is one recovered record.
type Record struct {
	Seq  uint64
	Data []byte
}

// Log is an open write-ahead log. Append, Reset and Close must not be called concurrently (one writer leads a
// group at a time); Used, Capacity and Fits may be.
type Log struct {
	f      *os.File
	path   string
	size   int64
	salt   uint32     // the CRC-32C of the header's random salt, where every frame's CRC starts
	mu     sync.Mutex // guards off, next, broken and buf against Used
	off    int64      // where the next record is written
	next   uint64     // the sequence number of the next record
	broken error
	buf    []byte
}

// Open opens the log at path, creating it with size bytes (zero-filled and synced) when it does not exist; an
// existing log keeps its own size. It returns the records written since the log's last Reset whose sequence
// number is above after (what the owner's last checkpoint holds), in order. The next record appended follows
// them, and its sequence number is above both them and after: apply them, make that durable, then Reset.
// Open writes to an existing log: it zeroes what follows those records (up to the log's capacity and one
// fdatasync, measured at 7 to 18 ms for 4 MiB), and when its last record is below after it starts over.
func Open(path string, size int64, after uint64) (*Log, []Record, error) {
	if size < MinSize {
		return nil, nil, fmt.Errorf("open write-ahead log %s: size %d is below the minimum of %d bytes", path, size, MinSize)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		f, err = create(path, size)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("open write-ahead log %s: %w", path, err)
	}
	l := &Log{f: f, path: path}
	recs, err := l.recover(after)
	if err != nil {
		_ = f.Close()
		return nil, nil, fmt.Errorf("open write-ahead log %s: %w", path, err)
	}
	return l, recs, nil
}

// create writes a new log of size bytes under a temporary name, syncs it and renames it to path (then syncs
// the directory), so a crash never leaves a log of the wrong size or without its header.
func create(path string, size int64) (*os.File, error) {
	tmp := path + ".new"
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create: %w", err)
	}
	fail := func(err error) (*os.File, error) {
		_ = f.Close()
		_ = os.Remove(tmp)
		return nil, err
	}
	hdr := make([]byte, headerSize)
	copy(hdr, headerMagic)
	binary.BigEndian.PutUint64(hdr[16:], uint64(size))
	if _, err := rand.Read(hdr[24:32]); err != nil {
		return fail(fmt.Errorf("salt: %w", err))
	}
	binary.BigEndian.PutUint32(hdr[32:], crc32.Checksum(hdr[:32], crcTable))
	if _, err := f.Write(hdr); err != nil {
		return fail(fmt.Errorf("write header: %w", err))
	}
	zero := make([]byte, 1<<16)
	for left := size - headerSize; left > 0; left -= int64(len(zero)) {
		if _, err := f.Write(zero[:min(left, int64(len(zero)))]); err != nil {
			return fail(fmt.Errorf("zero-fill: %w", err))
		}
	}
	if err := f.Sync(); err != nil {
		return fail(fmt.Errorf("sync: %w", err))
	}
	if err := os.Rename(tmp, path); err != nil {
		return fail(fmt.Errorf("rename: %w", err))
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		_ = f.Close()
		return nil, err
	}
	return f, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory: %w", err)
	}
	return nil
}

// recover reads the header and the records from the start of the file, stopping at the first frame that is
// not a record in sequence, and positions the log after them.
func (l *Log) recover(after uint64) ([]Record, error) {
	fi, err := l.f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat: %w", err)
	}
	hdr := make([]byte, 36)
	if _, err := l.f.ReadAt(hdr, 0); err != nil {
		return nil, fmt.Errorf("read header: %w", err)
	}
	if !bytes.Equal(hdr[:16], []byte(headerMagic)) || crc32.Checksum(hdr[:32], crcTable) != binary.BigEndian.Uint32(hdr[32:]) {
		return nil, errors.New("not a write-ahead log of this version (bad header)")
	}
	l.size = int64(binary.BigEndian.Uint64(hdr[16:]))
	l.salt = crc32.Checksum(hdr[24:32], crcTable)
	if l.size != fi.Size() || l.size < MinSize {
		return nil, fmt.Errorf("header says %d bytes, the file has %d", l.size, fi.Size())
	}
	r := bufio.NewReaderSize(io.NewSectionReader(l.f, headerSize, l.size-headerSize), 64<<10)
	var recs []Record
	off, last := int64(0), uint64(0)
	for {
		seq, payload, n := readFrame(r, l.size-headerSize-off, l.salt)
		if n == 0 || (off > 0 && seq != last+1) {
			break
		}
		if seq > after {
			recs = append(recs, Record{Seq: seq, Data: payload})
		}
		off, last = off+n, seq
	}
	if len(recs) > 0 && recs[0].Seq != after+1 {
		return nil, fmt.Errorf("%w: it holds records %d to %d, but what it was applied to holds only up to %d "+
			"(restored from an older backup?)", ErrGap, recs[0].Seq, last, after)
	}
	if last < after {
		// Every record is applied, and the next one (after+1) would not continue them: start over, as Reset.
		off = 0
	}
	l.off = headerSize + off
	l.next = max(last, after) + 1
	if err := l.scrub(); err != nil {
		return nil, err
	}
	return recs, nil
}

// scrub zeroes the file after the recovered records (where it is not zero already) and flushes that. What
// follows them may be frames of a group a crash tore, intact after a torn or lost first frame: their sequence
// numbers continue the recovered records, so once the next records overwrite the torn ones to the same length,
// recovery would find them again, though they were never acknowledged. After a scrub, everything past the last
// record is zero or older than it, for as long as the log is open.
func (l *Log) scrub() error {
	buf := make([]byte, 64<<10)
	dirty := false
	for off := l.off; off < l.size; off += int64(len(buf)) {
		chunk := buf[:min(int64(len(buf)), l.size-off)]
		if _, err := l.f.ReadAt(chunk, off); err != nil {
			return fmt.Errorf("read past the records: %w", err)
		}
		if allZero(chunk) {
			continue
		}
		clear(chunk)
		if _, err := l.f.WriteAt(chunk, off); err != nil {
			return fmt.Errorf("zero past the records: %w", err)
		}
		dirty = true
	}
	if dirty {
		if err := fdatasync(l.f); err != nil {
			return fmt.Errorf("flush the zeroes past the records: %w", err)
		}
	}
	return nil
}

// allZero reports whether every byte of b is zero.
func allZero(b []byte) bool {
	for len(b) >= 8 {
		if binary.NativeEndian.Uint64(b) != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// readFrame reads the next frame from r (at most left bytes): its sequence number, payload and length; n is 0
// when r does not continue with a whole, intact frame. A frame is read whole before it is checked, so memory
// is bounded by the largest record, not by the log.
func readFrame(r *bufio.Reader, left int64, salt uint32) (seq uint64, payload []byte, n int64) {
	var hdr [frameOverhead]byte
	if left < frameOverhead {
		return 0, nil, 0
	}
	if _, err := io.ReadFull(r, hdr[:]); err != nil || binary.BigEndian.Uint32(hdr[:]) != frameMagic {
		return 0, nil, 0
	}
	length := int64(binary.BigEndian.Uint32(hdr[16:]))
	if length > left-frameOverhead {
		return 0, nil, 0
	}
	payload = make([]byte, length)
	if _, err := io.ReadFull(r, payload); err != nil {
		return 0, nil, 0
	}
	crc := crc32.Update(crc32.Update(salt, crcTable, hdr[8:]), crcTable, payload)
	if crc != binary.BigEndian.Uint32(hdr[4:]) {
		return 0, nil, 0
	}
	return binary.BigEndian.Uint64(hdr[8:]), payload, frameOverhead + length
}

// Append writes recs as the next records with one write and one fdatasync, and returns the sequence number of
// the last. ErrFull: they do not fit (nothing was written). After a failed write or flush every later Append
// fails with ErrBroken; last is then the number the group would have ended with: its records may or may not be
// in the file, and a later Open may return them unless the owner's after covers them.
func (l *Log) Append(recs [][]byte) (last uint64, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.broken != nil {
		return 0, fmt.Errorf("%w: %w", ErrBroken, l.broken)
	}
	need := int64(0)
	for _, r := range recs {
		if uint64(len(r)) > math.MaxUint32 {
			return 0, fmt.Errorf("append to %s: a record of %d bytes does not fit a frame's length", l.path, len(r))
		}
		need += frameOverhead + int64(len(r))
	}
	if need > l.size-l.off {
		return 0, ErrFull
	}
	buf := l.buf[:0]
	seq := l.next
	for _, r := range recs {
		start := len(buf)
		buf = binary.BigEndian.AppendUint32(buf, frameMagic)
		buf = append(buf, 0, 0, 0, 0) // CRC, below
		buf = binary.BigEndian.AppendUint64(buf, seq)
		buf = binary.BigEndian.AppendUint32(buf, uint32(len(r)))
		buf = append(buf, r...)
		binary.BigEndian.PutUint32(buf[start+4:], crc32.Update(l.salt, crcTable, buf[start+8:]))
		seq++
	}
	if cap(buf) <= 64<<10 { // a usual group; a rare large one is not kept
		l.buf = buf
	}
	if _, err := l.f.WriteAt(buf, l.off); err != nil {
		l.broken = err
		return seq - 1, fmt.Errorf("write %s: %w", l.path, err)
	}
	if err := fdatasync(l.f); err != nil {
		l.broken = err
		return seq - 1, fmt.Errorf("flush %s: %w", l.path, err)
	}
	l.off += int64(len(buf))
	l.next = seq
	return seq - 1, nil
}

// Reset makes the next Append write from the start of the log. Call it only when every record appended so
// far is applied and durable elsewhere: a crash after it recovers none of them.
func (l *Log) Reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.off = headerSize
}

// Used is how many bytes of records were appended since the last Reset (or those Open recovered).
func (l *Log) Used() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.off - headerSize
}

// Capacity is how many bytes of records the log holds (its size less its header).
func (l *Log) Capacity() int64 { return l.size - headerSize }

// Fits reports whether records of n payload bytes in all (k of them) could ever fit in the log.
func (l *Log) Fits(k, n int) bool { return int64(k)*frameOverhead+int64(n) <= l.Capacity() }

// Close closes the file.
func (l *Log) Close() error {
	if err := l.f.Close(); err != nil {
		return fmt.Errorf("close write-ahead log %s: %w", l.path, err)
	}
	return nil
}
