package identity

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// CredentialKind selects how the application authenticates.
type CredentialKind string

// Credential kinds.
const (
	KindSecret           CredentialKind = "secret"
	KindCertificate      CredentialKind = "certificate"
	KindManagedIdentity  CredentialKind = "managed-identity"
	KindWorkloadIdentity CredentialKind = "workload-identity"
)

// AppConfig configures the application credential.
type AppConfig struct {
	// Kind is secret, certificate, managed-identity or workload-identity. Empty picks secret when
	// ClientSecret is set, certificate when CertificatePath is set.
	Kind CredentialKind
	// TenantID is the app's home tenant (the resource tenant for a single-tenant bot).
	TenantID string
	// ClientID is the app (bot) id.
	ClientID string
	// ClientSecret for KindSecret.
	ClientSecret string
	// CertificatePath is a PEM or PKCS#12 file with the certificate and its private key (KindCertificate).
	CertificatePath string
	// CertificatePassword decrypts a PKCS#12 file.
	CertificatePassword string
	// ManagedIdentityClientID selects a user-assigned managed identity (empty: system-assigned).
	ManagedIdentityClientID string
	// FederatedTokenFile is the workload identity token file (default AZURE_FEDERATED_TOKEN_FILE).
	FederatedTokenFile string
	// AuthorityHost is the Entra authority (default AZURE_AUTHORITY_HOST, else login.microsoftonline.com).
	AuthorityHost string
	// HTTPClient carries token requests (default: a client with a 30 s timeout).
	HTTPClient *http.Client
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// AppConfigFromEnv fills empty fields from the environment variables azidentity uses
// (AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, AZURE_CLIENT_CERTIFICATE_PATH,
// AZURE_CLIENT_CERTIFICATE_PASSWORD, AZURE_FEDERATED_TOKEN_FILE, AZURE_AUTHORITY_HOST).
func AppConfigFromEnv(c AppConfig) AppConfig {
	set := func(p *string, env string) {
		if *p == "" {
			*p = os.Getenv(env)
		}
	}
	set(&c.TenantID, "AZURE_TENANT_ID")
	set(&c.ClientID, "AZURE_CLIENT_ID")
	set(&c.ClientSecret, "AZURE_CLIENT_SECRET")
	set(&c.CertificatePath, "AZURE_CLIENT_CERTIFICATE_PATH")
	set(&c.CertificatePassword, "AZURE_CLIENT_CERTIFICATE_PASSWORD")
	set(&c.FederatedTokenFile, "AZURE_FEDERATED_TOKEN_FILE")
	set(&c.AuthorityHost, "AZURE_AUTHORITY_HOST")
	return c
}

// AppCredential yields app-only tokens for any scope.
type AppCredential struct {
	kind      CredentialKind
	cred      azcore.TokenCredential // nil when the form-POST path is used
	form      *formClientCredentials
	authority string
}

// NewAppCredential builds the credential. It validates the configuration (which field is missing or
// wrong) and never puts the secret in an error.
func NewAppCredential(cfg AppConfig) (*AppCredential, error) {
	if cfg.Kind == "" {
		switch {
		case cfg.ClientSecret != "":
			cfg.Kind = KindSecret
		case cfg.CertificatePath != "":
			cfg.Kind = KindCertificate
		default:
			return nil, errors.New("app credential: set a client secret, a certificate path, or choose managed-identity / workload-identity")
		}
	}
	authority, au, err := normalizeAuthority(cfg.AuthorityHost)
	if err != nil {
		return nil, fmt.Errorf("app credential: %w", err)
	}
	if cfg.Kind != KindManagedIdentity {
		if !isGUIDish(cfg.TenantID) {
			return nil, fmt.Errorf("app credential: tenant id %q must be a GUID or a domain", cfg.TenantID)
		}
		if cfg.ClientID == "" {
			return nil, errors.New("app credential: client id is required")
		}
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = defaultHTTPClient()
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	copts := azcore.ClientOptions{Cloud: cloud.Configuration{ActiveDirectoryAuthorityHost: authority}, Transport: hc}
	noDiscovery := !IsMicrosoftAuthority(au)
	a := &AppCredential{kind: cfg.Kind, authority: authority}
	switch cfg.Kind {
	case KindSecret:
		if cfg.ClientSecret == "" {
			return nil, errors.New("app credential: client secret is required for kind secret")
		}
		if au.Scheme == "http" {
			// azidentity refuses http authorities; the loopback simulator gets the plain v2.0 request.
			a.form = &formClientCredentials{hc: hc, endpoint: tokenEndpoint(authority, cfg.TenantID), clientID: cfg.ClientID, secret: cfg.ClientSecret, now: now}
			return a, nil
		}
		a.cred, err = azidentity.NewClientSecretCredential(cfg.TenantID, cfg.ClientID, cfg.ClientSecret,
			&azidentity.ClientSecretCredentialOptions{ClientOptions: copts, DisableInstanceDiscovery: noDiscovery})
	case KindCertificate:
		if cfg.CertificatePath == "" {
			return nil, errors.New("app credential: certificate path is required for kind certificate")
		}
		certs, key, perr := loadCertificate(cfg.CertificatePath, cfg.CertificatePassword)
		if perr != nil {
			return nil, fmt.Errorf("app credential: %w", perr)
		}
		a.cred, err = azidentity.NewClientCertificateCredential(cfg.TenantID, cfg.ClientID, certs, key,
			&azidentity.ClientCertificateCredentialOptions{ClientOptions: copts, DisableInstanceDiscovery: noDiscovery, SendCertificateChain: true})
	case KindManagedIdentity:
		opts := &azidentity.ManagedIdentityCredentialOptions{ClientOptions: azcore.ClientOptions{Transport: hc}}
		if cfg.ManagedIdentityClientID != "" {
			opts.ID = azidentity.ClientID(cfg.ManagedIdentityClientID)
		}
		a.cred, err = azidentity.NewManagedIdentityCredential(opts)
	case KindWorkloadIdentity:
		file := cfg.FederatedTokenFile
		if file == "" {
			file = os.Getenv("AZURE_FEDERATED_TOKEN_FILE")
		}
		if file == "" {
			return nil, errors.New("app credential: workload identity needs a federated token file (AZURE_FEDERATED_TOKEN_FILE)")
		}
		a.cred, err = azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{
			ClientOptions: copts, ClientID: cfg.ClientID, TenantID: cfg.TenantID, TokenFilePath: file, DisableInstanceDiscovery: noDiscovery,
		})
	default:
		return nil, fmt.Errorf("app credential: kind %q is not one of secret, certificate, managed-identity, workload-identity", cfg.Kind)
	}
	if err != nil {
		return nil, fmt.Errorf("app credential (%s): %w", cfg.Kind, err)
	}
	return a, nil
}

// Kind returns the credential kind in use.
func (a *AppCredential) Kind() CredentialKind { return a.kind }

// TokenSource yields a token for one scope.
type TokenSource interface {
	Token(ctx context.Context) (string, error)
}

type scopedSource struct {
	a     *AppCredential
	scope string
}

// Token implements TokenSource.
func (s scopedSource) Token(ctx context.Context) (string, error) { return s.a.token(ctx, s.scope) }

// Source returns a token source for scope (for example GraphScope).
func (a *AppCredential) Source(scope string) TokenSource { return scopedSource{a: a, scope: scope} }

// Graph returns app-only Microsoft Graph tokens.
func (a *AppCredential) Graph() TokenSource { return a.Source(GraphScope) }

// BotFramework returns tokens for the Bot Framework Connector.
func (a *AppCredential) BotFramework() TokenSource { return a.Source(BotFrameworkScope) }

func (a *AppCredential) token(ctx context.Context, scope string) (string, error) {
	if a.form != nil {
		return a.form.token(ctx, scope)
	}
	tk, err := a.cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{scope}})
	if err != nil {
		return "", fmt.Errorf("app token for %s (%s): %w", scope, a.kind, err)
	}
	return tk.Token, nil
}

