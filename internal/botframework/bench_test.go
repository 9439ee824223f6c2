package botframework

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/infracloudio/msbotbuilder-go/schema"

	"github.com/accessbot/accessbot/internal/testkit"
)

func BenchmarkDecodeActivity(b *testing.B) {
	data := loadFixture(b, "invoke_adaptiveCard_action.json")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeActivity(data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkJWTVerify compares a token served from the verified-token cache (Teams reuses one token
// for many activities) with a token verified in full every time (the RSA signature check).
func BenchmarkJWTVerify(b *testing.B) {
	for _, bc := range []struct {
		name   string
		cached bool
	}{{"cached", true}, {"uncached", false}} {
		b.Run(bc.name, func(b *testing.B) {
			clock := testkit.NewClock()
			oidc := newOIDCServer(b, standardKeys(b)...)
			v, err := NewJWTVerifier(JWTConfig{AppID: testAppID, MetadataURL: oidc.metadataURL(), Now: clock.Now, Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				b.Fatal(err)
			}
			header := "Bearer " + signRS256(b, 0, "k-teams", validClaims(clock.Now()))
			act := &schema.Activity{Type: "message", ChannelID: "msteams", ServiceURL: testServiceURL}
			b.ReportAllocs()
			for b.Loop() {
				if !bc.cached {
					v.tokens = newTokenCache(verifiedTokenTTL, maxVerifiedTokens)
				}
				if err := v.Verify(context.Background(), header, act); err != nil {
					b.Fatal(err)
				}
			}
			if bc.cached && v.fullChecks.Load() != 1 {
				b.Fatalf("%d full verifications, want 1", v.fullChecks.Load())
			}
		})
	}
}

// BenchmarkTokenCacheHit is the per-activity cost of finding a verified token in the cache (keyOf and
// get) for a token of a Teams token's size, with a few other tokens cached.
func BenchmarkTokenCacheHit(b *testing.B) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	c := newTokenCache(verifiedTokenTTL, maxVerifiedTokens)
	tokens := make([]string, 8)
	for i := range tokens {
		tokens[i] = strings.Repeat(string(rune('a'+i)), 1200)
		c.put(keyOf(tokens[i]), verifiedToken{serviceURL: testServiceURL, exp: now.Add(time.Hour)}, now)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := c.get(keyOf(tokens[3])); !ok {
			b.Fatal("cached token not found")
		}
	}
}
