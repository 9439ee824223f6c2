package store

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"go.etcd.io/bbolt"
)

// Audit modes.
const (
	ModeDelegated = "delegated"
	ModeBrokered  = "brokered"
	ModeAdmin     = "admin"
	ModeSystem    = "system"
)

// AuditEntry is one immutable record of something the bot did or decided.
type AuditEntry struct {
	Seq         uint64            `json:"seq"`
	Time        time.Time         `json:"time"`
	ActorTenant string            `json:"actorTenant,omitempty"`
	ActorID     string            `json:"actorId,omitempty"`
	ActorName   string            `json:"actorName,omitempty"`
	Action      string            `json:"action"`
	Mode        string            `json:"mode"` // delegated | brokered | admin | system
	RequestID   string            `json:"requestId,omitempty"`
	PackageID   string            `json:"packageId,omitempty"`
	PackageName string            `json:"packageName,omitempty"`
	SubjectID   string            `json:"subjectId,omitempty"`
	SubjectName string            `json:"subjectName,omitempty"`
	Outcome     string            `json:"outcome,omitempty"`
	Details     map[string]string `json:"details,omitempty"`
}

// AuditQuery filters Audit. Empty fields match everything.
type AuditQuery struct {
	SubjectID string
	PackageID string
	ActorID   string
	// Since keeps entries at or after this time.
	Since time.Time
	// Limit is the maximum number of entries; default 50, at most 1000.
	Limit int
}

// MaxAuditLimit is the largest AuditQuery.Limit accepted.
const MaxAuditLimit = 1000

func seqKey(seq uint64) []byte {
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], seq)
	return k[:]
}

// AppendAudit appends e and returns its sequence number (assigned here; e.Seq is ignored). Action is required
// and Mode must be one of delegated, brokered, admin, system. A zero Time is set to now.
func (s *Store) AppendAudit(ctx context.Context, e AuditEntry) (uint64, error) {
	const op = "append audit"
	if err := ValidateAudit(e); err != nil {
		return 0, err
	}
	if e.Time.IsZero() {
		e.Time = s.now()
	}
	e.Time = e.Time.UTC()
	if s.wal != nil && !s.wal.failed.Load() {
		entry := &walEntry{audit: &e}
		err := s.appendWAL(ctx, op, entry)
		if err == nil {
			return entry.auditSeq, nil
		}
		// Only a log that failed for good hands numbering back to the state file (the bucket's sequence): while
		// the log may work again, its writer alone gives numbers, or two entries could get the same one.
		if !errors.Is(err, errWALUnavailable) || !s.wal.failed.Load() {
			return 0, fmt.Errorf("%s: %w", op, err)
		}
	}
	var seq uint64
	err := s.batch(ctx, op, func(tx *bbolt.Tx) error {
		b, err := bucket(tx, bucketAudit)
		if err != nil {
			return err
		}
		if seq, err = b.NextSequence(); err != nil {
			return err
		}
		e.Seq = seq
		raw, err := json.Marshal(e)
		if err != nil {
			return err
		}
		return putAudit(tx, seq, raw)
	})
	if err != nil {
		return 0, err
	}
	return seq, nil
}

// putAudit stores the encoded audit entry number seq, and keeps the bucket's sequence at or above it.
func putAudit(tx *bbolt.Tx, seq uint64, raw []byte) error {
	b, err := bucket(tx, bucketAudit)
	if err != nil {
		return err
	}
	if b.Sequence() < seq {
		if err := b.SetSequence(seq); err != nil {
			return err
		}
	}
	return b.Put(seqKey(seq), raw)
}

// Audit returns the entries matching q, newest first.
func (s *Store) Audit(ctx context.Context, q AuditQuery) ([]AuditEntry, error) {
	const op = "query audit"
	q, err := NormalizeAuditQuery(q)
	if err != nil {
		return nil, err
	}
	var out []AuditEntry
	logged := map[uint64]bool{} // entries read from the log, which a concurrent checkpoint may also have copied
	if s.wal != nil && s.wal.pendingAudits() {
		// The entries still only in the log are copied first; when that fails (a full disk), they are read from
		// memory: they are numbered above everything in the state file, so they come first.
		if err := s.wal.checkpoint(ctx); err != nil {
			for _, e := range s.wal.pendingAuditEntries() {
				if logged[e.Seq] = true; len(out) < q.Limit && q.matches(e) {
					out = append(out, e)
				}
			}
		}
	}
	err = s.view(ctx, op, func(tx *bbolt.Tx) error {
		b, err := bucket(tx, bucketAudit)
		if err != nil {
			return err
		}
		c := b.Cursor()
		for k, v := c.Last(); k != nil && len(out) < q.Limit; k, v = c.Prev() {
			var e AuditEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("decode entry %x: %w", k, err)
			}
			if !logged[e.Seq] && q.matches(e) {
				out = append(out, e)
			}
		}
		return nil
	})
	return out, err
}

// matches reports whether e passes q's filters.
func (q AuditQuery) matches(e AuditEntry) bool {
	return (q.SubjectID == "" || e.SubjectID == q.SubjectID) &&
		(q.PackageID == "" || e.PackageID == q.PackageID) &&
		(q.ActorID == "" || e.ActorID == q.ActorID) &&
		(q.Since.IsZero() || !e.Time.Before(q.Since))
}
