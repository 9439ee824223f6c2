package botframework

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/infracloudio/msbotbuilder-go/schema"

	"github.com/accessbot/accessbot/internal/testkit"
)

const (
	testAppID      = "b0770000-0000-4000-8000-000000000001"
	testServiceURL = "https://smba.trafficmanager.net/amer/"
)

// signRS256 signs claims with key i of testRSAKeys under kid (no kid header when kid is empty).
func signRS256(t testing.TB, i int, kid string, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(rsaKey(t, i))
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	return s
}

// validClaims are the claims of a correct Bot Connector token at now.
func validClaims(now time.Time) jwt.MapClaims {
	return jwt.MapClaims{
		"iss":        BotFrameworkIssuer,
		"aud":        testAppID,
		"exp":        now.Add(time.Hour).Unix(),
		"nbf":        now.Add(-time.Minute).Unix(),
		"serviceurl": testServiceURL,
	}
}

func with(c jwt.MapClaims, k string, v any) jwt.MapClaims {
	out := jwt.MapClaims{}
	for kk, vv := range c {
		out[kk] = vv
	}
	if v == nil {
		delete(out, k)
	} else {
		out[k] = v
	}
	return out
}

// activityBody is the personal message fixture with a production-looking serviceUrl.
func activityBody(t *testing.T, edit func(m map[string]any)) []byte {
	t.Helper()
	raw, err := os.ReadFile("testdata/activities/message_personal.json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	m["serviceUrl"] = testServiceURL
	if edit != nil {
		edit(m)
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// standardKeys: key 0 endorsed for msteams ("k-teams"), key 1 endorsed only for skype ("k-skype").
func standardKeys(t testing.TB) []testJWK {
	return []testJWK{
		{kid: "k-teams", key: &rsaKey(t, 0).PublicKey, endorsements: []string{"msteams", "webchat"}},
		{kid: "k-skype", key: &rsaKey(t, 1).PublicKey, endorsements: []string{"skype"}},
	}
}

func TestEndpointAuthentication(t *testing.T) {
	clock := testkit.NewClock()
	now := clock.Now()
	oidc := newOIDCServer(t, standardKeys(t)...)
	logger, logs := newTestLogger()
	v, err := NewJWTVerifier(JWTConfig{AppID: testAppID, MetadataURL: oidc.metadataURL(), Now: clock.Now, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}

	pubDER, err := x509.MarshalPKIXPublicKey(&rsaKey(t, 0).PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	hsToken := func(secret []byte) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodHS256, validClaims(now))
		tok.Header["kid"] = "k-teams"
		s, err := tok.SignedString(secret)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	noneToken := func() string {
		tok := jwt.NewWithClaims(jwt.SigningMethodNone, validClaims(now))
		tok.Header["kid"] = "k-teams"
		s, err := tok.SignedString(jwt.UnsafeAllowNoneSignatureType)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	rs384 := func() string {
		tok := jwt.NewWithClaims(jwt.SigningMethodRS384, validClaims(now))
		tok.Header["kid"] = "k-teams"
		s, err := tok.SignedString(rsaKey(t, 0))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	// tampered: a valid token whose payload is swapped for one naming another serviceurl.
	tampered := func() string {
		good := signRS256(t, 0, "k-teams", validClaims(now))
		other := signRS256(t, 0, "k-teams", with(validClaims(now), "serviceurl", "https://evil.example/"))
		g, o := strings.Split(good, "."), strings.Split(other, ".")
		return g[0] + "." + o[1] + "." + g[2]
	}
	flippedSig := func() string {
		good := signRS256(t, 0, "k-teams", validClaims(now))
		parts := strings.Split(good, ".")
		sig := []byte(parts[2])
		if sig[10] == 'A' {
			sig[10] = 'B'
		} else {
			sig[10] = 'A'
		}
		return parts[0] + "." + parts[1] + "." + string(sig)
	}

	cases := []struct {
		name       string
		header     string
		edit       func(m map[string]any)
		wantStatus int
	}{
		{name: "valid token", header: "Bearer " + signRS256(t, 0, "k-teams", validClaims(now)), wantStatus: 200},
		{name: "valid, lower-case scheme, serviceurl differs only in case and trailing slash",
			header: "bearer " + signRS256(t, 0, "k-teams", with(validClaims(now), "serviceurl", "HTTPS://SMBA.trafficmanager.net/amer")), wantStatus: 200},
		{name: "expired 2 min ago is within skew", header: "Bearer " + signRS256(t, 0, "k-teams", with(validClaims(now), "exp", now.Add(-2*time.Minute).Unix())), wantStatus: 200},
		{name: "aud as array containing app id", header: "Bearer " + signRS256(t, 0, "k-teams", with(validClaims(now), "aud", []string{"other", testAppID})), wantStatus: 200},
		{name: "no token", header: "", wantStatus: 401},
		{name: "basic auth", header: "Basic dXNlcjpwYXNz", wantStatus: 401},
		{name: "bearer without token", header: "Bearer ", wantStatus: 401},
		{name: "garbage token", header: "Bearer not.a.jwt", wantStatus: 401},
		{name: "expired", header: "Bearer " + signRS256(t, 0, "k-teams", with(validClaims(now), "exp", now.Add(-10*time.Minute).Unix())), wantStatus: 401},
		{name: "no exp", header: "Bearer " + signRS256(t, 0, "k-teams", with(validClaims(now), "exp", nil)), wantStatus: 401},
		{name: "not yet valid", header: "Bearer " + signRS256(t, 0, "k-teams", with(validClaims(now), "nbf", now.Add(10*time.Minute).Unix())), wantStatus: 401},
		{name: "wrong audience", header: "Bearer " + signRS256(t, 0, "k-teams", with(validClaims(now), "aud", "another-app")), wantStatus: 401},
		{name: "no audience", header: "Bearer " + signRS256(t, 0, "k-teams", with(validClaims(now), "aud", nil)), wantStatus: 401},
		{name: "wrong issuer", header: "Bearer " + signRS256(t, 0, "k-teams", with(validClaims(now), "iss", "https://sts.windows.net/evil/")), wantStatus: 401},
		{name: "key not endorsed for msteams", header: "Bearer " + signRS256(t, 1, "k-skype", validClaims(now)), wantStatus: 401},
		{name: "alg none", header: "Bearer " + noneToken(), wantStatus: 401},
		{name: "HS256 with public key PEM as secret", header: "Bearer " + hsToken(pubPEM), wantStatus: 401},
		{name: "HS256 with public key DER as secret", header: "Bearer " + hsToken(pubDER), wantStatus: 401},
		{name: "RS384", header: "Bearer " + rs384(), wantStatus: 401},
		{name: "tampered payload", header: "Bearer " + tampered(), wantStatus: 401},
		{name: "flipped signature", header: "Bearer " + flippedSig(), wantStatus: 401},
		{name: "signed by a key not in the JWKS under a known kid", header: "Bearer " + signRS256(t, 2, "k-teams", validClaims(now)), wantStatus: 401},
		{name: "serviceurl claim differs from body", header: "Bearer " + signRS256(t, 0, "k-teams", with(validClaims(now), "serviceurl", "https://evil.example/")), wantStatus: 401},
		{name: "serviceurl claim missing", header: "Bearer " + signRS256(t, 0, "k-teams", with(validClaims(now), "serviceurl", nil)), wantStatus: 401},
		{name: "serviceurl claim is a number", header: "Bearer " + signRS256(t, 0, "k-teams", with(validClaims(now), "serviceurl", 42)), wantStatus: 401},
		{name: "aud is a number", header: "Bearer " + signRS256(t, 0, "k-teams", with(validClaims(now), "aud", 7)), wantStatus: 401},
		{name: "no kid header", header: "Bearer " + signRS256(t, 0, "", validClaims(now)), wantStatus: 401},
		{name: "activity without channelId", header: "Bearer " + signRS256(t, 0, "k-teams", validClaims(now)),
			edit: func(m map[string]any) { delete(m, "channelId") }, wantStatus: 401},
		{name: "activity from another channel than the key's", header: "Bearer " + signRS256(t, 0, "k-teams", validClaims(now)),
			edit: func(m map[string]any) { m["channelId"] = "slack" }, wantStatus: 401},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := &recordingHandler{}
			ep := NewEndpoint(v, h, EndpointOptions{Logger: logger})
			req := httptest.NewRequest(http.MethodPost, "/api/messages", strings.NewReader(string(activityBody(t, tc.edit))))
			if tc.header != "" {
				req.Header.Set("Authorization", tc.header)
			}
			rec := httptest.NewRecorder()
			ep.ServeHTTP(rec, req)
			if rec.Code != tc.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", rec.Code, tc.wantStatus, rec.Body.String())
			}
			if tc.wantStatus == 401 {
				if h.count() != 0 {
					t.Fatalf("handler called %d times for a rejected request", h.count())
				}
				if got := strings.TrimSpace(rec.Body.String()); got != `{"error":"unauthorized"}` {
					t.Errorf("401 body = %s", got)
				}
				if rec.Header().Get("WWW-Authenticate") != "Bearer" {
					t.Errorf("WWW-Authenticate = %q", rec.Header().Get("WWW-Authenticate"))
				}
			} else {
				if h.count() != 1 {
					t.Fatalf("handler called %d times, want 1", h.count())
				}
				if got := strings.TrimSpace(rec.Body.String()); got != `{}` {
					t.Errorf("200 body = %s, want {}", got)
				}
			}
			if tok := strings.TrimPrefix(strings.TrimPrefix(tc.header, "Bearer "), "bearer "); len(tok) > 20 && strings.Contains(logs.String(), tok) {
				t.Errorf("token appears in the log")
			}
		})
	}
	if got := oidc.metadataCalls.Load(); got != 1 {
		t.Errorf("metadata fetched %d times, want 1 (keys cached)", got)
	}
}

func TestVerifyErrorsAreTypedAndTokenFree(t *testing.T) {
	clock := testkit.NewClock()
	oidc := newOIDCServer(t, standardKeys(t)...)
	v, err := NewJWTVerifier(JWTConfig{AppID: testAppID, MetadataURL: oidc.metadataURL(), Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	act := &schema.Activity{Type: "message", ChannelID: "msteams", ServiceURL: testServiceURL}
	tokens := map[string]string{
		"expired":      signRS256(t, 0, "k-teams", with(validClaims(clock.Now()), "exp", clock.Now().Add(-time.Hour).Unix())),
		"wrong aud":    signRS256(t, 0, "k-teams", with(validClaims(clock.Now()), "aud", "x")),
		"not endorsed": signRS256(t, 1, "k-skype", validClaims(clock.Now())),
		"unknown kid":  signRS256(t, 2, "k-unknown", validClaims(clock.Now())),
		"serviceurl":   signRS256(t, 0, "k-teams", with(validClaims(clock.Now()), "serviceurl", "https://x.example")),
	}
	for name, tok := range tokens {
		err := v.Verify(context.Background(), "Bearer "+tok, act)
		if !errors.Is(err, ErrUnauthorized) {
			t.Errorf("%s: err = %v, want ErrUnauthorized", name, err)
			continue
		}
		var ae *AuthError
		if !errors.As(err, &ae) || ae.Reason == "" {
			t.Errorf("%s: err %v is not an *AuthError with a reason", name, err)
		}
		if strings.Contains(err.Error(), tok) || strings.Contains(err.Error(), strings.Split(tok, ".")[2]) {
			t.Errorf("%s: error contains the token", name)
		}
	}
	if err := v.Verify(context.Background(), "Bearer "+signRS256(t, 0, "k-teams", validClaims(clock.Now())), nil); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("nil activity: err = %v", err)
	}
}

func TestJWTVerifierUnknownKidRefetchIsRateLimited(t *testing.T) {
	clock := testkit.NewClock()
	oidc := newOIDCServer(t, testJWK{kid: "a", key: &rsaKey(t, 0).PublicKey, endorsements: []string{"msteams"}})
	v, err := NewJWTVerifier(JWTConfig{AppID: testAppID, MetadataURL: oidc.metadataURL(), Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	act := &schema.Activity{Type: "message", ChannelID: "msteams", ServiceURL: testServiceURL}
	verify := func(keyIdx int, kid string) error {
		return v.Verify(context.Background(), "Bearer "+signRS256(t, keyIdx, kid, validClaims(clock.Now())), act)
	}
	steps := []struct {
		name      string
		advance   time.Duration
		addKey    *testJWK
		key       int
		kid       string
		wantOK    bool
		wantFetch int64
	}{
		{name: "first token fetches keys", key: 0, kid: "a", wantOK: true, wantFetch: 1},
		{name: "known kid uses the cache", advance: time.Minute, key: 0, kid: "a", wantOK: true, wantFetch: 1},
		{name: "rotated key: unknown kid triggers one refetch", advance: 10 * time.Minute,
			addKey: &testJWK{kid: "b", key: &rsaKey(t, 1).PublicKey, endorsements: []string{"msteams"}}, key: 1, kid: "b", wantOK: true, wantFetch: 2},
		{name: "another unknown kid right after is rate limited", advance: time.Minute, key: 2, kid: "c", wantOK: false, wantFetch: 2},
		{name: "and again", advance: time.Minute, key: 2, kid: "c", wantOK: false, wantFetch: 2},
		{name: "after the interval one refetch is allowed", advance: 4 * time.Minute, key: 2, kid: "c", wantOK: false, wantFetch: 3},
		{name: "then limited again", key: 2, kid: "zzz", wantOK: false, wantFetch: 3},
		{name: "known keys still work meanwhile", key: 1, kid: "b", wantOK: true, wantFetch: 3},
		{name: "keys older than 24h are refreshed", advance: 25 * time.Hour, key: 0, kid: "a", wantOK: true, wantFetch: 4},
	}
	for _, s := range steps {
		clock.Advance(s.advance)
		if s.addKey != nil {
			oidc.addKey(*s.addKey)
		}
		err := verify(s.key, s.kid)
		if s.wantOK && err != nil {
			t.Fatalf("%s: unexpected error %v", s.name, err)
		}
		if !s.wantOK && !errors.Is(err, ErrUnauthorized) {
			t.Fatalf("%s: err = %v, want ErrUnauthorized", s.name, err)
		}
		if got := oidc.jwksCalls.Load(); got != s.wantFetch {
			t.Fatalf("%s: JWKS fetched %d times, want %d", s.name, got, s.wantFetch)
		}
	}
}

func TestJWTVerifierKeyFetchFailureAndRecovery(t *testing.T) {
	clock := testkit.NewClock()
	oidc := newOIDCServer(t, standardKeys(t)...)
	oidc.setFail(true)
	v, err := NewJWTVerifier(JWTConfig{AppID: testAppID, MetadataURL: oidc.metadataURL(), Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	act := &schema.Activity{Type: "message", ChannelID: "msteams", ServiceURL: testServiceURL}
	good := func() string { return "Bearer " + signRS256(t, 0, "k-teams", validClaims(clock.Now())) }

	if err := v.Verify(context.Background(), good(), act); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("metadata down: err = %v, want ErrUnauthorized", err)
	}
	if err := v.Verify(context.Background(), good(), act); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("metadata down, second try: err = %v", err)
	}
	if got := oidc.metadataCalls.Load(); got != 1 {
		t.Fatalf("metadata fetched %d times while failing within 10s, want 1", got)
	}
	oidc.setFail(false)
	clock.Advance(11 * time.Second)
	if err := v.Verify(context.Background(), good(), act); err != nil {
		t.Fatalf("after recovery: %v", err)
	}
	// A failing 24h refresh keeps the cached keys in use.
	oidc.setFail(true)
	clock.Advance(25 * time.Hour)
	if err := v.Verify(context.Background(), good(), act); err != nil {
		t.Fatalf("stale keys should stay usable when the refresh fails: %v", err)
	}
}

func TestJWTVerifierConcurrentFirstUseFetchesOnce(t *testing.T) {
	clock := testkit.NewClock()
	oidc := newOIDCServer(t, standardKeys(t)...)
	v, err := NewJWTVerifier(JWTConfig{AppID: testAppID, MetadataURL: oidc.metadataURL(), Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	act := &schema.Activity{Type: "message", ChannelID: "msteams", ServiceURL: testServiceURL}
	header := "Bearer " + signRS256(t, 0, "k-teams", validClaims(clock.Now()))
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Go(func() { errs <- v.Verify(context.Background(), header, act) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent verify: %v", err)
		}
	}
	if got := oidc.jwksCalls.Load(); got != 1 {
		t.Fatalf("JWKS fetched %d times, want 1", got)
	}
}

func TestNewJWTVerifierConfig(t *testing.T) {
	cases := []struct {
		name    string
		cfg     JWTConfig
		wantErr string
	}{
		{name: "empty app id", cfg: JWTConfig{}, wantErr: "AppID is empty"},
		{name: "blank app id", cfg: JWTConfig{AppID: "  "}, wantErr: "AppID is empty"},
		{name: "http metadata off loopback", cfg: JWTConfig{AppID: "x", MetadataURL: "http://login.example/meta"}, wantErr: "plain http"},
		{name: "not a url", cfg: JWTConfig{AppID: "x", MetadataURL: "::"}, wantErr: "MetadataURL"},
		{name: "default metadata", cfg: JWTConfig{AppID: "x"}},
		{name: "loopback http metadata", cfg: JWTConfig{AppID: "x", MetadataURL: "http://127.0.0.1:9/meta"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v, err := NewJWTVerifier(tc.cfg)
			if tc.wantErr == "" {
				if err != nil || v == nil {
					t.Fatalf("err = %v", err)
				}
				if tc.cfg.MetadataURL == "" && v.keys.metadataURL != DefaultOpenIDMetadataURL {
					t.Errorf("metadata url = %s", v.keys.metadataURL)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestDevVerifier(t *testing.T) {
	v := NewDevVerifier(nil)
	cases := []struct {
		serviceURL string
		ok         bool
	}{
		{"http://localhost:56150/_connector", true},
		{"http://LOCALHOST:1/", true},
		{"http://127.0.0.1:3978", true},
		{"http://127.8.9.10/x", true},
		{"http://[::1]:8080/_connector", true},
		{"https://smba.trafficmanager.net/amer/", false},
		{"http://10.0.0.1/", false},
		{"http://localhost.evil.example/", false},
		{"http://127.0.0.1.nip.io/", false},
		{"http://[::ffff:10.0.0.1]/", false},
		{"ftp://localhost/", false},
		{"", false},
	}
	for _, tc := range cases {
		err := v.Verify(context.Background(), "", &schema.Activity{Type: "message", ServiceURL: tc.serviceURL})
		if tc.ok && err != nil {
			t.Errorf("%q: unexpected error %v", tc.serviceURL, err)
		}
		if !tc.ok && !errors.Is(err, ErrUnauthorized) {
			t.Errorf("%q: err = %v, want ErrUnauthorized", tc.serviceURL, err)
		}
	}
	if err := v.Verify(context.Background(), "", nil); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("nil activity: err = %v", err)
	}
}
