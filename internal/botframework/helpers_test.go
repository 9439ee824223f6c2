package botframework

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/infracloudio/msbotbuilder-go/schema"

	"github.com/accessbot/accessbot/internal/testkit"
)

// testRSAKeys are generated once per test binary; 2048 bits is the verifier's minimum.
var (
	keysOnce    sync.Once
	testRSAKeys []*rsa.PrivateKey
)

func rsaKey(t testing.TB, i int) *rsa.PrivateKey {
	t.Helper()
	keysOnce.Do(func() {
		for range 4 {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			testRSAKeys = append(testRSAKeys, k)
		}
	})
	return testRSAKeys[i]
}

// testJWK describes one key served by the fake OpenID server.
type testJWK struct {
	kid          string
	key          *rsa.PublicKey
	endorsements []string
}

// oidcServer is a local OpenID metadata + JWKS server.
type oidcServer struct {
	srv           *httptest.Server
	mu            sync.Mutex
	keys          []testJWK
	fail          bool
	metadataCalls atomic.Int64
	jwksCalls     atomic.Int64
}

func newOIDCServer(t testing.TB, keys ...testJWK) *oidcServer {
	t.Helper()
	o := &oidcServer{keys: keys}
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/.well-known/openidconfiguration", func(w http.ResponseWriter, r *http.Request) {
		o.metadataCalls.Add(1)
		o.mu.Lock()
		fail := o.fail
		o.mu.Unlock()
		if fail {
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer":                                BotFrameworkIssuer,
			"jwks_uri":                              o.srv.URL + "/v1/.well-known/keys",
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("/v1/.well-known/keys", func(w http.ResponseWriter, r *http.Request) {
		o.jwksCalls.Add(1)
		o.mu.Lock()
		defer o.mu.Unlock()
		var out []map[string]any
		for _, k := range o.keys {
			out = append(out, map[string]any{
				"kty":          "RSA",
				"use":          "sig",
				"kid":          k.kid,
				"n":            base64.RawURLEncoding.EncodeToString(k.key.N.Bytes()),
				"e":            base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.key.E)).Bytes()),
				"endorsements": k.endorsements,
			})
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": out})
	})
	o.srv = httptest.NewServer(mux)
	t.Cleanup(o.srv.Close)
	return o
}

func (o *oidcServer) metadataURL() string { return o.srv.URL + "/v1/.well-known/openidconfiguration" }

func (o *oidcServer) addKey(k testJWK) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.keys = append(o.keys, k)
}

// setKeys replaces the served key set (a signing-key rotation).
func (o *oidcServer) setKeys(keys ...testJWK) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.keys = keys
}

func (o *oidcServer) setFail(f bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.fail = f
}

func newTestLogger() (*slog.Logger, *testkit.LogBuffer) {
	buf := &testkit.LogBuffer{}
	return slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

// recordingHandler is an ActivityHandler that records the activities it receives and answers with
// a configured response.
type recordingHandler struct {
	mu    sync.Mutex
	calls []*schema.Activity
	resp  *InvokeResponse
	err   error
}

func (h *recordingHandler) OnActivity(ctx context.Context, act *schema.Activity) (*InvokeResponse, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls = append(h.calls, act)
	return h.resp, h.err
}

func (h *recordingHandler) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.calls)
}
