package store

import (
	"context"
	"testing"
)

// BenchmarkKVGet is the generic record read every turn makes (the bot's check of the tenant's service URL).
func BenchmarkKVGet(b *testing.B) {
	s, _ := openTest(b, Options{})
	ctx := context.Background()
	const url = "https://smba.trafficmanager.net/emea/"
	if err := s.Put(ctx, "service_urls", "11111111-1111-1111-1111-111111111111", url); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		var got string
		if err := s.Get(ctx, "service_urls", "11111111-1111-1111-1111-111111111111", &got); err != nil || got != url {
			b.Fatalf("Get = %q, %v", got, err)
		}
	}
}
