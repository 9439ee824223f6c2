package botframework

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"regexp"

	"github.com/accessbot/accessbot/internal/telemetry"
	"github.com/infracloudio/msbotbuilder-go/schema"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// DefaultMaxBody is the default limit on an inbound activity body.
const DefaultMaxBody int64 = 256 << 10

// ActivityHandler handles one authenticated activity. For an invoke activity the returned
// InvokeResponse is written as the HTTP response; for other activities it is ignored.
type ActivityHandler interface {
	OnActivity(ctx context.Context, act *schema.Activity) (*InvokeResponse, error)
}

// InvokeResponse is the synchronous answer to an invoke activity: Status becomes the HTTP status
// (0 means 200) and Body, when non-nil, the JSON body.
type InvokeResponse struct {
	// Status is the HTTP status code; 0 means 200.
	Status int
	// Body is encoded as the JSON response body (a json.RawMessage is written as it is); nil writes no body.
	Body any
}

// EndpointOptions configures an Endpoint.
type EndpointOptions struct {
	// Logger receives request outcomes; default slog.Default().
	Logger *slog.Logger
	// MaxBody limits the request body in bytes; default DefaultMaxBody.
	MaxBody int64
	// Metrics counts activities by type and outcome; nil records nothing.
	Metrics ActivityRecorder
}

// ActivityRecorder counts received activities; *telemetry.Metrics implements it.
type ActivityRecorder interface {
	// ObserveActivity counts one activity by type ("" when it did not decode) and outcome: ok,
	// unauthorized, bad_request, too_large or error.
	ObserveActivity(activityType, outcome string)
}

// Activity outcomes, as counted by ActivityRecorder.
const (
	OutcomeOK           = "ok"
	OutcomeUnauthorized = "unauthorized"
	OutcomeBadRequest   = "bad_request"
	OutcomeTooLarge     = "too_large"
	OutcomeError        = "error"
)

type noRecorder struct{}

func (noRecorder) ObserveActivity(string, string) {}

// Endpoint is the http.Handler for POST /api/messages: it decodes the activity, authenticates it
// before anything else sees it, and calls the handler only for authenticated activities.
type Endpoint struct {
	verifier Verifier
	handler  ActivityHandler
	logger   *slog.Logger
	maxBody  int64
	metrics  ActivityRecorder
}

// NewEndpoint returns the messaging endpoint. v and h must not be nil.
func NewEndpoint(v Verifier, h ActivityHandler, opts EndpointOptions) *Endpoint {
	if v == nil || h == nil {
		panic("botframework.NewEndpoint: verifier and handler are required")
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	maxBody := opts.MaxBody
	if maxBody <= 0 {
		maxBody = DefaultMaxBody
	}
	var rec ActivityRecorder = noRecorder{}
	if opts.Metrics != nil {
		rec = opts.Metrics
	}
	return &Endpoint{
		verifier: v,
		handler:  h,
		logger:   logger.With(slog.String("component", "botframework.endpoint")),
		maxBody:  maxBody,
		metrics:  rec,
	}
}

// plainRequestID is a request id that is safe to reflect in answers and logs.
var plainRequestID = regexp.MustCompile(`^[A-Za-z0-9._:\-]{1,128}$`)

type errorBody struct {
	Error     string `json:"error"`
	Message   string `json:"message,omitempty"`
	RequestID string `json:"requestId,omitempty"`
}

// ServeHTTP implements http.Handler.
func (e *Endpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	// The HTTP server's middleware validates the client's X-Request-Id (or makes one) and echoes it in the
	// response header: use that. Standalone, reflect the client's id only when it is a plain token.
	reqID := w.Header().Get("X-Request-Id")
	if reqID == "" {
		if id := r.Header.Get("X-Request-Id"); plainRequestID.MatchString(id) {
			reqID = id
		}
	}
	log := e.logger.With(slog.String("request_id", reqID))

	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeJSON(w, http.StatusMethodNotAllowed, errorBody{Error: "method_not_allowed", Message: "use POST"})
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, e.maxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			e.metrics.ObserveActivity("", OutcomeTooLarge)
			log.WarnContext(ctx, "activity rejected: body too large", slog.Int64("limit", e.maxBody))
			writeJSON(w, http.StatusRequestEntityTooLarge, errorBody{Error: "too_large", Message: "activity body exceeds the size limit"})
			return
		}
		e.metrics.ObserveActivity("", OutcomeBadRequest)
		log.WarnContext(ctx, "activity rejected: read body", slog.String("err", err.Error()))
		writeJSON(w, http.StatusBadRequest, errorBody{Error: "bad_request", Message: "could not read request body"})
		return
	}
	act, err := DecodeActivity(body)
	if err != nil {
		e.metrics.ObserveActivity("", OutcomeBadRequest)
		log.WarnContext(ctx, "activity rejected: decode", slog.String("err", err.Error()))
		writeJSON(w, http.StatusBadRequest, errorBody{Error: "bad_request", Message: err.Error()})
		return
	}
	log = log.With(
		slog.String("activity_id", act.ID),
		slog.String("activity_type", string(act.Type)),
		slog.String("channel_id", act.ChannelID),
	)
	ctx, span := startActivitySpan(WithInteractive(ctx), act)
	outcome := OutcomeOK
	defer func() {
		e.metrics.ObserveActivity(string(act.Type), outcome)
		span.SetAttributes(attribute.String("accessbot.activity.outcome", outcome))
		if outcome != OutcomeOK {
			span.SetStatus(codes.Error, outcome)
		}
		span.End()
	}()
	if err := e.verifier.Verify(ctx, r.Header.Get("Authorization"), act); err != nil {
		outcome = OutcomeUnauthorized
		log.WarnContext(ctx, "activity rejected: unauthorized", slog.String("err", err.Error()))
		w.Header().Set("WWW-Authenticate", "Bearer")
		writeJSON(w, http.StatusUnauthorized, errorBody{Error: "unauthorized"})
		return
	}
	resp, err := e.handler.OnActivity(ctx, act)
	if err != nil {
		outcome = OutcomeError
		span.RecordError(err)
		log.ErrorContext(ctx, "activity handler failed", slog.String("err", err.Error()))
		writeJSON(w, http.StatusInternalServerError, errorBody{Error: "internal_error", RequestID: reqID})
		return
	}
	if act.Type != TypeInvoke {
		writeJSON(w, http.StatusOK, struct{}{})
		return
	}
	if resp == nil {
		w.WriteHeader(http.StatusOK)
		return
	}
	status := resp.Status
	if status == 0 {
		status = http.StatusOK
	}
	if resp.Body == nil {
		w.WriteHeader(status)
		return
	}
	payload, err := EncodeBody(resp.Body)
	if err != nil {
		outcome = OutcomeError
		log.ErrorContext(ctx, "invoke response does not encode", slog.String("err", err.Error()))
		writeJSON(w, http.StatusInternalServerError, errorBody{Error: "internal_error", RequestID: reqID})
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	if _, err := w.Write(payload); err != nil {
		log.WarnContext(ctx, "write invoke response", slog.String("err", err.Error()))
	}
}

