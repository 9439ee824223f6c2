package botframework

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/accessbot/accessbot/internal/testkit"
)

const testSecret = "s3cr3t~value.with-chars"

// tokenServer is a fake Entra token endpoint.
type tokenServer struct {
	srv      *httptest.Server
	calls    atomic.Int64
	mu       sync.Mutex
	status   int
	body     string
	lastForm map[string]string
	lastPath string
	gate     chan struct{} // when non-nil, requests wait for it to close
}

func newTokenServer(t *testing.T) *tokenServer {
	t.Helper()
	ts := &tokenServer{status: 200}
	ts.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := ts.calls.Add(1)
		if err := r.ParseForm(); err != nil {
			http.Error(w, "bad form", 400)
			return
		}
		ts.mu.Lock()
		ts.lastPath = r.URL.Path
		ts.lastForm = map[string]string{}
		for k := range r.PostForm {
			ts.lastForm[k] = r.PostForm.Get(k)
		}
		status, body, gate := ts.status, ts.body, ts.gate
		ts.mu.Unlock()
		if gate != nil {
			<-gate
		}
		if body == "" {
			body = fmt.Sprintf(`{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"tok-%d"}`, n)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(ts.srv.Close)
	return ts
}

func (ts *tokenServer) set(status int, body string) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.status, ts.body = status, body
}

func newTestCredentials(ts *tokenServer, clock *testkit.Clock) *ClientCredentials {
	return NewClientCredentials(ClientCredentialsConfig{
		AuthorityHost: ts.srv.URL + "/",
		TenantID:      "11111111-1111-1111-1111-111111111111",
		ClientID:      testAppID,
		ClientSecret:  testSecret,
		Now:           clock.Now,
	})
}

func TestClientCredentialsRequestAndCaching(t *testing.T) {
	ts := newTokenServer(t)
	clock := testkit.NewClock()
	cc := newTestCredentials(ts, clock)
	ctx := context.Background()

	steps := []struct {
		name      string
		advance   time.Duration
		wantToken string
		wantCalls int64
	}{
		{name: "first call fetches", wantToken: "tok-1", wantCalls: 1},
		{name: "cached", advance: time.Minute, wantToken: "tok-1", wantCalls: 1},
		{name: "still cached 54 min after", advance: 53 * time.Minute, wantToken: "tok-1", wantCalls: 1},
		{name: "refetched within 5 min of expiry", advance: 2 * time.Minute, wantToken: "tok-2", wantCalls: 2},
		{name: "new token cached", advance: time.Minute, wantToken: "tok-2", wantCalls: 2},
	}
	for _, s := range steps {
		clock.Advance(s.advance)
		tok, err := cc.Token(ctx)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if tok != s.wantToken || ts.calls.Load() != s.wantCalls {
			t.Fatalf("%s: token %q after %d calls, want %q after %d", s.name, tok, ts.calls.Load(), s.wantToken, s.wantCalls)
		}
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.lastPath != "/11111111-1111-1111-1111-111111111111/oauth2/v2.0/token" {
		t.Errorf("path = %s", ts.lastPath)
	}
	want := map[string]string{
		"grant_type": "client_credentials", "client_id": testAppID, "client_secret": testSecret,
		"scope": "https://api.botframework.com/.default",
	}
	for k, v := range want {
		if ts.lastForm[k] != v {
			t.Errorf("form %s = %q, want %q", k, ts.lastForm[k], v)
		}
	}
}

func TestClientCredentialsConcurrentCallersShareOneFetch(t *testing.T) {
	ts := newTokenServer(t)
	gate := make(chan struct{})
	ts.mu.Lock()
	ts.gate = gate
	ts.mu.Unlock()
	cc := newTestCredentials(ts, testkit.NewClock())

	const n = 12
	var wg sync.WaitGroup
	results := make(chan string, n)
	for range n {
		wg.Go(func() {
			tok, err := cc.Token(context.Background())
			if err != nil {
				results <- "error: " + err.Error()
				return
			}
			results <- tok
		})
	}
	// Wait (with a deadline) until the single fetch reached the server, then let it answer.
	deadline := time.Now().Add(10 * time.Second)
	for ts.calls.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no token request arrived")
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(gate)
	wg.Wait()
	close(results)
	for tok := range results {
		if tok != "tok-1" {
			t.Errorf("caller got %q, want tok-1", tok)
		}
	}
	if got := ts.calls.Load(); got != 1 {
		t.Errorf("token endpoint called %d times, want 1", got)
	}
}

func TestClientCredentialsErrors(t *testing.T) {
	cases := []struct {
		name       string
		status     int
		body       string
		wantIn     []string
		wantNotIn  []string
		wantStatus int
	}{
		{name: "invalid client secret", status: 401,
			body:       `{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided (` + testSecret + `).\r\nTrace ID: abc\r\nCorrelation ID: def","error_codes":[7000215]}`,
			wantIn:     []string{"invalid_client", "AADSTS7000215", "status 401", "[redacted]"},
			wantNotIn:  []string{testSecret, "Trace ID"},
			wantStatus: 401},
		{name: "html error page", status: 502, body: `<html>bad gateway</html>`, wantIn: []string{"status 502"}, wantNotIn: []string{"html"}, wantStatus: 502},
		{name: "no access_token", status: 200, body: `{"token_type":"Bearer","expires_in":3600}`, wantIn: []string{"no access_token"}},
		{name: "wrong token type", status: 200, body: `{"token_type":"pop","expires_in":3600,"access_token":"x"}`, wantIn: []string{"token_type"}},
		{name: "missing expires_in", status: 200, body: `{"token_type":"Bearer","access_token":"x"}`, wantIn: []string{"expires_in"}},
		{name: "not JSON", status: 200, body: `nope`, wantIn: []string{"decode token response"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ts := newTokenServer(t)
			ts.set(tc.status, tc.body)
			_, err := newTestCredentials(ts, testkit.NewClock()).Token(context.Background())
			if err == nil {
				t.Fatal("want an error")
			}
			for _, s := range tc.wantIn {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q lacks %q", err, s)
				}
			}
			for _, s := range tc.wantNotIn {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error %q contains %q", err, s)
				}
			}
			if tc.wantStatus != 0 {
				var te *TokenError
				if !errors.As(err, &te) || te.Status != tc.wantStatus {
					t.Errorf("err %v is not a *TokenError with status %d", err, tc.wantStatus)
				}
			}
		})
	}
}

