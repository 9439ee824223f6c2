package identity

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/accessbot/accessbot/internal/entitlement"
)

const (
	tenantA = "11111111-1111-1111-1111-111111111111"
	tenantB = "22222222-2222-2222-2222-222222222222"
	appID   = "b0770000-0000-4000-8000-000000000001"
	rita    = "aaaaaaaa-0000-0000-0000-000000000001"
	secret  = "s3cr3t-value-never-logged"
)

// jwtFor builds an unsigned JWT-shaped token with the given claims.
func jwtFor(claims map[string]any) string {
	enc := base64.RawURLEncoding
	p, _ := json.Marshal(claims)
	return enc.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT"}`)) + "." + enc.EncodeToString(p) + ".c2ln"
}

// tokenServer is a fake Entra token endpoint recording the forms it received.
type tokenServer struct {
	mu    sync.Mutex
	forms []url.Values
	paths []string
	reply func(form url.Values) (int, any)
}

func (ts *tokenServer) handler() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		ts.mu.Lock()
		ts.forms = append(ts.forms, r.PostForm)
		ts.paths = append(ts.paths, r.URL.Path)
		reply := ts.reply
		ts.mu.Unlock()
		status, body := reply(r.PostForm)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(body)
	}
}

func (ts *tokenServer) count() int {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return len(ts.forms)
}

func okToken(tok string, expires int) (int, any) {
	return 200, map[string]any{"token_type": "Bearer", "expires_in": expires, "access_token": tok}
}