// formClientCredentials is the client_credentials grant as a plain form POST, cached per scope.
type formClientCredentials struct {
	hc       *http.Client
	endpoint string
	clientID string
	secret   string
	now      func() time.Time
	mu       sync.Mutex
	cache    map[string]cachedToken
}

type cachedToken struct {
	token string
	exp   time.Time
}

// expirySkew renews tokens this long before they expire.
const expirySkew = 2 * time.Minute

func (f *formClientCredentials) token(ctx context.Context, scope string) (string, error) {
	f.mu.Lock()
	if t, ok := f.cache[scope]; ok && f.now().Add(expirySkew).Before(t.exp) {
		f.mu.Unlock()
		return t.token, nil
	}
	f.mu.Unlock()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {f.clientID}, "client_secret": {f.secret}, "scope": {scope}}
	tr, err := postToken(ctx, f.hc, f.endpoint, form)
	if err != nil {
		return "", fmt.Errorf("app token for %s: %w", scope, err)
	}
	f.mu.Lock()
	if f.cache == nil {
		f.cache = map[string]cachedToken{}
	}
	f.cache[scope] = cachedToken{token: tr.AccessToken, exp: f.now().Add(tr.lifetime())}
	f.mu.Unlock()
	return tr.AccessToken, nil
}

func isGUIDish(s string) bool {
	s = strings.TrimSpace(s)
	if s == "" || strings.ContainsAny(s, "/?#% ") {
		return false
	}
	return true
}
