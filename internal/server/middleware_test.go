package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/accessbot/accessbot/internal/telemetry"
	"github.com/labstack/echo/v4"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace/noop"
)

func TestRequestID(t *testing.T) {
	s, logs := newTestServer(t, Config{})
	var seen string
	s.Handle(http.MethodGet, "/who", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = RequestID(r.Context())
		Logger(r.Context()).Info("inside handler")
	}))
	tests := []struct {
		name     string
		header   string
		wantSame bool
	}{
		{"propagated", "0f8fad5b-d9cb-469f-a165-70867728950e", true},
		{"generated when absent", "", false},
		{"replaced when unsafe", "x\" injected=1", false},
		{"replaced when too long", strings.Repeat("a", 129), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "/who", nil)
			if tc.header != "" {
				req.Header.Set(HeaderRequestID, tc.header)
			}
			rec := httptest.NewRecorder()
			s.Echo().ServeHTTP(rec, req)
			got := rec.Header().Get(HeaderRequestID)
			if got != seen {
				t.Errorf("response id %q != id seen by handler %q", got, seen)
			}
			if tc.wantSame && got != tc.header {
				t.Errorf("id = %q, want the caller's %q", got, tc.header)
			}
			if !tc.wantSame && (got == tc.header || len(got) != 32) {
				t.Errorf("id = %q, want a fresh 32-hex id", got)
			}
			var found bool
			for _, r := range logs.records(t, "inside handler") {
				found = found || r["request_id"] == got
			}
			if !found {
				t.Errorf("handler log line does not carry request_id %q", got)
			}
		})
	}
	if RequestID(context.Background()) != "" || Logger(context.Background()) == nil {
		t.Error("outside a request RequestID must be empty and Logger non-nil")
	}
}

func TestAccessLogOmitsSecrets(t *testing.T) {
	s, logs := newTestServer(t, Config{})
	s.Echo().POST("/api/messages", func(c echo.Context) error {
		_, _ = io.ReadAll(c.Request().Body)
		return c.String(http.StatusOK, "accepted")
	})
	req := httptest.NewRequest("POST", "/api/messages?code=SECRET-QUERY", strings.NewReader(`{"text":"SECRET-BODY"}`))
	req.Header.Set("Authorization", "Bearer SECRET-TOKEN")
	req.Header.Set(HeaderRequestID, "rid-log")
	rec := httptest.NewRecorder()
	s.Echo().ServeHTTP(rec, req)

	lines := logs.records(t, "http request")
	if len(lines) != 1 {
		t.Fatalf("access log lines = %d, want 1: %s", len(lines), logs)
	}
	l := lines[0]
	want := map[string]any{"method": "POST", "path": "/api/messages", "route": "/api/messages", "status": float64(200),
		"request_id": "rid-log", "bytes": float64(len("accepted")), "level": "INFO"}
	for k, v := range want {
		if l[k] != v {
			t.Errorf("access log %s = %v, want %v", k, l[k], v)
		}
	}
	if _, ok := l["duration"]; !ok {
		t.Error("access log has no duration")
	}
	if strings.Contains(logs.String(), "SECRET") {
		t.Errorf("log contains a secret: %s", logs)
	}
}

// TestAccessLogLevels: failures are warnings or errors, but probes of missing routes or methods are routine.
func TestAccessLogLevels(t *testing.T) {
	tests := []struct {
		method, path string
		status       int
		want         string
	}{
		{"POST", "/api/messages", http.StatusOK, "INFO"},
		{"POST", "/api/messages", http.StatusUnauthorized, "WARN"},
		{"POST", "/api/messages", http.StatusInternalServerError, "ERROR"},
		{"HEAD", "/api/messages", http.StatusMethodNotAllowed, "INFO"},
		{"GET", "/nope", http.StatusNotFound, "INFO"},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s %s %d", tc.method, tc.path, tc.status), func(t *testing.T) {
			s, logs := newTestServer(t, Config{})
			s.Echo().POST("/api/messages", func(c echo.Context) error { return c.NoContent(tc.status) })
			rec := httptest.NewRecorder()
			s.Echo().ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
			if rec.Code != tc.status {
				t.Fatalf("status = %d, want %d", rec.Code, tc.status)
			}
			lines := logs.records(t, "http request")
			if len(lines) != 1 || lines[0]["level"] != tc.want {
				t.Fatalf("access log = %v, want one line at %s", lines, tc.want)
			}
		})
	}
}

// TestTraceSpanAndLogTraceID: with tracing on, every request gets a server span that continues the caller's
// W3C traceparent, named by its route, and the access log line carries the trace id.
func TestTraceSpanAndLogTraceID(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.TraceContext{})
	t.Cleanup(func() { otel.SetTracerProvider(noop.NewTracerProvider()) })

	logs := &logBuffer{}
	s := New(Config{Addr: "127.0.0.1:0", Logger: slog.New(telemetry.LogHandler(slog.NewJSONHandler(logs, nil)))})
	s.Echo().GET("/users/:id", func(c echo.Context) error { return c.String(200, "ok") })
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	req := httptest.NewRequest("GET", "/users/7", nil)
	req.Header.Set("Traceparent", "00-"+traceID+"-00f067aa0ba902b7-01")
	s.Echo().ServeHTTP(httptest.NewRecorder(), req)

	spans := exp.GetSpans()
	if len(spans) != 1 || spans[0].Name != "GET /users/:id" || spans[0].SpanContext.TraceID().String() != traceID {
		t.Fatalf("spans = %+v", spans)
	}
	if !strings.Contains(logs.String(), `"trace_id":"`+traceID+`"`) {
		t.Errorf("access log lacks the trace id: %s", logs.String())
	}
}
