package server

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/accessbot/accessbot/internal/testkit"
)

// logBuffer is a goroutine-safe sink for a JSON slog handler, with its records decoded on demand.
type logBuffer struct{ testkit.LogBuffer }

// records returns the decoded log records whose msg is msg.
func (l *logBuffer) records(t *testing.T, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(l.String()))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", sc.Text())
		}
		if m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

func newTestServer(t *testing.T, cfg Config) (*Server, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	cfg.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	return New(cfg), logs
}

// chunked hides the length of r so the request is sent without Content-Length.
type chunked struct{ r io.Reader }

func (c chunked) Read(p []byte) (int, error) { return c.r.Read(p) }

func TestMiddleware(t *testing.T) {
	s, logs := newTestServer(t, Config{BodyLimit: "1K"})
	var reached atomic.Int32
	e := s.Echo()
	e.GET("/ok", func(c echo.Context) error { return c.String(http.StatusOK, "ok") })
	e.GET("/panic", func(c echo.Context) error { panic("nil map write") })
	e.GET("/fail", func(c echo.Context) error { return errors.New("bolt: database not open") })
	e.GET("/teapot", func(c echo.Context) error { return echo.NewHTTPError(http.StatusTeapot, "short and stout") })
	s.Handle(http.MethodPost, "/api/messages", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		fmt.Fprintf(w, "%d %s", len(body), RequestID(r.Context()))
	}))

	tests := []struct {
		name       string
		method     string
		path       string
		body       io.Reader
		reqID      string
		wantStatus int
		wantBody   string // substring
		wantReach  bool
	}{
		{name: "healthz", method: "GET", path: "/healthz", wantStatus: 200, wantBody: `"status":"ok"`},
		{name: "readyz without check", method: "GET", path: "/readyz", wantStatus: 200, wantBody: `"status":"ready"`},
		{name: "route", method: "GET", path: "/ok", wantStatus: 200, wantBody: "ok"},
		{name: "unknown route", method: "GET", path: "/nope", wantStatus: 404},
		{name: "panic", method: "GET", path: "/panic", wantStatus: 500, wantBody: `"requestId":"rid-panic"`, reqID: "rid-panic"},
		{name: "handler error", method: "GET", path: "/fail", wantStatus: 500, wantBody: "Internal Server Error"},
		{name: "http error", method: "GET", path: "/teapot", wantStatus: 418, wantBody: "short and stout"},
		{name: "body at limit", method: "POST", path: "/api/messages", body: strings.NewReader(strings.Repeat("a", 1024)),
			wantStatus: 200, wantBody: "1024 rid-1", reqID: "rid-1", wantReach: true},
		{name: "body over limit", method: "POST", path: "/api/messages", body: strings.NewReader(strings.Repeat("a", 1025)),
			wantStatus: 413, wantBody: "exceeds the limit of 1K"},
		{name: "chunked body at limit", method: "POST", path: "/api/messages", body: chunked{strings.NewReader(strings.Repeat("a", 1024))},
			wantStatus: 200, wantBody: "1024 ", wantReach: true},
		{name: "chunked body over limit", method: "POST", path: "/api/messages", body: chunked{strings.NewReader(strings.Repeat("a", 5000))},
			wantStatus: 413},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := reached.Load()
			req := httptest.NewRequest(tc.method, tc.path, tc.body)
			if _, ok := tc.body.(chunked); ok {
				req.ContentLength = -1
			}
			if tc.reqID != "" {
				req.Header.Set(HeaderRequestID, tc.reqID)
			}
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			if rec.Code != tc.wantStatus {
				t.Fatalf("status = %d, want %d (body %q)", rec.Code, tc.wantStatus, rec.Body)
			}
			if !strings.Contains(rec.Body.String(), tc.wantBody) {
				t.Errorf("body = %q, want it to contain %q", rec.Body, tc.wantBody)
			}
			if got := reached.Load() > before; got != tc.wantReach {
				t.Errorf("handler reached = %v, want %v", got, tc.wantReach)
			}
			if rec.Header().Get(HeaderRequestID) == "" {
				t.Error("response has no X-Request-Id")
			}
		})
	}

	panics := logs.records(t, "panic in handler")
	if len(panics) != 1 || panics[0]["panic"] != "nil map write" || panics[0]["request_id"] != "rid-panic" ||
		!strings.Contains(fmt.Sprint(panics[0]["stack"]), "server_test.go") {
		t.Errorf("panic log = %v, want one record with panic value, request id and stack", panics)
	}
	failed := logs.records(t, "handler failed")
	if len(failed) != 1 || failed[0]["err"] != "bolt: database not open" {
		t.Errorf("handler error log = %v", failed)
	}
}

