package botframework

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/infracloudio/msbotbuilder-go/schema"

	"github.com/accessbot/accessbot/internal/testkit"
)

// len returns the number of cached entries (tests only).
func (c *tokenCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.entries)
}

// newCachingVerifier returns a verifier against a fake OpenID server with standardKeys.
func newCachingVerifier(t *testing.T) (*JWTVerifier, *testkit.Clock, *oidcServer) {
	t.Helper()
	clock := testkit.NewClock()
	oidc := newOIDCServer(t, standardKeys(t)...)
	v, err := NewJWTVerifier(JWTConfig{AppID: testAppID, MetadataURL: oidc.metadataURL(), Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return v, clock, oidc
}

func TestJWTVerifierCachesVerifiedTokens(t *testing.T) {
	v, clock, _ := newCachingVerifier(t)
	t0 := clock.Now()
	long := "Bearer " + signRS256(t, 0, "k-teams", validClaims(t0))
	short := "Bearer " + signRS256(t, 0, "k-teams", with(validClaims(t0), "exp", t0.Add(2*time.Minute).Unix()))
	teams := func(serviceURL string) *schema.Activity {
		return &schema.Activity{Type: "message", ChannelID: "msteams", ServiceURL: serviceURL}
	}
	steps := []struct {
		name       string
		advance    time.Duration
		header     string
		act        *schema.Activity
		wantOK     bool
		wantReason string // substring of the AuthError reason when refused
		wantChecks int64  // full verifications so far
	}{
		{name: "first use is verified in full", header: long, act: teams(testServiceURL), wantOK: true, wantChecks: 1},
		{name: "second use is served from the cache", advance: time.Minute, header: long, act: teams(testServiceURL), wantOK: true, wantChecks: 1},
		{name: "other bearer spelling, same token, cached", header: "bearer  " + strings.TrimPrefix(long, "Bearer "), act: teams("HTTPS://smba.trafficmanager.net/amer"), wantOK: true, wantChecks: 1},
		{name: "cached token for another serviceUrl is refused", header: long, act: teams("https://evil.example/"), wantReason: "serviceurl claim", wantChecks: 1},
		{name: "cached token on a channel its key is not endorsed for is refused", header: long,
			act: &schema.Activity{Type: "message", ChannelID: "slack", ServiceURL: testServiceURL}, wantReason: "not endorsed", wantChecks: 2},
		{name: "the refusal did not drop the good entry", header: long, act: teams(testServiceURL), wantOK: true, wantChecks: 2},
		{name: "short-lived token verified", header: short, act: teams(testServiceURL), wantOK: true, wantChecks: 3},
		{name: "short-lived token cached within exp+skew", advance: 4 * time.Minute, header: short, act: teams(testServiceURL), wantOK: true, wantChecks: 3},
		{name: "cached token past exp+skew is refused", advance: 2 * time.Minute, header: short, act: teams(testServiceURL), wantReason: "expired", wantChecks: 4},
		{name: "after the 10 min cap the token is verified again", advance: 4 * time.Minute, header: long, act: teams(testServiceURL), wantOK: true, wantChecks: 5},
		{name: "and cached again", header: long, act: teams(testServiceURL), wantOK: true, wantChecks: 5},
	}
	for _, s := range steps {
		clock.Advance(s.advance)
		err := v.Verify(context.Background(), s.header, s.act)
		if s.wantOK && err != nil {
			t.Fatalf("%s: unexpected error %v", s.name, err)
		}
		if !s.wantOK {
			var ae *AuthError
			if !errors.As(err, &ae) || !errors.Is(err, ErrUnauthorized) {
				t.Fatalf("%s: err = %v, want an *AuthError", s.name, err)
			}
			if !strings.Contains(err.Error(), s.wantReason) {
				t.Fatalf("%s: err = %v, want it to mention %q", s.name, err, s.wantReason)
			}
		}
		if got := v.fullChecks.Load(); got != s.wantChecks {
			t.Fatalf("%s: %d full verifications, want %d", s.name, got, s.wantChecks)
		}
	}
}

func TestJWTVerifierNeverCachesFailures(t *testing.T) {
	v, clock, _ := newCachingVerifier(t)
	now := clock.Now()
	good := signRS256(t, 0, "k-teams", validClaims(now))
	parts := strings.Split(good, ".")
	otherSig := strings.Split(signRS256(t, 1, "k-teams", validClaims(now)), ".")[2]
	cases := []struct {
		name  string
		token string
	}{
		{name: "signature by another key", token: parts[0] + "." + parts[1] + "." + otherSig},
		{name: "wrong audience", token: signRS256(t, 0, "k-teams", with(validClaims(now), "aud", "another-app"))},
		{name: "wrong issuer", token: signRS256(t, 0, "k-teams", with(validClaims(now), "iss", "https://evil.example/"))},
		{name: "expired", token: signRS256(t, 0, "k-teams", with(validClaims(now), "exp", now.Add(-time.Hour).Unix()))},
		{name: "not yet valid", token: signRS256(t, 0, "k-teams", with(validClaims(now), "nbf", now.Add(time.Hour).Unix()))},
		{name: "no serviceurl claim", token: signRS256(t, 0, "k-teams", with(validClaims(now), "serviceurl", nil))},
		{name: "key not endorsed for msteams", token: signRS256(t, 1, "k-skype", validClaims(now))},
		{name: "unknown kid", token: signRS256(t, 2, "k-nope", validClaims(now))},
	}
	act := &schema.Activity{Type: "message", ChannelID: "msteams", ServiceURL: testServiceURL}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for try := range 2 {
				before := v.fullChecks.Load()
				if err := v.Verify(context.Background(), "Bearer "+tc.token, act); !errors.Is(err, ErrUnauthorized) {
					t.Fatalf("try %d: err = %v, want ErrUnauthorized", try, err)
				}
				if got := v.fullChecks.Load() - before; got != 1 {
					t.Fatalf("try %d: %d full verifications, want 1 (failures are not cached)", try, got)
				}
			}
			if n := v.tokens.len(); n != 0 {
				t.Fatalf("cache holds %d entries after failures, want 0", n)
			}
		})
	}
}

