// Package identity obtains the tokens AccessBot needs:
//
//   - app-only tokens for Microsoft Graph and the Bot Framework from the configured application
//     credential (client secret, certificate, managed identity or workload identity; azidentity), with the
//     authority host taken from AZURE_AUTHORITY_HOST;
//   - delegated Graph tokens for the acting user: the Teams SSO token (from the signin/tokenExchange invoke
//     or from an Adaptive Card Action.Execute retried with value.authentication.token) is exchanged
//     on-behalf-of for a Graph token, cached per user (tenant + object id) until it expires;
//   - SSOConfig (the api://botid-{appId} resource) and AdminConsentURL; the Teams SSO wire protocol
//     (OAuthCard, the signin/tokenExchange invoke, the 401 login request) is internal/botframework's;
//   - DevIdentity, for --insecure-dev only: it asks the simulator for the user assertion Teams SSO would
//     have given (the Playground has no SSO) and then does the normal on-behalf-of exchange.
//
// Every token source here has the shape `Token(ctx) (string, error)` (entitlement.TokenSource). Errors the
// user can act on match entitlement.ErrConsentRequired or entitlement.ErrSignInRequired. Secrets and
// tokens never appear in errors or logs.
//
// Why the on-behalf-of exchange is a small form POST and not azidentity.NewOnBehalfOfCredentialWithSecret:
// azidentity refuses any authority that is not https ("cannot use an authority host without https"), so it
// cannot talk to the simulator on http://127.0.0.1; it hides Entra's error body (error, suberror,
// error_codes) that is needed to tell consent_required apart; and a per-user cache keyed by the Teams
// identity is simpler around a plain exchange. The POST is the documented v2.0 request
// (grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer, requested_token_use=on_behalf_of). App
// credentials use azidentity for every kind; only a client secret against a loopback http authority (the
// simulator) uses the same form POST with grant_type=client_credentials.
package identity
