package main

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// identity is the local stand-in for the Bot Framework's OpenID metadata and signing key: the bot validates
// every benchmark activity against it exactly as it validates Teams' tokens.
type identity struct {
	key    *rsa.PrivateKey
	srv    *http.Server
	url    string
	appID  string
	tokens chan string
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

func (id *identity) metadataURL() string { return id.url + "/v1/.well-known/openidconfiguration" }

// token signs a Bot Framework token for serviceURL, valid for an hour (Teams' tokens also live about an hour
// and a channel reuses one for many activities; the bot validates the signature on every activity).
func (id *identity) token(serviceURL string) (string, error) {
	now := time.Now()
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
		"iss": "https://api.botframework.com", "aud": id.appID, "serviceurl": serviceURL,
		"nbf": now.Add(-time.Minute).Unix(), "exp": now.Add(time.Hour).Unix(), "iat": now.Unix(),
	})
	t.Header["kid"] = keyID
	s, err := t.SignedString(id.key)
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	return s, nil
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
