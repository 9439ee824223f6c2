package tenantsim

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const (
	graphResource       = "https://graph.microsoft.com"
	graphAppID          = "00000003-0000-0000-c000-000000000000"
	botFrameworkAud     = "https://api.botframework.com"
	teamsClientAppID    = "1fec8e78-bce4-4aaf-ab1b-5451cc387264"
	tokenLifetime       = time.Hour
	jwtBearerGrant      = "urn:ietf:params:oauth:grant-type:jwt-bearer"
	signingKeyName      = "signing"
	delegatedGraphScope = "EntitlementManagement.ReadWrite.All AccessReview.ReadWrite.All User.Read User.ReadBasic.All TeamsAppInstallation.ReadWriteForUser"
)

var appRoles = []string{
	"EntitlementManagement.ReadWrite.All", "User.Read.All", "User.Invite.All", "Directory.Read.All",
	"GroupMember.Read.All", "TeamsAppInstallation.ReadWriteForUser.All", "CrossTenantInformation.ReadBasic.All",
	"AppCatalog.Read.All", "RoleManagement.Read.Directory", "Team.ReadBasic.All", "AccessReview.ReadWrite.All",
	"Sites.Read.All", "Application.Read.All",
}

// loadKey loads the persisted signing key or creates one. Like Entra, one key
// signs for every tenant.
func (s *Sim) loadKey(w *world) error {
	if p, ok := w.Keys[signingKeyName]; ok {
		block, _ := pem.Decode([]byte(p))
		if block == nil {
			return errors.New("stored signing key is not PEM")
		}
		k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return fmt.Errorf("parse stored signing key: %w", err)
		}
		s.setKey(k)
		return nil
	}
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return fmt.Errorf("generate signing key: %w", err)
	}
	w.Keys[signingKeyName] = string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}))
	s.setKey(k)
	return nil
}

func (s *Sim) setKey(k *rsa.PrivateKey) {
	s.key = k
	sum := sha256.Sum256(x509.MarshalPKCS1PublicKey(&k.PublicKey))
	s.kid = base64.RawURLEncoding.EncodeToString(sum[:12])
	opts := s.tokenOptions()
	s.tokens.parser, s.tokens.check = jwt.NewParser(opts...), jwt.NewValidator(opts...)
}

func (s *Sim) issuer(tid string) string { return s.opts.BaseURL + "/" + tid + "/v2.0" }

func (s *Sim) sign(claims jwt.MapClaims) (string, error) {
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	t.Header["kid"] = s.kid
	signed, err := t.SignedString(s.key)
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	return signed, nil
}

// tokenTime is real (base) time: token lifetimes do not follow the simulated
// clock, so a client's cached token stays valid when a test advances days.
func (s *Sim) baseClaims(tid, aud string) jwt.MapClaims {
	now := s.baseNow()
	return jwt.MapClaims{
		"aud": aud, "iss": s.issuer(tid), "tid": tid,
		"iat": now.Unix(), "nbf": now.Add(-5 * time.Minute).Unix(), "exp": now.Add(tokenLifetime).Unix(),
		"uti": newID(), "ver": "2.0",
	}
}

func (s *Sim) tenantByID(id string) *tenant {
	for _, t := range s.w.Tenants {
		if strings.EqualFold(t.ID, id) {
			return t
		}
	}
	return nil
}

// tenantFromPath resolves a tenant id or one of its domain names.
func (s *Sim) tenantFromPath(v string) *tenant {
	if t := s.tenantByID(v); t != nil {
		return t
	}
	return s.tenantOfDomain(v)
}

// discoveryTenant resolves the tenant (id or domain) of a discovery URL; when there is none it answers
// invalid_tenant and returns nil.
func (s *Sim) discoveryTenant(w http.ResponseWriter, tid string) *tenant {
	s.mu.Lock()
	t := s.tenantFromPath(tid)
	s.mu.Unlock()
	if t == nil {
		s.writeAADError(w, http.StatusBadRequest, "invalid_tenant", 90002, fmt.Sprintf("Tenant '%s' not found.", tid))
	}
	return t
}

