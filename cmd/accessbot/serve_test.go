package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/accessbot/accessbot/internal/store"
	"github.com/accessbot/accessbot/internal/teamsfake"
	"github.com/accessbot/accessbot/internal/testkit"
)

const (
	testAppID    = "0f3a9d5e-1111-4c4c-8888-000000000abc"
	testTenantID = "11111111-1111-1111-1111-111111111111"
	testSecret   = "s3cret-value-never-logged"
	outboundTok  = "bf-outbound-token"
)

// openIDServer serves Bot Framework-style OpenID metadata and a JWKS with one key endorsed for msteams and
// one endorsed only for webchat.
type openIDServer struct {
	srv           *httptest.Server
	teamsKey, web *rsa.PrivateKey
	metadataHits  atomic.Int32
	tokenCalls    atomic.Int32
	lastTokenForm atomic.Value
	tokenSrv      *httptest.Server
}

func newOpenIDServer(t *testing.T) *openIDServer {
	t.Helper()
	o := &openIDServer{teamsKey: mustKey(t), web: mustKey(t)}
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/.well-known/openidconfiguration", func(w http.ResponseWriter, r *http.Request) {
		o.metadataHits.Add(1)
		json.NewEncoder(w).Encode(map[string]any{
			"issuer":                                "https://api.botframework.com",
			"jwks_uri":                              o.srv.URL + "/v1/.well-known/keys",
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("/v1/.well-known/keys", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]any{
			jwk("teams-key", &o.teamsKey.PublicKey, []string{"msteams", "emulator"}),
			jwk("webchat-key", &o.web.PublicKey, []string{"webchat"}),
		}})
	})
	o.srv = httptest.NewServer(mux)
	t.Cleanup(o.srv.Close)

	o.tokenSrv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/"+testTenantID+"/oauth2/v2.0/token" || r.Method != http.MethodPost {
			http.Error(w, `{"error":"invalid_request"}`, http.StatusNotFound)
			return
		}
		r.ParseForm()
		o.tokenCalls.Add(1)
		o.lastTokenForm.Store(r.PostForm.Encode())
		if r.PostForm.Get("client_id") != testAppID || r.PostForm.Get("client_secret") != testSecret ||
			r.PostForm.Get("grant_type") != "client_credentials" || r.PostForm.Get("scope") != "https://api.botframework.com/.default" {
			w.WriteHeader(http.StatusUnauthorized)
			json.NewEncoder(w).Encode(map[string]string{"error": "invalid_client"})
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"token_type": "Bearer", "expires_in": 3600, "access_token": outboundTok})
	}))
	t.Cleanup(o.tokenSrv.Close)
	return o
}

func mustKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func jwk(kid string, pub *rsa.PublicKey, endorsements []string) map[string]any {
	return map[string]any{
		"kty": "RSA", "use": "sig", "kid": kid,
		"n":            base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		"e":            base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
		"endorsements": endorsements,
	}
}

