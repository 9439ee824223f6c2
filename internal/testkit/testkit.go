// Package testkit holds the small helpers tests of several packages share: a settable clock, a log sink safe
// for concurrent writers, and polling with a deadline (tests never sleep to wait). Only tests import it.
package testkit

import (
	"strings"
	"sync"
	"testing"
	"time"
)

// Clock is a settable clock safe for concurrent use, shared by the code under test (Now) and the test
// (Advance).
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock is a Clock at 26 November 2026, 12:00 UTC.
func NewClock() *Clock {
	return &Clock{t: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)}
}

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// LogBuffer collects what concurrent loggers write (a sink for a slog handler).
type LogBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

// Write appends p.
func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String is everything written so far.
func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// DefaultWait is how long Eventually polls before it fails the test.
const DefaultWait = 10 * time.Second

// pollEvery is how often Eventually checks its condition.
const pollEvery = 2 * time.Millisecond

// Eventually polls cond until it holds, and fails t (naming what it waited for) when DefaultWait passes first.
func Eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	EventuallyWithin(t, DefaultWait, what, cond)
}

// EventuallyWithin is Eventually with its own deadline.
func EventuallyWithin(t testing.TB, wait time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
			return
		}
		<-tick.C
	}
}
