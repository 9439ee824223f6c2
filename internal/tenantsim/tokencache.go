package tenantsim

import (
	"crypto/sha256"
	"fmt"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// maxVerifiedTokens bounds the verified-token memory; when it is full the memory starts over (the bot holds a
// handful of tokens at a time: one app token per tenant and one delegated token per signed-in user).
const maxVerifiedTokens = 4096

// verifiedTokens remembers the claims of tokens whose signature the simulator has checked, keyed by the token's
// SHA-256, so a token presented again skips the RSA verification. The signing key never changes during a Sim's
// life (it is loaded or generated once in New), so a signature once valid stays valid; the times (exp, nbf, iat)
// are checked again on every use, against the simulated clock, which may have moved.
type verifiedTokens struct {
	mu sync.Mutex
	m  map[[sha256.Size]byte]jwt.MapClaims
	// parser checks a new token's signature and times, check a remembered token's times; both are built once,
	// with the signing key (setKey), and are safe for concurrent use.
	parser *jwt.Parser
	check  *jwt.Validator
}

func (v *verifiedTokens) get(raw string) (jwt.MapClaims, [sha256.Size]byte, bool) {
	key := sha256.Sum256([]byte(raw))
	v.mu.Lock()
	defer v.mu.Unlock()
	c, ok := v.m[key]
	return c, key, ok
}

func (v *verifiedTokens) put(key [sha256.Size]byte, claims jwt.MapClaims) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.m == nil || len(v.m) >= maxVerifiedTokens {
		v.m = make(map[[sha256.Size]byte]jwt.MapClaims)
	}
	v.m[key] = claims
}

// tokenOptions are the checks every token the simulator accepts must pass (besides its signature).
func (s *Sim) tokenOptions() []jwt.ParserOption {
	return []jwt.ParserOption{jwt.WithValidMethods([]string{"RS256"}), jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(s.baseNow), jwt.WithLeeway(time.Minute)}
}

// verifyToken returns the claims of a token signed with the simulator's key and valid now. The returned map is
// shared between callers and must not be modified.
func (s *Sim) verifyToken(raw string) (jwt.MapClaims, error) {
	claims, key, ok := s.tokens.get(raw)
	if ok {
		if err := s.tokens.check.Validate(claims); err != nil {
			return nil, err
		}
		return claims, nil
	}
	claims = jwt.MapClaims{}
	_, err := s.tokens.parser.ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
		if kid, _ := t.Header["kid"].(string); kid != s.kid {
			return nil, fmt.Errorf("unknown signing key %q", kid)
		}
		return &s.key.PublicKey, nil
	})
	if err != nil {
		return nil, err
	}
	s.tokens.put(key, claims)
	return claims, nil
}