func sign(t *testing.T, key *rsa.PrivateKey, kid string, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tok.Header["kid"] = kid
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// startApp builds the app from cfg, listens and runs it until the test ends (its address is a.srv.Addr()); a
// run that ends with an error fails the test.
func startApp(t *testing.T, cfg config, log *slog.Logger) *app {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	a, err := newApp(ctx, cfg, log)
	if err != nil {
		cancel()
		t.Fatalf("newApp: %v", err)
	}
	if err := a.srv.Listen(); err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	return a
}

// TestServeAuthenticatesActivities runs the whole serve wiring (Echo server, endpoint, JWT verifier, bot,
// store, connector client, outbound token) and checks that only correctly signed activities are used.
func TestServeAuthenticatesActivities(t *testing.T) {
	oid := newOpenIDServer(t)
	conn := teamsfake.NewConnector(t)
	dataPath := filepath.Join(t.TempDir(), "bot.db")
	cfg := config{
		BotID: testAppID, BotPassword: testSecret, BotTenantID: testTenantID, BotType: botTypeSingleTenant,
		OpenIDMetadataURL: oid.srv.URL + "/v1/.well-known/openidconfiguration",
		AuthorityHost:     oid.tokenSrv.URL + "/",
		GraphBaseURL:      "http://127.0.0.1:1/v1.0", // not called by these activities
		Addr:              "127.0.0.1:0", DataPath: dataPath, LogLevel: "info", LogFormat: "text",
		ShutdownTimeout: 5 * time.Second, ReminderAfter: 24 * time.Hour,
	}
	if err := cfg.validate(); err != nil {
		t.Fatalf("config: %v", err)
	}
	var logs testkit.LogBuffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a := startApp(t, cfg, log)
	endpoint := "http://" + a.srv.Addr() + "/api/messages"

	now := time.Now()
	valid := func() jwt.MapClaims {
		return jwt.MapClaims{
			"iss": "https://api.botframework.com", "aud": testAppID, "serviceurl": conn.URL(),
			"exp": now.Add(time.Hour).Unix(), "nbf": now.Add(-time.Minute).Unix(), "iat": now.Unix(),
		}
	}
	with := func(k string, v any) jwt.MapClaims { c := valid(); c[k] = v; return c }
	hs256 := func() string {
		// The classic key-confusion attack: HMAC "signed" with the public key's bytes.
		tok := jwt.NewWithClaims(jwt.SigningMethodHS256, valid())
		tok.Header["kid"] = "teams-key"
		s, err := tok.SignedString(oid.teamsKey.PublicKey.N.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	none := func() string {
		tok := jwt.NewWithClaims(jwt.SigningMethodNone, valid())
		s, err := tok.SignedString(jwt.UnsafeAllowNoneSignatureType)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	tampered := func() string {
		s := sign(t, oid.teamsKey, "teams-key", valid())
		parts := strings.Split(s, ".")
		claims, _ := json.Marshal(with("aud", testAppID+"-other"))
		parts[1] = base64.RawURLEncoding.EncodeToString(claims)
		return strings.Join(parts, ".")
	}

	user := teamsfake.User{ID: "29:rita", Name: "Rita Requester", AADObjectID: "aaaaaaaa-0000-0000-0000-000000000001", TenantID: testTenantID, ConversationID: "a:rita-1"}
	rejected := []struct {
		name   string
		header string
	}{
		{"no token", ""},
		{"not bearer", "Basic dXNlcjpwYXNz"},
		{"expired", "Bearer " + sign(t, oid.teamsKey, "teams-key", with("exp", now.Add(-10*time.Minute).Unix()))},
		{"not yet valid", "Bearer " + sign(t, oid.teamsKey, "teams-key", with("nbf", now.Add(10*time.Minute).Unix()))},
		{"wrong audience", "Bearer " + sign(t, oid.teamsKey, "teams-key", with("aud", "someone-else"))},
		{"wrong issuer", "Bearer " + sign(t, oid.teamsKey, "teams-key", with("iss", "https://sts.windows.net/evil/"))},
		{"key not endorsed for msteams", "Bearer " + sign(t, oid.web, "webchat-key", valid())},
		{"alg none", "Bearer " + none()},
		{"HS256 with public key", "Bearer " + hs256()},
		{"tampered signature", "Bearer " + tampered()},
		{"serviceurl differs", "Bearer " + sign(t, oid.teamsKey, "teams-key", with("serviceurl", "https://smba.trafficmanager.net/amer/"))},
		{"unknown key", "Bearer " + sign(t, mustKey(t), "other-key", valid())},
	}
	for _, tc := range rejected {
		t.Run(tc.name, func(t *testing.T) {
			cl := &teamsfake.Client{Endpoint: endpoint, ServiceURL: conn.URL(), BotID: "28:" + testAppID, BotName: "AccessBot",
				Authorize: func(map[string]any) string { return tc.header }}
			resp, err := cl.Message(context.Background(), user, "help")
			if err != nil {
				t.Fatal(err)
			}
			if resp.Status != http.StatusUnauthorized {
				t.Fatalf("status = %d, want 401", resp.Status)
			}
			if n := conn.Len(); n != 0 {
				t.Fatalf("connector received %d activities after a rejected request", n)
			}
			if _, err := a.store.Conversation(context.Background(), testTenantID, user.AADObjectID); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("conversation reference stored for a rejected activity: %v", err)
			}
		})
	}
	if n := oid.tokenCalls.Load(); n != 0 {
		t.Fatalf("outbound token requested %d times for rejected activities", n)
	}

	// A correctly signed message is answered through the connector with a token from AZURE_AUTHORITY_HOST.
	cl := &teamsfake.Client{Endpoint: endpoint, ServiceURL: conn.URL(), BotID: "28:" + testAppID, BotName: "AccessBot",
		Authorize: func(map[string]any) string { return "Bearer " + sign(t, oid.teamsKey, "teams-key", valid()) }}
	resp, err := cl.Message(context.Background(), user, "help")
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != http.StatusOK {
		t.Fatalf("valid activity: status = %d, want 200", resp.Status)
	}
	reply := conn.WaitFor(t, 0, 10*time.Second, "the help card", func(a teamsfake.Activity) bool { return a.Card() != nil })
	if reply.Auth != "Bearer "+outboundTok {
		t.Fatalf("reply Authorization = %q, want the token from the authority host", reply.Auth)
	}
	if reply.ConversationID != user.ConversationID {
		t.Fatalf("reply went to %q, want %q", reply.ConversationID, user.ConversationID)
	}
	if _, err := a.store.Conversation(context.Background(), testTenantID, user.AADObjectID); err != nil {
		t.Fatalf("conversation reference not stored for an authenticated activity: %v", err)
	}

	// The same activity delivered twice is processed once.
	act := map[string]any{
		"type": "message", "id": "dup-1", "channelId": "msteams", "serviceUrl": conn.URL(), "text": "help",
		"from":         map[string]any{"id": user.ID, "name": user.Name, "aadObjectId": user.AADObjectID},
		"recipient":    map[string]any{"id": "28:" + testAppID},
		"conversation": map[string]any{"id": user.ConversationID, "conversationType": "personal", "tenantId": testTenantID},
	}
	before := conn.Len()
	for i := 0; i < 2; i++ {
		r, err := cl.Post(context.Background(), act)
		if err != nil || r.Status != http.StatusOK {
			t.Fatalf("delivery %d: status %d, err %v", i+1, r.Status, err)
		}
	}
	conn.WaitFor(t, before, 10*time.Second, "the reply to the first delivery", func(teamsfake.Activity) bool { return true })
	// The second delivery was answered after the first was committed, so no second reply can still be in flight.
	if got := conn.Len() - before; got != 1 {
		t.Fatalf("duplicate delivery produced %d replies, want 1", got)
	}

	if strings.Contains(logs.String(), testSecret) || strings.Contains(logs.String(), outboundTok) {
		t.Fatal("a secret or token appeared in the logs")
	}
	if n := oid.tokenCalls.Load(); n != 1 {
		t.Fatalf("outbound token fetched %d times, want 1 (cached)", n)
	}
	checkServeMetrics(t, "http://"+a.srv.Addr()+"/metrics", len(rejected))
}

// checkServeMetrics reads the bot's /metrics page after TestServeAuthenticatesActivities' traffic: the
// HTTP metrics keep their names, and the runtime, activity, outbound, store and outbox metrics are there.
func checkServeMetrics(t *testing.T, url string, unauthorized int) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	page := string(body)
	for _, want := range []string{
		fmt.Sprintf(`accessbot_activities_total{outcome="unauthorized",type="message"} %d`, unauthorized),
		`accessbot_activities_total{outcome="ok",type="message"} 3`,
		`accessbot_http_requests_total{method="POST",route="/api/messages",status="401"}`,
		`accessbot_outbound_requests_total{operation="POST /v3/conversations/{id}/activities",status="201",system="connector"}`,
		`accessbot_store_operation_duration_seconds_count{kind="write",op="complete turn"}`,
		"accessbot_outbox_pending ", "accessbot_outbox_dead_letters 0", "go_goroutines ", "process_cpu_seconds_total ",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", page)
	}
}
