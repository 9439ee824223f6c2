package identity

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestWorkloadIdentityUsesTheFederatedToken(t *testing.T) {
	ts := &tokenServer{reply: func(url.Values) (int, any) { return okToken("wi-token", 3600) }}
	srv := fakeEntraTLS(t, ts)
	file := filepath.Join(t.TempDir(), "federated-token")
	if err := os.WriteFile(file, []byte("federated-jwt"), 0o600); err != nil {
		t.Fatal(err)
	}
	a, err := NewAppCredential(AppConfig{Kind: KindWorkloadIdentity, TenantID: tenantA, ClientID: appID, FederatedTokenFile: file,
		AuthorityHost: srv.URL, HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := a.Graph().Token(context.Background())
	if err != nil || tok != "wi-token" {
		t.Fatalf("Token = %q, %v", tok, err)
	}
	f := ts.forms[len(ts.forms)-1]
	if f.Get("client_assertion") != "federated-jwt" || f.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
		t.Fatalf("form = %v, want the federated token as client assertion", f)
	}
}

func TestManagedIdentityAppService(t *testing.T) {
	var mu sync.Mutex
	var got *http.Request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = r.Clone(context.Background())
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"access_token": "mi-token", "expires_on": time.Now().Add(time.Hour).Unix(), "resource": "https://graph.microsoft.com", "token_type": "Bearer",
		})
	}))
	t.Cleanup(srv.Close)
	t.Setenv("IDENTITY_ENDPOINT", srv.URL+"/msi/token")
	t.Setenv("IDENTITY_HEADER", "header-secret")
	t.Setenv("MSI_ENDPOINT", "")
	a, err := NewAppCredential(AppConfig{Kind: KindManagedIdentity, ManagedIdentityClientID: "mi-client-id", HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := a.BotFramework().Token(context.Background())
	if err != nil || tok != "mi-token" {
		t.Fatalf("Token = %q, %v", tok, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if got == nil || got.Header.Get("X-IDENTITY-HEADER") != "header-secret" || !strings.Contains(got.URL.RawQuery, "resource=https") ||
		!strings.Contains(got.URL.RawQuery, "mi-client-id") {
		t.Fatalf("managed identity request = %v", got)
	}
	if a.Kind() != KindManagedIdentity {
		t.Fatalf("Kind = %s", a.Kind())
	}
}

func TestAuthorityHostFromEnvironment(t *testing.T) {
	ts := &tokenServer{reply: func(url.Values) (int, any) { return okToken("env-token", 3600) }}
	srv := httptest.NewServer(ts.handler())
	t.Cleanup(srv.Close)
	t.Setenv("AZURE_AUTHORITY_HOST", srv.URL)
	o, err := NewOBO(OBOConfig{TenantID: tenantA, ClientID: appID, ClientSecret: secret})
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Exchange(context.Background(), tenantA, rita, jwtFor(map[string]any{"tid": tenantA, "oid": rita})); err != nil {
		t.Fatalf("exchange against AZURE_AUTHORITY_HOST: %v", err)
	}
	cfg := AppConfigFromEnv(AppConfig{TenantID: tenantA, ClientID: appID, ClientSecret: secret})
	if cfg.AuthorityHost != srv.URL {
		t.Fatalf("AppConfigFromEnv authority = %q", cfg.AuthorityHost)
	}
	a, err := NewAppCredential(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if tok, err := a.Graph().Token(context.Background()); err != nil || tok != "env-token" {
		t.Fatalf("app token = %q, %v", tok, err)
	}
	if ts.count() != 2 {
		t.Fatalf("calls = %d, want 2", ts.count())
	}
}
