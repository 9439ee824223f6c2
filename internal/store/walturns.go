package store

import (
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/bbolt"

	"github.com/accessbot/accessbot/internal/store/wal"
)

// Most turns write nothing to the state file but their completion record (with the dialogs their answer
// points at): their conversation reference is unchanged. Such a completion, and every audit entry, goes to a
// write-ahead log next to the state file (package wal) instead of a bbolt commit: the records of concurrent
// turns become durable with one write and one fdatasync of a preallocated file, where a bbolt commit costs two
// fdatasyncs and about eight page writes. Until a checkpoint copies them into the state file, the records are
// also kept in memory (the overlay), where Processed and Dialog find them (Audit and Dump checkpoint first).
// Every bbolt write transaction first copies the overlay into itself (applyWAL) and records the last log
// sequence number it copied in the meta bucket, in the same commit; so the state file never holds a write that
// is older than a log record it lacks, and Open knows which records to replay. A checkpoint is just such a
// transaction with nothing else in it (walcheckpoint.go), run walCheckpointDelay after the overlay fills, when
// the log is half full, when it is full (then the log starts over from its beginning), and by Close.

// DefaultWALSize is the size of the write-ahead log file when Options.WALSize is 0: room for about 4,000
// completions of 1 KB between checkpoints, which run every walCheckpointDelay.
const DefaultWALSize = 4 << 20

// walSuffix names the write-ahead log: the state file's path with this suffix.
const walSuffix = ".wal"

// walCheckpointDelay is how long a completion waits in the log (and the overlay) before a checkpoint copies
// it into the state file.
const walCheckpointDelay = 100 * time.Millisecond

// keyWALApplied (meta bucket) holds the sequence number of the last write-ahead log record copied into the
// state file (8 bytes, big-endian).
var keyWALApplied = []byte("wal_applied")

// errWALUnavailable sends a completion to the state file instead: the log failed, or is full and could not be
// checkpointed.
var errWALUnavailable = errors.New("write-ahead log unavailable")

// walTurns is the store's write-ahead log of completions and audit entries, and its overlay.
type walTurns struct {
	log    *wal.Log
	queue  groupQueue[*walReq]
	failed atomic.Bool // the log failed: every completion goes to the state file until a restart
	busy   atomic.Bool // a checkpoint by checkpointQuietly is running
	closed atomic.Bool // Close checkpointed for the last time: timers do nothing

	mu      sync.Mutex
	byKey   map[string]*walEntry // flushed, not yet in the state file, by activity key
	dialogs map[string]*walEntry // the same, by the key of a dialog they write (the latest writer)
	order   []*walEntry          // the same, by sequence number
	last    uint64               // the sequence number of the last record appended
	applied uint64               // the last one the state file holds (committed)
	skip    uint64               // the last one of a group whose write failed (0: none)
	audits  int                  // audit entries in the overlay
	// auditSeq is the number of the last audit entry given (by the writer of a group, or at Open).
	auditSeq uint64
	timer    *time.Timer   // the pending checkpoint, or nil
	delay    time.Duration // from the first record in the overlay to its checkpoint (walCheckpointDelay)
	backoff  time.Duration // the wait after a failed checkpoint (0 while they succeed)
	// checkpoint is checkpointWAL (tests make it fail).
	checkpoint func(ctx context.Context) error
}

