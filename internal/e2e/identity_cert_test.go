package e2e

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/identity"
	"github.com/accessbot/accessbot/internal/tenantsim"
)

// certFile writes a self-signed RSA certificate and its key as PEM (as BOT_CERTIFICATE_PATH holds them).
func certFile(t *testing.T, notBefore, notAfter time.Time) (string, *x509.Certificate) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "accessbot"},
		NotBefore: notBefore, NotAfter: notAfter, KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	kd, _ := x509.MarshalPKCS8PrivateKey(key)
	p := filepath.Join(t.TempDir(), "bot.pem")
	if err := os.WriteFile(p, append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd})...), 0o600); err != nil {
		t.Fatal(err)
	}
	return p, cert
}

// TestIdentityOBOWithCertificateAgainstSimulator: the production on-behalf-of exchange, configured with a
// certificate instead of a secret (BOT_CERTIFICATE_PATH), gets a delegated Graph token from the simulator's
// TLS token endpoint with a good certificate, and is refused with a certificate the app does not have and
// with an expired one — as a configuration problem, never as "sign in again".
func TestIdentityOBOWithCertificateAgainstSimulator(t *testing.T) {
	srv := httptest.NewUnstartedServer(nil)
	base := "https://" + srv.Listener.Addr().String()
	sim, err := tenantsim.New(tenantsim.Options{Path: filepath.Join(t.TempDir(), "sim.db"), BaseURL: base, Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	hc, err := sim.ServeTLS(srv)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()

	now := time.Now()
	good, goodCert := certFile(t, now.Add(-time.Hour), now.Add(365*24*time.Hour))
	wrong, _ := certFile(t, now.Add(-time.Hour), now.Add(365*24*time.Hour))
	expired, expiredCert := certFile(t, now.Add(-48*time.Hour), now.Add(-time.Hour))
	sim.AddBotCertificate(goodCert)
	sim.AddBotCertificate(expiredCert)

	// The user's SSO token, as Teams would hand it over (minted by the simulator's dev endpoint).
	dev, err := identity.NewDevIdentity(identity.DevConfig{InsecureDev: true, SimulatorURL: base, HTTPClient: hc, Logger: testLogger(),
		OBO: mustOBO(t, identity.OBOConfig{TenantID: contoso, ClientID: tenantsim.BotAppID, ClientSecret: sim.Info().BotClientSecret,
			AuthorityHost: base, HTTPClient: hc})})
	if err != nil {
		t.Fatal(err)
	}
	assertion, err := dev.Assertion(context.Background(), contoso, tenantsim.UserRita)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		path    string
		wantErr string
	}{
		{"good certificate", good, ""},
		{"certificate the app does not have", wrong, "AADSTS700027"},
		{"expired certificate", expired, "expired"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := mustOBO(t, identity.OBOConfig{TenantID: contoso, ClientID: tenantsim.BotAppID, CertificatePath: tt.path,
				AuthorityHost: base, HTTPClient: hc})
			err := o.Exchange(context.Background(), contoso, tenantsim.UserRita, assertion)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("exchange: %v", err)
				}
				tok, err := o.ForUser(contoso, tenantsim.UserRita).Token(context.Background())
				if c, _ := identity.PeekClaims(tok); err != nil || c.ObjectID != tenantsim.UserRita {
					t.Fatalf("delegated token = %+v, %v", c, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %s", err, tt.wantErr)
			}
			if errors.Is(err, entitlement.ErrSignInRequired) || errors.Is(err, entitlement.ErrConsentRequired) {
				t.Fatalf("a certificate problem asks the user to act: %v", err)
			}
		})
	}
}

func mustOBO(t *testing.T, cfg identity.OBOConfig) *identity.OBO {
	t.Helper()
	o, err := identity.NewOBO(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return o
}
