package graph

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

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