func TestOBOExchangeAndCache(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	ts := &tokenServer{reply: func(url.Values) (int, any) { return okToken("graph-token-1", 3600) }}
	srv := httptest.NewServer(ts.handler())
	t.Cleanup(srv.Close)
	o, err := NewOBO(OBOConfig{TenantID: tenantA, ClientID: appID, ClientSecret: secret, AuthorityHost: srv.URL, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	src := o.ForUser(tenantA, rita)
	if _, err := src.Token(ctx); !errors.Is(err, entitlement.ErrSignInRequired) {
		t.Fatalf("before exchange: err = %v, want ErrSignInRequired", err)
	}
	assertion := jwtFor(map[string]any{"tid": tenantA, "oid": rita, "aud": "api://botid-" + appID})
	if err := o.Exchange(ctx, tenantA, rita, assertion); err != nil {
		t.Fatal(err)
	}
	f := ts.forms[0]
	want := map[string]string{
		"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "requested_token_use": "on_behalf_of",
		"assertion": assertion, "scope": GraphScope, "client_id": appID, "client_secret": secret,
	}
	for k, v := range want {
		if f.Get(k) != v {
			t.Errorf("form %s = %q, want %q", k, f.Get(k), v)
		}
	}
	if ts.paths[0] != "/"+tenantA+"/oauth2/v2.0/token" {
		t.Errorf("token path = %q", ts.paths[0])
	}
	for i := 0; i < 3; i++ {
		tok, err := src.Token(ctx)
		if err != nil || tok != "graph-token-1" {
			t.Fatalf("Token = %q, %v", tok, err)
		}
	}
	if ts.count() != 1 {
		t.Fatalf("token endpoint calls = %d, want 1 (cached)", ts.count())
	}
	if !o.Has(tenantA, rita) || o.Has(tenantA, "someone-else") {
		t.Fatalf("Has is wrong")
	}
	now = now.Add(59 * time.Minute) // within the renewal skew of the 1h token
	if _, err := src.Token(ctx); !errors.Is(err, entitlement.ErrSignInRequired) {
		t.Fatalf("expired: err = %v, want ErrSignInRequired", err)
	}
}

func TestOBOErrors(t *testing.T) {
	consent := func(url.Values) (int, any) {
		return 400, map[string]any{"error": "invalid_grant", "suberror": "consent_required", "error_codes": []int{65001},
			"error_description": "AADSTS65001: The user or administrator has not consented to use the application. Trace ID: x"}
	}
	expired := func(url.Values) (int, any) {
		return 400, map[string]any{"error": "invalid_grant", "error_codes": []int{500133}, "error_description": "AADSTS500133: Assertion is not within its valid time range."}
	}
	badClient := func(url.Values) (int, any) {
		return 401, map[string]any{"error": "invalid_client", "error_codes": []int{7000215}, "error_description": "AADSTS7000215: Invalid client secret provided."}
	}
	good := jwtFor(map[string]any{"tid": tenantA, "oid": rita})
	tests := []struct {
		name      string
		reply     func(url.Values) (int, any)
		assertion string
		is        error
		wantCalls int
		wantText  string
	}{
		{"consent required", consent, good, entitlement.ErrConsentRequired, 1, "AADSTS65001"},
		{"expired assertion", expired, good, entitlement.ErrSignInRequired, 1, "AADSTS500133"},
		{"bad client secret", badClient, good, nil, 1, "invalid_client"},
		{"Entra failing (503): an outage, not sign-in", func(url.Values) (int, any) {
			return 503, map[string]any{"error": "temporarily_unavailable", "error_description": "AADSTS90033: A transient error has occurred."}
		}, good, entitlement.ErrUnavailable, 1, "503"},
		{"Entra throttling (429): an outage, not sign-in", func(url.Values) (int, any) { return 429, map[string]any{} }, good, entitlement.ErrUnavailable, 1, "429"},
		{"token of another user", consent, jwtFor(map[string]any{"tid": tenantA, "oid": "aaaaaaaa-0000-0000-0000-000000000002"}), entitlement.ErrSignInRequired, 0, "another user"},
		{"not a JWT", consent, "opaque", entitlement.ErrSignInRequired, 0, "not a JWT"},
		{"empty", consent, "", entitlement.ErrSignInRequired, 0, "empty SSO token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := &tokenServer{reply: tt.reply}
			srv := httptest.NewServer(ts.handler())
			t.Cleanup(srv.Close)
			o, err := NewOBO(OBOConfig{TenantID: tenantA, ClientID: appID, ClientSecret: secret, AuthorityHost: srv.URL})
			if err != nil {
				t.Fatal(err)
			}
			err = o.Exchange(context.Background(), tenantA, rita, tt.assertion)
			if err == nil {
				t.Fatal("Exchange succeeded")
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Fatalf("err = %v, want %v", err, tt.is)
			}
			if (tt.is == nil || tt.is == entitlement.ErrUnavailable) && (errors.Is(err, entitlement.ErrConsentRequired) || errors.Is(err, entitlement.ErrSignInRequired)) {
				t.Fatalf("err = %v should not ask the user to act", err)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("err = %q, want it to mention %q", err, tt.wantText)
			}
			if strings.Contains(err.Error(), secret) || (tt.assertion != "" && strings.Contains(err.Error(), tt.assertion)) {
				t.Errorf("err leaks a secret or the token: %v", err)
			}
			if ts.count() != tt.wantCalls {
				t.Errorf("token endpoint calls = %d, want %d", ts.count(), tt.wantCalls)
			}
			if o.Has(tenantA, rita) {
				t.Errorf("a failed exchange cached a token")
			}
		})
	}
}

// TestOBOUnreachable: a token endpoint that refuses connections is an outage (ErrUnavailable), never a
// reason to sign in again.
func TestOBOUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	o, err := NewOBO(OBOConfig{TenantID: tenantA, ClientID: appID, ClientSecret: secret, AuthorityHost: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	srv.Close()
	err = o.Exchange(context.Background(), tenantA, rita, jwtFor(map[string]any{"tid": tenantA, "oid": rita}))
	if !errors.Is(err, entitlement.ErrUnavailable) || errors.Is(err, entitlement.ErrSignInRequired) {
		t.Fatalf("err = %v, want ErrUnavailable only", err)
	}
}

func TestNewOBOValidates(t *testing.T) {
	tests := []struct {
		cfg  OBOConfig
		want string
	}{
		{OBOConfig{ClientID: appID, ClientSecret: secret}, "tenant id"},
		{OBOConfig{TenantID: tenantA, ClientSecret: secret}, "client id"},
		{OBOConfig{TenantID: tenantA, ClientID: appID}, "client secret"},
		{OBOConfig{TenantID: tenantA, ClientID: appID, ClientSecret: secret, AuthorityHost: "http://login.example.com"}, "non-loopback"},
	}
	for _, tt := range tests {
		_, err := NewOBO(tt.cfg)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("NewOBO(%+v) err = %v, want %q", tt.cfg, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), secret) {
			t.Errorf("error leaks the secret: %v", err)
		}
	}
}

func TestAppCredentialFormPathOnLoopbackHTTP(t *testing.T) {
	ts := &tokenServer{reply: func(f url.Values) (int, any) { return okToken("app-"+f.Get("scope"), 3600) }}
	srv := httptest.NewServer(ts.handler())
	t.Cleanup(srv.Close)
	a, err := NewAppCredential(AppConfig{TenantID: tenantA, ClientID: appID, ClientSecret: secret, AuthorityHost: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := 0; i < 2; i++ {
		g, err := a.Graph().Token(ctx)
		if err != nil || g != "app-"+GraphScope {
			t.Fatalf("Graph token = %q, %v", g, err)
		}
		b, err := a.BotFramework().Token(ctx)
		if err != nil || b != "app-"+BotFrameworkScope {
			t.Fatalf("Bot Framework token = %q, %v", b, err)
		}
	}
	if ts.count() != 2 {
		t.Fatalf("token calls = %d, want 2 (one per scope, then cached)", ts.count())
	}
	if f := ts.forms[0]; f.Get("grant_type") != "client_credentials" || f.Get("client_secret") != secret || ts.paths[0] != "/"+tenantA+"/oauth2/v2.0/token" {
		t.Fatalf("form = %v path %s", f, ts.paths[0])
	}
}

// fakeEntraTLS serves OpenID metadata and a token endpoint over TLS, like a non-Microsoft authority
// (MSAL needs https and, with DisableInstanceDiscovery, asks this host only).
func fakeEntraTLS(t *testing.T, ts *tokenServer) *httptest.Server {
	t.Helper()
	var srv *httptest.Server
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/.well-known/openid-configuration"):
			tid := strings.Split(strings.Trim(r.URL.Path, "/"), "/")[0]
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]any{
				"token_endpoint":         srv.URL + "/" + tid + "/oauth2/v2.0/token",
				"authorization_endpoint": srv.URL + "/" + tid + "/oauth2/v2.0/authorize",
				"issuer":                 srv.URL + "/" + tid + "/v2.0",
				"jwks_uri":               srv.URL + "/" + tid + "/discovery/v2.0/keys",
			})
		case strings.HasSuffix(r.URL.Path, "/oauth2/v2.0/token"):
			ts.handler()(w, r)
		default:
			http.NotFound(w, r)
		}
	})
	srv = httptest.NewTLSServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestAppCredentialAzidentityAgainstNonMicrosoftAuthority(t *testing.T) {
	ts := &tokenServer{reply: func(f url.Values) (int, any) { return okToken("azid-token", 3600) }}
	srv := fakeEntraTLS(t, ts)
	certPath := writeTestCert(t)
	tests := []struct {
		name  string
		cfg   AppConfig
		check func(t *testing.T, f url.Values)
	}{
		{"client secret", AppConfig{Kind: KindSecret, ClientSecret: secret}, func(t *testing.T, f url.Values) {
			if f.Get("client_secret") != secret || f.Get("grant_type") != "client_credentials" {
				t.Errorf("form = %v", f)
			}
		}},
		{"certificate", AppConfig{Kind: KindCertificate, CertificatePath: certPath}, func(t *testing.T, f url.Values) {
			if f.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" || f.Get("client_assertion") == "" {
				t.Errorf("form = %v, want a signed client assertion", f)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			cfg.TenantID, cfg.ClientID, cfg.AuthorityHost, cfg.HTTPClient = tenantA, appID, srv.URL, srv.Client()
			a, err := NewAppCredential(cfg)
			if err != nil {
				t.Fatal(err)
			}
			tok, err := a.Graph().Token(context.Background())
			if err != nil || tok != "azid-token" {
				t.Fatalf("Token = %q, %v (instance discovery must be disabled for a non-Microsoft authority)", tok, err)
			}
			before := ts.count()
			tt.check(t, ts.forms[before-1])
			if !strings.Contains(ts.forms[before-1].Get("scope"), GraphScope) {
				t.Errorf("scope = %q", ts.forms[before-1].Get("scope"))
			}
		})
	}
}

