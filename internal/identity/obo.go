package identity

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/accessbot/accessbot/internal/entitlement"
)

// OBOConfig configures the on-behalf-of exchange.
type OBOConfig struct {
	// TenantID is the tenant whose Graph the user acts in (the resource tenant). Guests' home-tenant SSO
	// tokens are exchanged there too.
	TenantID string
	// ClientID is the bot app's client id. The app authenticates with ClientSecret, or — when that is empty —
	// with a client assertion (RFC 7523) signed by the certificate in CertificatePath (PEM or PKCS#12 with
	// an RSA key; CertificatePassword decrypts a PKCS#12 file), as deployments with BOT_CERTIFICATE_PATH do.
	ClientID            string
	ClientSecret        string
	CertificatePath     string
	CertificatePassword string
	// AuthorityHost as for AppConfig (default AZURE_AUTHORITY_HOST or login.microsoftonline.com).
	AuthorityHost string
	// Scope requested (default GraphScope).
	Scope string
	// HTTPClient carries token requests (default: a client with a 30 s timeout).
	HTTPClient *http.Client
	// Logger receives one line per exchange (never the tokens). Default: discard.
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// OBO exchanges users' SSO tokens for Graph tokens and caches them per user until they expire.
type OBO struct {
	endpoint string
	clientID string
	secret   string
	cert     *certAssertion
	scope    string
	hc       *http.Client
	log      *slog.Logger
	now      func() time.Time

	mu        sync.Mutex
	cache     map[string]cachedToken // key: tenant/oid (lower case)
	nextSweep int                    // cache size at which expired tokens are dropped next
}

// oboSweepMin is the smallest cache size at which Exchange drops expired tokens.
const oboSweepMin = 256

// NewOBO validates the configuration and builds the exchanger.
func NewOBO(cfg OBOConfig) (*OBO, error) {
	switch {
	case !isGUIDish(cfg.TenantID):
		return nil, fmt.Errorf("on-behalf-of: tenant id %q must be a GUID or a domain", cfg.TenantID)
	case cfg.ClientID == "":
		return nil, errors.New("on-behalf-of: client id is required")
	case cfg.ClientSecret == "" && cfg.CertificatePath == "":
		return nil, errors.New("on-behalf-of: a client secret or a certificate path is required")
	}
	authority, _, err := normalizeAuthority(cfg.AuthorityHost)
	if err != nil {
		return nil, fmt.Errorf("on-behalf-of: %w", err)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	var cert *certAssertion
	if cfg.ClientSecret == "" {
		certs, key, err := loadCertificate(cfg.CertificatePath, cfg.CertificatePassword)
		if err != nil {
			return nil, fmt.Errorf("on-behalf-of: %w", err)
		}
		if cert, err = newCertAssertion(certs, key, cfg.ClientID, tokenEndpoint(authority, cfg.TenantID), cfg.Now); err != nil {
			return nil, fmt.Errorf("on-behalf-of: certificate %s: %w", cfg.CertificatePath, err)
		}
	}
	o := &OBO{
		cert:     cert,
		endpoint: tokenEndpoint(authority, cfg.TenantID),
		clientID: cfg.ClientID,
		secret:   cfg.ClientSecret,
		scope:    cfg.Scope,
		hc:       cfg.HTTPClient,
		log:      cfg.Logger,
		now:      cfg.Now,
		cache:    map[string]cachedToken{},
	}
	if o.scope == "" {
		o.scope = GraphScope
	}
	if o.hc == nil {
		o.hc = defaultHTTPClient()
	}
	if o.log == nil {
		o.log = slog.New(slog.DiscardHandler)
	}
	if cert != nil && !o.now().Before(cert.notAfter) {
		o.log.Error("the on-behalf-of certificate has expired; Entra will refuse it", "not_after", cert.notAfter)
	}
	return o, nil
}

func userKey(tenantID, oid string) string {
	return strings.ToLower(strings.TrimSpace(tenantID)) + "/" + strings.ToLower(strings.TrimSpace(oid))
}

// Claims are the (unverified) identity claims of a JWT.
type Claims struct {
	TenantID string `json:"tid"`
	ObjectID string `json:"oid"`
	Audience string `json:"aud"`
	Name     string `json:"name"`
	Expires  int64  `json:"exp"`
}

// PeekClaims decodes a JWT's payload without verifying it. Use it only to route or key data for a
// token that will be verified by its consumer (here: Entra verifies the SSO assertion during the
// exchange).
func PeekClaims(token string) (Claims, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return Claims{}, errors.New("token is not a JWT (expected three dot-separated parts)")
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return Claims{}, fmt.Errorf("token payload is not base64url: %w", err)
	}
	var c Claims
	if err := json.Unmarshal(raw, &c); err != nil {
		return Claims{}, fmt.Errorf("token payload is not JSON: %w", err)
	}
	return c, nil
}

// Exchange trades the user's SSO token (assertion) for a Graph token and caches it for the user
// identified by the activity (tenantID = conversation tenant, oid = from.aadObjectId). The assertion
// must belong to that user: a token for someone else is refused. Consent problems match
// entitlement.ErrConsentRequired; an expired or unusable assertion matches entitlement.ErrSignInRequired.
func (o *OBO) Exchange(ctx context.Context, tenantID, oid, assertion string) error {
	if strings.TrimSpace(assertion) == "" {
		return fmt.Errorf("on-behalf-of: empty SSO token: %w", entitlement.ErrSignInRequired)
	}
	if tenantID == "" || oid == "" {
		return errors.New("on-behalf-of: the activity has no tenant id or aadObjectId")
	}
	c, err := PeekClaims(assertion)
	if err != nil {
		return fmt.Errorf("on-behalf-of: SSO token: %v: %w", err, entitlement.ErrSignInRequired)
	}
	if !strings.EqualFold(c.ObjectID, oid) || !strings.EqualFold(c.TenantID, tenantID) {
		o.log.Warn("SSO token does not belong to the acting user", "activity_tenant", tenantID, "activity_oid", oid, "token_tenant", c.TenantID, "token_oid", c.ObjectID)
		return fmt.Errorf("on-behalf-of: the SSO token belongs to another user: %w", entitlement.ErrSignInRequired)
	}
	form := url.Values{
		"grant_type":          {"urn:ietf:params:oauth:grant-type:jwt-bearer"},
		"client_id":           {o.clientID},
		"assertion":           {assertion},
		"scope":               {o.scope},
		"requested_token_use": {"on_behalf_of"},
	}
	if err := o.authenticate(form); err != nil {
		return fmt.Errorf("on-behalf-of exchange for %s: %w", oid, err)
	}
	tr, err := postToken(ctx, o.hc, o.endpoint, form)
	if err != nil {
		var ae *AADError
		if errors.As(err, &ae) {
			o.log.Warn("on-behalf-of exchange failed", "tenant", tenantID, "oid", oid, "status", ae.Status, "error", ae.Code, "suberror", ae.SubError, "codes", ae.ErrorCodes)
		}
		return fmt.Errorf("on-behalf-of exchange for %s: %w", oid, err)
	}
	o.mu.Lock()
	o.cache[userKey(tenantID, oid)] = cachedToken{token: tr.AccessToken, exp: o.now().Add(tr.lifetime())}
	o.sweepLocked()
	o.mu.Unlock()
	o.log.Info("on-behalf-of token cached", "tenant", tenantID, "oid", oid, "expires_in", tr.lifetime().String())
	return nil
}

// authenticate adds the app's credential to a token request: the client secret, or a client assertion
// signed with the certificate.
func (o *OBO) authenticate(form url.Values) error {
	if o.cert == nil {
		form.Set("client_secret", o.secret)
		return nil
	}
	a, err := o.cert.sign()
	if err != nil {
		return err
	}
	form.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
	form.Set("client_assertion", a)
	return nil
}

// sweepLocked drops expired tokens once the cache has doubled since the last sweep (and holds at least
// oboSweepMin), so memory follows the users active within a token lifetime at amortized O(1) per exchange.
func (o *OBO) sweepLocked() {
	if len(o.cache) < max(o.nextSweep, oboSweepMin) {
		return
	}
	now := o.now()
	for k, t := range o.cache {
		if !now.Add(expirySkew).Before(t.exp) {
			delete(o.cache, k)
		}
	}
	o.nextSweep = 2 * len(o.cache)
}

// Has reports whether a usable Graph token is cached for the user.
func (o *OBO) Has(tenantID, oid string) bool {
	_, err := o.cached(tenantID, oid)
	return err == nil
}

func (o *OBO) cached(tenantID, oid string) (string, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	k := userKey(tenantID, oid)
	t, ok := o.cache[k]
	if !ok {
		return "", entitlement.ErrSignInRequired
	}
	if !o.now().Add(expirySkew).Before(t.exp) {
		delete(o.cache, k)
		return "", entitlement.ErrSignInRequired
	}
	return t.token, nil
}

// UserSource is the delegated token source of one user.
type UserSource struct {
	o           *OBO
	tenant, oid string
}

// ForUser returns the token source of the user (activity tenant + aadObjectId). Token returns the cached
// Graph token, or an error matching entitlement.ErrSignInRequired when there is none: the bot then asks
// for SSO (OAuthCard / login request) and calls Exchange with the token Teams sends.
func (o *OBO) ForUser(tenantID, oid string) entitlement.TokenSource {
	return UserSource{o: o, tenant: tenantID, oid: oid}
}

// ExchangeSSO is Exchange under the name the bot's UserTokens interface uses.
func (o *OBO) ExchangeSSO(ctx context.Context, tenantID, oid, ssoToken string) error {
	return o.Exchange(ctx, tenantID, oid, ssoToken)
}

// Token implements entitlement.TokenSource.
func (s UserSource) Token(context.Context) (string, error) {
	t, err := s.o.cached(s.tenant, s.oid)
	if err != nil {
		return "", fmt.Errorf("no delegated token for %s: %w", s.oid, err)
	}
	return t, nil
}
