package identity

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Content and invoke types of the Teams SSO protocol.
const (
	// OAuthCardContentType is the attachment content type of an OAuthCard.
	OAuthCardContentType = "application/vnd.microsoft.card.oauth"
	// TokenExchangeInvokeName is the invoke Teams sends with the SSO token after an OAuthCard.
	TokenExchangeInvokeName = "signin/tokenExchange"
	// LoginRequestType is the type of the 401 answer to an Action.Execute that needs a token.
	LoginRequestType = "application/vnd.microsoft.activity.loginRequest"
	// PreconditionFailedType is the type of a 412 answer to an Action.Execute.
	PreconditionFailedType = "application/vnd.microsoft.error.preconditionFailed"
)

// TokenExchangeResource tells Teams to do SSO for the app's Application ID URI.
type TokenExchangeResource struct {
	ID         string `json:"id"`
	URI        string `json:"uri"`
	ProviderID string `json:"providerId,omitempty"`
}

// CardAction is a sign-in button.
type CardAction struct {
	Type  string `json:"type"`
	Title string `json:"title"`
	Text  string `json:"text,omitempty"`
	Value string `json:"value"`
}

// OAuthCard is the content of an OAuthCard attachment (and the value of a login request).
type OAuthCard struct {
	Text                  string                 `json:"text"`
	ConnectionName        string                 `json:"connectionName"`
	Buttons               []CardAction           `json:"buttons"`
	TokenExchangeResource *TokenExchangeResource `json:"tokenExchangeResource,omitempty"`
}

// SSOConfig describes the bot's SSO setup (manifest webApplicationInfo).
type SSOConfig struct {
	// AppID is the bot app id; the resource is api://botid-{AppID}.
	AppID string
	// ConnectionName is the OAuth connection name of the bot registration (echoed by Teams).
	ConnectionName string
	// ProviderID is optional.
	ProviderID string
	// SignInURL is where the sign-in button leads when SSO is not possible (for example a consent URL).
	SignInURL string
}

// ResourceURI returns api://botid-{appId}.
func (c SSOConfig) ResourceURI() string { return "api://botid-" + c.AppID }

func newExchangeID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Validate reports a missing field.
func (c SSOConfig) Validate() error {
	switch {
	case c.AppID == "":
		return errors.New("sso: app id is required")
	case c.ConnectionName == "":
		return errors.New("sso: connection name is required")
	}
	if c.SignInURL != "" {
		if u, err := url.Parse(c.SignInURL); err != nil || u.Host == "" || (u.Scheme != "https" && !isLoopback(u.Hostname())) {
			return fmt.Errorf("sso: sign-in URL %q must be an absolute https URL", c.SignInURL)
		}
	}
	return nil
}

// OAuthCard builds the card that starts Teams SSO: Teams silently obtains a token for
// api://botid-{appId} and sends it in a signin/tokenExchange invoke; if it cannot, the user sees the
// sign-in button.
func (c SSOConfig) OAuthCard(text string) OAuthCard {
	if text == "" {
		text = "Sign in to AccessBot"
	}
	card := OAuthCard{
		Text:                  text,
		ConnectionName:        c.ConnectionName,
		TokenExchangeResource: &TokenExchangeResource{ID: newExchangeID(), URI: c.ResourceURI(), ProviderID: c.ProviderID},
	}
	if c.SignInURL != "" {
		card.Buttons = []CardAction{{Type: "signin", Title: "Sign in", Text: "Sign in", Value: c.SignInURL}}
	} else {
		card.Buttons = []CardAction{}
	}
	return card
}

// TokenExchange is the value of a signin/tokenExchange invoke.
type TokenExchange struct {
	ID             string `json:"id"`
	ConnectionName string `json:"connectionName"`
	Token          string `json:"token"`
}

// ParseTokenExchange decodes a signin/tokenExchange invoke value; the error names what is missing.
func ParseTokenExchange(value json.RawMessage) (TokenExchange, error) {
	var te TokenExchange
	if len(value) == 0 {
		return te, errors.New("tokenExchange invoke has no value")
	}
	if err := json.Unmarshal(value, &te); err != nil {
		return te, fmt.Errorf("tokenExchange invoke value is not an object with id, connectionName, token: %w", err)
	}
	if te.Token == "" {
		return te, errors.New("tokenExchange invoke value has no token")
	}
	return te, nil
}

// TokenExchangeFailure is the body of the 412 answer to a failed tokenExchange: Teams then shows the
// sign-in button instead.
type TokenExchangeFailure struct {
	ID             string `json:"id"`
	ConnectionName string `json:"connectionName"`
	FailureDetail  string `json:"failureDetail"`
}

// ExchangeFailed returns the status and body to answer a tokenExchange invoke that could not be used.
func ExchangeFailed(te TokenExchange, detail string) (int, TokenExchangeFailure) {
	return http.StatusPreconditionFailed, TokenExchangeFailure{ID: te.ID, ConnectionName: te.ConnectionName, FailureDetail: detail}
}

// LoginRequest is the 401 answer to an Action.Execute that needs the user's token (Adaptive Card SSO).
type LoginRequest struct {
	StatusCode int       `json:"statusCode"`
	Type       string    `json:"type"`
	Value      OAuthCard `json:"value"`
}

// LoginRequest builds the 401 login request; Teams retries the same Action.Execute with
// value.authentication.token.
func (c SSOConfig) LoginRequest(text string) LoginRequest {
	return LoginRequest{StatusCode: http.StatusUnauthorized, Type: LoginRequestType, Value: c.OAuthCard(text)}
}

// ExecuteAuthentication is value.authentication of a retried Action.Execute.
type ExecuteAuthentication struct {
	ID             string `json:"id"`
	ConnectionName string `json:"connectionName"`
	Token          string `json:"token"`
}

// ParseExecuteAuthentication reads value.authentication of an adaptiveCard/action invoke. ok is false
// when the invoke carries no token (the bot should answer with LoginRequest).
func ParseExecuteAuthentication(value json.RawMessage) (auth ExecuteAuthentication, ok bool, err error) {
	if len(value) == 0 {
		return auth, false, errors.New("adaptiveCard/action invoke has no value")
	}
	var v struct {
		Authentication *ExecuteAuthentication `json:"authentication"`
	}
	if err := json.Unmarshal(value, &v); err != nil {
		return auth, false, fmt.Errorf("adaptiveCard/action value is not an object: %w", err)
	}
	if v.Authentication == nil || strings.TrimSpace(v.Authentication.Token) == "" {
		return auth, false, nil
	}
	return *v.Authentication, true, nil
}

// ErrorResponse is an Universal Action error answer (statusCode 4xx/5xx).
type ErrorResponse struct {
	StatusCode int    `json:"statusCode"`
	Type       string `json:"type"`
	Value      struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"value"`
}

// PreconditionFailed is the 412 answer to an Action.Execute whose token could not be used.
func PreconditionFailed(message string) ErrorResponse {
	r := ErrorResponse{StatusCode: http.StatusPreconditionFailed, Type: PreconditionFailedType}
	r.Value.Code = "412"
	r.Value.Message = message
	return r
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
