package telemetry

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// withTracing installs an SDK tracer provider with an in-memory exporter for one test (tests that use it
// do not run in parallel: the provider is global, like in the binary).
func withTracing(t *testing.T) *tracetest.InMemoryExporter {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.TraceContext{})
	t.Cleanup(func() {
		otel.SetTracerProvider(noop.NewTracerProvider())
		_ = tp.Shutdown(context.Background())
	})
	return exp
}

func TestOperation(t *testing.T) {
	for _, tc := range []struct{ method, path, want string }{
		{"GET", "/v1.0/users/aaaaaaaa-0000-0000-0000-000000000001/manager", "GET /v1.0/users/{id}/manager"},
		{"GET", "/v1.0/users/rita@contoso.example", "GET /v1.0/users/{id}"},
		{"PATCH", "/v1.0/identityGovernance/entitlementManagement/assignmentApprovals/abc/stages/def", "PATCH /v1.0/identityGovernance/entitlementManagement/assignmentApprovals/abc/stages/def"},
		{"GET", "/v1.0/identityGovernance/entitlementManagement/accessPackages/filterByCurrentUser(on='allowedRequestor')", "GET /v1.0/identityGovernance/entitlementManagement/accessPackages/filterByCurrentUser(on='…')"},
		{"POST", "/v3/conversations/a:1xYz/activities/1700000000", "POST /v3/conversations/{id}/activities/{id}"},
		{"PUT", "/amer/v3/conversations/personal-chat/activities/act", "PUT /amer/v3/conversations/{id}/activities/{id}"},
		{"POST", "/v3/conversations", "POST /v3/conversations"},
		{"GET", "/", "GET /"},
	} {
		if got := Operation(tc.method, tc.path); got != tc.want {
			t.Errorf("Operation(%s %s) = %q, want %q", tc.method, tc.path, got, tc.want)
		}
	}
}

func TestTransportCountsTimesAndTraces(t *testing.T) {
	exp := withTracing(t)
	var gotParent string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotParent = r.Header.Get("Traceparent")
		if strings.HasSuffix(r.URL.Path, "/busy") {
			w.Header().Set("Retry-After", "3")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		_, _ = io.WriteString(w, "{}")
	}))
	defer srv.Close()
	m := NewMetrics()
	c := &http.Client{Transport: m.Transport("graph", nil)}
	ctx, parent := Tracer().Start(context.Background(), "activity message")
	for _, p := range []string{"/v1.0/users/aaaaaaaa-0000-0000-0000-000000000001", "/v1.0/users/bbbbbbbb-0000-0000-0000-000000000002", "/v1.0/busy"} {
		req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+p, nil)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	parent.End()
	if got := testutil.ToFloat64(m.outCalls.WithLabelValues("graph", "GET /v1.0/users/{id}", "200")); got != 2 {
		t.Errorf("users calls = %v, want 2", got)
	}
	if got := testutil.ToFloat64(m.throttled.WithLabelValues("graph", "429")); got != 1 {
		t.Errorf("throttled = %v, want 1", got)
	}
	if got := testutil.ToFloat64(m.throttleWait.WithLabelValues("graph")); got != 3 {
		t.Errorf("throttle wait = %v, want 3", got)
	}
	if !strings.Contains(gotParent, parent.SpanContext().TraceID().String()) {
		t.Errorf("traceparent %q does not carry the trace %s", gotParent, parent.SpanContext().TraceID())
	}
	spans := exp.GetSpans()
	if len(spans) != 4 {
		t.Fatalf("got %d spans, want 3 client spans + the parent", len(spans))
	}
	for _, s := range spans[:3] {
		if s.SpanKind != trace.SpanKindClient || s.Parent.SpanID() != parent.SpanContext().SpanID() {
			t.Errorf("span %q kind %v parent %v: want a client child of the activity span", s.Name, s.SpanKind, s.Parent.SpanID())
		}
	}
	if spans[0].Name != "graph GET /v1.0/users/{id}" {
		t.Errorf("span name %q", spans[0].Name)
	}
}

func TestTransportFailureIsCountedAsError(t *testing.T) {
	m := NewMetrics()
	c := &http.Client{Transport: m.Transport("connector", failingRT{})}
	if _, err := c.Get("http://127.0.0.1:1/v3/conversations"); err == nil {
		t.Fatal("want an error")
	}
	if got := testutil.ToFloat64(m.outCalls.WithLabelValues("connector", "GET /v3/conversations", "error")); got != 1 {
		t.Errorf("error calls = %v, want 1", got)
	}
}

