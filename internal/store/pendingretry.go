package store

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// DefaultPendingRetryMax caps the wait between background retries of pending answers. While the store
// answers, the claim of every pending answer is renewed at least that often, so it must stay well below the
// claim hold (the bot's is 15 s) for no other replica to take such an activity over.
const DefaultPendingRetryMax = 5 * time.Second

const (
	// pendingRetryMin is the first wait after a completion could not be written; it doubles up to the cap.
	pendingRetryMin = 100 * time.Millisecond
	// pendingAttemptTimeout bounds one retry (the flush and the renewals).
	pendingAttemptTimeout = 10 * time.Second
	// pendingFinalFlush bounds the last attempt as the store closes.
	pendingFinalFlush = 2 * time.Second
)

// PendingRetry is how a backend writes its pending answers in the background (PendingAnswers.SetRetry).
type PendingRetry struct {
	// Flush writes what is pending: PendingAnswers.Flush with the backend's completion write, after whatever
	// the backend must check first.
	Flush func(ctx context.Context) error
	// Renew renews the claim that token holds on activity key (false: the claim was lost), so no other
	// delivery takes the activity over while its answer waits.
	Renew func(ctx context.Context, key, token string) (bool, error)
	// Max caps the wait between attempts, which doubles from 100 ms; default DefaultPendingRetryMax.
	Max time.Duration
	// Log receives a line per failed attempt and per lost claim; nil discards them.
	Log *slog.Logger
}

// retryLoop is the state of the background retry; PendingAnswers.mu guards it.
type retryLoop struct {
	cfg     PendingRetry
	ctx     context.Context
	cancel  context.CancelFunc
	running bool
	wg      sync.WaitGroup
}

// SetRetry turns the background retry on: while answers are pending, one goroutine flushes them after a wait
// that doubles from 100 ms up to r.Max and, after each failed attempt, renews the claims of those left; it
// ends when nothing is pending (Remember starts it again) or on Stop. Call it once, before the store is used.
func (p *PendingAnswers) SetRetry(r PendingRetry) {
	if r.Max <= 0 {
		r.Max = DefaultPendingRetryMax
	}
	if r.Log == nil {
		r.Log = slog.New(slog.DiscardHandler)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.retry.cfg = r
	p.retry.ctx, p.retry.cancel = context.WithCancel(context.Background())
	p.startRetryLocked()
}

// startRetryLocked starts the retry goroutine when a retry is set, answers are pending and none runs.
func (p *PendingAnswers) startRetryLocked() {
	r := &p.retry
	if r.cancel == nil || r.running || len(p.pending) == 0 || r.ctx.Err() != nil {
		return
	}
	r.running = true
	r.wg.Add(1)
	go p.runRetry(r.ctx, r.cfg)
}

// Stop ends the background retry, waits for it, and makes one last attempt (bounded by 2 s) to write what is
// still pending, as the store closes. What it cannot write is lost with the process: those claims age, and
// another delivery processes the activities again.
func (p *PendingAnswers) Stop() {
	p.mu.Lock()
	r := &p.retry
	if r.cancel == nil {
		p.mu.Unlock()
		return
	}
	r.cancel()
	cfg := r.cfg
	p.mu.Unlock()
	r.wg.Wait()
	if p.Len() == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), pendingFinalFlush)
	defer cancel()
	if err := cfg.Flush(ctx); err != nil {
		cfg.Log.Warn("closing with answered activities whose completion could not be written; another delivery may process them again",
			"count", p.Len(), "err", err)
	}
}

func (p *PendingAnswers) runRetry(ctx context.Context, cfg PendingRetry) {
	defer p.retry.wg.Done()
	wait := min(pendingRetryMin, cfg.Max)
	for attempt := 1; ; attempt++ {
		if !sleepCtx(ctx, wait) {
			p.mu.Lock()
			p.retry.running = false
			p.mu.Unlock()
			return
		}
		if p.retryOnce(ctx, cfg, attempt) {
			return
		}
		wait = min(wait*2, cfg.Max)
	}
}

// retryOnce flushes once and renews the claims of the answers left; done reports that nothing is pending
// any more and the loop has ended.
func (p *PendingAnswers) retryOnce(ctx context.Context, cfg PendingRetry, attempt int) (done bool) {
	actx, cancel := context.WithTimeout(ctx, pendingAttemptTimeout)
	defer cancel()
	err := cfg.Flush(actx)
	if p.endIfEmpty() {
		cfg.Log.Info("wrote the activity completions kept in memory", "attempts", attempt)
		return true
	}
	if err != nil { // (nil: everything was written, but answers came in meanwhile)
		cfg.Log.Warn("activity completions kept in memory still cannot be written; retrying",
			"count", p.Len(), "attempt", attempt, "err", err)
	}
	for key, a := range p.snapshot() {
		if a.lost {
			continue
		}
		held, err := cfg.Renew(actx, key, a.token)
		if err == nil && !held {
			p.markLost(key, a.token)
			cfg.Log.Warn("the claim of an answered activity was lost while its completion waited; the completion is still written (the first completion wins)",
				"key", key)
		}
	}
	return false
}

// endIfEmpty marks the loop ended when nothing is pending (under the lock Remember takes to start it).
func (p *PendingAnswers) endIfEmpty() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.pending) > 0 {
		return false
	}
	p.retry.running = false
	return true
}

// markLost notes that the claim token held on key was lost, so it is not renewed again.
func (p *PendingAnswers) markLost(key, token string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if a, ok := p.pending[key]; ok && a.token == token {
		a.lost = true
		p.pending[key] = a
	}
}

// sleepCtx waits d; false when ctx ended first.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
