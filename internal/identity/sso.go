package identity

import (
	"errors"
	"fmt"
	"net/url"

	"github.com/accessbot/accessbot/internal/netx"
)

// SSOConfig describes the bot's SSO setup (manifest webApplicationInfo). The SSO wire protocol itself
// (OAuthCard, signin/tokenExchange, the login request) lives in internal/botframework.
type SSOConfig struct {
	// AppID is the bot app id; the resource is api://botid-{AppID}.
	AppID string
	// ConnectionName is the OAuth connection name of the bot registration (echoed by Teams).
	ConnectionName string
	// SignInURL is where the sign-in button leads when SSO is not possible (for example a consent URL).
	SignInURL string
}

// ResourceURI returns api://botid-{appId}.
func (c SSOConfig) ResourceURI() string { return "api://botid-" + c.AppID }

// Validate reports a missing field.
func (c SSOConfig) Validate() error {
	switch {
	case c.AppID == "":
		return errors.New("sso: app id is required")
	case c.ConnectionName == "":
		return errors.New("sso: connection name is required")
	}
	if c.SignInURL != "" {
		if u, err := url.Parse(c.SignInURL); err != nil || u.Host == "" || (u.Scheme != "https" && !netx.IsLoopbackHost(u.Hostname())) {
			return fmt.Errorf("sso: sign-in URL %q must be an absolute https URL", c.SignInURL)
		}
	}
	return nil
}

// AdminConsentURL returns the v2.0 admin consent URL for the app in tenant (for the sign-in card of
// a consent-required answer).
func AdminConsentURL(authorityHost, tenantID, clientID string) (string, error) {
	authority, _, err := normalizeAuthority(authorityHost)
	if err != nil {
		return "", err
	}
	q := url.Values{"client_id": {clientID}, "scope": {GraphScope}}
	return authority + url.PathEscape(tenantID) + "/v2.0/adminconsent?" + q.Encode(), nil
}
