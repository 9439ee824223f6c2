package store

import (
	"context"
	"maps"
	"sync"
)

// PendingAnswers holds, in memory, the answers of activities that were processed and answered but whose
// completion could not be written (a full disk, a database that stopped answering). Both backends keep one:
// a redelivery of such an activity replays the answer from here instead of being processed a second time, the
// claim is not released, and the completions are written (Flush) once the store takes writes again. It is
// safe for concurrent use; the zero value is empty.
type PendingAnswers struct {
	mu      sync.Mutex
	pending map[string][]byte // activity key → the response whose completion failed
}

// Remember keeps resp as the answer of activity key until Forget.
func (p *PendingAnswers) Remember(key string, resp []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pending == nil {
		p.pending = map[string][]byte{}
	}
	p.pending[key] = resp
}

// Answer returns the remembered answer of activity key.
func (p *PendingAnswers) Answer(key string) ([]byte, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	resp, ok := p.pending[key]
	return resp, ok
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

// Flush writes every remembered completion with complete (a backend's MarkProcessed) and forgets each one
// written; it stops at the first error and returns it.
func (p *PendingAnswers) Flush(ctx context.Context, complete func(ctx context.Context, key string, resp []byte) error) error {
	p.mu.Lock()
	snap := maps.Clone(p.pending)
	p.mu.Unlock()
	for key, resp := range snap {
		if err := complete(ctx, key, resp); err != nil {
			return err
		}
		p.Forget(key)
	}
	return nil
}
