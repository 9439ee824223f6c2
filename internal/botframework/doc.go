// Package botframework speaks the Bot Framework protocol for AccessBot.
//
// It authenticates inbound activities (JWT issued by the Bot Connector service, checked against the
// OpenID metadata and its endorsed signing keys), serves the /api/messages endpoint as an http.Handler,
// writes invoke responses synchronously, obtains outbound tokens (client credentials or an azcore
// credential) and talks to the Connector REST API (send, reply, update, create conversation, get member).
//
// Wire types come from github.com/infracloudio/msbotbuilder-go/schema; the authentication and the
// connector client are implemented here on github.com/golang-jwt/jwt/v5 and net/http.
package botframework
