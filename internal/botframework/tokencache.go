package botframework

import (
	"strings"
	"sync"
	"time"
)

const (
	// verifiedTokenTTL caps how long a verified token is served from the cache; a token is never
	// served past its own exp (plus ClockSkew) either.
	verifiedTokenTTL = 10 * time.Minute
	// maxVerifiedTokens bounds the cache. Teams sends one token for many activities, so a bot sees few
	// distinct tokens; only tokens that passed full verification are ever added. A Bot Framework token
	// is ~1.5 KB, so a full cache holds ~15 MB.
	maxVerifiedTokens = 10_000
)

// tokenKey is a raw token, exactly as it was verified: the cache is keyed by the whole token string, so
// an entry is found only for a byte-for-byte identical token (the map compares the full key on every
// hit; its hash only picks the bucket). There is no digest whose collisions an attacker could aim for.
//
// It used to be the token's SHA-256 (so the cache never held a token), which cost one hash of the whole
// token per activity (~1 % of the bot's CPU at 8 clients). Holding the tokens adds no exposure: they are
// bearer tokens for this bot only (audience = its app id), a bounded number of them for at most
// verifiedTokenTTL, and whoever can read the process's memory also reads the bot's own credentials and
// every token in flight.
type tokenKey string

// keyOf is the cache key of token: the token itself (put stores a copy, so an entry does not pin the
// request's header).
func keyOf(token string) tokenKey { return tokenKey(token) }

// verifiedToken is what full verification proved about a token: it is RS256-signed by key (of key
// generation key.gen), with the right issuer and audience. The claims kept here are the ones that
// must still be checked per request (times, serviceurl, the key's channel endorsements).
type verifiedToken struct {
	serviceURL string
	exp        time.Time  // the exp claim (required)
	nbf        time.Time  // the nbf claim; zero when absent
	key        signingKey // the key that signed it: its endorsements and generation
	until      time.Time  // served from the cache only before this instant
}

// usable reports whether the cached verification still stands for a request on channelID at now
// with signing keys of generation gen. When it does not, the caller verifies the token in full,
// which produces the precise error (expired, not yet valid, key not endorsed, key rotated out).
func (t verifiedToken) usable(now time.Time, gen uint64, channelID string) bool {
	switch {
	case t.key.gen != gen:
		return false
	case !now.Before(t.until):
		return false
	case !t.nbf.IsZero() && now.Add(ClockSkew).Before(t.nbf):
		return false
	}
	return t.key.endorses(channelID)
}

// tokenCache holds successful verifications keyed by the token. Safe for concurrent use.
//
// Why serving a cached verification is as safe as verifying again: a token's signature, issuer
// and audience are properties of the token bytes, and an entry is found only for the very bytes
// that were verified (tokenKey).
// The only outside input to signature checking is the key set, and an entry is used only while
// the key set it was verified against (its generation) is still the current one: any successful
// metadata refresh starts a new generation, so a token signed by a key that has been rotated out
// is verified again (and refused). Everything that depends on the request or the clock —
// exp/nbf with ClockSkew, the key's endorsement for the activity's channel, the serviceurl claim
// against the activity's serviceUrl — is checked on every use.
type tokenCache struct {
	ttl time.Duration
	max int

	mu      sync.RWMutex
	entries map[tokenKey]verifiedToken
}

func newTokenCache(ttl time.Duration, maxEntries int) *tokenCache {
	return &tokenCache{ttl: ttl, max: maxEntries, entries: make(map[tokenKey]verifiedToken)}
}

// get returns the entry for k if one is cached.
func (c *tokenCache) get(k tokenKey) (verifiedToken, bool) {
	c.mu.RLock()
	t, ok := c.entries[k]
	c.mu.RUnlock()
	return t, ok
}

// put records a successful verification made at now. The entry expires at the earlier of now+ttl
// and exp+ClockSkew (when the token itself stops being accepted).
func (c *tokenCache) put(k tokenKey, t verifiedToken, now time.Time) {
	t.until = now.Add(c.ttl)
	if last := t.exp.Add(ClockSkew); last.Before(t.until) {
		t.until = last
	}
	if !now.Before(t.until) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[k]; !ok && len(c.entries) >= c.max {
		c.evict(now, t.key.gen)
	}
	// A copy even when k is cached already: a map assignment to a string key also replaces the stored key.
	c.entries[tokenKey(strings.Clone(string(k)))] = t
}

// evict makes room for one entry: it drops every expired entry and every entry of an older key
// generation, and if that frees nothing, the entry that expires first. Called with mu held.
func (c *tokenCache) evict(now time.Time, gen uint64) {
	var (
		oldest    tokenKey
		oldestAt  time.Time
		haveOlder bool
	)
	for k, t := range c.entries {
		if !now.Before(t.until) || t.key.gen != gen {
			delete(c.entries, k)
			continue
		}
		if !haveOlder || t.until.Before(oldestAt) {
			oldest, oldestAt, haveOlder = k, t.until, true
		}
	}
	if len(c.entries) >= c.max && haveOlder {
		delete(c.entries, oldest)
	}
}