// openWAL opens (creating) the log of the state file and replays the records the state file lacks, in one
// transaction, before anything else reads it.
func (s *Store) openWAL(size int64) error {
	after, err := s.walApplied()
	if err != nil {
		return err
	}
	path := s.path + walSuffix
	_, statErr := os.Stat(path)
	log, recs, err := wal.Open(path, size, after)
	if err != nil && errors.Is(statErr, fs.ErrNotExist) {
		// Nothing to replay: run without the log rather than not at all (a full disk at start).
		s.log.Warn("cannot create the write-ahead log: every completion is a commit of the state file", "err", err)
		return nil
	}
	if err != nil {
		return err
	}
	w := &walTurns{log: log, byKey: map[string]*walEntry{}, dialogs: map[string]*walEntry{}, last: after, applied: after,
		delay: walCheckpointDelay, checkpoint: s.checkpointWAL}
	for _, r := range recs {
		e, err := decodeWALEntry(r)
		if err != nil {
			_ = log.Close()
			return fmt.Errorf("replay write-ahead log: %w", err)
		}
		w.add(e)
		if e.audit != nil {
			continue
		}
		s.processed.add(e.hash, e.sec)
		s.processed.continueAfter(e.lseq)
	}
	s.wal = w
	if len(recs) > 0 {
		if err := s.checkpointWAL(context.Background()); err != nil {
			_ = log.Close()
			return fmt.Errorf("replay write-ahead log %s: %w", path, err)
		}
		s.log.Info("replayed the write-ahead log into the state file", "records", len(recs), "last", w.last)
	}
	log.Reset()                                 // what it holds is in the state file (replayed, or checkpointed before the last stop)
	return s.db.View(func(tx *bbolt.Tx) error { // audit numbers continue the state file's (replayed ones included)
		if b := tx.Bucket(bucketAudit); b != nil {
			w.auditSeq = b.Sequence()
		}
		return nil
	})
}

// openWALIf opens the log (openWAL) of size bytes (0: DefaultWALSize). With the log turned off (size < 0), an
// existing log is still replayed (a crash may have left acknowledged completions in it that a later start with
// the log would otherwise replay over newer writes), then closed.
func (s *Store) openWALIf(size int64) error {
	if size >= 0 {
		return s.openWAL(cmp.Or(size, DefaultWALSize))
	}
	if _, err := os.Stat(s.path + walSuffix); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err := s.openWAL(DefaultWALSize); err != nil || s.wal == nil {
		return err
	}
	err := s.wal.log.Close()
	s.wal = nil
	if err != nil {
		return fmt.Errorf("close write-ahead log after its replay: %w", err)
	}
	return nil
}

// walApplied reads keyWALApplied.
func (s *Store) walApplied() (uint64, error) {
	var n uint64
	err := s.db.View(func(tx *bbolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta == nil {
			return nil
		}
		if raw := meta.Get(keyWALApplied); raw != nil {
			if len(raw) != 8 {
				return fmt.Errorf("meta %s is %d bytes, not 8", keyWALApplied, len(raw))
			}
			n = binary.BigEndian.Uint64(raw)
		}
		return nil
	})
	return n, err
}

// takes reports whether a record of n bytes may go to the log: at most an eighth of it, so that one record
// never fills it and a full log is checkpointed and started over long before.
func (w *walTurns) takes(n int) bool { return int64(n) <= w.log.Capacity()/8 }

// idle reports whether the state file holds every record appended so far, so the log may start over.
func (w *walTurns) idle() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.applied == w.last
}

// add puts a flushed entry in the overlay.
func (w *walTurns) add(e *walEntry) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if e.audit != nil {
		w.audits++
	} else {
		w.byKey[e.key] = e
	}
	for _, d := range e.dialogs {
		w.dialogs[d.Key] = e
	}
	w.order = append(w.order, e)
	w.last = e.seq
}

// lookup returns the response of key's completion if it is in the overlay.
func (w *walTurns) lookup(key string) (resp []byte, ok bool) {
	w.mu.Lock()
	e, ok := w.byKey[key]
	w.mu.Unlock()
	if !ok {
		return nil, false
	}
	_, resp, _ = decodeProcessed(e.value)
	return resp, true
}

// dialog returns the value of the dialog under key if an entry of the overlay writes it.
func (w *walTurns) dialog(key string) (json.RawMessage, bool) {
	w.mu.Lock()
	e, ok := w.dialogs[key]
	w.mu.Unlock()
	if !ok {
		return nil, false
	}
	for _, d := range e.dialogs {
		if d.Key == key {
			return d.Value, true
		}
	}
	return nil, false
}

