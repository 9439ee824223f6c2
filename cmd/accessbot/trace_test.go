package main

import (
	"context"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/accessbot/accessbot/internal/teamsfake"
	"github.com/accessbot/accessbot/internal/telemetry"
	"github.com/accessbot/accessbot/internal/testkit"
)

// TestServeTracesAnActivity: with a tracer provider installed (as SetupTracing does when
// OTEL_EXPORTER_OTLP_ENDPOINT is set), one signed message through the whole serve wiring yields the HTTP
// request span, the activity span under it, and the store transactions and the Connector reply under the
// activity; the log lines of the turn carry its trace id.
func TestServeTracesAnActivity(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	otel.SetTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp)))
	t.Cleanup(func() { otel.SetTracerProvider(noop.NewTracerProvider()) })

	oid := newOpenIDServer(t)
	conn := teamsfake.NewConnector(t)
	cfg := config{
		BotID: testAppID, BotPassword: testSecret, BotTenantID: testTenantID, BotType: botTypeSingleTenant,
		OpenIDMetadataURL: oid.srv.URL + "/v1/.well-known/openidconfiguration", AuthorityHost: oid.tokenSrv.URL + "/",
		GraphBaseURL: "http://127.0.0.1:1/v1.0", Addr: "127.0.0.1:0", DataPath: filepath.Join(t.TempDir(), "bot.db"),
		LogLevel: "info", LogFormat: "json", ShutdownTimeout: 5 * time.Second, ReminderAfter: 24 * time.Hour,
	}
	var logs testkit.LogBuffer
	log := slog.New(telemetry.LogHandler(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	a := startApp(t, cfg, log)

	now := time.Now()
	cl := &teamsfake.Client{Endpoint: "http://" + a.srv.Addr() + "/api/messages", ServiceURL: conn.URL(), BotID: "28:" + testAppID,
		BotName: "AccessBot", Authorize: func(map[string]any) string {
			return "Bearer " + sign(t, oid.teamsKey, "teams-key", jwt.MapClaims{"iss": "https://api.botframework.com", "aud": testAppID,
				"serviceurl": conn.URL(), "exp": now.Add(time.Hour).Unix(), "nbf": now.Add(-time.Minute).Unix()})
		}}
	user := teamsfake.User{ID: "29:rita", Name: "Rita Requester", AADObjectID: "aaaaaaaa-0000-0000-0000-000000000001", TenantID: testTenantID, ConversationID: "a:rita-1"}
	resp, err := cl.Message(context.Background(), user, "help")
	if err != nil || resp.Status != http.StatusOK {
		t.Fatalf("message: %+v, %v", resp, err)
	}
	conn.WaitFor(t, 0, 10*time.Second, "the help card", func(a teamsfake.Activity) bool { return a.Card() != nil })

	var request, activity sdktrace.ReadOnlySpan
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) && (request == nil || activity == nil) {
		for _, s := range exp.GetSpans().Snapshots() {
			switch {
			case s.Name() == "POST /api/messages":
				request = s
			case s.Name() == "activity message":
				activity = s
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	if request == nil || activity == nil {
		t.Fatalf("no request or activity span among %d spans", len(exp.GetSpans()))
	}
	if activity.Parent().SpanID() != request.SpanContext().SpanID() {
		t.Error("the activity span is not a child of the request span")
	}
	children := map[string]bool{}
	for _, s := range exp.GetSpans().Snapshots() {
		if s.Parent().SpanID() == activity.SpanContext().SpanID() {
			children[strings.SplitN(s.Name(), " ", 2)[0]] = true
		}
	}
	for _, want := range []string{"store", "connector"} {
		if !children[want] {
			t.Errorf("no %s span under the activity (children: %v)", want, children)
		}
	}
	if tid := activity.SpanContext().TraceID().String(); !strings.Contains(logs.String(), `"trace_id":"`+tid+`"`) {
		t.Errorf("no log line carries the activity's trace id %s", tid)
	}
}
