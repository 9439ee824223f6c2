package tenantsim

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	azpolicy "github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// TestAzidentityOverTLS proves that the production credential library (MSAL via
// azidentity) obtains app and on-behalf-of tokens from the simulator, which it
// only accepts over https.
func TestAzidentityOverTLS(t *testing.T) {
	sim, base, client := newTLSSim(t)
	opts := azcore.ClientOptions{Cloud: cloud.Configuration{ActiveDirectoryAuthorityHost: base + "/"}, Transport: client}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	info := sim.Info()
	scopes := azpolicy.TokenRequestOptions{Scopes: []string{"https://graph.microsoft.com/.default"}}

	app, err := azidentity.NewClientSecretCredential(ContosoTenantID, BotAppID, info.BotClientSecret,
		&azidentity.ClientSecretCredentialOptions{ClientOptions: opts, DisableInstanceDiscovery: true})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := app.GetToken(ctx, scopes)
	if err != nil {
		t.Fatalf("client credentials through azidentity: %v", err)
	}
	if c := claimsOf(t, tok.Token); c["idtyp"] != "app" || c["tid"] != ContosoTenantID {
		t.Fatalf("claims %v", c)
	}

	sim.mu.Lock()
	assertion, err := sim.devAssertion(ContosoTenantID, UserAaron)
	sim.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	obo, err := azidentity.NewOnBehalfOfCredentialWithSecret(ContosoTenantID, BotAppID, assertion, info.BotClientSecret,
		&azidentity.OnBehalfOfCredentialOptions{ClientOptions: opts, DisableInstanceDiscovery: true})
	if err != nil {
		t.Fatal(err)
	}
	tok, err = obo.GetToken(ctx, scopes)
	if err != nil {
		t.Fatalf("on-behalf-of through azidentity: %v", err)
	}
	if c := claimsOf(t, tok.Token); c["oid"] != UserAaron || c["scp"] == nil {
		t.Fatalf("claims %v", c)
	}

	// The token works against the Graph surface over TLS.
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/v1.0/me", nil)
	req.Header.Set("Authorization", "Bearer "+tok.Token)
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("GET /me: %d", res.StatusCode)
	}

	// A wrong secret surfaces as an authentication failure.
	bad, _ := azidentity.NewClientSecretCredential(ContosoTenantID, BotAppID, "wrong",
		&azidentity.ClientSecretCredentialOptions{ClientOptions: opts, DisableInstanceDiscovery: true})
	if _, err := bad.GetToken(ctx, scopes); err == nil {
		t.Fatal("wrong secret accepted")
	}
}

// newTLSSim starts a simulator on https://127.0.0.1:PORT (its BaseURL), stopped when the test ends, and returns
// it, its base URL and a client that trusts its certificate.
func newTLSSim(t *testing.T) (*Sim, string, *http.Client) {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	base := "https://" + srv.Listener.Addr().String()
	sim, err := New(Options{Path: filepath.Join(t.TempDir(), "sim.db"), BaseURL: base})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	client, err := sim.ServeTLS(srv)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return sim, base, client
}
