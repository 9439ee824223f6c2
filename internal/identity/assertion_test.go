package identity

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/accessbot/accessbot/internal/entitlement"
)

// TestOBOWithCertificate: without a client secret, the exchange authenticates the app with a client
// assertion signed by the certificate (RFC 7523): PS256, x5t#S256 of the certificate, aud = the token
// endpoint, iss = sub = the client id; no client_secret is sent.
func TestOBOWithCertificate(t *testing.T) {
	path := writeTestCert(t)
	data, _ := os.ReadFile(path)
	blk, _ := pem.Decode(data)
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	ts := &tokenServer{reply: func(url.Values) (int, any) { return okToken("graph-token", 3600) }}
	srv := httptest.NewServer(ts.handler())
	t.Cleanup(srv.Close)
	o, err := NewOBO(OBOConfig{TenantID: tenantA, ClientID: appID, CertificatePath: path, AuthorityHost: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Exchange(context.Background(), tenantA, rita, jwtFor(map[string]any{"tid": tenantA, "oid": rita})); err != nil {
		t.Fatal(err)
	}
	ts.mu.Lock()
	form := ts.forms[0]
	ts.mu.Unlock()
	if form.Get("client_secret") != "" || form.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" ||
		form.Get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" || form.Get("requested_token_use") != "on_behalf_of" {
		t.Fatalf("form = %v", form)
	}
	tok, err := jwt.Parse(form.Get("client_assertion"), func(*jwt.Token) (any, error) { return cert.PublicKey, nil },
		jwt.WithValidMethods([]string{"PS256"}), jwt.WithExpirationRequired(), jwt.WithIssuer(appID), jwt.WithSubject(appID),
		jwt.WithAudience(srv.URL+"/"+tenantA+"/oauth2/v2.0/token"))
	if err != nil {
		t.Fatalf("client assertion does not verify: %v", err)
	}
	sum := sha256.Sum256(cert.Raw)
	if tok.Header["x5t#S256"] != base64.RawURLEncoding.EncodeToString(sum[:]) || tok.Header["x5t"] == nil {
		t.Errorf("thumbprint headers = %v", tok.Header)
	}
	if got, _ := o.ForUser(tenantA, rita).Token(context.Background()); got != "graph-token" {
		t.Errorf("cached token = %q", got)
	}
}

func TestNewOBOCertificateValidates(t *testing.T) {
	ecPath := filepath.Join(t.TempDir(), "ec.pem")
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "ec"}, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	kd, _ := x509.MarshalPKCS8PrivateKey(key)
	_ = os.WriteFile(ecPath, append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd})...), 0o600)
	tests := []struct {
		name, path, want string
	}{
		{"missing file", filepath.Join(t.TempDir(), "nope.pem"), "read certificate"},
		{"EC key", ecPath, "RSA"},
		{"neither secret nor certificate", "", "client secret or a certificate path"},
	}
	for _, tt := range tests {
		_, err := NewOBO(OBOConfig{TenantID: tenantA, ClientID: appID, CertificatePath: tt.path})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want it to mention %q", tt.name, err, tt.want)
		}
	}
}

// TestDevIdentitySimulatorDown: in the demo the simulator stands in for Teams SSO and Entra; when it is down
// a user's token is unavailable (ErrUnavailable), never "sign in".
func TestDevIdentitySimulatorDown(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	o, err := NewOBO(OBOConfig{TenantID: tenantA, ClientID: appID, ClientSecret: secret, AuthorityHost: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	d, err := NewDevIdentity(DevConfig{InsecureDev: true, SimulatorURL: srv.URL, OBO: o})
	if err != nil {
		t.Fatal(err)
	}
	srv.Close()
	_, err = d.ForUser(tenantA, rita).Token(context.Background())
	if !errors.Is(err, entitlement.ErrUnavailable) || errors.Is(err, entitlement.ErrSignInRequired) {
		t.Fatalf("err = %v, want ErrUnavailable only", err)
	}
}