// TestTransportClosesIdleConnections: closing a client's idle connections reaches the transport under the
// instrumentation, so a stopping bot leaves no pooled connection open to Graph or the Connector.
func TestTransportClosesIdleConnections(t *testing.T) {
	closed := make(chan struct{}, 1)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateClosed {
			closed <- struct{}{}
		}
	}
	srv.Start()
	defer srv.Close()
	c := &http.Client{Transport: NewMetrics().Transport("graph", nil)}
	resp, err := c.Get(srv.URL + "/v1.0/me")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close() // the connection goes back to the pool
	c.CloseIdleConnections()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("the pooled connection stayed open")
	}
}

type failingRT struct{}

func (failingRT) RoundTrip(*http.Request) (*http.Response, error) { return nil, errors.New("boom") }

func TestStoreOpSpanAndLatency(t *testing.T) {
	exp := withTracing(t)
	m := NewMetrics()
	ctx, parent := Tracer().Start(context.Background(), "activity")
	m.StoreOp(ctx, "put conversation", true)(nil)
	m.StoreOp(ctx, "get dialog", false)(errors.New("disk on fire"))
	parent.End()
	if got := testutil.CollectAndCount(m.storeDuration); got != 2 {
		t.Errorf("store series = %d, want 2", got)
	}
	if got := testutil.ToFloat64(m.storeErrors.WithLabelValues("get dialog", "read")); got != 1 {
		t.Errorf("store errors = %v, want 1", got)
	}
	spans := exp.GetSpans()
	if len(spans) != 3 || spans[0].Name != "store put conversation" || spans[1].Status.Description != "disk on fire" {
		t.Fatalf("spans = %+v", spans)
	}
	if spans[0].Parent.SpanID() != parent.SpanContext().SpanID() {
		t.Error("store span is not a child of the activity span")
	}
	var nilM *Metrics
	nilM.StoreOp(context.Background(), "x", true)(nil) // a nil *Metrics records nothing and does not panic
}

func TestLogHandlerAddsTraceID(t *testing.T) {
	withTracing(t)
	var buf bytes.Buffer
	log := slog.New(LogHandler(slog.NewJSONHandler(&buf, nil))).With("component", "test")
	ctx, span := Tracer().Start(context.Background(), "activity")
	log.InfoContext(ctx, "inside")
	span.End()
	log.Info("outside")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("lines = %q", lines)
	}
	if want := `"trace_id":"` + span.SpanContext().TraceID().String() + `"`; !strings.Contains(lines[0], want) || !strings.Contains(lines[0], `"component":"test"`) {
		t.Errorf("line %s lacks %s", lines[0], want)
	}
	if strings.Contains(lines[1], "trace_id") {
		t.Errorf("line without a span has a trace id: %s", lines[1])
	}
}

