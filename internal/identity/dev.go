package identity

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/netx"
)

// DevConfig configures the development identity.
type DevConfig struct {
	// InsecureDev must be true (the --insecure-dev flag); otherwise NewDevIdentity refuses.
	InsecureDev bool
	// SimulatorURL is the simulator root (loopback only), e.g. http://127.0.0.1:3979.
	SimulatorURL string
	// OBO exchanges the assertion against the simulator's token endpoint.
	OBO *OBO
	// HTTPClient carries simulator requests (default: a client with a 30 s timeout).
	HTTPClient *http.Client
	// Logger (default discard).
	Logger *slog.Logger
}

// DevIdentity stands in for Teams SSO in --insecure-dev mode: it asks the simulator for the user
// assertion Teams would have sent for the activity's tenant + aadObjectId, then does the normal
// on-behalf-of exchange. It exists so the Agents Playground (which has no SSO) can drive delegated
// flows, and it refuses to be built outside that mode or against a non-loopback simulator.
type DevIdentity struct {
	endpoint string
	obo      *OBO
	hc       *http.Client
	log      *slog.Logger
}

// NewDevIdentity builds the development identity; it refuses unless cfg.InsecureDev is set and the
// simulator is on loopback.
func NewDevIdentity(cfg DevConfig) (*DevIdentity, error) {
	if !cfg.InsecureDev {
		return nil, errors.New("dev identity: refused: only available with --insecure-dev")
	}
	u, err := url.Parse(cfg.SimulatorURL)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("dev identity: simulator URL %q is not an absolute http(s) URL", cfg.SimulatorURL)
	}
	if !netx.IsLoopbackHost(u.Hostname()) {
		return nil, fmt.Errorf("dev identity: refused: simulator URL %q is not on loopback", cfg.SimulatorURL)
	}
	if cfg.OBO == nil {
		return nil, errors.New("dev identity: an on-behalf-of exchanger (OBO) is required")
	}
	d := &DevIdentity{endpoint: strings.TrimRight(u.String(), "/") + "/_sim/dev/assertion", obo: cfg.OBO, hc: cfg.HTTPClient, log: cfg.Logger}
	if d.hc == nil {
		d.hc = defaultHTTPClient()
	}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	d.log.Warn("INSECURE DEV IDENTITY ENABLED: delegated tokens are minted by the simulator without Teams SSO", "simulator", u.Host)
	return d, nil
}

// Assertion fetches the SSO-like user token for tenant + oid from the simulator.
func (d *DevIdentity) Assertion(ctx context.Context, tenantID, oid string) (string, error) {
	body, _ := json.Marshal(map[string]string{"tenantId": tenantID, "oid": oid})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.endpoint, bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("dev assertion: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := d.hc.Do(req)
	if err != nil {
		// The simulator (standing in for Teams SSO and Entra) is down: an outage, not a sign-in problem.
		return "", fmt.Errorf("dev assertion from simulator: %w (%w)", entitlement.ErrUnavailable, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var out struct {
		Token       string `json:"token"`
		AccessToken string `json:"access_token"`
		Error       string `json:"error"`
	}
	_ = json.Unmarshal(raw, &out)
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
		return "", fmt.Errorf("dev assertion for %s/%s: simulator answered %d: %w", tenantID, oid, resp.StatusCode, entitlement.ErrUnavailable)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("dev assertion for %s/%s: simulator answered %d: %s", tenantID, oid, resp.StatusCode, out.Error)
	}
	tok := out.Token
	if tok == "" {
		tok = out.AccessToken
	}
	if tok == "" {
		return "", errors.New("dev assertion: simulator answer has no token")
	}
	return tok, nil
}

// SignIn obtains the user's assertion and exchanges it on-behalf-of (caching the Graph token).
func (d *DevIdentity) SignIn(ctx context.Context, tenantID, oid string) error {
	a, err := d.Assertion(ctx, tenantID, oid)
	if err != nil {
		return err
	}
	return d.obo.Exchange(ctx, tenantID, oid, a)
}

// DevSource yields the user's Graph token, signing in through the simulator when none is cached.
type DevSource struct {
	d           *DevIdentity
	tenant, oid string
}

// ForUser returns the user's delegated token source; it signs in through the simulator on demand.
func (d *DevIdentity) ForUser(tenantID, oid string) entitlement.TokenSource {
	return DevSource{d: d, tenant: tenantID, oid: oid}
}

// ExchangeSSO exchanges a token like OBO.ExchangeSSO (useful if a client does send one); an empty token
// signs in through the simulator instead.
func (d *DevIdentity) ExchangeSSO(ctx context.Context, tenantID, oid, ssoToken string) error {
	if ssoToken == "" {
		return d.SignIn(ctx, tenantID, oid)
	}
	return d.obo.Exchange(ctx, tenantID, oid, ssoToken)
}

// Token implements entitlement.TokenSource.
func (s DevSource) Token(ctx context.Context) (string, error) {
	src := s.d.obo.ForUser(s.tenant, s.oid)
	if t, err := src.Token(ctx); err == nil {
		return t, nil
	}
	if err := s.d.SignIn(ctx, s.tenant, s.oid); err != nil {
		return "", err
	}
	return src.Token(ctx)
}
