package identity

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // x5t is defined as the SHA-1 thumbprint (RFC 7515 §4.1.7); it is not used for security here
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/golang-jwt/jwt/v5"
)

// assertionLifetime is how long a signed client assertion is valid (Entra accepts up to 10 minutes ahead).
const assertionLifetime = 5 * time.Minute

// loadCertificate reads a PEM or PKCS#12 file holding the app's certificate (chain) and its private key.
func loadCertificate(path, password string) ([]*x509.Certificate, crypto.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read certificate %s: %w", path, err)
	}
	var pw []byte
	if password != "" {
		pw = []byte(password)
	}
	certs, key, err := azidentity.ParseCertificates(data, pw)
	if err != nil {
		return nil, nil, fmt.Errorf("certificate %s: expected PEM or PKCS#12 with a private key: %w", path, err)
	}
	return certs, key, nil
}

// certAssertion signs RFC 7523 client assertions (private_key_jwt) with the app's certificate, the way Entra
// expects them (as MSAL does): PS256, the certificate's SHA-256 thumbprint in x5t#S256 (and, for older
// validators, its SHA-1 thumbprint in x5t),
// aud = the token endpoint, iss = sub = the client id, a fresh jti, and a short lifetime.
type certAssertion struct {
	key      *rsa.PrivateKey
	x5t      string
	x5tS256  string
	notAfter time.Time
	clientID string
	audience string
	now      func() time.Time
}

func newCertAssertion(certs []*x509.Certificate, key crypto.PrivateKey, clientID, audience string, now func() time.Time) (*certAssertion, error) {
	if len(certs) == 0 {
		return nil, errors.New("the certificate file holds no certificate")
	}
	rk, ok := key.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("the certificate's private key is %T; Entra client assertions need an RSA key", key)
	}
	leaf := certs[0]
	pub, ok := leaf.PublicKey.(*rsa.PublicKey)
	if !ok || !pub.Equal(&rk.PublicKey) {
		return nil, errors.New("the private key does not belong to the first certificate in the file")
	}
	s1 := sha1.Sum(leaf.Raw) //nolint:gosec // see import
	s256 := sha256.Sum256(leaf.Raw)
	return &certAssertion{key: rk, x5t: base64.RawURLEncoding.EncodeToString(s1[:]), x5tS256: base64.RawURLEncoding.EncodeToString(s256[:]),
		notAfter: leaf.NotAfter, clientID: clientID, audience: audience, now: now}, nil
}

// sign returns a new client assertion.
func (c *certAssertion) sign() (string, error) {
	now := c.now()
	var jti [16]byte
	if _, err := rand.Read(jti[:]); err != nil {
		return "", fmt.Errorf("client assertion id: %w", err)
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodPS256, jwt.MapClaims{
		"aud": c.audience, "iss": c.clientID, "sub": c.clientID, "jti": hex.EncodeToString(jti[:]),
		"nbf": now.Unix(), "iat": now.Unix(), "exp": now.Add(assertionLifetime).Unix(),
	})
	tok.Header["x5t"] = c.x5t
	tok.Header["x5t#S256"] = c.x5tS256
	s, err := tok.SignedString(c.key)
	if err != nil {
		return "", fmt.Errorf("sign client assertion: %w", err)
	}
	return s, nil
}