// startActivitySpan starts the activity's span (a child of the HTTP request's): every Graph, Connector and
// store call made while handling it becomes its child. It names no user: ids of the conversation and the
// activity only.
func startActivitySpan(ctx context.Context, act *schema.Activity) (context.Context, trace.Span) {
	name := "activity " + string(act.Type)
	if act.Type == TypeInvoke && act.Name != "" {
		name += " " + act.Name
	}
	attrs := []attribute.KeyValue{
		attribute.String("accessbot.activity.type", string(act.Type)),
		attribute.String("accessbot.activity.id", act.ID),
		attribute.String("accessbot.channel.id", act.ChannelID),
		attribute.String("accessbot.conversation.type", act.Conversation.ConversationType),
	}
	return telemetry.Tracer().Start(ctx, name, trace.WithAttributes(attrs...))
}

// EncodeBody returns an invoke response body's JSON; a body already encoded (json.RawMessage) is used as it is,
// and a card in an AdaptiveCardInvokeResponse is spliced in (wireJSONAppender).
func EncodeBody(body any) ([]byte, error) {
	switch b := body.(type) {
	case json.RawMessage:
		return b, nil
	case AdaptiveCardInvokeResponse:
		return appendWithLast(nil, b, "value", b.Value, func(r *AdaptiveCardInvokeResponse) { r.Value = nil })
	}
	return json.Marshal(body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	payload, err := json.Marshal(v)
	if err != nil {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(payload)
}

// Content types of Adaptive Card Universal Action (adaptiveCard/action) invoke responses.
const (
	ContentTypeAdaptiveCard = "application/vnd.microsoft.card.adaptive"
	ContentTypeMessage      = "application/vnd.microsoft.activity.message"
	ContentTypeError        = "application/vnd.microsoft.error"
	ContentTypeLoginRequest = "application/vnd.microsoft.activity.loginRequest"
)

// AdaptiveCardInvokeResponse is the body of an adaptiveCard/action invoke response.
type AdaptiveCardInvokeResponse struct {
	// StatusCode is the protocol status (200, 400–599, 401 for a login request).
	StatusCode int `json:"statusCode"`
	// Type is one of the ContentType* constants.
	Type string `json:"type"`
	// Value is the card, message text, error or login request.
	Value any `json:"value,omitempty"`
}

// CardResponse answers an Action.Execute with a card that replaces the one the user acted on.
func CardResponse(card any) *InvokeResponse {
	return &InvokeResponse{Status: http.StatusOK, Body: AdaptiveCardInvokeResponse{
		StatusCode: http.StatusOK, Type: ContentTypeAdaptiveCard, Value: card,
	}}
}

// MessageResponse answers an Action.Execute with a short message the client displays.
func MessageResponse(text string) *InvokeResponse {
	return &InvokeResponse{Status: http.StatusOK, Body: AdaptiveCardInvokeResponse{
		StatusCode: http.StatusOK, Type: ContentTypeMessage, Value: text,
	}}
}

// InvokeError is the value of an application/vnd.microsoft.error invoke response.
type InvokeError struct {
	// Code is a short machine-readable code.
	Code string `json:"code"`
	// Message is shown to the user.
	Message string `json:"message"`
}

// ErrorResponse answers an Action.Execute with an error (status 400–599 in the body's statusCode; the
// HTTP status stays 200 as the Universal Actions protocol expects).
func ErrorResponse(status int, code, msg string) *InvokeResponse {
	if status < 400 || status > 599 {
		status = http.StatusInternalServerError
	}
	return &InvokeResponse{Status: http.StatusOK, Body: AdaptiveCardInvokeResponse{
		StatusCode: status, Type: ContentTypeError, Value: InvokeError{Code: code, Message: msg},
	}}
}