// toApply is what the next write transaction copies: the overlay, and (when above what the state file holds)
// the last sequence number of a group whose write failed, which it records as applied so that Open never
// replays that group (its completions are written to the state file instead, maybe later changed there).
func (w *walTurns) toApply() (entries []*walEntry, skip uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.skip > w.applied {
		skip = w.skip
	}
	return w.order, skip
}

// pendingAudits reports whether the overlay holds audit entries.
func (w *walTurns) pendingAudits() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.audits > 0
}

// pendingAuditEntries are the overlay's audit entries, newest first, with their numbers.
func (w *walTurns) pendingAuditEntries() []AuditEntry {
	var out []AuditEntry
	for _, e := range slices.Backward(w.pending()) {
		if e.audit != nil {
			a := *e.audit
			a.Seq = e.auditSeq
			out = append(out, a)
		}
	}
	return out
}

// pending is the overlay, oldest first (the slice is not changed later: add appends to it, trim replaces it).
func (w *walTurns) pending() []*walEntry {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.order
}

// trim drops the entries up to seq from the overlay: a committed transaction copied them.
func (w *walTurns) trim(seq uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	i := 0
	for ; i < len(w.order) && w.order[i].seq <= seq; i++ {
		e := w.order[i]
		if e.audit != nil {
			w.audits--
		}
		if w.byKey[e.key] == e {
			delete(w.byKey, e.key)
		}
		for _, d := range e.dialogs {
			if w.dialogs[d.Key] == e {
				delete(w.dialogs, d.Key)
			}
		}
	}
	w.order = append([]*walEntry(nil), w.order[i:]...)
	w.applied = max(w.applied, seq)
}

// applyWAL copies the overlay into tx and records the last sequence number copied; commitGroup calls it first in every write transaction
// and, once tx is committed, trims the overlay up to the number returned (0: nothing copied).
func (s *Store) applyWAL(tx *bbolt.Tx) (uint64, error) {
	if s.wal == nil {
		return 0, nil
	}
	entries, skip := s.wal.toApply()
	if len(entries) == 0 && skip == 0 {
		return 0, nil
	}
	for _, e := range entries { // the file holds no other record of e.key (walTurnEligible, completionLocks)
		var err error
		if e.audit != nil {
			err = putAudit(tx, e.auditSeq, e.auditRaw)
		} else if err = putProcessedRecord(tx, e.sec, e.lseq, e.value); err == nil {
			err = putDialogs(tx, e.dialogs, e.at, true)
		}
		if err != nil {
			return 0, fmt.Errorf("apply write-ahead log record %d: %w", e.seq, err)
		}
	}
	last := skip
	if len(entries) > 0 {
		last = max(last, entries[len(entries)-1].seq)
	}
	meta, err := bucket(tx, bucketMeta)
	if err != nil {
		return 0, err
	}
	return last, meta.Put(keyWALApplied, binary.BigEndian.AppendUint64(nil, last))
}

// walTurnEligible reports whether the completion of an activity key of hash h with w can go to the log: the
// log works, the reference is not to be written (enc is w.Ref encoded; one equal to the stored one up to
// UpdatedAt is not), the file and the overlay hold no record of h (the first completion wins, which the log
// cannot check; its dialogs then keep stored values, which the log cannot check either) and the record (size
// bytes with its dialogs) fits in an eighth of the log.
func (s *Store) walTurnEligible(ctx context.Context, h uint32, w TurnWrites, enc []byte, size int) bool {
	if s.wal == nil || s.wal.failed.Load() || s.processed.has(h) || !s.wal.takes(size) {
		return false
	}
	if w.Ref == nil {
		return true
	}
	write := true
	_ = s.view(ctx, "get conversation", func(tx *bbolt.Tx) error {
		if b := tx.Bucket(bucketConversations); b != nil {
			_, write, _ = conversationToWrite(b.Get(joinKey(w.Ref.TenantID, w.Ref.AADObjectID)), *w.Ref, enc, w.KeepNewerRef)
		}
		return nil
	})
	return !write
}

