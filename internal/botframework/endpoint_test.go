package botframework

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/accessbot/accessbot/internal/telemetry"
	"github.com/infracloudio/msbotbuilder-go/schema"
	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace/noop"
)

func TestEndpointBehaviour(t *testing.T) {
	personal := loadFixture(t, "message_personal.json")
	invoke := loadFixture(t, "invoke_adaptiveCard_action.json")
	card := map[string]any{"type": "AdaptiveCard", "version": "1.5", "body": []any{map[string]any{"type": "TextBlock", "text": "Approved"}}}
	cases := []struct {
		name        string
		method      string
		body        []byte
		resp        *InvokeResponse
		handlerErr  error
		maxBody     int64
		wantStatus  int
		wantBody    string // exact JSON (compared after compaction); "-" = empty body
		wantContain string
		wantCalls   int
		wantCount   string // "type/outcome" counted by the ActivityRecorder; "" = nothing counted
	}{
		{name: "GET is refused", method: http.MethodGet, wantStatus: 405, wantContain: "method_not_allowed"},
		{name: "body too large", method: http.MethodPost, body: personal, maxBody: 100, wantStatus: 413, wantContain: "too_large", wantCount: "/too_large"},
		{name: "not JSON", method: http.MethodPost, body: []byte("hello"), wantStatus: 400, wantContain: "not a JSON object", wantCount: "/bad_request"},
		{name: "missing serviceUrl", method: http.MethodPost, body: []byte(`{"type":"message","conversation":{"id":"c"}}`), wantStatus: 400, wantContain: `serviceUrl`},
		{name: "non-loopback serviceUrl rejected by dev verifier", method: http.MethodPost,
			body: bytes.Replace(personal, []byte("http://localhost:56171/_connector"), []byte("https://smba.trafficmanager.net/amer/"), 1), wantStatus: 401, wantBody: `{"error":"unauthorized"}`, wantCount: "message/unauthorized"},
		{name: "message → 200 {}", method: http.MethodPost, body: personal, wantStatus: 200, wantBody: `{}`, wantCalls: 1, wantCount: "message/ok"},
		{name: "message ignores a returned invoke response", method: http.MethodPost, body: personal, resp: MessageResponse("x"), wantStatus: 200, wantBody: `{}`, wantCalls: 1},
		{name: "handler error → 500 without details", method: http.MethodPost, body: personal, handlerErr: errors.New("store: secret detail"), wantStatus: 500, wantContain: "internal_error", wantCalls: 1, wantCount: "message/error"},
		{name: "invoke with card response", method: http.MethodPost, body: invoke, resp: CardResponse(card), wantStatus: 200,
			wantBody: `{"statusCode":200,"type":"application/vnd.microsoft.card.adaptive","value":{"body":[{"text":"Approved","type":"TextBlock"}],"type":"AdaptiveCard","version":"1.5"}}`, wantCalls: 1},
		{name: "invoke with message response", method: http.MethodPost, body: invoke, resp: MessageResponse("Done"), wantStatus: 200,
			wantBody: `{"statusCode":200,"type":"application/vnd.microsoft.activity.message","value":"Done"}`, wantCalls: 1},
		{name: "invoke with error response", method: http.MethodPost, body: invoke, resp: ErrorResponse(409, "AlreadyDecided", "Someone else decided"), wantStatus: 200,
			wantBody: `{"statusCode":409,"type":"application/vnd.microsoft.error","value":{"code":"AlreadyDecided","message":"Someone else decided"}}`, wantCalls: 1},
		{name: "invoke with login request", method: http.MethodPost, body: invoke,
			resp:       LoginRequestResponse("sso", "https://login.example/start", &TokenExchangeResource{ID: "req-1", URI: "api://botid-b0770000-0000-4000-8000-000000000001"}),
			wantStatus: 200,
			wantBody:   `{"statusCode":401,"type":"application/vnd.microsoft.activity.loginRequest","value":{"text":"Please sign in","connectionName":"sso","tokenExchangeResource":{"id":"req-1","uri":"api://botid-b0770000-0000-4000-8000-000000000001"},"buttons":[{"type":"signin","title":"Sign in","text":"Sign in","value":"https://login.example/start"}]}}`,
			wantCalls:  1},
		{name: "invoke with nil response → 200 empty", method: http.MethodPost, body: invoke, wantStatus: 200, wantBody: "-", wantCalls: 1},
		{name: "invoke with explicit status and raw body", method: http.MethodPost, body: invoke, resp: &InvokeResponse{Status: 202, Body: map[string]int{"n": 1}}, wantStatus: 202, wantBody: `{"n":1}`, wantCalls: 1},
		{name: "invoke with an encoded body → written as it is", method: http.MethodPost, body: invoke, resp: &InvokeResponse{Body: json.RawMessage(`{"n": 1}`)}, wantStatus: 200, wantContain: `{"n": 1}`, wantCalls: 1},
		{name: "invoke with status only", method: http.MethodPost, body: invoke, resp: &InvokeResponse{Status: 204}, wantStatus: 204, wantBody: "-", wantCalls: 1},
		{name: "invoke with unencodable body → 500", method: http.MethodPost, body: invoke, resp: &InvokeResponse{Body: func() {}}, wantStatus: 500, wantContain: "internal_error", wantCalls: 1, wantCount: "invoke/error"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			logger, logs := newTestLogger()
			h := &recordingHandler{resp: tc.resp, err: tc.handlerErr}
			counted := &countingRecorder{}
			ep := NewEndpoint(NewDevVerifier(logger), h, EndpointOptions{Logger: logger, MaxBody: tc.maxBody, Metrics: counted})
			req := httptest.NewRequest(tc.method, "/api/messages", bytes.NewReader(tc.body))
			req.Header.Set("X-Request-Id", "req-42")
			rec := httptest.NewRecorder()
			ep.ServeHTTP(rec, req)
			if rec.Code != tc.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", rec.Code, tc.wantStatus, rec.Body.String())
			}
			if h.count() != tc.wantCalls {
				t.Fatalf("handler calls = %d, want %d", h.count(), tc.wantCalls)
			}
			got := rec.Body.String()
			switch {
			case tc.wantBody == "-":
				if got != "" {
					t.Errorf("body = %q, want empty", got)
				}
			case tc.wantBody != "":
				var buf bytes.Buffer
				if err := json.Compact(&buf, []byte(got)); err != nil {
					t.Fatalf("body is not JSON: %q", got)
				}
				if buf.String() != tc.wantBody {
					t.Errorf("body = %s\nwant   %s", buf.String(), tc.wantBody)
				}
			}
			if tc.wantContain != "" && !strings.Contains(got, tc.wantContain) {
				t.Errorf("body %q does not contain %q", got, tc.wantContain)
			}
			if tc.handlerErr != nil {
				if strings.Contains(got, "secret detail") {
					t.Errorf("500 body leaks the handler error: %s", got)
				}
				if !strings.Contains(got, "req-42") {
					t.Errorf("500 body lacks the request id: %s", got)
				}
				if !strings.Contains(logs.String(), `"err":"store: secret detail"`) || !strings.Contains(logs.String(), `"request_id":"req-42"`) {
					t.Errorf("handler error not logged under err with the request id: %s", logs.String())
				}
			}
			if tc.wantCount != "" && (len(counted.got) != 1 || counted.got[0] != tc.wantCount) {
				t.Errorf("counted %q, want [%s]", counted.got, tc.wantCount)
			}
			if tc.wantStatus == 405 && rec.Header().Get("Allow") != http.MethodPost {
				t.Errorf("Allow = %q", rec.Header().Get("Allow"))
			}
		})
	}
}

