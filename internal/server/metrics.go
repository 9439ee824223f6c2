package server

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
)

// durationBuckets are the histogram upper bounds in seconds.
var durationBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

type countKey struct {
	method, route string
	status        int
}

type routeKey struct{ method, route string }

type histogram struct {
	counts []uint64 // per bucket, not cumulative; last is +Inf
	sum    float64
	count  uint64
}

// metrics holds the request counters, the in-flight gauge and the duration histograms.
type metrics struct {
	inFlight atomic.Int64

	mu        sync.Mutex
	requests  map[countKey]uint64
	durations map[routeKey]*histogram
}

func newMetrics() *metrics {
	return &metrics{requests: map[countKey]uint64{}, durations: map[routeKey]*histogram{}}
}

// knownMethods are the method label values; any other (client-chosen) method is counted as "OTHER" so
// clients cannot create time series at will.
var knownMethods = map[string]bool{
	http.MethodGet: true, http.MethodHead: true, http.MethodPost: true, http.MethodPut: true, http.MethodPatch: true,
	http.MethodDelete: true, http.MethodOptions: true, http.MethodConnect: true, http.MethodTrace: true,
}

func (m *metrics) observe(method, route string, status int, d time.Duration) {
	if !knownMethods[method] {
		method = "OTHER"
	}
	sec := d.Seconds()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests[countKey{method, route, status}]++
	h := m.durations[routeKey{method, route}]
	if h == nil {
		h = &histogram{counts: make([]uint64, len(durationBuckets)+1)}
		m.durations[routeKey{method, route}] = h
	}
	i, _ := slices.BinarySearch(durationBuckets, sec) // first bucket with bound >= sec
	h.counts[i]++
	h.sum += sec
	h.count++
}

// write renders the Prometheus text exposition format (version 0.0.4), sorted for stable output.
func (m *metrics) write(w io.Writer) error {
	var b strings.Builder
	m.mu.Lock()
	counts := make([]countKey, 0, len(m.requests))
	for k := range m.requests {
		counts = append(counts, k)
	}
	slices.SortFunc(counts, func(a, b countKey) int {
		if c := strings.Compare(a.route, b.route); c != 0 {
			return c
		}
		if c := strings.Compare(a.method, b.method); c != 0 {
			return c
		}
		return a.status - b.status
	})
	b.WriteString("# HELP accessbot_http_requests_total HTTP requests served, by method, route and status.\n")
	b.WriteString("# TYPE accessbot_http_requests_total counter\n")
	for _, k := range counts {
		fmt.Fprintf(&b, "accessbot_http_requests_total{method=%s,route=%s,status=\"%d\"} %d\n",
			quote(k.method), quote(k.route), k.status, m.requests[k])
	}

	b.WriteString("# HELP accessbot_http_requests_in_flight HTTP requests being served now.\n")
	b.WriteString("# TYPE accessbot_http_requests_in_flight gauge\n")
	fmt.Fprintf(&b, "accessbot_http_requests_in_flight %d\n", m.inFlight.Load())

	routes := make([]routeKey, 0, len(m.durations))
	for k := range m.durations {
		routes = append(routes, k)
	}
	slices.SortFunc(routes, func(a, b routeKey) int {
		if c := strings.Compare(a.route, b.route); c != 0 {
			return c
		}
		return strings.Compare(a.method, b.method)
	})
	b.WriteString("# HELP accessbot_http_request_duration_seconds Time to serve an HTTP request.\n")
	b.WriteString("# TYPE accessbot_http_request_duration_seconds histogram\n")
	for _, k := range routes {
		h := m.durations[k]
		labels := fmt.Sprintf("method=%s,route=%s", quote(k.method), quote(k.route))
		var cum uint64
		for i, le := range durationBuckets {
			cum += h.counts[i]
			fmt.Fprintf(&b, "accessbot_http_request_duration_seconds_bucket{%s,le=\"%s\"} %d\n", labels, formatFloat(le), cum)
		}
		cum += h.counts[len(durationBuckets)]
		fmt.Fprintf(&b, "accessbot_http_request_duration_seconds_bucket{%s,le=\"+Inf\"} %d\n", labels, cum)
		fmt.Fprintf(&b, "accessbot_http_request_duration_seconds_sum{%s} %s\n", labels, formatFloat(h.sum))
		fmt.Fprintf(&b, "accessbot_http_request_duration_seconds_count{%s} %d\n", labels, h.count)
	}
	m.mu.Unlock()
	_, err := io.WriteString(w, b.String())
	return err
}

// labelEscaper applies the escapes the text format requires in a label value (\\, \", \n).
var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

// quote renders a label value quoted and escaped.
func quote(v string) string { return `"` + labelEscaper.Replace(v) + `"` }

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

func (s *Server) metricsHandler(c echo.Context) error {
	c.Response().Header().Set(echo.HeaderContentType, "text/plain; version=0.0.4; charset=utf-8")
	c.Response().WriteHeader(http.StatusOK)
	if err := s.metrics.write(c.Response()); err != nil {
		return fmt.Errorf("write metrics: %w", err)
	}
	return nil
}
