package tenantsim

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	azpolicy "github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// rsaCert is a self-signed RSA certificate valid from notBefore to notAfter.
func rsaCert(t *testing.T, cn string, notBefore, notAfter time.Time) (*x509.Certificate, *rsa.PrivateKey) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: notBefore, NotAfter: notAfter, KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

// TestClientAssertionOverTLS: the token endpoint authenticates the bot app by a certificate client
// assertion (RFC 7523, x5t / x5t#S256) as MSAL sends it — app-only and on-behalf-of — and refuses a
// certificate that is not registered, one that has expired, and assertions over plain http.
func TestClientAssertionOverTLS(t *testing.T) {
	sim, base, client := newTLSSim(t)

	now := time.Now()
	good, goodKey := rsaCert(t, "accessbot", now.Add(-time.Hour), now.Add(365*24*time.Hour))
	wrong, wrongKey := rsaCert(t, "someone else", now.Add(-time.Hour), now.Add(365*24*time.Hour))
	expired, expiredKey := rsaCert(t, "accessbot old", now.Add(-48*time.Hour), now.Add(-24*time.Hour))
	sim.AddBotCertificate(good)
	sim.AddBotCertificate(expired)

	opts := azcore.ClientOptions{Cloud: cloud.Configuration{ActiveDirectoryAuthorityHost: base + "/"}, Transport: client}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	scopes := azpolicy.TokenRequestOptions{Scopes: []string{"https://graph.microsoft.com/.default"}}
	sim.mu.Lock()
	assertion, err := sim.devAssertion(ContosoTenantID, UserAaron)
	sim.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		cert    *x509.Certificate
		key     *rsa.PrivateKey
		wantErr string
	}{
		{"registered certificate", good, goodKey, ""},
		{"certificate not registered", wrong, wrongKey, "AADSTS700027"},
		{"registered certificate that expired", expired, expiredKey, "expired"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app, err := azidentity.NewClientCertificateCredential(ContosoTenantID, BotAppID, []*x509.Certificate{tt.cert}, tt.key,
				&azidentity.ClientCertificateCredentialOptions{ClientOptions: opts, DisableInstanceDiscovery: true})
			if err != nil {
				t.Fatal(err)
			}
			obo, err := azidentity.NewOnBehalfOfCredentialWithCertificate(ContosoTenantID, BotAppID, assertion, []*x509.Certificate{tt.cert}, tt.key,
				&azidentity.OnBehalfOfCredentialOptions{ClientOptions: opts, DisableInstanceDiscovery: true})
			if err != nil {
				t.Fatal(err)
			}
			appTok, appErr := app.GetToken(ctx, scopes)
			oboTok, oboErr := obo.GetToken(ctx, scopes)
			if tt.wantErr == "" {
				if appErr != nil || oboErr != nil {
					t.Fatalf("app: %v; on-behalf-of: %v", appErr, oboErr)
				}
				if c := claimsOf(t, appTok.Token); c["idtyp"] != "app" {
					t.Errorf("app token claims %v", c)
				}
				if c := claimsOf(t, oboTok.Token); c["oid"] != UserAaron {
					t.Errorf("on-behalf-of token claims %v", c)
				}
				return
			}
			for what, err := range map[string]error{"app": appErr, "on-behalf-of": oboErr} {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("%s: err = %v, want %s", what, err, tt.wantErr)
				}
			}
		})
	}

	// Plain http: refused even with a good assertion (Entra is https only).
	plain := httptest.NewServer(sim.Handler())
	defer plain.Close()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {BotAppID}, "scope": {"https://graph.microsoft.com/.default"},
		"client_assertion_type": {clientAssertionType}, "client_assertion": {"x.y.z"}}
	res, err := http.PostForm(plain.URL+"/"+ContosoTenantID+"/oauth2/v2.0/token", form)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest {
		t.Fatalf("client assertion over http: status %d, want 400", res.StatusCode)
	}
}
