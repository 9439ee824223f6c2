// Package server runs AccessBot's HTTP front: Echo with recover, body limit, request id, a structured access
// log, health and readiness probes, Prometheus metrics and graceful shutdown.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/accessbot/accessbot/internal/telemetry"
	"github.com/labstack/echo/v4"
)

// Defaults applied by New.
const (
	DefaultAddr              = ":3978"
	DefaultBodyLimit         = "512K"
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultShutdownTimeout   = 20 * time.Second
	// readyTimeout bounds one Ready probe.
	readyTimeout = 5 * time.Second
	// readTimeout bounds reading a whole request; bodies are small (BodyLimit).
	readTimeout = 30 * time.Second
	idleTimeout = 2 * time.Minute
)

// Config configures a Server. The zero value is usable.
type Config struct {
	// Addr is the listen address; default ":3978". Use "127.0.0.1:0" in tests and read Addr().
	Addr string
	// Logger receives the access log and server events; nil uses slog.Default().
	Logger *slog.Logger
	// BodyLimit is the largest accepted request body, e.g. "512K", "1M", "2048"; default "512K".
	BodyLimit string
	// ReadHeaderTimeout bounds reading request headers; default 10s.
	ReadHeaderTimeout time.Duration
	// ShutdownTimeout bounds the wait for in-flight requests at shutdown, and separately the OnShutdown
	// hooks; default 20s.
	ShutdownTimeout time.Duration
	// Ready reports whether the service can take traffic (GET /readyz); nil means always ready. Its error
	// text is shown to the caller, so it must not contain secrets.
	Ready func(ctx context.Context) error
	// Metrics records the HTTP metrics and serves /metrics; nil uses a registry of its own
	// (telemetry.NewMetrics). Pass the process's *telemetry.Metrics to expose the domain metrics too.
	Metrics Metrics
}

// Server is an Echo instance with AccessBot's middleware and probes, plus a managed lifecycle.
type Server struct {
	cfg     Config
	e       *echo.Echo
	log     *slog.Logger
	limit   int64
	cfgErr  error
	metrics Metrics

	draining atomic.Bool
	inFlight atomic.Int64

	mu      sync.Mutex
	ln      net.Listener
	hooks   []func(context.Context) error
	running bool
}

// New builds a Server with the middleware chain (request id → trace span, access log and metrics → recover
// → body limit) and the routes GET /healthz, /readyz and /metrics. An invalid Config is reported by Listen and Run.
func New(cfg Config) *Server {
	if cfg.Addr == "" {
		cfg.Addr = DefaultAddr
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.BodyLimit == "" {
		cfg.BodyLimit = DefaultBodyLimit
	}
	if cfg.ReadHeaderTimeout <= 0 {
		cfg.ReadHeaderTimeout = DefaultReadHeaderTimeout
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = DefaultShutdownTimeout
	}
	if cfg.Metrics == nil {
		cfg.Metrics = telemetry.NewMetrics()
	}
	s := &Server{cfg: cfg, log: cfg.Logger.With("component", "http"), metrics: cfg.Metrics}
	limit, err := parseSize(cfg.BodyLimit)
	if err != nil {
		s.cfgErr = fmt.Errorf("server config: BodyLimit: %w", err)
		limit, _ = parseSize(DefaultBodyLimit)
	}
	s.limit = limit

	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = s.handleError
	e.Use(s.requestID, s.observe, s.recover, s.bodyLimit)
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", s.metricsHandler)
	s.e = e
	return s
}

// Echo returns the Echo instance, for registering routes.
func (s *Server) Echo() *echo.Echo { return s.e }

// Handle registers a plain http.Handler (e.g. the Bot Framework endpoint) for method and path. The request
// the handler sees carries the request id and the request-scoped logger (see RequestID and Logger).
func (s *Server) Handle(method, path string, h http.Handler) {
	s.e.Add(method, path, echo.WrapHandler(h))
}

// OnShutdown registers a hook run after the HTTP server has stopped (in-flight requests done), in
// registration order, e.g. closing the store. Every hook runs even if an earlier one fails.
func (s *Server) OnShutdown(fn func(context.Context) error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hooks = append(s.hooks, fn)
}

// Listen binds the configured address if it is not bound yet. Run calls it; tests call it first to learn
// the port of ":0" through Addr.
func (s *Server) Listen() error {
	if s.cfgErr != nil {
		return s.cfgErr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln != nil {
		return nil
	}
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.cfg.Addr, err)
	}
	s.ln = ln
	return nil
}

