package tenantsim

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestFaultSwitch: the failure switch answers Graph requests with 429/503 with or without Retry-After, a
// gateway's HTML 502, a cut connection, or a slow answer, for the set number of requests; with entra it
// fails the token endpoint too.
func TestFaultSwitch(t *testing.T) {
	tests := []struct {
		name       string
		fault      map[string]any
		wantStatus int // 0: the connection is cut
		wantRA     string
		wantType   string
	}{
		{"429 with Retry-After", map[string]any{"requests": 1, "status": 429, "retryAfterSeconds": 3}, 429, "3", "application/json"},
		{"429 without Retry-After", map[string]any{"requests": 1, "status": 429, "noRetryAfter": true}, 429, "", "application/json"},
		{"503 without Retry-After", map[string]any{"requests": 1, "status": 503, "noRetryAfter": true}, 503, "", "application/json"},
		{"502 gateway page", map[string]any{"requests": 1, "status": 502, "noRetryAfter": true}, 502, "", "text/html"},
		{"cut connection", map[string]any{"requests": 1, "kind": "cut"}, 0, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			app := e.appToken()
			wantStatus(t, e.do("POST", "/_sim/fault", "", tt.fault), 200)
			req, _ := http.NewRequest("GET", e.base+"/v1.0/users/"+UserRita, nil)
			req.Header.Set("Authorization", "Bearer "+app)
			// A fresh connection: Go's transport re-sends an idempotent request once when a reused one is cut.
			res, err := (&http.Client{Transport: &http.Transport{}}).Do(req)
			if tt.wantStatus == 0 {
				if err == nil {
					res.Body.Close()
					t.Fatalf("status %d, want a cut connection", res.StatusCode)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				if res.StatusCode != tt.wantStatus || res.Header.Get("Retry-After") != tt.wantRA || !strings.HasPrefix(res.Header.Get("Content-Type"), tt.wantType) {
					t.Fatalf("status %d Retry-After %q type %q", res.StatusCode, res.Header.Get("Retry-After"), res.Header.Get("Content-Type"))
				}
			}
			// One request only: the next one is served.
			wantStatus(t, e.do("GET", "/v1.0/users/"+UserRita, app, nil), 200)
		})
	}

	t.Run("slow answer", func(t *testing.T) {
		e := newEnv(t)
		app := e.appToken()
		wantStatus(t, e.do("POST", "/_sim/fault", "", map[string]any{"requests": 1, "kind": "slow", "delayMillis": 300}), 200)
		start := time.Now()
		wantStatus(t, e.do("GET", "/v1.0/users/"+UserRita, app, nil), 200)
		if d := time.Since(start); d < 300*time.Millisecond {
			t.Fatalf("answered after %v, want at least 300ms", d)
		}
	})

	t.Run("whole outage includes the token endpoint", func(t *testing.T) {
		e := newEnv(t)
		form := url.Values{"grant_type": {"client_credentials"}, "client_id": {BotAppID}, "client_secret": {e.sim.Info().BotClientSecret},
			"scope": {"https://graph.microsoft.com/.default"}}
		token := func() int {
			res, err := http.PostForm(e.base+"/"+ContosoTenantID+"/oauth2/v2.0/token", form)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			return res.StatusCode
		}
		e.sim.SetFault(Fault{Requests: -1, Status: http.StatusServiceUnavailable, NoRetryAfter: true})
		if got := token(); got != 200 {
			t.Fatalf("token endpoint during a Graph-only fault: %d", got)
		}
		e.sim.SetFault(Fault{Requests: -1, Status: http.StatusServiceUnavailable, NoRetryAfter: true, Entra: true})
		if got := token(); got != 503 {
			t.Fatalf("token endpoint during a whole outage: %d, want 503", got)
		}
		wantStatus(t, e.do("POST", "/_sim/fault", "", map[string]any{"requests": 0}), 200)
		if got := token(); got != 200 {
			t.Fatalf("token endpoint after the outage: %d", got)
		}
	})

	t.Run("bad switch settings", func(t *testing.T) {
		e := newEnv(t)
		for _, body := range []map[string]any{{"kind": "explode"}, {"status": 200}, {"requests": -2}, {"retryAfterSeconds": -1}, {"bogus": true}} {
			wantStatus(t, e.do("POST", "/_sim/fault", "", body), 400)
		}
	})
}