func writeTestCert(t *testing.T) string {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "accessbot-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kd, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "cert.pem")
	data := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd})...)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestNewAppCredentialValidates(t *testing.T) {
	tests := []struct {
		name string
		cfg  AppConfig
		want string
	}{
		{"nothing", AppConfig{TenantID: tenantA, ClientID: appID}, "set a client secret"},
		{"no client id", AppConfig{TenantID: tenantA, ClientSecret: secret}, "client id is required"},
		{"no tenant", AppConfig{ClientID: appID, ClientSecret: secret}, "tenant id"},
		{"unknown kind", AppConfig{Kind: "password", TenantID: tenantA, ClientID: appID}, "not one of"},
		{"missing cert file", AppConfig{Kind: KindCertificate, TenantID: tenantA, ClientID: appID, CertificatePath: "/nonexistent/cert.pem"}, "read certificate"},
		{"workload without token file", AppConfig{Kind: KindWorkloadIdentity, TenantID: tenantA, ClientID: appID, FederatedTokenFile: ""}, "federated token file"},
		{"http authority off loopback", AppConfig{TenantID: tenantA, ClientID: appID, ClientSecret: secret, AuthorityHost: "http://login.example.com/"}, "non-loopback"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.cfg.Kind == KindWorkloadIdentity {
				t.Setenv("AZURE_FEDERATED_TOKEN_FILE", "")
			}
			_, err := NewAppCredential(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if strings.Contains(err.Error(), secret) {
				t.Fatalf("error leaks the secret: %v", err)
			}
		})
	}
}

