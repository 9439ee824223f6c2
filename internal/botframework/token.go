package botframework

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

const (
	// DefaultAuthorityHost is Microsoft Entra ID's authority host.
	DefaultAuthorityHost = "https://login.microsoftonline.com/"
	// DefaultBotScope is the scope of tokens for the Bot Connector API.
	DefaultBotScope = "https://api.botframework.com/.default"
	// MultiTenantAuthority is the tenant segment used by multi-tenant bots.
	MultiTenantAuthority = "botframework.com"
	// tokenRefreshMargin is how long before expiry a cached token is replaced.
	tokenRefreshMargin = 5 * time.Minute
	// tokenFetchTimeout bounds one token request.
	tokenFetchTimeout = 30 * time.Second
	// maxTokenBody bounds a token endpoint response.
	maxTokenBody = 64 << 10
)

// TokenSource yields a bearer token for outbound Connector calls.
type TokenSource interface {
	Token(ctx context.Context) (string, error)
}

// ClientCredentialsConfig configures ClientCredentials.
type ClientCredentialsConfig struct {
	// AuthorityHost defaults to DefaultAuthorityHost.
	AuthorityHost string
	// TenantID is the bot's tenant (SingleTenant) or MultiTenantAuthority ("botframework.com").
	TenantID string
	// ClientID is the bot's app id.
	ClientID string
	// ClientSecret is the app's client secret. It never appears in logs or errors.
	ClientSecret string
	// Scope defaults to DefaultBotScope.
	Scope string
	// HTTPClient defaults to a client with a 30 s timeout.
	HTTPClient *http.Client
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// ClientCredentials obtains tokens with the OAuth 2.0 client credentials grant from
// {AuthorityHost}/{TenantID}/oauth2/v2.0/token and caches them until 5 minutes before expiry.
// Concurrent callers share one request.
type ClientCredentials struct {
	cfg      ClientCredentialsConfig
	endpoint string
	now      func() time.Time
	logger   *slog.Logger

	mu        sync.Mutex
	token     string
	refreshAt time.Time
	expiresAt time.Time
	inflight  *tokenCall
}

type tokenCall struct {
	done  chan struct{}
	token string
	err   error
}

// TokenError is a failed token request. Description is the server's error description, shortened; it
// never contains the client secret.
type TokenError struct {
	// Status is the HTTP status of the token endpoint's answer.
	Status int
	// Code is the OAuth error code (e.g. invalid_client).
	Code string
	// Description is the first line of error_description, shortened.
	Description string
}

// Error implements error.
func (e *TokenError) Error() string {
	return statusMessage("token endpoint", e.Status, e.Code, e.Description)
}

// NewClientCredentials returns a client-credentials token source. Configuration errors (empty tenant,
// client id or secret) are reported by Token.
func NewClientCredentials(cfg ClientCredentialsConfig) *ClientCredentials {
	if cfg.AuthorityHost == "" {
		cfg.AuthorityHost = DefaultAuthorityHost
	}
	if cfg.Scope == "" {
		cfg.Scope = DefaultBotScope
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: tokenFetchTimeout}
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	endpoint := strings.TrimRight(cfg.AuthorityHost, "/") + "/" + url.PathEscape(cfg.TenantID) + "/oauth2/v2.0/token"
	return &ClientCredentials{
		cfg:      cfg,
		endpoint: endpoint,
		now:      now,
		logger:   logger.With(slog.String("component", "botframework.token"), slog.String("client_id", cfg.ClientID)),
	}
}

// Token implements TokenSource.
func (c *ClientCredentials) Token(ctx context.Context) (string, error) {
	c.mu.Lock()
	now := c.now()
	if c.token != "" && now.Before(c.refreshAt) {
		tok := c.token
		c.mu.Unlock()
		return tok, nil
	}
	call := c.inflight
	if call == nil {
		call = &tokenCall{done: make(chan struct{})}
		c.inflight = call
		go c.refresh(ctx, call)
	}
	c.mu.Unlock()

	select {
	case <-call.done:
	case <-ctx.Done():
		return "", fmt.Errorf("bot token: %w", ctx.Err())
	}
	if call.err == nil {
		return call.token, nil
	}
	// A refresh failed: a token that has not yet expired is still usable.
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token != "" && c.now().Before(c.expiresAt) {
		return c.token, nil
	}
	return "", call.err
}

// refresh fetches a token detached from the first caller's cancellation and publishes it.
func (c *ClientCredentials) refresh(ctx context.Context, call *tokenCall) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), tokenFetchTimeout)
	defer cancel()
	tok, expiresIn, err := c.fetch(ctx)

	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		call.err = fmt.Errorf("bot token for client %s: %w", c.cfg.ClientID, err)
		c.logger.Warn("bot token request failed", slog.String("err", err.Error()))
	} else {
		now := c.now()
		margin := tokenRefreshMargin
		if expiresIn <= 2*margin {
			margin = expiresIn / 2
		}
		c.token = tok
		c.expiresAt = now.Add(expiresIn)
		c.refreshAt = c.expiresAt.Add(-margin)
		call.token = tok
		c.logger.Debug("bot token obtained", slog.Duration("expires_in", expiresIn))
	}
	c.inflight = nil
	close(call.done)
}

