package telemetry

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/accessbot/accessbot/internal/memo"
	"github.com/accessbot/accessbot/internal/netx"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Transport wraps base (nil: a new netx.Transport, which keeps concurrent connections alive) so that every
// outbound request attempt to system ("graph", "connector") gets a client span (a child of the caller's span),
// is counted and timed by operation and status, and throttling answers (429, or 503 with Retry-After) are
// counted with their announced wait. The operation is the method and the URL path with ids replaced by {id},
// so the label set stays small and carries no user data.
func (m *Metrics) Transport(system string, base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = netx.Transport()
	}
	return &transport{m: m, system: system, base: base, ops: memo.New[opKey, *opMetrics](maxOps)}
}

type transport struct {
	m      *Metrics
	system string
	base   http.RoundTripper

	// ops remembers, per method and path, the operation and its metric children (opOf), so a request to a
	// path seen before costs one map lookup instead of Operation's regular expressions and the metric
	// vectors' label hashing; bounded by maxOps (paths with ids make one entry each). byOp holds one
	// opMetrics per operation (few: the label set is small by design), shared by paths; mu guards it.
	ops  *memo.Map[opKey, *opMetrics]
	mu   sync.Mutex
	byOp map[string]*opMetrics
}

// maxOps bounds transport.ops.
const maxOps = 2048

type opKey struct{ method, path string }

// opMetrics is one operation of a transport and its metric children (nil without metrics); calls holds the
// request counter per status.
type opMetrics struct {
	op       string
	duration prometheus.Observer
	mu       sync.Mutex
	calls    map[string]prometheus.Counter
}

// opOf returns the operation of a request with method and path, looked up once per method and path.
func (t *transport) opOf(method, path string) *opMetrics {
	k := opKey{method, path}
	if o, ok := t.ops.Get(k); ok {
		return o
	}
	op := Operation(method, path)
	t.mu.Lock()
	o, ok := t.byOp[op]
	if !ok {
		o = &opMetrics{op: op}
		if t.m != nil {
			o.duration = t.m.outDuration.WithLabelValues(t.system, op)
			o.calls = map[string]prometheus.Counter{}
		}
		if t.byOp == nil {
			t.byOp = map[string]*opMetrics{}
		}
		t.byOp[op] = o
	}
	t.mu.Unlock()
	t.ops.Put(k, o)
	return o
}

// count counts one request of the operation that ended with status.
func (o *opMetrics) count(m *Metrics, system, status string) {
	o.mu.Lock()
	c, ok := o.calls[status]
	if !ok {
		c = m.outCalls.WithLabelValues(system, o.op, status)
		o.calls[status] = c
	}
	o.mu.Unlock()
	c.Inc()
}

// RoundTrip implements http.RoundTripper.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	om := t.opOf(req.Method, req.URL.Path)
	op := om.op
	ctx, span := Tracer().Start(req.Context(), t.system+" "+op, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(
			attribute.String("http.request.method", req.Method),
			attribute.String("server.address", req.URL.Hostname()),
			attribute.String("accessbot.system", t.system),
			attribute.String("accessbot.operation", op),
		))
	defer span.End()
	if span.SpanContext().IsValid() {
		req = req.Clone(ctx)
		otel.GetTextMapPropagator().Inject(ctx, propagation.HeaderCarrier(req.Header))
	}
	start := time.Now()
	resp, err := t.base.RoundTrip(req)
	d := time.Since(start)
	status := "error"
	if err == nil {
		status = strconv.Itoa(resp.StatusCode)
		span.SetAttributes(attribute.Int("http.response.status_code", resp.StatusCode))
		if resp.StatusCode >= 500 {
			span.SetStatus(codes.Error, status)
		}
	} else {
		span.RecordError(err)
		span.SetStatus(codes.Error, "transport failure")
	}
	if t.m == nil {
		return resp, err
	}
	om.count(t.m, t.system, status)
	om.duration.Observe(d.Seconds())
	if err == nil && isThrottle(resp) {
		t.m.throttled.WithLabelValues(t.system, status).Inc()
		if wait, ok := retryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
			t.m.throttleWait.WithLabelValues(t.system).Add(wait.Seconds())
			span.SetAttributes(attribute.Float64("accessbot.retry_after_seconds", wait.Seconds()))
		}
	}
	return resp, err
}

// CloseIdleConnections closes the wrapped transport's idle connections (http.Client.CloseIdleConnections
// reaches them through this), so a stopping process leaves no pooled connection open to its peers.
func (t *transport) CloseIdleConnections() {
	if c, ok := t.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

func isThrottle(resp *http.Response) bool {
	return resp.StatusCode == http.StatusTooManyRequests ||
		(resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") != "")
}

// retryAfter reads Retry-After as seconds or an HTTP date.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// idAfter are collection segments whose next segment is always an id (Bot Connector conversation,
// activity and member ids need not contain a digit).
var idAfter = map[string]bool{"conversations": true, "activities": true, "members": true}

var (
	guidSeg   = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	versionSg = regexp.MustCompile(`^v\d+(\.\d+)?$`)
	quotedArg = regexp.MustCompile(`'[^']*'`)
)

// Operation names an outbound request for metrics and spans: the method and the path, with every segment
// that is an id (a GUID, a Teams or conversation id, anything with a digit other than a version such as
// v1.0) replaced by {id} and quoted function arguments by '…'. For example
// "GET /v1.0/users/{id}/manager" or "POST /v3/conversations/{id}/activities".
func Operation(method, path string) string {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	for i, s := range segs {
		switch {
		case s == "":
		case i > 0 && idAfter[segs[i-1]]:
			segs[i] = "{id}"
		case strings.ContainsRune(s, '('):
			segs[i] = quotedArg.ReplaceAllString(s, "'…'")
		case versionSg.MatchString(s):
		case guidSeg.MatchString(s), len(s) > 40, strings.ContainsAny(s, ":@%=+ ") || strings.ContainsAny(s, "0123456789"):
			segs[i] = "{id}"
		}
	}
	return method + " /" + strings.Join(segs, "/")
}
