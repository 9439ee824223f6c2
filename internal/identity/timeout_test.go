package identity

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestTokenRequestsTimeOutByDefault: without a caller-supplied HTTP client, a token endpoint that accepts
// the connection and never answers fails the exchange (after tokenRequestTimeout) instead of hanging the
// chat turn or outbox worker that asked, even when the caller's context has no deadline.
func TestTokenRequestsTimeOutByDefault(t *testing.T) {
	old := tokenRequestTimeout
	tokenRequestTimeout = 200 * time.Millisecond
	t.Cleanup(func() { tokenRequestTimeout = old })

	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })

	o, err := NewOBO(OBOConfig{TenantID: tenantA, ClientID: appID, ClientSecret: secret, AuthorityHost: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	app, err := NewAppCredential(AppConfig{TenantID: tenantA, ClientID: appID, ClientSecret: secret, AuthorityHost: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	calls := map[string]func(ctx context.Context) error{
		"on-behalf-of": func(ctx context.Context) error {
			return o.Exchange(ctx, tenantA, rita, jwtFor(map[string]any{"tid": tenantA, "oid": rita}))
		},
		"app credential": func(ctx context.Context) error { _, err := app.Graph().Token(ctx); return err },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			done := make(chan error, 1)
			go func() { done <- call(context.Background()) }()
			// The guard only keeps a regression from hanging the test binary; it is not the assertion.
			guard := time.NewTimer(30 * time.Second)
			defer guard.Stop()
			select {
			case err := <-done:
				if err == nil {
					t.Fatal("a token request that was never answered succeeded")
				}
			case <-guard.C:
				t.Fatal("the token request hung: no default timeout")
			}
		})
	}
}
