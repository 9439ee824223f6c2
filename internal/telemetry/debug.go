package telemetry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"runtime"
	"sync"
	"time"

	"github.com/accessbot/accessbot/internal/netx"
)

// CheckDebugAddr accepts only a loopback host:port: the profiler exposes memory contents and must never be
// reachable from the network (reach it through a port-forward or kubectl port-forward instead).
func CheckDebugAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("debug address %q: want host:port such as 127.0.0.1:6060: %w", addr, err)
	}
	if host == "" || !netx.IsLoopbackHost(host) {
		return fmt.Errorf("debug address %q: the host must be loopback (127.0.0.1, ::1 or localhost), got %q", addr, host)
	}
	if port == "" {
		return fmt.Errorf("debug address %q: the port is missing", addr)
	}
	return nil
}

// heapSampling makes SampleHeap's choice once per process.
var heapSampling sync.Once

// SampleHeap chooses, once per process (later calls change nothing), whether the runtime samples allocations
// for the heap profile: only when the profiler listens (profiler: --debug-addr is set). Nobody can read the
// profile otherwise, and its table of sampled call stacks costs up to 1.8 MB of memory. Call it before the
// process allocates much: a heap profile shows only what was allocated while sampling was on.
func SampleHeap(profiler bool) {
	heapSampling.Do(func() {
		if !profiler {
			runtime.MemProfileRate = 0
		}
	})
}

// DebugHandler serves net/http/pprof under /debug/pprof/.
func DebugHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// DebugServer is the profiler's own listener, separate from the bot's port.
type DebugServer struct {
	ln  net.Listener
	log *slog.Logger
}

// ListenDebug binds addr (loopback only, see CheckDebugAddr) for the profiler.
func ListenDebug(addr string, log *slog.Logger) (*DebugServer, error) {
	if err := CheckDebugAddr(addr); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("debug listener on %s: %w", addr, err)
	}
	if log == nil {
		log = slog.Default()
	}
	return &DebugServer{ln: ln, log: log}, nil
}

// Addr is the bound address.
func (d *DebugServer) Addr() string { return d.ln.Addr().String() }

// Run serves pprof until ctx is cancelled.
func (d *DebugServer) Run(ctx context.Context) error {
	srv := &http.Server{Handler: DebugHandler(), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(d.ln) }()
	d.log.Warn("profiler listening (net/http/pprof): keep it on loopback", "addr", d.Addr())
	select {
	case err := <-errc:
		return fmt.Errorf("debug listener: %w", err)
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("debug listener: %w", err)
		}
		return nil
	}
}
