package telemetry

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
)

// TestLogHandlerDefersWith: loggers derived with With and WithGroup write exactly what the base handler writes
// for the same calls, and the base's WithAttrs/WithGroup run only once a record is handled, once per logger.
func TestLogHandlerDefersWith(t *testing.T) {
	noTime := func(groups []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey && len(groups) == 0 {
			return slog.Attr{}
		}
		return a
	}
	derive := func(l *slog.Logger) *slog.Logger {
		return l.With("request_id", "r1").With().WithGroup("").WithGroup("turn").With("user", "u1", slog.Group("g", "k", 1)).WithGroup("inner")
	}
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			newBase := func(buf *bytes.Buffer) slog.Handler {
				opts := &slog.HandlerOptions{ReplaceAttr: noTime, Level: slog.LevelInfo}
				if format == "json" {
					return slog.NewJSONHandler(buf, opts)
				}
				return slog.NewTextHandler(buf, opts)
			}
			var got, want bytes.Buffer
			counted := &countingHandler{Handler: newBase(&got), derived: new(atomic.Int32)}
			gl, wl := derive(slog.New(LogHandler(counted))), derive(slog.New(newBase(&want)))
			gl.Debug("below the level", "x", 1)
			if n := counted.derived.Load(); n != 0 {
				t.Errorf("%d WithAttrs/WithGroup calls on the base before anything was logged, want 0", n)
			}
			var wg sync.WaitGroup
			for range 4 {
				wg.Add(1)
				go func() { defer wg.Done(); gl.Info("logged", "x", 2) }()
			}
			wg.Wait()
			for range 4 {
				wl.Info("logged", "x", 2)
			}
			gl.With("late", true).Warn("again")
			wl.With("late", true).Warn("again")
			if got.String() != want.String() {
				t.Errorf("deferred handler wrote\n%s\nthe base writes\n%s", got.String(), want.String())
			}
			// derive: 2 WithAttrs and 2 WithGroup applied once for gl (4 records), then once more plus "late".
			if n := counted.derived.Load(); n != 9 {
				t.Errorf("%d WithAttrs/WithGroup calls on the base, want 9", n)
			}
		})
	}
}

// countingHandler counts the WithAttrs and WithGroup calls made on it and on the handlers it derives.
type countingHandler struct {
	slog.Handler
	derived *atomic.Int32
}

func (c *countingHandler) WithAttrs(as []slog.Attr) slog.Handler {
	c.derived.Add(1)
	return &countingHandler{Handler: c.Handler.WithAttrs(as), derived: c.derived}
}

func (c *countingHandler) WithGroup(name string) slog.Handler {
	c.derived.Add(1)
	return &countingHandler{Handler: c.Handler.WithGroup(name), derived: c.derived}
}

func (c *countingHandler) Handle(ctx context.Context, r slog.Record) error {
	return c.Handler.Handle(ctx, r)
}

// counter is a LogValuer whose value changes every time it is resolved.
type counter struct{ n int }

func (c *counter) LogValue() slog.Value { c.n++; return slog.IntValue(c.n) }

// mutableErr is an error whose text changes after the logger was derived.
type mutableErr struct{ msg string }

func (e *mutableErr) Error() string { return e.msg }

// TestLogHandlerWithValuesThatChange: a value that reads differently after With (a LogValuer, a pointer, a
// map, an error, in a group or not) is written as the base writes it: as it read when With was called.
func TestLogHandlerWithValuesThatChange(t *testing.T) {
	type point struct{ X int }
	tests := []struct {
		name string
		// attr returns the attribute for With and a change to make after With, before logging.
		attr func() (slog.Attr, func())
	}{
		{"LogValuer", func() (slog.Attr, func()) { c := &counter{}; return slog.Any("c", c), func() { c.n = 10 } }},
		{"LogValuer in a group", func() (slog.Attr, func()) {
			c := &counter{}
			return slog.Group("g", slog.String("s", "x"), slog.Any("c", c)), func() { c.n = 10 }
		}},
		{"pointer", func() (slog.Attr, func()) { p := &point{1}; return slog.Any("p", p), func() { p.X = 2 } }},
		{"map", func() (slog.Attr, func()) {
			m := map[string]int{"a": 1}
			return slog.Any("m", m), func() { m["a"] = 2 }
		}},
		{"error", func() (slog.Attr, func()) {
			e := &mutableErr{"before"}
			return slog.Any("err", e), func() { e.msg = "after" }
		}},
		{"fixed error", func() (slog.Attr, func()) { return slog.Any("err", errors.New("same")), func() {} }},
	}
	noTime := func(groups []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey && len(groups) == 0 {
			return slog.Attr{}
		}
		return a
	}
	for _, tc := range tests {
		for _, format := range []string{"text", "json"} {
			t.Run(tc.name+"/"+format, func(t *testing.T) {
				var got, want bytes.Buffer
				for _, c := range []struct {
					buf  *bytes.Buffer
					wrap func(slog.Handler) slog.Handler
				}{{&got, LogHandler}, {&want, func(h slog.Handler) slog.Handler { return h }}} {
					opts := &slog.HandlerOptions{ReplaceAttr: noTime}
					var h slog.Handler = slog.NewTextHandler(c.buf, opts)
					if format == "json" {
						h = slog.NewJSONHandler(c.buf, opts)
					}
					attr, change := tc.attr()
					l := slog.New(c.wrap(h)).With("request_id", "r1").WithGroup("turn").With(attr).With("user", "u1")
					change()
					l.Info("logged")
					l.Info("again")
				}
				if got.String() != want.String() {
					t.Errorf("LogHandler wrote\n%s\nthe base writes\n%s", got.String(), want.String())
				}
			})
		}
	}
}
