package wal

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// walModel is what the owner of a log knows: the records appended since the last Reset (with where each
// frame ends, relative to the start of the records) and the last sequence number applied elsewhere.
type walModel struct {
	l     *Log
	base  uint64   // applied: the after of the next Open
	next  uint64   // the sequence number of the next record
	since []Record // appended since the last Reset (or recovered)
	ends  []int64  // where each one's frame ends (Used after it)
}

// reset applies everything and resets the log, as the owner does.
func (m *walModel) reset() {
	m.base = m.next - 1
	m.since, m.ends = nil, nil
	m.l.Reset()
}

// append appends k records of n bytes, checkpointing and resetting once when the log is full.
func (m *walModel) append(t *testing.T, k, n int) {
	recs := group(m.next, k, n)
	start := m.l.Used()
	last, err := m.l.Append(recs)
	if errors.Is(err, ErrFull) {
		m.reset()
		start = 0
		last, err = m.l.Append(recs)
	}
	if errors.Is(err, ErrFull) {
		return // larger than the log
	}
	if err != nil || last != m.next+uint64(k)-1 {
		t.Fatalf("Append(%d×%d) = %d, %v; want %d", k, n, last, err, m.next+uint64(k)-1)
	}
	for i, r := range recs {
		start += frameOverhead + int64(len(r))
		m.since = append(m.since, Record{Seq: m.next + uint64(i), Data: r})
		m.ends = append(m.ends, start)
	}
	m.next += uint64(k)
	if m.l.Used() != start {
		t.Fatalf("Used = %d, want %d", m.l.Used(), start)
	}
}

// reopen closes and opens the log again; it must recover exactly the records since the last Reset.
func (m *walModel) reopen(t *testing.T, path string) {
	_ = m.l.Close()
	l, recs, err := Open(path, MinSize, m.base)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	m.l = l
	checkRecords(t, recs, m.since)
	if len(m.since) == 0 {
		m.ends = nil
	}
}

// FuzzRecover appends groups of records, with Resets and reopens at random points, corrupts a byte range of
// the file and opens it: Open must not panic, and what it recovers must be a prefix of the records appended
// since the last Reset, with every record whose frame ends before the corruption. The records appended after
// that must then be found again right after the recovered ones, and nothing else.
func FuzzRecover(f *testing.F) {
	f.Add([]byte{0x12, 40, 0x23, 200, 0x31, 9}, uint16(300), uint16(8), byte(0))
	f.Add([]byte{0x13, 20, 0x13, 20, 0x13, 20, 0x08, 0x11, 20}, uint16(84), uint16(4), byte(1))
	f.Add([]byte{0x03, 255, 0x03, 255, 0x03, 255, 0x02, 100, 0x01}, uint16(2000), uint16(300), byte(2))
	f.Add([]byte{0x11, 10, 0x00, 0x09, 0x12, 60, 0x22, 60}, uint16(0), uint16(40), byte(0x10))
	f.Add([]byte{0x02, 30, 0x02, 30, 0x02, 30}, uint16(104+3*50), uint16(20), byte(0))
	f.Add([]byte{}, uint16(7), uint16(1), byte(0x11))
	f.Fuzz(func(t *testing.T, ops []byte, corruptAt, corruptLen uint16, mode byte) {
		if len(ops) > 200 {
			ops = ops[:200]
		}
		path := filepath.Join(t.TempDir(), "state.wal")
		l, _, err := Open(path, MinSize, 0)
		if err != nil {
			t.Fatal(err)
		}
		m := &walModel{l: l, next: 1}
		defer func() { _ = m.l.Close() }()
		for i := 0; i < len(ops); i++ {
			switch op := ops[i]; op % 8 {
			case 0:
				m.reset()
			case 1:
				m.reopen(t, path)
			default:
				n := 0
				if i+1 < len(ops) {
					i++
					n = int(ops[i]) * 4
				}
				m.append(t, 1+int(op>>4)%4, n)
			}
		}
		_ = m.l.Close()

		// Corrupt [at, at+n): within the records' pages, or (mode&0x10) anywhere in the file.
		span := int64(MinSize - headerSize)
		at := headerSize + int64(corruptAt)%span
		if mode&0x10 != 0 {
			at = int64(corruptAt) % MinSize
		}
		n := min(1+int64(corruptLen)%512, MinSize-at)
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for i := at; i < at+n; i++ {
			switch mode % 4 {
			case 0:
				raw[i] = 0
			case 1:
				raw[i] ^= 0xff
			case 2:
				raw[i] ^= 1 << (i % 8)
			case 3:
				raw[i] = mode
			}
		}
		if err := os.WriteFile(path, raw, 0o600); err != nil {
			t.Fatal(err)
		}

		l, recs, err := Open(path, MinSize, m.base)
		if err != nil {
			if at < 28 {
				return // the header: refusing the file is right
			}
			t.Fatalf("Open after corrupting [%d, %d): %v", at, at+n, err)
		}
		m.l = l
		if len(recs) > len(m.since) {
			t.Fatalf("recovered %d records, only %d were appended since the last Reset", len(recs), len(m.since))
		}
		checkRecords(t, recs, m.since[:len(recs)])
		for i, end := range m.ends {
			if headerSize+end <= at && i >= len(recs) {
				t.Fatalf("record %d ends at %d, before the corruption at %d, but was not recovered", m.since[i].Seq, headerSize+end, at)
			}
		}

		// The owner goes on from what was recovered: it appends the first record lost again (its retry, as long
		// as it was, so it ends where the next lost frame starts), then others, and must find only those.
		lost := m.since[len(recs):]
		m.since, m.ends = recs, nil
		if len(recs) > 0 {
			m.next = recs[len(recs)-1].Seq + 1
		} else {
			m.next = m.base + 1
		}
		if len(lost) > 0 {
			m.append(t, 1, len(lost[0].Data))
		} else {
			m.append(t, 2, 50)
		}
		m.reopen(t, path)
		m.append(t, 1, 13)
		m.reopen(t, path)
	})
}
