package graph

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/accessbot/accessbot/internal/entitlement"
)

// fakeGraph is an httptest server that answers Graph paths with handlers registered per test, counts
// calls and records (gunzipped) request bodies and Authorization headers.
type fakeGraph struct {
	t      *testing.T
	srv    *httptest.Server
	mu     sync.Mutex
	routes map[string]http.HandlerFunc
	calls  []string
	bodies map[string][][]byte
	auth   []string
}

func newFakeGraph(t *testing.T) *fakeGraph {
	t.Helper()
	f := &fakeGraph{t: t, routes: map[string]http.HandlerFunc{}, bodies: map[string][][]byte{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeGraph) base() string { return f.srv.URL + "/v1.0" }

func (f *fakeGraph) serve(w http.ResponseWriter, r *http.Request) {
	key := r.Method + " " + strings.TrimPrefix(r.URL.Path, "/v1.0")
	var body []byte
	if r.Body != nil {
		raw, _ := io.ReadAll(r.Body)
		if r.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(bytes.NewReader(raw))
			if err != nil {
				http.Error(w, "bad gzip", http.StatusBadRequest)
				return
			}
			raw, _ = io.ReadAll(zr)
		}
		body = raw
	}
	f.mu.Lock()
	f.calls = append(f.calls, key)
	f.bodies[key] = append(f.bodies[key], body)
	f.auth = append(f.auth, r.Header.Get("Authorization"))
	h := f.routes[key]
	f.mu.Unlock()
	if h == nil {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"error":{"code":"ResourceNotFound","message":"no fake route for `+key+`"}}`)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	h(w, r)
}

func (f *fakeGraph) on(method, path string, h http.HandlerFunc) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.routes[method+" "+path] = h
}

func (f *fakeGraph) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

func (f *fakeGraph) callsTo(key string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		if c == key {
			n++
		}
	}
	return n
}

func (f *fakeGraph) lastBody(key string) map[string]any {
	f.t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	bs := f.bodies[key]
	if len(bs) == 0 {
		f.t.Fatalf("no request body recorded for %s", key)
	}
	var m map[string]any
	if err := json.Unmarshal(bs[len(bs)-1], &m); err != nil {
		f.t.Fatalf("body of %s is not JSON: %v: %s", key, err, bs[len(bs)-1])
	}
	return m
}

// fixture returns a testdata file with {{base}} replaced by the fake's base URL.
func (f *fakeGraph) fixture(name string) []byte {
	f.t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		f.t.Fatalf("read fixture: %v", err)
	}
	return bytes.ReplaceAll(b, []byte("{{base}}"), []byte(f.base()))
}

func jsonReply(status int, body []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("request-id", "req-"+http.StatusText(status))
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}
}

func (f *fakeGraph) serveFixture(method, path, name string) {
	f.on(method, path, jsonReply(http.StatusOK, f.fixture(name)))
}

// sequence answers successive calls with successive handlers (the last one repeats).
func sequence(hs ...http.HandlerFunc) http.HandlerFunc {
	var mu sync.Mutex
	i := 0
	return func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		h := hs[min(i, len(hs)-1)]
		i++
		mu.Unlock()
		h(w, r)
	}
}

func newTestClient(t *testing.T, f *fakeGraph, mod ...func(*Config)) *Client {
	t.Helper()
	cfg := Config{
		BaseURL:      f.base(),
		AppTokens:    entitlement.TokenFunc(func(context.Context) (string, error) { return "app-token", nil }),
		MaxRetryWait: 2 * time.Second,
		TenantID:     "11111111-1111-1111-1111-111111111111",
	}
	for _, m := range mod {
		m(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// userToken is an unsigned JWT-shaped token carrying tid and oid (the client reads them only as a cache
// key; the fake does not check signatures).
func userToken(tid, oid string) entitlement.TokenSource {
	enc := base64.RawURLEncoding
	payload, _ := json.Marshal(map[string]string{"tid": tid, "oid": oid})
	tok := enc.EncodeToString([]byte(`{"alg":"none"}`)) + "." + enc.EncodeToString(payload) + ".sig"
	return entitlement.TokenFunc(func(context.Context) (string, error) { return tok, nil })
}
