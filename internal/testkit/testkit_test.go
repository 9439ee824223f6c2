package testkit

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestClock(t *testing.T) {
	c := NewClock()
	start := c.Now()
	if want := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC); !start.Equal(want) {
		t.Fatalf("NewClock().Now() = %v, want %v", start, want)
	}
	c.Advance(90 * time.Minute)
	if got := c.Now().Sub(start); got != 90*time.Minute {
		t.Fatalf("after Advance(90m) the clock moved %v", got)
	}
}

func TestLogBufferConcurrentWriters(t *testing.T) {
	var b LogBuffer
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fmt.Fprintf(&b, "%d\n", i)
		}()
	}
	wg.Wait()
	if got := len(b.String()); got != 16 {
		t.Fatalf("8 writers of 2 bytes left %d bytes", got)
	}
}

// fatalRecorder is a testing.TB that records Fatalf instead of stopping the test.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (f *fatalRecorder) Helper() {}

func (f *fatalRecorder) Fatalf(format string, args ...any) { f.msg = fmt.Sprintf(format, args...) }

func TestEventually(t *testing.T) {
	tests := []struct {
		name    string
		holdsAt int32 // the call on which cond first holds; 0 = never
		wantMsg string
	}{
		{"holds at once", 1, ""},
		{"holds after a few polls", 4, ""},
		{"never holds: fails naming what it waited for", 0, "timed out waiting for the thing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int32
			rec := &fatalRecorder{TB: t}
			EventuallyWithin(rec, 50*time.Millisecond, "the thing", func() bool {
				n := calls.Add(1)
				return tt.holdsAt != 0 && n >= tt.holdsAt
			})
			if rec.msg != tt.wantMsg {
				t.Fatalf("Fatalf message = %q, want %q", rec.msg, tt.wantMsg)
			}
			if tt.holdsAt != 0 && calls.Load() != tt.holdsAt {
				t.Fatalf("cond called %d times, want %d", calls.Load(), tt.holdsAt)
			}
		})
	}
}