func TestClientCredentialsExpiresInStringAndRefreshFailure(t *testing.T) {
	ts := newTokenServer(t)
	ts.set(200, `{"token_type":"Bearer","expires_in":"3600","access_token":"first"}`)
	clock := testkit.NewClock()
	cc := newTestCredentials(ts, clock)
	if tok, err := cc.Token(context.Background()); err != nil || tok != "first" {
		t.Fatalf("token = %q, %v", tok, err)
	}
	// Inside the refresh margin the endpoint fails: the unexpired token is still returned.
	ts.set(500, `{"error":"temporarily_unavailable"}`)
	clock.Advance(57 * time.Minute)
	if tok, err := cc.Token(context.Background()); err != nil || tok != "first" {
		t.Fatalf("during failed refresh: token = %q, %v; want the cached token", tok, err)
	}
	if ts.calls.Load() != 2 {
		t.Fatalf("calls = %d, want 2 (a refresh was attempted)", ts.calls.Load())
	}
	// After expiry the failure surfaces.
	clock.Advance(5 * time.Minute)
	if _, err := cc.Token(context.Background()); err == nil {
		t.Fatal("expired token returned although refresh fails")
	}
}

func TestClientCredentialsConfigErrors(t *testing.T) {
	ts := newTokenServer(t)
	cases := []struct {
		name string
		cfg  ClientCredentialsConfig
		want string
	}{
		{name: "no tenant", cfg: ClientCredentialsConfig{AuthorityHost: ts.srv.URL, ClientID: "c", ClientSecret: "s"}, want: "TenantID is empty"},
		{name: "no client id", cfg: ClientCredentialsConfig{AuthorityHost: ts.srv.URL, TenantID: "t", ClientSecret: "s"}, want: "ClientID is empty"},
		{name: "no secret", cfg: ClientCredentialsConfig{AuthorityHost: ts.srv.URL, TenantID: "t", ClientID: "c"}, want: "ClientSecret is empty"},
		{name: "plain http authority", cfg: ClientCredentialsConfig{AuthorityHost: "http://login.example/", TenantID: "t", ClientID: "c", ClientSecret: "s"}, want: "plain http"},
	}
	for _, tc := range cases {
		_, err := NewClientCredentials(tc.cfg).Token(context.Background())
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
	}
	if ts.calls.Load() != 0 {
		t.Errorf("token endpoint called %d times for invalid configs", ts.calls.Load())
	}
	// Multi-tenant uses the botframework.com tenant segment and the default scope and host.
	cc := NewClientCredentials(ClientCredentialsConfig{TenantID: MultiTenantAuthority, ClientID: "c", ClientSecret: "s"})
	if cc.endpoint != "https://login.microsoftonline.com/botframework.com/oauth2/v2.0/token" || cc.cfg.Scope != DefaultBotScope {
		t.Errorf("endpoint %s scope %s", cc.endpoint, cc.cfg.Scope)
	}
}
