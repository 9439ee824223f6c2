package store

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/accessbot/accessbot/internal/testkit"
)

// fakeWrites is a backend for PendingAnswers' retry: completions fail while failing is set, renewals answer
// held; it counts both.
type fakeWrites struct {
	p         *PendingAnswers
	mu        sync.Mutex
	failing   bool
	held      bool
	flushes   int
	renewals  map[string]int // key|token → renewals
	completed map[string]string
}

func newFakeWrites(p *PendingAnswers, held bool) *fakeWrites {
	return &fakeWrites{p: p, failing: true, held: held, renewals: map[string]int{}, completed: map[string]string{}}
}

func (f *fakeWrites) flush(ctx context.Context) error {
	f.mu.Lock()
	f.flushes++
	failing := f.failing
	f.mu.Unlock()
	return f.p.Flush(ctx, func(_ context.Context, key, token string, resp []byte, _ TurnWrites) error {
		if failing {
			return errors.New("database unavailable")
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		f.completed[key] = string(resp)
		return nil
	})
}

func (f *fakeWrites) renew(_ context.Context, key, token string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.renewals[key+"|"+token]++
	return f.held, nil
}

func (f *fakeWrites) stats() (flushes int, renewals map[string]int, completed map[string]string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.flushes, maps.Clone(f.renewals), maps.Clone(f.completed)
}

func (f *fakeWrites) setFailing(v bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failing = v
}

func (p *PendingAnswers) retryRunning() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.retry.running
}

// TestPendingRetry: a pending answer is written in the background once writes succeed, its claim renewed
// after every failed attempt until it is reported lost; the retry ends when nothing is pending and starts
// again with the next answer; Stop ends it with one last attempt, and nothing starts after Stop.
func TestPendingRetry(t *testing.T) {
	for _, tc := range []struct {
		name         string
		held         bool
		wantRenewals func(n int) bool // renewals of the claim over several failed attempts
	}{
		{"claim held: renewed after every failed attempt", true, func(n int) bool { return n >= 3 }},
		{"claim lost: renewed no more", false, func(n int) bool { return n == 1 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p PendingAnswers
			f := newFakeWrites(&p, tc.held)
			p.SetRetry(PendingRetry{Flush: f.flush, Renew: f.renew, Max: 5 * time.Millisecond})
			defer p.Stop()
			p.Remember("act", "tok", []byte("answer"), TurnWrites{})
			testkit.Eventually(t, "four failed attempts", func() bool { n, _, _ := f.stats(); return n >= 4 })
			if _, renewals, _ := f.stats(); !tc.wantRenewals(renewals["act|tok"]) || len(renewals) != 1 {
				t.Fatalf("renewals = %v", renewals)
			}
			f.setFailing(false)
			testkit.Eventually(t, "completion written and retry ended", func() bool { return p.Len() == 0 && !p.retryRunning() })
			if _, _, completed := f.stats(); completed["act"] != "answer" {
				t.Fatalf("completed = %v", completed)
			}
			p.Remember("act2", "tok2", []byte("answer 2"), TurnWrites{})
			testkit.Eventually(t, "the next answer written", func() bool { return p.Len() == 0 && !p.retryRunning() })
		})
	}
}

// TestPendingRetryStop: Stop ends the retry and makes one last attempt; an answer remembered afterwards is
// kept (and replayed) but not retried.
func TestPendingRetryStop(t *testing.T) {
	var p PendingAnswers
	f := newFakeWrites(&p, true)
	p.SetRetry(PendingRetry{Flush: f.flush, Renew: f.renew, Max: time.Hour})
	p.Remember("act", "tok", []byte("answer"), TurnWrites{})
	f.setFailing(false)
	p.Stop() // the first attempt would wait 100 ms; Stop's last attempt writes it now
	if _, _, completed := f.stats(); completed["act"] != "answer" || p.Len() != 0 {
		t.Fatalf("after Stop: completed %v, %d pending; want the last attempt to write it", completed, p.Len())
	}
	p.Remember("late", "tok", []byte("late"), TurnWrites{})
	if p.retryRunning() {
		t.Fatal("a retry started after Stop")
	}
	if c, ok := p.Answer("late"); !ok || string(c.Response) != "late" {
		t.Fatalf("Answer(late) = %q, %v", c.Response, ok)
	}
}

