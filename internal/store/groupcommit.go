package store

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"go.etcd.io/bbolt"
)

// groupCommit lets concurrent write transactions share one commit (and its fsyncs) without delaying a lone
// writer: the first writer to arrive commits at once (unlike bbolt.DB.Batch, which waits MaxBatchDelay for
// company); whatever other writers queued while that commit was busy is then committed as one transaction by a
// new goroutine, and so on while writers keep arriving. The writer that started returns as soon as its own
// transaction is committed: it does not keep committing for the others (a turn would otherwise be held for as
// long as the queue never empties). A writer returns only after the transaction holding its change is
// committed, so nothing acknowledged is lost. As with bbolt.DB.Batch, a function may run more than once (when
// another one in its group fails, the group is retried without it) and must therefore be idempotent.
type groupCommit = groupQueue[*commitReq]

// groupQueue is the leader-and-followers queue of a group commit: the first caller to join while no group is
// running leads (runs its group at once); callers that join meanwhile wait in pending, and whoever finishes a
// group takes them as the next one (next), until none are left.
type groupQueue[R any] struct {
	mu      sync.Mutex
	leading bool
	pending []R
}

// join queues r. When no group is running, the caller leads: it gets the group to run (r and anything queued)
// and must call next once it is done. Otherwise it gets nil, and r runs in a later group.
func (q *groupQueue[R]) join(r R) []R {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.pending = append(q.pending, r)
	if q.leading {
		return nil
	}
	q.leading = true
	group := q.pending
	q.pending = nil
	return group
}

// next is called when a group is done: the requests queued meanwhile, as the next group (the caller keeps
// leading), or nil when none are (nobody leads until the next join).
func (q *groupQueue[R]) next() []R {
	q.mu.Lock()
	defer q.mu.Unlock()
	group := q.pending
	q.pending = nil
	if len(group) == 0 {
		q.leading = false
	}
	return group
}

type commitReq struct {
	fn   func(tx *bbolt.Tx) error
	done chan commitResult
}

// commitResult is a writer's outcome: fnErr when its own function failed, commitErr when the shared commit
// did.
type commitResult struct{ fnErr, commitErr error }

// errGroupMember marks the function that failed a group's transaction.
var errGroupMember = errors.New("group member failed")

// batch runs fn in a read-write transaction shared with concurrent batch callers; the transaction is committed
// and fsynced before it returns. Every write of the store goes through it. fn must be idempotent (see
// groupCommit): it sets any result it reports from scratch, and logs nothing until the commit succeeded. A
// failed commit (a write error such as a full disk) is remembered for Ping.
func (s *Store) batch(ctx context.Context, op string, fn func(tx *bbolt.Tx) error) (err error) {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if s.observe != nil {
		done := s.observe(ctx, op, true)
		defer func() { done(failure(err)) }()
	}
	req := &commitReq{fn: fn, done: make(chan commitResult, 1)}
	if group := s.group.join(req); group != nil {
		s.commitGroup(group)
		s.handOff()
	}
	res := <-req.done
	switch {
	case res.fnErr != nil:
		return fmt.Errorf("%s: %w", op, res.fnErr)
	case res.commitErr != nil:
		s.log.Error("state write failed", "op", op, "err", res.commitErr)
		return fmt.Errorf("%s: write %s: %w", op, s.path, res.commitErr)
	}
	return nil
}

// handOff is called by the goroutine that just committed a group: the writers queued meanwhile are committed
// by a new goroutine (which hands off again when it is done), or, when none are queued, the next writer leads.
func (s *Store) handOff() {
	group := s.group.next()
	if len(group) == 0 {
		s.maybeDropResident()
		return
	}
	go func() {
		s.commitGroup(group)
		s.handOff()
	}()
}

// commitGroup applies every function of group in one transaction. When one fails, it gets its own error
// and the others are committed without it.
func (s *Store) commitGroup(group []*commitReq) {
	for len(group) > 0 {
		failed, fnErr, err := s.commitOnce(group)
		if failed < 0 {
			for _, r := range group {
				r.done <- commitResult{commitErr: err}
			}
			return
		}
		group[failed].done <- commitResult{fnErr: fnErr}
		group = append(group[:failed:failed], group[failed+1:]...)
	}
}

// commitOnce runs group in one transaction, after the write-ahead log's overlay (applyWAL, trimmed once the
// commit succeeded). failed is the index of the function that failed with fnErr (the transaction is rolled
// back), or -1 with err the outcome of the transaction.
func (s *Store) commitOnce(group []*commitReq) (failed int, fnErr, err error) {
	tx, err := s.db.Begin(true)
	if err != nil {
		return -1, nil, err
	}
	walSeq, err := s.applyWAL(tx)
	if err != nil {
		_ = tx.Rollback()
		return -1, nil, err
	}
	for i, r := range group {
		if fnErr := callSafely(r.fn, tx); fnErr != nil {
			_ = tx.Rollback()
			return i, fnErr, nil
		}
	}
	if err := tx.Commit(); err != nil {
		s.health.noteFailure(err) // cleared by a successful probe (probeWrites), not by the next commit
		return -1, nil, err
	}
	if walSeq > 0 {
		s.wal.trim(walSeq)
	}
	return -1, nil, nil
}

// callSafely runs fn, turning a panic into its error: the transaction is then rolled back and the rest of the
// group committed without it, instead of leaving the write lock held and every later writer waiting.
func callSafely(fn func(tx *bbolt.Tx) error, tx *bbolt.Tx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic in write transaction: %v", r)
		}
	}()
	return fn(tx)
}
