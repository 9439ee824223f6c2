package server

import (
	"net/http"
	"time"

	"github.com/accessbot/accessbot/internal/telemetry"
	"github.com/labstack/echo/v4"
)

// Metrics records the served HTTP requests and serves GET /metrics; *telemetry.Metrics implements it
// (Prometheus, with the Go runtime and process collectors and the bot's domain metrics on the same page).
type Metrics interface {
	// ObserveHTTP records one served request by method, matched route (never the raw path) and status.
	ObserveHTTP(method, route string, status int, d time.Duration)
	// AddInFlight moves the in-flight request gauge.
	AddInFlight(delta int)
	// Handler serves the exposition.
	Handler() http.Handler
}

// compile-time check that the process-wide implementation fits.
var _ Metrics = (*telemetry.Metrics)(nil)

func (s *Server) metricsHandler(c echo.Context) error {
	s.metrics.Handler().ServeHTTP(c.Response(), c.Request())
	return nil
}