// TestFlushesDoNotOverlap: while one Flush writes a completion, a second one (Ping, a redelivery or the retry
// at the same moment) waits for it instead of writing the same completion again; once the first is done
// nothing is left to write.
func TestFlushesDoNotOverlap(t *testing.T) {
	var p PendingAnswers
	p.Remember("act", "tok", []byte("answer"), TurnWrites{})
	var mu sync.Mutex
	writes := 0
	entered, release := make(chan struct{}), make(chan struct{})
	complete := func(_ context.Context, key, _ string, _ []byte, _ TurnWrites) error {
		mu.Lock()
		writes++
		first := writes == 1
		mu.Unlock()
		if first {
			close(entered)
			<-release
		}
		return nil
	}
	firstDone := make(chan error, 1)
	go func() { firstDone <- p.Flush(context.Background(), complete) }()
	<-entered
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := p.Flush(ctx, complete); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a Flush during another = %v; want it to wait (here until its deadline)", err)
	}
	close(release)
	if err := <-firstDone; err != nil {
		t.Fatal(err)
	}
	if err := p.Flush(context.Background(), complete); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if writes != 1 || p.Len() != 0 {
		t.Fatalf("the completion was written %d times (%d pending); want once", writes, p.Len())
	}
}

// TestRememberKeepsTheFirstAnswer: two turns of one activity (the second took the first's claim over) whose
// completions both failed: the first answer is the one replayed and written, as the first completion on
// disk would be, with the conversation reference its turn gave (a copy: the caller's may change after), which
// does not replace a newer one (KeepNewerRef).
func TestRememberKeepsTheFirstAnswer(t *testing.T) {
	var p PendingAnswers
	ref := ConversationRef{TenantID: "t1", AADObjectID: "u1", ConversationID: "a:first", ServiceURL: "https://smba.example/"}
	p.Remember("act", "tok-first", []byte("first"), TurnWrites{Ref: &ref})
	second := ref
	second.ConversationID = "a:second"
	p.Remember("act", "tok-second", []byte("second"), TurnWrites{Ref: &second})
	ref.ConversationID = "a:changed by the caller"
	if c, ok := p.Answer("act"); !ok || string(c.Response) != "first" {
		t.Fatalf("Answer = %q, %v; want the first answer", c.Response, ok)
	}
	var wrote []string
	if err := p.Flush(context.Background(), func(_ context.Context, key, token string, resp []byte, w TurnWrites) error {
		if w.Ref == nil || !w.KeepNewerRef {
			t.Fatalf("Flush wrote %s with reference %v (keep newer %v); want its reference, keeping a newer one", key, w.Ref, w.KeepNewerRef)
		}
		wrote = append(wrote, key+" "+token+" "+string(resp)+" "+w.Ref.ConversationID)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(wrote) != 1 || wrote[0] != "act tok-first first a:first" {
		t.Fatalf("Flush wrote %q; want the first answer with its token and reference", wrote)
	}
}

// TestPendingRetryLogsOnlyFailures: an attempt that wrote everything while another answer came in is not
// reported as a failure; the answer that came in is written by the next attempt.
func TestPendingRetryLogsOnlyFailures(t *testing.T) {
	var logs testkit.LogBuffer
	var p PendingAnswers
	var once sync.Once
	flush := func(ctx context.Context) error {
		return p.Flush(ctx, func(_ context.Context, key, _ string, _ []byte, _ TurnWrites) error {
			once.Do(func() { p.Remember("late", "tok-late", []byte("late"), TurnWrites{}) }) // a turn fails meanwhile
			return nil
		})
	}
	p.SetRetry(PendingRetry{Flush: flush, Renew: func(context.Context, string, string) (bool, error) { return true, nil },
		Max: 5 * time.Millisecond, Log: slog.New(slog.NewTextHandler(&logs, nil))})
	defer p.Stop()
	p.Remember("act", "tok", []byte("answer"), TurnWrites{})
	testkit.Eventually(t, "both written", func() bool { return p.Len() == 0 && !p.retryRunning() })
	if strings.Contains(logs.String(), "still cannot be written") {
		t.Fatalf("a successful attempt was logged as failed:\n%s", logs.String())
	}
}
