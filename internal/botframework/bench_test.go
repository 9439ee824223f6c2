package botframework

import (
	"context"
	"log/slog"
	"testing"

	"github.com/infracloudio/msbotbuilder-go/schema"
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

func BenchmarkJWTVerify(b *testing.B) {
	clock := newFakeClock()
	oidc := newOIDCServer(b, standardKeys(b)...)
	v, err := NewJWTVerifier(JWTConfig{AppID: testAppID, MetadataURL: oidc.metadataURL(), Now: clock.Now, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	header := "Bearer " + signRS256(b, 0, "k-teams", validClaims(clock.Now()))
	act := &schema.Activity{Type: "message", ChannelID: "msteams", ServiceURL: testServiceURL}
	b.ReportAllocs()
	for b.Loop() {
		if err := v.Verify(context.Background(), header, act); err != nil {
			b.Fatal(err)
		}
	}
}