func TestReadyz(t *testing.T) {
	tests := []struct {
		name       string
		ready      func(context.Context) error
		draining   bool
		wantStatus int
		wantReason string
	}{
		{"ready", func(context.Context) error { return nil }, false, 200, ""},
		{"dependency down", func(context.Context) error { return errors.New("store not open") }, false, 503, "store not open"},
		{"probe is bounded", func(ctx context.Context) error {
			if _, ok := ctx.Deadline(); !ok {
				return errors.New("no deadline on probe context")
			}
			return nil
		}, false, 200, ""},
		{"draining", nil, true, 503, "shutting down"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := newTestServer(t, Config{Ready: tc.ready})
			s.draining.Store(tc.draining)
			rec := httptest.NewRecorder()
			s.Echo().ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
			if rec.Code != tc.wantStatus {
				t.Fatalf("status = %d, want %d (%s)", rec.Code, tc.wantStatus, rec.Body)
			}
			var body map[string]string
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatal(err)
			}
			if body["reason"] != tc.wantReason {
				t.Errorf("reason = %q, want %q", body["reason"], tc.wantReason)
			}
		})
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr bool
	}{
		{"512K", 512 << 10, false},
		{"512k", 512 << 10, false},
		{"1M", 1 << 20, false},
		{"1MB", 1 << 20, false},
		{"2G", 2 << 30, false},
		{"4096", 4096, false},
		{"", 0, true},
		{"K", 0, true},
		{"-1K", 0, true},
		{"0", 0, true},
		{"lots", 0, true},
		{"99999999999T", 0, true},
	}
	for _, tc := range tests {
		got, err := parseSize(tc.in)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d, err %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
	s := New(Config{BodyLimit: "lots", Addr: "127.0.0.1:0", Logger: slog.New(slog.DiscardHandler)})
	if err := s.Listen(); err == nil || !strings.Contains(err.Error(), "BodyLimit") {
		t.Errorf("Listen with bad BodyLimit = %v, want a BodyLimit error", err)
	}
	if err := s.Run(context.Background()); err == nil {
		t.Error("Run with bad BodyLimit succeeded")
	}
}

func TestRunGracefulShutdown(t *testing.T) {
	s, _ := newTestServer(t, Config{ShutdownTimeout: 10 * time.Second})
	var mu sync.Mutex
	var events []string
	event := func(e string) {
		mu.Lock()
		defer mu.Unlock()
		events = append(events, e)
	}
	entered, release := make(chan struct{}), make(chan struct{})
	s.Handle(http.MethodPost, "/api/messages", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		event("request done")
		fmt.Fprint(w, "finished")
	}))
	s.OnShutdown(func(context.Context) error { event("hook 1 (store close)"); return nil })
	s.OnShutdown(func(context.Context) error { event("hook 2"); return nil })

	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	addr := s.Addr()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	runErr := make(chan error, 1)
	go func() { runErr <- s.Run(ctx) }()

	type result struct {
		status int
		body   string
		err    error
	}
	res := make(chan result, 1)
	go func() {
		resp, err := http.Post("http://"+addr+"/api/messages", "application/json", strings.NewReader("{}"))
		if err != nil {
			res <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		res <- result{resp.StatusCode, string(b), err}
	}()
	select {
	case <-entered:
	case <-time.After(10 * time.Second):
		t.Fatal("request never reached the handler")
	}

	cancel() // SIGTERM
	testkit.Eventually(t, "listener to stop accepting", func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err != nil
	})
	select {
	case err := <-runErr:
		t.Fatalf("Run returned (%v) while a request was still in flight", err)
	default:
	}

	close(release)
	r := <-res
	if r.err != nil || r.status != 200 || r.body != "finished" {
		t.Fatalf("in-flight request = %d %q %v, want 200 finished", r.status, r.body, r.err)
	}
	select {
	case err := <-runErr:
		if err != nil {
			t.Fatalf("Run = %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after the in-flight request finished")
	}
	mu.Lock()
	defer mu.Unlock()
	if got := strings.Join(events, ", "); got != "request done, hook 1 (store close), hook 2" {
		t.Errorf("events = %s", got)
	}
}

func TestRunHookErrors(t *testing.T) {
	s, _ := newTestServer(t, Config{})
	var ran []int
	s.OnShutdown(func(context.Context) error { ran = append(ran, 0); return errors.New("flush outbox: disk full") })
	s.OnShutdown(func(ctx context.Context) error {
		if _, ok := ctx.Deadline(); !ok {
			t.Error("hook context has no deadline")
		}
		ran = append(ran, 1)
		return nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := s.Run(ctx)
	if err == nil || !strings.Contains(err.Error(), "shutdown hook 0: flush outbox: disk full") {
		t.Fatalf("Run = %v, want the hook error", err)
	}
	if fmt.Sprint(ran) != "[0 1]" {
		t.Errorf("hooks ran %v, want [0 1]", ran)
	}
	if err := s.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("second Run = %v, want refusal", err)
	}
}

func TestRunAddressInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	s, _ := newTestServer(t, Config{Addr: ln.Addr().String()})
	if err := s.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "listen on") {
		t.Fatalf("Run on a busy port = %v, want a listen error", err)
	}
	if s.Addr() != "" {
		t.Errorf("Addr after failed listen = %q, want empty", s.Addr())
	}
}

func TestRunShutdownIsBounded(t *testing.T) {
	s, _ := newTestServer(t, Config{ShutdownTimeout: 50 * time.Millisecond})
	entered, release := make(chan struct{}), make(chan struct{})
	defer close(release)
	s.Handle(http.MethodGet, "/stuck", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
	}))
	hookRan := make(chan struct{})
	s.OnShutdown(func(context.Context) error { close(hookRan); return nil })
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- s.Run(ctx) }()
	clientErr := make(chan error, 1)
	go func() {
		resp, err := http.Get("http://" + s.Addr() + "/stuck")
		if err == nil {
			resp.Body.Close()
		}
		clientErr <- err
	}()
	select {
	case <-entered:
	case <-time.After(10 * time.Second):
		t.Fatal("request never reached the handler")
	}
	cancel()
	select {
	case err := <-runErr:
		if err == nil || !strings.Contains(err.Error(), "force-closed") {
			t.Fatalf("Run = %v, want a forced-close error", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not give up on a stuck request")
	}
	select {
	case <-hookRan:
	default:
		t.Error("shutdown hook did not run after a forced close")
	}
	if err := <-clientErr; err == nil {
		t.Error("stuck request got a response although its connection was force-closed")
	}
}