// countingRecorder is an ActivityRecorder that keeps "type/outcome" of every count.
type countingRecorder struct{ got []string }

func (c *countingRecorder) ObserveActivity(typ, outcome string) {
	c.got = append(c.got, typ+"/"+outcome)
}

// TestEndpointActivitySpan: the activity gets its own span, a child of the caller's (the HTTP request's),
// and what the handler does under the context it receives is a child of the activity span.
func TestEndpointActivitySpan(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	otel.SetTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp)))
	t.Cleanup(func() { otel.SetTracerProvider(noop.NewTracerProvider()) })
	logger, _ := newTestLogger()
	h := ActivityHandlerFunc(func(ctx context.Context, act *schema.Activity) (*InvokeResponse, error) {
		_, child := telemetry.Tracer().Start(ctx, "graph GET /v1.0/me")
		child.End()
		return nil, nil
	})
	ep := NewEndpoint(NewDevVerifier(logger), h, EndpointOptions{Logger: logger})
	ctx, parent := telemetry.Tracer().Start(context.Background(), "POST /api/messages")
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/api/messages", bytes.NewReader(loadFixture(t, "invoke_adaptiveCard_action.json")))
	ep.ServeHTTP(httptest.NewRecorder(), req)
	parent.End()
	spans := exp.GetSpans()
	if len(spans) != 3 {
		t.Fatalf("got %d spans, want handler child, activity, request", len(spans))
	}
	child, act := spans[0], spans[1]
	if act.Name != "activity invoke adaptiveCard/action" || act.Parent.SpanID() != parent.SpanContext().SpanID() {
		t.Errorf("activity span %q parent %s, want a child of the request span", act.Name, act.Parent.SpanID())
	}
	if child.Parent.SpanID() != act.SpanContext.SpanID() {
		t.Error("the handler's span is not a child of the activity span")
	}
}

// ActivityHandlerFunc adapts a function to ActivityHandler (tests only).
type ActivityHandlerFunc func(ctx context.Context, act *schema.Activity) (*InvokeResponse, error)

func (f ActivityHandlerFunc) OnActivity(ctx context.Context, act *schema.Activity) (*InvokeResponse, error) {
	return f(ctx, act)
}

func TestErrorResponseClampsStatus(t *testing.T) {
	for _, st := range []int{0, 200, 399, 600} {
		body := ErrorResponse(st, "c", "m").Body.(AdaptiveCardInvokeResponse)
		if body.StatusCode != 500 {
			t.Errorf("ErrorResponse(%d).statusCode = %d, want 500", st, body.StatusCode)
		}
	}
	if got := ErrorResponse(400, "c", "m").Body.(AdaptiveCardInvokeResponse).StatusCode; got != 400 {
		t.Errorf("ErrorResponse(400).statusCode = %d", got)
	}
}
