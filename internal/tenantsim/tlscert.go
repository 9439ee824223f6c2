package tenantsim

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"time"
)

const (
	tlsCertName = "tls-cert"
	tlsKeyName  = "tls-key"
)

// TLS returns a server TLS configuration with a self-signed certificate for
// 127.0.0.1, ::1 and localhost (created once and persisted with the state), and
// a pool that trusts it for clients. MSAL (azidentity) only accepts an https
// authority, so serve the simulator over TLS with BaseURL https://127.0.0.1:PORT
// when the production identity code is pointed at it.
func (s *Sim) TLS() (*tls.Config, *x509.CertPool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	certPEM, keyPEM := s.w.Keys[tlsCertName], s.w.Keys[tlsKeyName]
	if certPEM == "" || keyPEM == "" {
		c, k, err := selfSigned(s.baseNow())
		if err != nil {
			return nil, nil, fmt.Errorf("tenantsim: create TLS certificate: %w", err)
		}
		certPEM, keyPEM = c, k
		s.w.Keys[tlsCertName], s.w.Keys[tlsKeyName] = c, k
		s.persistLocked()
	}
	pair, err := tls.X509KeyPair([]byte(certPEM), []byte(keyPEM))
	if err != nil {
		return nil, nil, fmt.Errorf("tenantsim: load TLS certificate: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM([]byte(certPEM)) {
		return nil, nil, fmt.Errorf("tenantsim: TLS certificate is not valid PEM")
	}
	return &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}, pool, nil
}

// ServeTLS serves the simulator on srv (an unstarted httptest server whose address BaseURL names, as
// https://…) with the certificate of TLS, starts it, and returns a client that trusts it. Tests that point
// the production identity code (MSAL accepts only an https authority) at the simulator use it.
func (s *Sim) ServeTLS(srv *httptest.Server) (*http.Client, error) {
	cfg, pool, err := s.TLS()
	if err != nil {
		return nil, err
	}
	srv.Config.Handler = s.Handler()
	srv.TLS = cfg
	srv.StartTLS()
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}},
		Timeout: 10 * time.Second}, nil
}

func selfSigned(now time.Time) (string, string, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", fmt.Errorf("generate key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return "", "", fmt.Errorf("serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "AccessBot tenant simulator", Organization: []string{"AccessBot demo"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(10 * 365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return "", "", fmt.Errorf("create certificate: %w", err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return "", "", fmt.Errorf("marshal key: %w", err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})), nil
}
