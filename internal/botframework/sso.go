package botframework

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/infracloudio/msbotbuilder-go/schema"
)

// Teams single sign-on on the wire. Two ways lead to the user's SSO token:
//
//   - typed commands: the bot sends an OAuthCard (NewOAuthCard, attached with Attachment) carrying a
//     tokenExchangeResource; Teams answers silently with a signin/tokenExchange invoke holding the token
//     (ParseTokenExchange), which the bot answers with TokenExchangeResponse;
//   - card buttons (Adaptive Card SSO): the bot answers an Action.Execute with LoginRequestResponse and
//     Teams retries the invoke with value.authentication.token (see InvokeAction).

// ContentTypeOAuthCard is the attachment content type of an OAuthCard.
const ContentTypeOAuthCard = "application/vnd.microsoft.card.oauth"

// TokenExchangeResource designates an SSO token exchange in an OAuthCard or a login request.
type TokenExchangeResource struct {
	// ID identifies the exchange request.
	ID string `json:"id,omitempty"`
	// URI is the application ID URI of the resource (api://botid-{appId} for Teams SSO).
	URI string `json:"uri,omitempty"`
	// ProviderID optionally names the identity provider.
	ProviderID string `json:"providerId,omitempty"`
}

// SignInButton is a card action of an OAuthCard.
type SignInButton struct {
	// Type is "signin".
	Type string `json:"type"`
	// Title is the button caption.
	Title string `json:"title"`
	// Text is the button text.
	Text string `json:"text,omitempty"`
	// Value is the sign-in URL.
	Value string `json:"value"`
}

// OAuthCard is the content of an OAuthCard attachment (ContentTypeOAuthCard) and the value of a
// loginRequest invoke response.
type OAuthCard struct {
	// Text is the prompt shown with the sign-in button.
	Text string `json:"text,omitempty"`
	// ConnectionName is the OAuth connection; receivers may ignore a request without one.
	ConnectionName string `json:"connectionName"`
	// TokenExchangeResource, when set, asks Teams for SSO instead of an interactive sign-in.
	TokenExchangeResource *TokenExchangeResource `json:"tokenExchangeResource,omitempty"`
	// Buttons holds the fallback sign-in button.
	Buttons []SignInButton `json:"buttons,omitempty"`
}

// NewOAuthCard builds the OAuthCard that starts Teams SSO: Teams silently obtains a token for resourceURI
// (the app's api://botid-{appId}) and sends it in a signin/tokenExchange invoke that echoes exchangeID and
// connectionName; when it cannot, the user sees the card's "Sign in" button.
func NewOAuthCard(text, connectionName, exchangeID, resourceURI string) OAuthCard {
	return OAuthCard{
		Text:                  text,
		ConnectionName:        connectionName,
		TokenExchangeResource: &TokenExchangeResource{ID: exchangeID, URI: resourceURI},
		Buttons:               []SignInButton{{Type: "signin", Title: "Sign in"}},
	}
}

// Attachment returns the card as a message attachment.
func (c OAuthCard) Attachment() schema.Attachment {
	return schema.Attachment{ContentType: ContentTypeOAuthCard, Content: c}
}

// LoginRequestResponse answers an Action.Execute with a login request (body statusCode 401,
// application/vnd.microsoft.activity.loginRequest) so that Teams performs Adaptive Card SSO and retries
// the invoke with value.authentication.token. signInURL, when set, becomes the fallback sign-in button
// (the protocol asks senders for a non-empty buttons array, and Teams falls back to it when SSO fails, so
// pass one when available); ter, when non-nil, designates the SSO exchange (its URI is the app's
// api://botid-{appId} resource).
func LoginRequestResponse(connectionName, signInURL string, ter *TokenExchangeResource) *InvokeResponse {
	lr := OAuthCard{
		Text:                  "Please sign in",
		ConnectionName:        connectionName,
		TokenExchangeResource: ter,
	}
	if signInURL != "" {
		lr.Buttons = []SignInButton{{Type: "signin", Title: "Sign in", Text: "Sign in", Value: signInURL}}
	}
	return &InvokeResponse{Status: http.StatusOK, Body: AdaptiveCardInvokeResponse{
		StatusCode: http.StatusUnauthorized, Type: ContentTypeLoginRequest, Value: lr,
	}}
}

// TokenExchange is the value of a signin/tokenExchange invoke: the user's SSO token for the exchange an
// OAuthCard asked for.
type TokenExchange struct {
	// ID echoes the OAuthCard's tokenExchangeResource id.
	ID string `json:"id"`
	// ConnectionName echoes the OAuthCard's connection name.
	ConnectionName string `json:"connectionName"`
	// Token is the user's SSO token (audience api://botid-{appId}); never log it.
	Token string `json:"token"`
}

// ParseTokenExchange decodes the value of a signin/tokenExchange invoke. On error it still returns the
// fields it could read, so the answer can echo id and connectionName; the error names what is wrong and
// never contains the token.
func ParseTokenExchange(value map[string]any) (TokenExchange, error) {
	var te TokenExchange
	if len(value) == 0 {
		return te, errors.New("tokenExchange invoke has no value")
	}
	raw, err := json.Marshal(value)
	if err != nil {
		return te, fmt.Errorf("tokenExchange invoke value does not encode: %w", err)
	}
	if err := json.Unmarshal(raw, &te); err != nil {
		return te, fmt.Errorf("tokenExchange invoke value is not an object with string id, connectionName and token: %w", err)
	}
	if te.Token == "" {
		return te, errors.New("tokenExchange invoke value has no token")
	}
	return te, nil
}

// TokenExchangeAnswer is the body of the answer to a signin/tokenExchange invoke.
type TokenExchangeAnswer struct {
	// ID echoes the invoke's id.
	ID string `json:"id"`
	// ConnectionName echoes the invoke's connection name.
	ConnectionName string `json:"connectionName"`
	// FailureDetail says why the token could not be used (empty on success).
	FailureDetail string `json:"failureDetail,omitempty"`
}

// TokenExchangeResponse answers a signin/tokenExchange invoke: 200 with an empty failureDetail when the
// token was exchanged; 412 (Precondition Failed) when it could not be used, which makes Teams show the
// OAuthCard's sign-in button instead; 400 for an invoke that carries no usable token.
func TokenExchangeResponse(status int, te TokenExchange, failureDetail string) *InvokeResponse {
	return &InvokeResponse{Status: status, Body: TokenExchangeAnswer{
		ID: te.ID, ConnectionName: te.ConnectionName, FailureDetail: failureDetail,
	}}
}