// appendWAL makes e durable in the log, together with the completions of concurrent turns, and puts it in the
// overlay. errWALUnavailable: write it to the state file instead.
func (s *Store) appendWAL(ctx context.Context, op string, e *walEntry) (err error) {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if s.observe != nil {
		done := s.observe(ctx, op, true) // the same logical write as through the state file
		defer func() { done(failure(err)) }()
	}
	req := &walReq{e: e, done: make(chan error, 1)}
	if group := s.wal.queue.join(req); group != nil {
		s.flushWAL(group)
		s.handOffWAL()
	}
	return <-req.done
}

// handOffWAL is groupCommit's handOff for the log.
func (s *Store) handOffWAL() {
	group := s.wal.queue.next()
	if len(group) == 0 {
		return
	}
	go func() {
		s.flushWAL(group)
		s.handOffWAL()
	}()
}

// flushWAL appends group's records with one flush, puts them in the overlay and answers their writers.
func (s *Store) flushWAL(group []*walReq) {
	w := s.wal
	group = s.writeLargeAudits(group)
	recs := make([][]byte, 0, len(group))
	auditSeq := w.auditSeq // only this writer gives numbers
	for _, r := range group {
		if r.e.audit != nil {
			if err := r.e.number(auditSeq + 1); err != nil {
				r.done <- err
				continue
			}
			auditSeq++
		}
		recs = append(recs, r.e.payload())
	}
	group = slices.DeleteFunc(group, func(r *walReq) bool { return r.e.audit != nil && r.e.auditRaw == nil })
	last, err := s.appendRecords(recs)
	if err == nil {
		w.auditSeq = auditSeq
		first := last - uint64(len(group)) + 1
		for i, r := range group {
			r.e.seq = first + uint64(i)
			w.add(r.e)
		}
		s.scheduleCheckpoint()
	}
	for _, r := range group {
		r.done <- err
	}
}

// writeLargeAudits writes the audit entries of group too large for the log (more than an eighth of it, as
// completions) to the state file, each with the next number, and returns the rest of group. The log's writer
// calls it, so the numbers stay in order with the logged entries (the commit copies the overlay first).
func (s *Store) writeLargeAudits(group []*walReq) []*walReq {
	w := s.wal
	return slices.DeleteFunc(group, func(r *walReq) bool {
		if r.e.audit == nil || r.e.number(w.auditSeq+1) != nil || w.takes(auditHeader+len(r.e.auditRaw)) {
			return false
		}
		seq, raw := r.e.auditSeq, r.e.auditRaw
		err := s.batch(context.Background(), "append audit", func(tx *bbolt.Tx) error { return putAudit(tx, seq, raw) })
		if err == nil {
			w.auditSeq = seq
		}
		r.done <- err
		return true
	})
}

// appendRecords appends recs, reusing the log from its start when everything in it is in the state file, and
// checkpointing first when it is full.
func (s *Store) appendRecords(recs [][]byte) (uint64, error) {
	w := s.wal
	if w.idle() && w.log.Used() > 0 {
		w.log.Reset() // the leader is the only appender: nothing is being written now
	}
	last, err := w.log.Append(recs)
	if errors.Is(err, wal.ErrFull) {
		if cerr := s.checkpointWAL(context.Background()); cerr != nil {
			return 0, fmt.Errorf("%w: full, and its checkpoint failed: %w", errWALUnavailable, cerr)
		}
		if !w.idle() {
			return 0, fmt.Errorf("%w: full, and its checkpoint left records behind", errWALUnavailable)
		}
		w.log.Reset()
		last, err = w.log.Append(recs)
	}
	if err != nil && !errors.Is(err, wal.ErrFull) {
		w.mu.Lock()
		w.skip = max(w.skip, last)
		w.mu.Unlock()
		if w.failed.CompareAndSwap(false, true) {
			s.log.Error("write-ahead log failed: completions are written to the state file until a restart", "err", err)
		}
	}
	if err != nil {
		return 0, fmt.Errorf("%w: %w", errWALUnavailable, err)
	}
	if w.log.Used() > w.log.Capacity()/2 {
		go s.checkpointQuietly()
	}
	return last, nil
}