func (s *Sim) handleOpenIDConfig(w http.ResponseWriter, r *http.Request, tid string) {
	t := s.discoveryTenant(w, tid)
	if t == nil {
		return
	}
	base := s.opts.BaseURL + "/" + t.ID
	writeJSON(w, http.StatusOK, map[string]any{
		"token_endpoint":                        base + "/oauth2/v2.0/token",
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		"jwks_uri":                              base + "/discovery/v2.0/keys",
		"response_modes_supported":              []string{"query", "fragment", "form_post"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
		"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
		"issuer":                                s.issuer(t.ID),
		"request_uri_parameter_supported":       false,
		"userinfo_endpoint":                     s.graphBase() + "/oidc/userinfo",
		"authorization_endpoint":                base + "/oauth2/v2.0/authorize",
		"device_authorization_endpoint":         base + "/oauth2/v2.0/devicecode",
		"http_logout_supported":                 true,
		"frontchannel_logout_supported":         true,
		"end_session_endpoint":                  base + "/oauth2/v2.0/logout",
		"claims_supported":                      []string{"sub", "iss", "aud", "exp", "iat", "nbf", "name", "oid", "tid", "preferred_username", "upn"},
		"kerberos_endpoint":                     base + "/kerberos",
		"tenant_region_scope":                   "EU",
		"cloud_instance_name":                   "microsoftonline.com",
		"cloud_graph_host_name":                 "graph.windows.net",
		"msgraph_host":                          strings.TrimPrefix(strings.TrimPrefix(s.graphBase(), "http://"), "https://"),
	})
}

func (s *Sim) handleJWKS(w http.ResponseWriter, r *http.Request, tid string) {
	t := s.discoveryTenant(w, tid)
	if t == nil {
		return
	}
	pub := s.key.PublicKey
	writeJSON(w, http.StatusOK, map[string]any{"keys": []any{map[string]any{
		"kty": "RSA", "use": "sig", "kid": s.kid, "x5t": s.kid, "alg": "RS256",
		"n":      base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		"e":      base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
		"issuer": s.issuer(t.ID),
	}}})
}

// writeAADError answers like Entra's token endpoint.
func (s *Sim) writeAADError(w http.ResponseWriter, status int, code string, aadsts int, desc string, extra ...string) {
	trace, corr := newID(), newID()
	now := s.baseNow()
	body := map[string]any{
		"error":             code,
		"error_description": fmt.Sprintf("AADSTS%d: %s Trace ID: %s Correlation ID: %s Timestamp: %s", aadsts, desc, trace, corr, now.Format("2006-01-02 15:04:05Z")),
		"error_codes":       []int{aadsts},
		"timestamp":         now.Format("2006-01-02 15:04:05Z"),
		"trace_id":          trace,
		"correlation_id":    corr,
		"error_uri":         s.opts.BaseURL + "/error?code=" + fmt.Sprint(aadsts),
	}
	if len(extra) == 2 {
		body[extra[0]] = extra[1]
	}
	writeJSON(w, status, body)
}

// handleToken implements /{tenant}/oauth2/v2.0/token.
func (s *Sim) handleToken(w http.ResponseWriter, r *http.Request, tid string) {
	if r.Method != http.MethodPost {
		s.writeAADError(w, http.StatusMethodNotAllowed, "invalid_request", 900561, "The endpoint only accepts POST requests.")
		return
	}
	data, err := readBody(r)
	if err != nil {
		s.writeAADError(w, http.StatusBadRequest, "invalid_request", 900144, "The request body could not be read.")
		return
	}
	form, err := url.ParseQuery(string(data))
	if err != nil {
		s.writeAADError(w, http.StatusBadRequest, "invalid_request", 900144, "The request body must be application/x-www-form-urlencoded.")
		return
	}
	clientID, secret := form.Get("client_id"), form.Get("client_secret")
	if u, p, ok := r.BasicAuth(); ok {
		clientID, secret = u, p
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tenantFromPath(tid)
	if t == nil {
		s.writeAADError(w, http.StatusBadRequest, "invalid_tenant", 90002, fmt.Sprintf("Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.", tid))
		return
	}
	grant := form.Get("grant_type")
	if grant == "" {
		s.writeAADError(w, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.")
		return
	}
	if clientID == "" {
		s.writeAADError(w, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'client_id'.")
		return
	}
	if !strings.EqualFold(clientID, BotAppID) {
		s.writeAADError(w, http.StatusBadRequest, "unauthorized_client", 700016, fmt.Sprintf("Application with identifier '%s' was not found in the directory '%s'.", clientID, t.Name))
		return
	}
	switch assertion := form.Get("client_assertion"); {
	case assertion != "" && secret != "":
		s.writeAADError(w, http.StatusBadRequest, "invalid_request", 90023, "Only one client credential may be sent: 'client_assertion' or 'client_secret'.")
		return
	case assertion != "":
		if _, cerr := s.checkClientAssertion(r, tid, clientID, form.Get("client_assertion_type"), assertion); cerr != nil {
			s.writeAADError(w, cerr.status, cerr.code, cerr.aadsts, cerr.desc)
			return
		}
	case secret == "":
		s.writeAADError(w, http.StatusUnauthorized, "invalid_client", 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
		return
	case subtle.ConstantTimeCompare([]byte(secret), []byte(s.w.BotSecret)) != 1:
		s.writeAADError(w, http.StatusUnauthorized, "invalid_client", 7000215, "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.")
		return
	}
	resource, ok := parseScope(form.Get("scope"))
	if !ok {
		s.writeAADError(w, http.StatusBadRequest, "invalid_scope", 70011, fmt.Sprintf("The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid: %q.", form.Get("scope")))
		return
	}
	var claims jwt.MapClaims
	switch grant {
	case "client_credentials":
		claims = s.appClaims(t.ID, resource)
	case jwtBearerGrant:
		if form.Get("requested_token_use") != "on_behalf_of" {
			s.writeAADError(w, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'requested_token_use' with the value 'on_behalf_of'.")
			return
		}
		if resource == botFrameworkAud {
			s.writeAADError(w, http.StatusBadRequest, "invalid_scope", 70011, "The provided value for the input parameter 'scope' is not valid for on-behalf-of.")
			return
		}
		var aerr *aadErr
		claims, aerr = s.oboClaims(t, form.Get("assertion"))
		if aerr != nil {
			if aerr.suberror != "" {
				s.writeAADError(w, http.StatusBadRequest, aerr.code, aerr.aadsts, aerr.desc, "suberror", aerr.suberror)
			} else {
				s.writeAADError(w, http.StatusBadRequest, aerr.code, aerr.aadsts, aerr.desc)
			}
			return
		}
	default:
		s.writeAADError(w, http.StatusBadRequest, "unsupported_grant_type", 70003, fmt.Sprintf("The app requested an unsupported grant type '%s'.", grant))
		return
	}
	tok, err := s.sign(claims)
	if err != nil {
		s.log.Error("sign token", "err", err)
		s.writeAADError(w, http.StatusInternalServerError, "server_error", 50000, "There was an error issuing a token.")
		return
	}
	s.log.Info("token issued", "tenant", t.ID, "grant", grant, "resource", resource)
	out := map[string]any{
		"token_type": "Bearer", "expires_in": int(tokenLifetime.Seconds()), "ext_expires_in": int(tokenLifetime.Seconds()),
		"access_token": tok,
	}
	if grant == jwtBearerGrant {
		// Echo the requested scopes: MSAL treats any requested scope missing
		// from "scope" as declined and fails the request.
		out["scope"] = strings.Join(strings.Fields(form.Get("scope")), " ")
		if form.Get("client_info") == "1" {
			ci, _ := json.Marshal(map[string]string{"uid": fmt.Sprint(claims["oid"]), "utid": t.ID})
			out["client_info"] = base64.RawURLEncoding.EncodeToString(ci)
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// parseScope accepts "<resource>/.default" (plus openid/offline_access/profile,
// which MSAL adds) and returns the resource.
func parseScope(scope string) (string, bool) {
	var resource string
	for _, sc := range strings.Fields(scope) {
		switch strings.ToLower(sc) {
		case "openid", "offline_access", "profile", "email":
			continue
		}
		var res string
		switch {
		case strings.EqualFold(sc, graphResource+"/.default"), strings.EqualFold(sc, graphAppID+"/.default"),
			strings.HasPrefix(strings.ToLower(sc), graphResource+"/"):
			res = graphResource
		case strings.EqualFold(sc, botFrameworkAud+"/.default"):
			res = botFrameworkAud
		default:
			return "", false
		}
		if resource != "" && resource != res {
			return "", false
		}
		resource = res
	}
	return resource, resource != ""
}

func servicePrincipalID(tid string) string { return "5e770000-0000-4000-8000-" + tid[len(tid)-12:] }

func (s *Sim) appClaims(tid, resource string) jwt.MapClaims {
	c := s.baseClaims(tid, resource)
	sp := servicePrincipalID(tid)
	c["appid"], c["azp"], c["idtyp"], c["oid"], c["sub"] = BotAppID, BotAppID, "app", sp, sp
	if resource == graphResource {
		c["roles"] = appRoles
	}
	return c
}

type aadErr struct {
	code, desc, suberror string
	aadsts               int
}

// oboClaims validates the user assertion and returns delegated Graph claims for
// the user in tenant t.
func (s *Sim) oboClaims(t *tenant, assertion string) (jwt.MapClaims, *aadErr) {
	if assertion == "" {
		return nil, &aadErr{code: "invalid_request", aadsts: 900144, desc: "The request body must contain the following parameter: 'assertion'."}
	}
	claims, err := s.parseToken(assertion)
	if err != nil {
		if errors.Is(err, jwt.ErrTokenExpired) {
			return nil, &aadErr{code: "invalid_grant", aadsts: 500133, desc: "Assertion is not within its valid time range."}
		}
		return nil, &aadErr{code: "invalid_grant", aadsts: 50013, desc: "Assertion failed signature validation."}
	}
	aud, _ := claims["aud"].(string)
	if aud != "api://botid-"+BotAppID && aud != BotAppID {
		return nil, &aadErr{code: "invalid_grant", aadsts: 50013, desc: "Assertion audience does not match the Client app presenting the assertion. The audience in the assertion was '" + aud + "' and the expected audience is '" + BotAppID + "' or one of the Application Id URIs of this application."}
	}
	tid, _ := claims["tid"].(string)
	oid, _ := claims["oid"].(string)
	home := s.w.Users[oid]
	if home == nil || home.TenantID != tid {
		return nil, &aadErr{code: "invalid_grant", aadsts: 50034, desc: "The user account does not exist in the directory."}
	}
	u := home
	if !strings.EqualFold(tid, t.ID) {
		u = s.guestOf(t.ID, tid, oid)
		if u == nil {
			return nil, &aadErr{code: "invalid_grant", aadsts: 50020, desc: fmt.Sprintf("User account '%s' from identity provider '%s' does not exist in tenant '%s' and cannot access the application '%s' in that tenant.", home.UPN, s.issuer(tid), t.Name, BotAppID)}
		}
	}
	if !u.AccountEnabled {
		return nil, &aadErr{code: "invalid_grant", aadsts: 50057, desc: "The user account is disabled."}
	}
	if u.UserType == "Guest" && u.ExternalUserState == "PendingAcceptance" {
		return nil, &aadErr{code: "invalid_grant", aadsts: 65001, suberror: "consent_required",
			desc: fmt.Sprintf("The guest user '%s' has not yet accepted the invitation to %s (externalUserState PendingAcceptance); redeem the invitation and consent interactively first.", u.Mail, t.Name)}
	}
	if s.w.NoConsent[t.ID+"/"+u.ID] || s.w.NoConsent[tid+"/"+oid] {
		return nil, &aadErr{code: "invalid_grant", aadsts: 65001, suberror: "consent_required",
			desc: fmt.Sprintf("The user or administrator has not consented to use the application with ID '%s' named 'AccessBot'. Send an interactive authorization request for this user and resource.", BotAppID)}
	}
	c := s.baseClaims(t.ID, graphResource)
	c["appid"], c["azp"], c["idtyp"] = BotAppID, BotAppID, "user"
	c["oid"], c["sub"] = u.ID, u.ID
	c["name"], c["upn"], c["preferred_username"], c["unique_name"] = u.DisplayName, u.UPN, u.UPN, u.UPN
	c["given_name"], c["family_name"] = u.GivenName, u.Surname
	c["scp"] = delegatedGraphScope
	return c, nil
}

// guestOf finds the guest object in tenant tid for a home user.
func (s *Sim) guestOf(tid, homeTID, homeOID string) *user {
	for _, u := range s.w.Users {
		if u.TenantID == tid && u.HomeTenantID == homeTID && u.HomeUserID == homeOID {
			return u
		}
	}
	return nil
}

// devAssertion issues the user token Teams SSO would give the bot (audience
// api://botid-{appId}); only the --insecure-dev identity uses it.
func (s *Sim) devAssertion(tid, oid string) (string, error) {
	u := s.w.Users[oid]
	if u == nil || !strings.EqualFold(u.TenantID, tid) {
		return "", fmt.Errorf("user %s does not exist in tenant %s", oid, tid)
	}
	c := s.baseClaims(u.TenantID, "api://botid-"+BotAppID)
	c["azp"], c["appid"], c["idtyp"] = teamsClientAppID, teamsClientAppID, "user"
	c["oid"], c["sub"] = u.ID, u.ID
	c["name"], c["upn"], c["preferred_username"] = u.DisplayName, u.UPN, u.UPN
	c["scp"] = "access_as_user"
	return s.sign(c)
}

// parseToken verifies signature, issuer shape and lifetime (against real time).
func (s *Sim) parseToken(raw string) (jwt.MapClaims, error) {
	claims, err := s.verifyToken(raw)
	if err != nil {
		return nil, fmt.Errorf("parse token: %w", err)
	}
	tid, _ := claims["tid"].(string)
	if s.tenantByID(tid) == nil {
		return nil, fmt.Errorf("unknown tenant %q", tid)
	}
	if iss, _ := claims["iss"].(string); iss != s.issuer(tid) {
		return nil, fmt.Errorf("issuer %q does not match tenant %s", iss, tid)
	}
	return claims, nil
}

// caller is the authenticated principal of a Graph request.
type caller struct {
	TenantID  string
	OID       string
	AppOnly   bool
	Roles     []string
	Scopes    []string
	AppID     string
	UserName  string
	TokenUser *user
}

// authenticate validates the bearer token of a Graph request.
func (s *Sim) authenticate(r *http.Request) (*caller, *graphErr) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return nil, &graphErr{Status: http.StatusUnauthorized, Code: "InvalidAuthenticationToken", Message: "Access token is empty."}
	}
	raw, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || strings.TrimSpace(raw) == "" {
		return nil, &graphErr{Status: http.StatusUnauthorized, Code: "InvalidAuthenticationToken", Message: "Access token is empty."}
	}
	claims, err := s.parseToken(strings.TrimSpace(raw))
	if err != nil {
		msg := "Access token validation failure. Invalid signature or token."
		if errors.Is(err, jwt.ErrTokenExpired) {
			msg = "Lifetime validation failed, the token is expired."
		} else if errors.Is(err, jwt.ErrTokenMalformed) {
			msg = "IDX14100: JWT is not well formed, there are no dots (.)."
		}
		return nil, &graphErr{Status: http.StatusUnauthorized, Code: "InvalidAuthenticationToken", Message: msg}
	}
	aud, _ := claims["aud"].(string)
	if aud != graphResource && aud != graphAppID && aud != graphResource+"/" {
		return nil, &graphErr{Status: http.StatusUnauthorized, Code: "InvalidAuthenticationToken", Message: "Access token validation failure. Invalid audience."}
	}
	c := &caller{}
	c.TenantID, _ = claims["tid"].(string)
	c.OID, _ = claims["oid"].(string)
	c.AppID, _ = claims["appid"].(string)
	if idtyp, _ := claims["idtyp"].(string); idtyp == "app" {
		c.AppOnly = true
		if roles, ok := claims["roles"].([]any); ok {
			for _, r := range roles {
				if rs, ok := r.(string); ok {
					c.Roles = append(c.Roles, rs)
				}
			}
		}
	} else {
		scp, _ := claims["scp"].(string)
		c.Scopes = strings.Fields(scp)
		if len(c.Scopes) == 0 {
			return nil, &graphErr{Status: http.StatusUnauthorized, Code: "InvalidAuthenticationToken", Message: "Access token validation failure. The token has neither scp nor roles."}
		}
		u := s.w.Users[c.OID]
		if u == nil || u.TenantID != c.TenantID {
			return nil, &graphErr{Status: http.StatusUnauthorized, Code: "InvalidAuthenticationToken", Message: "Access token validation failure. The user in the token does not exist in the tenant."}
		}
		if !u.AccountEnabled {
			return nil, &graphErr{Status: http.StatusUnauthorized, Code: "InvalidAuthenticationToken", Message: "Access token validation failure. The user account is disabled."}
		}
		c.TokenUser = u
		c.UserName = u.DisplayName
	}
	return c, nil
}
