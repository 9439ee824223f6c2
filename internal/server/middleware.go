package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"runtime/debug"
	"time"

	"github.com/accessbot/accessbot/internal/telemetry"
	"github.com/labstack/echo/v4"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// HeaderRequestID carries the request id in both directions.
const HeaderRequestID = "X-Request-Id"

type ctxKey int

const (
	requestIDKey ctxKey = iota
	loggerKey
)

// RequestID returns the request id stored in ctx by the server's middleware, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// Logger returns the request-scoped logger (with request_id) stored in ctx by the server's middleware, or
// slog.Default() outside a request.
func Logger(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(loggerKey).(*slog.Logger); ok {
		return l
	}
	return slog.Default()
}

// validRequestID accepts ids a proxy or caller may send; anything else is replaced so it cannot forge log lines.
var validRequestID = regexp.MustCompile(`^[A-Za-z0-9._:\-]{1,128}$`)

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b[:])
}

// requestID takes X-Request-Id from the request (or generates one), echoes it in the response and puts it
// and a logger carrying it into the request context.
func (s *Server) requestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		id := r.Header.Get(HeaderRequestID)
		if !validRequestID.MatchString(id) {
			id = newRequestID()
		}
		c.Response().Header().Set(HeaderRequestID, id)
		ctx := context.WithValue(r.Context(), requestIDKey, id)
		ctx = context.WithValue(ctx, loggerKey, s.log.With("request_id", id))
		c.SetRequest(r.WithContext(ctx))
		return next(c)
	}
}

// quietRoutes are probes logged at debug level so they do not drown the access log.
var quietRoutes = map[string]bool{"/healthz": true, "/readyz": true, "/metrics": true}

// observe starts the request's server span (continuing a W3C traceparent sent by the caller), writes the
// access log line and records metrics. It logs method, path (without query), route, status, duration,
// bytes and request id — never headers (Authorization) or bodies; with tracing on, the line carries the
// trace id.
func (s *Server) observe(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		s.inFlight.Add(1)
		s.metrics.AddInFlight(1)
		defer func() {
			s.inFlight.Add(-1)
			s.metrics.AddInFlight(-1)
		}()
		ctx := otel.GetTextMapPropagator().Extract(c.Request().Context(), propagation.HeaderCarrier(c.Request().Header))
		ctx, span := telemetry.Tracer().Start(ctx, "HTTP "+c.Request().Method, trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(attribute.String("http.request.method", c.Request().Method), attribute.String("url.path", c.Request().URL.Path)))
		defer span.End()
		c.SetRequest(c.Request().WithContext(ctx))
		if err := next(c); err != nil {
			c.Error(err) // writes the error response now, so the status below is the one sent
		}
		d := time.Since(start)
		res := c.Response()
		status := res.Status
		if !res.Committed && status == 0 {
			status = http.StatusOK
		}
		route := c.Path()
		if route == "" {
			route = "unmatched"
		}
		r := c.Request()
		s.metrics.ObserveHTTP(r.Method, route, status, d)
		span.SetName(r.Method + " " + route)
		span.SetAttributes(attribute.String("http.route", route), attribute.Int("http.response.status_code", status))
		if status >= 500 {
			span.SetStatus(codes.Error, http.StatusText(status))
		}

		level := slog.LevelInfo
		switch {
		case status >= 500:
			level = slog.LevelError
		case status == http.StatusNotFound || status == http.StatusMethodNotAllowed:
			// Probes and scanners (the Agents Playground sends HEAD /api/messages at start): routine, not a warning.
		case status >= 400:
			level = slog.LevelWarn
		case quietRoutes[route]:
			level = slog.LevelDebug
		}
		Logger(r.Context()).LogAttrs(r.Context(), level, "http request",
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.String("route", route),
			slog.Int("status", status),
			slog.Duration("duration", d),
			slog.Int64("bytes", res.Size),
			slog.String("remote", r.RemoteAddr),
		)
		return nil
	}
}

// recover turns a panic into a 500 JSON answer and logs the panic with its stack.
func (s *Server) recover(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			p := recover()
			if p == nil {
				return
			}
			if p == http.ErrAbortHandler {
				panic(p) // net/http's deliberate abort
			}
			ctx := c.Request().Context()
			Logger(ctx).Error("panic in handler", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			if c.Response().Committed {
				err = nil // headers already sent; nothing more can be said to the client
				return
			}
			err = c.JSON(http.StatusInternalServerError, map[string]string{
				"message":   http.StatusText(http.StatusInternalServerError),
				"requestId": RequestID(ctx),
			})
		}()
		return next(c)
	}
}

// bodyLimit answers 413 for a body larger than the limit, whether announced by Content-Length or streamed.
func (s *Server) bodyLimit(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if r.Body == nil || r.Body == http.NoBody {
			return next(c)
		}
		if r.ContentLength > s.limit {
			return s.tooLarge()
		}
		if r.ContentLength < 0 {
			// Unknown length (chunked): read at most limit+1 bytes now, so an oversized body is refused
			// before the handler runs.
			data, err := io.ReadAll(io.LimitReader(r.Body, s.limit+1))
			if err != nil {
				var mbe *http.MaxBytesError
				if errors.As(err, &mbe) {
					return s.tooLarge()
				}
				return echo.NewHTTPError(http.StatusBadRequest, "could not read request body").SetInternal(err)
			}
			if int64(len(data)) > s.limit {
				return s.tooLarge()
			}
			r.Body = io.NopCloser(bytes.NewReader(data))
			r.ContentLength = int64(len(data))
			return next(c)
		}
		r.Body = http.MaxBytesReader(c.Response(), r.Body, s.limit)
		return next(c)
	}
}

func (s *Server) tooLarge() error {
	return echo.NewHTTPError(http.StatusRequestEntityTooLarge,
		fmt.Sprintf("request body exceeds the limit of %s", s.cfg.BodyLimit))
}
