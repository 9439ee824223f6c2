package graph

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/accessbot/accessbot/internal/entitlement"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
)

// TestMiddlewares: the chain is the tolerant reader, the SDK's defaults but the retry handler (replaced by
// retrier) and the two that do nothing here (UrlReplaceHandler, HeadersInspectionHandler), and observer, in
// the same order in every process (the SDK's own list comes out of a map).
func TestMiddlewares(t *testing.T) {
	want := []string{"graph.tolerantReader", "*msgraphgocore.GraphTelemetryHandler", "graph.retrier",
		"*nethttplibrary.RedirectHandler", "*nethttplibrary.ParametersNameDecodingHandler",
		"*nethttplibrary.UserAgentHandler", "*nethttplibrary.CompressionHandler", "graph.observer"}
	for range 5 {
		var got []string
		for _, m := range middlewares(&msgraphcore.GraphClientOptions{}, slog.New(slog.DiscardHandler), newRetryPolicy(time.Second, 1)) {
			got = append(got, fmt.Sprintf("%T", m))
		}
		if !slices.Equal(got, want) {
			t.Fatalf("middlewares = %v, want %v", got, want)
		}
	}
}

// TestWhatTheKeptMiddlewaresDo: on the wire a call still carries the OData query names decoded ($top,
// $expand), SdkVersion, a client-request-id and kiota's User-Agent, and a redirect from Graph is followed.
func TestWhatTheKeptMiddlewaresDo(t *testing.T) {
	f := newFakeGraph(t)
	var got *http.Request
	f.on("GET", myReqPath, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/v1.0"+em+"/assignmentRequests/moved?"+r.URL.RawQuery, http.StatusTemporaryRedirect)
	})
	f.on("GET", em+"/assignmentRequests/moved", func(w http.ResponseWriter, r *http.Request) {
		got = r.Clone(context.Background())
		jsonReply(http.StatusOK, f.fixture("accesspackageassignmentrequest-filterbycurrentuser.json"))(w, r)
	})
	c := newTestClient(t, f, func(cfg *Config) { cfg.PageSize = 5 })
	rs, err := c.ForUser(userToken("t", "o")).MyRequests(context.Background())
	if err != nil || len(rs) != 1 {
		t.Fatalf("MyRequests after a redirect = %+v, %v", rs, err)
	}
	q := got.URL.RawQuery
	for _, want := range []string{"$top=5", "$expand="} {
		if !strings.Contains(q, want) {
			t.Errorf("query %q lacks %q", q, want)
		}
	}
	if strings.Contains(q, "%24") {
		t.Errorf("query %q has encoded OData names", q)
	}
	for h, want := range map[string]string{"SdkVersion": "graph-go-core/", "User-Agent": "kiota-go/"} {
		if v := got.Header.Get(h); !strings.Contains(v, want) {
			t.Errorf("%s = %q, want it to contain %q", h, v, want)
		}
	}
	if got.Header.Get("client-request-id") == "" {
		t.Error("no client-request-id")
	}
}

// cannedTransport answers every request with one JSON body, in memory.
type cannedTransport []byte

func (c cannedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		_, _ = io.Copy(io.Discard, req.Body)
		_ = req.Body.Close()
	}
	return &http.Response{StatusCode: 200, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Request: req,
		Header: http.Header{"Content-Type": {"application/json"}}, ContentLength: int64(len(c)),
		Body: io.NopCloser(strings.NewReader(string(c)))}, nil
}

// BenchmarkGraphCall is one delegated Graph call (MyRequests, one request in the answer) through the whole
// middleware chain and the SDK, over an in-memory transport.
func BenchmarkGraphCall(b *testing.B) {
	body, err := os.ReadFile(filepath.Join("testdata", "accesspackageassignmentrequest-filterbycurrentuser.json"))
	if err != nil {
		b.Fatal(err)
	}
	c, err := New(Config{BaseURL: "http://127.0.0.1:9/v1.0", CacheTTL: -1, HTTPClient: &http.Client{Transport: cannedTransport(body)},
		AppTokens: entitlement.TokenFunc(func(context.Context) (string, error) { return "app-token", nil })})
	if err != nil {
		b.Fatal(err)
	}
	u := c.ForUser(userToken("t", "o"))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if rs, err := u.MyRequests(ctx); err != nil || len(rs) != 1 {
			b.Fatalf("MyRequests = %+v, %v", rs, err)
		}
	}
}