// Addr returns the bound address (host:port), or "" before Listen.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// Run listens (if needed) and serves until ctx is cancelled; then it stops accepting connections, marks
// /readyz not ready, waits up to ShutdownTimeout for in-flight requests, and runs the OnShutdown hooks in
// order. It returns nil after a clean shutdown, or the serve, shutdown and hook errors joined.
func (s *Server) Run(ctx context.Context) error {
	if err := s.Listen(); err != nil {
		return err
	}
	s.mu.Lock()
	if s.running {
		s.mu.Unlock()
		return errors.New("server: Run called twice")
	}
	s.running = true
	ln := s.ln
	s.mu.Unlock()

	srv := &http.Server{
		Handler:           s.e,
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		ReadTimeout:       readTimeout,
		IdleTimeout:       idleTimeout,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	s.log.Info("listening", "addr", ln.Addr().String())

	var errs []error
	select {
	case err := <-serveErr:
		// The listener failed on its own; still run the hooks so state is closed cleanly.
		s.draining.Store(true)
		errs = append(errs, fmt.Errorf("serve: %w", err))
	case <-ctx.Done():
		s.draining.Store(true)
		s.log.Info("shutting down: draining in-flight requests", "timeout", s.cfg.ShutdownTimeout, "in_flight", s.inFlight.Load())
		sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
		err := srv.Shutdown(sctx)
		cancel()
		if err != nil {
			_ = srv.Close()
			errs = append(errs, fmt.Errorf("graceful shutdown (connections force-closed): %w", err))
		}
		if err := <-serveErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, fmt.Errorf("serve: %w", err))
		}
	}
	errs = append(errs, s.runHooks()...)
	if err := errors.Join(errs...); err != nil {
		s.log.Error("server stopped with errors", "err", err)
		return err
	}
	s.log.Info("server stopped")
	return nil
}

func (s *Server) runHooks() []error {
	s.mu.Lock()
	hooks := append([]func(context.Context) error(nil), s.hooks...)
	s.mu.Unlock()
	hctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	var errs []error
	for i, h := range hooks {
		if err := h(hctx); err != nil {
			s.log.Error("shutdown hook failed", "hook", i, "err", err)
			errs = append(errs, fmt.Errorf("shutdown hook %d: %w", i, err))
		}
	}
	return errs
}

func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(c echo.Context) error {
	if s.draining.Load() {
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "not ready", "reason": "shutting down"})
	}
	if s.cfg.Ready != nil {
		ctx, cancel := context.WithTimeout(c.Request().Context(), readyTimeout)
		defer cancel()
		if err := s.cfg.Ready(ctx); err != nil {
			Logger(c.Request().Context()).Warn("not ready", "reason", err.Error())
			return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "not ready", "reason": err.Error()})
		}
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
}

// handleError logs errors that are not HTTP errors (a handler's own failure) before Echo answers 500.
func (s *Server) handleError(err error, c echo.Context) {
	var he *echo.HTTPError
	if !errors.As(err, &he) {
		Logger(c.Request().Context()).Error("handler failed", "err", err)
	}
	s.e.DefaultHTTPErrorHandler(err, c)
}

// parseSize reads "512K", "1M", "1MB", "2G", "4096" (binary units, case-insensitive).
func parseSize(v string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(v))
	t = strings.TrimSuffix(t, "B")
	mult := int64(1)
	if n := len(t); n > 0 {
		switch t[n-1] {
		case 'K':
			mult, t = 1<<10, t[:n-1]
		case 'M':
			mult, t = 1<<20, t[:n-1]
		case 'G':
			mult, t = 1<<30, t[:n-1]
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n <= 0 || n > (1<<40)/mult {
		return 0, fmt.Errorf("%q is not a positive size like 512K, 1M or 4096", v)
	}
	return n * mult, nil
}
