package server

import (
	"fmt"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/accessbot/accessbot/internal/telemetry"
	"github.com/labstack/echo/v4"
)

// parseMetrics maps "name{labels}" to its value.
func parseMetrics(t *testing.T, text string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if i < 0 || err != nil {
			t.Fatalf("bad metrics line %q", line)
		}
		out[line[:i]] = v
	}
	return out
}

func TestMetrics(t *testing.T) {
	s, _ := newTestServer(t, Config{})
	e := s.Echo()
	e.GET("/users/:id", func(c echo.Context) error { return c.String(200, c.Param("id")) })
	e.GET("/boom", func(c echo.Context) error { panic("x") })
	for _, p := range []string{"/users/1", "/users/2", "/nope", "/boom", "/healthz"} {
		e.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", p, nil))
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Fatalf("metrics status %d content type %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	m := parseMetrics(t, rec.Body.String())
	want := map[string]float64{
		`accessbot_http_requests_total{method="GET",route="/users/:id",status="200"}`:               2,
		`accessbot_http_requests_total{method="GET",route="unmatched",status="404"}`:                1,
		`accessbot_http_requests_total{method="GET",route="/boom",status="500"}`:                    1,
		`accessbot_http_requests_total{method="GET",route="/healthz",status="200"}`:                 1,
		`accessbot_http_requests_in_flight`:                                                         1, // the /metrics request itself
		`accessbot_http_request_duration_seconds_count{method="GET",route="/users/:id"}`:            2,
		`accessbot_http_request_duration_seconds_bucket{method="GET",route="/users/:id",le="+Inf"}`: 2,
	}
	for k, v := range want {
		if got, ok := m[k]; !ok || got != v {
			t.Errorf("%s = %v (present %v), want %v", k, got, ok, v)
		}
	}
	// Buckets are cumulative: never decreasing, ending at the count.
	prev := -1.0
	for _, le := range telemetry.DurationBuckets {
		k := fmt.Sprintf(`accessbot_http_request_duration_seconds_bucket{method="GET",route="/users/:id",le="%s"}`, strconv.FormatFloat(le, 'g', -1, 64))
		v, ok := m[k]
		if !ok || v < prev {
			t.Fatalf("bucket %s = %v (present %v), previous %v", k, v, ok, prev)
		}
		prev = v
	}
	if prev > 2 {
		t.Errorf("last finite bucket %v exceeds count 2", prev)
	}
	for _, c := range []string{"# TYPE accessbot_http_requests_total counter", "# TYPE accessbot_http_requests_in_flight gauge",
		"# TYPE accessbot_http_request_duration_seconds histogram"} {
		if !strings.Contains(rec.Body.String(), c) {
			t.Errorf("metrics lack %q", c)
		}
	}
}

func TestMetricsLabelEscaping(t *testing.T) {
	s, _ := newTestServer(t, Config{})
	s.metrics.ObserveHTTP("GET", "/a\"b\\c\nd", 200, 3*time.Millisecond)
	rec := httptest.NewRecorder()
	s.Echo().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if !strings.Contains(rec.Body.String(), `route="/a\"b\\c\nd"`) {
		t.Errorf("label not escaped:\n%s", rec.Body.String())
	}
	if !strings.Contains(rec.Body.String(), `route="/a\"b\\c\nd",le="0.005"} 1`) {
		t.Errorf("3ms observation not in the 5ms bucket:\n%s", rec.Body.String())
	}
}

// TestMetricsMethodLabelIsBounded: the method label comes from the client; arbitrary method tokens must not
// create one time series each (unbounded memory and a /metrics page that grows without limit).
func TestMetricsMethodLabelIsBounded(t *testing.T) {
	s, _ := newTestServer(t, Config{})
	e := s.Echo()
	for i := range 50 {
		e.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(fmt.Sprintf("X-CUSTOM-%d", i), "/nope", nil))
	}
	e.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/nope", nil))
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	m := parseMetrics(t, rec.Body.String())
	want := map[string]float64{
		`accessbot_http_requests_total{method="OTHER",route="unmatched",status="404"}`: 50,
		`accessbot_http_requests_total{method="GET",route="unmatched",status="404"}`:   1,
	}
	for k, v := range want {
		if got, ok := m[k]; !ok || got != v {
			t.Errorf("%s = %v (present %v), want %v", k, got, ok, v)
		}
	}
	if strings.Contains(rec.Body.String(), "X-CUSTOM") {
		t.Errorf("a client-chosen method became a label value:\n%s", rec.Body.String())
	}
}
