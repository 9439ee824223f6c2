package telemetry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	sdkresource "go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

// ScopeName is the instrumentation scope of AccessBot's own spans.
const ScopeName = "github.com/accessbot/accessbot"

// Tracer returns AccessBot's tracer from the global provider: a no-op until SetupTracing (or a test)
// installs an SDK provider, so spans cost next to nothing when tracing is off.
func Tracer() trace.Tracer { return otel.GetTracerProvider().Tracer(ScopeName) }

var spanKindInternal = trace.WithSpanKind(trace.SpanKindInternal)

func storeAttrs(kind string) trace.SpanStartOption {
	return trace.WithAttributes(attribute.String("db.system.name", "accessbot.store"), attribute.String("accessbot.store.kind", kind))
}

// endSpan records err (if any) on span and ends it.
func endSpan(span trace.Span, err error) {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

// EndSpan records err (if any) on span and ends it; for packages that start their own spans with Tracer.
func EndSpan(span trace.Span, err error) { endSpan(span, err) }

// TracingConfig configures SetupTracing.
type TracingConfig struct {
	// ServiceName and ServiceVersion describe the process (OTEL_SERVICE_NAME overrides the name).
	ServiceName    string
	ServiceVersion string
	// Getenv reads the environment; default os.Getenv.
	Getenv func(string) string
	// Exporter overrides the OTLP exporter (tests pass an in-memory one); it also turns tracing on.
	Exporter sdktrace.SpanExporter
	// Logger receives one line saying whether tracing is on.
	Logger *slog.Logger
}

// SetupTracing installs a global OpenTelemetry tracer provider exporting over OTLP/HTTP when the standard
// OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set, and the W3C trace-context
// propagator. Without an endpoint tracing stays off: it installs the no-op provider, unless the process
// installed a provider of its own before (see offProvider). The returned shutdown flushes pending spans; it is
// never nil.
func SetupTracing(ctx context.Context, cfg TracingConfig) (shutdown func(context.Context) error, err error) {
	getenv := cfg.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	noop := func(context.Context) error { return nil }
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	exp := cfg.Exporter
	if exp == nil {
		endpoint := firstEnv(getenv, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
		if endpoint == "" || strings.EqualFold(getenv("OTEL_TRACES_EXPORTER"), "none") {
			log.Debug("tracing off: OTEL_EXPORTER_OTLP_ENDPOINT is not set")
			if tp := offProvider(otel.GetTracerProvider(), defaultProvider); tp != nil {
				otel.SetTracerProvider(tp)
			}
			return noop, nil
		}
		// The exporter reads the standard OTEL_EXPORTER_OTLP_* variables itself (endpoint, headers, TLS).
		exp, err = otlptracehttp.New(ctx)
		if err != nil {
			return noop, fmt.Errorf("tracing: OTLP exporter for %s: %w", endpoint, err)
		}
		log.Info("tracing on: OTLP/HTTP exporter", "endpoint", endpoint)
	}
	name := firstEnv(getenv, "OTEL_SERVICE_NAME")
	if name == "" {
		name = cfg.ServiceName
	}
	res := sdkresource.NewSchemaless(attribute.String("service.name", name), attribute.String("service.version", cfg.ServiceVersion))
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	otel.SetTracerProvider(tp)
	return func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if err := tp.Shutdown(ctx); err != nil && !errors.Is(err, context.Canceled) {
			return fmt.Errorf("tracing: flush spans: %w", err)
		}
		return nil
	}, nil
}

// defaultProvider is OpenTelemetry's global tracer provider before anyone installed one.
var defaultProvider = otel.GetTracerProvider()

// offProvider is the tracer provider to install when tracing is off, or nil to leave current alone. The
// global default allocates a non-recording span per Start (on every activity, Graph call and store
// operation); the no-op provider's span is one shared value. A provider the process installed itself (a test,
// a program embedding the bot) stays.
func offProvider(current, initial trace.TracerProvider) trace.TracerProvider {
	if current != initial {
		return nil
	}
	return tracenoop.NewTracerProvider()
}

func firstEnv(getenv func(string) string, keys ...string) string {
	for _, k := range keys {
		if v := strings.TrimSpace(getenv(k)); v != "" {
			return v
		}
	}
	return ""
}

// LogHandler wraps h so that every record logged with a context carrying a recording span gets trace_id and
// span_id attributes (use the *Context logging methods or LogAttrs with the request's context).
func LogHandler(h slog.Handler) slog.Handler { return traceHandler{h} }

type traceHandler struct{ slog.Handler }

func (t traceHandler) Handle(ctx context.Context, r slog.Record) error {
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		r = r.Clone()
		r.AddAttrs(slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
	}
	return t.Handler.Handle(ctx, r)
}

func (t traceHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return traceHandler{deferred(t.Handler).WithAttrs(as)}
}

func (t traceHandler) WithGroup(name string) slog.Handler {
	return traceHandler{deferred(t.Handler).WithGroup(name)}
}

// deferredHandler gives its base handler the attributes and groups of Logger.With and WithGroup only when a
// record reaches Handle. slog's text and JSON handlers format the attributes in WithAttrs, which every request
// and turn logger would pay for (about 1 % of the bot's CPU at 8 clients) although most of them never log a
// line at the configured level. The output is the same: the base gets the same calls in the same order, once.
// (Enabled asks the base: the standard handlers decide by level alone.)
type deferredHandler struct {
	base  slog.Handler
	steps []deferredStep // in the order they were given
	once  sync.Once
	built slog.Handler
}

// deferredStep is one WithAttrs (attrs) or WithGroup (group) call.
type deferredStep struct {
	attrs []slog.Attr
	group string
}

// deferred returns h as a deferredHandler (h itself when it is one).
func deferred(h slog.Handler) *deferredHandler {
	if d, ok := h.(*deferredHandler); ok {
		return d
	}
	return &deferredHandler{base: h}
}

func (d *deferredHandler) with(step deferredStep) *deferredHandler {
	return &deferredHandler{base: d.base, steps: append(d.steps[:len(d.steps):len(d.steps)], step)}
}

// handler is the base with every step applied, built on first use.
func (d *deferredHandler) handler() slog.Handler {
	d.once.Do(func() {
		h := d.base
		for _, s := range d.steps {
			if s.attrs != nil {
				h = h.WithAttrs(s.attrs)
			} else {
				h = h.WithGroup(s.group)
			}
		}
		d.built = h
	})
	return d.built
}

// Enabled implements slog.Handler.
func (d *deferredHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return d.base.Enabled(ctx, level)
}

// Handle implements slog.Handler.
func (d *deferredHandler) Handle(ctx context.Context, r slog.Record) error {
	return d.handler().Handle(ctx, r)
}

// WithAttrs implements slog.Handler. Attributes whose value may read differently later (a LogValuer, which
// the base resolves in WithAttrs, or any other value, such as a pointer, a map or an error, which it formats
// there) are given to the base now, with the steps before them, so that the output is what it would have
// been; only fixed values (fixedAttrs) are deferred.
func (d *deferredHandler) WithAttrs(as []slog.Attr) slog.Handler {
	if len(as) == 0 {
		return d
	}
	if !fixedAttrs(as) {
		return &deferredHandler{base: d.handler().WithAttrs(as)}
	}
	return d.with(deferredStep{attrs: as})
}

// fixedAttrs reports whether every value in as (and in its groups) formats the same whenever it is formatted:
// strings, numbers, booleans, durations and times.
func fixedAttrs(as []slog.Attr) bool {
	for _, a := range as {
		switch a.Value.Kind() {
		case slog.KindAny, slog.KindLogValuer:
			return false
		case slog.KindGroup:
			if !fixedAttrs(a.Value.Group()) {
				return false
			}
		}
	}
	return true
}

// WithGroup implements slog.Handler.
func (d *deferredHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return d
	}
	return d.with(deferredStep{group: name})
}
