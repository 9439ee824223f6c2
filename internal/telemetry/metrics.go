package telemetry

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// DurationBuckets are the upper bounds, in seconds, of the latency histograms (HTTP served, outbound calls,
// store operations).
var DurationBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// approvalBuckets span one minute to two weeks: people, not machines, decide approvals.
var approvalBuckets = []float64{60, 300, 900, 3600, 4 * 3600, 8 * 3600, 24 * 3600, 3 * 24 * 3600, 7 * 24 * 3600, 14 * 24 * 3600}

// Metrics is one process's Prometheus registry with AccessBot's collectors. All methods are safe for
// concurrent use; a nil *Metrics records nothing.
type Metrics struct {
	reg *prometheus.Registry

	httpRequests *prometheus.CounterVec
	httpInFlight prometheus.Gauge
	httpDuration *prometheus.HistogramVec

	activities *prometheus.CounterVec

	outCalls     *prometheus.CounterVec
	outDuration  *prometheus.HistogramVec
	throttled    *prometheus.CounterVec
	throttleWait *prometheus.CounterVec

	storeDuration *prometheus.HistogramVec
	storeErrors   *prometheus.CounterVec

	filed           *prometheus.CounterVec
	decided         *prometheus.CounterVec
	approvalLatency *prometheus.HistogramVec
}

// NewMetrics builds a registry with the Go runtime and process collectors and AccessBot's metrics.
func NewMetrics() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	f := func(c prometheus.Collector) { m.reg.MustRegister(c) }

	m.httpRequests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "accessbot_http_requests_total",
		Help: "HTTP requests served, by method, route and status."}, []string{"method", "route", "status"})
	m.httpInFlight = prometheus.NewGauge(prometheus.GaugeOpts{Name: "accessbot_http_requests_in_flight",
		Help: "HTTP requests being served now."})
	m.httpDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "accessbot_http_request_duration_seconds",
		Help: "Time to serve an HTTP request.", Buckets: DurationBuckets}, []string{"method", "route"})
	m.activities = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "accessbot_activities_total",
		Help: "Bot Framework activities received, by type and outcome (ok, unauthorized, bad_request, error)."},
		[]string{"type", "outcome"})
	m.outCalls = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "accessbot_outbound_requests_total",
		Help: "Outbound HTTP requests (each attempt), by system (graph, connector), operation and status (\"error\" for a transport failure)."},
		[]string{"system", "operation", "status"})
	m.outDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "accessbot_outbound_request_duration_seconds",
		Help: "Time of one outbound HTTP request attempt, by system and operation.", Buckets: DurationBuckets},
		[]string{"system", "operation"})
	m.throttled = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "accessbot_throttled_total",
		Help: "Outbound requests answered 429 (or 503 with Retry-After), by system."}, []string{"system", "status"})
	m.throttleWait = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "accessbot_throttle_wait_seconds_total",
		Help: "Waits announced by Retry-After on throttled outbound requests, by system."}, []string{"system"})
	m.storeDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "accessbot_store_operation_duration_seconds",
		Help: "Time of one state store transaction, by operation and kind (read, write).", Buckets: DurationBuckets},
		[]string{"op", "kind"})
	m.storeErrors = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "accessbot_store_errors_total",
		Help: "State store transactions that failed, by operation and kind."}, []string{"op", "kind"})
	m.filed = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "accessbot_requests_filed_total",
		Help: "Access package requests filed, by mode (delegated, brokered, admin)."}, []string{"mode"})
	m.decided = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "accessbot_requests_decided_total",
		Help: "Approval decisions recorded through the bot, by mode and outcome (approved, denied, …)."}, []string{"mode", "outcome"})
	m.approvalLatency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "accessbot_approval_latency_seconds",
		Help: "Time from filing a request to an approver's decision, by mode.", Buckets: approvalBuckets}, []string{"mode"})
	for _, c := range []prometheus.Collector{m.httpRequests, m.httpInFlight, m.httpDuration, m.activities, m.outCalls,
		m.outDuration, m.throttled, m.throttleWait, m.storeDuration, m.storeErrors, m.filed, m.decided, m.approvalLatency} {
		f(c)
	}
	return m
}

