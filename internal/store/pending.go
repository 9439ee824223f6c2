package store

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"sync"
)

// PendingAnswers holds, in memory, the answers of activities that were processed and answered but whose
// completion could not be written (a full disk, a database that stopped answering). Both backends keep one:
// a redelivery of such an activity replays the answer from here instead of being processed a second time, the
// claim is not released but renewed, and the completions are written (Flush) once the store takes writes
// again — by a background retry (SetRetry, pendingretry.go) and by Ping. It is safe for concurrent use; the
// zero value is empty and retries nothing.
type PendingAnswers struct {
	mu      sync.Mutex
	pending map[string]pendingAnswer // activity key → the answer whose completion failed
	retry   retryLoop
	// flushing holds one token while a Flush runs (made on first use), so flushes do not overlap.
	flushing chan struct{}
}

// pendingAnswer is one answered activity whose completion waits: the token of the claim its turn won (the
// retry renews that claim until it is lost), the response to replay, and what its turn writes with the
// completion (a copy of its TurnWrites): the user's conversation reference (stamped with the turn's time, see
// TurnWrites.Stamped) and the dialogs the answer points at.
type pendingAnswer struct {
	token string
	resp  []byte
	w     TurnWrites
	lost  bool
}

// Remember keeps (a copy of) resp as the answer of activity key, whose claim token holds, and of w (the
// reference and the dialogs to write with its completion), until Forget; when a retry is set (SetRetry) it
// makes sure the background retry runs. An answer already kept for key stays, with its writes: as on disk,
// the first completion wins (a second comes from a turn that took the first one's claim over).
func (p *PendingAnswers) Remember(key, token string, resp []byte, w TurnWrites) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pending == nil {
		p.pending = map[string]pendingAnswer{}
	}
	if _, kept := p.pending[key]; !kept {
		p.pending[key] = pendingAnswer{token: token, resp: bytes.Clone(resp), w: w.clone()}
	}
	p.startRetryLocked()
}

// Answer returns the claim a redelivery of activity key gets while its remembered answer waits (answered
// reports one is kept): Done with the answer, or neither won nor done while the answer points at dialogs not
// written yet (they are written only with its completion). Such an answer must not be replayed, or a card
// could reach someone before the dialog behind it is stored; a redelivery waits instead, as on a turn still
// running.
func (p *PendingAnswers) Answer(key string) (c Claim, answered bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	a, ok := p.pending[key]
	if !ok || len(a.w.Dialogs) > 0 {
		return Claim{}, ok
	}
	return Claim{Done: true, Response: a.resp}, true
}

// Forget drops the answer of activity key (its completion was written).
func (p *PendingAnswers) Forget(key string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.pending, key)
}

// Len is how many answers wait for their completion to be written.
func (p *PendingAnswers) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.pending)
}

// Flush writes every remembered completion with complete (a backend's completion write, given the answer's
// reference and dialogs as the TurnWrites to write in the same transaction, with KeepNewerRef: a newer
// reference stored meanwhile by a later turn stays) and forgets each one written; it stops at the first error
// and returns it. Flushes run one at a time (Ping, a redelivery and the background retry may flush together):
// a second one waits for the first, bounded by its ctx, and then finds what the first wrote gone, instead of
// writing it again — which the backend would log as an activity completed twice.
func (p *PendingAnswers) Flush(ctx context.Context, complete func(ctx context.Context, key, token string, resp []byte, w TurnWrites) error) error {
	p.mu.Lock()
	if p.flushing == nil {
		p.flushing = make(chan struct{}, 1)
	}
	flushing := p.flushing
	p.mu.Unlock()
	select {
	case flushing <- struct{}{}:
		defer func() { <-flushing }()
	case <-ctx.Done():
		return fmt.Errorf("wait for another flush of the pending answers: %w", ctx.Err())
	}
	for key, a := range p.snapshot() {
		w := a.w
		w.KeepNewerRef = true
		if err := complete(ctx, key, a.token, a.resp, w); err != nil {
			return err
		}
		p.Forget(key)
	}
	return nil
}

func (p *PendingAnswers) snapshot() map[string]pendingAnswer {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.pending)
}
