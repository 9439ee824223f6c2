package botframework

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/infracloudio/msbotbuilder-go/schema"
)

const (
	// DefaultOpenIDMetadataURL is the Bot Framework's OpenID metadata for tokens sent by the Bot Connector.
	DefaultOpenIDMetadataURL = "https://login.botframework.com/v1/.well-known/openidconfiguration"
	// BotFrameworkIssuer is the only issuer accepted on inbound tokens.
	BotFrameworkIssuer = "https://api.botframework.com"
	// ClockSkew is the tolerance applied to exp and nbf.
	ClockSkew = 5 * time.Minute
)

// Verifier authenticates an inbound request carrying act. Implementations return an error matching
// ErrUnauthorized (errors.Is) when the request must be rejected.
type Verifier interface {
	Verify(ctx context.Context, authHeader string, act *schema.Activity) error
}

// JWTConfig configures a JWTVerifier.
type JWTConfig struct {
	// AppID is the bot's Microsoft app id; it must equal the token audience. Required.
	AppID string
	// MetadataURL is the OpenID metadata document; default DefaultOpenIDMetadataURL.
	MetadataURL string
	// HTTPClient fetches metadata and keys; default a client with a 30 s timeout.
	HTTPClient *http.Client
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Logger receives key refresh events; default slog.Default().
	Logger *slog.Logger
}

// JWTVerifier validates Bot Connector JWTs: RS256 signature by a key from the OpenID metadata's JWKS
// that is endorsed for the activity's channel, issuer, audience, exp/nbf with ClockSkew, and the
// serviceurl claim against the activity's serviceUrl. Successful verifications are cached for up to
// verifiedTokenTTL (never past the token's exp); see tokenCache for why that is safe.
type JWTVerifier struct {
	appID  string
	now    func() time.Time
	logger *slog.Logger
	keys   *keyCache
	tokens *tokenCache
	// fullChecks counts full (signature-checking) verifications; tests read it.
	fullChecks atomic.Int64
}

// NewJWTVerifier returns a verifier for cfg. Keys are fetched lazily on the first Verify.
func NewJWTVerifier(cfg JWTConfig) (*JWTVerifier, error) {
	appID := strings.TrimSpace(cfg.AppID)
	if appID == "" {
		return nil, errors.New("jwt verifier: AppID is empty; the bot app id is required as the token audience")
	}
	metadataURL := cfg.MetadataURL
	if metadataURL == "" {
		metadataURL = DefaultOpenIDMetadataURL
	}
	if err := checkMetadataURL(metadataURL); err != nil {
		return nil, fmt.Errorf("jwt verifier: MetadataURL: %w", err)
	}
	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: keyFetchTimeout}
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	logger = logger.With(slog.String("component", "botframework.auth"))
	return &JWTVerifier{
		appID:  appID,
		now:    now,
		logger: logger,
		keys:   &keyCache{metadataURL: metadataURL, client: client, now: now, logger: logger},
		tokens: newTokenCache(verifiedTokenTTL, maxVerifiedTokens),
	}, nil
}

// botClaims are the claims of a Bot Connector token.
type botClaims struct {
	jwt.RegisteredClaims
	ServiceURL string `json:"serviceurl"`
}

// Verify implements Verifier. A token that passed full verification is remembered (see
// tokenCache) so later activities carrying it skip the signature check; the time,
// channel endorsement and serviceurl checks run on every call.
func (v *JWTVerifier) Verify(ctx context.Context, authHeader string, act *schema.Activity) error {
	if act == nil {
		return authErr("no activity", nil)
	}
	token, err := bearerToken(authHeader)
	if err != nil {
		return err
	}
	if act.ChannelID == "" {
		return authErr("activity has no channelId, cannot check key endorsement", nil)
	}
	now := v.now()
	key := keyOf(token)
	vt, ok := v.tokens.get(key)
	if !ok || !vt.usable(now, v.keys.generation(), act.ChannelID) {
		if vt, err = v.verifyToken(ctx, token, act.ChannelID); err != nil {
			return err
		}
		v.tokens.put(key, vt, now)
	}
	if !sameServiceURL(vt.serviceURL, act.ServiceURL) {
		return authErr(fmt.Sprintf("serviceurl claim %q does not match activity serviceUrl %q", vt.serviceURL, act.ServiceURL), nil)
	}
	return nil
}

// verifyToken checks token in full: RS256 signature by a key endorsed for channelID, issuer,
// audience, exp/nbf with ClockSkew, and the presence of the serviceurl claim.
func (v *JWTVerifier) verifyToken(ctx context.Context, token, channelID string) (verifiedToken, error) {
	v.fullChecks.Add(1)
	parser := jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodRS256.Alg()}),
		jwt.WithIssuer(BotFrameworkIssuer),
		jwt.WithAudience(v.appID),
		jwt.WithLeeway(ClockSkew),
		jwt.WithTimeFunc(v.now),
		jwt.WithExpirationRequired(),
	)
	claims := &botClaims{}
	var used signingKey
	_, err := parser.ParseWithClaims(token, claims, func(t *jwt.Token) (any, error) {
		if t.Method != jwt.SigningMethodRS256 {
			return nil, fmt.Errorf("signing method %q is not RS256", t.Method.Alg())
		}
		kid, _ := t.Header["kid"].(string)
		if kid == "" {
			return nil, errors.New("token header has no kid")
		}
		key, err := v.keys.get(ctx, kid)
		if err != nil {
			return nil, err
		}
		if !key.endorses(channelID) {
			return nil, fmt.Errorf("signing key %q is not endorsed for channel %q", kid, channelID)
		}
		used = key
		return key.pub, nil
	})
	if err != nil {
		return verifiedToken{}, authErr("invalid token", err)
	}
	if claims.ServiceURL == "" {
		return verifiedToken{}, authErr("token has no serviceurl claim", nil)
	}
	vt := verifiedToken{serviceURL: claims.ServiceURL, exp: claims.ExpiresAt.Time, key: used}
	if claims.NotBefore != nil {
		vt.nbf = claims.NotBefore.Time
	}
	return vt, nil
}

// bearerToken extracts the token from an "Authorization: Bearer <token>" header value.
func bearerToken(h string) (string, error) {
	h = strings.TrimSpace(h)
	if h == "" {
		return "", authErr("missing Authorization header", nil)
	}
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", authErr("Authorization header is not a Bearer token", nil)
	}
	tok = strings.TrimSpace(tok)
	if tok == "" {
		return "", authErr("empty bearer token", nil)
	}
	return tok, nil
}

// DevVerifier is the --insecure-dev verifier: it does not check tokens at all, but rejects any
// activity whose serviceUrl is not on a loopback host, so replies can only go to a local client.
type DevVerifier struct {
	logger *slog.Logger
}

// NewDevVerifier returns the insecure development verifier. logger may be nil.
func NewDevVerifier(logger *slog.Logger) *DevVerifier {
	if logger == nil {
		logger = slog.Default()
	}
	return &DevVerifier{logger: logger.With(slog.String("component", "botframework.auth"))}
}

// Verify implements Verifier: no token check; the serviceUrl must be loopback.
func (d *DevVerifier) Verify(ctx context.Context, authHeader string, act *schema.Activity) error {
	if act == nil {
		return authErr("no activity", nil)
	}
	if err := CheckLoopbackServiceURL(act.ServiceURL); err != nil {
		return authErr("insecure dev mode", err)
	}
	if authHeader != "" {
		d.logger.DebugContext(ctx, "insecure dev mode: ignoring Authorization header")
	}
	return nil
}