func TestIsMicrosoftAuthority(t *testing.T) {
	for host, want := range map[string]bool{
		"https://login.microsoftonline.com/": true, "https://login.microsoftonline.us": true,
		"http://127.0.0.1:3979": false, "https://sts.contoso.example": false,
	} {
		u, _ := url.Parse(host)
		if got := IsMicrosoftAuthority(u); got != want {
			t.Errorf("IsMicrosoftAuthority(%s) = %v", host, got)
		}
	}
}

// TestSSOConfig: the resource URI, validation and the admin consent URL. The SSO wire protocol (OAuthCard,
// signin/tokenExchange, login request) is tested in internal/botframework.
func TestSSOConfig(t *testing.T) {
	cfg := SSOConfig{AppID: appID, ConnectionName: "graph-sso", SignInURL: "https://login.microsoftonline.com/x/adminconsent"}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := cfg.ResourceURI(); got != "api://botid-"+appID {
		t.Fatalf("ResourceURI = %q", got)
	}
	u, err := AdminConsentURL("", tenantA, appID)
	if err != nil || !strings.HasPrefix(u, "https://login.microsoftonline.com/"+tenantA+"/v2.0/adminconsent?") || !strings.Contains(u, "client_id="+appID) {
		t.Fatalf("AdminConsentURL = %q, %v", u, err)
	}
	if err := (SSOConfig{ConnectionName: "x"}).Validate(); err == nil {
		t.Errorf("Validate accepted a config without app id")
	}
}

func TestDevIdentity(t *testing.T) {
	var assertCalls int
	mux := http.NewServeMux()
	ts := &tokenServer{reply: func(f url.Values) (int, any) {
		c, _ := PeekClaims(f.Get("assertion"))
		return okToken("graph-for-"+c.ObjectID, 3600)
	}}
	mux.HandleFunc("/_sim/dev/assertion", func(w http.ResponseWriter, r *http.Request) {
		assertCalls++
		var body struct{ TenantID, OID string }
		_ = json.NewDecoder(r.Body).Decode(&body)
		w.Header().Set("Content-Type", "application/json")
		if body.OID == "unknown" {
			w.WriteHeader(400)
			_, _ = fmt.Fprint(w, `{"error":"user unknown does not exist"}`)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"token": jwtFor(map[string]any{"tid": body.TenantID, "oid": body.OID, "aud": "api://botid-" + appID})})
	})
	mux.HandleFunc("/"+tenantA+"/oauth2/v2.0/token", ts.handler())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	o, err := NewOBO(OBOConfig{TenantID: tenantA, ClientID: appID, ClientSecret: secret, AuthorityHost: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewDevIdentity(DevConfig{SimulatorURL: srv.URL, OBO: o}); err == nil || !strings.Contains(err.Error(), "--insecure-dev") {
		t.Fatalf("dev identity without the flag: err = %v", err)
	}
	if _, err := NewDevIdentity(DevConfig{InsecureDev: true, SimulatorURL: "http://sim.example.com:3979", OBO: o}); err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("dev identity off loopback: err = %v", err)
	}
	d, err := NewDevIdentity(DevConfig{InsecureDev: true, SimulatorURL: srv.URL, OBO: o})
	if err != nil {
		t.Fatal(err)
	}
	src := d.ForUser(tenantB, "bbbbbbbb-0000-0000-0000-000000000001")
	for i := 0; i < 2; i++ {
		tok, err := src.Token(context.Background())
		if err != nil || tok != "graph-for-bbbbbbbb-0000-0000-0000-000000000001" {
			t.Fatalf("Token = %q, %v", tok, err)
		}
	}
	if assertCalls != 1 || ts.count() != 1 {
		t.Fatalf("assertion calls = %d, token calls = %d; want 1 and 1 (then cached)", assertCalls, ts.count())
	}
	if ts.forms[0].Get("requested_token_use") != "on_behalf_of" {
		t.Fatalf("dev identity did not use the OBO exchange: %v", ts.forms[0])
	}
	if _, err := d.ForUser(tenantA, "unknown").Token(context.Background()); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("unknown user: err = %v", err)
	}
}

// userTokens is the shape bot.UserTokens expects; both delegated identities provide it.
type userTokens interface {
	ForUser(tenantID, userID string) entitlement.TokenSource
	ExchangeSSO(ctx context.Context, tenantID, userID, ssoToken string) error
}

var (
	_ userTokens = (*OBO)(nil)
	_ userTokens = (*DevIdentity)(nil)
)