// TestJWTVerifierCacheMatchesOnlyTheVerifiedToken: with a valid token cached, a token that differs from
// it anywhere (a changed signature or payload character, one character more or less) never finds its
// entry: each is verified in full and refused, and the valid token is still served from the cache.
func TestJWTVerifierCacheMatchesOnlyTheVerifiedToken(t *testing.T) {
	v, clock, _ := newCachingVerifier(t)
	good := signRS256(t, 0, "k-teams", validClaims(clock.Now()))
	act := &schema.Activity{Type: "message", ChannelID: "msteams", ServiceURL: testServiceURL}
	if err := v.Verify(context.Background(), "Bearer "+good, act); err != nil {
		t.Fatal(err)
	}
	dot := strings.LastIndexByte(good, '.')
	flip := func(i int) string { // good with character i changed to another base64url character
		c := byte('A')
		if good[i] == 'A' {
			c = 'B'
		}
		return good[:i] + string(c) + good[i+1:]
	}
	cases := []struct {
		name, token string
	}{
		{"a signature character changed", flip(dot + 1 + (len(good)-dot)/2)},
		{"a payload character changed", flip(dot - 10)},
		{"one character appended", good + "A"},
		{"last character cut", good[:len(good)-1]},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := v.fullChecks.Load()
			if err := v.Verify(context.Background(), "Bearer "+tc.token, act); !errors.Is(err, ErrUnauthorized) {
				t.Fatalf("err = %v, want ErrUnauthorized", err)
			}
			if got := v.fullChecks.Load() - before; got != 1 {
				t.Fatalf("%d full verifications, want 1 (the cached entry of the valid token must not match)", got)
			}
		})
	}
	before := v.fullChecks.Load()
	if err := v.Verify(context.Background(), "Bearer "+good, act); err != nil {
		t.Fatal(err)
	}
	if got := v.fullChecks.Load() - before; got != 0 {
		t.Fatalf("valid token: %d full verifications, want 0 (still cached)", got)
	}
	if n := v.tokens.len(); n != 1 {
		t.Fatalf("cache holds %d entries, want only the valid token", n)
	}
}

func TestJWTVerifierCacheHonoursKeyRotation(t *testing.T) {
	v, clock, oidc := newCachingVerifier(t)
	act := &schema.Activity{Type: "message", ChannelID: "msteams", ServiceURL: testServiceURL}
	old := "Bearer " + signRS256(t, 0, "k-teams", validClaims(clock.Now()))
	if err := v.Verify(context.Background(), old, act); err != nil {
		t.Fatalf("old key, before rotation: %v", err)
	}
	// The old key is rotated out; a token under the new key's kid makes the verifier refetch.
	clock.Advance(6 * time.Minute)
	oidc.setKeys(testJWK{kid: "k-new", key: &rsaKey(t, 2).PublicKey, endorsements: []string{"msteams"}})
	if err := v.Verify(context.Background(), "Bearer "+signRS256(t, 2, "k-new", validClaims(clock.Now())), act); err != nil {
		t.Fatalf("new key: %v", err)
	}
	if got := oidc.jwksCalls.Load(); got != 2 {
		t.Fatalf("JWKS fetched %d times, want 2", got)
	}
	// Within the cache's 10 min, the old token must not pass on its cached verification.
	err := v.Verify(context.Background(), old, act)
	if !errors.Is(err, ErrUnauthorized) || !strings.Contains(err.Error(), "signing key not found") {
		t.Fatalf("old token after rotation: err = %v, want signing key not found", err)
	}
}

