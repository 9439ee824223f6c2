package tenantsim

import (
	"bytes"
	"crypto/sha1" //nolint:gosec // x5t is the SHA-1 thumbprint by definition (RFC 7515 §4.1.7)
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// clientAssertionType is the only client_assertion_type Entra accepts (RFC 7523 §2.2).
const clientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// AddBotCertificate registers a certificate credential of the bot app, as uploading it to the app
// registration does: the token endpoint then accepts client assertions (private_key_jwt) signed with its
// key, named by its x5t or x5t#S256 thumbprint. Certificates are kept in memory only.
func (s *Sim) AddBotCertificate(cert *x509.Certificate) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.botCerts = append(s.botCerts, cert)
}

// clientAssertionError is an invalid_client answer.
type clientAssertionError struct {
	status int
	code   string
	aadsts int
	desc   string
}

// checkClientAssertion authenticates the bot app by an RFC 7523 client assertion, as Entra does: only over
// https; a JWT signed RS256 or PS256 by a registered certificate named in its x5t or x5t#S256 header;
// aud = this token endpoint, iss = sub = the client id, within its nbf/exp window; the certificate
// itself must not have expired. It returns the client id the assertion names (s.mu held).
func (s *Sim) checkClientAssertion(r *http.Request, tid, clientID, assertionType, assertion string) (string, *clientAssertionError) {
	bad := func(aadsts int, desc string) (string, *clientAssertionError) {
		return "", &clientAssertionError{status: http.StatusUnauthorized, code: "invalid_client", aadsts: aadsts, desc: desc}
	}
	if assertionType != clientAssertionType {
		return "", &clientAssertionError{status: http.StatusBadRequest, code: "invalid_request", aadsts: 50027,
			desc: fmt.Sprintf("client_assertion_type must be '%s'.", clientAssertionType)}
	}
	if r.TLS == nil {
		return "", &clientAssertionError{status: http.StatusBadRequest, code: "invalid_request", aadsts: 900144,
			desc: "Client assertions are accepted over https only; serve the simulator with TLS (Sim.TLS)."}
	}
	var cert *x509.Certificate
	tok, err := jwt.Parse(assertion, func(t *jwt.Token) (any, error) {
		cert = s.botCertFor(t.Header)
		if cert == nil {
			return nil, errors.New("no registered certificate matches x5t / x5t#S256")
		}
		return cert.PublicKey, nil
	}, jwt.WithValidMethods([]string{"RS256", "PS256"}), jwt.WithExpirationRequired(), jwt.WithLeeway(5*time.Minute),
		jwt.WithTimeFunc(s.baseNow))
	if err != nil {
		if cert == nil {
			return bad(700027, "Client assertion failed signature validation: the key used to sign it (x5t / x5t#S256) is not registered on application '"+BotAppID+"'.")
		}
		if errors.Is(err, jwt.ErrTokenExpired) || errors.Is(err, jwt.ErrTokenNotValidYet) {
			return bad(700024, "Client assertion is not within its valid time range.")
		}
		return bad(700027, "Client assertion failed signature validation.")
	}
	if now := s.baseNow(); now.After(cert.NotAfter) || now.Before(cert.NotBefore) {
		return bad(700027, fmt.Sprintf("Client assertion failed signature validation: the certificate with thumbprint %s expired on %s.",
			thumbprint(cert), cert.NotAfter.UTC().Format(time.RFC3339)))
	}
	claims, _ := tok.Claims.(jwt.MapClaims)
	iss, _ := claims["iss"].(string)
	sub, _ := claims["sub"].(string)
	if iss == "" || iss != sub || (clientID != "" && !strings.EqualFold(iss, clientID)) {
		return bad(700021, "Client assertion application identifier doesn't match 'client_id' parameter.")
	}
	want := s.opts.BaseURL + "/" + tid + "/oauth2/v2.0/token"
	auds, _ := claims.GetAudience()
	okAud := false
	for _, a := range auds {
		okAud = okAud || strings.EqualFold(strings.TrimRight(a, "/"), want)
	}
	if !okAud {
		return bad(700212, fmt.Sprintf("No matching federated identity record found for presented assertion audience %v; expected '%s'.", auds, want))
	}
	return iss, nil
}

// botCertFor finds the registered certificate named by a JWT header's x5t#S256 or x5t (s.mu held).
func (s *Sim) botCertFor(h map[string]any) *x509.Certificate {
	x5t := thumbBytes(h["x5t"])
	x5tS256 := thumbBytes(h["x5t#S256"])
	for _, c := range s.botCerts {
		s1 := sha1.Sum(c.Raw) //nolint:gosec // see import
		s256 := sha256.Sum256(c.Raw)
		if (x5tS256 != nil && bytes.Equal(x5tS256, s256[:])) || (x5t != nil && bytes.Equal(x5t, s1[:])) {
			return c
		}
	}
	return nil
}

// thumbBytes decodes a thumbprint header: base64url as RFC 7515 says, or standard base64 with padding as
// MSAL writes it (Entra accepts both).
func thumbBytes(v any) []byte {
	s, _ := v.(string)
	if s == "" {
		return nil
	}
	for _, enc := range []*base64.Encoding{base64.RawURLEncoding, base64.URLEncoding, base64.StdEncoding, base64.RawStdEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b
		}
	}
	return nil
}

func thumbprint(c *x509.Certificate) string {
	s1 := sha1.Sum(c.Raw) //nolint:gosec // see import
	return strings.ToUpper(fmt.Sprintf("%x", s1[:]))
}
