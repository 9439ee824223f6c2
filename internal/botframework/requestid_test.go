package botframework

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestEndpointRequestID: the id in a 500 answer (and the endpoint's log lines) is the one the HTTP server
// validated and echoed in the response header, not whatever the client put in X-Request-Id; without a server
// in front, an id that is not a plain token is not reflected at all.
func TestEndpointRequestID(t *testing.T) {
	body := loadFixture(t, "message_personal.json")
	long := strings.Repeat("x", 500)
	cases := []struct {
		name      string
		reqHeader string
		respSet   string // what server middleware put in the response header
		want      string
	}{
		{"server-assigned id wins over the client's", "client-chosen", "srv-123", "srv-123"},
		{"server-assigned id wins over a hostile one", "evil\"id\r\nx", "srv-456", "srv-456"},
		{"no server: a plain client id is kept", "abc-123", "", "abc-123"},
		{"no server: a hostile id is not reflected", "<script>", "", ""},
		{"no server: an overlong id is not reflected", long, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := &recordingHandler{err: errors.New("boom")}
			logger, logs := newTestLogger()
			ep := NewEndpoint(NewDevVerifier(nil), h, EndpointOptions{Logger: logger})
			req := httptest.NewRequest(http.MethodPost, "/api/messages", bytes.NewReader(body))
			req.Header["X-Request-Id"] = []string{tc.reqHeader}
			rec := httptest.NewRecorder()
			if tc.respSet != "" {
				rec.Header().Set("X-Request-Id", tc.respSet)
			}
			ep.ServeHTTP(rec, req)
			if rec.Code != http.StatusInternalServerError {
				t.Fatalf("status %d, want 500", rec.Code)
			}
			var got errorBody
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			if got.RequestID != tc.want {
				t.Errorf("requestId = %q, want %q", got.RequestID, tc.want)
			}
			if tc.want == "" && strings.Contains(logs.String(), tc.reqHeader) {
				t.Errorf("the rejected client id reached the log: %s", logs.String())
			}
		})
	}
}