func TestJWTVerifierCacheConcurrent(t *testing.T) {
	v, clock, _ := newCachingVerifier(t)
	now := clock.Now()
	var tokens []string
	for i := range 4 {
		tokens = append(tokens, "Bearer "+signRS256(t, 0, "k-teams", with(validClaims(now), "jti", fmt.Sprint(i))))
	}
	bad := "Bearer " + signRS256(t, 0, "k-teams", with(validClaims(now), "aud", "another-app"))
	good := &schema.Activity{Type: "message", ChannelID: "msteams", ServiceURL: testServiceURL}
	evil := &schema.Activity{Type: "message", ChannelID: "msteams", ServiceURL: "https://evil.example/"}

	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for g := range 32 {
		wg.Go(func() {
			for i := range 50 {
				tok := tokens[(g+i)%len(tokens)]
				if err := v.Verify(context.Background(), tok, good); err != nil {
					errs <- fmt.Errorf("good token refused: %w", err)
					return
				}
				if err := v.Verify(context.Background(), tok, evil); !errors.Is(err, ErrUnauthorized) {
					errs <- fmt.Errorf("token for another serviceUrl accepted: %v", err)
					return
				}
				if err := v.Verify(context.Background(), bad, good); !errors.Is(err, ErrUnauthorized) {
					errs <- fmt.Errorf("bad token accepted: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := v.tokens.len(); n != len(tokens) {
		t.Fatalf("cache holds %d entries, want %d", n, len(tokens))
	}
	// Every good token is cached now: another round does no full verification.
	before := v.fullChecks.Load()
	for _, tok := range tokens {
		if err := v.Verify(context.Background(), tok, good); err != nil {
			t.Fatal(err)
		}
	}
	if got := v.fullChecks.Load() - before; got != 0 {
		t.Fatalf("%d full verifications of cached tokens, want 0", got)
	}
}

func TestTokenCacheBounded(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	entry := func(exp time.Duration, gen uint64) verifiedToken {
		return verifiedToken{serviceURL: testServiceURL, exp: now.Add(exp), key: signingKey{gen: gen}}
	}
	k := func(i int) tokenKey { return keyOf(fmt.Sprint("token-", i)) }
	cases := []struct {
		name    string
		fill    []verifiedToken // entries k(0).. put at now
		add     verifiedToken   // put as k(99) at now+advance
		advance time.Duration
		want    []int // indexes of fill still cached (k(99) must be cached too)
	}{
		{name: "full of live entries: the one expiring first goes",
			fill: []verifiedToken{entry(time.Hour, 1), entry(time.Minute, 1), entry(time.Hour, 1)},
			add:  entry(time.Hour, 1), want: []int{0, 2}},
		{name: "expired entries are swept",
			fill: []verifiedToken{entry(time.Minute, 1), entry(time.Minute, 1), entry(time.Hour, 1)},
			add:  entry(time.Hour, 1), advance: 7 * time.Minute, want: []int{2}},
		{name: "entries of an older key generation are swept",
			fill: []verifiedToken{entry(time.Hour, 1), entry(time.Hour, 2), entry(time.Hour, 1)},
			add:  entry(time.Hour, 2), want: []int{1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newTokenCache(verifiedTokenTTL, len(tc.fill))
			for i, e := range tc.fill {
				c.put(k(i), e, now)
			}
			c.put(k(99), tc.add, now.Add(tc.advance))
			if c.len() != len(tc.want)+1 {
				t.Fatalf("len = %d, want %d", c.len(), len(tc.want)+1)
			}
			for _, i := range append(tc.want, 99) {
				if _, ok := c.get(k(i)); !ok {
					t.Errorf("entry %d evicted, want kept", i)
				}
			}
		})
	}
	t.Run("expiry is min(exp+skew, ttl) and an already expired token is not stored", func(t *testing.T) {
		c := newTokenCache(verifiedTokenTTL, 10)
		c.put(k(1), entry(time.Hour, 1), now)
		c.put(k(2), entry(time.Minute, 1), now)
		c.put(k(3), entry(-ClockSkew, 1), now)
		if e, _ := c.get(k(1)); !e.until.Equal(now.Add(verifiedTokenTTL)) {
			t.Errorf("long token until %v, want now+ttl", e.until)
		}
		if e, _ := c.get(k(2)); !e.until.Equal(now.Add(time.Minute + ClockSkew)) {
			t.Errorf("short token until %v, want exp+skew", e.until)
		}
		if _, ok := c.get(k(3)); ok {
			t.Error("token already past exp+skew was stored")
		}
	})
}
