package telemetry

import (
	"io"
	"log/slog"
	"testing"
)

// BenchmarkLoggerWith is the loggers a request and its turn derive (request id; activity, type, tenant, user)
// when nothing is logged at their level, as with the server's default level and the bench's "error".
func BenchmarkLoggerWith(b *testing.B) {
	for _, bc := range []struct {
		name string
		h    slog.Handler
	}{
		{"text", slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelError})},
		{"json", slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelError})},
	} {
		b.Run(bc.name, func(b *testing.B) {
			log := slog.New(LogHandler(bc.h))
			b.ReportAllocs()
			for b.Loop() {
				req := log.With("request_id", "0123456789abcdef")
				turn := req.With("activity_id", "93943057-a7e9-4404-986d-9340201b8073", "type", "message",
					"tenant", "11111111-1111-1111-1111-111111111111", "user", "aaaaaaaa-0000-0000-0000-000000000002")
				turn.Info("not logged at this level")
			}
		})
	}
}
