package identity

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/netx"
)

// Scopes of the tokens AccessBot asks for.
const (
	GraphScope        = "https://graph.microsoft.com/.default"
	BotFrameworkScope = "https://api.botframework.com/.default"
	// DefaultAuthorityHost is Entra ID's public cloud.
	DefaultAuthorityHost = "https://login.microsoftonline.com/"
)

// tokenRequestTimeout bounds one token request made with the default HTTP client (a variable for tests).
var tokenRequestTimeout = 30 * time.Second

// defaultHTTPClient is the client for token and simulator requests when the configuration gives none: unlike
// http.DefaultClient it gives up on an endpoint that never answers.
func defaultHTTPClient() *http.Client { return &http.Client{Timeout: tokenRequestTimeout} }

// AADError is an error answered by an Entra token endpoint. It never contains the request's secrets.
type AADError struct {
	Status      int
	Code        string // "invalid_grant", …
	SubError    string // "consent_required", …
	ErrorCodes  []int  // AADSTS numbers
	Description string
	Kind        error // entitlement.ErrConsentRequired, entitlement.ErrSignInRequired or nil
}

// Error implements error.
func (e *AADError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "token endpoint answered %d %s", e.Status, e.Code)
	if e.SubError != "" {
		b.WriteString(" (" + e.SubError + ")")
	}
	if len(e.ErrorCodes) > 0 {
		fmt.Fprintf(&b, " AADSTS%d", e.ErrorCodes[0])
	}
	if d := firstLine(e.Description); d != "" {
		b.WriteString(": " + d)
	}
	return b.String()
}

// Unwrap returns the domain error the failure maps to.
func (e *AADError) Unwrap() error { return e.Kind }

func firstLine(s string) string {
	if i := strings.Index(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	if i := strings.Index(s, " Trace ID:"); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}

// consentCodes are AADSTS codes that mean consent is missing.
var consentCodes = map[int]bool{65001: true, 65004: true, 90094: true, 90008: true}

// signInCodes are AADSTS codes that mean the user must sign in again (expired or unusable assertion).
var signInCodes = map[int]bool{500133: true, 50013: true, 50173: true, 700082: true, 50076: true, 50079: true}

type tokenResponse struct {
	AccessToken string          `json:"access_token"`
	TokenType   string          `json:"token_type"`
	ExpiresIn   json.RawMessage `json:"expires_in"`
	Scope       string          `json:"scope"`
}

func (t tokenResponse) lifetime() time.Duration {
	s := strings.Trim(string(t.ExpiresIn), `"`)
	var n int64
	if _, err := fmt.Sscan(s, &n); err != nil || n <= 0 {
		return time.Hour
	}
	return time.Duration(n) * time.Second
}

// postToken sends a token request and decodes the answer, mapping Entra errors.
func postToken(ctx context.Context, hc *http.Client, endpoint string, form url.Values) (tokenResponse, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return tokenResponse{}, fmt.Errorf("build token request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		// Unreachable or timed out: an outage, not a reason to ask the person to sign in again.
		return tokenResponse{}, fmt.Errorf("token request to %s: %w (%w)", redactURL(endpoint), entitlement.ErrUnavailable, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return tokenResponse{}, fmt.Errorf("read token response: %w (%w)", entitlement.ErrUnavailable, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error       string `json:"error"`
			SubError    string `json:"suberror"`
			Description string `json:"error_description"`
			ErrorCodes  []int  `json:"error_codes"`
		}
		_ = json.Unmarshal(body, &e)
		ae := &AADError{Status: resp.StatusCode, Code: e.Error, SubError: e.SubError, ErrorCodes: e.ErrorCodes, Description: e.Description}
		if ae.Code == "" {
			ae.Code = http.StatusText(resp.StatusCode)
		}
		switch {
		case e.SubError == "consent_required" || e.Error == "consent_required" || anyCode(e.ErrorCodes, consentCodes):
			ae.Kind = entitlement.ErrConsentRequired
		case e.Error == "interaction_required" || e.SubError == "basic_action" || anyCode(e.ErrorCodes, signInCodes):
			ae.Kind = entitlement.ErrSignInRequired
		case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
			// Entra is throttling or failing (or a gateway answered): an outage.
			ae.Kind = entitlement.ErrUnavailable
		}
		return tokenResponse{}, ae
	}
	var tr tokenResponse
	if err := json.Unmarshal(body, &tr); err != nil {
		return tokenResponse{}, fmt.Errorf("decode token response: %w", err)
	}
	if tr.AccessToken == "" {
		return tokenResponse{}, fmt.Errorf("token response from %s has no access_token", redactURL(endpoint))
	}
	return tr, nil
}

func anyCode(codes []int, set map[int]bool) bool {
	for _, c := range codes {
		if set[c] {
			return true
		}
	}
	return false
}

func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "token endpoint"
	}
	u.RawQuery = ""
	u.User = nil
	return u.String()
}

// tokenEndpoint is {authority}/{tenant}/oauth2/v2.0/token.
func tokenEndpoint(authority, tenant string) string {
	return strings.TrimRight(authority, "/") + "/" + url.PathEscape(tenant) + "/oauth2/v2.0/token"
}

// normalizeAuthority validates an authority host URL (empty: AZURE_AUTHORITY_HOST, else
// DefaultAuthorityHost). http is accepted only for loopback hosts.
func normalizeAuthority(raw string) (string, *url.URL, error) {
	if strings.TrimSpace(raw) == "" {
		raw = os.Getenv("AZURE_AUTHORITY_HOST")
	}
	if strings.TrimSpace(raw) == "" {
		raw = DefaultAuthorityHost
	}
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" {
		return "", nil, fmt.Errorf("authority host %q is not an absolute URL like %s", raw, DefaultAuthorityHost)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !netx.IsLoopbackHost(u.Hostname()) {
			return "", nil, fmt.Errorf("authority host %q uses http for a non-loopback host; use https", raw)
		}
	default:
		return "", nil, fmt.Errorf("authority host %q must use https", raw)
	}
	return strings.TrimRight(u.String(), "/") + "/", u, nil
}

// microsoftAuthorities are Entra's own authority hosts, which MSAL's instance discovery knows.
var microsoftAuthorities = map[string]bool{
	"login.microsoftonline.com": true, "login.microsoftonline.us": true, "login.chinacloudapi.cn": true,
	"login.partner.microsoftonline.cn": true, "login.windows.net": true, "login.microsoft.com": true,
	"sts.windows.net": true, "login.microsoftonline.de": true,
}

// IsMicrosoftAuthority reports whether the authority host is one of Entra's; for any other host
// (the simulator, a test server, a custom authority) MSAL must be built with DisableInstanceDiscovery.
func IsMicrosoftAuthority(u *url.URL) bool {
	return u != nil && microsoftAuthorities[strings.ToLower(u.Hostname())]
}
