package tenantsim

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func claimsOf(t *testing.T, tok string) jwt.MapClaims {
	t.Helper()
	c := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(tok, c); err != nil {
		t.Fatalf("parse %q: %v", tok, err)
	}
	return c
}

func TestOpenIDConfigurationAndJWKS(t *testing.T) {
	e := newEnv(t)
	for _, tid := range []string{ContosoTenantID, FabrikamTenantID, NorthwindTenantID, "contoso.onmicrosoft.com"} {
		r := e.do("GET", "/"+tid+"/v2.0/.well-known/openid-configuration", "", nil)
		wantStatus(t, r, 200)
		for _, k := range []string{"issuer", "token_endpoint", "authorization_endpoint", "jwks_uri"} {
			if !strings.HasPrefix(str(r.body[k]), e.base+"/") {
				t.Errorf("%s: %s = %q, want under %s", tid, k, r.body[k], e.base)
			}
		}
		if !strings.HasSuffix(str(r.body["token_endpoint"]), "/oauth2/v2.0/token") {
			t.Errorf("token_endpoint %q", r.body["token_endpoint"])
		}
	}
	r := e.do("GET", "/"+ContosoTenantID+"/discovery/v2.0/keys", "", nil)
	wantStatus(t, r, 200)
	keys := r.body["keys"].([]any)
	k := keys[0].(map[string]any)
	if k["kty"] != "RSA" || str(k["kid"]) == "" || str(k["n"]) == "" || k["e"] != "AQAB" {
		t.Fatalf("jwk: %v", k)
	}
	r = e.do("GET", "/44444444-4444-4444-4444-444444444444/v2.0/.well-known/openid-configuration", "", nil)
	wantStatus(t, r, 400)
	if !strings.Contains(str(r.body["error_description"]), "AADSTS90002") {
		t.Fatalf("unknown tenant: %s", r.raw)
	}
}

func TestClientCredentials(t *testing.T) {
	e := newEnv(t)
	secret := e.sim.Info().BotClientSecret
	tests := []struct {
		name, tenant, clientID, secret, scope, grant string
		status                                       int
		errCode                                      string
		aadsts                                       string
		aud                                          string
	}{
		{"graph", ContosoTenantID, BotAppID, secret, "https://graph.microsoft.com/.default", "client_credentials", 200, "", "", graphResource},
		{"graph with msal extras", ContosoTenantID, BotAppID, secret, "https://graph.microsoft.com/.default openid offline_access profile", "client_credentials", 200, "", "", graphResource},
		{"bot framework", ContosoTenantID, BotAppID, secret, "https://api.botframework.com/.default", "client_credentials", 200, "", "", botFrameworkAud},
		{"fabrikam tenant", FabrikamTenantID, BotAppID, secret, "https://graph.microsoft.com/.default", "client_credentials", 200, "", "", graphResource},
		{"wrong secret", ContosoTenantID, BotAppID, "nope", "https://graph.microsoft.com/.default", "client_credentials", 401, "invalid_client", "AADSTS7000215", ""},
		{"unknown app", ContosoTenantID, "00000000-0000-0000-0000-000000000009", secret, "https://graph.microsoft.com/.default", "client_credentials", 400, "unauthorized_client", "AADSTS700016", ""},
		{"bad scope", ContosoTenantID, BotAppID, secret, "https://example.com/.default", "client_credentials", 400, "invalid_scope", "AADSTS70011", ""},
		{"bad grant", ContosoTenantID, BotAppID, secret, "https://graph.microsoft.com/.default", "password", 400, "unsupported_grant_type", "AADSTS70003", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.form("/"+tc.tenant+"/oauth2/v2.0/token", url.Values{"grant_type": {tc.grant}, "client_id": {tc.clientID},
				"client_secret": {tc.secret}, "scope": {tc.scope}})
			wantStatus(t, r, tc.status)
			if tc.status != 200 {
				if r.body["error"] != tc.errCode || !strings.HasPrefix(str(r.body["error_description"]), tc.aadsts+":") {
					t.Fatalf("error = %v / %v", r.body["error"], r.body["error_description"])
				}
				if strings.Contains(r.raw, secret) {
					t.Fatal("secret leaked into error")
				}
				if codes, _ := r.body["error_codes"].([]any); len(codes) != 1 {
					t.Fatalf("error_codes: %v", r.body["error_codes"])
				}
				return
			}
			if r.body["token_type"] != "Bearer" || r.body["expires_in"] == nil {
				t.Fatalf("token response: %s", r.raw)
			}
			c := claimsOf(t, str(r.body["access_token"]))
			if c["aud"] != tc.aud || c["tid"] != tc.tenant || c["idtyp"] != "app" || c["appid"] != BotAppID {
				t.Fatalf("claims: %v", c)
			}
			if c["iss"] != e.base+"/"+tc.tenant+"/v2.0" {
				t.Fatalf("iss %v", c["iss"])
			}
			if tc.aud == graphResource {
				roles := c["roles"].([]any)
				found := false
				for _, r := range roles {
					found = found || r == "EntitlementManagement.ReadWrite.All"
				}
				if !found {
					t.Fatalf("roles %v", roles)
				}
			}
		})
	}
}