func TestSetupTracing(t *testing.T) {
	t.Cleanup(func() { otel.SetTracerProvider(noop.NewTracerProvider()) })
	off, err := SetupTracing(context.Background(), TracingConfig{Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	if _, span := Tracer().Start(context.Background(), "x"); span.SpanContext().IsValid() || span.IsRecording() {
		t.Error("tracing is on without OTEL_EXPORTER_OTLP_ENDPOINT")
	}
	if err := off(context.Background()); err != nil {
		t.Fatal(err)
	}

	exp := keepSpans{tracetest.NewInMemoryExporter()}
	shutdown, err := SetupTracing(context.Background(), TracingConfig{ServiceName: "accessbot", ServiceVersion: "t", Exporter: exp,
		Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	_, span := Tracer().Start(context.Background(), "activity")
	span.End()
	if err := shutdown(context.Background()); err != nil { // flushes the batcher
		t.Fatal(err)
	}
	spans := exp.GetSpans()
	if len(spans) != 1 || spans[0].Resource.String() == "" {
		t.Fatalf("spans = %+v", spans)
	}
	if !strings.Contains(spans[0].Resource.String(), "service.name=accessbot") {
		t.Errorf("resource %s lacks service.name", spans[0].Resource)
	}

	// With the standard variable set, the OTLP exporter is built (nothing is sent until a span ends).
	env := map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}
	shutdown, err = SetupTracing(context.Background(), TracingConfig{Getenv: func(k string) string { return env[k] }})
	if err != nil {
		t.Fatal(err)
	}
	if _, span := Tracer().Start(context.Background(), "x"); !span.SpanContext().IsValid() {
		t.Error("tracing is off with OTEL_EXPORTER_OTLP_ENDPOINT set")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = shutdown(ctx) // nothing listens there; the flush error is not the point
}

// keepSpans keeps the exported spans readable after the provider's shutdown (the in-memory exporter
// forgets them on Shutdown).
type keepSpans struct{ *tracetest.InMemoryExporter }

func (keepSpans) Shutdown(context.Context) error { return nil }

func TestCheckDebugAddr(t *testing.T) {
	for _, tc := range []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:6060", true}, {"[::1]:6060", true}, {"localhost:0", true},
		{":6060", false}, {"0.0.0.0:6060", false}, {"10.0.0.1:6060", false}, {"127.0.0.1", false}, {"example.com:6060", false},
	} {
		if err := CheckDebugAddr(tc.addr); (err == nil) != tc.ok {
			t.Errorf("CheckDebugAddr(%q) = %v, want ok=%v", tc.addr, err, tc.ok)
		}
	}
}

func TestDebugServerServesPprof(t *testing.T) {
	d, err := ListenDebug("127.0.0.1:0", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	resp, err := http.Get("http://" + d.Addr() + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "goroutine profile") {
		t.Errorf("status %d body %.100s", resp.StatusCode, body)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := ListenDebug("0.0.0.0:0", nil); err == nil {
		t.Error("a non-loopback debug address was accepted")
	}
}

func TestMetricsExposition(t *testing.T) {
	m := NewMetrics()
	m.ObserveHTTP("BREW", "unmatched", 404, time.Millisecond)
	m.ObserveActivity("message", "unauthorized")
	m.RequestFiled("delegated")
	m.RequestDecided("brokered", "approved", 2*time.Hour)
	m.RegisterOutbox(func(context.Context) (OutboxStats, error) {
		return OutboxStats{Pending: 3, DeadLetters: 1, OldestAge: 90 * time.Second}, nil
	})
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{
		`accessbot_http_requests_total{method="OTHER",route="unmatched",status="404"} 1`,
		`accessbot_activities_total{outcome="unauthorized",type="message"} 1`,
		`accessbot_requests_filed_total{mode="delegated"} 1`,
		`accessbot_requests_decided_total{mode="brokered",outcome="approved"} 1`,
		`accessbot_approval_latency_seconds_count{mode="brokered"} 1`,
		"accessbot_outbox_pending 3", "accessbot_outbox_dead_letters 1", "accessbot_outbox_oldest_age_seconds 90",
		"go_goroutines ", "process_resident_memory_bytes ",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("exposition lacks %q", want)
		}
	}
}

func TestSQLOperation(t *testing.T) {
	for _, tc := range []struct{ sql, op, kind string }{
		{"SELECT ref FROM conversations WHERE tenant_id = $1", "SELECT conversations", "read"},
		{"INSERT INTO conversations (tenant_id) VALUES ($1) ON CONFLICT DO UPDATE SET x = 1", "INSERT conversations", "write"},
		{"UPDATE outbox SET leased_until = now()", "UPDATE outbox", "write"},
		{"DELETE FROM processed WHERE at < $1", "DELETE processed", "write"},
		{"WITH due AS (SELECT id FROM outbox FOR UPDATE SKIP LOCKED) UPDATE outbox o SET x = 1", "WITH outbox", "write"},
		{"begin", "BEGIN", "write"},
		{"SELECT pg_try_advisory_lock($1)", "SELECT", "read"},
		{"", "unknown", "write"},
	} {
		if op, kind := SQLOperation(tc.sql); op != tc.op || kind != tc.kind {
			t.Errorf("SQLOperation(%q) = %q, %q; want %q, %q", tc.sql, op, kind, tc.op, tc.kind)
		}
	}
}

func TestOffProvider(t *testing.T) {
	installed := sdktrace.NewTracerProvider()
	t.Cleanup(func() { _ = installed.Shutdown(context.Background()) })
	tests := []struct {
		name             string
		current, initial trace.TracerProvider
		wantNoop         bool
	}{
		{"nothing installed: the no-op provider", defaultProvider, defaultProvider, true},
		{"a provider installed before (a test, an embedding program): left alone", installed, defaultProvider, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tp := offProvider(tt.current, tt.initial)
			if (tp != nil) != tt.wantNoop {
				t.Fatalf("offProvider = %v, want no-op: %v", tp, tt.wantNoop)
			}
			if tp == nil {
				return
			}
			// The point of it: no span allocated per Start (only the context that carries the parent along).
			tr, ctx := tp.Tracer(ScopeName), context.Background()
			if n := testing.AllocsPerRun(100, func() { _, span := tr.Start(ctx, "x"); span.End() }); n > 1 {
				t.Errorf("a span with tracing off allocates %.0f times, want at most 1", n)
			}
		})
	}
}
