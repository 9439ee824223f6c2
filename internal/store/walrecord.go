package store

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"github.com/accessbot/accessbot/internal/store/wal"
)

// walEntry is one record of the log, and once flushed its log sequence number: a turn's completion (its
// processed-log key (sec, lseq), record value (encodeProcessed), the dialogs written with it and their write
// time), or an audit entry (audit set; its number auditSeq is given when its group is written).
type walEntry struct {
	seq      uint64
	audit    *AuditEntry
	auditSeq uint64
	auditRaw []byte // audit encoded, with auditSeq
	key      string
	hash     uint32
	sec      uint32
	lseq     uint32
	at       time.Time
	dialogs  []DialogWrite
	value    []byte
}

type walReq struct {
	e    *walEntry
	done chan error
}

// walRecordFormat is the first byte of a completion's log record, so the layout can change later;
// walAuditFormat that of an audit entry's.
const (
	walRecordFormat = 1
	walAuditFormat  = 2
)

// auditHeader is the length of an audit entry's record before its JSON: the format byte and its number.
const auditHeader = 9

// number gives an audit entry its number and encodes it (the group's writer calls it, in log order).
func (e *walEntry) number(seq uint64) error {
	a := *e.audit
	a.Seq = seq
	raw, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("encode audit entry: %w", err)
	}
	e.auditSeq, e.auditRaw = seq, raw
	return nil
}

// payload is e as a log record. An audit entry: walAuditFormat, its number, its JSON. A completion: walRecordFormat, sec, lseq, the dialogs' write time (Unix nanoseconds), the
// number of dialogs and each one's key and value (lengths as uvarints), then the record value.
func (e *walEntry) payload() []byte {
	if e.audit != nil {
		p := make([]byte, auditHeader, auditHeader+len(e.auditRaw))
		p[0] = walAuditFormat
		binary.BigEndian.PutUint64(p[1:], e.auditSeq)
		return append(p, e.auditRaw...)
	}
	n := 1 + 16 + binary.MaxVarintLen64 + len(e.value)
	for _, d := range e.dialogs {
		n += 2*binary.MaxVarintLen64 + len(d.Key) + len(d.Value)
	}
	p := make([]byte, 0, n)
	p = append(p, walRecordFormat)
	p = binary.BigEndian.AppendUint32(p, e.sec)
	p = binary.BigEndian.AppendUint32(p, e.lseq)
	p = binary.BigEndian.AppendUint64(p, uint64(e.at.UnixNano()))
	p = binary.AppendUvarint(p, uint64(len(e.dialogs)))
	for _, d := range e.dialogs {
		p = binary.AppendUvarint(p, uint64(len(d.Key)))
		p = append(p, d.Key...)
		p = binary.AppendUvarint(p, uint64(len(d.Value)))
		p = append(p, d.Value...)
	}
	return append(p, e.value...)
}

// decodeWALEntry is payload's inverse (the entry aliases r.Data).
func decodeWALEntry(r wal.Record) (*walEntry, error) {
	bad := func(what string) (*walEntry, error) {
		return nil, fmt.Errorf("log record %d: %s: %w", r.Seq, what, errBadRecord)
	}
	p := r.Data
	if len(p) >= auditHeader && p[0] == walAuditFormat {
		var a AuditEntry
		if err := json.Unmarshal(p[auditHeader:], &a); err != nil {
			return nil, fmt.Errorf("log record %d: audit entry: %w", r.Seq, err)
		}
		return &walEntry{seq: r.Seq, audit: &a, auditSeq: binary.BigEndian.Uint64(p[1:]), auditRaw: p[auditHeader:]}, nil
	}
	if len(p) < 17 || p[0] != walRecordFormat {
		return bad("header")
	}
	e := &walEntry{seq: r.Seq, sec: binary.BigEndian.Uint32(p[1:]), lseq: binary.BigEndian.Uint32(p[5:]),
		at: time.Unix(0, int64(binary.BigEndian.Uint64(p[9:]))).UTC()}
	p = p[17:]
	count, w := binary.Uvarint(p)
	if w <= 0 || count > uint64(len(p)) {
		return bad("dialog count")
	}
	p = p[w:]
	for range count {
		var key, value []byte
		if key, p = cutUvarintBytes(p); key == nil {
			return bad("dialog key")
		}
		if value, p = cutUvarintBytes(p); value == nil {
			return bad("dialog value")
		}
		e.dialogs = append(e.dialogs, DialogWrite{Key: string(key), Value: value})
	}
	key, _, err := decodeProcessed(p)
	if err != nil {
		return nil, fmt.Errorf("log record %d: %w", r.Seq, err)
	}
	e.key, e.value = string(key), p
	e.hash, _ = recordHash(p)
	return e, nil
}

// cutUvarintBytes splits a uvarint length and that many bytes off p; nil when p is too short.
func cutUvarintBytes(p []byte) (b, rest []byte) {
	n, w := binary.Uvarint(p)
	if w <= 0 || n > uint64(len(p)-w) {
		return nil, p
	}
	return p[w : w+int(n) : w+int(n)], p[w+int(n):]
}