func TestOnBehalfOf(t *testing.T) {
	e := newEnv(t)
	rita := e.assertion(ContosoTenantID, UserRita)
	ac := claimsOf(t, rita)
	if ac["aud"] != "api://botid-"+BotAppID || ac["oid"] != UserRita {
		t.Fatalf("assertion claims %v", ac)
	}
	r := e.obo(ContosoTenantID, rita)
	wantStatus(t, r, 200)
	c := claimsOf(t, str(r.body["access_token"]))
	if c["aud"] != graphResource || c["oid"] != UserRita || c["tid"] != ContosoTenantID || c["upn"] != "rita@contoso.example" ||
		c["name"] != "Rita Requester" || !strings.Contains(str(c["scp"]), "EntitlementManagement.ReadWrite.All") || c["idtyp"] != "user" {
		t.Fatalf("obo claims %v", c)
	}

	t.Run("guest without account in Contoso", func(t *testing.T) {
		r := e.obo(ContosoTenantID, e.assertion(FabrikamTenantID, UserGus))
		wantStatus(t, r, 400)
		if r.body["error"] != "invalid_grant" || !strings.HasPrefix(str(r.body["error_description"]), "AADSTS50020:") {
			t.Fatalf("%s", r.raw)
		}
	})
	t.Run("home tenant obo", func(t *testing.T) {
		r := e.obo(FabrikamTenantID, e.assertion(FabrikamTenantID, UserGus))
		wantStatus(t, r, 200)
		if c := claimsOf(t, str(r.body["access_token"])); c["tid"] != FabrikamTenantID || c["oid"] != UserGus {
			t.Fatalf("claims %v", c)
		}
	})
	t.Run("wrong audience", func(t *testing.T) {
		r := e.obo(ContosoTenantID, e.appToken())
		wantStatus(t, r, 400)
		if r.body["error"] != "invalid_grant" || !strings.HasPrefix(str(r.body["error_description"]), "AADSTS50013:") {
			t.Fatalf("%s", r.raw)
		}
	})
	t.Run("garbage assertion", func(t *testing.T) {
		r := e.obo(ContosoTenantID, "abc.def.ghi")
		wantStatus(t, r, 400)
		if r.body["error"] != "invalid_grant" {
			t.Fatalf("%s", r.raw)
		}
	})
	t.Run("consent required", func(t *testing.T) {
		sw := e.do("POST", "/_sim/consent", "", map[string]any{"tenantId": ContosoTenantID, "oid": UserMegan, "consented": false})
		wantStatus(t, sw, 200)
		r := e.obo(ContosoTenantID, e.assertion(ContosoTenantID, UserMegan))
		wantStatus(t, r, 400)
		if r.body["error"] != "invalid_grant" || r.body["suberror"] != "consent_required" ||
			!strings.HasPrefix(str(r.body["error_description"]), "AADSTS65001:") {
			t.Fatalf("%s", r.raw)
		}
		e.do("POST", "/_sim/consent", "", map[string]any{"tenantId": ContosoTenantID, "oid": UserMegan, "consented": true})
		wantStatus(t, e.obo(ContosoTenantID, e.assertion(ContosoTenantID, UserMegan)), 200)
	})
	t.Run("expired assertion", func(t *testing.T) {
		old := e.assertion(ContosoTenantID, UserRita)
		e.clock.mu.Lock()
		e.clock.t = e.clock.t.Add(2 * time.Hour)
		e.clock.mu.Unlock()
		defer func() {
			e.clock.mu.Lock()
			e.clock.t = baseTime
			e.clock.mu.Unlock()
		}()
		r := e.obo(ContosoTenantID, old)
		wantStatus(t, r, 400)
		if !strings.HasPrefix(str(r.body["error_description"]), "AADSTS500133:") {
			t.Fatalf("%s", r.raw)
		}
	})
}

func TestGraphTokenValidation(t *testing.T) {
	e := newEnv(t)
	botToken := e.form("/"+ContosoTenantID+"/oauth2/v2.0/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {BotAppID},
		"client_secret": {e.sim.Info().BotClientSecret}, "scope": {"https://api.botframework.com/.default"}}).body["access_token"].(string)
	app := e.appToken()
	tampered := app[:len(app)-4] + "AAAA"
	tests := []struct {
		name, token, msg string
	}{
		{"no token", "", "Access token is empty."},
		{"malformed", "not-a-jwt", "IDX14100"},
		{"bad signature", tampered, "validation failure"},
		{"wrong audience", botToken, "Invalid audience"},
		{"user assertion is not a graph token", e.assertion(ContosoTenantID, UserRita), "Invalid audience"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("GET", em+"accessPackages", tc.token, nil)
			wantGraphError(t, r, 401, "InvalidAuthenticationToken")
			if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer ") {
				t.Fatalf("WWW-Authenticate %q", r.header.Get("WWW-Authenticate"))
			}
			if !strings.Contains(str(r.body["error"].(map[string]any)["message"]), tc.msg) {
				t.Fatalf("message: %s", r.raw)
			}
		})
	}
	t.Run("expired", func(t *testing.T) {
		// Used once while valid, so its verified signature is remembered: the lifetime is still checked.
		wantStatus(t, e.do("GET", em+"accessPackages", app, nil), 200)
		e.clock.mu.Lock()
		e.clock.t = baseTime.Add(3 * time.Hour)
		e.clock.mu.Unlock()
		defer func() { e.clock.mu.Lock(); e.clock.t = baseTime; e.clock.mu.Unlock() }()
		r := e.do("GET", em+"accessPackages", app, nil)
		wantGraphError(t, r, 401, "InvalidAuthenticationToken")
		if !strings.Contains(r.raw, "expired") {
			t.Fatalf("%s", r.raw)
		}
	})
	t.Run("advancing the simulated clock keeps tokens valid", func(t *testing.T) {
		e.sim.Advance(48 * time.Hour)
		wantStatus(t, e.do("GET", em+"accessPackages", app, nil), 200)
	})
}