type tokenResponse struct {
	AccessToken string          `json:"access_token"`
	TokenType   string          `json:"token_type"`
	ExpiresIn   json.RawMessage `json:"expires_in"`
}

type tokenErrorResponse struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

func (c *ClientCredentials) fetch(ctx context.Context) (string, time.Duration, error) {
	switch {
	case strings.TrimSpace(c.cfg.TenantID) == "":
		return "", 0, errors.New("TenantID is empty (use the bot's tenant id, or \"botframework.com\" for a multi-tenant bot)")
	case strings.TrimSpace(c.cfg.ClientID) == "":
		return "", 0, errors.New("ClientID is empty")
	case c.cfg.ClientSecret == "":
		return "", 0, errors.New("ClientSecret is empty")
	}
	if err := checkMetadataURL(c.endpoint); err != nil {
		return "", 0, fmt.Errorf("AuthorityHost: %w", err)
	}
	form := url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {c.cfg.ClientID},
		"client_secret": {c.cfg.ClientSecret},
		"scope":         {c.cfg.Scope},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return "", 0, fmt.Errorf("build token request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return "", 0, fmt.Errorf("post %s: %w", c.endpoint, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxTokenBody))
	if err != nil {
		return "", 0, fmt.Errorf("read token response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", 0, c.tokenError(resp.StatusCode, body)
	}
	var tr tokenResponse
	if err := json.Unmarshal(body, &tr); err != nil {
		return "", 0, fmt.Errorf("decode token response: %w", err)
	}
	if tr.AccessToken == "" {
		return "", 0, errors.New("token response has no access_token")
	}
	if tr.TokenType != "" && !strings.EqualFold(tr.TokenType, "Bearer") {
		return "", 0, fmt.Errorf("token response has token_type %q, expected Bearer", tr.TokenType)
	}
	secs, err := parseExpiresIn(tr.ExpiresIn)
	if err != nil {
		return "", 0, err
	}
	return tr.AccessToken, time.Duration(secs) * time.Second, nil
}

// parseExpiresIn accepts expires_in as a JSON number or a numeric string.
func parseExpiresIn(raw json.RawMessage) (int64, error) {
	s := strings.Trim(strings.TrimSpace(string(raw)), `"`)
	if s == "" {
		return 0, errors.New("token response has no expires_in")
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("token response has invalid expires_in %q", s)
	}
	return n, nil
}

// tokenError summarizes an error body: the OAuth error code and the first line of its description,
// shortened, with the client secret redacted should a server ever echo it.
func (c *ClientCredentials) tokenError(status int, body []byte) error {
	var er tokenErrorResponse
	_ = json.Unmarshal(body, &er)
	desc := er.ErrorDescription
	if i := strings.IndexAny(desc, "\r\n"); i >= 0 {
		desc = desc[:i]
	}
	desc = truncate(desc, 200)
	code := truncate(er.Error, 64)
	if s := c.cfg.ClientSecret; s != "" {
		desc = strings.ReplaceAll(desc, s, "[redacted]")
		code = strings.ReplaceAll(code, s, "[redacted]")
	}
	return &TokenError{Status: status, Code: code, Description: desc}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// Do not split a UTF-8 sequence.
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}
