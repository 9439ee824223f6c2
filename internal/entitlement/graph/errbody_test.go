package graph

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/accessbot/accessbot/internal/entitlement"
)

// TestErrorBodiesThatAreNotOData: whatever the body of a failed call, the error keeps the HTTP status
// and what a plain JSON decoder can read of error.code / error.message; the user never sees a parser's
// text.
func TestErrorBodiesThatAreNotOData(t *testing.T) {
	tests := []struct {
		name        string
		status      int
		contentType string
		body        string
		wantKind    error
		wantCode    string
		wantMessage string
	}{
		// A gateway in front of Graph answers with its own HTML page.
		{"HTML gateway page", http.StatusBadGateway, "text/html", "<html><body><h1>502 Bad Gateway</h1></body></html>", entitlement.ErrUnavailable, "", ""},
		{"empty body", http.StatusServiceUnavailable, "application/json", "", entitlement.ErrUnavailable, "", ""},
		{"empty body, no content type", http.StatusForbidden, "", "", entitlement.ErrForbidden, "", ""},
		// api-reference/v1.0/resources/errors.md shows innerError {date, request-id, client-request-id} as
		// strings; a number or object in their place must not lose the code and message.
		{"innerError with unexpected types", http.StatusNotFound, "application/json",
			`{"error":{"code":"ResourceNotFound","message":"Access package not found.","innerError":{"date":20260101,"request-id":{"x":1},"client-request-id":false}}}`,
			entitlement.ErrNotFound, "ResourceNotFound", "Access package not found."},
		{"code as a number", http.StatusBadRequest, "application/json", `{"error":{"code":400,"message":"Bad request."}}`, entitlement.ErrInvalidInput, "", "Bad request."},
		{"no message", http.StatusConflict, "application/json", `{"error":{"code":"Conflict"}}`, entitlement.ErrConflict, "Conflict", ""},
		{"not JSON although it says so", http.StatusInternalServerError, "application/json", `Internal Server Error`, entitlement.ErrUnavailable, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeGraph(t)
			f.on("GET", em+"/catalogs", func(w http.ResponseWriter, _ *http.Request) {
				if tt.contentType != "" {
					w.Header().Set("Content-Type", tt.contentType)
				}
				w.Header().Set("request-id", "rid-1")
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			})
			c := newTestClient(t, f, func(cfg *Config) { cfg.MaxRetries = 1; cfg.MaxRetryWait = 0 })
			_, err := c.Catalogs(context.Background())
			var se *entitlement.ServiceError
			if !errors.As(err, &se) {
				t.Fatalf("err = %v (%T), want a *ServiceError", err, err)
			}
			if se.Status != tt.status || se.Code != tt.wantCode || se.Message != tt.wantMessage || se.RequestID != "rid-1" || !errors.Is(err, tt.wantKind) {
				t.Errorf("ServiceError = %+v, want status %d code %q message %q kind %v", se, tt.status, tt.wantCode, tt.wantMessage, tt.wantKind)
			}
			msg := err.Error()
			for _, parser := range []string{"factory", "parse", "unmarshal", "invalid character", "not compatible", "EOF"} {
				if strings.Contains(strings.ToLower(msg), strings.ToLower(parser)) {
					t.Errorf("error text shows a parser's text %q: %s", parser, msg)
				}
			}
			if !strings.HasPrefix(msg, "list catalogs") {
				t.Errorf("error text does not say what failed: %s", msg)
			}
		})
	}
}

// TestOutageIsNotSignIn: a token source that cannot reach the sign-in service, Graph refusing
// connections, and Graph answering after the caller's deadline all map to ErrUnavailable (a change sent
// and not confirmed: ErrOutcomeUnknown), never to ErrSignInRequired.
func TestOutageIsNotSignIn(t *testing.T) {
	ctx := context.Background()
	down := entitlement.TokenFunc(func(context.Context) (string, error) {
		return "", fmt.Errorf("on-behalf-of: %w (dial tcp: connection refused)", entitlement.ErrUnavailable)
	})
	t.Run("sign-in service down", func(t *testing.T) {
		f := newFakeGraph(t)
		c := newTestClient(t, f)
		_, err := c.ForUser(down).MyRequests(ctx)
		if !errors.Is(err, entitlement.ErrUnavailable) || errors.Is(err, entitlement.ErrSignInRequired) {
			t.Fatalf("err = %v, want ErrUnavailable only", err)
		}
		if f.count() != 0 {
			t.Fatalf("a request was sent without a token")
		}
	})
	t.Run("Graph refuses connections", func(t *testing.T) {
		f := newFakeGraph(t)
		c := newTestClient(t, f)
		f.srv.Close()
		_, err := c.ForUser(userToken("t", "o")).MyRequests(ctx)
		if !errors.Is(err, entitlement.ErrUnavailable) || errors.Is(err, entitlement.ErrSignInRequired) || errors.Is(err, entitlement.ErrOutcomeUnknown) {
			t.Fatalf("err = %v, want ErrUnavailable", err)
		}
		if msg := entitlement.UserMessage(err); !strings.Contains(msg, "nothing was changed") {
			t.Errorf("user message = %q", msg)
		}
	})
	t.Run("slow answer past the deadline", func(t *testing.T) {
		f := newFakeGraph(t)
		release := make(chan struct{})
		t.Cleanup(func() { close(release) })
		f.on("GET", myReqPath, func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		})
		c := newTestClient(t, f)
		dctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		_, err := c.ForUser(userToken("t", "o")).MyRequests(dctx)
		if !errors.Is(err, entitlement.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want ErrUnavailable wrapping the deadline", err)
		}
	})
}