// Registry returns the underlying registry, for registering more collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus exposition formats (text by default).
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// knownMethods are the method label values; any other (client-chosen) method is counted as "OTHER" so
// clients cannot create time series at will.
var knownMethods = map[string]bool{
	http.MethodGet: true, http.MethodHead: true, http.MethodPost: true, http.MethodPut: true, http.MethodPatch: true,
	http.MethodDelete: true, http.MethodOptions: true, http.MethodConnect: true, http.MethodTrace: true,
}

// ObserveHTTP records one served HTTP request. route is the matched route pattern (never the raw path).
func (m *Metrics) ObserveHTTP(method, route string, status int, d time.Duration) {
	if m == nil {
		return
	}
	if !knownMethods[method] {
		method = "OTHER"
	}
	m.httpRequests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	m.httpDuration.WithLabelValues(method, route).Observe(d.Seconds())
}

// AddInFlight moves the in-flight HTTP request gauge by delta.
func (m *Metrics) AddInFlight(delta int) {
	if m != nil {
		m.httpInFlight.Add(float64(delta))
	}
}

// ObserveActivity counts one received Bot Framework activity by type and outcome.
func (m *Metrics) ObserveActivity(activityType, outcome string) {
	if m == nil {
		return
	}
	if activityType == "" {
		activityType = "unknown"
	}
	m.activities.WithLabelValues(activityType, outcome).Inc()
}

// RequestFiled counts a filed access package request.
func (m *Metrics) RequestFiled(mode string) {
	if m != nil {
		m.filed.WithLabelValues(mode).Inc()
	}
}

// RequestDecided counts an approver's decision; latency (time since the request was filed) is observed
// when positive.
func (m *Metrics) RequestDecided(mode, outcome string, latency time.Duration) {
	if m == nil {
		return
	}
	m.decided.WithLabelValues(mode, outcome).Inc()
	if latency > 0 {
		m.approvalLatency.WithLabelValues(mode).Observe(latency.Seconds())
	}
}

// StoreOp starts timing one store transaction (and a span, see Tracer); the returned func ends both.
// write tells a read-write transaction from a read-only one.
func (m *Metrics) StoreOp(ctx context.Context, op string, write bool) func(error) {
	kind := "read"
	if write {
		kind = "write"
	}
	_, span := Tracer().Start(ctx, "store "+op, spanKindInternal, storeAttrs(kind))
	start := time.Now()
	return func(err error) {
		if m != nil {
			m.storeDuration.WithLabelValues(op, kind).Observe(time.Since(start).Seconds())
			if err != nil {
				m.storeErrors.WithLabelValues(op, kind).Inc()
			}
		}
		endSpan(span, err)
	}
}

// OutboxStats is what an outbox reports for the depth and age gauges.
type OutboxStats struct {
	Pending     int           // items waiting (due or not) to be delivered
	DeadLetters int           // items that exhausted their attempts
	OldestAge   time.Duration // age of the oldest pending item; 0 when none
}

// RegisterOutbox adds gauges read at scrape time from stats (which gets a context bounded to 5 s):
// accessbot_outbox_pending, accessbot_outbox_dead_letters and accessbot_outbox_oldest_age_seconds.
func (m *Metrics) RegisterOutbox(stats func(ctx context.Context) (OutboxStats, error)) {
	m.reg.MustRegister(&outboxCollector{stats: stats})
}

var (
	outboxPendingDesc = prometheus.NewDesc("accessbot_outbox_pending", "Outbox items waiting to be delivered.", nil, nil)
	outboxDeadDesc    = prometheus.NewDesc("accessbot_outbox_dead_letters", "Outbox items that exhausted their delivery attempts.", nil, nil)
	outboxAgeDesc     = prometheus.NewDesc("accessbot_outbox_oldest_age_seconds", "Age of the oldest pending outbox item (0 when empty).", nil, nil)
)

type outboxCollector struct {
	stats func(ctx context.Context) (OutboxStats, error)
}

func (c *outboxCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- outboxPendingDesc
	ch <- outboxDeadDesc
	ch <- outboxAgeDesc
}

func (c *outboxCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := c.stats(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(outboxPendingDesc, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(outboxPendingDesc, prometheus.GaugeValue, float64(s.Pending))
	ch <- prometheus.MustNewConstMetric(outboxDeadDesc, prometheus.GaugeValue, float64(s.DeadLetters))
	ch <- prometheus.MustNewConstMetric(outboxAgeDesc, prometheus.GaugeValue, s.OldestAge.Seconds())
}
