package main

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// identity is the local stand-in for the Bot Framework's OpenID metadata and signing key: the bot validates
// every benchmark activity against it exactly as it validates Teams' tokens. For the Node reference bot it also
// stands in for the Entra ID token endpoint (startTokenEndpoint).
type identity struct {
	key    *rsa.PrivateKey
	srv    *http.Server
	url    string
	appID  string
	login  *httptest.Server // the https token endpoint, once started
	secret string           // the client secret it accepts
}

const keyID = "bench-key"

func startIdentity(appID string) (*identity, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("identity stub: %w", err)
	}
	id := &identity{key: key, appID: appID, url: "http://" + ln.Addr().String()}
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/.well-known/openidconfiguration", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"issuer": "https://api.botframework.com",
			"jwks_uri": id.url + "/v1/.well-known/keys", "id_token_signing_alg_values_supported": []string{"RS256"}})
	})
	mux.HandleFunc("/v1/.well-known/keys", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]any{{
			"kty": "RSA", "use": "sig", "kid": keyID, "endorsements": []string{"msteams"},
			"n": base64.RawURLEncoding.EncodeToString(key.N.Bytes()),
			"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(key.E)).Bytes()),
		}}})
	})
	id.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = id.srv.Serve(ln) }()
	return id, nil
}

// close stops the stub's servers.
func (id *identity) close() {
	_ = id.srv.Close()
	if id.login != nil {
		id.login.Close()
	}
}

func (id *identity) metadataURL() string { return id.url + "/v1/.well-known/openidconfiguration" }

// token signs a Bot Framework token for serviceURL, valid for an hour (Teams' tokens also live about an hour
// and a channel reuses one for many activities; the bot validates the signature on every activity).
func (id *identity) token(serviceURL string) (string, error) {
	return id.sign(jwt.MapClaims{"iss": "https://api.botframework.com", "aud": id.appID, "serviceurl": serviceURL})
}

// sign signs claims with the stub's key, valid from a minute ago for an hour.
func (id *identity) sign(claims jwt.MapClaims) (string, error) {
	now := time.Now()
	claims["nbf"], claims["exp"], claims["iat"] = now.Add(-time.Minute).Unix(), now.Add(time.Hour).Unix(), now.Unix()
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	t.Header["kid"] = keyID
	s, err := t.SignedString(id.key)
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	return s, nil
}

// loginTenant is the tenant in the token endpoint's path (Bot Framework's default channel auth tenant).
const loginTenant = "botframework.com"

// startTokenEndpoint starts the local stand-in for Entra ID's token endpoint: OpenID configuration and a
// client-credentials grant for id.appID with a fresh secret. It serves https (MSAL accepts no other authority)
// with a self-signed certificate, written as PEM to dir/ca.pem for NODE_EXTRA_CA_CERTS. It returns the
// authority URL (https://127.0.0.1:port/botframework.com) and the certificate file.
func (id *identity) startTokenEndpoint(dir string) (authority, caFile string, err error) {
	raw := make([]byte, 24)
	if _, err := rand.Read(raw); err != nil {
		return "", "", fmt.Errorf("client secret: %w", err)
	}
	id.secret = base64.RawURLEncoding.EncodeToString(raw)
	id.login = httptest.NewUnstartedServer(http.HandlerFunc(id.serveLogin))
	id.login.Config.ReadHeaderTimeout = 5 * time.Second
	id.login.StartTLS()
	caFile = filepath.Join(dir, "ca.pem")
	cert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: id.login.Certificate().Raw})
	if err := os.WriteFile(caFile, cert, 0o600); err != nil {
		return "", "", fmt.Errorf("write the token endpoint's certificate: %w", err)
	}
	return id.login.URL + "/" + loginTenant, caFile, nil
}

// serveLogin answers MSAL: the authority's OpenID configuration, and a token for the client credentials grant.
func (id *identity) serveLogin(w http.ResponseWriter, r *http.Request) {
	base := id.login.URL + "/" + loginTenant
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/.well-known/openid-configuration"):
		_ = json.NewEncoder(w).Encode(map[string]any{"issuer": base + "/v2.0", "token_endpoint": base + "/oauth2/v2.0/token",
			"authorization_endpoint": base + "/oauth2/v2.0/authorize", "jwks_uri": base + "/discovery/v2.0/keys",
			"end_session_endpoint": base + "/oauth2/v2.0/logout"})
	case r.Method == http.MethodPost && r.URL.Path == "/"+loginTenant+"/oauth2/v2.0/token":
		if r.ParseForm() != nil || r.PostForm.Get("grant_type") != "client_credentials" ||
			r.PostForm.Get("client_id") != id.appID || r.PostForm.Get("client_secret") != id.secret {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":"invalid_client","error_description":"unknown client or wrong secret"}`)
			return
		}
		tok, err := id.sign(jwt.MapClaims{"aud": strings.TrimSuffix(r.PostForm.Get("scope"), "/.default"),
			"iss": base + "/v2.0", "appid": id.appID})
		if err != nil {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"token_type": "Bearer", "expires_in": 3600, "ext_expires_in": 3600, "access_token": tok})
	default:
		http.NotFound(w, r)
	}
}

// connector is the local stand-in for the Bot Connector: it accepts every send, reply, update and
// conversation creation, and counts them.
type connector struct {
	srv   *http.Server
	url   string
	calls atomic.Int64
	seq   atomic.Int64
}

func startConnector() (*connector, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("connector stub: %w", err)
	}
	c := &connector{url: "http://" + ln.Addr().String() + "/_connector/"}
	c.srv = &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.calls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		n := c.seq.Add(1)
		switch r.Method {
		case http.MethodPost:
			w.WriteHeader(http.StatusCreated)
			fmt.Fprintf(w, `{"id":"bench-%d"}`, n)
		case http.MethodGet:
			fmt.Fprint(w, `{"id":"29:member","name":"Member"}`)
		default:
			fmt.Fprintf(w, `{"id":"bench-%d"}`, n)
		}
	})}
	go func() { _ = c.srv.Serve(ln) }()
	return c, nil
}
